/*
 * Request bodies on redirect links: the daemon never needs them. With
 * "Expect: 100-continue" the redirect comes before the body is sent;
 * without it a body up to --max-body is drained and the connection kept
 * alive, a longer one is answered (or dropped, when chunked) and the
 * connection closed; either way the daemon keeps serving. Also proves
 * keep-alive itself: two requests on one connection.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "redirect_fixture.h"

#define FIVE_MB (5u * 1024 * 1024)
#define TARGET "https://t.example/p"

/* A limit above the 5 MB bodies, so only Expect explains an early answer. */
static const char *const roomy[] = {"--max-body", "10485760", NULL};

static char *filled(size_t n)
{
	char *b = malloc(n);

	ck_assert(b != NULL);
	for (size_t i = 0; i < n; i++)
		b[i] = (char)(i * 7 + (i >> 11));
	return b;
}

START_TEST(test_expect_100_continue_5mb_post_gets_307_with_under_1mb_uploaded)
{
	const char *headers[] = {"Expect: 100-continue", "Content-Type: application/octet-stream", NULL};
	char *body = filled(FIVE_MB);
	struct http_result r;

	rt_start(roomy);
	create_link(&rt_daemon, TARGET, "big", 307, NULL);
	ck_assert_int_eq(http_do("POST", rt_url("/big"), body, FIVE_MB, headers, false, &r), 0);
	ck_assert_int_eq(r.status, 307);
	rt_assert_header(&r, "Location", TARGET);
	rt_assert_header(&r, "Cache-Control", "private, no-store");
	ck_assert_msg(r.uploaded < 1024.0 * 1024.0, "uploaded %.0f bytes", r.uploaded);
	http_result_free(&r);
	rt_assert_still_serving("/big", TARGET);
	free(body);
	rt_stop();
}
END_TEST

/* The same on the wire: headers only, and the redirect comes back at once,
 * with no "100 Continue" before it and the connection closed after it
 * (the body, never read, would otherwise be taken as the next request). */
START_TEST(test_expect_100_continue_headers_alone_get_the_redirect)
{
	static const char req[] = "POST /big HTTP/1.1\r\nHost: t\r\nContent-Length: 5242880\r\n"
	                          "Expect: 100-continue\r\n\r\n";
	char resp[4096];
	bool closed;

	rt_start(roomy);
	create_link(&rt_daemon, TARGET, "big", 307, NULL);
	ck_assert_int_gt(raw_request_ex(rt_daemon.port, req, strlen(req), resp, sizeof(resp), 5000, &closed), 0);
	rt_assert_status_line(resp, "HTTP/1.1 307 ");
	ck_assert_ptr_null(strstr(resp, "100 Continue"));
	ck_assert_ptr_nonnull(strstr(resp, "\r\nLocation: " TARGET "\r\n"));
	ck_assert_ptr_nonnull(strstr(resp, "\r\nConnection: close\r\n"));
	ck_assert(closed);
	rt_assert_still_serving("/big", TARGET);
	rt_stop();
}
END_TEST

/* Followed, the 5 MB body reaches the target intact: the redirect did not
 * consume any of it. */
