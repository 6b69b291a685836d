/*
 * One object per thread, made on the thread's first call and kept until the
 * registry is freed: the pattern behind the access log's buffers, the click
 * rings, the response cache, the store's readers and the link cache. A
 * thread finds its own object through a thread key without a lock; the
 * registry also links every object into a list that any thread can walk
 * (a writer that swaps buffers out, a reader that sums counters).
 *
 * Objects outlive their threads: the key has no destructor, so an object is
 * freed only by thread_registry_free(), after every thread that used it has
 * stopped calling thread_registry_get().
 */
#ifndef SHORTD_THREAD_REGISTRY_H
#define SHORTD_THREAD_REGISTRY_H

struct thread_registry;

/* Makes the calling thread's object; NULL when out of memory. */
typedef void *(*thread_registry_new_fn)(void *arg);
/* Frees one object that new_obj made. */
typedef void (*thread_registry_free_fn)(void *obj, void *arg);
/* Visits one object in thread_registry_foreach(). */
typedef void (*thread_registry_visit_fn)(void *obj, void *arg);

/*
 * Makes a registry whose objects come from new_obj(arg) and go to
 * free_obj(obj, arg); arg is borrowed for the registry's life. Returns 0 and
 * *out, or -1 (out of memory or out of thread keys) with *out NULL.
 */
int thread_registry_new(thread_registry_new_fn new_obj, thread_registry_free_fn free_obj, void *arg,
                        struct thread_registry **out);

/* Frees every object and then the registry; accepts NULL. No thread may call
 * thread_registry_get() or thread_registry_foreach() on r any more. */
void thread_registry_free(struct thread_registry *r);

/* The calling thread's object, made on its first call: no lock after that.
 * NULL when it cannot be made (a later call tries again). */
void *thread_registry_get(struct thread_registry *r);

/* Calls visit(obj, arg) for every object made so far, newest first. Safe
 * against threads making their object meanwhile (one made during the walk
 * may be missed); the caller guards the objects' own fields. */
void thread_registry_foreach(struct thread_registry *r, thread_registry_visit_fn visit, void *arg);

#endif
