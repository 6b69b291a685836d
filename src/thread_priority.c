/*
 * A background thread's nice value and time slice, through sched_setattr(2)
 * with setpriority(2) to fall back on. Only the calling thread is changed:
 * Linux keeps both per thread. The policy the thread has (SCHED_OTHER,
 * SCHED_BATCH) is kept.
 */
#include "thread_priority.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NICE_MAX 19
#define SCHED_FLAG_KEEP_POLICY 0x08 /* Linux 5.3; older kernels refuse it */

int thread_priority_background(int nice_above, uint64_t slice_ns)
{
	struct thread_sched_attr attr;
	pid_t tid = gettid();
	int nice;

	errno = 0;
	nice = getpriority(PRIO_PROCESS, (id_t)tid);
	if (nice == -1 && errno != 0)
		return -1;
	nice = nice + nice_above < NICE_MAX ? nice + nice_above : NICE_MAX;

	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.sched_flags = SCHED_FLAG_KEEP_POLICY;
	attr.sched_nice = nice;
	attr.sched_runtime = slice_ns;
	if (syscall(SYS_sched_setattr, 0, &attr, 0u) == 0)
		return 0;
	return setpriority(PRIO_PROCESS, (id_t)tid, nice);
}
