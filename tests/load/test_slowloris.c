/*
 * Slowloris at scale: 1,000 idle half-open connections (a request line and
 * an unfinished header each) on a daemon whose limits hold them all. Another
 * client still gets every redirect while they wait, and the half-open
 * connections are held, not dropped to make room.
 */
#include <check.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"

#define TARGET "https://t.example/p"
#define SLOWLORIS_CONNECTIONS 1000

/* A fresh database with the link abc -> TARGET, then the daemon with the
 * given extra flags. */
static void start(struct daemon *d, const char *const *args)
{
	static const struct fixture_link links[] = {{TARGET, "abc", 0, NULL}, {NULL, NULL, 0, NULL}};

	fixture_start(d, links, args, NULL);
}

static void stop(struct daemon *d)
{
	ck_assert(daemon_is_running(d));
	fixture_stop(d);
}

START_TEST(test_slowloris_does_not_starve_redirects)
{
	static const char partial[] = "GET /abc HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
	struct daemon d;
	int *fds = calloc(SLOWLORIS_CONNECTIONS, sizeof(int));

	ck_assert_ptr_nonnull(fds);
	raise_nofile(4096);
	start(&d, (const char *const[]){"--max-connections", "1200", "--max-connections-per-ip", "1100", "--timeout",
	                                "60", "--header-timeout", "60", NULL});
	for (int i = 0; i < SLOWLORIS_CONNECTIONS; i++) {
		fds[i] = raw_connect(d.port);
		ck_assert_msg(fds[i] >= 0, "connection %d refused", i);
		ck_assert_int_eq(raw_send(fds[i], partial, sizeof(partial) - 1), 0);
	}
	/* Another client gets every redirect while the 1,000 wait. */
	for (int i = 0; i < 50; i++)
		assert_redirects_to(&d, "abc", TARGET);
	/* The half-open connections are still held, not dropped to make room. */
	for (int i = 0; i < SLOWLORIS_CONNECTIONS; i += 97) {
		struct pollfd p = {fds[i], POLLIN, 0};
		ck_assert_msg(poll(&p, 1, 0) == 0, "half-open connection %d was answered or closed", i);
	}
	for (int i = 0; i < SLOWLORIS_CONNECTIONS; i++)
		close(fds[i]);
	free(fds);
	assert_redirects_to(&d, "abc", TARGET);
	stop(&d);
}
END_TEST

Suite *slowloris_suite(void)
{
	Suite *s = suite_create("slowloris");
	TCase *tc = tcase_create("connections");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_slowloris_does_not_starve_redirects);
	suite_add_tcase(s, tc);
	return s;
}
