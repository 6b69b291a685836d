/*
 * Integration tests of the prepared redirect responses each worker thread
 * keeps (http_server.c): a redirect asked for again is answered with the
 * libmicrohttpd response built the first time. Every case runs on one
 * worker thread (so every request meets the same table), with the table on
 * and with --link-cache 0 (off); both must send the same bytes. Responses
 * are read from raw sockets and compared whole, all but the Date line: a
 * repeat on one keep-alive connection or on new ones, a HEAD among GETs, a
 * status changed through the API, two links sharing a target, queries
 * forwarded, Locations around the 255-byte limit of a slot, more links than
 * slots, and POSTs (drained, or refused with Expect and Connection: close)
 * between GETs. The daemon then stops with exit status 0, which under ASan
 * also means nothing leaked.
 */
#include <check.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api_client.h"

#define RSP_BUF 16384
#define RSP_TIMEOUT_MS 5000
#define RSP_HEADERS_MAX 16
#define RSP_PAGE_HEAD                                                                                                  \
	"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Redirecting</title></head><body>"                 \
	"<p>Redirecting to <a href=\""
#define RSP_PAGE_TAIL "</a>.</p></body></html>\n"
#define RSP_NO_STORE "private, no-store"
#define RSP_PUBLIC "public, max-age=3600" /* the default --cache-max-age */

static struct daemon rsp_d;

/* The two ways each case runs: the table on, and off. */
static const char *const rsp_configs[][5] = {
    {"--threads", "1", NULL},
    {"--threads", "1", "--link-cache", "0", NULL},
};

#define RSP_NCONFIGS ((int)(sizeof(rsp_configs) / sizeof(rsp_configs[0])))

/* One response as received, less its Date line: text holds the status
 * line, the other header lines and the body. */
struct rsp_msg {
	char text[RSP_BUF];
	size_t len;
	size_t head_len; /* up to and with the blank line */
	bool closed;     /* the daemon closed the connection after it */
};

static void rsp_start(int config)
{
	client_daemon_start(&rsp_d, rsp_configs[config]);
}

/* Stops the daemon; exit status 0, or the failure shows its stderr. */
static void rsp_stop(void)
{
	char log[4096] = "";
	FILE *f;
	int status;

	ck_assert_msg(daemon_is_running(&rsp_d), "the daemon died");
	status = daemon_stop(&rsp_d);
	if (status != 0 && (f = fopen(rsp_d.log, "r")) != NULL) {
		log[fread(log, 1, sizeof(log) - 1, f)] = '\0';
		fclose(f);
	}
	ck_assert_msg(status == 0, "the daemon stopped with %d: %s", status, log);
	daemon_cleanup(&rsp_d);
}

static void rsp_create(const char *json)
{
	json_decref(client_create_link(&rsp_d, json));
}

static int rsp_connect(void)
{
	int fd = raw_connect(rsp_d.port);

	ck_assert_msg(fd >= 0, "cannot connect to the daemon");
	return fd;
}

