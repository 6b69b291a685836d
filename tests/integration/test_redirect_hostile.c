/*
 * Malformed requests as data: each row is the raw bytes a broken or hostile
 * client sends and the status line the daemon must answer with ("" when it
 * must close without a word). One driver sends each row on its own
 * connection to a daemon with --timeout 1 and --max-body 1024, then proves
 * the connection was closed, the daemon is alive, a normal redirect still
 * works and SIGTERM still stops it with status 0. A bug found is one more
 * row. (Request smuggling has its own table in test_hostile.c.)
 *
 * An answer is one response: one status line. libmicrohttpd before 1.0.0
 * sends the header block of its own answer to a Content-Length that is not
 * a number twice (see CLIENT_STRICTNESS in src/http_server.c); those rows say so,
 * and expect exactly that there, so that the day it changes is seen.
 */
#include <check.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "redirect_fixture.h"

#define TARGET "https://t.example/p"
#define BIG (128 * 1024)

/* Builders for rows too large to write out: fill buf, return the length. */
static size_t many_headers(char *buf, size_t size)
{
	size_t n = (size_t)snprintf(buf, size, "GET /c HTTP/1.1\r\nHost: t\r\n");

	for (int i = 0; n + 32 < size && i < 5000; i++)
		n += (size_t)snprintf(buf + n, size - n, "X-Flood-%d: v\r\n", i);
	n += (size_t)snprintf(buf + n, size - n, "\r\n");
	return n;
}

static size_t huge_header(char *buf, size_t size)
{
	size_t n = (size_t)snprintf(buf, size, "GET /c HTTP/1.1\r\nHost: t\r\nX-Huge: ");

	memset(buf + n, 'a', 100000);
	n += 100000;
	n += (size_t)snprintf(buf + n, size - n, "\r\n\r\n");
	return n;
}

static size_t huge_uri(char *buf, size_t size)
{
	size_t n = (size_t)snprintf(buf, size, "GET /c?");

	memset(buf + n, 'q', 100000);
	n += 100000;
	n += (size_t)snprintf(buf + n, size - n, " HTTP/1.1\r\nHost: t\r\n\r\n");
	return n;
}

/* Targets that libmicrohttpd takes whole but that are longer than shortd
 * keeps: a path over 1,024 bytes, a query over 8,192. */
static size_t long_path(char *buf, size_t size)
{
	size_t n = (size_t)snprintf(buf, size, "GET /");

	memset(buf + n, 'p', 2000);
	n += 2000;
	n += (size_t)snprintf(buf + n, size - n, " HTTP/1.1\r\nHost: t\r\n\r\n");
	return n;
}

static size_t long_query(char *buf, size_t size)
{
	size_t n = (size_t)snprintf(buf, size, "GET /c?");

	memset(buf + n, 'q', 10000);
	n += 10000;
	n += (size_t)snprintf(buf + n, size - n, " HTTP/1.1\r\nHost: t\r\n\r\n");
	return n;
}

static size_t chunk_over_limit(char *buf, size_t size)
{
	size_t n = (size_t)snprintf(buf, size,
	                            "POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
	                            "1000\r\n");

	memset(buf + n, 'b', 4096);
	n += 4096;
	n += (size_t)snprintf(buf + n, size - n, "\r\n0\r\n\r\n");
	return n;
}

struct hostile_case {
	const char *name;
	const char *raw; /* NULL: built by build */
	size_t (*build)(char *buf, size_t size);
	const char *status_line; /* "" closes without an answer */
	bool mhd_twice;          /* libmicrohttpd < 1.0.0 sends the header block twice */
};

