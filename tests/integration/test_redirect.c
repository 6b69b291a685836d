/*
 * The redirect daemon end to end: the real binary on 127.0.0.1:0 with a
 * fresh database, links made with the CLI, and an echo target that reports
 * the method, path, query and body it received. Proves that 307 and 308
 * keep the method and the exact bytes (libcurl and the curl command), that
 * 301/302/303 turn a POST into a GET, the exact Location, Cache-Control and
 * body of each status, HEAD, 404/410 by Accept, forward_query and the
 * reserved paths.
 *
 * Each test starts its own daemon and echo target and stops the daemon
 * itself, asserting it was still running and exited 0, so a crash anywhere
 * fails the test.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "redirect_fixture.h"

static const int statuses[] = {301, 302, 303, 307, 308};

static const char redirect_page_head[] = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Redirecting"
                                         "</title></head><body><p>Redirecting to <a href=\"";

static const char not_found_html[] =
    "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Not found</title></head>"
    "<body><h1>Not found</h1><p>There is no link here.</p></body></html>\n";
static const char not_found_json[] = "{\"error\":{\"code\":\"not_found\",\"message\":\"no link has this code\"}}\n";
static const char gone_html[] =
    "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Gone</title></head>"
    "<body><h1>Gone</h1><p>This link has expired, was disabled or has run out of clicks.</p></body></html>\n";
static const char gone_json[] = "{\"error\":{\"code\":\"gone\",\"message\":\"this link has expired, was disabled or "
                                "has run out of clicks\"}}\n";
static const char robots_txt[] =
    "# Short links are redirects: there is nothing here to index.\nUser-agent: *\nDisallow: /\n";

#define HTML_TYPE "text/html; charset=utf-8"
#define JSON_TYPE "application/json"

/* 512 bytes: every byte value twice, so NUL, CR, LF and high bytes. */
static void binary_body(char *out)
{
	for (int i = 0; i < 512; i++)
		out[i] = (char)(i & 255);
}

/* Asserts the echo target's answer: "METHOD URI\n" and then the body. */
static void assert_echo(const char *got, size_t got_len, const char *method, const char *uri, const void *body,
                        size_t len)
{
	char head[256];
	size_t hl;

	snprintf(head, sizeof(head), "%s %s\n", method, uri);
	hl = strlen(head);
	ck_assert_msg(got_len == hl + len, "echo answered %zu bytes, expected %zu: %.200s", got_len, hl + len, got);
	ck_assert_msg(memcmp(got, head, hl) == 0, "echo line: %.200s", got);
	ck_assert_msg(len == 0 || memcmp(got + hl, body, len) == 0, "the body's bytes changed on the way");
}

/* A link with status to the echo target's /p, code "c". */
static void add_echo_link(int status)
{
	char target[128];

	snprintf(target, sizeof(target), "%s/p", rt_echo.url);
	create_link(&rt_daemon, target, "c", status, NULL);
}

/* ---- 307 and 308 keep the method and the bytes (libcurl) ---- */

static const char *const body_methods[] = {"POST", "PUT", "PATCH"};

/* Row i: method i/4, status 307 or 308 (i % 2), text or binary (i/2 % 2). */
START_TEST(test_body_through_307_308_arrives_with_same_method_and_bytes)
{
	const char *method = body_methods[(_i / 4) % 3];
	int status = _i % 2 == 0 ? 307 : 308;
	char bin[512];
	const char *body = "name=shortd&list=a%20b&x=1";
	size_t len = strlen(body);
	struct http_result r;

	if ((_i / 2) % 2 == 1) {
		binary_body(bin);
		body = bin;
		len = sizeof(bin);
	}
	rt_start(NULL);
	add_echo_link(status);
	ck_assert_int_eq(http_do(method, rt_url("/c"), body, len, NULL, true, &r), 0);
	ck_assert_int_eq(r.status, 200);
	assert_echo(r.body, r.body_len, method, "/p", body, len);
	http_result_free(&r);
	rt_stop();
}
END_TEST

/* Row i: POST through statuses[i] for 301, 302, 303 arrives as a GET
 * without a body. */
START_TEST(test_post_through_301_302_303_arrives_as_get)
{
	struct http_result r;

	rt_start(NULL);
	add_echo_link(statuses[_i]);
	ck_assert_int_eq(http_do("POST", rt_url("/c"), "x=1", 3, NULL, true, &r), 0);
	ck_assert_int_eq(r.status, 200);
	assert_echo(r.body, r.body_len, "GET", "/p", NULL, 0);
	http_result_free(&r);
	rt_stop();
}
END_TEST

