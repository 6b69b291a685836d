/*
 * shortd serve's own life, around the server: the address it announces
 * (an IPv6 one in brackets, as a URL spells it); a SIGHUP whose access
 * log cannot be opened again, which is reported and changes nothing else:
 * the daemon goes on serving and logging to the file it had; and a start
 * with too few file descriptors for what it opens (the database and its
 * readers, the access log, the server's epoll and event descriptors, the
 * listening socket), which at every limit ends in exit 1 and a message,
 * never a crash, a hang or a daemon that says it listens and does not; and
 * the names its threads carry for top -H, perf and bench/run.sh.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "sched_attr.h"

static int get(const struct daemon *d, const char *path)
{
	struct http_result r;
	char url[512];
	int status;

	snprintf(url, sizeof(url), "%s%s", d->base, path);
	if (http_do("GET", url, NULL, 0, NULL, false, &r) != 0)
		return -1;
	status = (int)r.status;
	http_result_free(&r);
	return status;
}

/* The whole of a small file, NUL-terminated, in buf. */
static void read_file(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n;

	ck_assert_msg(f != NULL, "%s", path);
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
}

START_TEST(test_ipv6_listen_address_is_announced_in_brackets)
{
	static const char *const args[] = {"--listen", "[::1]:0", NULL};
	struct daemon d;
	char want[64];

	fixture_start(&d, NULL, args, NULL);
	snprintf(want, sizeof(want), "http://[::1]:%u", d.port);
	ck_assert_str_eq(d.base, want);
	ck_assert_int_eq(get(&d, "/healthz"), 200);
	fixture_stop(&d);
}
END_TEST

/* How many of the daemon's threads are called name (in /proc/PID/task);
 * *sched, when not NULL, gets the scheduling of the last one. */
static int threads_named(const struct daemon *d, const char *name, struct sched_report *sched)
{
	char path[300], comm[64];
	struct dirent *e;
	DIR *dir;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)d->pid);
	dir = opendir(path);
	ck_assert_msg(dir != NULL, "%s", path);
	while ((e = readdir(dir)) != NULL) {
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/comm", (int)d->pid, e->d_name);
		f = fopen(path, "r");
		if (f == NULL)
			continue; /* a thread that ended meanwhile */
		if (fgets(comm, sizeof(comm), f) != NULL) {
			comm[strcspn(comm, "\n")] = '\0';
			if (strcmp(comm, name) == 0) {
				n++;
				if (sched != NULL)
					ck_assert_int_eq(sched_report_get((pid_t)atoi(e->d_name), sched), 0);
			}
		}
		fclose(f);
	}
	closedir(dir);
	return n;
}

START_TEST(test_threads_are_named_for_what_they_do)
{
	static const char *const args[] = {"--threads", "2", "--access-log", "-", NULL};
	struct daemon d;
	struct sched_report http, clicks, log;

	fixture_start(&d, NULL, args, NULL);
	ck_assert_int_eq(get(&d, "/healthz"), 200);
	ck_assert_int_eq(threads_named(&d, "shortd-http", &http), 2);
	ck_assert_int_eq(threads_named(&d, "shortd-clicks", &clicks), 1);
	ck_assert_int_eq(threads_named(&d, "shortd-conns", NULL), 1);
	ck_assert_int_eq(threads_named(&d, "shortd-log", &log), 1);
	/* The writers' bursts (click batches, the access log's lines) give
	 * way to the redirects: their nice value is 10 above the daemon's,
	 * 19 at most, and where the kernel has slices of a thread's own
	 * (Linux 6.12), their slice is 20 ms, longer than an HTTP thread's,
	 * which wakes into it at once. */
	ck_assert_int_eq(http.nice, getpriority(PRIO_PROCESS, 0));
	ck_assert_int_eq(clicks.nice, http.nice + 10 < 19 ? http.nice + 10 : 19);
	ck_assert_int_eq(log.nice, clicks.nice);
	ck_assert_int_eq(clicks.policy, http.policy);
	ck_assert_int_eq(log.policy, http.policy);
	if (http.slice_ns != 0) {
		ck_assert_uint_eq(clicks.slice_ns, 20000000u);
		ck_assert_uint_eq(log.slice_ns, 20000000u);
		ck_assert_uint_lt(http.slice_ns, clicks.slice_ns);
	} else {
		ck_assert_uint_eq(clicks.slice_ns, 0);
		ck_assert_uint_eq(log.slice_ns, 0);
	}
	fixture_stop(&d);
}
END_TEST

