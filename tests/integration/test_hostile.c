/*
 * Hostile HTTP against the real daemon on loopback: slow clients and their
 * deadlines, an oversized header block, request smuggling, a body that never
 * ends, a client that never reads, and the connection limits and idle
 * timeout (slowloris at scale is in tests/load). Each test checks that the daemon keeps serving
 * redirects correctly during and after the attack.
 *
 * The smuggling rows are data: raw bytes, the status the first response must
 * have, and whether the connection must close. A row's "smuggled" request is
 * GET /smug, a link of its own: its Location must never appear.
 *
 * So are the requests refused before any route acts on them (a NUL that
 * would cut the path, a missing or second Host, targets and methods no link
 * answers) and the odd ones served (absolute-form, HTTP/1.0): each gets
 * exactly one well-formed response, and a refused one leaves every link and
 * every click count as it was.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "harness.h"

#define TARGET "https://t.example/p"
#define TOKEN "hostile-admin-token-0123456789abcdef"
#define SMUG_TARGET "https://t.example/smuggled"

/* ---- helpers ---- */

/* The links of start(). */
static const struct fixture_link links[] = {
    {TARGET, "abc", 0, NULL},
    {SMUG_TARGET, "smug", 0, NULL},
    {NULL, NULL, 0, NULL},
};

/* A fresh database with the links abc -> TARGET and smug -> SMUG_TARGET,
 * then the daemon with the given extra flags. */
static void start(struct daemon *d, const char *const *args)
{
	fixture_start(d, links, args, NULL);
}

static void stop(struct daemon *d)
{
	ck_assert(daemon_is_running(d));
	ck_assert_int_eq(daemon_stop(d), 0);
	daemon_cleanup(d);
}

/* A connection to 127.0.0.1:port from the given loopback source address. */
static int connect_from(const char *source, unsigned port)
{
	struct sockaddr_in src, dst;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	memset(&src, 0, sizeof(src));
	src.sin_family = AF_INET;
	ck_assert_int_eq(inet_pton(AF_INET, source, &src.sin_addr), 1);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&src, sizeof(src)), 0);
	memset(&dst, 0, sizeof(dst));
	dst.sin_family = AF_INET;
	dst.sin_port = htons((uint16_t)port);
	dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&dst, sizeof(dst)), 0);
	return fd;
}

/* True when the peer closes (or resets) fd within timeout_ms; data that
 * arrives first is read and dropped. */
static bool closed_by_peer(int fd, int timeout_ms)
{
	char buf[4096];

	for (int waited = 0; waited < timeout_ms; waited += 50) {
		struct pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, 50) > 0) {
			ssize_t n = recv(fd, buf, sizeof(buf), 0);
			if (n == 0 || (n < 0 && errno == ECONNRESET))
				return true;
		}
	}
	return false;
}

/* One request on a fresh connection from source; the response's status, or
 * 0 when the connection was closed without one. */
static int status_from(const char *source, unsigned port)
{
	static const char req[] = "GET /abc HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	char resp[2048];
	int fd = connect_from(source, port), status = 0;
	long n;

	send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL);
	n = raw_read_response(fd, resp, sizeof(resp), 5000);
	if (n > 12 && strncmp(resp, "HTTP/1.1 ", 9) == 0)
		status = atoi(resp + 9);
	close(fd);
	return status;
}

/* ---- slow clients: deadlines ----
 *
 * Each row is a client that sends its request in parts, a pause before
 * each, on a daemon with --header-timeout 1 and --body-min-rate 100 (and
 * --timeout 30, so the idle timeout never decides). A trickler must be
 * closed unanswered within [1 s, 4 s]; a client whose request completes in
 * time must get every answer, whatever its parts' pace.
 */

#define TRICKLE_PARTS 40
#define B10 "bbbbbbbbbb"
#define B100 B10 B10 B10 B10 B10 B10 B10 B10 B10 B10

static const struct {
	const char *name;
	const char *head; /* sent at once */
	const char *part; /* then sent parts times, pause_ms before each */
	int parts;
	int pause_ms;
	const char *tail; /* then sent at once; may be NULL */
	int answers;      /* 302s it must get */
	bool closes;      /* then closed unanswered, 1 to 4 s after it started */
} trickle[] = {
    {"headers, a byte at a time", "GET /abc HTTP/1.1\r\nHost: x\r\n", "X", TRICKLE_PARTS, 150, NULL, 0, true},
    {"a header line at a time", "GET /abc HTTP/1.1\r\n", "X-Slow: 1\r\n", TRICKLE_PARTS, 150, NULL, 0, true},
    {"the request line, a byte at a time", "G", "E", TRICKLE_PARTS, 150, NULL, 0, true},
    {"a body at 10 bytes/s", "POST /abc HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n", "b", TRICKLE_PARTS, 100,
     NULL, 0, true},
    {"the next request on a kept-alive connection",
     "GET /abc HTTP/1.1\r\nHost: x\r\n\r\nGET /abc HTTP/1.1\r\nHost: x\r\n", "X", TRICKLE_PARTS, 150, NULL, 1, true},
    {"headers in three parts within the deadline", "GET /abc HTTP/1.1\r\n", "Host: x\r\n", 1, 300, "\r\n", 1, false},
    {"a body over 3 s at 1,000 bytes/s", "POST /abc HTTP/1.1\r\nHost: x\r\nContent-Length: 3000\r\n\r\n", B100, 30, 100,
     NULL, 1, false},
    {"kept alive and idle past the header deadline", "GET /abc HTTP/1.1\r\nHost: x\r\n\r\n",
     "GET /abc HTTP/1.1\r\nHost: x\r\n\r\n", 2, 1500, NULL, 3, false},
};

