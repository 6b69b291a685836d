/*
 * Security properties against the real daemon, each pinned by a test:
 * - a Location header never carries CR or LF (nor any byte outside printable
 *   ASCII), whichever way a link is made (API create and update, CLI) and
 *   whatever query forward_query merges in;
 * - every HTML page escapes what it echoes, and error pages echo nothing;
 * - tokens never appear in the access log, in the daemon's output, or in any
 *   response (bodies and headers), whether right, wrong or revoked;
 * - every admin API response carries Cache-Control: no-store and
 *   X-Content-Type-Options: nosniff, whatever its status.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "harness.h"

#define TOKEN "security-admin-token-0123456789abcdefghijklm"
#define JSON "Content-Type: application/json"

static const char *const token_env[] = {"SHORTD_ADMIN_TOKEN=" TOKEN, NULL};
static const char *const admin_headers[] = {"Authorization: Bearer " TOKEN, JSON, NULL};

/* ---- helpers ---- */

static long call(const struct daemon *d, const char *method, const char *path, const char *body,
                 const char *const *headers, struct http_result *r)
{
	char url[512];

	snprintf(url, sizeof(url), "%s%s", d->base, path);
	ck_assert_int_eq(http_do(method, url, body, body != NULL ? strlen(body) : 0, headers, false, r), 0);
	return r->status;
}

static void assert_clean_header_value(const char *v)
{
	for (const unsigned char *p = (const unsigned char *)v; *p != '\0'; p++)
		ck_assert_msg(*p > 0x20 && *p < 0x7f, "byte 0x%02x in '%s'", *p, v);
}

/* The response's only Location line, checked byte by byte; copied to loc. */
static void location_of(const struct http_result *r, char *loc, size_t size)
{
	const char *first = strstr(r->headers, "\nLocation: ");

	ck_assert_msg(first != NULL, "no Location in: %s", r->headers);
	ck_assert_ptr_null(strstr(first + 1, "\nLocation: "));
	ck_assert_ptr_null(strstr(r->headers, "Set-Cookie"));
	ck_assert_ptr_null(strstr(r->headers, "\nX-Injected"));
	ck_assert_int_eq(http_header(r, "Location", loc, size), 0);
	assert_clean_header_value(loc);
}

static void start(struct daemon *d, const char *const *args)
{
	fixture_start(d, NULL, args, token_env);
}

static void stop(struct daemon *d)
{
	fixture_stop(d);
}

/* ---- Location never carries CR or LF ---- */

static const struct {
	const char *json_url; /* as written in the JSON body */
	long status;          /* of the create */
	const char *location; /* the redirect's Location when created */
} location_rows[] = {
    {"https://t.example/a\\r\\nX-Injected: 1", 400, NULL},
    {"https://t.example/a\\nX-Injected: 1", 400, NULL},
    {"https://t.example/a\\rX-Injected: 1", 400, NULL},
    {"https://t.example/a\\u0000b", 400, NULL},
    {"https://t.example/a b", 400, NULL},
    {"https://t.example/a\\tb", 400, NULL},
    {"https://t.example/a\\u007fb", 400, NULL},
    {"https://t.example/a%0d%0aX-Injected:%201", 201, "https://t.example/a%0d%0aX-Injected:%201"},
    {"https://t.example/\\u2028\\u0085x", 201, "https://t.example/%E2%80%A8%C2%85x"},
    {"https://t.example/\\u00e9?q=\\u00ff", 201, "https://t.example/%C3%A9?q=%C3%BF"},
    {"https://t.example/\\\"<>\\\\^`{|}", 201, "https://t.example/%22%3C%3E%5C%5E%60%7B%7C%7D"},
};

