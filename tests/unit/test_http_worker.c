/*
 * Unit tests of http_worker.c: a worker runs a libmicrohttpd daemon's event
 * loop (epoll, no thread of the library's own) and answers on a real
 * loopback socket; a stop returns at once and leaves no descriptor behind,
 * also for a worker that never served (waiting inside the library with no
 * deadline); a worker holding more connections than fit a batch of the
 * library's epoll events still answers and stops, and answers again once
 * they close; a start that cannot have its stop eventfd, or cannot put it
 * in the daemon's epoll set, or cannot have its thread, fails with errno
 * set, leaves the daemon the caller's and no descriptor behind; a worker
 * whose waits fail keeps trying and still stops, and one holding more
 * connections than fit a batch still answers when its poll(2) fails.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "harness.h"
#include "http_worker.h"
#include "refuse.h"

#if MHD_VERSION >= 0x00097002
typedef enum MHD_Result handler_result;
#else
typedef int handler_result;
#endif

/* The lowest free descriptor: equal before and after when nothing leaked. */
static int lowest_free_fd(void)
{
	int fd = dup(0);

	ck_assert_int_ge(fd, 0);
	close(fd);
	return fd;
}

static handler_result answer(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                             const char *version, const char *upload, size_t *upload_size, void **state)
{
	static const char body[] = "worker\n";
	struct MHD_Response *r;
	handler_result ok;

	(void)cls;
	(void)url;
	(void)method;
	(void)version;
	(void)upload;
	(void)upload_size;
	(void)state;
	r = MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
	ok = MHD_queue_response(c, 200, r);
	MHD_destroy_response(r);
	return ok;
}

/* A daemon as the server starts its workers': epoll, no library thread,
 * on an ephemeral loopback port written to *port. */
static struct MHD_Daemon *daemon_on_loopback(unsigned *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_EPOLL, 0, NULL, NULL, answer, NULL, MHD_OPTION_SOCK_ADDR,
	                                        (struct sockaddr *)&a, MHD_OPTION_END);
	const union MHD_DaemonInfo *info;

	ck_assert_ptr_nonnull(d);
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	ck_assert_ptr_nonnull(info);
	*port = info->port;
	return d;
}

/* One request on a new connection, the answer into buf (size bytes, NUL
 * ended): whether it is the worker's. No Check assert, so that a child
 * can ask too. */
static bool fetch(unsigned port, char *buf, size_t size)
{
	static const char req[] = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	struct timeval tv = {5, 0};
	ssize_t n, got = 0;
	int fd = raw_connect(port);

	buf[0] = '\0';
	if (fd < 0)
		return false;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	    write(fd, req, sizeof(req) - 1) != (ssize_t)sizeof(req) - 1) {
		close(fd);
		return false;
	}
	while ((size_t)got < size - 1 && (n = read(fd, buf + got, size - 1 - (size_t)got)) > 0)
		got += n;
	close(fd);
	buf[got] = '\0';
	return strstr(buf, "\r\n\r\nworker\n") != NULL;
}

/* One request on a new connection; the answer's first line into line. */
static void ask(unsigned port, char *line, size_t size)
{
	char buf[1024];

	ck_assert_msg(fetch(port, buf, sizeof(buf)), "answer: %s", buf);
	snprintf(line, size, "%.*s", (int)strcspn(buf, "\r"), buf);
}

START_TEST(test_worker_serves_and_stops)
{
	int top = lowest_free_fd();
	struct http_worker *w = NULL;
	struct MHD_Daemon *d;
	unsigned port;
	char line[64];

	d = daemon_on_loopback(&port);
	ck_assert_int_eq(http_worker_start(d, &w), 0);
	ck_assert_ptr_nonnull(w);
	for (int i = 0; i < 3; i++) {
		ask(port, line, sizeof(line));
		ck_assert_str_eq(line, "HTTP/1.1 200 OK");
	}
	http_worker_stop(w); /* stops the daemon too */
	http_worker_stop(NULL);
	ck_assert_int_eq(lowest_free_fd(), top);
}
END_TEST