/* Reads what the connection has received so far, without waiting, onto
 * acc; true when the peer closed (or reset) it. */
static bool drain_answers(int fd, char *acc, size_t accsize, size_t *acclen)
{
	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		ssize_t n;
		if (poll(&p, 1, 0) <= 0)
			return false;
		n = recv(fd, acc + *acclen, accsize - 1 - *acclen, 0);
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return true;
		if (n < 0)
			return false;
		*acclen += (size_t)n;
		acc[*acclen] = '\0';
	}
}

static int count_302(const char *acc)
{
	int n = 0;

	for (const char *p = strstr(acc, "HTTP/1.1 302 "); p != NULL; p = strstr(p + 1, "HTTP/1.1 302 "))
		n++;
	return n;
}

START_TEST(test_slow_client_meets_its_deadline)
{
	static char acc[65536];
	struct daemon d;
	size_t acclen = 0;
	int64_t t0, elapsed;
	bool closed = false;
	int fd;

	start(&d, (const char *const[]){"--header-timeout", "1", "--body-min-rate", "100", "--timeout", "30", NULL});
	acc[0] = '\0';
	fd = raw_connect(d.port);
	ck_assert_int_ge(fd, 0);
	t0 = now_ms();
	ck_assert_int_eq(raw_send(fd, trickle[_i].head, strlen(trickle[_i].head)), 0);
	for (int k = 0; k < trickle[_i].parts && !closed; k++) {
		pause_ms(trickle[_i].pause_ms);
		closed = drain_answers(fd, acc, sizeof(acc), &acclen) ||
		         raw_send(fd, trickle[_i].part, strlen(trickle[_i].part)) != 0;
	}
	if (!closed && trickle[_i].tail != NULL)
		closed = raw_send(fd, trickle[_i].tail, strlen(trickle[_i].tail)) != 0;
	for (int waited = 0; !closed && count_302(acc) < trickle[_i].answers && waited < 5000; waited += 50) {
		pause_ms(50);
		closed = drain_answers(fd, acc, sizeof(acc), &acclen);
	}
	ck_assert_msg(count_302(acc) == trickle[_i].answers, "%s: %d answers of %d, %s", trickle[_i].name,
	              count_302(acc), trickle[_i].answers, closed ? "closed" : "open");
	if (trickle[_i].closes) {
		closed = closed || closed_by_peer(fd, 4000);
		elapsed = now_ms() - t0;
		ck_assert_msg(closed, "%s: still open after %lld ms", trickle[_i].name, (long long)elapsed);
		ck_assert_msg(elapsed >= 900 && elapsed <= 4000, "%s: closed after %lld ms", trickle[_i].name,
		              (long long)elapsed);
		drain_answers(fd, acc, sizeof(acc), &acclen);
		ck_assert_msg(count_302(acc) == trickle[_i].answers, "%s: answered past its deadline",
		              trickle[_i].name);
	} else {
		ck_assert_msg(!closed && !closed_by_peer(fd, 200), "%s: closed after its answers", trickle[_i].name);
	}
	close(fd);
	assert_redirects_to(&d, "abc", TARGET);
	stop(&d);
}
END_TEST

/* ---- header block over the limit ---- */

START_TEST(test_header_block_over_limit_is_refused)
{
	struct daemon d;
	size_t cap = 200 * 1024, n = 0;
	char *req = malloc(cap), resp[4096];
	bool closed;

	ck_assert_ptr_nonnull(req);
	start(&d, NULL);
	n += (size_t)snprintf(req + n, cap - n, "GET /abc HTTP/1.1\r\nHost: x\r\n");
	for (int i = 0; i < 128; i++) {
		n += (size_t)snprintf(req + n, cap - n, "X-Filler-%d: ", i);
		memset(req + n, 'a', 1000);
		n += 1000;
		n += (size_t)snprintf(req + n, cap - n, "\r\n");
	}
	n += (size_t)snprintf(req + n, cap - n, "\r\n");
	ck_assert_int_gt(raw_request_ex(d.port, req, n, resp, sizeof(resp), 5000, &closed), 0);
	ck_assert_msg(strncmp(resp, "HTTP/1.1 431 ", 13) == 0 || strncmp(resp, "HTTP/1.1 400 ", 13) == 0, "got: %.60s",
	              resp);
	ck_assert(closed);
	ck_assert_ptr_null(strstr(resp, "Location:"));
	free(req);
	assert_redirects_to(&d, "abc", TARGET);
	stop(&d);
}
END_TEST

/* ---- request smuggling ---- */

#define SMUG "GET /smug HTTP/1.1\r\nHost: x\r\n\r\n" /* 32 bytes */