START_TEST(test_location_never_carries_cr_or_lf_through_the_api)
{
	struct daemon d;
	struct http_result r;
	char body[512], loc[512];

	start(&d, NULL);
	snprintf(body, sizeof(body), "{\"url\":\"%s\",\"code\":\"loc\"}", location_rows[_i].json_url);
	ck_assert_int_eq(call(&d, "POST", "/api/v1/links", body, admin_headers, &r), location_rows[_i].status);
	http_result_free(&r);
	if (location_rows[_i].status == 201) {
		ck_assert_int_eq(call(&d, "GET", "/loc", NULL, NULL, &r), 302);
		location_of(&r, loc, sizeof(loc));
		ck_assert_str_eq(loc, location_rows[_i].location);
		http_result_free(&r);
	} else {
		ck_assert_int_eq(call(&d, "GET", "/loc", NULL, NULL, &r), 404);
		http_result_free(&r);
		/* The update path refuses the same URL. */
		ck_assert_int_eq(call(&d, "POST", "/api/v1/links",
		                      "{\"url\":\"https://t.example/ok\",\"code\":\"loc\"}", admin_headers, &r),
		                 201);
		http_result_free(&r);
		snprintf(body, sizeof(body), "{\"url\":\"%s\"}", location_rows[_i].json_url);
		ck_assert_int_eq(call(&d, "PATCH", "/api/v1/links/loc", body, admin_headers, &r), 400);
		ck_assert_msg(strstr(r.body, "\"invalid_url\"") != NULL || strstr(r.body, "\"invalid_json\"") != NULL,
		              "body: %s", r.body);
		http_result_free(&r);
		ck_assert_int_eq(call(&d, "GET", "/loc", NULL, NULL, &r), 302);
		location_of(&r, loc, sizeof(loc));
		ck_assert_str_eq(loc, "https://t.example/ok");
		http_result_free(&r);
	}
	stop(&d);
}
END_TEST

START_TEST(test_location_never_carries_cr_or_lf_through_the_cli)
{
	static const char *const bad[] = {"https://t.example/a\r\nX-Injected: 1", "https://t.example/a\nb",
	                                  "https://t.example/a\rb", "https://t.example/a b", "https://t.example/a\tb"};
	struct daemon d;
	char out[512], err[512];

	fixture_make_db(&d, NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(shortd_run(d.db, out, sizeof(out), err, sizeof(err),
		                            (const char *const[]){"add", bad[i], "--code", "cli", NULL}),
		                 2);
		ck_assert_msg(strstr(err, "url") != NULL, "stderr: %s", err);
	}
	ck_assert_int_eq(
	    shortd_run(d.db, out, sizeof(out), err, sizeof(err), (const char *const[]){"get", "cli", NULL}), 1);
	daemon_cleanup(&d);
}
END_TEST

/* forward_query merges the raw query: whatever it holds, CR and LF stay
 * percent-encoded in the Location. */
static const struct {
	const char *request; /* raw request line target */
	const char *status_line;
	const char *location; /* NULL: none */
} merge_rows[] = {
    {"/fq?x=%0d%0aSet-Cookie:%20a=b", "HTTP/1.1 302 ", "https://t.example/p?a=1&x=%0d%0aSet-Cookie:%20a=b"},
    {"/fq?x=%0D%0A%0D%0A<script>", "HTTP/1.1 302 ", "https://t.example/p?a=1&x=%0D%0A%0D%0A%3Cscript%3E"},
    {"/fq?x=\xff\x80\"'`", "HTTP/1.1 302 ", "https://t.example/p?a=1&x=%FF%80%22'%60"},
    {"/fq?x=a\rSet-Cookie:%20a=b", "HTTP/1.1 400 ", NULL},
    {"/fq?x=a\nSet-Cookie:%20a=b", "HTTP/1.1 400 ", NULL},
    {"/fq?x=a\x01b", "HTTP/1.1 400 ", NULL},
    {"/fq?x=a\x7f"
     "b",
     "HTTP/1.1 400 ", NULL},
    {"/fq?x=a\tb", "HTTP/1.1 400 ", NULL},
};