/* ---- the same with the curl command ---- */

struct curl_case {
	int status;
	const char *opts[4]; /* curl options before the URL; "@FILE" is the binary file */
	const char *method;  /* at the target */
	bool binary;         /* the body is the binary file */
	const char *body;    /* else the text body expected at the target ("" none) */
};

static const struct curl_case curl_cases[] = {
    {307, {"-d", "x=1", NULL}, "POST", false, "x=1"},
    {308, {"-d", "x=1", NULL}, "POST", false, "x=1"},
    {307, {"--data-binary", "@FILE", NULL}, "POST", true, NULL},
    {308, {"--data-binary", "@FILE", NULL}, "POST", true, NULL},
    {307, {"-X", "PUT", "--data-binary", "@FILE"}, "PUT", true, NULL},
    {308, {"-X", "PATCH", "-d", "a=1&b=2"}, "PATCH", false, "a=1&b=2"},
    {301, {"-d", "x=1", NULL}, "GET", false, ""},
    {302, {"-d", "x=1", NULL}, "GET", false, ""},
    {303, {"-d", "x=1", NULL}, "GET", false, ""},
};

START_TEST(test_curl_command_follows_with_method_and_body_of_each_status)
{
	const struct curl_case *c = &curl_cases[_i];
	char file[400], at[410], bin[512];
	char *out = malloc(65536);
	const char *args[16];
	size_t out_len;
	int n = 0;
	FILE *f;

	ck_assert(out != NULL);
	rt_start(NULL);
	add_echo_link(c->status);
	binary_body(bin);
	snprintf(file, sizeof(file), "%s/body.bin", rt_daemon.dir);
	snprintf(at, sizeof(at), "@%s", file);
	f = fopen(file, "wb");
	ck_assert(f != NULL);
	ck_assert_uint_eq(fwrite(bin, 1, sizeof(bin), f), sizeof(bin));
	fclose(f);
	args[n++] = "-sS";
	args[n++] = "-L";
	args[n++] = "--max-time";
	args[n++] = "30";
	for (int i = 0; i < 4 && c->opts[i] != NULL; i++)
		args[n++] = strcmp(c->opts[i], "@FILE") == 0 ? at : c->opts[i];
	args[n++] = rt_url("/c");
	args[n] = NULL;
	ck_assert_int_eq(curl_run_capture(out, 65536, &out_len, args), 0);
	if (c->binary)
		assert_echo(out, out_len, c->method, "/p", bin, sizeof(bin));
	else
		assert_echo(out, out_len, c->method, "/p", c->body, strlen(c->body));
	free(out);
	rt_stop();
}
END_TEST

/* ---- Location, Cache-Control, HEAD, the HTML body ---- */

/* The page a GET receives for a redirect to loc (already HTML-escaped). */
static void redirect_page(char *out, size_t size, const char *escaped)
{
	snprintf(out, size, "%s%s\">%s</a>.</p></body></html>\n", redirect_page_head, escaped, escaped);
}

static const char *cache_control_of(int status, const char *max_age)
{
	static char buf[64];

	if (status == 302 || status == 303 || status == 307)
		return "private, no-store";
	snprintf(buf, sizeof(buf), "public, max-age=%s", max_age);
	return buf;
}

START_TEST(test_each_status_has_exact_location_cache_control_and_page)
{
	int status = statuses[_i];
	struct http_result r;
	char target[128], page[512];

	rt_start(NULL);
	add_echo_link(status);
	snprintf(target, sizeof(target), "%s/p", rt_echo.url);
	ck_assert_int_eq(http_do("GET", rt_url("/c"), NULL, 0, NULL, false, &r), 0);
	ck_assert_int_eq(r.status, status);
	rt_assert_header(&r, "Location", target);
	rt_assert_header(&r, "Cache-Control", cache_control_of(status, "3600"));
	rt_assert_header(&r, "Content-Type", HTML_TYPE);
	redirect_page(page, sizeof(page), target);
	ck_assert_str_eq(r.body, page);
	ck_assert_uint_eq(r.body_len, strlen(page));
	http_result_free(&r);
	rt_stop();
}
END_TEST