/* Reads up to the end of a HEAD answer's header block (no body follows). */
static size_t rsp_read_head(int fd, char *buf, size_t size)
{
	size_t got = 0;

	buf[0] = '\0';
	while (got + 1 < size && strstr(buf, "\r\n\r\n") == NULL) {
		struct pollfd p = {fd, POLLIN, 0};
		ssize_t n;

		if (poll(&p, 1, RSP_TIMEOUT_MS) <= 0)
			break;
		n = recv(fd, buf + got, size - 1 - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		buf[got] = '\0';
	}
	return got;
}

/* The peer closes (or resets) the connection within the timeout, sending
 * nothing more. */
static bool rsp_peer_closes(int fd)
{
	struct pollfd p = {fd, POLLIN, 0};
	char c;

	if (poll(&p, 1, RSP_TIMEOUT_MS) <= 0)
		return false;
	return recv(fd, &c, 1, 0) <= 0;
}

/*
 * Takes the raw answer into m: exactly one well-formed Date line is cut
 * out; a body of exactly Content-Length bytes follows the headers (none
 * after a HEAD), and nothing else.
 */
static void rsp_take(const char *raw, size_t n, bool head, struct rsp_msg *m)
{
	const char *end = strstr(raw, "\r\n\r\n");
	const char *date = strstr(raw, "\r\nDate: ");
	const char *date_end, *cl;
	size_t head_len, body_len;

	ck_assert_msg(end != NULL, "no whole header block: '%s'", raw);
	head_len = (size_t)(end - raw) + 4;
	ck_assert_msg(date != NULL && date < end, "no Date header: '%s'", raw);
	date_end = strstr(date + 2, "\r\n");
	/* "Date: Wed, 25 Nov 2026 23:50:11 GMT" */
	ck_assert_msg(date_end - (date + 2) == 35 && strncmp(date_end - 4, " GMT", 4) == 0, "bad Date: '%.*s'",
	              (int)(date_end - date - 2), date + 2);
	ck_assert_msg(strstr(date_end, "\r\nDate: ") == NULL || strstr(date_end, "\r\nDate: ") > end,
	              "two Date headers: '%s'", raw);
	cl = strstr(raw, "\r\nContent-Length: ");
	ck_assert_msg(cl != NULL && cl < end, "no Content-Length: '%s'", raw);
	body_len = head ? 0 : strtoul(cl + 18, NULL, 10);
	ck_assert_msg(n == head_len + body_len, "%zu bytes for a header block of %zu and a body of %zu: '%s'", n,
	              head_len, body_len, raw);
	memcpy(m->text, raw, (size_t)(date - raw));
	m->len = (size_t)(date - raw);
	memcpy(m->text + m->len, date_end, n - (size_t)(date_end - raw));
	m->len += n - (size_t)(date_end - raw);
	m->text[m->len] = '\0';
	m->head_len = head_len - (size_t)(date_end - date);
	m->closed = false;
}

/* Sends req on fd and takes its whole answer into m. */
static void rsp_exchange(int fd, const char *req, bool head, struct rsp_msg *m)
{
	char raw[RSP_BUF];
	long n;

	ck_assert_int_eq(raw_send(fd, req, strlen(req)), 0);
	if (head)
		n = (long)rsp_read_head(fd, raw, sizeof(raw));
	else
		n = raw_read_response(fd, raw, sizeof(raw), RSP_TIMEOUT_MS);
	ck_assert_msg(n > 0, "no answer to '%s'", req);
	rsp_take(raw, (size_t)n, head, m);
}

/* method /path on the kept-alive connection fd. */
static void rsp_ask(int fd, const char *method, const char *path, struct rsp_msg *m)
{
	char req[1024];

	snprintf(req, sizeof(req), "%s /%s HTTP/1.1\r\nHost: t\r\nUser-Agent: rsp-test\r\n\r\n", method, path);
	rsp_exchange(fd, req, strcmp(method, "HEAD") == 0, m);
}

/* method /path on a new connection, closed after the answer. */
static void rsp_ask_new(const char *method, const char *path, struct rsp_msg *m)
{
	int fd = rsp_connect();

	rsp_ask(fd, method, path, m);
	close(fd);
}

/* The HTML escaping the daemon applies to the URL in its page. */
static void rsp_escape(const char *s, char *out, size_t size)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		const char *rep;
		char one[2] = {*s, '\0'};

		switch (*s) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&#39;";
			break;
		default:
			rep = one;
			break;
		}
		ck_assert_uint_lt(n + strlen(rep), size);
		memcpy(out + n, rep, strlen(rep));
		n += strlen(rep);
	}
	out[n] = '\0';
}

static const char *rsp_reason(int status)
{
	switch (status) {
	case 301:
		return "Moved Permanently";
	case 302:
		return "Found";
	case 303:
		return "See Other";
	case 307:
		return "Temporary Redirect";
	case 308:
		return "Permanent Redirect";
	default:
		return "?";
	}
}

/*
 * Asserts m is exactly the redirect to location with status: its status
 * line, each header line (in any order, none missing, none more), the page
 * with the escaped URL twice (no body after a HEAD, whose Content-Length is
 * still the page's).
 */
