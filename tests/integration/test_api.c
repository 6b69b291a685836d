/*
 * The admin API against the real daemon over libcurl: each endpoint's
 * success shape, exact click counts and stats, tokens (none, wrong, revoked,
 * read-only, the first admin token) and a pagination walk while links are
 * being added. Refusals are in test_api_errors.c.
 */
#include <check.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_client.h"
#include "harness.h"

static struct daemon d;

static void setup(void)
{
	client_daemon_start(&d, NULL);
}

static void teardown(void)
{
	fixture_stop(&d);
}

static bool is_rfc3339_utc(const char *s)
{
	int y, mo, da, h, mi, se;
	char z;

	return strlen(s) == 20 && sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &da, &h, &mi, &se, &z) == 7 &&
	       z == 'Z';
}

static bool is_base62(const char *s, size_t len)
{
	if (strlen(s) != len)
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];
		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')))
			return false;
	}
	return true;
}

/* GET path with the admin token; asserts 200 and returns the JSON. */
static json_t *get_json(const char *path)
{
	struct http_result r;
	json_t *j;

	ck_assert_msg(client_call(&d, API_TEST_TOKEN, "GET", path, NULL, &r) == 200, "%s: %ld %s", path, r.status,
	              r.body);
	ck_assert_str_eq(client_header(&r, "Content-Type"), "application/json");
	client_assert_admin_headers(&r);
	j = client_json(&r);
	http_result_free(&r);
	return j;
}

/* Follows nothing: one request on the short link, its status. */
static long click(const char *code, const char *referer, const char *user_agent)
{
	char url[256], ref[256], ua[256];
	const char *headers[3];
	struct http_result r;
	int n = 0;
	long status;

	snprintf(url, sizeof(url), "%s/%s", d.base, code);
	if (referer != NULL) {
		snprintf(ref, sizeof(ref), "Referer: %s", referer);
		headers[n++] = ref;
	}
	if (user_agent != NULL) {
		snprintf(ua, sizeof(ua), "User-Agent: %s", user_agent);
		headers[n++] = ua;
	}
	headers[n] = NULL;
	ck_assert_int_eq(http_do("GET", url, NULL, 0, headers, false, &r), 0);
	status = r.status;
	http_result_free(&r);
	return status;
}

/* ---- links ---- */

START_TEST(test_create_returns_every_field)
{
	struct http_result r;
	char short_url[128], location[256];
	json_t *l;

	ck_assert_int_eq(
	    client_call(&d, API_TEST_TOKEN, "POST", "/api/v1/links",
	                "{\"url\":\"https://t.example/p?a=b\",\"code\":\"Full_1\",\"status\":307,"
	                "\"expires_at\":\"2030-01-31T13:00:00+01:00\",\"max_clicks\":50,\"forward_query\":true}",
	                &r),
	    201);
	ck_assert_str_eq(client_header(&r, "Content-Type"), "application/json");
	client_assert_admin_headers(&r);
	l = client_json(&r);
	http_result_free(&r);
	snprintf(short_url, sizeof(short_url), "%s/Full_1", d.base);
	ck_assert_uint_eq(json_object_size(l), 15);
	ck_assert_str_eq(client_str(l, "code"), "Full_1");
	ck_assert_str_eq(client_str(l, "short_url"), short_url);
	ck_assert_str_eq(client_str(l, "url"), "https://t.example/p?a=b");
	ck_assert_int_eq(client_int(l, "status"), 307);
	ck_assert(json_is_true(json_object_get(l, "forward_query")));
	ck_assert(is_rfc3339_utc(client_str(l, "created_at")));
	ck_assert_str_eq(client_str(l, "updated_at"), client_str(l, "created_at"));
	ck_assert_str_eq(client_str(l, "expires_at"), "2030-01-31T12:00:00Z");
	ck_assert_int_eq(client_int(l, "max_clicks"), 50);
	ck_assert_int_eq(client_int(l, "clicks"), 0);
	ck_assert(json_is_false(json_object_get(l, "disabled")));
	ck_assert(json_is_null(json_object_get(l, "title")));
	ck_assert_uint_eq(json_array_size(json_object_get(l, "tags")), 0);
	ck_assert_str_eq(client_str(l, "created_by"), "SHORTD_ADMIN_TOKEN");
	ck_assert_str_eq(client_str(l, "updated_by"), "SHORTD_ADMIN_TOKEN");
	json_decref(l);

	/* The link is live at once, with its status and query forwarding. */
	snprintf(short_url, sizeof(short_url), "%s/Full_1?x=1", d.base);
	ck_assert_int_eq(http_do("GET", short_url, NULL, 0, NULL, false, &r), 0);
	ck_assert_int_eq(r.status, 307);
	ck_assert_int_eq(http_header(&r, "Location", location, sizeof(location)), 0);
	ck_assert_str_eq(location, "https://t.example/p?a=b&x=1");
	http_result_free(&r);
}
END_TEST