static const struct {
	const char *name;
	const char *raw;
	const char *status_line; /* of the only response */
} smuggling[] = {
    {"Content-Length with Transfer-Encoding",
     "POST /abc HTTP/1.1\r\nHost: x\r\nContent-Length: 37\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" SMUG,
     "HTTP/1.1 400 "},
    {"Transfer-Encoding with Content-Length",
     "POST /abc HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n" SMUG,
     "HTTP/1.1 400 "},
    {"two different Content-Lengths",
     "POST /abc HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 32\r\n\r\n" SMUG, "HTTP/1.1 400 "},
    {"two equal Content-Lengths",
     "POST /abc HTTP/1.1\r\nHost: x\r\nContent-Length: 32\r\nContent-Length: 32\r\n\r\n" SMUG, "HTTP/1.1 400 "},
    {"Content-Length list", "POST /abc HTTP/1.1\r\nHost: x\r\nContent-Length: 32, 0\r\n\r\n" SMUG, "HTTP/1.1 400 "},
    {"Content-Length with a sign", "POST /abc HTTP/1.1\r\nHost: x\r\nContent-Length: +32\r\n\r\n" SMUG,
     "HTTP/1.1 400 "},
    {"space before the colon", "POST /abc HTTP/1.1\r\nHost: x\r\nContent-Length : 32\r\n\r\n" SMUG, "HTTP/1.1 400 "},
    {"two Transfer-Encodings",
     "POST /abc HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n"
     "0\r\n\r\n" SMUG,
     "HTTP/1.1 400 "},
    /* RFC 9112 6.1's 501 is shortd's; libmicrohttpd 1.0 answers 400 first. */
    {"unknown transfer coding",
     "POST /abc HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n" SMUG,
     HARNESS_MHD_REFUSES_ITSELF ? "HTTP/1.1 400 " : "HTTP/1.1 501 "},
#if MHD_VERSION != 0x00097700 /* see test_obs_fold_is_joined_by_0_9_77 */
    {"obs-fold", "GET /abc HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n" SMUG, "HTTP/1.1 400 "},
    {"obs-fold with a tab", "GET /abc HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n\tb\r\n\r\n" SMUG, "HTTP/1.1 400 "},
#endif
    {"obs-fold hides Transfer-Encoding",
     "POST /abc HTTP/1.1\r\nHost: x\r\nContent-Length: 37\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n" SMUG,
     "HTTP/1.1 400 "},
    /* libmicrohttpd 0.9.75 alone would take Content-Length: 0 and serve /smug. */
    {"obs-fold hides a second Content-Length",
     "POST /abc HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length:\r\n 32\r\n\r\n" SMUG, "HTTP/1.1 400 "},
    {"bare LF line ends", "GET /abc HTTP/1.1\nHost: x\n\n" SMUG, "HTTP/1.1 400 "},
    {"bare LF after a header", "GET /abc HTTP/1.1\r\nHost: x\nAccept: */*\r\n\r\n" SMUG, "HTTP/1.1 400 "},
    {"bare LF hides Transfer-Encoding",
     "POST /abc HTTP/1.1\r\nHost: x\nTransfer-Encoding: chunked\r\nContent-Length: 37\r\n\r\n0\r\n\r\n" SMUG,
     "HTTP/1.1 400 "},
    /* A proxy that splits lines only at CRLF sees no Content-Length here and
     * would pass GET /smug on as a request of its own. */
    {"bare LF hides Content-Length", "POST /abc HTTP/1.1\r\nHost: x\nContent-Length: 32\r\n\r\n" SMUG, "HTTP/1.1 400 "},
};

START_TEST(test_smuggling_is_refused)
{
	const char *raw = smuggling[_i].raw, *line = smuggling[_i].status_line;
	struct daemon d;
	char resp[8192];
	bool closed;
	long n;

	start(&d, NULL);
	n = raw_request_ex(d.port, raw, strlen(raw), resp, sizeof(resp), 5000, &closed);
	ck_assert_msg(n > 0, "%s: no response", smuggling[_i].name);
	ck_assert_msg(strncmp(resp, line, strlen(line)) == 0, "%s: got %.40s", smuggling[_i].name, resp);
	ck_assert_msg(strstr(resp, SMUG_TARGET) == NULL, "%s: the smuggled request was served", smuggling[_i].name);
	ck_assert_msg(strstr(resp, "Location:") == NULL, "%s: a redirect was served", smuggling[_i].name);
	/* One refusal, then the connection closes. (libmicrohttpd 0.9.75 sends
	 * the header block of its own 400 for a bad Content-Length twice, so
	 * every status line is checked rather than counted.) */
	ck_assert_msg(closed, "%s: the connection stayed open", smuggling[_i].name);
	for (const char *p = strstr(resp + 1, "HTTP/1.1 "); p != NULL; p = strstr(p + 1, "HTTP/1.1 "))
		ck_assert_msg(strncmp(p, line, strlen(line)) == 0, "%s: a second response: %.40s", smuggling[_i].name,
		              p);
	assert_redirects_to(&d, "abc", TARGET);
	stop(&d);
}
END_TEST

#if MHD_VERSION == 0x00097700
/* libmicrohttpd 0.9.77 (Ubuntu 24.04) replaces an obs-fold with spaces in the
 * field's value, as RFC 9112 5.2 allows, so there a folded header frames
 * nothing differently: the request is answered, the connection kept, and the
 * next request on it is a request of its own. */
START_TEST(test_obs_fold_is_joined_by_0_9_77)
{
	static const char raw[] = "GET /abc HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n" SMUG;
	struct daemon d;
	char resp[8192];
	const char *second;
	bool closed;

	start(&d, NULL);
	ck_assert_int_gt(raw_request_ex(d.port, raw, strlen(raw), resp, sizeof(resp), 1000, &closed), 0);
	ck_assert_msg(strncmp(resp, "HTTP/1.1 302 ", 13) == 0, "got %.40s", resp);
	ck_assert_ptr_nonnull(strstr(resp, "Location: " TARGET "\r\n"));
	second = strstr(resp + 1, "HTTP/1.1 ");
	ck_assert_msg(second != NULL && strncmp(second, "HTTP/1.1 302 ", 13) == 0, "no answer to /smug: %s", resp);
	ck_assert_ptr_nonnull(strstr(second, "Location: " SMUG_TARGET "\r\n"));
	ck_assert(!closed);
	stop(&d);
}
END_TEST
#endif