static void rsp_assert_redirect(const struct rsp_msg *m, int status, const char *location, bool head, bool close)
{
	char esc[4096], page[9000], want[RSP_HEADERS_MAX][2100];
	bool used[RSP_HEADERS_MAX] = {false};
	const char *line, *end = m->text + m->head_len - 2;
	int nwant = 0, seen = 0;

	rsp_escape(location, esc, sizeof(esc));
	snprintf(page, sizeof(page), RSP_PAGE_HEAD "%s\">%s" RSP_PAGE_TAIL, esc, esc);
	snprintf(want[nwant++], sizeof(want[0]), "HTTP/1.1 %d %s", status, rsp_reason(status));
	snprintf(want[nwant++], sizeof(want[0]), "Location: %s", location);
	snprintf(want[nwant++], sizeof(want[0]), "Cache-Control: %s",
	         status == 301 || status == 308 ? RSP_PUBLIC : RSP_NO_STORE);
	snprintf(want[nwant++], sizeof(want[0]), "Content-Type: text/html; charset=utf-8");
	snprintf(want[nwant++], sizeof(want[0]), "Content-Length: %zu", strlen(page));
	if (close)
		snprintf(want[nwant++], sizeof(want[0]), "Connection: close");

	ck_assert_msg(strncmp(m->text, want[0], strlen(want[0])) == 0 && m->text[strlen(want[0])] == '\r',
	              "status line, expected '%s': '%s'", want[0], m->text);
	used[0] = true;
	seen = 1;
	for (line = strstr(m->text, "\r\n") + 2; line < end; line = strstr(line, "\r\n") + 2) {
		size_t len = (size_t)(strstr(line, "\r\n") - line);
		int k;

		for (k = 1; k < nwant; k++) {
			if (!used[k] && strlen(want[k]) == len && strncmp(line, want[k], len) == 0)
				break;
		}
		ck_assert_msg(k < nwant, "unexpected header line '%.*s' in '%s'", (int)len, line, m->text);
		used[k] = true;
		seen++;
	}
	ck_assert_msg(seen == nwant, "%d lines, expected %d: '%s'", seen, nwant, m->text);
	if (head)
		ck_assert_uint_eq(m->len, m->head_len);
	else
		ck_assert_str_eq(m->text + m->head_len, page);
}

/* a and b are the same bytes, all but the Date line. */
static void rsp_assert_same(const struct rsp_msg *a, const struct rsp_msg *b)
{
	ck_assert_msg(a->len == b->len && memcmp(a->text, b->text, a->len) == 0, "answers differ:\n'%s'\n'%s'", a->text,
	              b->text);
}

/* Asserts head, a HEAD's answer, is get's header block without its body. */
static void rsp_assert_same_head(const struct rsp_msg *get, const struct rsp_msg *head)
{
	ck_assert_msg(head->len == get->head_len && memcmp(get->text, head->text, get->head_len) == 0,
	              "HEAD's headers differ from GET's:\n'%s'\n'%s'", get->text, head->text);
}

/* GET /path on fd (or a new connection when fd < 0) answers exactly. */
static void rsp_expect(int fd, const char *path, int status, const char *location, struct rsp_msg *m)
{
	if (fd >= 0)
		rsp_ask(fd, "GET", path, m);
	else
		rsp_ask_new("GET", path, m);
	rsp_assert_redirect(m, status, location, false, false);
}

/* ---- 1. repeats are byte-identical ---- */

#define RSP_AMP_URL "https://t.example/p?a=1&b='x'"
#define RSP_AMP_ESC "https://t.example/p?a=1&amp;b=&#39;x&#39;"

START_TEST(test_repeats_are_byte_identical)
{
	static const char page[] = RSP_PAGE_HEAD RSP_AMP_ESC "\">" RSP_AMP_ESC RSP_PAGE_TAIL;
	static struct rsp_msg first, m;
	char length[64];
	int fd;

	rsp_start(_i);
	rsp_create("{\"url\":\"" RSP_AMP_URL "\",\"code\":\"amp\"}");
	fd = rsp_connect();
	rsp_expect(fd, "amp", 302, RSP_AMP_URL, &first);
	/* The page, independently of rsp_escape. */
	ck_assert_str_eq(first.text + first.head_len, page);
	snprintf(length, sizeof(length), "\r\nContent-Length: %zu\r\n", strlen(page));
	ck_assert_ptr_nonnull(strstr(first.text, length));
	ck_assert_ptr_nonnull(strstr(first.text, "\r\nCache-Control: private, no-store\r\n"));
	ck_assert_ptr_nonnull(strstr(first.text, "\r\nContent-Type: text/html; charset=utf-8\r\n"));
	ck_assert_ptr_nonnull(strstr(first.text, "\r\nLocation: " RSP_AMP_URL "\r\n"));
	for (int k = 1; k < 6; k++) {
		rsp_expect(fd, "amp", 302, RSP_AMP_URL, &m);
		rsp_assert_same(&first, &m);
	}
	close(fd);
	for (int k = 0; k < 6; k++) {
		rsp_expect(-1, "amp", 302, RSP_AMP_URL, &m);
		rsp_assert_same(&first, &m);
	}
	rsp_stop();
}
END_TEST

