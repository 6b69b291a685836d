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
/* How every page of libmicrohttpd's own begins. */
#define MHD_PAGE "<html><head><title>"

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

/* A chunk extension longer than the connection's memory (32 KiB): the
 * chunk-size line never fits libmicrohttpd's read buffer. */
static size_t huge_chunk_extension(char *buf, size_t size)
{
	size_t n = (size_t)snprintf(buf, size,
	                            "POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
	                            "5;x=");

	memset(buf + n, 'e', 100000);
	n += 100000;
	n += (size_t)snprintf(buf + n, size - n, "\r\nhello\r\n0\r\n\r\n");
	return n;
}

/* Whose text an answer's body is: shortd's, or libmicrohttpd's own HTML
 * page (it answers before shortd is called; empty when it was configured
 * with --disable-messages), per libmicrohttpd version. */
enum page {
	PAGE_NONE = 0,     /* shortd's answer, or no answer */
	PAGE_BEFORE_1 = 1, /* libmicrohttpd's page before 1.0.0 (0.9.75) */
	PAGE_FROM_1 = 2,   /* libmicrohttpd's page from 1.0.0 (1.0.1) */
	PAGE_ALWAYS = PAGE_BEFORE_1 | PAGE_FROM_1,
};

struct hostile_case {
	const char *name;
	const char *raw; /* NULL: built by build */
	size_t (*build)(char *buf, size_t size);
	const char *status_line; /* "" closes without an answer */
	bool mhd_twice;          /* libmicrohttpd < 1.0.0 sends the header block twice */
	enum page page;
};

static const struct hostile_case hostile_cases[] = {
    {"garbage request line", "GARBAGE\r\n\r\n", NULL, "", false, PAGE_NONE},
    {"method alone", "GET\r\n\r\n", NULL, "", false, PAGE_NONE},
    /* libmicrohttpd 1.0 answers a broken request line with 400 only when
     * its method is a known one, and closes otherwise. */
    {"binary request line", "\x01\x02\x03\xff hello\r\n\r\n", NULL, HARNESS_MHD_REFUSES_ITSELF ? "" : "HTTP/1.1 400 ",
     false, PAGE_BEFORE_1},
    {"empty lines only", "\r\n\r\n\r\n", NULL, "", false, PAGE_NONE},
    {"unknown HTTP version", "GET /c HTTP/9.9\r\nHost: t\r\n\r\n", NULL, "HTTP/1.1 505 ", false, PAGE_ALWAYS},
    {"HTTP/1.1 without Host", "GET /c HTTP/1.1\r\n\r\n", NULL, "HTTP/1.1 400 ", false, PAGE_FROM_1},
    {"two Host headers", "GET /c HTTP/1.1\r\nHost: t\r\nHost: u\r\n\r\n", NULL, "HTTP/1.1 400 ", false, PAGE_NONE},
    {"space before Host's colon", "GET /c HTTP/1.1\r\nHost : t\r\n\r\n", NULL, "HTTP/1.1 400 ", false, PAGE_FROM_1},
    {"space in the target", "GET /c d HTTP/1.1\r\nHost: t\r\n\r\n", NULL, "HTTP/1.1 400 ", false, PAGE_FROM_1},
    {"OPTIONS *", "OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n", NULL, "HTTP/1.1 400 ", false, PAGE_NONE},
    {"CONNECT", "CONNECT t:443 HTTP/1.1\r\nHost: t:443\r\n\r\n", NULL, "HTTP/1.1 400 ", false, PAGE_NONE},
    {"TRACE", "TRACE /c HTTP/1.1\r\nHost: t\r\n\r\n", NULL, "HTTP/1.1 405 ", false, PAGE_NONE},
    {"lower-case method", "post /c HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc", NULL, "HTTP/1.1 501 ", false,
     PAGE_NONE},
    {"header line without colon", "GET /c HTTP/1.1\r\nHost: t\r\nNoColonHere\r\n\r\n", NULL, "HTTP/1.1 400 ", false,
     PAGE_ALWAYS},
    {"Content-Length not a number", "POST /c HTTP/1.1\r\nHost: t\r\nContent-Length: abc\r\n\r\n", NULL, "HTTP/1.1 400 ",
     true, PAGE_ALWAYS},
    {"Content-Length negative", "POST /c HTTP/1.1\r\nHost: t\r\nContent-Length: -5\r\n\r\n", NULL, "HTTP/1.1 400 ",
     true, PAGE_ALWAYS},
    {"Content-Length with a sign", "POST /c HTTP/1.1\r\nHost: t\r\nContent-Length: +5\r\n\r\nhello", NULL,
     "HTTP/1.1 400 ", true, PAGE_ALWAYS},
    {"Content-Length past 2^64", "POST /c HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999999999999999999\r\n\r\n", NULL,
     "HTTP/1.1 413 ", true, PAGE_ALWAYS},
    /* Before 1.0 libmicrohttpd takes 2^64-1 as a length (its "unknown
     * size"), so the link's 307 answers without reading the body; 1.0
     * refuses it as too large itself. */
    {"Content-Length 2^64-1", "POST /c HTTP/1.1\r\nHost: t\r\nContent-Length: 18446744073709551615\r\n\r\n", NULL,
     HARNESS_MHD_REFUSES_ITSELF ? "HTTP/1.1 413 " : "HTTP/1.1 307 ", false, PAGE_FROM_1},
    {"bad chunk size", "POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", NULL,
     "HTTP/1.1 400 ", false, PAGE_ALWAYS},
    /* Chunk framing is libmicrohttpd's alone: shortd sees the chunks'
     * data, never their size lines. RFC 9112 7.1.1: an extension a
     * recipient does not know is ignored; libmicrohttpd 1.0.1 counts the
     * size line one byte short when it has an extension (the LF is taken
     * as data) and refuses every such body. */
    {"chunk extension", "POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5;x=1\r\nhello\r\n0\r\n\r\n",
     NULL, HARNESS_MHD_REFUSES_ITSELF ? "HTTP/1.1 400 " : "HTTP/1.1 307 ", false, PAGE_FROM_1},
    /* A size line past the connection's memory: libmicrohttpd stops
     * reading and answers nothing (0.9.75 sends its 500 only with its own
     * polling thread, which shortd does not use); --timeout closes it. */
    {"100 KB chunk extension", NULL, huge_chunk_extension, "", false, PAGE_NONE},
    /* 2^64-1 fits libmicrohttpd's chunk size: it reads on, and the body
     * ends at --max-body or, as here, --timeout. */
    {"chunk size 2^64-1", "POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFF\r\nhello",
     NULL, "", false, PAGE_NONE},
    {"chunk size past 2^64",
     "POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n1FFFFFFFFFFFFFFFF\r\nhello", NULL,
     "HTTP/1.1 413 ", false, PAGE_ALWAYS},
    {"chunked body over --max-body", NULL, chunk_over_limit, "", false, PAGE_NONE},
    {"header flood: 5000 headers", NULL, many_headers, "HTTP/1.1 431 ", false, PAGE_ALWAYS},
    {"header flood: one 100 KB header", NULL, huge_header, "HTTP/1.1 431 ", false, PAGE_ALWAYS},
    {"100 KB request target", NULL, huge_uri, "HTTP/1.1 414 ", false, PAGE_ALWAYS},
    {"2 KB path", NULL, long_path, "HTTP/1.1 414 ", false, PAGE_NONE},
    {"10 KB query", NULL, long_query, "HTTP/1.1 414 ", false, PAGE_NONE},
    {"stalls in the request line", "GET /c HT", NULL, "", false, PAGE_NONE},
    {"stalls in the headers", "GET /c HTTP/1.1\r\nHost: t\r\n", NULL, "", false, PAGE_NONE},
    {"stalls in the body", "POST /c HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nabc", NULL, "", false, PAGE_NONE},
};

