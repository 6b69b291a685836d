/*
 * Unit tests of thread_registry.c: one object per thread, made once, seen
 * by foreach, and freed with the registry.
 */
#include <check.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "thread_registry.h"

#define THREADS 8

struct counts {
	atomic_int made;
	atomic_int freed;
	atomic_int fail; /* new_obj fails while nonzero */
};

static void *obj_new(void *arg)
{
	struct counts *c = arg;
	int *o;

	if (atomic_load(&c->fail))
		return NULL;
	o = malloc(sizeof(*o));
	if (o != NULL) {
		*o = 1;
		atomic_fetch_add(&c->made, 1);
	}
	return o;
}

static void obj_free(void *obj, void *arg)
{
	struct counts *c = arg;

	atomic_fetch_add(&c->freed, 1);
	free(obj);
}

static void sum(void *obj, void *arg)
{
	*(int *)arg += *(int *)obj;
}

static void *worker(void *arg)
{
	struct thread_registry *r = arg;
	int *first = thread_registry_get(r);

	for (int i = 0; i < 1000; i++) {
		if (thread_registry_get(r) != first)
			return NULL;
	}
	return first;
}

START_TEST(test_one_object_per_thread)
{
	struct counts c = {0};
	struct thread_registry *r;
	pthread_t t[THREADS];
	void *got[THREADS];
	int total = 0;

	ck_assert_int_eq(thread_registry_new(obj_new, obj_free, &c, &r), 0);
	for (int i = 0; i < THREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, worker, r), 0);
	for (int i = 0; i < THREADS; i++) {
		ck_assert_int_eq(pthread_join(t[i], &got[i]), 0);
		ck_assert_ptr_nonnull(got[i]);
		for (int j = 0; j < i; j++)
			ck_assert_ptr_ne(got[i], got[j]);
	}
	ck_assert_int_eq(atomic_load(&c.made), THREADS);
	thread_registry_foreach(r, sum, &total);
	ck_assert_int_eq(total, THREADS); /* objects outlive their threads */
	ck_assert_int_eq(atomic_load(&c.freed), 0);
	thread_registry_free(r);
	ck_assert_int_eq(atomic_load(&c.freed), THREADS);
}
END_TEST

START_TEST(test_failed_make_is_retried)
{
	struct counts c = {0};
	struct thread_registry *r;
	int total = 0;

	ck_assert_int_eq(thread_registry_new(obj_new, obj_free, &c, &r), 0);
	atomic_store(&c.fail, 1);
	ck_assert_ptr_null(thread_registry_get(r));
	thread_registry_foreach(r, sum, &total);
	ck_assert_int_eq(total, 0);
	atomic_store(&c.fail, 0);
	ck_assert_ptr_nonnull(thread_registry_get(r));
	ck_assert_ptr_eq(thread_registry_get(r), thread_registry_get(r));
	ck_assert_int_eq(atomic_load(&c.made), 1);
	thread_registry_free(r);
	ck_assert_int_eq(atomic_load(&c.freed), 1);
	thread_registry_free(NULL);
}
END_TEST

START_TEST(test_registries_are_separate)
{
	struct counts c = {0};
	struct thread_registry *a, *b;

	ck_assert_int_eq(thread_registry_new(obj_new, obj_free, &c, &a), 0);
	ck_assert_int_eq(thread_registry_new(obj_new, obj_free, &c, &b), 0);
	ck_assert_ptr_ne(thread_registry_get(a), thread_registry_get(b));
	thread_registry_free(a);
	thread_registry_free(b);
	ck_assert_int_eq(atomic_load(&c.freed), 2);
}
END_TEST

/* Each registry takes a thread key: once the process has none left a new
 * one is refused (NULL out, nothing held), and one can be made again as
 * soon as another is freed. */
START_TEST(test_no_thread_key_left_is_refused)
{
	enum { MANY = PTHREAD_KEYS_MAX + 1 };
	static struct thread_registry *regs[MANY];
	struct thread_registry *r = (struct thread_registry *)1;
	int n = 0;

	while (n < MANY && thread_registry_new(obj_new, obj_free, NULL, &regs[n]) == 0)
		n++;
	ck_assert_int_lt(n, MANY);
	ck_assert_ptr_null(regs[n]);
	ck_assert_int_eq(thread_registry_new(obj_new, obj_free, NULL, &r), -1);
	ck_assert_ptr_null(r);
	thread_registry_free(regs[--n]);
	ck_assert_int_eq(thread_registry_new(obj_new, obj_free, NULL, &r), 0);
	ck_assert_ptr_nonnull(r);
	thread_registry_free(r);
	while (n > 0)
		thread_registry_free(regs[--n]);
}
END_TEST

Suite *thread_registry_suite(void)
{
	Suite *s = suite_create("thread_registry");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_one_object_per_thread);
	tcase_add_test(tc, test_failed_make_is_retried);
	tcase_add_test(tc, test_registries_are_separate);
	tcase_add_test(tc, test_no_thread_key_left_is_refused);
	suite_add_tcase(s, tc);
	return s;
}
