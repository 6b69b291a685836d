/*
 * The per-thread object registry. The list is pushed at its head under a
 * mutex (once per thread) and published with a release store, so a walker
 * reads it with an acquire load and no lock.
 */
#include "thread_registry.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

struct entry {
	void *obj;
	struct entry *next;
};

struct thread_registry {
	pthread_key_t key;    /* a thread's object */
	pthread_mutex_t lock; /* taken once per thread, to link its entry */
	struct entry *_Atomic entries;
	thread_registry_new_fn new_obj;
	thread_registry_free_fn free_obj;
	void *arg;
};

int thread_registry_new(thread_registry_new_fn new_obj, thread_registry_free_fn free_obj, void *arg,
                        struct thread_registry **out)
{
	struct thread_registry *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (r == NULL)
		return -1;
	if (pthread_key_create(&r->key, NULL) != 0) { /* PTHREAD_KEYS_MAX in use */
		free(r);
		return -1;
	}
	pthread_mutex_init(&r->lock, NULL); /* cannot fail without attributes (glibc) */
	atomic_init(&r->entries, NULL);
	r->new_obj = new_obj;
	r->free_obj = free_obj;
	r->arg = arg;
	*out = r;
	return 0;
}

void thread_registry_free(struct thread_registry *r)
{
	if (r == NULL)
		return;
	for (struct entry *e = atomic_load(&r->entries), *next; e != NULL; e = next) {
		next = e->next;
		r->free_obj(e->obj, r->arg);
		free(e);
	}
	pthread_key_delete(r->key);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

void *thread_registry_get(struct thread_registry *r)
{
	void *obj = pthread_getspecific(r->key);
	struct entry *e;

	if (obj != NULL)
		return obj;
	e = malloc(sizeof(*e));
	if (e == NULL)
		return NULL;
	e->obj = r->new_obj(r->arg);
	if (e->obj == NULL) {
		free(e);
		return NULL;
	}
	if (pthread_setspecific(r->key, e->obj) != 0) {
		r->free_obj(e->obj, r->arg);
		free(e);
		return NULL;
	}
	pthread_mutex_lock(&r->lock);
	e->next = atomic_load_explicit(&r->entries, memory_order_relaxed);
	atomic_store_explicit(&r->entries, e, memory_order_release);
	pthread_mutex_unlock(&r->lock);
	return e->obj;
}

void thread_registry_foreach(struct thread_registry *r, thread_registry_visit_fn visit, void *arg)
{
	for (struct entry *e = atomic_load_explicit(&r->entries, memory_order_acquire); e != NULL; e = e->next)
		visit(e->obj, arg);
}