START_TEST(test_merged_query_never_carries_cr_or_lf)
{
	struct daemon d;
	struct http_result r;
	char req[512], resp[8192], *loc;
	bool closed;

	start(&d, NULL);
	ck_assert_int_eq(call(&d, "POST", "/api/v1/links",
	                      "{\"url\":\"https://t.example/p?a=1\",\"code\":\"fq\",\"forward_query\":true}",
	                      admin_headers, &r),
	                 201);
	http_result_free(&r);
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", merge_rows[_i].request);
	ck_assert_int_gt(raw_request_ex(d.port, req, strlen(req), resp, sizeof(resp), 5000, &closed), 0);
	ck_assert_msg(strncmp(resp, merge_rows[_i].status_line, 13) == 0, "got %.40s", resp);
	ck_assert_ptr_null(strstr(resp, "\r\nSet-Cookie"));
	loc = strstr(resp, "\r\nLocation: ");
	if (merge_rows[_i].location == NULL) {
		ck_assert_ptr_null(loc);
	} else {
		char *end;
		ck_assert_ptr_nonnull(loc);
		loc += 12;
		end = strstr(loc, "\r\n");
		ck_assert_ptr_nonnull(end);
		*end = '\0';
		assert_clean_header_value(loc);
		ck_assert_str_eq(loc, merge_rows[_i].location);
	}
	stop(&d);
}
END_TEST

/* ---- HTML escaping ---- */

#define PAGE_HEAD                                                                                                      \
	"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Redirecting</title></head><body>"                 \
	"<p>Redirecting to <a href=\""

START_TEST(test_html_pages_escape_what_they_echo)
{
	static const char *const probes[] = {"/%3Cscript%3Ealert(1)%3C%2Fscript%3E", "/x%22%27%3E%3Csvg%20onload=1%3E",
	                                     "/admin%3Cb%3E", "/favicon.ico%3Cb%3E"};
	struct daemon d;
	struct http_result r;
	char loc[512];

	start(&d, NULL);
	ck_assert_int_eq(
	    call(&d, "POST", "/api/v1/links",
	         "{\"url\":\"https://t.example/a?b=1&c='x'\\\"<>\",\"code\":\"esc\",\"forward_query\":true}",
	         admin_headers, &r),
	    201);
	http_result_free(&r);

	ck_assert_int_eq(call(&d, "GET", "/esc", NULL, NULL, &r), 302);
	location_of(&r, loc, sizeof(loc));
	ck_assert_str_eq(loc, "https://t.example/a?b=1&c='x'%22%3C%3E");
	ck_assert_str_eq(r.body,
	                 PAGE_HEAD "https://t.example/a?b=1&amp;c=&#39;x&#39;%22%3C%3E\">"
	                           "https://t.example/a?b=1&amp;c=&#39;x&#39;%22%3C%3E</a>.</p></body></html>\n");
	http_result_free(&r);

	/* A merged query is escaped the same way. */
	ck_assert_int_eq(call(&d, "GET", "/esc?q='onmouseover='alert(1)'&r=%22", NULL, NULL, &r), 302);
	ck_assert_str_eq(r.body,
	                 PAGE_HEAD "https://t.example/a?b=1&amp;c=&#39;x&#39;%22%3C%3E&amp;q=&#39;onmouseover="
	                           "&#39;alert(1)&#39;&amp;r=%22\">https://t.example/a?b=1&amp;c=&#39;x&#39;%22%3C%3E"
	                           "&amp;q=&#39;onmouseover=&#39;alert(1)&#39;&amp;r=%22</a>.</p></body></html>\n");
	http_result_free(&r);

	/* Error pages echo nothing of the request. */
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		ck_assert_int_eq(call(&d, "GET", probes[i], NULL, NULL, &r), 404);
		ck_assert_ptr_null(strstr(r.body, "<script"));
		ck_assert_ptr_null(strstr(r.body, "<svg"));
		ck_assert_ptr_null(strstr(r.body, "<b>"));
		ck_assert_ptr_null(strstr(r.body, "alert"));
		http_result_free(&r);
	}
	stop(&d);
}
END_TEST

/* ---- tokens stay secret ---- */

