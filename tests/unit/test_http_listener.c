/*
 * Unit tests of http_listener.c on real loopback sockets: every connection is
 * handed over once, non-blocking and close-on-exec, with the peer's
 * address; after http_listener_stop() the port refuses connections; out of
 * descriptors, the loop pauses instead of spinning and takes the waiting
 * connections once descriptors are free again; a failed start leaves the
 * socket with the caller.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http_listener.h"

#define HELD_MAX 64

/* What the callback saw. Its thread writes, the test reads under the lock. */
struct seen {
	pthread_mutex_t lock;
	int count;
	int bad_flags;   /* connections that were blocking or inheritable */
	int bad_address; /* connections whose address was not the client's */
	bool hold;       /* keep the descriptors instead of answering */
	int held[HELD_MAX];
	int nheld;
};

static void seen_init(struct seen *s, bool hold)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	s->hold = hold;
}

static int seen_count(struct seen *s)
{
	int n;

	pthread_mutex_lock(&s->lock);
	n = s->count;
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* Answers each connection with "k" and closes it, or holds it open. */
static void on_conn(void *arg, int fd, const struct sockaddr *addr, socklen_t addrlen)
{
	struct seen *s = arg;
	const struct sockaddr_in *in = (const struct sockaddr_in *)addr;
	bool flags_ok = (fcntl(fd, F_GETFL) & O_NONBLOCK) && (fcntl(fd, F_GETFD) & FD_CLOEXEC);
	bool addr_ok = addrlen == sizeof(*in) && in->sin_family == AF_INET &&
	               in->sin_addr.s_addr == htonl(INADDR_LOOPBACK) && in->sin_port != 0;

	pthread_mutex_lock(&s->lock);
	s->count++;
	s->bad_flags += !flags_ok;
	s->bad_address += !addr_ok;
	if (s->hold && s->nheld < HELD_MAX) {
		s->held[s->nheld++] = fd;
		fd = -1;
	}
	pthread_mutex_unlock(&s->lock);
	if (fd >= 0) {
		ssize_t n = write(fd, "k", 1);
		(void)n;
		close(fd);
	}
}

static void pause_ms(int ms)
{
	struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&t, NULL);
}

/* A listening socket on 127.0.0.1, non-blocking, and its port. */
static int listen_loopback(unsigned *port)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(fd, 128), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

/* A connected client socket, or -1 with errno (ECONNREFUSED once stopped). */
static int client(unsigned port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), err;

	ck_assert_int_ge(fd, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

/* True when fd gets the callback's "k" within 5 s. */
static bool answered(int fd)
{
	struct pollfd p = {fd, POLLIN, 0};
	char c = 0;

	return poll(&p, 1, 5000) == 1 && read(fd, &c, 1) == 1 && c == 'k';
}

static bool wait_count(struct seen *s, int want)
{
	for (int waited = 0; waited < 5000; waited += 5) {
		if (seen_count(s) >= want)
			return true;
		pause_ms(5);
	}
	return false;
}

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       (double)ru.ru_stime.tv_usec / 1e6;
}

START_TEST(test_every_connection_is_handed_over_once)
{
	struct seen s;
	struct http_listener *a;
	unsigned port;
	int lfd = listen_loopback(&port);

	seen_init(&s, false);
	ck_assert_int_eq(http_listener_start(lfd, on_conn, NULL, &s, &a), 0);
	ck_assert_ptr_nonnull(a);
	for (int i = 0; i < 200; i++) {
		int fd = client(port);
		ck_assert_int_ge(fd, 0);
		ck_assert_msg(answered(fd), "connection %d was not handed over", i);
		close(fd);
	}
	ck_assert_int_eq(seen_count(&s), 200);
	ck_assert_int_eq(s.bad_flags, 0);
	ck_assert_int_eq(s.bad_address, 0);
	http_listener_stop(a);
}
END_TEST

/* Many clients at once: all are taken, none twice. */
START_TEST(test_a_burst_is_taken_whole)
{
	enum { BURST = 48 };
	struct seen s;
	struct http_listener *a;
	unsigned port;
	int lfd = listen_loopback(&port), fds[BURST];

	seen_init(&s, false);
	ck_assert_int_eq(http_listener_start(lfd, on_conn, NULL, &s, &a), 0);
	for (int i = 0; i < BURST; i++) {
		fds[i] = client(port);
		ck_assert_int_ge(fds[i], 0);
	}
	for (int i = 0; i < BURST; i++) {
		ck_assert_msg(answered(fds[i]), "connection %d was not handed over", i);
		close(fds[i]);
	}
	ck_assert_int_eq(seen_count(&s), BURST);
	http_listener_stop(a);
}
END_TEST