/* ---- requests refused before any route, and requests served ---- */

/* Checks that resp[0..n) is one response, whole: a status line starting
 * with line, headers, and exactly Content-Length bytes of body after them. */
static void assert_one_response(const char *name, const char *resp, long n, const char *line)
{
	const char *end = strstr(resp, "\r\n\r\n"), *cl;

	ck_assert_msg(n > 0, "%s: no response", name);
	ck_assert_msg(strncmp(resp, line, strlen(line)) == 0, "%s: got %.60s", name, resp);
	ck_assert_msg(end != NULL, "%s: no end of the header block: %.200s", name, resp);
	cl = strcasestr(resp, "\r\nContent-Length: ");
	ck_assert_msg(cl != NULL && cl < end, "%s: no Content-Length: %.200s", name, resp);
	ck_assert_msg((size_t)n == (size_t)(end + 4 - resp) + strtoul(cl + 18, NULL, 10),
	              "%s: %ld bytes are not one response: %.400s", name, n, resp);
}

/* What libmicrohttpd 1.0 (MHD_OPTION_CLIENT_DISCIPLINE_LVL 1) does with a
 * refused row before shortd sees it. No option lets shortd answer these
 * itself there: the README's libmicrohttpd versions table lists them. */
enum mhd1_refusal {
	MHD1_PASSES, /* nothing: shortd refuses it, as before 1.0 */
	MHD1_PAGE,   /* its own 400 with its HTML page (empty without messages), and closes */
	MHD1_CLOSES, /* closes the connection without an answer */
};

#define ROW(name, raw, status_line)                                                                                    \
	{                                                                                                              \
		name, raw, sizeof(raw) - 1, status_line, MHD1_PASSES                                                   \
	}
#define ROW_MHD1(name, raw, status_line, mhd1)                                                                         \
	{                                                                                                              \
		name, raw, sizeof(raw) - 1, status_line, mhd1                                                          \
	}
#define API_AUTH "Host: x\r\nAuthorization: Bearer " TOKEN "\r\n"
#define PATCH_BODY "{\"url\":\"https://changed.example/\"}"

struct raw_row {
	const char *name;
	const char *raw; /* may hold NULs */
	size_t len;
	const char *status_line; /* of the only response */
	enum mhd1_refusal mhd1;
};

static const struct raw_row refused[] = {
    ROW("%00 in a DELETE's path", "DELETE /api/v1/links/victim%00/stats HTTP/1.1\r\n" API_AUTH "\r\n", "HTTP/1.1 400 "),
    ROW("%00 in a PATCH's path",
        "PATCH /api/v1/links/v2%00zzz HTTP/1.1\r\n" API_AUTH "Content-Type: application/json\r\n"
        "Content-Length: 34\r\n\r\n" PATCH_BODY,
        "HTTP/1.1 400 "),
    ROW("%00 in a short link's path", "GET /abc%00zzz HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 400 "),
    ROW("%00 ending a short link's path", "GET /abc%00 HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 400 "),
    ROW("%00 in an absolute-form path", "GET http://h.example/abc%00zzz HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 400 "),
    ROW_MHD1("NUL in a short link's path", "GET /abc\0zzz HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 400 ", MHD1_CLOSES),
    ROW_MHD1("NUL in a DELETE's path", "DELETE /api/v1/links/victim\0/stats HTTP/1.1\r\n" API_AUTH "\r\n",
             "HTTP/1.1 400 ", MHD1_CLOSES),
    ROW_MHD1("NUL in a forwarded query", "GET /fq?x=1\0y HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 400 ", MHD1_CLOSES),
    ROW_MHD1("NUL in the method", "GE\0T /abc HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 400 ", MHD1_CLOSES),
    ROW_MHD1("NUL ending the method", "DELETE\0 /api/v1/links/victim HTTP/1.1\r\n" API_AUTH "\r\n", "HTTP/1.1 400 ",
             MHD1_CLOSES),
    ROW_MHD1("NUL in a header value", "GET /abc HTTP/1.1\r\nX-A: a\0b\r\nHost: x\r\n\r\n", "HTTP/1.1 400 ", MHD1_PAGE),
    ROW_MHD1("NUL in the last header value", "GET /abc HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n", "HTTP/1.1 400 ",
             MHD1_PAGE),
    ROW_MHD1("NUL ending the last header value", "GET /abc HTTP/1.1\r\nHost: x\r\nX-A: a\0\r\n\r\n", "HTTP/1.1 400 ",
             MHD1_PAGE),
    ROW_MHD1("NUL in Host",
             "DELETE /api/v1/links/victim HTTP/1.1\r\nAuthorization: Bearer " TOKEN "\r\nHost: x\0y\r\n\r\n",
             "HTTP/1.1 400 ", MHD1_PAGE),
    ROW_MHD1("HTTP/1.1 without Host", "DELETE /api/v1/links/victim HTTP/1.1\r\nAuthorization: Bearer " TOKEN "\r\n\r\n",
             "HTTP/1.1 400 ", MHD1_PAGE),
    ROW("two Host headers", "GET /abc HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", "HTTP/1.1 400 "),
    ROW("two Host headers, API", "DELETE /api/v1/links/victim HTTP/1.1\r\n" API_AUTH "Host: y\r\n\r\n",
        "HTTP/1.1 400 "),
    ROW_MHD1("space before Host's colon", "GET /abc HTTP/1.1\r\nHost : x\r\n\r\n", "HTTP/1.1 400 ", MHD1_PAGE),
    ROW("a space inside Host", "GET /abc HTTP/1.1\r\nHost: x y\r\n\r\n", "HTTP/1.1 400 "),
    ROW("a path in Host",
        "DELETE /api/v1/links/victim HTTP/1.1\r\nAuthorization: Bearer " TOKEN "\r\nHost: x/api\r\n\r\n",
        "HTTP/1.1 400 "),
    ROW_MHD1("space in the target", "GET /abc x HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 400 ", MHD1_PAGE),
    ROW("OPTIONS *", "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 400 "),
    ROW("CONNECT to an authority", "CONNECT t.example:443 HTTP/1.1\r\nHost: t.example:443\r\n\r\n", "HTTP/1.1 400 "),
    ROW("CONNECT to a short link", "CONNECT /abc HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 405 "),
    ROW("TRACE to a short link", "TRACE /abc HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 405 "),
    ROW("lower-case method", "get /abc HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 501 "),
    ROW("lower-case DELETE", "delete /api/v1/links/victim HTTP/1.1\r\n" API_AUTH "\r\n", "HTTP/1.1 501 "),
    ROW("absolute-form with userinfo", "GET http://u@h.example/abc HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 400 "),
    ROW("absolute-form of another scheme", "GET ftp://h.example/abc HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 400 "),
};