static void assert_no_secret(const char *text, const char *const *secrets, const char *where)
{
	for (size_t i = 0; secrets[i] != NULL; i++)
		ck_assert_msg(strstr(text, secrets[i]) == NULL, "%s holds a token: %s", where, text);
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = calloc(1, 1 << 20);
	size_t n;

	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(buf);
	n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

START_TEST(test_tokens_never_reach_logs_or_responses)
{
	struct daemon d;
	struct http_result r;
	char created[128], err[512], logpath[400], ro_auth[200], wrong_auth[200], revoked_auth[200];
	char ro_token[64], revoked_token[64], *log;
	const char *secrets[] = {TOKEN, ro_token, revoked_token, "WRONG-secret-token-value-12345", NULL};
	const char *args[] = {"--access-log", logpath, NULL};

	fixture_make_db(&d, NULL);
	snprintf(logpath, sizeof(logpath), "%s/access.log", d.dir);
	ck_assert_int_eq(shortd_run(d.db, created, sizeof(created), err, sizeof(err),
	                            (const char *const[]){"token", "create", "--name", "ro", "--read-only", NULL}),
	                 0);
	ck_assert_int_eq(sscanf(created, "%63s", ro_token), 1);
	ck_assert_int_eq(shortd_run(d.db, created, sizeof(created), err, sizeof(err),
	                            (const char *const[]){"token", "create", "--name", "gone", NULL}),
	                 0);
	ck_assert_int_eq(sscanf(created, "%63s", revoked_token), 1);
	ck_assert_int_eq(shortd_run(d.db, created, sizeof(created), err, sizeof(err),
	                            (const char *const[]){"token", "revoke", "gone", NULL}),
	                 0);
	ck_assert_int_eq(daemon_start(&d, args, token_env), 0);
	snprintf(ro_auth, sizeof(ro_auth), "Authorization: Bearer %s", ro_token);
	snprintf(revoked_auth, sizeof(revoked_auth), "Authorization: Bearer %s", revoked_token);
	snprintf(wrong_auth, sizeof(wrong_auth), "Authorization: Bearer %s", secrets[3]);

	const struct {
		const char *method, *path, *body;
		const char *const *headers;
		long status;
	} calls[] = {
	    {"POST", "/api/v1/links", "{\"url\":\"https://t.example/s\",\"code\":\"s1\"}", admin_headers, 201},
	    {"GET", "/api/v1/links/s1", NULL, (const char *const[]){ro_auth, NULL}, 200},
	    {"POST", "/api/v1/links", "{\"url\":\"https://t.example/s\"}", (const char *const[]){ro_auth, JSON, NULL},
	     403},
	    {"GET", "/api/v1/links", NULL, (const char *const[]){wrong_auth, NULL}, 401},
	    {"GET", "/api/v1/links", NULL, (const char *const[]){revoked_auth, NULL}, 401},
	    {"GET", "/api/v1/links", NULL, (const char *const[]){"Authorization: " TOKEN, NULL}, 401},
	    {"GET", "/api/v1/links", NULL, (const char *const[]){"Authorization: Basic " TOKEN, NULL}, 401},
	    {"GET", "/api/v1/links/nope", NULL, admin_headers, 404},
	    {"POST", "/api/v1/links", "{\"url\":\"" TOKEN "\"}", admin_headers, 400},
	    {"GET", "/s1", NULL, admin_headers, 302},
	};
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		ck_assert_int_eq(call(&d, calls[i].method, calls[i].path, calls[i].body, calls[i].headers, &r),
		                 calls[i].status);
		assert_no_secret(r.headers, secrets, "a response header");
		/* The 400 may quote the url it was sent, never anything else. */
		if (calls[i].status != 400)
			assert_no_secret(r.body, secrets, "a response body");
		else
			ck_assert_ptr_null(strstr(r.body, ro_token));
		http_result_free(&r);
	}
	ck_assert_int_eq(daemon_stop(&d), 0);
	log = read_file(logpath);
	ck_assert_msg(strstr(log, "/api/v1/links/s1") != NULL, "the access log was not written: %s", log);
	assert_no_secret(log, secrets, "the access log");
	ck_assert_ptr_null(strstr(log, "Bearer"));
	free(log);
	log = read_file(d.log);
	assert_no_secret(log, secrets, "the daemon's output");
	free(log);
	daemon_cleanup(&d);
}
END_TEST

/* ---- admin response headers ---- */

