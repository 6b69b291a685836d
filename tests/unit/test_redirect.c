/*
 * Unit tests of redirect.c through redirect_handle() on a struct
 * http_request without a socket, against a temporary store and a click
 * counter: status, Location, Cache-Control and body for each status, the
 * fixed 404/410 responses chosen by Accept, forward_query, 414, and which
 * requests count as clicks.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "html.h"
#include "link_code.h"
#include "redirect.h"

#define NOW 1700006400

static char dir[256];
static char path[300];
static struct store *st;
static struct clicks *ck;
static struct config cfg;
static struct redirect_ctx *ctx;
static struct http_response resp;

static void fixture_setup(void)
{
	char e[256];

	tempdb_make("redirect", dir, sizeof(dir), path, sizeof(path));
	ck_assert_msg(store_open(path, &st, e, sizeof(e)) == STORE_OK, "%s", e);
	ck_assert_int_eq(clicks_start(st, 600000, &ck), 0);
	config_defaults(&cfg);
	ck_assert_int_eq(redirect_ctx_new(&cfg, st, ck, &ctx), 0);
}

static void fixture_teardown(void)
{
	redirect_ctx_free(ctx);
	clicks_stop(ck);
	store_close(st);
	tempdb_remove(dir, path);
}

static struct link add(const char *code, const char *url, int status)
{
	struct link l;

	link_init(&l);
	snprintf(l.code, sizeof(l.code), "%s", code);
	snprintf(l.url, sizeof(l.url), "%s", url);
	l.status = status;
	l.created_at = l.updated_at = NOW - 100;
	ck_assert_int_eq(store_link_create(st, &l, link_code_generate, NULL), STORE_OK);
	return l;
}

static void patch(const char *code, unsigned fields, int64_t expires_at, int64_t max_clicks, bool disabled,
                  bool forward_query)
{
	struct link_patch p;
	struct link out;

	memset(&p, 0, sizeof(p));
	p.fields = fields;
	p.expires_at = expires_at;
	p.max_clicks = max_clicks;
	p.disabled = disabled;
	p.forward_query = forward_query;
	ck_assert_int_eq(store_link_update(st, code, &p, NOW - 50, &out), STORE_OK);
}

static struct http_request request(enum http_method m, const char *path_, const char *query)
{
	static const char *const names[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "BREW"};
	struct http_request r;

	memset(&r, 0, sizeof(r));
	r.method = m;
	r.method_name = names[m];
	r.path = path_;
	r.query = query;
	r.now = NOW;
	return r;
}

static void handle(const struct http_request *r)
{
	http_response_init(&resp);
	redirect_handle(ctx, r, &resp);
	if (resp.make_body != NULL)
		resp.make_body(&resp, resp.make_body_arg);
}

static void go(enum http_method m, const char *path_, const char *query, const char *accept)
{
	struct http_request r = request(m, path_, query);

	r.accept = accept;
	handle(&r);
}

static int64_t pending_human(int64_t id)
{
	int64_t h, b, at;

	clicks_pending(ck, id, &h, &b, &at);
	return h;
}

static int64_t pending_bot(int64_t id)
{
	int64_t h, b, at;

	clicks_pending(ck, id, &h, &b, &at);
	return b;
}

/* The body a GET gets: the page with the escaped Location twice. */
static void expected_page(char *out, size_t size, const char *escaped)
{
	snprintf(out, size,
	         "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Redirecting</title></head><body>"
	         "<p>Redirecting to <a href=\"%s\">%s</a>.</p></body></html>\n",
	         escaped, escaped);
}

static const int statuses[] = {301, 302, 303, 307, 308};

START_TEST(test_each_status)
{
	int status = statuses[_i];
	char code[8], page[1024];
	struct link l;

	snprintf(code, sizeof(code), "s%d", status);
	l = add(code, "https://t.example/p?a=1&b='2'", status);
	char p[16];
	snprintf(p, sizeof(p), "/%s", code);
	go(HTTP_GET, p, NULL, NULL);
	ck_assert_int_eq(resp.status, status);
	ck_assert_int_eq(resp.fixed, HTTP_FIXED_NONE);
	ck_assert_str_eq(resp.location, "https://t.example/p?a=1&b='2'");
	if (status == 301 || status == 308)
		ck_assert_str_eq(resp.cache_control, "public, max-age=3600");
	else
		ck_assert_str_eq(resp.cache_control, "private, no-store");
	ck_assert_str_eq(resp.content_type, "text/html; charset=utf-8");
	expected_page(page, sizeof(page), "https://t.example/p?a=1&amp;b=&#39;2&#39;");
	ck_assert_uint_eq(resp.body_len, strlen(page));
	ck_assert(memcmp(resp.body, page, resp.body_len) == 0);
	ck_assert(!resp.close);
	ck_assert_int_eq(pending_human(l.id), 1);
}
END_TEST