/* The links of start(), plus victim, v2 and fq (forward_query), and an admin
 * token; then the daemon. */
static void start_with_api(struct daemon *d)
{
	static const char *const env[] = {"SHORTD_ADMIN_TOKEN=" TOKEN, NULL};
	static const char *const forward_query[] = {"--forward-query", NULL};
	static const struct fixture_link api_links[] = {
	    {TARGET, "abc", 0, NULL},
	    {SMUG_TARGET, "smug", 0, NULL},
	    {"https://t.example/victim", "victim", 0, NULL},
	    {"https://t.example/v2", "v2", 0, NULL},
	    {"https://t.example/fq", "fq", 0, forward_query},
	    {NULL, NULL, 0, NULL},
	};

	fixture_start(d, api_links, NULL, env);
}

START_TEST(test_refused_request_changes_nothing)
{
	const struct raw_row *row = &refused[_i];
	enum mhd1_refusal by_mhd = HARNESS_MHD_REFUSES_ITSELF ? row->mhd1 : MHD1_PASSES;
	struct daemon d;
	char resp[8192];
	const char *body;
	bool closed;
	long n;

	start_with_api(&d);
	n = raw_request_ex(d.port, row->raw, row->len, resp, sizeof(resp), 5000, &closed);
	if (by_mhd == MHD1_CLOSES)
		ck_assert_msg(n == 0, "%s: expected no answer, got: %.200s", row->name, resp);
	else
		assert_one_response(row->name, resp, n, row->status_line);
	ck_assert_msg(closed, "%s: the connection stayed open", row->name);
	ck_assert_msg(strstr(resp, "Location:") == NULL, "%s: a redirect was served", row->name);
	body = strstr(resp, "\r\n\r\n");
	/* The body is shortd's own line; libmicrohttpd 1.0's page only where
	 * it refuses the request itself. */
	if (by_mhd == MHD1_PAGE && HARNESS_MHD_PAGES)
		ck_assert_msg(body != NULL && strncmp(body + 4, "<html><head><title>", 19) == 0, "%s: %.400s",
		              row->name, resp);
	else if (by_mhd == MHD1_PAGE) /* configured with --disable-messages */
		ck_assert_msg(body != NULL && body[4] == '\0', "%s: %.400s", row->name, resp);
	else if (by_mhd == MHD1_PASSES)
		ck_assert_msg(strstr(resp, "<html>") == NULL, "%s: %.400s", row->name, resp);
	if (strncmp(row->status_line, "HTTP/1.1 405 ", 13) == 0)
		ck_assert_msg(strstr(resp, "\r\nAllow: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS\r\n") != NULL,
		              "%s: %.400s", row->name, resp);
	assert_redirects_to(&d, "abc", TARGET);
	/* Stopping writes every pending click: none may have been counted but
	 * the one assert_redirects_to() made. */
	ck_assert_int_eq(daemon_stop(&d), 0);
	ck_assert_int_eq(sqlfile_int(d.db, "SELECT count(*) FROM links"), 5);
	ck_assert_int_eq(sqlfile_int(d.db, "SELECT count(*) FROM links WHERE code = 'victim' "
	                                   "AND url = 'https://t.example/victim' AND disabled = 0"),
	                 1);
	ck_assert_int_eq(sqlfile_int(d.db, "SELECT count(*) FROM links WHERE code = 'v2' AND "
	                                   "url = 'https://t.example/v2' AND disabled = 0 AND updated_at = created_at"),
	                 1);
	ck_assert_int_eq(sqlfile_int(d.db, "SELECT sum(clicks + bot_clicks) FROM links WHERE code <> 'abc'"), 0);
	ck_assert_int_eq(sqlfile_int(d.db, "SELECT clicks + bot_clicks FROM links WHERE code = 'abc'"), 1);
	daemon_cleanup(&d);
}
END_TEST

struct served_row {
	const char *name;
	const char *raw;
	const char *status_line;
	const char *location; /* NULL: none */
};

