/*
 * A small client for the admin API shared by the api, api_errors, api_load
 * and cli suites: a daemon with a known admin token, one call that sends a
 * request and parses its JSON answer, and a listing that walks every page.
 * Every helper asserts with Check, so a failure names the request.
 */
#ifndef SHORTD_TEST_API_CLIENT_H
#define SHORTD_TEST_API_CLIENT_H

#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define API_TEST_TOKEN "test-admin-token-0123456789abcdefghijklmnopq"
#define API_JSON "Content-Type: application/json"

/* Starts a daemon on a fresh database with API_TEST_TOKEN as its fixed admin
 * token and the NULL-terminated extra serve args. */
static inline void api_daemon_start(struct daemon *d, const char *const *args)
{
	static const char *const env[] = {"SHORTD_ADMIN_TOKEN=" API_TEST_TOKEN, NULL};

	daemon_prepare(d);
	ck_assert_int_eq(daemon_start(d, args, env), 0);
}

static inline void api_daemon_stop(struct daemon *d)
{
	ck_assert_int_eq(daemon_stop(d), 0);
	daemon_cleanup(d);
}

/*
 * Sends method path (under d->base) with the token (NULL: no Authorization),
 * the content type (NULL: none) and the body (NULL: none). Returns the
 * status; r holds the answer (the caller frees it).
 */
static inline long api_call_raw(const struct daemon *d, const char *token, const char *method, const char *path,
				const char *content_type, const void *body, size_t body_len, struct http_result *r)
{
	char url[512], auth[512], ctype[256];
	const char *headers[3];
	int n = 0;

	snprintf(url, sizeof(url), "%s%s", d->base, path);
	if (token != NULL) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		headers[n++] = auth;
	}
	if (content_type != NULL) {
		snprintf(ctype, sizeof(ctype), "Content-Type: %s", content_type);
		headers[n++] = ctype;
	}
	headers[n] = NULL;
	ck_assert_msg(http_do(method, url, body, body_len, headers, false, r) == 0, "%s %s: no answer", method,
		      path);
	return r->status;
}

/* api_call_raw with a JSON text body (or none) and application/json. */
static inline long api_call(const struct daemon *d, const char *token, const char *method, const char *path,
			    const char *json, struct http_result *r)
{
	return api_call_raw(d, token, method, path, json != NULL ? "application/json" : NULL, json,
			    json != NULL ? strlen(json) : 0, r);
}

/* The answer's body as JSON; fails the test when it is not. */
static inline json_t *api_body(const struct http_result *r)
{
	json_error_t err;
	json_t *j = json_loadb(r->body, r->body_len, 0, &err);

	ck_assert_msg(j != NULL, "not JSON (%s): %s", err.text, r->body);
	return j;
}

/* The value of header name, or "" when absent (a static buffer). */
static inline const char *api_header(const struct http_result *r, const char *name)
{
	static char buf[512];

	if (http_header(r, name, buf, sizeof(buf)) != 0)
		buf[0] = '\0';
	return buf;
}

/* Asserts the headers every admin answer carries. */
static inline void api_assert_admin_headers(const struct http_result *r)
{
	ck_assert_str_eq(api_header(r, "Cache-Control"), "no-store");
	ck_assert_str_eq(api_header(r, "X-Content-Type-Options"), "nosniff");
}

/* Asserts an error answer: status, the machine code, a message, headers. */
static inline void api_assert_error(const struct http_result *r, long status, const char *code)
{
	json_t *j = api_body(r);
	const char *got = json_string_value(json_object_get(json_object_get(j, "error"), "code"));
	const char *message = json_string_value(json_object_get(json_object_get(j, "error"), "message"));

	ck_assert_msg(r->status == status, "status %ld, expected %ld: %s", r->status, status, r->body);
	ck_assert_msg(got != NULL && strcmp(got, code) == 0, "error code %s, expected %s", got ? got : "(none)",
		      code);
	ck_assert_msg(message != NULL && message[0] != '\0', "no message: %s", r->body);
	ck_assert_uint_eq(json_object_size(j), 1);
	ck_assert_str_eq(api_header(r, "Content-Type"), "application/json");
	api_assert_admin_headers(r);
	json_decref(j);
}

/* POSTs json as a new link with the admin token; asserts 201 and returns
 * the Link (the caller decrefs it). */
static inline json_t *api_create(const struct daemon *d, const char *json)
{
	struct http_result r;
	json_t *j;

	ck_assert_msg(api_call(d, API_TEST_TOKEN, "POST", "/api/v1/links", json, &r) == 201, "create %s: %ld %s",
		      json, r.status, r.body);
	j = api_body(&r);
	http_result_free(&r);
	return j;
}

/* PATCHes the link code with json and the admin token; asserts 200. */
static inline void api_patch(const struct daemon *d, const char *code, const char *json)
{
	char path[128];
	struct http_result r;

	snprintf(path, sizeof(path), "/api/v1/links/%s", code);
	ck_assert_msg(api_call(d, API_TEST_TOKEN, "PATCH", path, json, &r) == 200, "PATCH %s %s: %ld %s", code,
		      json, r.status, r.body);
	http_result_free(&r);
}

/* One member of a JSON object as a string ("" when absent or not a string). */
static inline const char *api_str(const json_t *j, const char *key)
{
	const char *s = json_string_value(json_object_get(j, key));
	return s != NULL ? s : "";
}

static inline long long api_int(const json_t *j, const char *key)
{
	const json_t *v = json_object_get(j, key);

	ck_assert_msg(json_is_integer(v), "%s is not an integer", key);
	return json_integer_value(v);
}

/*
 * Walks every page of the listing with page size limit and returns all
 * items in one array (the caller decrefs it). *pages counts the pages.
 */
static inline json_t *api_list_all(const struct daemon *d, int limit, int *pages)
{
	json_t *all = json_array();
	char path[256];
	char cursor[128] = "";

	*pages = 0;
	for (;;) {
		struct http_result r;
		json_t *page, *next;
		size_t i;
		json_t *item;

		if (cursor[0] != '\0')
			snprintf(path, sizeof(path), "/api/v1/links?limit=%d&cursor=%s", limit, cursor);
		else
			snprintf(path, sizeof(path), "/api/v1/links?limit=%d", limit);
		ck_assert_msg(api_call(d, API_TEST_TOKEN, "GET", path, NULL, &r) == 200, "%s: %ld %s", path, r.status,
			      r.body);
		page = api_body(&r);
		http_result_free(&r);
		(*pages)++;
		ck_assert(json_is_array(json_object_get(page, "items")));
		ck_assert_uint_le(json_array_size(json_object_get(page, "items")), (size_t)limit);
		json_array_foreach(json_object_get(page, "items"), i, item)
			json_array_append(all, item);
		next = json_object_get(page, "next_cursor");
		if (json_is_null(next)) {
			json_decref(page);
			return all;
		}
		ck_assert(json_is_string(next));
		ck_assert_uint_eq(json_array_size(json_object_get(page, "items")), (size_t)limit);
		snprintf(cursor, sizeof(cursor), "%s", json_string_value(next));
		json_decref(page);
	}
}

/* The whole listing (one page of up to 1000) as the daemon's raw text, to
 * compare before and after a refused request. The caller frees it. */
static inline char *api_list_text(const struct daemon *d)
{
	struct http_result r;
	char *text;

	ck_assert_int_eq(api_call(d, API_TEST_TOKEN, "GET", "/api/v1/links?limit=1000", NULL, &r), 200);
	text = strdup(r.body);
	http_result_free(&r);
	return text;
}

#endif