START_TEST(test_create_generates_a_code)
{
	json_t *l = client_create_link(&d, "{\"url\":\"https://t.example/g\"}");
	char short_url[128];

	ck_assert_msg(is_base62(client_str(l, "code"), 7), "code %s", client_str(l, "code"));
	snprintf(short_url, sizeof(short_url), "%s/%s", d.base, client_str(l, "code"));
	ck_assert_str_eq(client_str(l, "short_url"), short_url);
	ck_assert_int_eq(client_int(l, "status"), 302);
	ck_assert(json_is_false(json_object_get(l, "forward_query")));
	ck_assert(json_is_null(json_object_get(l, "expires_at")));
	ck_assert(json_is_null(json_object_get(l, "max_clicks")));
	ck_assert(json_is_false(json_object_get(l, "disabled")));
	ck_assert_int_eq(client_int(l, "clicks"), 0);
	json_decref(l);
}
END_TEST

START_TEST(test_create_accepts_utf8_charset_and_nulls)
{
	struct http_result r;
	json_t *l;

	ck_assert_int_eq(client_call_raw(&d, API_TEST_TOKEN, "POST", "/api/v1/links", "application/json; charset=UTF-8",
	                                 "{\"url\":\"https://t.example/c\",\"code\":null,\"status\":null,"
	                                 "\"expires_at\":null,\"max_clicks\":null}",
	                                 strlen("{\"url\":\"https://t.example/c\",\"code\":null,\"status\":null,"
	                                        "\"expires_at\":null,\"max_clicks\":null}"),
	                                 &r),
	                 201);
	l = client_json(&r);
	http_result_free(&r);
	ck_assert(is_base62(client_str(l, "code"), 7));
	ck_assert_int_eq(client_int(l, "status"), 302);
	ck_assert(json_is_null(json_object_get(l, "expires_at")));
	ck_assert(json_is_null(json_object_get(l, "max_clicks")));
	json_decref(l);
}
END_TEST

START_TEST(test_read_returns_the_created_link)
{
	json_t *created =
	    client_create_link(&d, "{\"url\":\"https://t.example/r\",\"code\":\"readme\",\"max_clicks\":0}");
	json_t *read = get_json("/api/v1/links/readme");
	struct http_result r;

	ck_assert(json_equal(created, read));
	json_decref(created);
	json_decref(read);

	ck_assert_int_eq(client_call(&d, API_TEST_TOKEN, "HEAD", "/api/v1/links/readme", NULL, &r), 200);
	ck_assert_uint_eq(r.body_len, 0);
	client_assert_admin_headers(&r);
	http_result_free(&r);

	/* Codes are case-sensitive. */
	ck_assert_int_eq(client_call(&d, API_TEST_TOKEN, "GET", "/api/v1/links/README", NULL, &r), 404);
	client_assert_error(&r, 404, "not_found");
	http_result_free(&r);
}
END_TEST