/* Whether the header blocks a and b, len bytes each, are the same but for
 * their Date line's value (29 bytes, RFC 9110 5.6.7). */
static bool same_but_date(const char *a, const char *b, size_t len)
{
	const char *d = memmem(a, len, "\r\nDate: ", 8);
	size_t at = d != NULL ? (size_t)(d - a) + 8 : len;

	if (d == NULL || at + 29 > len)
		return memcmp(a, b, len) == 0;
	return memcmp(a, b, at) == 0 && memcmp(a + at + 29, b + at + 29, len - at - 29) == 0;
}

/* Waits up to 2 s for every request the daemon began to have ended, so
 * that the /metrics request asking is the only one in flight; false when
 * another stays counted. */
static bool only_this_in_flight(void)
{
	for (int waited = 0; waited <= 2000; waited += 50) {
		if (metric_value(NULL, rt_url(""), "shortd_requests_in_flight") == 1)
			return true;
		pause_ms(50);
	}
	return false;
}

START_TEST(test_malformed_request_neither_crashes_nor_stops_the_daemon)
{
	static const char *const args[] = {"--timeout", "1", "--max-body", "1024", NULL};
	const struct hostile_case *c = &hostile_cases[_i];
	char *req = malloc(BIG + 1024);
	const char *body, *cl;
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
		/* The body follows the last header block. */
		body = resp;
		for (const char *p = strstr(resp, "\r\n\r\n"); p != NULL; p = strstr(p + 4, "\r\n\r\n")) {
			body = p + 4;
			if (strncmp(body, "HTTP/1.", 7) != 0)
				break;
		}
		/* Twice means the same header block again, byte for byte (its
		 * Date may have ticked in between). */
		if (lines == 2) {
			size_t head = (size_t)(strstr(resp, "\r\n\r\n") + 4 - resp);
			ck_assert_msg(body == resp + 2 * head && same_but_date(resp, resp + head, head),
			              "%s: not the same header block twice: %.400s", c->name, resp);
		}
		/* One body, as long as the last header block says. */
		cl = strcasestr(resp, "\r\nContent-Length: ");
		ck_assert_msg(cl != NULL && cl < body && (long)strtoul(cl + 18, NULL, 10) == got - (body - resp),
		              "%s: %ld bytes are not one whole response: %.400s", c->name, got, resp);
		if ((c->page & (HARNESS_MHD_REFUSES_ITSELF ? PAGE_FROM_1 : PAGE_BEFORE_1)) != 0 && HARNESS_MHD_PAGES)
			ck_assert_msg(strncmp(body, MHD_PAGE, strlen(MHD_PAGE)) == 0,
			              "%s: not libmicrohttpd's page: %.400s", c->name, resp);
		else if ((c->page & (HARNESS_MHD_REFUSES_ITSELF ? PAGE_FROM_1 : PAGE_BEFORE_1)) != 0)
			ck_assert_msg(*body == '\0', "%s: a body from libmicrohttpd without messages: %.400s", c->name,
			              resp);
		else
			ck_assert_msg(strstr(resp, MHD_PAGE) == NULL, "%s: libmicrohttpd's page: %.400s", c->name,
			              resp);
	}
	/* However it ended, the request is no longer counted (a stop waits
	 * for those that are). */
	ck_assert_msg(only_this_in_flight(), "%s: still counted in flight", c->name);
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