static const struct served_row served[] = {
    {"absolute-form", "GET http://h.example/abc HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 302 ",
     "\r\nLocation: " TARGET "\r\n"},
    {"absolute-form, https, upper case, a port and a query",
     "GET HTTPS://H.EXAMPLE:8443/fq?x=1 HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 302 ",
     "\r\nLocation: https://t.example/fq?x=1\r\n"},
    {"absolute-form of the API", "GET http://h.example/api/v1/links/abc HTTP/1.1\r\n" API_AUTH "\r\n", "HTTP/1.1 200 ",
     NULL},
    {"absolute-form without a path is /", "GET http://h.example HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 404 ", NULL},
    {"HTTP/1.0 without Host", "GET /abc HTTP/1.0\r\n\r\n", "HTTP/1.1 302 ", "\r\nLocation: " TARGET "\r\n"},
    {"Host with a port, an IPv6 literal and trailing space", "GET /abc HTTP/1.1\r\nHost: [::1]:8080 \t\r\n\r\n",
     "HTTP/1.1 302 ", "\r\nLocation: " TARGET "\r\n"},
    {"empty Host", "GET /abc HTTP/1.1\r\nHost:\r\n\r\n", "HTTP/1.1 302 ", "\r\nLocation: " TARGET "\r\n"},
    {"%-encoded code", "GET /%61b%63 HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 302 ", "\r\nLocation: " TARGET "\r\n"},
    {"an unknown upper-case method", "PROPFIND /abc HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 302 ",
     "\r\nLocation: " TARGET "\r\n"},
};

START_TEST(test_odd_but_valid_request_is_served)
{
	const struct served_row *row = &served[_i];
	struct daemon d;
	char resp[8192], req[512];
	int fd;
	long n;

	start_with_api(&d);
	/* Closes after the answer, so "once" means nothing more arrived. */
	snprintf(req, sizeof(req), "%s", row->raw);
	fd = raw_connect(d.port);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(raw_send(fd, req, strlen(req)), 0);
	n = raw_read_response(fd, resp, sizeof(resp), 5000);
	assert_one_response(row->name, resp, n, row->status_line);
	if (row->location != NULL)
		ck_assert_msg(strstr(resp, row->location) != NULL, "%s: %.400s", row->name, resp);
	else
		ck_assert_msg(strstr(resp, "\r\nLocation:") == NULL, "%s: %.400s", row->name, resp);
	ck_assert_msg(!closed_by_peer(fd, 300) || strstr(row->raw, "HTTP/1.0") != NULL, "%s: the connection was closed",
	              row->name);
	close(fd);
	stop(&d);
}
END_TEST

START_TEST(test_chunked_api_body_over_limit_is_413_and_closes)
{
	static const char head[] = "POST /api/v1/links HTTP/1.1\r\n" API_AUTH "Content-Type: application/json\r\n"
	                           "Transfer-Encoding: chunked\r\n\r\n";
	size_t cap = API_BODY_MAX + 64 * 1024, n = 0, url_len = API_BODY_MAX + 6 * 1024;
	char *req = malloc(cap), resp[4096];
	struct daemon d;
	bool closed;
	long got;

	ck_assert_ptr_nonnull(req);
	start_with_api(&d);
	memcpy(req, head, sizeof(head) - 1);
	n = sizeof(head) - 1;
	n += (size_t)snprintf(req + n, cap - n, "%zx\r\n{\"url\":\"https://t.example/", url_len + 28);
	memset(req + n, 'a', url_len);
	n += url_len;
	n += (size_t)snprintf(req + n, cap - n, "\"}\r\n0\r\n\r\n");
	got = raw_request_ex(d.port, req, n, resp, sizeof(resp), 5000, &closed);
	assert_one_response("chunked over the limit", resp, got, "HTTP/1.1 413 ");
	ck_assert_msg(strstr(resp, "\"payload_too_large\"") != NULL, "%.400s", resp);
	ck_assert_msg(strstr(resp, "\r\nConnection: close\r\n") != NULL, "%.400s", resp);
	ck_assert(closed);
	free(req);
	ck_assert_int_eq(daemon_stop(&d), 0);
	ck_assert_int_eq(sqlfile_int(d.db, "SELECT count(*) FROM links"), 5);
	daemon_cleanup(&d);
}
END_TEST

/* ---- bodies and readers ---- */

START_TEST(test_endless_chunked_body_is_dropped)
{
	static const char head[] = "POST /abc HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
	char chunk[1024 + 16];
	struct timeval tv = {5, 0};
	struct daemon d;
	bool dropped = false;
	int fd, hl;

	start(&d, (const char *const[]){"--max-body", "4096", NULL});
	fd = raw_connect(d.port);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0);
	ck_assert_int_eq(raw_send(fd, head, sizeof(head) - 1), 0);
	hl = snprintf(chunk, sizeof(chunk), "400\r\n");
	memset(chunk + hl, 'b', 1024);
	memcpy(chunk + hl + 1024, "\r\n", 2);
	/* 64 MiB at most: far past --max-body and any socket buffer. */
	for (int i = 0; i < 64 * 1024 && !dropped; i++) {
		if (raw_send(fd, chunk, (size_t)hl + 1026) != 0)
			dropped = errno == EPIPE || errno == ECONNRESET;
	}
	ck_assert_msg(dropped, "the endless body was not cut off (last error: %s)", strerror(errno));
	close(fd);
	assert_redirects_to(&d, "abc", TARGET);
	stop(&d);
}
END_TEST