START_TEST(test_cache_max_age_flag_sets_max_age_of_301_and_308_only)
{
	static const char *const args[] = {"--cache-max-age", "120", NULL};
	struct http_result r;
	char code[8], target[64];

	rt_start(args);
	for (int i = 0; i < 5; i++) {
		snprintf(code, sizeof(code), "s%d", statuses[i]);
		snprintf(target, sizeof(target), "https://t.example/%d", statuses[i]);
		create_link(&rt_daemon, target, code, statuses[i], NULL);
	}
	for (int i = 0; i < 5; i++) {
		char path[16];
		snprintf(path, sizeof(path), "/s%d", statuses[i]);
		snprintf(target, sizeof(target), "https://t.example/%d", statuses[i]);
		ck_assert_int_eq(http_do("GET", rt_url(path), NULL, 0, NULL, false, &r), 0);
		ck_assert_int_eq(r.status, statuses[i]);
		rt_assert_header(&r, "Location", target);
		rt_assert_header(&r, "Cache-Control", cache_control_of(statuses[i], "120"));
		http_result_free(&r);
	}
	rt_stop();
}
END_TEST

/* HEAD on each status: the GET's status and headers, and not one body byte
 * on the wire (read with a raw socket until the daemon closes). */
START_TEST(test_head_has_same_headers_and_no_body)
{
	int status = statuses[_i];
	struct http_result get, head;
	char resp[4096], target[128], line[32];
	static const char req[] = "HEAD /c HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
	const char *names[] = {"Location", "Cache-Control", "Content-Type", "Content-Length"};
	char *end;
	bool closed;

	rt_start(NULL);
	add_echo_link(status);
	snprintf(target, sizeof(target), "%s/p", rt_echo.url);
	ck_assert_int_eq(http_do("GET", rt_url("/c"), NULL, 0, NULL, false, &get), 0);
	ck_assert_int_eq(http_do("HEAD", rt_url("/c"), NULL, 0, NULL, false, &head), 0);
	ck_assert_int_eq(head.status, status);
	ck_assert_uint_eq(head.body_len, 0);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char v[512];
		ck_assert_msg(http_header(&get, names[i], v, sizeof(v)) == 0, "GET has no %s", names[i]);
		rt_assert_header(&head, names[i], v);
	}
	rt_assert_header(&head, "Location", target);

	ck_assert_int_gt(raw_request_ex(rt_daemon.port, req, strlen(req), resp, sizeof(resp), 5000, &closed), 0);
	ck_assert(closed);
	snprintf(line, sizeof(line), "HTTP/1.1 %d ", status);
	rt_assert_status_line(resp, line);
	end = strstr(resp, "\r\n\r\n");
	ck_assert_ptr_nonnull(end);
	ck_assert_str_eq(end + 4, "");
	http_result_free(&get);
	http_result_free(&head);
	rt_stop();
}
END_TEST

START_TEST(test_get_page_escapes_the_link)
{
	static const char target[] = "https://t.example/a?x=1&y='2'&z=\"3\"<b>";
	static const char location[] = "https://t.example/a?x=1&y='2'&z=%223%22%3Cb%3E";
	static const char escaped[] = "https://t.example/a?x=1&amp;y=&#39;2&#39;&amp;z=%223%22%3Cb%3E";
	struct http_result r;
	char page[512];

	rt_start(NULL);
	create_link(&rt_daemon, target, "esc", 307, NULL);
	ck_assert_int_eq(http_do("GET", rt_url("/esc"), NULL, 0, NULL, false, &r), 0);
	ck_assert_int_eq(r.status, 307);
	rt_assert_header(&r, "Location", location);
	redirect_page(page, sizeof(page), escaped);
	ck_assert_str_eq(r.body, page);
	http_result_free(&r);
	rt_stop();
}
END_TEST

START_TEST(test_any_method_gets_the_redirect)
{
	static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "PROPFIND"};
	struct http_result r;

	rt_start(NULL);
	create_link(&rt_daemon, "https://t.example/any", "any", 308, NULL);
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		ck_assert_int_eq(http_do(methods[i], rt_url("/any"), NULL, 0, NULL, false, &r), 0);
		ck_assert_msg(r.status == 308, "%s: %ld", methods[i], r.status);
		rt_assert_header(&r, "Location", "https://t.example/any");
		http_result_free(&r);
	}
	rt_stop();
}
END_TEST

/* ---- 404 and 410, HTML or JSON by Accept ---- */

struct accept_case {
	const char *accept; /* NULL: no Accept header */
	bool json;
};

