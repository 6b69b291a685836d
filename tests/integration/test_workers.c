/*
 * Integration tests of the worker loop (http_worker.c): requests that
 * arrive together on many kept-alive connections of one worker are all
 * answered at once. The daemon is stopped (SIGSTOP) while each of 128 or
 * 256 idle connections sends its next request, so that the worker wakes to
 * exactly one or two full batches of libmicrohttpd's 128 epoll events and
 * nothing after them: the library's own loop then waited for the next event
 * or the next connection timeout (here 60 s) before answering any of them.
 * Then a new connection accepted by the worker among 127 such requests, and
 * among 123, the most connections with which the worker waits inside the
 * library (http_worker.c): one wait, at most 125 events, then every one of
 * them answered.
 * And the requests in flight, which each worker counts for itself, summed
 * over the workers in /metrics.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define TARGET "https://t.example/p"
#define ANSWER_MS 5000

static const char request[] = "GET /abc HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

/* Reads one answer on fd within ANSWER_MS; it must be the redirect. */
static void assert_answered(int fd, int i)
{
	char resp[4096];
	long n = raw_read_response(fd, resp, sizeof(resp), ANSWER_MS);

	ck_assert_msg(n > 0 && strncmp(resp, "HTTP/1.1 302 ", 13) == 0,
	              "connection %d: no redirect within %d ms (%ld bytes)", i, ANSWER_MS, n);
}

/* n kept-alive connections on one worker, each answered once; then the
 * daemon is stopped while each sends another request (and, with late, a
 * new connection sends one too), and continued: every request is answered
 * within ANSWER_MS. */
static void burst(int n, bool late)
{
	static const struct fixture_link links[] = {{TARGET, "abc", 0, NULL}, {NULL, NULL, 0, NULL}};
	struct daemon d;
	int *fds = calloc((size_t)n, sizeof(int));
	int extra = -1;

	ck_assert_ptr_nonnull(fds);
	raise_nofile(4096);
	fixture_start(&d, links,
	              (const char *const[]){"--threads", "1", "--timeout", "60", "--header-timeout", "60",
	                                    "--max-connections-per-ip", "0", NULL},
	              NULL);
	for (int i = 0; i < n; i++) {
		fds[i] = raw_connect(d.port);
		ck_assert_msg(fds[i] >= 0, "connection %d refused", i);
		ck_assert_int_eq(raw_send(fds[i], request, sizeof(request) - 1), 0);
		assert_answered(fds[i], i);
	}
	ck_assert_int_eq(kill(d.pid, SIGSTOP), 0);
	for (int i = 0; i < n; i++)
		ck_assert_int_eq(raw_send(fds[i], request, sizeof(request) - 1), 0);
	if (late) {
		/* Queued by the kernel now, accepted by the worker once the
		 * daemon runs again. */
		extra = raw_connect(d.port);
		ck_assert_int_ge(extra, 0);
		ck_assert_int_eq(raw_send(extra, request, sizeof(request) - 1), 0);
	}
	ck_assert_int_eq(kill(d.pid, SIGCONT), 0);
	for (int i = 0; i < n; i++)
		assert_answered(fds[i], i);
	if (late) {
		assert_answered(extra, n);
		close(extra);
	}
	for (int i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
	assert_redirects_to(&d, "abc", TARGET);
	fixture_stop(&d);
}

/* Waits up to ANSWER_MS for the daemon's shortd_requests_in_flight, read
 * by a GET /metrics of its own (which counts itself), to be want; returns
 * what it read last. */
static long await_in_flight(const struct daemon *d, long want)
{
	long n = metric_value(NULL, d->base, "shortd_requests_in_flight");

	for (int waited = 0; n != want && waited < ANSWER_MS; waited += 10) {
		pause_ms(10);
		n = metric_value(NULL, d->base, "shortd_requests_in_flight");
	}
	return n;
}

/* Requests held in flight on 16 connections, which the kernel spreads over
 * the four workers' listening sockets (all on one of them: 1 in 4^15), are
 * all counted, and none once each is answered. */
START_TEST(test_requests_in_flight_on_every_worker_are_counted)
{
	static const struct fixture_link links[] = {{TARGET, "abc", 307, NULL}, {NULL, NULL, 0, NULL}};
	static const char head[] = "POST /abc HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 8\r\n\r\nhalf";
	enum { CONNS = 16 };
	struct daemon d;
	int fds[CONNS];

	fixture_start(&d, links, (const char *const[]){"--threads", "4", NULL}, NULL);
	ck_assert_int_eq(await_in_flight(&d, 1), 1);
	for (int i = 0; i < CONNS; i++) {
		fds[i] = raw_connect(d.port);
		ck_assert_msg(fds[i] >= 0, "connection %d refused", i);
		ck_assert_int_eq(raw_send(fds[i], head, sizeof(head) - 1), 0);
	}
	ck_assert_int_eq(await_in_flight(&d, CONNS + 1), CONNS + 1);
	for (int i = 0; i < CONNS; i++) {
		char resp[4096];
		ck_assert_int_eq(raw_send(fds[i], "rest", 4), 0);
		ck_assert_int_gt(raw_read_response(fds[i], resp, sizeof(resp), ANSWER_MS), 0);
		ck_assert_msg(strncmp(resp, "HTTP/1.1 307 ", 13) == 0, "connection %d: %.40s", i, resp);
		close(fds[i]);
	}
	ck_assert_int_eq(await_in_flight(&d, 1), 1);
	fixture_stop(&d);
}
END_TEST

START_TEST(test_one_full_batch_is_answered)
{
	burst(128, false);
}
END_TEST

START_TEST(test_two_full_batches_are_answered)
{
	burst(256, false);
}
END_TEST

START_TEST(test_new_connection_among_a_full_batch_is_answered)
{
	burst(127, true);
}
END_TEST

START_TEST(test_new_connection_among_the_most_the_library_waits_for)
{
	burst(123, true);
}
END_TEST

Suite *workers_suite(void)
{
	Suite *s = suite_create("workers");
	TCase *tc = tcase_create("burst");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_one_full_batch_is_answered);
	tcase_add_test(tc, test_two_full_batches_are_answered);
	tcase_add_test(tc, test_new_connection_among_a_full_batch_is_answered);
	tcase_add_test(tc, test_new_connection_among_the_most_the_library_waits_for);
	tcase_add_test(tc, test_requests_in_flight_on_every_worker_are_counted);
	suite_add_tcase(s, tc);
	return s;
}
