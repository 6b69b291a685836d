/*
 * Unit tests of http_listener.c on real loopback sockets: the n sockets
 * share one port and the kernel spreads connections over them; a port that
 * is held already is refused, a second shortd's group included; after
 * http_listener_retire() the port refuses connections, a client waiting in
 * a backlog is reset, and each daemon's descriptor stays open and is never
 * ready; failures leave no descriptor behind.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_listener.h"

#define SOCKS 3

/* The lowest free descriptor: equal before and after when nothing leaked. */
static int lowest_free_fd(void)
{
	int fd = dup(0);

	ck_assert_int_ge(fd, 0);
	close(fd);
	return fd;
}

/* A connected client socket to family's loopback, or -1 with errno. */
static int client(int family, unsigned port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0), err;

	ck_assert_int_ge(fd, 0);
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		a->sin6_addr = in6addr_loopback;
		len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*a);
	}
	if (connect(fd, (struct sockaddr *)&ss, len) != 0) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

/* Takes one connection from whichever of fds has it; its index, or -1 when
 * none has one within 2 s. */
static int accept_any(const int *fds, int n)
{
	struct pollfd p[SOCKS];

	for (int i = 0; i < n; i++)
		p[i] = (struct pollfd){fds[i], POLLIN, 0};
	if (poll(p, (nfds_t)n, 2000) <= 0)
		return -1;
	for (int i = 0; i < n; i++) {
		if (p[i].revents & POLLIN) {
			int c = accept4(fds[i], NULL, NULL, SOCK_CLOEXEC);
			ck_assert_int_ge(c, 0);
			close(c);
			return i;
		}
	}
	return -1;
}

static bool is_listening(int fd)
{
	int on = 0;
	socklen_t len = sizeof(on);

	return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 && on == 1;
}

static void spread_over_the_group(const char *host, int family)
{
	struct http_listener *l;
	char err[256];
	int fds[SOCKS], per[SOCKS] = {0}, used = 0;

	ck_assert_int_eq(http_listener_open(host, 0, SOCKS, &l, err, sizeof(err)), 0);
	ck_assert_uint_ne(http_listener_port(l), 0);
	for (int i = 0; i < SOCKS; i++) {
		fds[i] = http_listener_take_fd(l, (unsigned)i);
		ck_assert(is_listening(fds[i]));
		ck_assert(fcntl(fds[i], F_GETFD) & FD_CLOEXEC);
		ck_assert(fcntl(fds[i], F_GETFL) & O_NONBLOCK);
	}
	/* 90 connections from as many source ports: by the kernel's hash,
	 * every socket gets some (all on one: a chance of 3^-89). */
	for (int i = 0; i < 90; i++) {
		int c = client(family, http_listener_port(l)), at;
		ck_assert_int_ge(c, 0);
		at = accept_any(fds, SOCKS);
		ck_assert_int_ge(at, 0);
		per[at]++;
		close(c);
	}
	for (int i = 0; i < SOCKS; i++)
		used += per[i] > 0;
	ck_assert_int_eq(used, SOCKS);
	http_listener_retire(l);
	for (int i = 0; i < SOCKS; i++)
		close(fds[i]);
	http_listener_free(l);
}

START_TEST(test_connections_spread_over_the_group)
{
	int before = lowest_free_fd();

	spread_over_the_group("127.0.0.1", AF_INET);
	ck_assert_int_eq(lowest_free_fd(), before);
}
END_TEST

START_TEST(test_ipv6_group)
{
	spread_over_the_group("::1", AF_INET6);
}
END_TEST

/* A port held by another group (another shortd) or a plain socket is
 * refused with the port in the reason, and the holder keeps working. */
START_TEST(test_a_held_port_is_refused)
{
	struct http_listener *a, *b = (struct http_listener *)&a;
	char err[256], want[64];
	int before = lowest_free_fd(), fd, c;

	ck_assert_int_eq(http_listener_open("127.0.0.1", 0, 2, &a, err, sizeof(err)), 0);
	ck_assert_int_eq(http_listener_open("127.0.0.1", http_listener_port(a), 2, &b, err, sizeof(err)), -1);
	ck_assert_ptr_null(b);
	snprintf(want, sizeof(want), "cannot listen on 127.0.0.1:%u: Address already in use", http_listener_port(a));
	ck_assert_str_eq(err, want);
	fd = http_listener_take_fd(a, 0);
	c = client(AF_INET, http_listener_port(a));
	ck_assert_int_ge(c, 0);
	close(c);
	close(fd);
	http_listener_free(a);
	ck_assert_int_eq(lowest_free_fd(), before);
}
END_TEST