static const struct accept_case accept_cases[] = {
    {NULL, false},
    {"text/html", false},
    {"application/json", true},
    {"*/*", false},
    {"application/json;q=0.9, text/html", false},
    {"text/html;q=0.5, application/json", true},
    {"application/json, text/plain", true},
    {"text/html;q=0.1, application/json;q=0.2", true},
    {"application/json;q=0", false},
    {"application/*", true},
};

static void assert_fixed(const struct http_result *r, long status, bool json, const char *html_body,
                         const char *json_body)
{
	ck_assert_int_eq(r->status, status);
	rt_assert_header(r, "Content-Type", json ? JSON_TYPE : HTML_TYPE);
	rt_assert_header(r, "Cache-Control", "no-store");
	rt_assert_header(r, "Location", NULL);
	ck_assert_str_eq(r->body, json ? json_body : html_body);
}

START_TEST(test_unknown_code_is_404_html_or_json_by_accept)
{
	const struct accept_case *c = &accept_cases[_i];
	char accept[256];
	const char *headers[] = {accept, NULL};
	struct http_result r;

	snprintf(accept, sizeof(accept), "Accept: %s", c->accept != NULL ? c->accept : "");
	rt_start(NULL);
	create_link(&rt_daemon, "https://t.example/known", "known", 307, NULL);
	ck_assert_int_eq(http_do("GET", rt_url("/unknown"), NULL, 0, c->accept != NULL ? headers : NULL, false, &r), 0);
	assert_fixed(&r, 404, c->json, not_found_html, not_found_json);
	http_result_free(&r);
	ck_assert_int_eq(http_do("POST", rt_url("/Known"), "x=1", 3, c->accept != NULL ? headers : NULL, false, &r), 0);
	assert_fixed(&r, 404, c->json, not_found_html, not_found_json);
	http_result_free(&r);
	rt_stop();
}
END_TEST

enum gone_kind { GONE_EXPIRED, GONE_NO_CLICKS, GONE_DISABLED };

/* Row i: kind i/2, Accept HTML (even) or JSON (odd). */
START_TEST(test_expired_out_of_clicks_disabled_link_is_410)
{
	enum gone_kind kind = (enum gone_kind)(_i / 2);
	bool json = _i % 2 == 1;
	const char *headers[] = {"Accept: application/json", NULL};
	static const char *const expiring[] = {"--expires", "2030-01-01T00:00:00Z", NULL};
	static const char *const no_clicks[] = {"--max-clicks", "0", NULL};
	struct http_result r;

	rt_prepare();
	if (kind == GONE_DISABLED)
		rt_store_link("gone", "https://t.example/gone", 307, true);
	rt_launch(NULL);
	if (kind == GONE_EXPIRED) {
		/* A past expiry is refused at creation: end the link by hand. */
		create_link(&rt_daemon, "https://t.example/gone", "gone", 307, expiring);
		sqlfile_exec(rt_daemon.db, "UPDATE links SET expires_at = 1577836800 WHERE code = 'gone'");
	} else if (kind == GONE_NO_CLICKS)
		create_link(&rt_daemon, "https://t.example/gone", "gone", 307, no_clicks);
	ck_assert_int_eq(http_do("GET", rt_url("/gone"), NULL, 0, json ? headers : NULL, false, &r), 0);
	assert_fixed(&r, 410, json, gone_html, gone_json);
	http_result_free(&r);
	ck_assert_int_eq(http_do("POST", rt_url("/gone"), "x=1", 3, json ? headers : NULL, true, &r), 0);
	assert_fixed(&r, 410, json, gone_html, gone_json);
	http_result_free(&r);
	rt_stop();
}
END_TEST

START_TEST(test_link_with_max_clicks_1_redirects_once_then_410)
{
	static const char *const one[] = {"--max-clicks", "1", NULL};
	struct http_result r;

	rt_start(NULL);
	create_link(&rt_daemon, "https://t.example/once", "once", 307, one);
	ck_assert_int_eq(http_do("GET", rt_url("/once"), NULL, 0, NULL, false, &r), 0);
	ck_assert_int_eq(r.status, 307);
	rt_assert_header(&r, "Location", "https://t.example/once");
	http_result_free(&r);
	ck_assert_int_eq(http_do("GET", rt_url("/once"), NULL, 0, NULL, false, &r), 0);
	assert_fixed(&r, 410, false, gone_html, gone_json);
	http_result_free(&r);
	rt_stop();
}
END_TEST

