/*
 * The daemon's life with clients on it: SIGTERM or SIGINT in the middle of
 * traffic exits 0, a request in flight when SIGTERM arrives is still answered, and
 * issue 2's "done means": `shortd add` prints the short URL and
 * `curl -L -d x=1` through that 307 link reaches the target as a POST.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "redirect_fixture.h"
#include "stop_race.h"

#define TARGET "https://t.example/p"
/* Rounds of the stop race here: one SIGTERM, one SIGINT (the load suite
 * runs hundreds). */
#define STOP_ROWS 2

/* Even rows SIGTERM, odd rows SIGINT, each stopping a daemon in the middle
 * of traffic (stop_race.h). */
START_TEST(test_sigterm_or_sigint_during_traffic_exits_0)
{
	stop_race_round(_i % 2 == 0 ? SIGTERM : SIGINT);
}
END_TEST

/* The daemon's own count of requests in flight, from GET /metrics (which
 * counts itself); -1 when it cannot be read. Asked on c's one connection,
 * so no earlier /metrics request is still finishing. */
static long in_flight(struct http_client *c)
{
	return metric_value(c, rt_daemon.base, "shortd_requests_in_flight");
}

/* A POST whose body is half sent when SIGTERM comes: the daemon stops
 * accepting (a new connection is refused), still takes the rest of the
 * body, answers the redirect, and then exits 0. */
START_TEST(test_sigterm_lets_request_in_flight_finish)
{
	static const char get[] = "GET /c HTTP/1.1\r\nHost: t\r\n\r\n";
	static const char post[] = "POST /c HTTP/1.1\r\nHost: t\r\nContent-Length: 2000\r\n\r\n";
	char half[1000], resp[4096];
	struct http_client metrics;
	int fd, probe = 0;

	memset(half, 'h', sizeof(half));
	rt_start(NULL);
	create_link(&rt_daemon, TARGET, "c", 307, NULL);
	fd = raw_connect(rt_daemon.port);
	ck_assert_int_ge(fd, 0);
	/* A whole request first: the daemon has accepted this connection. */
	ck_assert_int_eq(raw_send(fd, get, strlen(get)), 0);
	ck_assert_int_gt(raw_read_response(fd, resp, sizeof(resp), 5000), 0);
	rt_assert_status_line(resp, "HTTP/1.1 307 ");
	ck_assert_int_eq(raw_send(fd, post, strlen(post)), 0);
	ck_assert_int_eq(raw_send(fd, half, sizeof(half)), 0);
	ck_assert_int_eq(http_client_init(&metrics), 0);
	for (int waited = 0; in_flight(&metrics) < 2 && waited < 10000; waited += 5)
		pause_ms(5);
	ck_assert_int_eq(in_flight(&metrics), 2);
	http_client_cleanup(&metrics);

	ck_assert_int_eq(kill(rt_daemon.pid, SIGTERM), 0);
	for (int waited = 0; waited < 10000; waited += 5) {
		probe = raw_connect(rt_daemon.port);
		if (probe < 0)
			break;
		close(probe);
		pause_ms(5);
	}
	ck_assert_msg(probe < 0, "still accepting connections after SIGTERM");
	ck_assert(daemon_is_running(&rt_daemon));

	ck_assert_int_eq(raw_send(fd, half, sizeof(half)), 0);
	ck_assert_int_gt(raw_read_response(fd, resp, sizeof(resp), 5000), 0);
	rt_assert_status_line(resp, "HTTP/1.1 307 ");
	ck_assert_ptr_nonnull(strstr(resp, "\r\nLocation: " TARGET "\r\n"));
	close(fd);
	ck_assert_int_eq(daemon_stop(&rt_daemon), 0);
	daemon_cleanup(&rt_daemon);
	echo_stop(&rt_echo);
}
END_TEST

/* Issue 2's "done means", as a newcomer would do it: add a 307 link with
 * the CLI (a generated code), then curl -L -d x=1 the printed URL. */
START_TEST(test_cli_link_and_curl_L_d_reach_target_as_post)
{
	char target[128], out[512], err[512], body[4096], prefix[128];
	const char *add[] = {"add", target, "--status", "307", "--base-url", rt_daemon.base, NULL};
	const char *curl[] = {"-sS", "-L", "--max-time", "30", "-d", "x=1", out, NULL};
	char *nl;
	size_t plen;

	rt_start(NULL);
	snprintf(target, sizeof(target), "%s/hook?src=shortd", rt_echo.url);
	ck_assert_int_eq(shortd_run(rt_daemon.db, out, sizeof(out), err, sizeof(err), add), 0);
	snprintf(prefix, sizeof(prefix), "%s/", rt_daemon.base);
	plen = strlen(prefix);
	ck_assert_msg(strncmp(out, prefix, plen) == 0, "printed %s", out);
	nl = strchr(out, '\n');
	ck_assert_ptr_nonnull(nl);
	ck_assert_str_eq(nl, "\n");
	*nl = '\0';
	ck_assert_uint_eq(strlen(out + plen), 7);
	ck_assert_uint_eq(strspn(out + plen, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"), 7);

	ck_assert_int_eq(curl_run(body, sizeof(body), curl), 0);
	ck_assert_str_eq(body, "POST /hook?src=shortd\nx=1");
	rt_stop();
}
END_TEST

Suite *redirect_life_suite(void)
{
	Suite *s = suite_create("redirect_life");
	TCase *stop = tcase_create("sigterm");
	TCase *done = tcase_create("done_means");

	tcase_set_timeout(stop, 60);
	tcase_add_loop_test(stop, test_sigterm_or_sigint_during_traffic_exits_0, 0, STOP_ROWS);
	tcase_add_test(stop, test_sigterm_lets_request_in_flight_finish);
	suite_add_tcase(s, stop);

	tcase_set_timeout(done, 60);
	tcase_add_test(done, test_cli_link_and_curl_L_d_reach_target_as_post);
	suite_add_tcase(s, done);
	return s;
}
