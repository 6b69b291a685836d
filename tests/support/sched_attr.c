#include "sched_attr.h"

#include "thread_priority.h"

#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int sched_report_get(pid_t tid, struct sched_report *out)
{
	struct thread_sched_attr attr;

	memset(&attr, 0, sizeof(attr));
	if (syscall(SYS_sched_getattr, tid, &attr, (unsigned)sizeof(attr), 0u) != 0)
		return -1;
	out->policy = (int)attr.sched_policy;
	out->nice = attr.sched_nice;
	out->slice_ns = attr.sched_runtime;
	return 0;
}