START_TEST(test_client_that_never_reads_does_not_block_others)
{
	static const char one[] = "GET /abc HTTP/1.1\r\nHost: x\r\n\r\n";
	char *many = malloc(20000 * (sizeof(one) - 1));
	size_t len = 0, sent = 0;
	int fd, small = 4096;
	struct daemon d;

	ck_assert_ptr_nonnull(many);
	start(&d, (const char *const[]){"--threads", "2", NULL});
	for (int i = 0; i < 20000; i++) {
		memcpy(many + len, one, sizeof(one) - 1);
		len += sizeof(one) - 1;
	}
	fd = raw_connect(d.port);
	ck_assert_int_ge(fd, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	ck_assert_int_eq(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	/* Pipeline as much as the daemon takes; its answers pile up unread. */
	for (int idle = 0; sent < len && idle < 20;) {
		ssize_t n = send(fd, many + sent, len - sent, MSG_NOSIGNAL);
		if (n > 0) {
			sent += (size_t)n;
			idle = 0;
		} else {
			ck_assert_msg(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK), "send: %s", strerror(errno));
			idle++;
			pause_ms(25);
		}
	}
	ck_assert_uint_gt(sent, 0);
	for (int i = 0; i < 20; i++)
		assert_redirects_to(&d, "abc", TARGET);
	close(fd);
	free(many);
	assert_redirects_to(&d, "abc", TARGET);
	stop(&d);
}
END_TEST

/* ---- limits ---- */

/* status_from(), tried again for up to 2 s while the connection is closed
 * unanswered: a slot is free only once the daemon has seen a close, which
 * can come after the client's next connect. */
static int status_once_free(const char *source, unsigned port)
{
	int status = 0;

	for (int tries = 0; tries < 100 && status == 0; tries++) {
		status = status_from(source, port);
		if (status == 0)
			pause_ms(20);
	}
	return status;
}

/* A connection from source sending a request body, which no new
 * connection may push out (the body's deadline is far away). */
static int connect_busy_from(const char *source, unsigned port)
{
	static const char head[] = "POST /abc HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nb";
	int fd = connect_from(source, port);

	ck_assert_int_eq(raw_send(fd, head, sizeof(head) - 1), 0);
	return fd;
}

/* Row 0: one thread, row 1: four. The limit is the daemon's total either
 * way, not one per worker thread. */
START_TEST(test_max_connections_is_honoured)
{
	int idle[4];
	struct daemon d;

	start(&d, (const char *const[]){"--threads", _i == 0 ? "1" : "4", "--max-connections", "4",
	                                "--max-connections-per-ip", "0", NULL});
	for (int i = 0; i < 4; i++)
		idle[i] = connect_busy_from("127.0.0.1", d.port);
	pause_ms(300); /* until the daemon has seen every body start */
	/* The fifth is accepted by the kernel and closed by the daemon, unanswered. */
	ck_assert_int_eq(status_from("127.0.0.1", d.port), 0);
	ck_assert_int_eq(status_from("127.0.0.2", d.port), 0);
	close(idle[0]);
	ck_assert_int_eq(status_once_free("127.0.0.1", d.port), 302);
	for (int i = 1; i < 4; i++)
		close(idle[i]);
	ck_assert_int_eq(status_once_free("127.0.0.1", d.port), 302);
	stop(&d);
}
END_TEST

/* Every slot taken by connections that wait for their headers: each new
 * connection pushes out the one that has waited longest, and is served. */
START_TEST(test_full_daemon_pushes_out_the_oldest_waiting)
{
	static const char partial[] = "GET /abc HTTP/1.1\r\nHost: x\r\n";
	int waiting[4];
	struct daemon d;

	start(&d, (const char *const[]){"--max-connections", "4", "--max-connections-per-ip", "0", NULL});
	for (int i = 0; i < 4; i++) {
		waiting[i] = raw_connect(d.port);
		ck_assert_int_ge(waiting[i], 0);
		ck_assert_int_eq(raw_send(waiting[i], partial, sizeof(partial) - 1), 0);
		pause_ms(300);
	}
	ck_assert_int_eq(status_from("127.0.0.2", d.port), 302);
	ck_assert(closed_by_peer(waiting[0], 2000));
	/* It comes back, newest now; the next new client pushes out the
	 * next oldest. */
	close(waiting[0]);
	waiting[0] = raw_connect(d.port);
	ck_assert_int_ge(waiting[0], 0);
	ck_assert_int_eq(raw_send(waiting[0], partial, sizeof(partial) - 1), 0);
	pause_ms(300);
	ck_assert_int_eq(status_from("127.0.0.3", d.port), 302);
	ck_assert(closed_by_peer(waiting[1], 2000));
	for (int i = 2; i < 4; i++)
		ck_assert_msg(!closed_by_peer(waiting[i], 200), "connection %d was pushed out before older ones", i);
	ck_assert_msg(!closed_by_peer(waiting[0], 200), "the newest waiting connection was pushed out");
	for (int i = 0; i < 4; i++)
		close(waiting[i]);
	stop(&d);
}
END_TEST

/* --trusted-proxy: its connections do not count against its address's
 * limit; other addresses keep theirs. */
START_TEST(test_trusted_proxy_is_exempt_from_the_per_ip_limit)
{
	int proxy[6], other[2];
	struct daemon d;

	start(&d, (const char *const[]){"--max-connections-per-ip", "2", "--trusted-proxy", "127.0.0.4/31", NULL});
	for (int i = 0; i < 6; i++)
		proxy[i] = connect_busy_from("127.0.0.5", d.port);
	ck_assert_int_eq(status_from("127.0.0.5", d.port), 302);
	for (int i = 0; i < 2; i++)
		other[i] = connect_busy_from("127.0.0.6", d.port);
	/* Until the daemon has taken both: each worker accepts from its own
	 * socket, so a later connection may be taken before an earlier one
	 * that waits in another worker's backlog. */
	pause_ms(300);
	ck_assert_int_eq(status_from("127.0.0.6", d.port), 0);
	for (int i = 0; i < 6; i++)
		close(proxy[i]);
	for (int i = 0; i < 2; i++)
		close(other[i]);
	stop(&d);
}
END_TEST

/* The soft limit on descriptors of the daemon's process, from /proc. */
static unsigned long nofile_of(pid_t pid)
{
	char path[64], line[256];
	unsigned long soft = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/limits", (int)pid);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "Max open files", 14) == 0)
			soft = strtoul(line + 14, NULL, 10);
	}
	fclose(f);
	return soft;
}