START_TEST(test_5mb_post_with_expect_reaches_target_intact_through_307)
{
	const char *headers[] = {"Expect: 100-continue", NULL};
	char *body = filled(FIVE_MB);
	char target[128];
	struct http_result r;

	rt_start(NULL);
	snprintf(target, sizeof(target), "%s/upload", rt_echo.url);
	create_link(&rt_daemon, target, "big", 307, NULL);
	ck_assert_int_eq(http_do("POST", rt_url("/big"), body, FIVE_MB, headers, true, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(r.body_len, strlen("POST /upload\n") + FIVE_MB);
	ck_assert(memcmp(r.body, "POST /upload\n", strlen("POST /upload\n")) == 0);
	ck_assert(memcmp(r.body + strlen("POST /upload\n"), body, FIVE_MB) == 0);
	http_result_free(&r);
	free(body);
	rt_stop();
}
END_TEST

/* Without Expect, a body under --max-body is read and dropped, and the same
 * connection then carries the next request (libcurl made no new one). */
START_TEST(test_body_under_max_body_is_drained_and_connection_reused)
{
	static const char *const args[] = {"--max-body", "300000", NULL};
	const char *no_expect[] = {"Expect:", NULL};
	size_t n = 200000;
	char *body = filled(n);
	struct http_client c;
	struct http_result r;

	rt_start(args);
	create_link(&rt_daemon, TARGET, "d", 307, NULL);
	ck_assert_int_eq(http_client_init(&c), 0);
	ck_assert_int_eq(http_client_do(&c, "POST", rt_url("/d"), body, n, no_expect, false, &r), 0);
	ck_assert_int_eq(r.status, 307);
	rt_assert_header(&r, "Location", TARGET);
	rt_assert_header(&r, "Connection", NULL);
	ck_assert_msg(r.uploaded == (double)n, "uploaded %.0f of %zu", r.uploaded, n);
	ck_assert_int_eq(r.connects, 1);
	http_result_free(&r);
	ck_assert_int_eq(http_client_do(&c, "PUT", rt_url("/d"), body, n, no_expect, false, &r), 0);
	ck_assert_int_eq(r.status, 307);
	ck_assert_int_eq(r.connects, 0);
	http_result_free(&r);
	ck_assert_int_eq(http_client_do(&c, "GET", rt_url("/d"), NULL, 0, NULL, false, &r), 0);
	ck_assert_int_eq(r.status, 307);
	rt_assert_header(&r, "Location", TARGET);
	ck_assert_int_eq(r.connects, 0);
	http_result_free(&r);
	http_client_cleanup(&c);
	free(body);
	rt_stop();
}
END_TEST

/* The same on one raw socket: a POST with its whole body, then a GET, both
 * answered on the connection the POST used. */
START_TEST(test_drained_body_leaves_raw_connection_ready_for_next_request)
{
	static const char get[] = "GET /d HTTP/1.1\r\nHost: t\r\n\r\n";
	char head[128], resp[8192];
	char *body = filled(5000);
	int fd;

	rt_start(NULL);
	create_link(&rt_daemon, TARGET, "d", 307, NULL);
	fd = raw_connect(rt_daemon.port);
	ck_assert_int_ge(fd, 0);
	snprintf(head, sizeof(head), "POST /d HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n");
	ck_assert_int_eq(raw_send(fd, head, strlen(head)), 0);
	ck_assert_int_eq(raw_send(fd, body, 5000), 0);
	ck_assert_int_gt(raw_read_response(fd, resp, sizeof(resp), 5000), 0);
	rt_assert_status_line(resp, "HTTP/1.1 307 ");
	ck_assert_ptr_null(strstr(resp, "Connection: close"));
	ck_assert_int_eq(raw_send(fd, get, strlen(get)), 0);
	ck_assert_int_gt(raw_read_response(fd, resp, sizeof(resp), 5000), 0);
	rt_assert_status_line(resp, "HTTP/1.1 307 ");
	ck_assert_ptr_nonnull(strstr(resp, "\r\nLocation: " TARGET "\r\n"));
	close(fd);
	free(body);
	rt_stop();
}
END_TEST

/* Over --max-body without Expect: libcurl gets its redirect or sees the
 * connection closed (the daemon stops reading); either way the next request
 * is served. */
START_TEST(test_body_over_max_body_gets_answer_or_close_and_daemon_serves)
{
	static const char *const args[] = {"--max-body", "1024", NULL};
	const char *no_expect[] = {"Expect:", NULL};
	size_t n = 1024 * 1024;
	char *body = filled(n);
	struct http_result r;
	int rc;

	rt_start(args);
	create_link(&rt_daemon, TARGET, "d", 307, NULL);
	rc = http_do("POST", rt_url("/d"), body, n, no_expect, false, &r);
	if (rc == 0) {
		ck_assert_int_eq(r.status, 307);
		rt_assert_header(&r, "Location", TARGET);
		rt_assert_header(&r, "Connection", "close");
	}
	ck_assert_msg(rc == 0 || r.status == 0 || r.status == 307, "status %ld", r.status);
	http_result_free(&r);
	rt_assert_still_serving("/d", TARGET);
	free(body);
	rt_stop();
}
END_TEST

/* On the wire: a Content-Length over the limit is answered from the headers
 * alone and the connection closed; a chunked body that passes the limit is
 * dropped with the connection. The daemon serves the next request. */
START_TEST(test_length_over_max_body_is_answered_and_closed)
{
	static const char *const args[] = {"--max-body", "1024", NULL};
	static const char req[] = "POST /d HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n";
	char resp[4096];
	bool closed;

	rt_start(args);
	create_link(&rt_daemon, TARGET, "d", 307, NULL);
	ck_assert_int_gt(raw_request_ex(rt_daemon.port, req, strlen(req), resp, sizeof(resp), 5000, &closed), 0);
	rt_assert_status_line(resp, "HTTP/1.1 307 ");
	ck_assert_ptr_nonnull(strstr(resp, "\r\nConnection: close\r\n"));
	ck_assert_ptr_nonnull(strstr(resp, "\r\nLocation: " TARGET "\r\n"));
	ck_assert(closed);
	rt_assert_still_serving("/d", TARGET);
	rt_stop();
}
END_TEST

START_TEST(test_chunked_body_over_max_body_drops_connection)
{
	static const char *const args[] = {"--max-body", "1024", NULL};
	static const char head[] = "POST /d HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n1000\r\n";
	char req[8192], resp[4096];
	size_t n = strlen(head);
	long got;
	bool closed;

	memcpy(req, head, n);
	memset(req + n, 'a', 4096);
	n += 4096;
	memcpy(req + n, "\r\n0\r\n\r\n", 7);
	n += 7;
	rt_start(args);
	create_link(&rt_daemon, TARGET, "d", 307, NULL);
	got = raw_request_ex(rt_daemon.port, req, n, resp, sizeof(resp), 5000, &closed);
	ck_assert_int_eq(got, 0);
	ck_assert(closed);
	rt_assert_still_serving("/d", TARGET);
	rt_stop();
}
END_TEST

/* ---- keep-alive ---- */

START_TEST(test_two_redirects_share_one_connection)
{
	struct http_client c;
	struct http_result r;

	rt_start(NULL);
	create_link(&rt_daemon, TARGET, "k", 302, NULL);
	ck_assert_int_eq(http_client_init(&c), 0);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(http_client_do(&c, "GET", rt_url("/k"), NULL, 0, NULL, false, &r), 0);
		ck_assert_int_eq(r.status, 302);
		rt_assert_header(&r, "Location", TARGET);
		rt_assert_header(&r, "Connection", NULL);
		ck_assert_int_eq(r.connects, i == 0 ? 1 : 0);
		http_result_free(&r);
	}
	http_client_cleanup(&c);
	rt_stop();
}
END_TEST

START_TEST(test_two_raw_requests_on_one_socket_both_answered)
{
	static const char req[] = "GET /k HTTP/1.1\r\nHost: t\r\n\r\n";
	char resp[4096];
	int fd;

	rt_start(NULL);
	create_link(&rt_daemon, TARGET, "k", 302, NULL);
	fd = raw_connect(rt_daemon.port);
	ck_assert_int_ge(fd, 0);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(raw_send(fd, req, strlen(req)), 0);
		ck_assert_int_gt(raw_read_response(fd, resp, sizeof(resp), 5000), 0);
		rt_assert_status_line(resp, "HTTP/1.1 302 ");
		ck_assert_ptr_nonnull(strstr(resp, "\r\nLocation: " TARGET "\r\n"));
	}
	close(fd);
	rt_stop();
}
END_TEST

