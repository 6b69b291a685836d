/*
 * System calls the kernel refuses, for tests of the paths taken when it
 * does: a seccomp filter in a child process, since a filter cannot be
 * lifted.
 */
#ifndef SHORTD_TEST_REFUSE_H
#define SHORTD_TEST_REFUSE_H

#include <stddef.h>

/* A system call (SYS_...) and the errno it then fails with. With
 * arg0_bits, only a call whose first argument has one of those bits set
 * (in its low 32, on a little-endian machine): clone(2) with CLONE_THREAD
 * makes a thread, without it a process. */
struct refusal {
	long nr;
	int err;
	unsigned arg0_bits; /* 0: every call */
};

#define REFUSALS_MAX 8

/* Makes every call in r[0..n) fail with its errno for the rest of the
 * calling process (n <= REFUSALS_MAX). Returns 0, or -1 with errno. */
int refuse_syscalls(const struct refusal *r, size_t n);

/* Runs fn(arg) in a child process and asserts that it exits with status 0.
 * fn returns its exit status: 0 when every check passed, else the number
 * of the first that failed, which the failure message gives. Check's own
 * asserts do not belong in fn: they report from the child. */
void assert_child_passes(int (*fn)(void *arg), void *arg);

#endif