/* ---- forward_query ---- */

struct query_case {
	const char *target;
	bool forward;
	const char *query; /* NULL: no '?' in the request */
	const char *location;
};

static const struct query_case query_cases[] = {
    {"https://t.example/p", true, "x=1", "https://t.example/p?x=1"},
    {"https://t.example/p?a=b", true, "x=1", "https://t.example/p?a=b&x=1"},
    {"https://t.example/p#frag", true, "x=1", "https://t.example/p?x=1#frag"},
    {"https://t.example/p?a=b#frag", true, "x=1&y=2", "https://t.example/p?a=b&x=1&y=2#frag"},
    {"https://t.example/p?a=b", true, NULL, "https://t.example/p?a=b"},
    {"https://t.example/p?a=b", true, "", "https://t.example/p?a=b"},
    {"https://t.example/p", true, "q=a%20b&r=%26", "https://t.example/p?q=a%20b&r=%26"},
    {"https://t.example/p?a=b", false, "x=1", "https://t.example/p?a=b"},
    {"https://t.example/p#frag", false, "x=1", "https://t.example/p#frag"},
};

START_TEST(test_forward_query_merges_request_query_into_target)
{
	const struct query_case *c = &query_cases[_i];
	static const char *const fq[] = {"--forward-query", NULL};
	struct http_result r;
	char path[256];

	rt_start(NULL);
	create_link(&rt_daemon, c->target, "fq", 302, c->forward ? fq : NULL);
	snprintf(path, sizeof(path), "/fq%s%s", c->query != NULL ? "?" : "", c->query != NULL ? c->query : "");
	ck_assert_int_eq(http_do("GET", rt_url(path), NULL, 0, NULL, false, &r), 0);
	ck_assert_int_eq(r.status, 302);
	rt_assert_header(&r, "Location", c->location);
	http_result_free(&r);
	rt_stop();
}
END_TEST

START_TEST(test_forward_query_reaches_the_target_with_post_body)
{
	static const char *const fq[] = {"--forward-query", NULL};
	struct http_result r;
	char target[128];

	rt_start(NULL);
	snprintf(target, sizeof(target), "%s/p?a=b", rt_echo.url);
	create_link(&rt_daemon, target, "fq", 307, fq);
	ck_assert_int_eq(http_do("POST", rt_url("/fq?x=1&y=%2F"), "k=v", 3, NULL, true, &r), 0);
	ck_assert_int_eq(r.status, 200);
	assert_echo(r.body, r.body_len, "POST", "/p?a=b&x=1&y=%2F", "k=v", 3);
	http_result_free(&r);
	rt_stop();
}
END_TEST

/* ---- reserved paths ---- */

START_TEST(test_robots_txt_and_healthz_answer_their_content)
{
	struct http_result r;

	rt_start(NULL);
	ck_assert_int_eq(http_do("GET", rt_url("/robots.txt"), NULL, 0, NULL, false, &r), 0);
	ck_assert_int_eq(r.status, 200);
	rt_assert_header(&r, "Content-Type", "text/plain; charset=utf-8");
	ck_assert_str_eq(r.body, robots_txt);
	http_result_free(&r);
	ck_assert_int_eq(http_do("GET", rt_url("/healthz"), NULL, 0, NULL, false, &r), 0);
	ck_assert_int_eq(r.status, 200);
	rt_assert_header(&r, "Content-Type", "text/plain; charset=utf-8");
	rt_assert_header(&r, "Cache-Control", "no-store");
	ck_assert_str_eq(r.body, "ok\n");
	http_result_free(&r);
	rt_stop();
}
END_TEST

/* Links stored under reserved codes straight in the database (the rules
 * refuse them, so this is the worst case): the paths still never redirect. */