START_TEST(test_start_without_a_descriptor_fails_cleanly)
{
	struct http_worker *w = (struct http_worker *)&w;
	struct rlimit saved, low;
	struct MHD_Daemon *d;
	unsigned port;
	char line[64];
	int top, rc, err;

	d = daemon_on_loopback(&port);
	top = lowest_free_fd();
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &saved), 0);
	low = saved;
	low.rlim_cur = (rlim_t)top; /* no room for the stop eventfd */
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
	rc = http_worker_start(d, &w);
	err = errno;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &saved), 0);
	ck_assert_int_eq(rc, -1);
	ck_assert_int_eq(err, EMFILE);
	ck_assert_ptr_null(w);
	ck_assert_int_eq(lowest_free_fd(), top);
	/* The daemon is still the caller's, and a worker can run it after all. */
	ck_assert_int_eq(http_worker_start(d, &w), 0);
	ask(port, line, sizeof(line));
	ck_assert_str_eq(line, "HTTP/1.1 200 OK");
	http_worker_stop(w);
}
END_TEST

START_TEST(test_worker_with_a_batch_of_connections)
{
	enum { IDLE = 140 }; /* more than libmicrohttpd's 128 events a wait */
	struct http_worker *w = NULL;
	struct MHD_Daemon *d;
	unsigned port;
	char line[64];
	int fds[IDLE];

	d = daemon_on_loopback(&port);
	ck_assert_int_eq(http_worker_start(d, &w), 0);
	for (int i = 0; i < IDLE; i++) {
		fds[i] = raw_connect(port);
		ck_assert_int_ge(fds[i], 0);
	}
	/* Queued behind them, a new connection is answered all the same. */
	for (int i = 0; i < 3; i++) {
		ask(port, line, sizeof(line));
		ck_assert_str_eq(line, "HTTP/1.1 200 OK");
	}
	/* Closed, they leave the worker to the library's own wait again. */
	for (int i = 0; i < IDLE; i++)
		close(fds[i]);
	for (int i = 0; i < 3; i++) {
		ask(port, line, sizeof(line));
		ck_assert_str_eq(line, "HTTP/1.1 200 OK");
	}
	http_worker_stop(w);
}
END_TEST

/* A worker that never served waits inside the library with no deadline:
 * only its stop eventfd ends that wait. */
START_TEST(test_idle_worker_stops)
{
	int top = lowest_free_fd();
	struct http_worker *w = NULL;
	struct MHD_Daemon *d;
	unsigned port;

	d = daemon_on_loopback(&port);
	ck_assert_int_eq(http_worker_start(d, &w), 0);
	pause_ms(50); /* long enough to be waiting */
	http_worker_stop(w);
	ck_assert_int_eq(lowest_free_fd(), top);
}
END_TEST

/* A start refused in a child: the calls it refuses, the errno the start
 * then fails with, and the daemon (the parent's, copied by fork). */
struct refused_start {
	const struct refusal *calls;
	size_t ncalls;
	int err;
	struct MHD_Daemon *d;
};

/* In a child refusing s->calls, a worker for s->d fails to start with
 * s->err and leaves no descriptor behind: its stop eventfd is closed,
 * which also takes it out of the daemon's epoll set. */
static int child_start_refused(void *arg)
{
	const struct refused_start *s = arg;
	struct http_worker *w = (struct http_worker *)&w;
	int top = dup(0), rc, err;

	if (top < 0 || close(top) != 0)
		return 1;
	if (refuse_syscalls(s->calls, s->ncalls) != 0)
		return 2;
	rc = http_worker_start(s->d, &w);
	err = errno;
	if (rc != -1 || err != s->err)
		return 3;
	if (w != NULL)
		return 4;
	return dup(0) == top ? 0 : 5;
}

/* Asserts child_start_refused() for a new daemon and those calls. */
static void assert_start_refused(const struct refusal *calls, size_t ncalls, int err)
{
	unsigned port;
	struct refused_start s = {calls, ncalls, err, daemon_on_loopback(&port)};

	assert_child_passes(child_start_refused, &s);
	MHD_stop_daemon(s.d);
}

/* epoll_ctl(2) fails as when the user's epoll watches run out. */
START_TEST(test_start_without_epoll_ctl_fails_cleanly)
{
	static const struct refusal no_ctl[] = {{SYS_epoll_ctl, ENOSPC, 0}};

	assert_start_refused(no_ctl, 1, ENOSPC);
}
END_TEST