static const struct hostile_case hostile_cases[] = {
    {"garbage request line", "GARBAGE\r\n\r\n", NULL, "", false},
    {"method alone", "GET\r\n\r\n", NULL, "", false},
    /* libmicrohttpd 1.0 answers a broken request line with 400 only when
     * its method is a known one, and closes otherwise. */
    {"binary request line", "\x01\x02\x03\xff hello\r\n\r\n", NULL, HARNESS_MHD_REFUSES_ITSELF ? "" : "HTTP/1.1 400 ",
     false},
    {"empty lines only", "\r\n\r\n\r\n", NULL, "", false},
    {"unknown HTTP version", "GET /c HTTP/9.9\r\nHost: t\r\n\r\n", NULL, "HTTP/1.1 505 ", false},
    {"HTTP/1.1 without Host", "GET /c HTTP/1.1\r\n\r\n", NULL, "HTTP/1.1 400 ", false},
    {"two Host headers", "GET /c HTTP/1.1\r\nHost: t\r\nHost: u\r\n\r\n", NULL, "HTTP/1.1 400 ", false},
    {"space before Host's colon", "GET /c HTTP/1.1\r\nHost : t\r\n\r\n", NULL, "HTTP/1.1 400 ", false},
    {"space in the target", "GET /c d HTTP/1.1\r\nHost: t\r\n\r\n", NULL, "HTTP/1.1 400 ", false},
    {"OPTIONS *", "OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n", NULL, "HTTP/1.1 400 ", false},
    {"CONNECT", "CONNECT t:443 HTTP/1.1\r\nHost: t:443\r\n\r\n", NULL, "HTTP/1.1 400 ", false},
    {"TRACE", "TRACE /c HTTP/1.1\r\nHost: t\r\n\r\n", NULL, "HTTP/1.1 405 ", false},
    {"lower-case method", "post /c HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc", NULL, "HTTP/1.1 501 ", false},
    {"header line without colon", "GET /c HTTP/1.1\r\nHost: t\r\nNoColonHere\r\n\r\n", NULL, "HTTP/1.1 400 ", false},
    {"Content-Length not a number", "POST /c HTTP/1.1\r\nHost: t\r\nContent-Length: abc\r\n\r\n", NULL, "HTTP/1.1 400 ",
     true},
    {"Content-Length negative", "POST /c HTTP/1.1\r\nHost: t\r\nContent-Length: -5\r\n\r\n", NULL, "HTTP/1.1 400 ",
     true},
    {"Content-Length with a sign", "POST /c HTTP/1.1\r\nHost: t\r\nContent-Length: +5\r\n\r\nhello", NULL,
     "HTTP/1.1 400 ", true},
    {"Content-Length past 2^64", "POST /c HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999999999999999999\r\n\r\n", NULL,
     "HTTP/1.1 413 ", true},
    /* Before 1.0 libmicrohttpd takes 2^64-1 as a length (its "unknown
     * size"), so the link's 307 answers without reading the body; 1.0
     * refuses it as too large itself. */
    {"Content-Length 2^64-1", "POST /c HTTP/1.1\r\nHost: t\r\nContent-Length: 18446744073709551615\r\n\r\n", NULL,
     HARNESS_MHD_REFUSES_ITSELF ? "HTTP/1.1 413 " : "HTTP/1.1 307 ", false},
    {"bad chunk size", "POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", NULL,
     "HTTP/1.1 400 ", false},
    {"chunked body over --max-body", NULL, chunk_over_limit, "", false},
    {"header flood: 5000 headers", NULL, many_headers, "HTTP/1.1 431 ", false},
    {"header flood: one 100 KB header", NULL, huge_header, "HTTP/1.1 431 ", false},
    {"100 KB request target", NULL, huge_uri, "HTTP/1.1 414 ", false},
    {"2 KB path", NULL, long_path, "HTTP/1.1 414 ", false},
    {"10 KB query", NULL, long_query, "HTTP/1.1 414 ", false},
    {"stalls in the request line", "GET /c HT", NULL, "", false},
    {"stalls in the headers", "GET /c HTTP/1.1\r\nHost: t\r\n", NULL, "", false},
    {"stalls in the body", "POST /c HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nabc", NULL, "", false},
};

START_TEST(test_malformed_request_neither_crashes_nor_stops_the_daemon)
{
	static const char *const args[] = {"--timeout", "1", "--max-body", "1024", NULL};
	const struct hostile_case *c = &hostile_cases[_i];
	char *req = malloc(BIG + 1024);
	char resp[8192];
	size_t len;
	long got;
	bool closed;

	ck_assert(req != NULL);
	if (c->build != NULL) {
		len = c->build(req, BIG + 1024);
	} else {
		len = strlen(c->raw);
		memcpy(req, c->raw, len);
	}
	rt_start(args);
	create_link(&rt_daemon, TARGET, "c", 307, NULL);
	/* --timeout 1: a stalled client is closed well within 10 s. */
	got = raw_request_ex(rt_daemon.port, req, len, resp, sizeof(resp), 10000, &closed);
	ck_assert_msg(got >= 0, "%s: cannot connect", c->name);
	ck_assert_msg(closed, "%s: the connection stayed open", c->name);
	if (c->status_line[0] == '\0')
		ck_assert_msg(got == 0, "%s: expected no answer, got: %.200s", c->name, resp);
	else
		ck_assert_msg(strncmp(resp, c->status_line, strlen(c->status_line)) == 0,
		              "%s: expected '%s', got: %.200s", c->name, c->status_line, resp);
	if (c->status_line[0] != '\0') {
		/* Status lines start a line; a page's text may say "HTTP/1.1"
		 * too (libmicrohttpd 1.0's for a missing Host does). */
		int lines = strncmp(resp, "HTTP/1.", 7) == 0;
		for (const char *p = strstr(resp, "\nHTTP/1."); p != NULL; p = strstr(p + 1, "\nHTTP/1."))
			lines++;
		ck_assert_msg(lines == (c->mhd_twice && !HARNESS_MHD_REFUSES_ITSELF ? 2 : 1),
		              "%s: %d status lines: %.400s", c->name, lines, resp);
	}
	rt_assert_still_serving("/c", TARGET);
	free(req);
	rt_stop();
}
END_TEST

Suite *redirect_hostile_suite(void)
{
	Suite *s = suite_create("redirect_hostile");
	TCase *tc = tcase_create("malformed");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_malformed_request_neither_crashes_nor_stops_the_daemon, 0,
	                    (int)(sizeof(hostile_cases) / sizeof(hostile_cases[0])));
	suite_add_tcase(s, tc);
	return s;
}