/* ---- 2. HEAD among GETs ---- */

START_TEST(test_head_after_cached_gets_has_no_body)
{
	static struct rsp_msg get, m;
	int fd;

	rsp_start(_i);
	rsp_create("{\"url\":\"" RSP_AMP_URL "\",\"code\":\"hd\"}");
	rsp_create("{\"url\":\"https://t.example/head-first\",\"code\":\"hf\"}");
	fd = rsp_connect();
	rsp_expect(fd, "hd", 302, RSP_AMP_URL, &get);
	for (int k = 0; k < 3; k++)
		rsp_expect(fd, "hd", 302, RSP_AMP_URL, &m);
	for (int k = 0; k < 2; k++) {
		rsp_ask(fd, "HEAD", "hd", &m);
		rsp_assert_redirect(&m, 302, RSP_AMP_URL, true, false);
		rsp_assert_same_head(&get, &m);
		/* A stray body would be read as the start of this answer. */
		rsp_expect(fd, "hd", 302, RSP_AMP_URL, &m);
		rsp_assert_same(&get, &m);
	}
	/* A HEAD on another connection, and a HEAD as the first request for
	 * a link (its response may be the one kept), then GETs after it. */
	rsp_ask_new("HEAD", "hd", &m);
	rsp_assert_same_head(&get, &m);
	rsp_ask(fd, "HEAD", "hf", &m);
	rsp_assert_redirect(&m, 302, "https://t.example/head-first", true, false);
	rsp_expect(fd, "hf", 302, "https://t.example/head-first", &get);
	rsp_ask(fd, "HEAD", "hf", &m);
	rsp_assert_same_head(&get, &m);
	rsp_expect(fd, "hf", 302, "https://t.example/head-first", &m);
	rsp_assert_same(&get, &m);
	close(fd);
	rsp_stop();
}
END_TEST

/* ---- 3. a status changed through the API ---- */

START_TEST(test_status_change_seen_at_next_request)
{
	static const struct {
		const char *patch;
		int status;
	} steps[] = {
	    {"{\"status\":301}", 301}, {"{\"status\":308}", 308}, {"{\"status\":302}", 302},
	    {"{\"status\":307}", 307}, {"{\"status\":303}", 303},
	};
	static struct rsp_msg m;
	const char *url = "https://t.example/status";
	int fd;

	rsp_start(_i);
	rsp_create("{\"url\":\"https://t.example/status\",\"code\":\"st\"}");
	fd = rsp_connect();
	for (int k = 0; k < 3; k++)
		rsp_expect(fd, "st", 302, url, &m);
	for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
		client_patch_link(&rsp_d, "st", steps[s].patch);
		/* The very next request, on the connection kept from before. */
		for (int k = 0; k < 3; k++)
			rsp_expect(fd, "st", steps[s].status, url, &m);
		rsp_expect(-1, "st", steps[s].status, url, &m);
	}
	close(fd);
	rsp_stop();
}
END_TEST

/* ---- 4. two links, one target ---- */

START_TEST(test_two_links_same_target_then_one_patched)
{
	static struct rsp_msg m;
	const char *u = "https://t.example/shared", *u2 = "https://t.example/shared/2";
	int fd;

	rsp_start(_i);
	rsp_create("{\"url\":\"https://t.example/shared\",\"code\":\"ta\"}");
	rsp_create("{\"url\":\"https://t.example/shared\",\"code\":\"tb\"}");
	fd = rsp_connect();
	for (int k = 0; k < 3; k++) {
		rsp_expect(fd, "ta", 302, u, &m);
		rsp_expect(fd, "tb", 302, u, &m);
	}
	client_patch_link(&rsp_d, "tb", "{\"url\":\"https://t.example/shared/2\"}");
	for (int k = 0; k < 3; k++) {
		rsp_expect(fd, "ta", 302, u, &m);
		rsp_expect(fd, "tb", 302, u2, &m);
		rsp_expect(-1, "tb", 302, u2, &m);
		rsp_expect(-1, "ta", 302, u, &m);
	}
	/* Back to the same target, then ta alone to another status. */
	client_patch_link(&rsp_d, "tb", "{\"url\":\"https://t.example/shared\"}");
	rsp_expect(fd, "tb", 302, u, &m);
	rsp_expect(fd, "ta", 302, u, &m);
	client_patch_link(&rsp_d, "ta", "{\"status\":301}");
	for (int k = 0; k < 3; k++) {
		rsp_expect(fd, "ta", 301, u, &m);
		rsp_expect(fd, "tb", 302, u, &m);
	}
	close(fd);
	rsp_stop();
}
END_TEST