START_TEST(test_stopped_port_refuses_connections)
{
	struct seen s;
	struct http_listener *a;
	unsigned port;
	int lfd = listen_loopback(&port), fd;

	seen_init(&s, false);
	ck_assert_int_eq(http_listener_start(lfd, on_conn, NULL, &s, &a), 0);
	fd = client(port);
	ck_assert(answered(fd));
	close(fd);
	http_listener_stop(a);
	/* The listening socket is closed: the kernel refuses, nobody is called. */
	fd = client(port);
	ck_assert_int_eq(fd, -1);
	ck_assert_int_eq(errno, ECONNREFUSED);
	ck_assert_int_eq(fcntl(lfd, F_GETFD), -1);
	pause_ms(20);
	ck_assert_int_eq(seen_count(&s), 1);
}
END_TEST

/* Start and stop, idle or with clients waiting in the backlog: nothing
 * leaks (every descriptor is back) and nothing hangs. */
START_TEST(test_start_stop_cycles_leak_nothing)
{
	struct seen s;
	int before = dup(0), after;

	ck_assert_int_ge(before, 0);
	close(before);
	seen_init(&s, false);
	for (int i = 0; i < 100; i++) {
		struct http_listener *a;
		unsigned port;
		int lfd = listen_loopback(&port), fd = -1;

		ck_assert_int_eq(http_listener_start(lfd, on_conn, NULL, &s, &a), 0);
		if (i % 2 == 1)
			fd = client(port);
		http_listener_stop(a);
		if (fd >= 0)
			close(fd);
	}
	http_listener_stop(NULL);
	after = dup(0);
	ck_assert_int_eq(after, before);
	close(after);
}
END_TEST

/*
 * Out of descriptors: accept() fails with EMFILE while clients wait. The
 * loop must pause (ACCEPTOR_PAUSE_MS) rather than spin, and take the
 * waiting clients once descriptors are free again.
 */
START_TEST(test_out_of_descriptors_pauses_then_recovers)
{
	enum { CLIENTS = 6 };
	struct seen s;
	struct http_listener *a;
	struct rlimit saved, low;
	unsigned port;
	int lfd = listen_loopback(&port), fds[CLIENTS], spare[3], top, room = 0;
	double cpu;

	seen_init(&s, true);
	for (int i = 0; i < CLIENTS; i++) {
		fds[i] = client(port); /* waits in the backlog */
		ck_assert_int_ge(fds[i], 0);
	}
	/* Room for the acceptor's eventfd and a connection or two, no more:
	 * room is how many descriptors the lowered limit leaves. */
	top = dup(0);
	ck_assert_int_ge(top, 0);
	close(top);
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &saved), 0);
	low = saved;
	low.rlim_cur = (rlim_t)top + 3;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
	while (room < 3 && (spare[room] = dup(0)) >= 0)
		room++;
	for (int i = 0; i < room; i++)
		close(spare[i]);
	ck_assert_int_ge(room, 2);
	ck_assert_int_eq(http_listener_start(lfd, on_conn, NULL, &s, &a), 0);
	ck_assert(wait_count(&s, room - 1));

	/* Clients still wait and accept() fails: a spinning loop would
	 * burn the whole 500 ms; a pausing one a few system calls. */
	pause_ms(50);
	cpu = cpu_seconds();
	pause_ms(500);
	cpu = cpu_seconds() - cpu;
	ck_assert_msg(cpu < 0.1, "the loop used %.3f s of CPU in 0.5 s while out of descriptors", cpu);
	ck_assert_int_eq(seen_count(&s), room - 1);

	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &saved), 0);
	ck_assert(wait_count(&s, CLIENTS));
	http_listener_stop(a);
	for (int i = 0; i < s.nheld; i++)
		close(s.held[i]);
	for (int i = 0; i < CLIENTS; i++)
		close(fds[i]);
}
END_TEST

/* A start that cannot make its eventfd fails with errno and leaves the
 * listening socket open for the caller. */
START_TEST(test_failed_start_leaves_the_socket_to_the_caller)
{
	struct seen s;
	struct http_listener *a = (struct http_listener *)&s;
	struct rlimit saved, low;
	unsigned port;
	int lfd = listen_loopback(&port), top, rc, err;

	seen_init(&s, false);
	top = dup(0);
	ck_assert_int_ge(top, 0);
	close(top);
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &saved), 0);
	low = saved;
	low.rlim_cur = (rlim_t)top;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
	rc = http_listener_start(lfd, on_conn, NULL, &s, &a);
	err = errno;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &saved), 0);
	ck_assert_int_eq(rc, -1);
	ck_assert_int_eq(err, EMFILE);
	ck_assert_ptr_null(a);
	ck_assert_int_ne(fcntl(lfd, F_GETFD), -1);
	close(lfd);
}
END_TEST

Suite *http_listener_suite(void)
{
	Suite *s = suite_create("http_listener");
	TCase *tc = tcase_create("loopback");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_every_connection_is_handed_over_once);
	tcase_add_test(tc, test_a_burst_is_taken_whole);
	tcase_add_test(tc, test_stopped_port_refuses_connections);
	tcase_add_test(tc, test_start_stop_cycles_leak_nothing);
	tcase_add_test(tc, test_out_of_descriptors_pauses_then_recovers);
	tcase_add_test(tc, test_failed_start_leaves_the_socket_to_the_caller);
	suite_add_tcase(s, tc);
	return s;
}