/* Started with a soft limit on descriptors below what --max-connections
 * needs, serve raises it (3 x 500 + 16 x 2 + 64), so that the workers'
 * accept() does not run out before admission does. */
START_TEST(test_descriptor_limit_is_raised_to_fit)
{
	struct rlimit saved, low;
	struct daemon d;

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &saved), 0);
	ck_assert(saved.rlim_max == RLIM_INFINITY || saved.rlim_max >= 1596);
	low = saved;
	low.rlim_cur = 256;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
	start(&d, (const char *const[]){"--threads", "2", "--max-connections", "500", NULL});
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &saved), 0);
	ck_assert_uint_eq(nofile_of(d.pid), 1596);
	ck_assert_int_eq(status_from("127.0.0.1", d.port), 302);
	stop(&d);
}
END_TEST

START_TEST(test_max_connections_per_ip_is_honoured)
{
	int idle[3];
	struct daemon d;

	start(&d, (const char *const[]){"--max-connections-per-ip", "3", NULL});
	for (int i = 0; i < 3; i++)
		idle[i] = connect_from("127.0.0.1", d.port);
	pause_ms(300); /* until the daemon has taken all three (see above) */
	/* A fourth from 127.0.0.1 is closed unanswered; another address is served. */
	ck_assert_int_eq(status_from("127.0.0.1", d.port), 0);
	ck_assert_int_eq(status_from("127.0.0.2", d.port), 302);
	close(idle[0]);
	ck_assert_int_eq(status_once_free("127.0.0.1", d.port), 302);
	for (int i = 1; i < 3; i++)
		close(idle[i]);
	stop(&d);
}
END_TEST

START_TEST(test_idle_timeout_closes_connections)
{
	static const char partial[] = "GET /abc HTTP/1.1\r\nHost: x\r\n";
	static const char full[] = "GET /abc HTTP/1.1\r\nHost: x\r\n\r\n";
	char resp[2048];
	struct daemon d;
	int silent, slow, kept;

	start(&d, (const char *const[]){"--timeout", "1", NULL});
	silent = raw_connect(d.port);
	slow = raw_connect(d.port);
	kept = raw_connect(d.port);
	ck_assert(silent >= 0 && slow >= 0 && kept >= 0);
	ck_assert_int_eq(raw_send(slow, partial, sizeof(partial) - 1), 0);
	/* A keep-alive connection is answered, then closed once idle. */
	ck_assert_int_eq(raw_send(kept, full, sizeof(full) - 1), 0);
	ck_assert_int_gt(raw_read_response(kept, resp, sizeof(resp), 5000), 0);
	ck_assert_msg(strncmp(resp, "HTTP/1.1 302 ", 13) == 0, "got %.40s", resp);
	ck_assert(closed_by_peer(silent, 10000));
	ck_assert(closed_by_peer(slow, 10000));
	ck_assert(closed_by_peer(kept, 10000));
	close(silent);
	close(slow);
	close(kept);
	assert_redirects_to(&d, "abc", TARGET);
	stop(&d);
}
END_TEST

Suite *hostile_suite(void)
{
	Suite *s = suite_create("hostile");
	TCase *tc;

	tc = tcase_create("connections");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_client_that_never_reads_does_not_block_others);
	tcase_add_loop_test(tc, test_max_connections_is_honoured, 0, 2);
	tcase_add_test(tc, test_max_connections_per_ip_is_honoured);
	tcase_add_test(tc, test_descriptor_limit_is_raised_to_fit);
	tcase_add_test(tc, test_full_daemon_pushes_out_the_oldest_waiting);
	tcase_add_test(tc, test_trusted_proxy_is_exempt_from_the_per_ip_limit);
	tcase_add_test(tc, test_idle_timeout_closes_connections);
	suite_add_tcase(s, tc);

	tc = tcase_create("deadlines");
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_slow_client_meets_its_deadline, 0, (int)(sizeof(trickle) / sizeof(trickle[0])));
	suite_add_tcase(s, tc);

	tc = tcase_create("requests");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_header_block_over_limit_is_refused);
	tcase_add_loop_test(tc, test_smuggling_is_refused, 0, (int)(sizeof(smuggling) / sizeof(smuggling[0])));
#if MHD_VERSION == 0x00097700
	tcase_add_test(tc, test_obs_fold_is_joined_by_0_9_77);
#endif
	tcase_add_test(tc, test_endless_chunked_body_is_dropped);
	tcase_add_loop_test(tc, test_refused_request_changes_nothing, 0, (int)(sizeof(refused) / sizeof(refused[0])));
	tcase_add_loop_test(tc, test_odd_but_valid_request_is_served, 0, (int)(sizeof(served) / sizeof(served[0])));
	tcase_add_test(tc, test_chunked_api_body_over_limit_is_413_and_closes);
	suite_add_tcase(s, tc);
	return s;
}