/* In a child whose epoll waits fail as when the kernel is out of memory,
 * a worker for the daemon arg keeps trying, a pause between tries, and
 * still stops when told. */
static int child_without_epoll_wait(void *arg)
{
	static const struct refusal no_wait[] = {
	    {SYS_epoll_wait, ENOMEM, 0},
	    {SYS_epoll_pwait, ENOMEM, 0},
	    {SYS_epoll_pwait2, ENOMEM, 0},
	};
	struct http_worker *w = NULL;

	if (refuse_syscalls(no_wait, sizeof(no_wait) / sizeof(no_wait[0])) != 0)
		return 1;
	if (http_worker_start(arg, &w) != 0)
		return 2;
	pause_ms(50); /* a few failed waits */
	http_worker_stop(w);
	return 0;
}

START_TEST(test_worker_whose_waits_fail_stops)
{
	unsigned port;
	struct MHD_Daemon *d = daemon_on_loopback(&port);

	assert_child_passes(child_without_epoll_wait, d);
	MHD_stop_daemon(d);
}
END_TEST

/* clone(2) fails as at the user's process limit. clone3(2), whose flags a
 * filter cannot read, is missing, so threads are made by clone(2); a clone
 * that is not a thread (LeakSanitizer's at exit) is left alone. */
START_TEST(test_start_without_a_thread_fails_cleanly)
{
	static const struct refusal no_thread[] = {
	    {SYS_clone3, ENOSYS, 0},
	    {SYS_clone, EAGAIN, CLONE_THREAD},
	};

	assert_start_refused(no_thread, sizeof(no_thread) / sizeof(no_thread[0]), EAGAIN);
}
END_TEST

/* A daemon and its port, for a child. */
struct daemon_at {
	struct MHD_Daemon *d;
	unsigned port;
};

/* In a child whose poll(2) fails as when the kernel is out of memory, a
 * worker holding more connections than fit a batch (so waiting in poll(2)
 * before each MHD_run()) goes on serving: a new connection is answered,
 * and the worker stops when told. */
static int child_without_poll(void *arg)
{
	enum { IDLE = 130 };
	static const struct refusal no_poll[] = {
	    {SYS_poll, ENOMEM, 0},
	    {SYS_ppoll, ENOMEM, 0},
	};
	const struct daemon_at *at = arg;
	struct http_worker *w = NULL;
	int fds[IDLE], opened = 0, rc = 0;
	char buf[1024];

	if (refuse_syscalls(no_poll, sizeof(no_poll) / sizeof(no_poll[0])) != 0)
		return 1;
	if (http_worker_start(at->d, &w) != 0)
		return 2;
	while (rc == 0 && opened < IDLE) {
		fds[opened] = raw_connect(at->port);
		if (fds[opened] < 0)
			rc = 3;
		else
			opened++;
	}
	if (rc == 0 && !fetch(at->port, buf, sizeof(buf)))
		rc = 4;
	while (opened > 0)
		close(fds[--opened]);
	http_worker_stop(w);
	return rc;
}

START_TEST(test_worker_whose_polls_fail_answers)
{
	struct daemon_at at;

	at.d = daemon_on_loopback(&at.port);
	assert_child_passes(child_without_poll, &at);
	MHD_stop_daemon(at.d);
}
END_TEST

Suite *http_worker_suite(void)
{
	Suite *s = suite_create("http_worker");
	TCase *tc = tcase_create("loopback");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_worker_serves_and_stops);
	tcase_add_test(tc, test_start_without_a_descriptor_fails_cleanly);
	tcase_add_test(tc, test_worker_with_a_batch_of_connections);
	tcase_add_test(tc, test_idle_worker_stops);
	tcase_add_test(tc, test_start_without_epoll_ctl_fails_cleanly);
	tcase_add_test(tc, test_worker_whose_waits_fail_stops);
	tcase_add_test(tc, test_start_without_a_thread_fails_cleanly);
	tcase_add_test(tc, test_worker_whose_polls_fail_answers);
	suite_add_tcase(s, tc);
	return s;
}