/* ---- 5. forwarded queries ---- */

START_TEST(test_forward_query_each_location_its_own)
{
	static const char *const queries[] = {"x=1", "y=2&z='3'", "w=a%20b"};
	static struct rsp_msg m;
	char path[128], want[256];
	int fd;

	rsp_start(_i);
	rsp_create("{\"url\":\"https://t.example/f?a=b\",\"code\":\"fq\",\"forward_query\":true}");
	fd = rsp_connect();
	for (int round = 0; round < 3; round++) {
		for (int q = 0; q < 3; q++) {
			snprintf(path, sizeof(path), "fq?%s", queries[q]);
			snprintf(want, sizeof(want), "https://t.example/f?a=b&%s", queries[q]);
			rsp_expect(fd, path, 302, want, &m);
			rsp_expect(-1, path, 302, want, &m);
		}
		rsp_expect(fd, "fq", 302, "https://t.example/f?a=b", &m);
	}
	close(fd);
	rsp_stop();
}
END_TEST

/* ---- 6. around the 255-byte limit of a kept Location ---- */

START_TEST(test_locations_around_the_limit)
{
	static const size_t lengths[] = {256, 255, 254};
	static struct rsp_msg first, m;
	char urls[3][300], json[512], code[16];
	int fd;

	rsp_start(_i);
	for (int i = 0; i < 3; i++) {
		int n = snprintf(urls[i], sizeof(urls[i]), "https://t.example/%zu/", lengths[i]);
		memset(urls[i] + n, 'a' + i, lengths[i] - (size_t)n);
		urls[i][lengths[i]] = '\0';
		ck_assert_uint_eq(strlen(urls[i]), lengths[i]);
		snprintf(json, sizeof(json), "{\"url\":\"%s\",\"code\":\"len%zu\"}", urls[i], lengths[i]);
		rsp_create(json);
	}
	fd = rsp_connect();
	for (int i = 0; i < 3; i++) {
		snprintf(code, sizeof(code), "len%zu", lengths[i]);
		rsp_expect(fd, code, 302, urls[i], &first);
		for (int k = 1; k < 3; k++) {
			rsp_expect(fd, code, 302, urls[i], &m);
			rsp_assert_same(&first, &m);
		}
	}
	/* Interleaved, once more each. */
	for (int k = 0; k < 2; k++) {
		for (int i = 0; i < 3; i++) {
			snprintf(code, sizeof(code), "len%zu", lengths[i]);
			rsp_expect(fd, code, 302, urls[i], &m);
		}
	}
	close(fd);
	rsp_stop();
}
END_TEST

/* ---- 7. more links than slots ---- */

#define RSP_MANY 300

static const int rsp_many_status[] = {302, 301, 307, 308};

/* Links 2k and 2k+1 share a URL with different statuses. */
static void rsp_many_url(int i, char *out, size_t size)
{
	snprintf(out, size, "https://t.example/m/%03d", i / 2);
}

START_TEST(test_more_links_than_slots)
{
	static struct rsp_msg m;
	char code[16], url[64];
	int fd;

	rsp_start(_i);
	sqlfile_exec(rsp_d.db, "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 299) "
	                       "INSERT INTO links (code, url, status, created_at, updated_at) "
	                       "SELECT printf('m%03d', i), printf('https://t.example/m/%03d', i / 2), "
	                       "CASE i % 4 WHEN 0 THEN 302 WHEN 1 THEN 301 WHEN 2 THEN 307 ELSE 308 END, 1, 1 FROM n");
	ck_assert_int_eq(sqlfile_int(rsp_d.db, "SELECT count(*) FROM links"), RSP_MANY);
	fd = rsp_connect();
	for (int pass = 0; pass < 2; pass++) {
		for (int k = 0; k < RSP_MANY; k++) {
			int i = pass == 0 ? k : RSP_MANY - 1 - k;

			snprintf(code, sizeof(code), "m%03d", i);
			rsp_many_url(i, url, sizeof(url));
			rsp_expect(fd, code, rsp_many_status[i % 4], url, &m);
		}
	}
	close(fd);
	rsp_stop();
}
END_TEST

