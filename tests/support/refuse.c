/*
 * Refused system calls (refuse.h): a classic BPF filter that loads the
 * call's number and, for each refusal, returns its errno on a match (for
 * one with arg0_bits, after testing those bits of the first argument).
 */
#include "refuse.h"

#include <check.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int refuse_syscalls(const struct refusal *r, size_t n)
{
	struct sock_filter filter[2 + 5 * REFUSALS_MAX];
	struct sock_fprog prog = {.filter = filter};
	size_t len = 0;

	if (n > REFUSALS_MAX) {
		errno = EINVAL;
		return -1;
	}
	filter[len++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	for (size_t i = 0; i < n; i++) {
		unsigned refused = SECCOMP_RET_ERRNO | (unsigned)r[i].err;

		if (r[i].arg0_bits == 0) {
			filter[len++] =
			    (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)r[i].nr, 0, 1);
			filter[len++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, refused);
			continue;
		}
		/* The number matched, the bits decide: the accumulator then
		 * holds the argument, so the call is answered here either way. */
		filter[len++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)r[i].nr, 0, 4);
		filter[len++] =
		    (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]));
		filter[len++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, r[i].arg0_bits, 0, 1);
		filter[len++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, refused);
		filter[len++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	}
	filter[len++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	prog.len = (unsigned short)len;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

void assert_child_passes(int (*fn)(void *arg), void *arg)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		exit(fn(arg)); /* exit(): a coverage build writes its counts */
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status), "the child did not exit");
	ck_assert_msg(WEXITSTATUS(status) == 0, "check %d failed", WEXITSTATUS(status));
}
