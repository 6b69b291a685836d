/*
 * The admin API client of api_client.h.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_client.h"

const char *const client_token_env[] = {"SHORTD_ADMIN_TOKEN=" API_TEST_TOKEN, NULL};

void client_daemon_start(struct daemon *d, const char *const *args)
{
	fixture_start(d, NULL, args, client_token_env);
}

long client_call_raw(const struct daemon *d, const char *token, const char *method, const char *path,
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
	ck_assert_msg(http_do(method, url, body, body_len, headers, false, r) == 0, "%s %s: no answer", method, path);
	return r->status;
}

long client_call(const struct daemon *d, const char *token, const char *method, const char *path, const char *json,
                 struct http_result *r)
{
	return client_call_raw(d, token, method, path, json != NULL ? "application/json" : NULL, json,
	                       json != NULL ? strlen(json) : 0, r);
}

json_t *client_json(const struct http_result *r)
{
	json_error_t err;
	json_t *j = json_loadb(r->body, r->body_len, 0, &err);

	ck_assert_msg(j != NULL, "not JSON (%s): %s", err.text, r->body);
	return j;
}

const char *client_header(const struct http_result *r, const char *name)
{
	static char buf[512];

	if (http_header(r, name, buf, sizeof(buf)) != 0)
		buf[0] = '\0';
	return buf;
}

void client_assert_admin_headers(const struct http_result *r)
{
	ck_assert_str_eq(client_header(r, "Cache-Control"), "no-store");
	ck_assert_str_eq(client_header(r, "X-Content-Type-Options"), "nosniff");
}

void client_assert_error(const struct http_result *r, long status, const char *code)
{
	json_t *j = client_json(r);
	const char *got = json_string_value(json_object_get(json_object_get(j, "error"), "code"));
	const char *message = json_string_value(json_object_get(json_object_get(j, "error"), "message"));

	ck_assert_msg(r->status == status, "status %ld, expected %ld: %s", r->status, status, r->body);
	ck_assert_msg(got != NULL && strcmp(got, code) == 0, "error code %s, expected %s", got ? got : "(none)", code);
	ck_assert_msg(message != NULL && message[0] != '\0', "no message: %s", r->body);
	ck_assert_uint_eq(json_object_size(j), 1);
	ck_assert_str_eq(client_header(r, "Content-Type"), "application/json");
	client_assert_admin_headers(r);
	json_decref(j);
}

json_t *client_create_link(const struct daemon *d, const char *json)
{
	struct http_result r;
	json_t *j;

	ck_assert_msg(client_call(d, API_TEST_TOKEN, "POST", "/api/v1/links", json, &r) == 201, "create %s: %ld %s",
	              json, r.status, r.body);
	j = client_json(&r);
	http_result_free(&r);
	return j;
}

void client_patch_link(const struct daemon *d, const char *code, const char *json)
{
	char path[128];
	struct http_result r;

	snprintf(path, sizeof(path), "/api/v1/links/%s", code);
	ck_assert_msg(client_call(d, API_TEST_TOKEN, "PATCH", path, json, &r) == 200, "PATCH %s %s: %ld %s", code, json,
	              r.status, r.body);
	http_result_free(&r);
}

const char *client_str(const json_t *j, const char *key)
{
	const char *s = json_string_value(json_object_get(j, key));
	return s != NULL ? s : "";
}

long long client_int(const json_t *j, const char *key)
{
	const json_t *v = json_object_get(j, key);

	ck_assert_msg(json_is_integer(v), "%s is not an integer", key);
	return json_integer_value(v);
}

json_t *client_list_all(const struct daemon *d, int limit, int *pages)
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
		ck_assert_msg(client_call(d, API_TEST_TOKEN, "GET", path, NULL, &r) == 200, "%s: %ld %s", path,
		              r.status, r.body);
		page = client_json(&r);
		http_result_free(&r);
		(*pages)++;
		ck_assert(json_is_array(json_object_get(page, "items")));
		ck_assert_uint_le(json_array_size(json_object_get(page, "items")), (size_t)limit);
		json_array_foreach(json_object_get(page, "items"), i, item) json_array_append(all, item);
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

char *client_list_text(const struct daemon *d)
{
	struct http_result r;
	char *text;

	ck_assert_int_eq(client_call(d, API_TEST_TOKEN, "GET", "/api/v1/links?limit=1000", NULL, &r), 200);
	text = strdup(r.body);
	http_result_free(&r);
	return text;
}