/* ---- 8. POSTs between GETs ---- */

START_TEST(test_posts_between_cached_gets)
{
	static const char post[] = "POST /p7 HTTP/1.1\r\nHost: t\r\nUser-Agent: rsp-test\r\n"
	                           "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 11\r\n\r\n"
	                           "hello=world";
	static const char expect[] = "POST /p7 HTTP/1.1\r\nHost: t\r\nUser-Agent: rsp-test\r\n"
	                             "Content-Length: 5\r\nExpect: 100-continue\r\n\r\n";
	static struct rsp_msg get, m;
	const char *url = "https://t.example/post?a=1&b=2";
	int fd, fd2;

	rsp_start(_i);
	rsp_create("{\"url\":\"https://t.example/post?a=1&b=2\",\"code\":\"p7\",\"status\":307}");
	fd = rsp_connect();
	rsp_expect(fd, "p7", 307, url, &get);
	rsp_expect(fd, "p7", 307, url, &m);
	rsp_assert_same(&get, &m);

	/* A body drained on the kept-alive connection, which serves on. */
	for (int k = 0; k < 2; k++) {
		rsp_exchange(fd, post, false, &m);
		rsp_assert_redirect(&m, 307, url, false, false);
		rsp_assert_same(&get, &m);
		rsp_expect(fd, "p7", 307, url, &m);
		rsp_assert_same(&get, &m);
	}

	/* Expect: answered before the body, with Connection: close. */
	fd2 = rsp_connect();
	rsp_expect(fd2, "p7", 307, url, &m);
	rsp_exchange(fd2, expect, false, &m);
	rsp_assert_redirect(&m, 307, url, false, true);
	ck_assert_msg(rsp_peer_closes(fd2), "the connection stayed open after Connection: close");
	close(fd2);

	/* The GETs after, on the old connection and new ones: as before. */
	rsp_expect(fd, "p7", 307, url, &m);
	rsp_assert_same(&get, &m);
	for (int k = 0; k < 3; k++) {
		rsp_expect(-1, "p7", 307, url, &m);
		rsp_assert_same(&get, &m);
	}
	/* Once more the other way round: GETs kept, Expect, GET. */
	fd2 = rsp_connect();
	rsp_exchange(fd2, expect, false, &m);
	rsp_assert_redirect(&m, 307, url, false, true);
	ck_assert(rsp_peer_closes(fd2));
	close(fd2);
	rsp_expect(fd, "p7", 307, url, &m);
	rsp_assert_same(&get, &m);

	/* An Expect as a link's first request: its closing answer is never
	 * the one the GETs after it get, nor do they close. */
	client_patch_link(&rsp_d, "p7", "{\"url\":\"https://t.example/post/2\"}");
	fd2 = rsp_connect();
	rsp_exchange(fd2, expect, false, &m);
	rsp_assert_redirect(&m, 307, "https://t.example/post/2", false, true);
	ck_assert(rsp_peer_closes(fd2));
	close(fd2);
	for (int k = 0; k < 3; k++)
		rsp_expect(fd, "p7", 307, "https://t.example/post/2", &m);
	rsp_exchange(fd, post, false, &m);
	rsp_assert_redirect(&m, 307, "https://t.example/post/2", false, false);
	rsp_expect(fd, "p7", 307, "https://t.example/post/2", &m);
	close(fd);
	rsp_stop();
}
END_TEST

/* ---- 9. many links of one page length ---- */

#define RSP_POOL_LINKS 800
#define RSP_POOL_URL_LEN 1900 /* a page of 3,942 bytes: reused up to 4,096 */
#define RSP_POOL_ANSWER 6000  /* about: the page, the Location and the rest */

/* Link i (modulo their number) of the pool cases: every URL (so every
 * page) of one length; one link in eight a 301, another kind of response. */
