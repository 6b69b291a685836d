/*
 * A background thread's priority beside the threads that answer requests.
 *
 * A thread that works in bursts (the click writer's batches, the access
 * log's writes) shares a CPU with an HTTP worker whenever there are as many
 * workers as CPUs. Its nice value gives it a smaller share; its time slice
 * decides whether a worker that wakes during a burst runs at once. Linux's
 * scheduler (EEVDF, 6.6 and later) lets a running thread finish a protected
 * part of its slice before a woken thread of equal slice may take the CPU,
 * and sees that part end only at its next tick (4 ms at HZ=250); since 6.12
 * a thread may ask for a slice of its own, and a woken thread whose slice
 * is shorter than the running one's takes the CPU at once.
 */
#ifndef SHORTD_THREAD_PRIORITY_H
#define SHORTD_THREAD_PRIORITY_H

#include <stdint.h>

/* sched_setattr(2)'s and sched_getattr(2)'s argument as of its first
 * version: the kernel's <linux/sched/types.h> clashes with glibc's
 * <sched.h>, and glibc before 2.41 declares neither call. */
struct thread_sched_attr {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime; /* a fair thread's slice, in ns (Linux 6.12) */
	uint64_t sched_deadline;
	uint64_t sched_period;
};

/* What shortd's writers in the background (the click writer, the access
 * log's writer) ask for: nice 10 above the daemon's, and a slice of 20 ms,
 * longer than the kernel's own 0.75-3 ms for every other thread. */
#define THREAD_WRITER_NICE 10
#define THREAD_WRITER_SLICE_NS 20000000u

/*
 * Lowers the calling thread's priority: its nice value becomes nice_above
 * more than its own (19 at most), and on Linux 6.12 and later its time
 * slice becomes slice_ns (the kernel keeps it within 0.1-100 ms). Kernels
 * before 6.12 take the nice value and ignore the slice. Where
 * sched_setattr(2) is refused (older kernels, a seccomp filter) only the
 * nice value is set. Returns 0, or -1 with errno when not even the nice
 * value could be set, the thread's priority then as it was.
 */
int thread_priority_background(int nice_above, uint64_t slice_ns);

#endif