Suite *redirect_body_suite(void)
{
	Suite *s = suite_create("redirect_body");
	TCase *expect = tcase_create("expect");
	TCase *drain = tcase_create("drain");
	TCase *keep = tcase_create("keep_alive");

	tcase_set_timeout(expect, 60);
	tcase_add_test(expect, test_expect_100_continue_5mb_post_gets_307_with_under_1mb_uploaded);
	tcase_add_test(expect, test_expect_100_continue_headers_alone_get_the_redirect);
	tcase_add_test(expect, test_5mb_post_with_expect_reaches_target_intact_through_307);
	suite_add_tcase(s, expect);

	tcase_set_timeout(drain, 60);
	tcase_add_test(drain, test_body_under_max_body_is_drained_and_connection_reused);
	tcase_add_test(drain, test_drained_body_leaves_raw_connection_ready_for_next_request);
	tcase_add_test(drain, test_body_over_max_body_gets_answer_or_close_and_daemon_serves);
	tcase_add_test(drain, test_length_over_max_body_is_answered_and_closed);
	tcase_add_test(drain, test_chunked_body_over_max_body_drops_connection);
	suite_add_tcase(s, drain);

	tcase_set_timeout(keep, 60);
	tcase_add_test(keep, test_two_redirects_share_one_connection);
	tcase_add_test(keep, test_two_raw_requests_on_one_socket_both_answered);
	suite_add_tcase(s, keep);
	return s;
}