START_TEST(test_admin_responses_are_not_stored_or_sniffed)
{
	struct daemon d;
	struct http_result r;
	char out[128], err[512], ro_auth[200], value[128];
	char *big = malloc(API_BODY_MAX + 6 * 1024 + 64);

	ck_assert_ptr_nonnull(big);
	fixture_make_db(&d, NULL);
	ck_assert_int_eq(shortd_run(d.db, out, sizeof(out), err, sizeof(err),
	                            (const char *const[]){"token", "create", "--name", "ro", "--read-only", NULL}),
	                 0);
	out[strcspn(out, "\n")] = '\0';
	snprintf(ro_auth, sizeof(ro_auth), "Authorization: Bearer %s", out);
	ck_assert_int_eq(daemon_start(&d, NULL, token_env), 0);
	memcpy(big, "{\"url\":\"https://t.example/", 26);
	memset(big + 26, 'a', API_BODY_MAX + 6 * 1024);
	memcpy(big + 26 + API_BODY_MAX + 6 * 1024, "\"}", 3);

	const struct {
		const char *method, *path, *body;
		const char *const *headers;
		long status;
	} calls[] = {
	    {"POST", "/api/v1/links", "{\"url\":\"https://t.example/h\",\"code\":\"h\"}", admin_headers, 201},
	    {"GET", "/api/v1/links/h", NULL, admin_headers, 200},
	    {"GET", "/api/v1/links", NULL, admin_headers, 200},
	    {"GET", "/api/v1/links/h/stats", NULL, admin_headers, 200},
	    {"PATCH", "/api/v1/links/h", "{\"status\":301}", admin_headers, 200},
	    {"POST", "/api/v1/links", "{\"url\":\"nope\"}", admin_headers, 400},
	    {"GET", "/api/v1/links", NULL, NULL, 401},
	    {"GET", "/api/v1/links", NULL, (const char *const[]){"Authorization: Bearer wrong", NULL}, 401},
	    {"DELETE", "/api/v1/links/h", NULL, (const char *const[]){ro_auth, NULL}, 403},
	    {"GET", "/api/v1/links/none", NULL, admin_headers, 404},
	    {"GET", "/api/v1/nothing", NULL, admin_headers, 404},
	    {"PUT", "/api/v1/links", "{}", admin_headers, 405},
	    {"POST", "/api/v1/links", "{\"url\":\"https://t.example/h\",\"code\":\"h\"}", admin_headers, 409},
	    {"POST", "/api/v1/links", big, admin_headers, 413},
	    {"POST", "/api/v1/links", "url=x",
	     (const char *const[]){"Authorization: Bearer " TOKEN, "Content-Type: text/plain", NULL}, 415},
	    {"DELETE", "/api/v1/links/h", NULL, admin_headers, 204},
	};
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		ck_assert_int_eq(call(&d, calls[i].method, calls[i].path, calls[i].body, calls[i].headers, &r),
		                 calls[i].status);
		ck_assert_msg(
		    http_header(&r, "Cache-Control", value, sizeof(value)) == 0 && strcmp(value, "no-store") == 0,
		    "%s %s (%ld): Cache-Control '%s'", calls[i].method, calls[i].path, calls[i].status, value);
		ck_assert_msg(http_header(&r, "X-Content-Type-Options", value, sizeof(value)) == 0 &&
		                  strcmp(value, "nosniff") == 0,
		              "%s %s (%ld): no nosniff", calls[i].method, calls[i].path, calls[i].status);
		http_result_free(&r);
	}
	free(big);
	stop(&d);
}
END_TEST

Suite *security_suite(void)
{
	Suite *s = suite_create("security");
	TCase *tc;

	tc = tcase_create("location");
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_location_never_carries_cr_or_lf_through_the_api, 0,
	                    (int)(sizeof(location_rows) / sizeof(location_rows[0])));
	tcase_add_test(tc, test_location_never_carries_cr_or_lf_through_the_cli);
	tcase_add_loop_test(tc, test_merged_query_never_carries_cr_or_lf, 0,
	                    (int)(sizeof(merge_rows) / sizeof(merge_rows[0])));
	suite_add_tcase(s, tc);

	tc = tcase_create("html");
	tcase_add_test(tc, test_html_pages_escape_what_they_echo);
	suite_add_tcase(s, tc);

	tc = tcase_create("secrets");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_tokens_never_reach_logs_or_responses);
	tcase_add_test(tc, test_admin_responses_are_not_stored_or_sniffed);
	suite_add_tcase(s, tc);
	return s;
}