static void rsp_pool_link(int i, char *code, size_t code_size, char *url, int *status)
{
	int n;

	i %= RSP_POOL_LINKS;
	snprintf(code, code_size, "pl%03d", i);
	n = snprintf(url, RSP_POOL_URL_LEN + 1, "https://t.example/pool/%03d/", i);
	memset(url + n, 'a' + i % 26, RSP_POOL_URL_LEN - (size_t)n);
	url[RSP_POOL_URL_LEN] = '\0';
	*status = i % 8 == 7 ? 301 : 302;
}

/* GET (or HEAD) for link i on fd (a new connection when fd < 0), answered
 * exactly. */
static void rsp_pool_expect(int fd, const char *method, int i, struct rsp_msg *m)
{
	char code[16], url[RSP_POOL_URL_LEN + 1];
	bool head = strcmp(method, "HEAD") == 0;
	int status;

	rsp_pool_link(i, code, sizeof(code), url, &status);
	if (fd >= 0)
		rsp_ask(fd, method, code, m);
	else
		rsp_ask_new(method, code, m);
	rsp_assert_redirect(m, status, url, head, false);
}

/* A connection whose client reads a few KiB at a time, so that the daemon's
 * answers wait in its send buffer. */
static int rsp_connect_slow_reader(void)
{
	struct sockaddr_in addr;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), small = 4096;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)rsp_d.port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	return fd;
}

/* Pipelined GETs, sent by a thread of their own: once the daemon stops
 * reading them, the rest wait until the answers are read. */
struct rsp_pipeline {
	int fd;
	char *text;
	size_t len;
	int sent; /* 0 once all of it went out */
};

static void *rsp_send_pipeline(void *arg)
{
	struct rsp_pipeline *pl = arg;

	pl->sent = raw_send(pl->fd, pl->text, pl->len);
	return NULL;
}

/* Enough pipelined answers to fill the daemon's send buffer, at its
 * largest (net.ipv4.tcp_wmem), twice over. */
static int rsp_pool_pipelined(void)
{
	FILE *f = fopen("/proc/sys/net/ipv4/tcp_wmem", "r");
	long lo = 0, def = 0, max = 4194304;

	if (f != NULL) {
		if (fscanf(f, "%ld %ld %ld", &lo, &def, &max) != 3)
			max = 4194304;
		fclose(f);
	}
	return (int)((2 * max + (1 << 20)) / RSP_POOL_ANSWER);
}

/* Reads the answers to n pipelined GETs, for links 0..n-1, from fd and
 * asserts each exactly, and that nothing follows. */
static void rsp_pool_read_pipelined(int fd, int n)
{
	static char buf[4 * RSP_BUF];
	static struct rsp_msg m;
	size_t got = 0;

	for (int k = 0; k < n; k++) {
		char code[16], url[RSP_POOL_URL_LEN + 1], raw[RSP_BUF];
		const char *end, *cl;
		size_t len = 0;
		int status;

		for (;;) {
			struct pollfd p = {fd, POLLIN, 0};
			ssize_t r;

			buf[got] = '\0';
			end = strstr(buf, "\r\n\r\n");
			cl = end != NULL ? strstr(buf, "\r\nContent-Length: ") : NULL;
			if (cl != NULL && cl < end) {
				len = (size_t)(end + 4 - buf) + strtoul(cl + 18, NULL, 10);
				ck_assert_uint_lt(len, sizeof(raw));
				if (got >= len)
					break;
			}
			ck_assert_msg(got + 1 < sizeof(buf), "answer %d of %d: no end in %zu bytes", k, n, got);
			ck_assert_msg(poll(&p, 1, RSP_TIMEOUT_MS) == 1, "answer %d of %d not in", k, n);
			r = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);
			ck_assert_msg(r > 0, "connection closed before answer %d of %d", k, n);
			got += (size_t)r;
		}
		memcpy(raw, buf, len);
		raw[len] = '\0';
		rsp_take(raw, len, false, &m);
		rsp_pool_link(k, code, sizeof(code), url, &status);
		rsp_assert_redirect(&m, status, url, false, false);
		memmove(buf, buf + len, got - len);
		got -= len;
	}
	ck_assert_uint_eq(got, 0);
}

/*
 * Links whose pages are all of one length, each asked for once in a while
 * (the worker's reusable responses serve those), each answered with its
 * own bytes. A client sends enough GETs to fill the daemon's send buffer
 * and reads none of the answers yet, so that one waits half sent; other
 * links of the same kinds are asked for meanwhile on a kept connection and
 * on new ones, with HEADs; then the client reads its answers, and every
 * link is asked for once more.
 */