START_TEST(test_reserved_paths_never_redirect)
{
	static const char *const codes[] = {"api",     "admin",   "admin2",     "Admin",
	                                    "healthz", "metrics", "robots.txt", "favicon.ico"};
	static const struct {
		const char *path;
		long status;
	} paths[] = {
	    {"/api", 401},     {"/api/", 401},    {"/api/v1/links", 401}, {"/api/x", 401},
	    {"/admin", 200},   {"/admin2", 404},  {"/Admin", 404},        {"/admin/links", 404},
	    {"/healthz", 200}, {"/metrics", 200}, {"/robots.txt", 200},   {"/favicon.ico", 404},
	};
	struct http_result r;

	rt_prepare();
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		rt_store_link(codes[i], "https://t.example/reserved", 307, false);
	rt_launch(NULL);
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		static const char *const methods[] = {"GET", "POST"};
		for (int m = 0; m < 2; m++) {
			ck_assert_int_eq(http_do(methods[m], rt_url(paths[i].path), m == 1 ? "x=1" : NULL,
			                         m == 1 ? 3 : 0, NULL, false, &r),
			                 0);
			ck_assert_msg(r.status < 300 || r.status >= 400, "%s %s: %ld", methods[m], paths[i].path,
			              r.status);
			rt_assert_header(&r, "Location", NULL);
			if (m == 0)
				ck_assert_msg(r.status == paths[i].status, "GET %s: %ld, expected %ld", paths[i].path,
				              r.status, paths[i].status);
			http_result_free(&r);
		}
	}
	rt_stop();
}
END_TEST

START_TEST(test_reserved_code_cannot_be_created)
{
	static const char *const codes[] = {"api",     "API",        "admin",       "administrator", "healthz",
	                                    "metrics", "robots.txt", "favicon.ico", "export"};
	char out[512], err[512], list[4096];
	static const char *const list_args[] = {"list", NULL};
	struct daemon d;

	fixture_make_db(&d, NULL);
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		const char *args[] = {"add", "https://t.example/r", "--code", codes[i], NULL};
		ck_assert_int_eq(shortd_run(d.db, out, sizeof(out), err, sizeof(err), args), 2);
		ck_assert_str_eq(out, "");
		ck_assert_msg(strstr(err, "(invalid_code)") != NULL, "%s: %s", codes[i], err);
	}
	ck_assert_int_eq(shortd_run(d.db, list, sizeof(list), err, sizeof(err), list_args), 0);
	ck_assert_str_eq(list, "");
	daemon_cleanup(&d);
}
END_TEST

Suite *redirect_suite(void)
{
	Suite *s = suite_create("redirect");
	TCase *body = tcase_create("keeps_body");
	TCase *headers = tcase_create("headers");
	TCase *errors = tcase_create("errors");
	TCase *query = tcase_create("forward_query");
	TCase *reserved = tcase_create("reserved");

	tcase_set_timeout(body, 60);
	tcase_add_loop_test(body, test_body_through_307_308_arrives_with_same_method_and_bytes, 0, 12);
	tcase_add_loop_test(body, test_post_through_301_302_303_arrives_as_get, 0, 3);
	tcase_add_loop_test(body, test_curl_command_follows_with_method_and_body_of_each_status, 0,
	                    (int)(sizeof(curl_cases) / sizeof(curl_cases[0])));
	suite_add_tcase(s, body);

	tcase_set_timeout(headers, 60);
	tcase_add_loop_test(headers, test_each_status_has_exact_location_cache_control_and_page, 0, 5);
	tcase_add_test(headers, test_cache_max_age_flag_sets_max_age_of_301_and_308_only);
	tcase_add_loop_test(headers, test_head_has_same_headers_and_no_body, 0, 5);
	tcase_add_test(headers, test_get_page_escapes_the_link);
	tcase_add_test(headers, test_any_method_gets_the_redirect);
	suite_add_tcase(s, headers);

	tcase_set_timeout(errors, 60);
	tcase_add_loop_test(errors, test_unknown_code_is_404_html_or_json_by_accept, 0,
	                    (int)(sizeof(accept_cases) / sizeof(accept_cases[0])));
	tcase_add_loop_test(errors, test_expired_out_of_clicks_disabled_link_is_410, 0, 6);
	tcase_add_test(errors, test_link_with_max_clicks_1_redirects_once_then_410);
	suite_add_tcase(s, errors);

	tcase_set_timeout(query, 60);
	tcase_add_loop_test(query, test_forward_query_merges_request_query_into_target, 0,
	                    (int)(sizeof(query_cases) / sizeof(query_cases[0])));
	tcase_add_test(query, test_forward_query_reaches_the_target_with_post_body);
	suite_add_tcase(s, query);

	tcase_set_timeout(reserved, 60);
	tcase_add_test(reserved, test_robots_txt_and_healthz_answer_their_content);
	tcase_add_test(reserved, test_reserved_paths_never_redirect);
	tcase_add_test(reserved, test_reserved_code_cannot_be_created);
	suite_add_tcase(s, reserved);
	return s;
}