/* Retired: new clients are refused, a client in a backlog is reset, and
 * each daemon's descriptor stays open without ever being ready. */
START_TEST(test_retired_port_refuses_and_descriptors_stay_quiet)
{
	struct http_listener *l;
	char err[256], byte;
	int fds[SOCKS], waiting, c;
	struct pollfd p[SOCKS];

	ck_assert_int_eq(http_listener_open("127.0.0.1", 0, SOCKS, &l, err, sizeof(err)), 0);
	for (int i = 0; i < SOCKS; i++)
		fds[i] = http_listener_take_fd(l, (unsigned)i);
	waiting = client(AF_INET, http_listener_port(l)); /* left in a backlog */
	ck_assert_int_ge(waiting, 0);
	http_listener_retire(l);
	c = client(AF_INET, http_listener_port(l));
	ck_assert_int_eq(c, -1);
	ck_assert_int_eq(errno, ECONNREFUSED);
	ck_assert_int_eq(read(waiting, &byte, 1), -1);
	ck_assert_int_eq(errno, ECONNRESET);
	close(waiting);
	for (int i = 0; i < SOCKS; i++) {
		ck_assert_int_ne(fcntl(fds[i], F_GETFD), -1);
		p[i] = (struct pollfd){fds[i], POLLIN, 0};
	}
	ck_assert_int_eq(poll(p, SOCKS, 50), 0);
	for (int i = 0; i < SOCKS; i++)
		close(fds[i]);
	http_listener_free(l);
}
END_TEST

/* Open and free without taking, or retire with some taken: every
 * descriptor is back. */
START_TEST(test_cycles_leak_nothing)
{
	int before = lowest_free_fd();

	for (int i = 0; i < 50; i++) {
		struct http_listener *l;
		char err[256];
		int fd = -1;

		ck_assert_int_eq(http_listener_open("127.0.0.1", 0, 4, &l, err, sizeof(err)), 0);
		if (i % 2 == 1) {
			fd = http_listener_take_fd(l, 1);
			http_listener_retire(l);
		}
		http_listener_free(l);
		if (fd >= 0)
			close(fd);
	}
	http_listener_free(NULL);
	ck_assert_int_eq(lowest_free_fd(), before);
}
END_TEST

/* Out of descriptors part way through the group: -1, a reason, and every
 * descriptor made so far closed again. */
START_TEST(test_out_of_descriptors_fails_cleanly)
{
	struct rlimit saved, low;
	struct http_listener *l = (struct http_listener *)&saved;
	char err[256];
	int top = lowest_free_fd(), rc;

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &saved), 0);
	for (int room = 0; room < 9; room++) {
		low = saved;
		low.rlim_cur = (rlim_t)(top + room);
		ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
		rc = http_listener_open("127.0.0.1", 0, 3, &l, err, sizeof(err));
		ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &saved), 0);
		ck_assert_int_eq(rc, -1);
		ck_assert_ptr_null(l);
		ck_assert_msg(strstr(err, "Too many open files") != NULL, "%s", err);
		ck_assert_int_eq(lowest_free_fd(), top);
	}
}
END_TEST

/* An address this machine does not have. */
START_TEST(test_foreign_address_is_refused)
{
	struct http_listener *l;
	char err[256];

	ck_assert_int_eq(http_listener_open("192.0.2.1", 8080, 2, &l, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "cannot listen on 192.0.2.1:8080: Cannot assign requested address");
	ck_assert_int_eq(http_listener_open("2001:db8::1", 8080, 2, &l, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "cannot listen on [2001:db8::1]:8080: Cannot assign requested address");
}
END_TEST

Suite *http_listener_suite(void)
{
	Suite *s = suite_create("http_listener");
	TCase *tc = tcase_create("loopback");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_connections_spread_over_the_group);
	tcase_add_test(tc, test_ipv6_group);
	tcase_add_test(tc, test_a_held_port_is_refused);
	tcase_add_test(tc, test_retired_port_refuses_and_descriptors_stay_quiet);
	tcase_add_test(tc, test_cycles_leak_nothing);
	tcase_add_test(tc, test_out_of_descriptors_fails_cleanly);
	tcase_add_test(tc, test_foreign_address_is_refused);
	suite_add_tcase(s, tc);
	return s;
}
