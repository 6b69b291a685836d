/*
 * Fuzzes the request router from the raw request-target on:
 * http_target_parse(), which http_server.c runs on the target libmicrohttpd shows
 * it, then the two handlers that act on a code, redirect_handle() for
 * /{code} and api_handle() for /api/v1/links/{code}, against a real store
 * holding the links "abc" and "abc-1". Input: the raw target, any bytes.
 *
 * Invariants: a target with a control byte, a space, DEL or a NUL is
 * refused; an accepted path is exactly what libmicrohttpd's own
 * MHD_http_unescape() makes of the target's path part (the driver finds that
 * part itself), holds no NUL, and a path whose decoding would hold one is
 * refused; the query is the raw bytes after the first '?'. A redirect is
 * answered only when the decoded path is "/" followed by a stored code, whole;
 * the API answers 200 only for a stored code that is the whole segment, and
 * the Link it returns is that code's (or its stats, or its QR code), or for
 * /api/v1/links/export, the export stream.
 */
#include <microhttpd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api_fixture.h"
#include "fuzz.h"
#include "redirect.h"

#define PATH_SIZE 256

static struct redirect_ctx *redirect;

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const codes[] = {"abc", "abc-1"};

	(void)argc;
	(void)argv;
	fixture_init();
	if (redirect_ctx_new(&fx.cfg, fx.store, NULL, &redirect) != 0)
		abort();
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		char body[96];
		int status, n = snprintf(body, sizeof(body), "{\"url\":\"https://fuzz.example/%zu\",\"code\":\"%s\"}",
		                         i, codes[i]);
		json_decref(api_call("POST", "/api/v1/links", NULL, body, (size_t)n, &status));
		FUZZ_CHECK(status == 201);
	}
	return 0;
}

static int is_stored(const char *s, size_t n)
{
	return (n == 3 && memcmp(s, "abc", 3) == 0) || (n == 5 && memcmp(s, "abc-1", 5) == 0);
}

/* Where the path part starts in an absolute-form target, found without
 * http.c: after "http://" or "https://" and a host with no '@'. */
static const uint8_t *absolute_path_start(const uint8_t *d, size_t n)
{
	size_t at;

	if (n >= 7 && strncasecmp((const char *)d, "http://", 7) == 0)
		at = 7;
	else if (n >= 8 && strncasecmp((const char *)d, "https://", 8) == 0)
		at = 8;
	else
		return NULL;
	if (at == n || d[at] == '/' || d[at] == '?')
		return NULL; /* no host */
	for (; at < n && d[at] != '/' && d[at] != '?'; at++) {
		if (d[at] == '@')
			return NULL;
	}
	return d + at;
}

static void check_redirect(const struct http_target *t)
{
	struct http_request req = {0};
	struct http_response *resp = fx.resp;

	req.method_name = "HEAD";
	req.method = HTTP_HEAD;
	req.path = t->path;
	req.now = 1764000000;
	http_response_init(resp);
	redirect_handle(redirect, &req, resp);
	if (resp->status >= 300 && resp->status < 400)
		FUZZ_CHECK(t->path[0] == '/' && is_stored(t->path + 1, t->path_len - 1));
}

static void check_api(const struct http_target *t)
{
	static const char prefix[] = "/api/v1/links/";
	const size_t plen = sizeof(prefix) - 1;
	const char *seg = t->path + plen, *slash;
	size_t seg_len;
	int status;
	json_t *j;

	if (t->path_len <= plen || memcmp(t->path, prefix, plen) != 0)
		return;
	slash = memchr(seg, '/', t->path_len - plen);
	seg_len = slash != NULL ? (size_t)(slash - seg) : t->path_len - plen;
	j = api_call("GET", t->path, NULL, NULL, 0, &status);
	if (status == 200 && t->path_len == plen + 6 && memcmp(seg, "export", 6) == 0) {
		FUZZ_CHECK(j == NULL); /* the export stream, not a link */
	} else if (status == 200) {
		const char *code = json_string_value(json_object_get(j, "code"));
		size_t tail = t->path_len - plen - seg_len;

		FUZZ_CHECK(is_stored(seg, seg_len));
		if (slash == NULL)
			FUZZ_CHECK(code != NULL && strlen(code) == seg_len && memcmp(code, seg, seg_len) == 0);
		else if (j == NULL) /* the QR code, an image */
			FUZZ_CHECK(tail == 3 && memcmp(slash, "/qr", 3) == 0);
		else
			FUZZ_CHECK(tail == 6 && memcmp(slash, "/stats", 6) == 0);
	}
	json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *raw = malloc(size > 0 ? size : 1), path[PATH_SIZE], *mhd;
	const uint8_t *start, *end = data + size, *q;
	struct http_target t;
	enum http_target_result res;
	size_t mhd_len, raw_path_len;
	int unsafe = 0;

	if (raw == NULL)
		abort();
	memcpy(raw, data, size); /* exactly size bytes: ASan sees any read past them */
	res = http_target_parse(raw, size, path, sizeof(path), &t);
	for (size_t i = 0; i < size; i++)
		unsafe |= data[i] <= 0x20 || data[i] == 0x7f;
	start = size > 0 && data[0] == '/' ? data : absolute_path_start(data, size);
	if (unsafe || start == NULL) {
		FUZZ_CHECK(res == HTTP_TARGET_INVALID);
		free(raw);
		return 0;
	}
	q = memchr(start, '?', (size_t)(end - start));
	raw_path_len = (size_t)((q != NULL ? q : end) - start);
	/* libmicrohttpd's decoding of the path part ("/" when it is empty). */
	mhd = fuzz_cstr(raw_path_len > 0 ? start : (const uint8_t *)"/", raw_path_len > 0 ? raw_path_len : 1);
	mhd_len = MHD_http_unescape(mhd);
	if (strlen(mhd) != mhd_len) {
		FUZZ_CHECK(res == HTTP_TARGET_INVALID); /* a NUL would cut the path */
	} else if (mhd_len + 1 > sizeof(path)) {
		FUZZ_CHECK(res == HTTP_TARGET_TOO_LONG);
	} else {
		FUZZ_CHECK(res == HTTP_TARGET_OK);
		FUZZ_CHECK(t.path == path && t.path_len == mhd_len && strlen(t.path) == t.path_len);
		FUZZ_CHECK(memcmp(t.path, mhd, mhd_len) == 0);
		if (q == NULL) {
			FUZZ_CHECK(t.query == NULL && t.query_len == 0);
		} else {
			FUZZ_CHECK(t.query == raw + (q - data) + 1);
			FUZZ_CHECK(t.query_len == (size_t)(end - q - 1));
		}
		check_redirect(&t);
		check_api(&t);
	}
	free(mhd);
	free(raw);
	return 0;
}