START_TEST(test_links_of_one_page_length_each_get_their_own_bytes)
{
	static struct rsp_msg m;
	struct rsp_pipeline pl = {.sent = -1};
	int n = rsp_pool_pipelined(), fd;
	pthread_t sender;
	char sql[1024];

	rsp_start(_i);
	snprintf(sql, sizeof(sql),
	         "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < %d) "
	         "INSERT INTO links (code, url, status, created_at, updated_at) "
	         "SELECT printf('pl%%03d', i), substr(printf('https://t.example/pool/%%03d/', i) || "
	         "replace(hex(zeroblob(%d)), '00', char(97 + i %% 26)), 1, %d), "
	         "CASE i %% 8 WHEN 7 THEN 301 ELSE 302 END, 1, 1 FROM n",
	         RSP_POOL_LINKS - 1, RSP_POOL_URL_LEN, RSP_POOL_URL_LEN);
	sqlfile_exec(rsp_d.db, sql);
	ck_assert_int_eq(sqlfile_int(rsp_d.db, "SELECT count(*) FROM links"), RSP_POOL_LINKS);

	pl.fd = rsp_connect_slow_reader();
	pl.text = malloc((size_t)n * 64);
	ck_assert_ptr_nonnull(pl.text);
	pl.len = 0;
	for (int k = 0; k < n; k++)
		pl.len +=
		    (size_t)sprintf(pl.text + pl.len, "GET /pl%03d HTTP/1.1\r\nHost: t\r\nUser-Agent: rsp-test\r\n\r\n",
		                    k % RSP_POOL_LINKS);
	ck_assert_int_eq(pthread_create(&sender, NULL, rsp_send_pipeline, &pl), 0);
	/* One of its answers waits, unsent: in flight (with /metrics' own). */
	for (int waited = 0; metric_value(NULL, rsp_d.base, "shortd_requests_in_flight") < 2 && waited < 5000;
	     waited += 10)
		pause_ms(10);
	ck_assert_int_eq(metric_value(NULL, rsp_d.base, "shortd_requests_in_flight"), 2);

	fd = rsp_connect();
	for (int i = 0; i < RSP_POOL_LINKS; i += 3) {
		rsp_pool_expect(fd, "GET", i, &m);
		rsp_pool_expect(-1, "GET", i + 1, &m);
		rsp_pool_expect(fd, "HEAD", i + 2, &m);
	}
	ck_assert_int_eq(metric_value(NULL, rsp_d.base, "shortd_requests_in_flight"), 2);

	rsp_pool_read_pipelined(pl.fd, n);
	ck_assert_int_eq(pthread_join(sender, NULL), 0);
	ck_assert_int_eq(pl.sent, 0);
	close(pl.fd);
	free(pl.text);
	for (int i = 0; i < RSP_POOL_LINKS; i++)
		rsp_pool_expect(fd, "GET", i, &m);
	close(fd);
	rsp_stop();
}
END_TEST

Suite *resp_reuse_suite(void)
{
	Suite *s = suite_create("resp_reuse");
	TCase *tc = tcase_create("resp_reuse");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_repeats_are_byte_identical, 0, RSP_NCONFIGS);
	tcase_add_loop_test(tc, test_head_after_cached_gets_has_no_body, 0, RSP_NCONFIGS);
	tcase_add_loop_test(tc, test_status_change_seen_at_next_request, 0, RSP_NCONFIGS);
	tcase_add_loop_test(tc, test_two_links_same_target_then_one_patched, 0, RSP_NCONFIGS);
	tcase_add_loop_test(tc, test_forward_query_each_location_its_own, 0, RSP_NCONFIGS);
	tcase_add_loop_test(tc, test_locations_around_the_limit, 0, RSP_NCONFIGS);
	tcase_add_loop_test(tc, test_more_links_than_slots, 0, RSP_NCONFIGS);
	tcase_add_loop_test(tc, test_posts_between_cached_gets, 0, RSP_NCONFIGS);
	tcase_add_loop_test(tc, test_links_of_one_page_length_each_get_their_own_bytes, 0, RSP_NCONFIGS);
	suite_add_tcase(s, tc);
	return s;
}