START_TEST(test_update_changes_each_field)
{
	struct http_result r;
	json_t *l;

	json_decref(client_create_link(&d, "{\"url\":\"https://t.example/old\",\"code\":\"upd\"}"));
	ck_assert_int_eq(
	    client_call(&d, API_TEST_TOKEN, "PATCH", "/api/v1/links/upd",
	                "{\"url\":\"https://U.example/new\",\"status\":301,\"expires_at\":"
	                "\"2031-06-01T00:00:00Z\",\"max_clicks\":3,\"forward_query\":true,\"disabled\":true}",
	                &r),
	    200);
	client_assert_admin_headers(&r);
	l = client_json(&r);
	http_result_free(&r);
	ck_assert_str_eq(client_str(l, "code"), "upd");
	ck_assert_str_eq(client_str(l, "url"), "https://u.example/new");
	ck_assert_int_eq(client_int(l, "status"), 301);
	ck_assert_str_eq(client_str(l, "expires_at"), "2031-06-01T00:00:00Z");
	ck_assert_int_eq(client_int(l, "max_clicks"), 3);
	ck_assert(json_is_true(json_object_get(l, "forward_query")));
	ck_assert(json_is_true(json_object_get(l, "disabled")));
	ck_assert(is_rfc3339_utc(client_str(l, "updated_at")));
	ck_assert(strcmp(client_str(l, "updated_at"), client_str(l, "created_at")) >= 0);
	json_decref(l);
	l = get_json("/api/v1/links/upd");
	ck_assert(json_is_true(json_object_get(l, "disabled")));
	json_decref(l);
	ck_assert_int_eq(click("upd", NULL, NULL), 410);

	/* null clears the options; the rest stays. */
	ck_assert_int_eq(client_call(&d, API_TEST_TOKEN, "PATCH", "/api/v1/links/upd",
	                             "{\"expires_at\":null,\"max_clicks\":null,\"disabled\":false}", &r),
	                 200);
	l = client_json(&r);
	http_result_free(&r);
	ck_assert(json_is_null(json_object_get(l, "expires_at")));
	ck_assert(json_is_null(json_object_get(l, "max_clicks")));
	ck_assert(json_is_false(json_object_get(l, "disabled")));
	ck_assert_int_eq(client_int(l, "status"), 301);
	ck_assert_str_eq(client_str(l, "url"), "https://u.example/new");
	json_decref(l);
	ck_assert_int_eq(click("upd", NULL, NULL), 301);
}
END_TEST

START_TEST(test_delete_answers_204_and_the_link_is_gone)
{
	struct http_result r;

	json_decref(client_create_link(&d, "{\"url\":\"https://t.example/del\",\"code\":\"gone\"}"));
	ck_assert_int_eq(click("gone", NULL, NULL), 302);
	ck_assert_int_eq(client_call(&d, API_TEST_TOKEN, "DELETE", "/api/v1/links/gone", NULL, &r), 204);
	ck_assert_uint_eq(r.body_len, 0);
	client_assert_admin_headers(&r);
	http_result_free(&r);
	ck_assert_int_eq(client_call(&d, API_TEST_TOKEN, "GET", "/api/v1/links/gone", NULL, &r), 404);
	client_assert_error(&r, 404, "not_found");
	http_result_free(&r);
	ck_assert_int_eq(click("gone", NULL, NULL), 404);
	ck_assert_int_eq(client_call(&d, API_TEST_TOKEN, "DELETE", "/api/v1/links/gone", NULL, &r), 404);
	http_result_free(&r);
	/* The code is free again. */
	json_decref(client_create_link(&d, "{\"url\":\"https://t.example/again\",\"code\":\"gone\"}"));
}
END_TEST

START_TEST(test_list_pages_end_with_a_null_cursor)
{
	char body[128];
	json_t *page, *all, *item;
	int pages;
	size_t i;

	for (int k = 0; k < 4; k++) {
		snprintf(body, sizeof(body), "{\"url\":\"https://t.example/%d\",\"code\":\"l%d\"}", k, k);
		json_decref(client_create_link(&d, body));
	}
	page = get_json("/api/v1/links");
	ck_assert_uint_eq(json_object_size(page), 2);
	ck_assert_uint_eq(json_array_size(json_object_get(page, "items")), 4);
	ck_assert(json_is_null(json_object_get(page, "next_cursor")));
	json_decref(page);

	/* A last page that is exactly full still says there is no next one. */
	all = client_list_all(&d, 2, &pages);
	ck_assert_int_eq(pages, 2);
	ck_assert_uint_eq(json_array_size(all), 4);
	json_array_foreach(all, i, item)
	{
		snprintf(body, sizeof(body), "l%zu", i);
		ck_assert_str_eq(client_str(item, "code"), body);
		ck_assert_uint_eq(json_object_size(item), 15);
	}
	json_decref(all);

	all = client_list_all(&d, 3, &pages);
	ck_assert_int_eq(pages, 2);
	ck_assert_uint_eq(json_array_size(all), 4);
	json_decref(all);
}
END_TEST

