/*
 * A thread's scheduling as the kernel reports it (sched_getattr(2)), for
 * the tests of thread_priority.c and of the daemon's threads.
 */
#ifndef SHORTD_TEST_SCHED_ATTR_H
#define SHORTD_TEST_SCHED_ATTR_H

#include <stdint.h>
#include <sys/types.h>

struct sched_report {
	int policy; /* SCHED_OTHER, SCHED_BATCH, ... */
	int nice;
	uint64_t slice_ns; /* a fair thread's time slice; 0 before Linux 6.12 */
};

/* Reads thread tid's (0: the caller's). Returns 0, or -1 with errno. */
int sched_report_get(pid_t tid, struct sched_report *out);

#endif