/* The page is made only when the sender asks for it, from the thread's
 * answer; a redirect answered on another thread leaves this one's alone. */
struct other_thread {
	struct http_request req;
	struct http_response resp;
	char page[1024];
};

static void *answer_elsewhere(void *arg)
{
	struct other_thread *o = arg;

	http_response_init(&o->resp);
	redirect_handle(ctx, &o->req, &o->resp);
	o->resp.make_body(&o->resp, o->resp.make_body_arg);
	snprintf(o->page, sizeof(o->page), "%.*s", (int)o->resp.body_len, o->resp.body);
	return NULL;
}

START_TEST(test_page_made_on_demand_per_thread)
{
	struct http_request r = request(HTTP_GET, "/mine", NULL);
	struct other_thread o = {.req = request(HTTP_GET, "/theirs", NULL)};
	char page[1024];
	pthread_t t;

	add("mine", "https://t.example/mine", 302);
	add("theirs", "https://t.example/theirs", 302);
	http_response_init(&resp);
	redirect_handle(ctx, &r, &resp);
	ck_assert_int_eq(resp.status, 302);
	ck_assert_ptr_null(resp.body);
	ck_assert_uint_eq(resp.body_len, 0);
	ck_assert_ptr_nonnull(resp.make_body);
	ck_assert_int_eq(pthread_create(&t, NULL, answer_elsewhere, &o), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	expected_page(page, sizeof(page), "https://t.example/theirs");
	ck_assert_str_eq(o.page, page);
	ck_assert_str_eq(o.resp.location, "https://t.example/theirs");
	ck_assert_str_eq(resp.location, "https://t.example/mine");
	resp.make_body(&resp, resp.make_body_arg);
	ck_assert(resp.body_copy);
	expected_page(page, sizeof(page), "https://t.example/mine");
	ck_assert_uint_eq(resp.body_len, strlen(page));
	ck_assert(memcmp(resp.body, page, resp.body_len) == 0);
}
END_TEST

START_TEST(test_cache_max_age_configurable)
{
	char buf[48];

	add("p", "https://t.example/", 308);
	cfg.cache_max_age = 60;
	go(HTTP_GET, "/p", NULL, NULL);
	ck_assert_str_eq(resp.cache_control, "public, max-age=60");
	ck_assert_str_eq(redirect_cache_control(301, buf, sizeof(buf), 0), "public, max-age=0");
	ck_assert_str_eq(redirect_cache_control(308, buf, sizeof(buf), 31536000), "public, max-age=31536000");
	ck_assert_str_eq(redirect_cache_control(302, buf, sizeof(buf), 60), "private, no-store");
	ck_assert_str_eq(redirect_cache_control(303, buf, sizeof(buf), 60), "private, no-store");
	ck_assert_str_eq(redirect_cache_control(307, buf, sizeof(buf), 60), "private, no-store");
}
END_TEST

/* Every method gets the same redirect; all but HEAD count. */
START_TEST(test_any_method)
{
	enum http_method m = (enum http_method)_i;
	struct link l = add("m", "https://t.example/m", 307);

	go(m, "/m", NULL, NULL);
	ck_assert_int_eq(resp.status, 307);
	ck_assert_str_eq(resp.location, "https://t.example/m");
	ck_assert_str_eq(resp.cache_control, "private, no-store");
	ck_assert_int_eq(pending_human(l.id), m == HTTP_HEAD ? 0 : 1);
	ck_assert_int_eq(pending_bot(l.id), 0);
}
END_TEST

START_TEST(test_head_not_counted)
{
	struct link l = add("h", "https://t.example/h", 302);
	struct link got;

	for (int i = 0; i < 5; i++) {
		go(HTTP_HEAD, "/h", NULL, NULL);
		ck_assert_int_eq(resp.status, 302);
		ck_assert_str_eq(resp.location, "https://t.example/h");
	}
	ck_assert_int_eq(pending_human(l.id), 0);
	ck_assert_int_eq(clicks_flush(ck), 0);
	ck_assert_int_eq(store_link_lookup(st, "h", &got), STORE_OK);
	ck_assert_int_eq(got.clicks, 0);
	ck_assert_int_eq(got.bot_clicks, 0);
}
END_TEST

struct not_found_case {
	const char *path;
	const char *accept;
	enum http_fixed fixed;
};

static const struct not_found_case not_founds[] = {
    {"/nope", NULL, HTTP_FIXED_NOT_FOUND_HTML},
    {"/nope", "text/html", HTTP_FIXED_NOT_FOUND_HTML},
    {"/nope", "*/*", HTTP_FIXED_NOT_FOUND_HTML},
    {"/nope", "application/json", HTTP_FIXED_NOT_FOUND_JSON},
    {"/nope", "text/html;q=0.5, application/json", HTTP_FIXED_NOT_FOUND_JSON},
    {"/LIVE", NULL, HTTP_FIXED_NOT_FOUND_HTML},
    {"/liv", NULL, HTTP_FIXED_NOT_FOUND_HTML},
    {"/", NULL, HTTP_FIXED_NOT_FOUND_HTML},
    {"/", "application/json", HTTP_FIXED_NOT_FOUND_JSON},
    {"/live/", NULL, HTTP_FIXED_NOT_FOUND_HTML},
    {"/live.html", NULL, HTTP_FIXED_NOT_FOUND_HTML},
    {"/api", "application/json", HTTP_FIXED_NOT_FOUND_JSON},
    {"/healthz2", NULL, HTTP_FIXED_NOT_FOUND_HTML},
    {"/admin", NULL, HTTP_FIXED_NOT_FOUND_HTML},
    {"/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", NULL, HTTP_FIXED_NOT_FOUND_HTML},
};

START_TEST(test_not_found_by_accept)
{
	const struct not_found_case *c = &not_founds[_i];
	struct link l = add("live", "https://t.example/", 302);

	go(HTTP_GET, c->path, NULL, c->accept);
	ck_assert_int_eq(resp.status, 404);
	ck_assert_int_eq(resp.fixed, c->fixed);
	ck_assert_ptr_null(resp.location);
	ck_assert_int_eq(pending_human(l.id), 0);
}
END_TEST

/* A link stored under a reserved word (by an older shortd, say) is never
 * served: the path stays the daemon's. */
START_TEST(test_reserved_code_in_store_not_served)
{
	struct link l = add("Admin2", "https://t.example/", 302);

	go(HTTP_GET, "/Admin2", NULL, NULL);
	ck_assert_int_eq(resp.status, 404);
	ck_assert_int_eq(pending_human(l.id), 0);
}
END_TEST

/* A store that cannot answer (its files removed under it, so this
 * thread's first read connection finds an empty database): 503, JSON or
 * HTML by Accept, nothing counted. */
START_TEST(test_store_failure_503)
{
	struct link l = add("s", "https://t.example/", 302);
	char p[320];

	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
	ck_assert_int_eq(unlink(path), 0);
	go(HTTP_GET, "/s", NULL, NULL);
	ck_assert_int_eq(resp.status, 503);
	ck_assert_int_eq(resp.fixed, HTTP_FIXED_UNAVAILABLE_HTML);
	go(HTTP_GET, "/s", NULL, "application/json");
	ck_assert_int_eq(resp.status, 503);
	ck_assert_int_eq(resp.fixed, HTTP_FIXED_UNAVAILABLE_JSON);
	ck_assert_ptr_null(resp.location);
	ck_assert_int_eq(pending_human(l.id), 0);
}
END_TEST

enum gone_kind { GONE_DISABLED, GONE_EXPIRED, GONE_EXPIRED_NOW, GONE_OUT_OF_CLICKS, GONE_COUNT };

START_TEST(test_gone_by_accept)
{
	enum gone_kind k = (enum gone_kind)(_i / 2);
	bool json = _i % 2 == 1;
	struct link l = add("g", "https://t.example/", 302);

	if (k == GONE_DISABLED)
		patch("g", PATCH_DISABLED, 0, 0, true, false);
	else if (k == GONE_EXPIRED)
		patch("g", PATCH_EXPIRES_AT, NOW - 1, 0, false, false);
	else if (k == GONE_EXPIRED_NOW)
		patch("g", PATCH_EXPIRES_AT, NOW, 0, false, false);
	else
		patch("g", PATCH_MAX_CLICKS, 0, 0, false, false);
	go(HTTP_GET, "/g", NULL, json ? "application/json" : "text/html,*/*;q=0.8");
	ck_assert_int_eq(resp.status, 410);
	ck_assert_int_eq(resp.fixed, json ? HTTP_FIXED_GONE_JSON : HTTP_FIXED_GONE_HTML);
	ck_assert_ptr_null(resp.location);
	ck_assert_int_eq(pending_human(l.id), 0);
	go(HTTP_HEAD, "/g", NULL, NULL);
	ck_assert_int_eq(resp.status, 410);
}
END_TEST

START_TEST(test_expires_in_future_redirects)
{
	add("f", "https://t.example/", 302);
	patch("f", PATCH_EXPIRES_AT, NOW + 1, 0, false, false);
	go(HTTP_GET, "/f", NULL, NULL);
	ck_assert_int_eq(resp.status, 302);
}
END_TEST

/* max_clicks 2: two GETs redirect, the third is 410; a HEAD after that sees
 * 410 too although the clicks are not written yet. */
START_TEST(test_max_clicks)
{
	struct link l = add("lim", "https://t.example/", 302);

	patch("lim", PATCH_MAX_CLICKS, 0, 2, false, false);
	go(HTTP_GET, "/lim", NULL, NULL);
	ck_assert_int_eq(resp.status, 302);
	go(HTTP_HEAD, "/lim", NULL, NULL);
	ck_assert_int_eq(resp.status, 302);
	go(HTTP_POST, "/lim", NULL, NULL);
	ck_assert_int_eq(resp.status, 302);
	go(HTTP_GET, "/lim", NULL, "application/json");
	ck_assert_int_eq(resp.status, 410);
	ck_assert_int_eq(resp.fixed, HTTP_FIXED_GONE_JSON);
	ck_assert_int_eq(pending_human(l.id), 2);
	go(HTTP_HEAD, "/lim", NULL, NULL);
	ck_assert_int_eq(resp.status, 410);
	ck_assert_int_eq(clicks_flush(ck), 0);
	go(HTTP_HEAD, "/lim", NULL, NULL);
	ck_assert_int_eq(resp.status, 410);
}
END_TEST

/* Bots are counted apart and never use up max_clicks. */
START_TEST(test_bots_counted_apart)
{
	struct link l = add("b", "https://t.example/", 302);
	struct http_request r = request(HTTP_GET, "/b", NULL);

	patch("b", PATCH_MAX_CLICKS, 0, 1, false, false);
	r.user_agent = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
	for (int i = 0; i < 3; i++) {
		handle(&r);
		ck_assert_int_eq(resp.status, 302);
	}
	ck_assert_int_eq(pending_bot(l.id), 3);
	ck_assert_int_eq(pending_human(l.id), 0);
	r.user_agent = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0";
	handle(&r);
	ck_assert_int_eq(resp.status, 302);
	handle(&r);
	ck_assert_int_eq(resp.status, 410);
	ck_assert_int_eq(pending_human(l.id), 1);
	/* out of clicks is out of clicks for a bot too */
	r.user_agent = "Twitterbot/1.0";
	handle(&r);
	ck_assert_int_eq(resp.status, 410);
}
END_TEST

START_TEST(test_referrer_host_recorded)
{
	struct link l = add("r", "https://t.example/", 302);
	struct http_request req = request(HTTP_GET, "/r", NULL);
	struct store_referrer refs[2];
	size_t n;

	req.referer = "https://News.Example.com/story?id=1";
	handle(&req);
	req.referer = "not a url";
	handle(&req);
	ck_assert_int_eq(clicks_flush(ck), 0);
	ck_assert_int_eq(store_link_referrers(st, l.id, 0, refs, 2, &n), STORE_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(refs[0].host, "news.example.com");
	ck_assert_int_eq(refs[0].clicks, 1);
}
END_TEST

struct fq_case {
	const char *target;
	bool forward;
	const char *query;
	const char *location;
};

static const struct fq_case fqs[] = {
    {"https://t.example/p?a=b", true, "x=1", "https://t.example/p?a=b&x=1"},
    {"https://t.example/p", true, "x=1&y=2", "https://t.example/p?x=1&y=2"},
    {"https://t.example/p#frag", true, "x=1", "https://t.example/p?x=1#frag"},
    {"https://t.example/p?a=b", true, "", "https://t.example/p?a=b"},
    {"https://t.example/p?a=b", true, NULL, "https://t.example/p?a=b"},
    {"https://t.example/p", true, "q=a b\r\n", "https://t.example/p?q=a%20b%0D%0A"},
    {"https://t.example/p?a=b", false, "x=1", "https://t.example/p?a=b"},
};

START_TEST(test_forward_query)
{
	const struct fq_case *c = &fqs[_i];
	char page[1024];

	add("fq", c->target, 302);
	patch("fq", PATCH_FORWARD_QUERY, 0, 0, false, c->forward);
	go(HTTP_GET, "/fq", c->query, NULL);
	ck_assert_int_eq(resp.status, 302);
	ck_assert_str_eq(resp.location, c->location);
	ck_assert_ptr_null(strpbrk(resp.location, " \r\n"));
	size_t n = 0;
	ck_assert_int_eq(html_escape_append(page, sizeof(page), &n, c->location), 0);
	ck_assert_ptr_nonnull(strstr(resp.body, page));
}
END_TEST

/* A query that makes the Location too long: 414, nothing counted, and the
 * click a limited link would have reserved is still there. */
START_TEST(test_overlong_merged_query_414)
{
	char *target = malloc(LINK_URL_MAX + 1);
	char *query = malloc(4001);
	struct link l;

	memcpy(target, "https://t.example/", 18);
	memset(target + 18, 'a', LINK_URL_MAX - 18);
	target[LINK_URL_MAX] = '\0';
	memset(query, ' ', 4000); /* 12,000 bytes once encoded */
	query[4000] = '\0';
	l = add("long", target, 307);
	patch("long", PATCH_FORWARD_QUERY | PATCH_MAX_CLICKS, 0, 1, false, true);
	go(HTTP_GET, "/long", query, NULL);
	ck_assert_int_eq(resp.status, 414);
	ck_assert_int_eq(resp.fixed, HTTP_FIXED_NONE);
	ck_assert_ptr_null(resp.location);
	ck_assert_str_eq(resp.cache_control, "no-store");
	ck_assert_str_eq(resp.content_type, "text/plain; charset=utf-8");
	ck_assert_uint_eq(resp.body_len, strlen("URI too long\n"));
	ck_assert(memcmp(resp.body, "URI too long\n", resp.body_len) == 0);
	ck_assert_int_eq(pending_human(l.id), 0);

	go(HTTP_GET, "/long", "x=1", NULL);
	ck_assert_int_eq(resp.status, 307);
	ck_assert_uint_eq(strlen(resp.location), LINK_URL_MAX + 4);
	ck_assert_int_eq(pending_human(l.id), 1);
	free(target);
	free(query);
}
END_TEST

/* The longest Location that fits still redirects, with its page. */
START_TEST(test_longest_location_fits)
{
	char *target = malloc(LINK_URL_MAX + 1);
	size_t qlen = REDIRECT_LOCATION_MAX - 1 - LINK_URL_MAX - 1;
	char *query = malloc(qlen + 1);

	memcpy(target, "https://t.example/", 18);
	memset(target + 18, '&', LINK_URL_MAX - 18);
	target[LINK_URL_MAX] = '\0';
	memset(query, '&', qlen);
	query[qlen] = '\0';
	add("max", target, 302);
	patch("max", PATCH_FORWARD_QUERY, 0, 0, false, true);
	go(HTTP_GET, "/max", query, NULL);
	ck_assert_int_eq(resp.status, 302);
	ck_assert_uint_eq(strlen(resp.location), REDIRECT_LOCATION_MAX - 1);
	ck_assert_uint_eq(resp.body_len, strlen(resp.body));
	ck_assert_ptr_nonnull(strstr(resp.body, "</a>.</p></body></html>\n"));
	free(target);
	free(query);
}
END_TEST

Suite *redirect_suite(void)
{
	Suite *s = suite_create("redirect");
	TCase *tc;

	tc = tcase_create("redirects");
	tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
	tcase_add_loop_test(tc, test_each_status, 0, (int)(sizeof(statuses) / sizeof(statuses[0])));
	tcase_add_test(tc, test_cache_max_age_configurable);
	tcase_add_test(tc, test_page_made_on_demand_per_thread);
	tcase_add_loop_test(tc, test_any_method, HTTP_GET, HTTP_OTHER + 1);
	tcase_add_test(tc, test_head_not_counted);
	tcase_add_test(tc, test_referrer_host_recorded);
	suite_add_tcase(s, tc);

	tc = tcase_create("refusals");
	tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
	tcase_add_loop_test(tc, test_not_found_by_accept, 0, (int)(sizeof(not_founds) / sizeof(not_founds[0])));
	tcase_add_test(tc, test_reserved_code_in_store_not_served);
	tcase_add_test(tc, test_store_failure_503);
	tcase_add_loop_test(tc, test_gone_by_accept, 0, 2 * GONE_COUNT);
	tcase_add_test(tc, test_expires_in_future_redirects);
	tcase_add_test(tc, test_max_clicks);
	tcase_add_test(tc, test_bots_counted_apart);
	suite_add_tcase(s, tc);

	tc = tcase_create("query");
	tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
	tcase_add_loop_test(tc, test_forward_query, 0, (int)(sizeof(fqs) / sizeof(fqs[0])));
	tcase_add_test(tc, test_overlong_merged_query_414);
	tcase_add_test(tc, test_longest_location_fits);
	suite_add_tcase(s, tc);
	return s;
}