START_TEST(test_sighup_that_cannot_reopen_the_log_keeps_the_old_one)
{
	struct daemon d;
	char logdir[400], moved[420], log[420], kept[440], text[16384], want[600];
	const char *args[] = {"--access-log", log, "--threads", "1", NULL};

	fixture_make_db(&d, NULL);
	snprintf(logdir, sizeof(logdir), "%s/logs", d.dir);
	snprintf(moved, sizeof(moved), "%s.gone", logdir);
	snprintf(log, sizeof(log), "%s/access.log", logdir);
	snprintf(kept, sizeof(kept), "%s/access.log", moved);
	ck_assert_int_eq(mkdir(logdir, 0700), 0);
	ck_assert_int_eq(daemon_start(&d, args, NULL), 0);
	ck_assert_int_eq(get(&d, "/before"), 404);

	/* The log's directory goes away: the file cannot be made again. */
	ck_assert_int_eq(rename(logdir, moved), 0);
	ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
	for (int waited = 0; waited < 10000; waited += 10) {
		read_file(d.log, text, sizeof(text));
		if (strstr(text, "--access-log: cannot open") != NULL)
			break;
		pause_ms(10);
	}
	snprintf(want, sizeof(want), "shortd: --access-log: cannot open %s: No such file or directory\n", log);
	ck_assert_msg(strstr(text, want) != NULL, "daemon's stderr: %s", text);
	ck_assert(daemon_is_running(&d));
	ck_assert_int_eq(get(&d, "/after"), 404);
	ck_assert_int_eq(daemon_stop(&d), 0);

	read_file(kept, text, sizeof(text));
	ck_assert_msg(strstr(text, "\"GET /before HTTP/1.1\" 404") != NULL, "log: %s", text);
	ck_assert_msg(strstr(text, "\"GET /after HTTP/1.1\" 404") != NULL, "log: %s", text);
	daemon_cleanup(&d);
}
END_TEST

/* shortd serve with at most nofile descriptors open: its stderr in out and
 * true when it listened (it is then stopped with SIGTERM, which must exit
 * 0), else its exit status in *status. */
static bool serve_with_nofile(const struct daemon *d, const char *log, rlim_t nofile, char *out, size_t size,
                              int *status, bool version_only)
{
	const char *bin = getenv("SHORTD_BIN") != NULL ? getenv("SHORTD_BIN") : "build/shortd";
	int p[2], st;
	size_t n = 0;
	bool listening = false;
	pid_t pid;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct rlimit rl = {nofile, nofile};
		dup2(p[1], STDOUT_FILENO);
		dup2(p[1], STDERR_FILENO);
		for (int fd = 3; fd < 1024; fd++)
			close(fd);
		setenv("SHORTD_ADMIN_TOKEN", "serve-nofile-token-0123456789abcdefghijklmnop", 1);
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			_exit(125);
		if (version_only)
			execl(bin, bin, "--version", (char *)NULL);
		execl(bin, bin, "serve", "--listen", "127.0.0.1:0", "--db", d->db, "--access-log", log, "--threads",
		      "2", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	for (;;) {
		struct pollfd pfd = {p[0], POLLIN, 0};
		ssize_t r;
		ck_assert_msg(poll(&pfd, 1, 10000) == 1, "limit %lu: neither listening nor gone in 10 s: %s",
		              (unsigned long)nofile, out);
		r = read(p[0], out + n, size - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		out[n] = '\0';
		if (strstr(out, "listening on http://") != NULL && strchr(strstr(out, "listening on"), '\n') != NULL) {
			listening = true;
			kill(pid, SIGTERM);
			break;
		}
	}
	out[n] = '\0';
	close(p[0]);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st), "limit %lu: killed by signal %d: %s", (unsigned long)nofile, WTERMSIG(st), out);
	*status = WEXITSTATUS(st);
	return listening;
}

START_TEST(test_too_few_file_descriptors_fail_the_start_with_a_message)
{
	struct daemon d;
	char log[400], out[8192];
	rlim_t nofile;
	int status;

	fixture_make_db(&d, NULL);
	snprintf(log, sizeof(log), "%s/access.log", d.dir);
	/* Below some limit the dynamic loader cannot even open the libraries:
	 * the loop starts where shortd itself runs. */
	for (nofile = 3; nofile < 256; nofile++) {
		serve_with_nofile(&d, log, nofile, out, sizeof(out), &status, true);
		if (status == 0)
			break;
	}
	for (; nofile < 256; nofile++) {
		const char *last;
		if (serve_with_nofile(&d, log, nofile, out, sizeof(out), &status, false))
			break;
		ck_assert_msg(status == 1, "limit %lu: exit %d: %s", (unsigned long)nofile, status, out);
		last = out + strlen(out);
		ck_assert_msg(last > out && last[-1] == '\n', "limit %lu: no message: '%s'", (unsigned long)nofile,
		              out);
		while (last - 1 > out && last[-2] != '\n')
			last--;
		ck_assert_msg(strncmp(last - 1, "shortd: ", 8) == 0, "limit %lu: last line: %s", (unsigned long)nofile,
		              last - 1);
	}
	ck_assert_msg(nofile < 256, "did not start with 255 descriptors: %s", out);
	ck_assert_int_eq(status, 0);
	/* What the failed starts left behind is a database that serves. */
	fixture_start(&d, NULL, NULL, NULL);
	ck_assert_int_eq(get(&d, "/healthz"), 200);
	fixture_stop(&d);
}
END_TEST

Suite *serve_suite(void)
{
	Suite *s = suite_create("serve");
	TCase *tc = tcase_create("life");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_ipv6_listen_address_is_announced_in_brackets);
	tcase_add_test(tc, test_threads_are_named_for_what_they_do);
	tcase_add_test(tc, test_sighup_that_cannot_reopen_the_log_keeps_the_old_one);
	tcase_add_test(tc, test_too_few_file_descriptors_fail_the_start_with_a_message);
	suite_add_tcase(s, tc);
	return s;
}
