/*
 * Unit tests of thread_priority.c: a thread's nice value and time slice,
 * its policy kept, and the fall-backs when the kernel refuses
 * sched_setattr(2), setpriority(2) or getpriority(2) (a seccomp filter in a
 * child process).
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "refuse.h"
#include "sched_attr.h"
#include "thread_priority.h"

#define SLICE_NS 20000000u

struct outcome {
	int nice_above;
	int policy; /* the thread's policy before the call */
	struct sched_report before, after;
	int setup_rc; /* of sched_setscheduler() and the two reports */
	int rc;
};

/* Runs thread_priority_background() on a thread of its own, so the test's
 * own thread keeps its priority. Asserts nothing itself: Check's asserts
 * belong to the test's own thread. */
static void *lower(void *arg)
{
	struct outcome *o = arg;
	struct sched_param none = {.sched_priority = 0};

	if (o->policy != SCHED_OTHER && sched_setscheduler(0, o->policy, &none) != 0)
		o->setup_rc = -1;
	if (sched_report_get(0, &o->before) != 0)
		o->setup_rc = -1;
	o->rc = thread_priority_background(o->nice_above, SLICE_NS);
	if (sched_report_get(0, &o->after) != 0)
		o->setup_rc = -1;
	return NULL;
}

static void run_lower(struct outcome *o)
{
	pthread_t t;

	ck_assert_int_eq(pthread_create(&t, NULL, lower, o), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(o->setup_rc, 0);
}

static int min_int(int a, int b)
{
	return a < b ? a : b;
}

START_TEST(test_nice_and_slice)
{
	struct outcome o = {.nice_above = 10, .policy = SCHED_OTHER};

	run_lower(&o);
	ck_assert_int_eq(o.rc, 0);
	ck_assert_int_eq(o.after.policy, SCHED_OTHER);
	ck_assert_int_eq(o.after.nice, min_int(o.before.nice + 10, 19));
	/* A kernel that reports a slice (6.12 and later) took ours; one that
	 * reports none has none to take. */
	if (o.before.slice_ns != 0)
		ck_assert_uint_eq(o.after.slice_ns, SLICE_NS);
	else
		ck_assert_uint_eq(o.after.slice_ns, 0);
	/* The test's own thread is as it was. */
	ck_assert_int_eq(getpriority(PRIO_PROCESS, (id_t)gettid()), o.before.nice);
}
END_TEST

START_TEST(test_nice_stops_at_19)
{
	struct outcome o = {.nice_above = 40, .policy = SCHED_OTHER};

	run_lower(&o);
	ck_assert_int_eq(o.rc, 0);
	ck_assert_int_eq(o.after.nice, 19);
}
END_TEST

START_TEST(test_batch_policy_is_kept)
{
	struct outcome o = {.nice_above = 5, .policy = SCHED_BATCH};

	run_lower(&o);
	ck_assert_int_eq(o.rc, 0);
	ck_assert_int_eq(o.before.policy, SCHED_BATCH);
	ck_assert_int_eq(o.after.policy, SCHED_BATCH);
	ck_assert_int_eq(o.after.nice, min_int(o.before.nice + 5, 19));
}
END_TEST

/* What refuse_calls() makes the kernel refuse. */
enum refused {
	REFUSE_SETATTR, /* sched_setattr(2), with ENOSYS as a kernel without it */
	REFUSE_SETPRIO, /* that and setpriority(2), with EPERM */
	REFUSE_GETPRIO, /* those and getpriority(2), with EPERM */
};

/* Makes the calls named by what fail for the rest of this process. */
static int refuse_calls(enum refused what)
{
	static const struct refusal calls[] = {
	    {SYS_sched_setattr, ENOSYS, 0},
	    {SYS_setpriority, EPERM, 0},
	    {SYS_getpriority, EPERM, 0},
	};

	return refuse_syscalls(calls, (size_t)what + 1);
}

/* In a child process under refuse_calls(what): the call's result, and
 * whether the nice value and slice are as expected. Exit status 0 when
 * they are, else the number of the first check that failed. */
static int child_refused(void *arg)
{
	enum refused what = *(const enum refused *)arg;
	struct sched_report before, after;
	int rc, err;

	if (sched_report_get(0, &before) != 0)
		return 1;
	if (refuse_calls(what) != 0)
		return 2;
	errno = 0;
	rc = thread_priority_background(10, SLICE_NS);
	err = errno;
	if (sched_report_get(0, &after) != 0)
		return 3;
	if (after.slice_ns != before.slice_ns)
		return 4; /* no slice without sched_setattr */
	if (what == REFUSE_SETATTR)
		return rc == 0 && after.nice == min_int(before.nice + 10, 19) ? 0 : 5;
	return rc == -1 && err == EPERM && after.nice == before.nice ? 0 : 6;
}

static void check_in_child(enum refused what)
{
	assert_child_passes(child_refused, &what);
}

START_TEST(test_without_sched_setattr_only_nice)
{
	check_in_child(REFUSE_SETATTR);
}
END_TEST

START_TEST(test_no_nice_allowed_changes_nothing)
{
	check_in_child(REFUSE_SETPRIO);
}
END_TEST

START_TEST(test_unreadable_nice_changes_nothing)
{
	check_in_child(REFUSE_GETPRIO);
}
END_TEST

Suite *thread_priority_suite(void)
{
	Suite *s = suite_create("thread_priority");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_nice_and_slice);
	tcase_add_test(tc, test_nice_stops_at_19);
	tcase_add_test(tc, test_batch_policy_is_kept);
	tcase_add_test(tc, test_without_sched_setattr_only_nice);
	tcase_add_test(tc, test_no_nice_allowed_changes_nothing);
	tcase_add_test(tc, test_unreadable_nice_changes_nothing);
	suite_add_tcase(s, tc);
	return s;
}