START_TEST(test_list_default_page_is_100)
{
	json_t *page, *next;
	char path[256];

	for (int k = 0; k < 150; k++)
		json_decref(client_create_link(&d, "{\"url\":\"https://t.example/many\"}"));
	page = get_json("/api/v1/links");
	ck_assert_uint_eq(json_array_size(json_object_get(page, "items")), 100);
	next = json_object_get(page, "next_cursor");
	ck_assert(json_is_string(next));
	snprintf(path, sizeof(path), "/api/v1/links?cursor=%s", json_string_value(next));
	json_decref(page);
	page = get_json(path);
	ck_assert_uint_eq(json_array_size(json_object_get(page, "items")), 50);
	ck_assert(json_is_null(json_object_get(page, "next_cursor")));
	json_decref(page);
}
END_TEST

/* With a base URL of its own, the daemon still refuses links to the address
 * it listens on (127.0.0.1 and its real port, from --listen 127.0.0.1:0), in
 * any spelling, and to its base URL. */
START_TEST(test_create_refuses_the_listen_address_besides_the_base_url)
{
	static const char *const args[] = {"--base-url", "https://s.example", NULL};
	static const char *const self[] = {"http://localhost:%u/x", "http://127.1:%u/x", "http://[::1]:%u/x",
	                                   "http://0x7f000001:%u/x"};
	char body[160];
	struct http_result r;
	json_t *l;

	fixture_stop(&d);
	client_daemon_start(&d, args);
	for (size_t i = 0; i < sizeof(self) / sizeof(self[0]); i++) {
		char url[64];
		snprintf(url, sizeof(url), self[i], d.port);
		snprintf(body, sizeof(body), "{\"url\":\"%s\"}", url);
		ck_assert_int_eq(client_call(&d, API_TEST_TOKEN, "POST", "/api/v1/links", body, &r), 400);
		client_assert_error(&r, 400, "invalid_url");
		ck_assert_msg(strstr(r.body, "must not point at this shortener") != NULL, "%s: %s", url, r.body);
		http_result_free(&r);
	}
	ck_assert_int_eq(
	    client_call(&d, API_TEST_TOKEN, "POST", "/api/v1/links", "{\"url\":\"https://S.example./x\"}", &r), 400);
	client_assert_error(&r, 400, "invalid_url");
	http_result_free(&r);
	snprintf(body, sizeof(body), "{\"url\":\"http://localhost:%u/x\",\"code\":\"nearby\"}",
	         d.port == 65535 ? 1 : d.port + 1);
	l = client_create_link(&d, body);
	ck_assert_str_eq(client_str(l, "short_url"), "https://s.example/nearby");
	json_decref(l);
}
END_TEST

/* ---- clicks and stats ---- */

START_TEST(test_link_clicks_include_unflushed_clicks)
{
	static const char *const args[] = {"--flush-interval", "60000", NULL};
	json_t *l, *page;

	fixture_stop(&d);
	client_daemon_start(&d, args);
	json_decref(client_create_link(&d, "{\"url\":\"https://t.example/n\",\"code\":\"counted\"}"));
	for (int k = 0; k < 5; k++)
		ck_assert_int_eq(click("counted", NULL, NULL), 302);
	l = get_json("/api/v1/links/counted");
	ck_assert_int_eq(client_int(l, "clicks"), 5);
	json_decref(l);
	page = get_json("/api/v1/links");
	ck_assert_int_eq(client_int(json_array_get(json_object_get(page, "items"), 0), "clicks"), 5);
	json_decref(page);
}
END_TEST

