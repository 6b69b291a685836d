#include "sched_attr.h"

#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* sched_getattr(2)'s result as of its first version (see thread_priority.c
 * for why it is declared here). */
struct sched_attr_v0 {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime;
	uint64_t sched_deadline;
	uint64_t sched_period;
};

int sched_report_get(pid_t tid, struct sched_report *out)
{
	struct sched_attr_v0 attr;

	memset(&attr, 0, sizeof(attr));
	if (syscall(SYS_sched_getattr, tid, &attr, (unsigned)sizeof(attr), 0u) != 0)
		return -1;
	out->policy = (int)attr.sched_policy;
	out->nice = attr.sched_nice;
	out->slice_ns = attr.sched_runtime;
	return 0;
}