static void today_plus(int delta_days, char out[11])
{
	time_t t = time(NULL) + (time_t)delta_days * 86400;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

START_TEST(test_stats_after_clicks)
{
	json_t *s, *daily, *refs, *day;
	char date[11];
	size_t i;

	json_decref(client_create_link(&d, "{\"url\":\"https://t.example/s\",\"code\":\"st\"}"));
	for (int k = 0; k < 6; k++)
		ck_assert_int_eq(click("st", "https://News.example.org/story?id=1", NULL), 302);
	for (int k = 0; k < 4; k++)
		ck_assert_int_eq(click("st", "http://blog.example.net/", "Mozilla/5.0 (X11; Linux x86_64)"), 302);
	for (int k = 0; k < 2; k++)
		ck_assert_int_eq(click("st", NULL, "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"), 302);

	s = get_json("/api/v1/links/st/stats");
	ck_assert_str_eq(client_str(s, "code"), "st");
	ck_assert_int_eq(client_int(s, "clicks"), 10);
	ck_assert_int_eq(client_int(s, "bot_clicks"), 2);
	ck_assert(is_rfc3339_utc(client_str(s, "last_click_at")));
	ck_assert_int_eq(client_int(s, "days"), 30);
	daily = json_object_get(s, "daily");
	ck_assert_uint_eq(json_array_size(daily), 30);
	json_array_foreach(daily, i, day)
	{
		today_plus((int)i - 29, date);
		ck_assert_str_eq(client_str(day, "date"), date);
		ck_assert_int_eq(client_int(day, "clicks"), i == 29 ? 10 : 0);
		ck_assert_int_eq(client_int(day, "bot_clicks"), i == 29 ? 2 : 0);
	}
	today_plus(0, date);
	ck_assert(strncmp(client_str(s, "last_click_at"), date, 10) == 0);
	refs = json_object_get(s, "referrers");
	ck_assert_uint_eq(json_array_size(refs), 2);
	ck_assert_str_eq(client_str(json_array_get(refs, 0), "host"), "news.example.org");
	ck_assert_int_eq(client_int(json_array_get(refs, 0), "clicks"), 6);
	ck_assert_str_eq(client_str(json_array_get(refs, 1), "host"), "blog.example.net");
	ck_assert_int_eq(client_int(json_array_get(refs, 1), "clicks"), 4);
	json_decref(s);

	/* The link itself shows the same human count. */
	s = get_json("/api/v1/links/st");
	ck_assert_int_eq(client_int(s, "clicks"), 10);
	json_decref(s);

	s = get_json("/api/v1/links/st/stats?days=7");
	daily = json_object_get(s, "daily");
	ck_assert_uint_eq(json_array_size(daily), 7);
	today_plus(-6, date);
	ck_assert_str_eq(client_str(json_array_get(daily, 0), "date"), date);
	ck_assert_int_eq(client_int(json_array_get(daily, 6), "clicks"), 10);
	json_decref(s);
}
END_TEST

START_TEST(test_stats_of_an_unclicked_link)
{
	json_t *s, *daily;

	json_decref(client_create_link(&d, "{\"url\":\"https://t.example/q\",\"code\":\"quiet\"}"));
	s = get_json("/api/v1/links/quiet/stats?days=1");
	ck_assert_int_eq(client_int(s, "clicks"), 0);
	ck_assert_int_eq(client_int(s, "bot_clicks"), 0);
	ck_assert(json_is_null(json_object_get(s, "last_click_at")));
	daily = json_object_get(s, "daily");
	ck_assert_uint_eq(json_array_size(daily), 1);
	ck_assert_int_eq(client_int(json_array_get(daily, 0), "clicks"), 0);
	ck_assert_uint_eq(json_array_size(json_object_get(s, "referrers")), 0);
	json_decref(s);
}
END_TEST

/* ---- tokens ---- */

START_TEST(test_no_token_is_401_with_a_challenge)
{
	struct http_result r;

	ck_assert_int_eq(client_call(&d, NULL, "GET", "/api/v1/links", NULL, &r), 401);
	client_assert_error(&r, 401, "unauthorized");
	ck_assert_str_eq(client_header(&r, "WWW-Authenticate"), "Bearer realm=\"shortd\"");
	http_result_free(&r);
	ck_assert_int_eq(client_call_raw(&d, NULL, "GET", "/api/v1/links", NULL, NULL, 0, &r), 401);
	http_result_free(&r);
}
END_TEST

START_TEST(test_wrong_token_is_401)
{
	struct http_result r;
	const char *headers[] = {"Authorization: Basic dXNlcjpwYXNz", NULL};
	char url[128];

	ck_assert_int_eq(client_call(&d, API_TEST_TOKEN "x", "GET", "/api/v1/links", NULL, &r), 401);
	client_assert_error(&r, 401, "unauthorized");
	ck_assert_str_eq(client_header(&r, "WWW-Authenticate"), "Bearer realm=\"shortd\", error=\"invalid_token\"");
	http_result_free(&r);
	/* Another scheme is no token at all. */
	snprintf(url, sizeof(url), "%s/api/v1/links", d.base);
	ck_assert_int_eq(http_do("GET", url, NULL, 0, headers, false, &r), 0);
	ck_assert_int_eq(r.status, 401);
	http_result_free(&r);
	/* The scheme is case-insensitive. */
	headers[0] = "Authorization: bearer " API_TEST_TOKEN;
	ck_assert_int_eq(http_do("GET", url, NULL, 0, headers, false, &r), 0);
	ck_assert_int_eq(r.status, 200);
	http_result_free(&r);
}
END_TEST

static void token_create(const char *name, bool read_only, char token[64])
{
	const char *args[] = {"token", "create", "--name", name, read_only ? "--read-only" : NULL, NULL};
	char out[256], err[256];

	ck_assert_int_eq(shortd_run(d.db, out, sizeof(out), err, sizeof(err), args), 0);
	ck_assert_uint_eq(strlen(out), 44);
	memcpy(token, out, 43);
	token[43] = '\0';
}

START_TEST(test_revoked_token_is_401)
{
	static const char *const revoke[] = {"token", "revoke", "ci", NULL};
	char token[64], out[256], err[256];
	struct http_result r;

	token_create("ci", false, token);
	ck_assert_int_eq(client_call(&d, token, "POST", "/api/v1/links", "{\"url\":\"https://t.example/ci\"}", &r),
	                 201);
	http_result_free(&r);
	ck_assert_int_eq(shortd_run(d.db, out, sizeof(out), err, sizeof(err), revoke), 0);
	ck_assert_int_eq(client_call(&d, token, "GET", "/api/v1/links", NULL, &r), 401);
	client_assert_error(&r, 401, "unauthorized");
	http_result_free(&r);
	ck_assert_int_eq(client_call(&d, token, "POST", "/api/v1/links", "{\"url\":\"https://t.example/ci2\"}", &r),
	                 401);
	http_result_free(&r);
	/* Only the link made before the revocation exists. */
	json_t *page = get_json("/api/v1/links");
	ck_assert_uint_eq(json_array_size(json_object_get(page, "items")), 1);
	ck_assert_str_eq(client_str(json_array_get(json_object_get(page, "items"), 0), "url"), "https://t.example/ci");
	json_decref(page);
}
END_TEST

START_TEST(test_read_only_token_reads_but_cannot_write)
{
	char token[64];
	struct http_result r;
	json_t *before, *after;

	before = client_create_link(&d, "{\"url\":\"https://t.example/ro\",\"code\":\"ro\"}");
	token_create("viewer", true, token);
	ck_assert_int_eq(client_call(&d, token, "GET", "/api/v1/links", NULL, &r), 200);
	http_result_free(&r);
	ck_assert_int_eq(client_call(&d, token, "GET", "/api/v1/links/ro", NULL, &r), 200);
	http_result_free(&r);
	ck_assert_int_eq(client_call(&d, token, "GET", "/api/v1/links/ro/stats", NULL, &r), 200);
	http_result_free(&r);
	ck_assert_int_eq(client_call(&d, token, "POST", "/api/v1/links", "{\"url\":\"https://t.example/no\"}", &r),
	                 403);
	client_assert_error(&r, 403, "forbidden");
	http_result_free(&r);
	ck_assert_int_eq(client_call(&d, token, "PATCH", "/api/v1/links/ro", "{\"disabled\":true}", &r), 403);
	client_assert_error(&r, 403, "forbidden");
	http_result_free(&r);
	ck_assert_int_eq(client_call(&d, token, "DELETE", "/api/v1/links/ro", NULL, &r), 403);
	client_assert_error(&r, 403, "forbidden");
	http_result_free(&r);
	after = get_json("/api/v1/links/ro");
	ck_assert(json_equal(before, after));
	json_decref(before);
	json_decref(after);
}
END_TEST

static size_t read_file(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n;

	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
	return n;
}

START_TEST(test_first_start_prints_an_admin_token_once)
{
	static const char *const list[] = {"token", "list", NULL};
	static const char prefix[] = "admin token (shown once): ";
	char log[8192], first_log[8192], token[64], out[1024], err[256];
	const char *at;
	struct http_result r;
	size_t first;

	fixture_stop(&d);
	unsetenv("SHORTD_ADMIN_TOKEN");
	daemon_prepare(&d);
	ck_assert_int_eq(daemon_start(&d, NULL, NULL), 0);
	first = read_file(d.log, log, sizeof(log));
	memcpy(first_log, log, first + 1);
	at = strstr(log, prefix);
	ck_assert_ptr_nonnull(at);
	at += sizeof(prefix) - 1;
	ck_assert(strcspn(at, "\n") == 43);
	memcpy(token, at, 43);
	token[43] = '\0';
	ck_assert_ptr_null(strstr(at, prefix));
	ck_assert_int_eq(client_call(&d, token, "GET", "/api/v1/links", NULL, &r), 200);
	http_result_free(&r);
	ck_assert_int_eq(shortd_run(d.db, out, sizeof(out), err, sizeof(err), list), 0);
	ck_assert(strncmp(out, "admin\tadmin\t", 12) == 0);
	ck_assert_ptr_null(strstr(out, token));
	ck_assert_int_eq(daemon_stop(&d), 0);

	/* A second start on the same database makes no new token. */
	ck_assert_int_eq(daemon_start(&d, NULL, NULL), 0);
	read_file(d.log, log, sizeof(log));
	/* The log may be appended to or started afresh: look past the first run. */
	at = strncmp(log, first_log, first) == 0 ? log + first : log;
	ck_assert_ptr_null(strstr(at, "admin token"));
	ck_assert_int_eq(client_call(&d, token, "GET", "/api/v1/links", NULL, &r), 200);
	http_result_free(&r);
	fixture_stop(&d);
	/* teardown stops d again: give it a daemon to stop. */
	client_daemon_start(&d, NULL);
}
END_TEST

START_TEST(test_fixed_admin_token_makes_no_stored_token)
{
	static const char *const list[] = {"token", "list", NULL};
	char log[8192], out[1024], err[256];

	read_file(d.log, log, sizeof(log));
	ck_assert_ptr_null(strstr(log, "admin token"));
	ck_assert_int_eq(shortd_run(d.db, out, sizeof(out), err, sizeof(err), list), 0);
	ck_assert_str_eq(out, "");
}
END_TEST

/* ---- pagination while links are added ---- */

#define WALK_LINKS 2500

struct adder {
	const struct daemon *d;
	atomic_bool stop;
	atomic_int added;
	atomic_int failed;
};

static void *add_links(void *arg)
{
	struct adder *a = arg;
	char body[128];

	for (int k = 0; !atomic_load(&a->stop); k++) {
		struct http_result r;
		snprintf(body, sizeof(body), "{\"url\":\"https://t.example/new/%d\",\"code\":\"new-%d\"}", k, k);
		if (client_call(a->d, API_TEST_TOKEN, "POST", "/api/v1/links", body, &r) == 201)
			atomic_fetch_add(&a->added, 1);
		else
			atomic_fetch_add(&a->failed, 1);
		http_result_free(&r);
	}
	return NULL;
}

START_TEST(test_walk_sees_each_link_once_while_links_are_added)
{
	static unsigned char seen_old[WALK_LINKS];
	static unsigned char seen_new[1 << 20];
	pthread_t adder_thread;
	struct adder adder = {.d = &d};
	json_t *all, *item;
	int pages, last_old = -1, new_seen = 0;
	size_t i;

	/* Made one after another, so creation order is p-0000, p-0001, ... */
	for (int k = 0; k < WALK_LINKS; k++) {
		char body[128];
		snprintf(body, sizeof(body), "{\"url\":\"https://t.example/p/%d\",\"code\":\"p-%04d\"}", k, k);
		json_decref(client_create_link(&d, body));
	}

	atomic_init(&adder.stop, false);
	atomic_init(&adder.added, 0);
	atomic_init(&adder.failed, 0);
	ck_assert_int_eq(pthread_create(&adder_thread, NULL, add_links, &adder), 0);
	while (atomic_load(&adder.added) == 0 && atomic_load(&adder.failed) == 0)
		sched_yield();
	all = client_list_all(&d, 100, &pages);
	atomic_store(&adder.stop, true);
	pthread_join(adder_thread, NULL);
	ck_assert_int_eq(atomic_load(&adder.failed), 0);
	ck_assert_int_ge(pages, WALK_LINKS / 100);

	json_array_foreach(all, i, item)
	{
		const char *code = client_str(item, "code");
		int k;
		if (sscanf(code, "p-%d", &k) == 1) {
			ck_assert_int_lt(k, WALK_LINKS);
			ck_assert_msg(seen_old[k] == 0, "%s seen twice", code);
			ck_assert_msg(k > last_old, "%s out of order", code);
			seen_old[k] = 1;
			last_old = k;
		} else {
			ck_assert_int_eq(sscanf(code, "new-%d", &k), 1);
			ck_assert_int_lt(k, (int)sizeof(seen_new));
			ck_assert_msg(seen_new[k] == 0, "%s seen twice", code);
			seen_new[k] = 1;
			new_seen++;
		}
	}
	for (int k = 0; k < WALK_LINKS; k++)
		ck_assert_msg(seen_old[k] == 1, "p-%04d never seen", k);
	ck_assert_int_le(new_seen, atomic_load(&adder.added));
	ck_assert_uint_eq(json_array_size(all), (size_t)(WALK_LINKS + new_seen));
	json_decref(all);

	/* Once the adding stops, a walk sees every link. */
	all = client_list_all(&d, 100, &pages);
	ck_assert_uint_eq(json_array_size(all), (size_t)(WALK_LINKS + atomic_load(&adder.added)));
	json_decref(all);
}
END_TEST

Suite *api_suite(void)
{
	Suite *s = suite_create("api");
	TCase *links = tcase_create("links");
	TCase *clicks = tcase_create("clicks");
	TCase *auth = tcase_create("auth");
	TCase *walk = tcase_create("pagination");

	tcase_add_checked_fixture(links, setup, teardown);
	tcase_set_timeout(links, 60);
	tcase_add_test(links, test_create_returns_every_field);
	tcase_add_test(links, test_create_generates_a_code);
	tcase_add_test(links, test_create_accepts_utf8_charset_and_nulls);
	tcase_add_test(links, test_read_returns_the_created_link);
	tcase_add_test(links, test_update_changes_each_field);
	tcase_add_test(links, test_delete_answers_204_and_the_link_is_gone);
	tcase_add_test(links, test_list_pages_end_with_a_null_cursor);
	tcase_add_test(links, test_list_default_page_is_100);
	tcase_add_test(links, test_create_refuses_the_listen_address_besides_the_base_url);
	suite_add_tcase(s, links);

	tcase_add_checked_fixture(clicks, setup, teardown);
	tcase_set_timeout(clicks, 60);
	tcase_add_test(clicks, test_link_clicks_include_unflushed_clicks);
	tcase_add_test(clicks, test_stats_after_clicks);
	tcase_add_test(clicks, test_stats_of_an_unclicked_link);
	suite_add_tcase(s, clicks);

	tcase_add_checked_fixture(auth, setup, teardown);
	tcase_set_timeout(auth, 60);
	tcase_add_test(auth, test_no_token_is_401_with_a_challenge);
	tcase_add_test(auth, test_wrong_token_is_401);
	tcase_add_test(auth, test_revoked_token_is_401);
	tcase_add_test(auth, test_read_only_token_reads_but_cannot_write);
	tcase_add_test(auth, test_first_start_prints_an_admin_token_once);
	tcase_add_test(auth, test_fixed_admin_token_makes_no_stored_token);
	suite_add_tcase(s, auth);

	tcase_add_checked_fixture(walk, setup, teardown);
	tcase_set_timeout(walk, 300);
	tcase_add_test(walk, test_walk_sees_each_link_once_while_links_are_added);
	suite_add_tcase(s, walk);
	return s;
}
