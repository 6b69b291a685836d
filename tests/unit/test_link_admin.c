/*
 * Unit tests of link_admin.c on a temporary store per test: every refusal
 * gives its error code and HTTP status and leaves the store exactly as it
 * was; accepted input is normalised and stored.
 */
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "link_admin.h"

#define NOW 1700000000
static const struct url_self own = {"http://127.0.0.1:8080", NULL, 0};
#define BASE (&own)

static char dir[256];
static char path[300];
static struct store *st;
static struct link_admin_error err;

static void fixture_setup(void)
{
	char e[256];

	tempdb_make("linkops", dir, sizeof(dir), path, sizeof(path));
	ck_assert_msg(store_open(path, &st, e, sizeof(e)) == STORE_OK, "%s", e);
	memset(&err, 0, sizeof(err));
}

static void fixture_teardown(void)
{
	store_close(st);
	tempdb_remove(dir, path);
}

/* Every row of links as one string, to compare before and after. */
static void dump(char *out, size_t size)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	size_t n = 0;

	out[0] = '\0';
	ck_assert_int_eq(sqlite_counts_open(path, SQLITE_OPEN_READONLY, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db,
	                                    "SELECT id, code, url, status, forward_query, disabled, created_at, "
	                                    "updated_at, expires_at, max_clicks, clicks FROM links ORDER BY id",
	                                    -1, &s, NULL),
	                 SQLITE_OK);
	while (sqlite3_step(s) == SQLITE_ROW) {
		for (int i = 0; i < 11; i++) {
			const unsigned char *t = sqlite3_column_text(s, i);
			n += (size_t)snprintf(out + n, size - n, "%s|", t != NULL ? (const char *)t : "NULL");
			ck_assert_uint_lt(n, size);
		}
		n += (size_t)snprintf(out + n, size - n, "\n");
	}
	sqlite3_finalize(s);
	sqlite3_close(db);
}

static struct link_input input(const char *url, const char *code)
{
	struct link_input in = {.url = url, .code = code, .expires_at = LINK_NO_TIME, .max_clicks = LINK_NO_LIMIT};
	return in;
}

START_TEST(test_create_normalises_and_stores)
{
	struct link_input in = input("HTTPS://T.Example/p?q=caf\xc3\xa9", "mine");
	struct link out, got;

	in.status = 307;
	in.expires_at = NOW + 60;
	in.max_clicks = 5;
	in.forward_query = true;
	ck_assert_int_eq(link_admin_create(st, BASE, 302, NOW, &in, &out, &err), 0);
	ck_assert_str_eq(out.code, "mine");
	ck_assert_str_eq(out.url, "https://t.example/p?q=caf%C3%A9");
	ck_assert_int_gt(out.id, 0);
	ck_assert_int_eq(store_link_lookup(st, "mine", &got), STORE_OK);
	ck_assert_str_eq(got.url, "https://t.example/p?q=caf%C3%A9");
	ck_assert_int_eq(got.status, 307);
	ck_assert_int_eq(got.expires_at, NOW + 60);
	ck_assert_int_eq(got.max_clicks, 5);
	ck_assert(got.forward_query);
	ck_assert_int_eq(got.created_at, NOW);
	ck_assert_int_eq(got.updated_at, NOW);
}
END_TEST

START_TEST(test_create_default_status_and_generated_code)
{
	struct link_input in = input("https://t.example/", NULL);
	struct link out, got;

	ck_assert_int_eq(link_admin_create(st, BASE, 308, NOW, &in, &out, &err), 0);
	ck_assert_uint_eq(strlen(out.code), LINK_GEN_LEN);
	ck_assert_int_eq(store_link_lookup(st, out.code, &got), STORE_OK);
	ck_assert_int_eq(got.status, 308);
	in.code = "";
	ck_assert_int_eq(link_admin_create(st, BASE, 301, NOW, &in, &out, &err), 0);
	ck_assert_uint_eq(strlen(out.code), LINK_GEN_LEN);
	ck_assert_int_eq(out.status, 301);
}
END_TEST

START_TEST(test_create_8192_byte_url)
{
	char *url = malloc(LINK_URL_MAX + 1);
	struct link_input in;
	struct link out, got;

	memcpy(url, "https://t.example/", 18);
	memset(url + 18, 'a', LINK_URL_MAX - 18);
	url[LINK_URL_MAX] = '\0';
	in = input(url, "long");
	ck_assert_int_eq(link_admin_create(st, BASE, 302, NOW, &in, &out, &err), 0);
	ck_assert_int_eq(store_link_lookup(st, "long", &got), STORE_OK);
	ck_assert_str_eq(got.url, url);
	url[17] = '"'; /* 8,194 bytes once encoded */
	in.code = "long2";
	ck_assert_int_eq(link_admin_create(st, BASE, 302, NOW, &in, &out, &err), -1);
	ck_assert_str_eq(err.code, "invalid_url");
	free(url);
}
END_TEST

struct refusal {
	const char *url;
	const char *code;
	int status;
	int default_status;
	int64_t max_clicks;
	const char *err_code;
	int http_status;
};

static const struct refusal refusals[] = {
    {NULL, "c1", 0, 302, LINK_NO_LIMIT, "invalid_url", 400},
    {"", "c1", 0, 302, LINK_NO_LIMIT, "invalid_url", 400},
    {"javascript:alert(1)", "c1", 0, 302, LINK_NO_LIMIT, "invalid_url", 400},
    {"ftp://t.example/", "c1", 0, 302, LINK_NO_LIMIT, "invalid_url", 400},
    {"https://t.example/a b", "c1", 0, 302, LINK_NO_LIMIT, "invalid_url", 400},
    {"https://t.example/\r\nX: y", "c1", 0, 302, LINK_NO_LIMIT, "invalid_url", 400},
    {"https://u:p@t.example/", "c1", 0, 302, LINK_NO_LIMIT, "invalid_url", 400},
    {"http://127.0.0.1:8080/taken", "c1", 0, 302, LINK_NO_LIMIT, "invalid_url", 400},
    {"HTTP://127.0.0.1:8080", NULL, 0, 302, LINK_NO_LIMIT, "invalid_url", 400},
    {"https://t.example/", "bad code", 0, 302, LINK_NO_LIMIT, "invalid_code", 400},
    {"https://t.example/", "a/b", 0, 302, LINK_NO_LIMIT, "invalid_code", 400},
    {"https://t.example/", "api", 0, 302, LINK_NO_LIMIT, "invalid_code", 400},
    {"https://t.example/", "Admin-page", 0, 302, LINK_NO_LIMIT, "invalid_code", 400},
    {"https://t.example/", "HEALTHZ", 0, 302, LINK_NO_LIMIT, "invalid_code", 400},
    {"https://t.example/", "export", 0, 302, LINK_NO_LIMIT, "invalid_code", 400},
    {"https://t.example/", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 0, 302, LINK_NO_LIMIT,
     "invalid_code", 400},
    {"https://t.example/", "c1", 200, 302, LINK_NO_LIMIT, "invalid_status", 400},
    {"https://t.example/", "c1", 304, 302, LINK_NO_LIMIT, "invalid_status", 400},
    {"https://t.example/", "c1", -302, 302, LINK_NO_LIMIT, "invalid_status", 400},
    {"https://t.example/", "c1", 0, 200, LINK_NO_LIMIT, "invalid_status", 400},
    {"https://t.example/", "c1", 0, 302, -2, "invalid_max_clicks", 400},
    {"https://t.example/", "c1", 0, 302, INT64_MIN, "invalid_max_clicks", 400},
    {"https://t.example/", "taken", 0, 302, LINK_NO_LIMIT, "code_taken", 409},
};

/* Each refusal: its code and status, a message, and no change at all. */
START_TEST(test_create_refused_changes_nothing)
{
	const struct refusal *r = &refusals[_i];
	struct link_input in = input("https://first.example/", "taken");
	struct link out;
	static char before[4096], after[4096];

	ck_assert_int_eq(link_admin_create(st, BASE, 302, NOW, &in, &out, &err), 0);
	dump(before, sizeof(before));
	in = input(r->url, r->code);
	in.status = r->status;
	in.max_clicks = r->max_clicks;
	ck_assert_int_eq(link_admin_create(st, BASE, r->default_status, NOW + 5, &in, &out, &err), -1);
	ck_assert_ptr_nonnull(err.code);
	ck_assert_str_eq(err.code, r->err_code);
	ck_assert_int_eq(err.http_status, r->http_status);
	ck_assert_uint_gt(strlen(err.message), 0);
	dump(after, sizeof(after));
	ck_assert_str_eq(after, before);
}
END_TEST

START_TEST(test_create_url_message_is_the_rule)
{
	struct link_input in = input("mailto:x@example.com", "c1");
	struct link out;

	ck_assert_int_eq(link_admin_create(st, BASE, 302, NOW, &in, &out, &err), -1);
	ck_assert_str_eq(err.message, "url must be an absolute http or https URL");
	in = input("https://t.example/", "x.y");
	ck_assert_int_eq(link_admin_create(st, BASE, 302, NOW, &in, &out, &err), -1);
	ck_assert_str_eq(err.message, "code may contain only A-Z, a-z, 0-9, '_' and '-'");
}
END_TEST

START_TEST(test_update_applies_and_normalises)
{
	struct link_input in = input("https://first.example/", "u");
	struct link_patch p;
	struct link out, got;

	ck_assert_int_eq(link_admin_create(st, BASE, 302, NOW, &in, &out, &err), 0);
	memset(&p, 0, sizeof(p));
	p.fields = PATCH_URL | PATCH_STATUS | PATCH_MAX_CLICKS;
	snprintf(p.url, sizeof(p.url), "HTTPS://Second.Example/\xe2\x82\xac");
	p.status = 303;
	p.max_clicks = 0;
	ck_assert_int_eq(link_admin_update(st, BASE, "u", &p, NOW + 10, &out, &err), 0);
	ck_assert_str_eq(out.url, "https://second.example/%E2%82%AC");
	ck_assert_int_eq(store_link_lookup(st, "u", &got), STORE_OK);
	ck_assert_str_eq(got.url, "https://second.example/%E2%82%AC");
	ck_assert_int_eq(got.status, 303);
	ck_assert_int_eq(got.max_clicks, 0);
	ck_assert_int_eq(got.updated_at, NOW + 10);
	ck_assert_int_eq(got.created_at, NOW);
}
END_TEST

/* A link that would be expired at birth is refused; an update may end a
 * link by setting a past time. */
START_TEST(test_create_refuses_an_expiry_not_in_the_future)
{
	struct link_input in = input("https://t.example/", "late");
	struct link_patch p;
	struct link out, got;

	in.expires_at = NOW - 1;
	ck_assert_int_eq(link_admin_create(st, BASE, 302, NOW, &in, &out, &err), -1);
	ck_assert_str_eq(err.code, "invalid_expires_at");
	ck_assert_int_eq(err.http_status, 400);
	in.expires_at = NOW;
	ck_assert_int_eq(link_admin_create(st, BASE, 302, NOW, &in, &out, &err), -1);
	ck_assert_str_eq(err.code, "invalid_expires_at");
	ck_assert_int_eq(store_link_lookup(st, "late", &got), STORE_NOT_FOUND);

	in.expires_at = NOW + 1;
	ck_assert_int_eq(link_admin_create(st, BASE, 302, NOW, &in, &out, &err), 0);
	memset(&p, 0, sizeof(p));
	p.fields = PATCH_EXPIRES_AT;
	p.expires_at = NOW - 3600;
	ck_assert_int_eq(link_admin_update(st, BASE, "late", &p, NOW, &out, &err), 0);
	ck_assert_int_eq(store_link_lookup(st, "late", &got), STORE_OK);
	ck_assert_int_eq(got.expires_at, NOW - 3600);
}
END_TEST

struct patch_refusal {
	unsigned fields;
	const char *url;
	int status;
	int64_t max_clicks;
	const char *code;
	const char *err_code;
	int http_status;
};

static const struct patch_refusal patch_refusals[] = {
    {PATCH_URL, "data:text/html,hi", 0, 0, "u", "invalid_url", 400},
    {PATCH_URL, "", 0, 0, "u", "invalid_url", 400},
    {PATCH_URL, "http://127.0.0.1:8080/u", 0, 0, "u", "invalid_url", 400},
    {PATCH_URL | PATCH_STATUS, "https://bad host/", 302, 0, "u", "invalid_url", 400},
    {PATCH_STATUS, NULL, 300, 0, "u", "invalid_status", 400},
    {PATCH_STATUS | PATCH_URL, "https://ok.example/", 0, 0, "u", "invalid_status", 400},
    {PATCH_MAX_CLICKS, NULL, 0, -7, "u", "invalid_max_clicks", 400},
    {PATCH_STATUS, NULL, 301, 0, "nope", "not_found", 404},
};

START_TEST(test_update_refused_changes_nothing)
{
	const struct patch_refusal *r = &patch_refusals[_i];
	struct link_input in = input("https://first.example/", "u");
	struct link_patch p;
	struct link out;
	static char before[4096], after[4096];

	ck_assert_int_eq(link_admin_create(st, BASE, 302, NOW, &in, &out, &err), 0);
	dump(before, sizeof(before));
	memset(&p, 0, sizeof(p));
	p.fields = r->fields;
	snprintf(p.url, sizeof(p.url), "%s", r->url != NULL ? r->url : "");
	p.status = r->status;
	p.max_clicks = r->max_clicks;
	ck_assert_int_eq(link_admin_update(st, BASE, r->code, &p, NOW + 10, &out, &err), -1);
	ck_assert_str_eq(err.code, r->err_code);
	ck_assert_int_eq(err.http_status, r->http_status);
	dump(after, sizeof(after));
	ck_assert_str_eq(after, before);
}
END_TEST

START_TEST(test_store_errors)
{
	static const struct {
		int status;
		const char *code;
		int http;
	} map[] = {
	    {STORE_NOT_FOUND, "not_found", 404}, {STORE_CONFLICT, "code_taken", 409},
	    {STORE_FULL, "storage_full", 503},   {STORE_READONLY, "unavailable", 503},
	    {STORE_CORRUPT, "unavailable", 503}, {STORE_TOO_NEW, "unavailable", 503},
	    {STORE_ERROR, "unavailable", 503},
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		memset(&err, 0, sizeof(err));
		link_admin_store_error(map[i].status, &err);
		ck_assert_str_eq(err.code, map[i].code);
		ck_assert_int_eq(err.http_status, map[i].http);
		ck_assert_uint_gt(strlen(err.message), 0);
	}
}
END_TEST

START_TEST(test_create_labels_and_author)
{
	static const char *const tags[] = {"b", "a", "b"};
	static const size_t lens[] = {1, 1, 1};
	struct link_input in = input("https://t.example/", "lab");
	struct link out, got;

	in.title = "A title";
	in.title_len = 7;
	in.tags = tags;
	in.tag_lens = lens;
	in.n_tags = 3;
	in.by = "alice";
	ck_assert_int_eq(link_admin_create(st, BASE, 302, NOW, &in, &out, &err), 0);
	ck_assert_int_eq(store_link_lookup(st, "lab", &got), STORE_OK);
	ck_assert_str_eq(got.title, "A title");
	ck_assert_int_eq(got.n_tags, 2);
	ck_assert_str_eq(got.tags[0], "b");
	ck_assert_str_eq(got.tags[1], "a");
	ck_assert_str_eq(got.created_by, "alice");
	ck_assert_str_eq(got.updated_by, "alice");
}
END_TEST

START_TEST(test_labels_refused_change_nothing)
{
	static const char *const ctl[] = {"ok", "a\x01"};
	static const char *const many[] = {"1",  "2",  "3",  "4",  "5",  "6",  "7",  "8",  "9",  "10", "11",
	                                   "12", "13", "14", "15", "16", "17", "18", "19", "20", "21", "22",
	                                   "23", "24", "25", "26", "27", "28", "29", "30", "31", "32", "33"};
	struct link_input in = input("https://t.example/", "lab");
	char before[4096], after[4096];
	struct link out;

	dump(before, sizeof(before));
	in.title = "a\tb";
	in.title_len = 3;
	ck_assert_int_eq(link_admin_create(st, BASE, 302, NOW, &in, &out, &err), -1);
	ck_assert_str_eq(err.code, "invalid_title");
	ck_assert_int_eq(err.http_status, 400);
	in.title = NULL;
	in.tags = ctl;
	in.n_tags = 2;
	ck_assert_int_eq(link_admin_create(st, BASE, 302, NOW, &in, &out, &err), -1);
	ck_assert_str_eq(err.code, "invalid_tags");
	ck_assert_ptr_nonnull(strstr(err.message, "tags[1]"));
	in.tags = many;
	in.n_tags = 33;
	ck_assert_int_eq(link_admin_create(st, BASE, 302, NOW, &in, &out, &err), -1);
	ck_assert_str_eq(err.code, "invalid_tags");
	ck_assert_ptr_nonnull(strstr(err.message, "at most 32"));
	dump(after, sizeof(after));
	ck_assert_str_eq(after, before);
}
END_TEST

START_TEST(test_batch_names_the_first_bad_item)
{
	struct link_input in[3] = {input("https://t.example/0", NULL), input("https://t.example/1", "one"),
	                           input("https://t.example/2", "one")};
	struct store_new_link *out = calloc(3, sizeof(*out));
	char before[4096], after[4096];
	size_t bad = 99;

	ck_assert_ptr_nonnull(out);
	dump(before, sizeof(before));
	in[1].status = 200;
	ck_assert_int_eq(link_admin_create_batch(st, BASE, 302, NOW, in, 3, out, &bad, &err), -1);
	ck_assert_uint_eq(bad, 1);
	ck_assert_str_eq(err.code, "invalid_status");
	in[1].status = 0;
	ck_assert_int_eq(link_admin_create_batch(st, BASE, 302, NOW, in, 3, out, &bad, &err), -1);
	ck_assert_uint_eq(bad, 2);
	ck_assert_str_eq(err.code, "code_taken");
	ck_assert_int_eq(err.http_status, 409);
	dump(after, sizeof(after));
	ck_assert_str_eq(after, before);

	/* reuse with a code asked for is a plain create. */
	in[2] = input("https://t.example/0", "two");
	in[2].reuse = true;
	in[0].reuse = true;
	ck_assert_int_eq(link_admin_create_batch(st, BASE, 302, NOW, in, 3, out, &bad, &err), 0);
	ck_assert(!out[0].reused);
	ck_assert(!out[2].reused);
	ck_assert_str_eq(out[2].link.code, "two");
	ck_assert_int_eq(link_admin_create_batch(st, BASE, 302, NOW, in, 1, out, &bad, &err), 0);
	ck_assert(out[0].reused);
	free(out);
}
END_TEST

START_TEST(test_patch_labels)
{
	struct link_patch *p = calloc(1, sizeof(*p));
	struct link_input in = input("https://t.example/", "lab");
	struct link out;
	char long_title[LINK_TITLE_MAX + 2];

	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(link_admin_create(st, BASE, 302, NOW, &in, &out, &err), 0);
	memset(long_title, 'x', sizeof(long_title) - 1);
	long_title[sizeof(long_title) - 1] = '\0';
	ck_assert_int_eq(link_admin_patch_title(p, long_title, strlen(long_title), &err), -1);
	ck_assert_str_eq(err.code, "invalid_title");
	ck_assert_int_eq(link_admin_patch_tag(p, "", 0, 4, &err), -1);
	ck_assert_str_eq(err.code, "invalid_tags");
	ck_assert_ptr_nonnull(strstr(err.message, "tags[4]"));
	memset(p, 0, sizeof(*p));
	ck_assert_int_eq(link_admin_patch_title(p, "T", 1, &err), 0);
	ck_assert_int_eq(link_admin_patch_tag(p, "x", 1, 0, &err), 0);
	ck_assert_int_eq(link_admin_patch_tag(p, "y", 1, 1, &err), 0);
	ck_assert_int_eq(link_admin_patch_tag(p, "x", 1, 2, &err), 0);
	ck_assert_uint_eq(p->fields, PATCH_TITLE | PATCH_TAGS);
	snprintf(p->by, sizeof(p->by), "bob");
	ck_assert_int_eq(link_admin_update(st, BASE, "lab", p, NOW + 1, &out, &err), 0);
	ck_assert_str_eq(out.title, "T");
	ck_assert_int_eq(out.n_tags, 2);
	ck_assert_str_eq(out.updated_by, "bob");
	free(p);
}
END_TEST

Suite *link_admin_suite(void)
{
	Suite *s = suite_create("link_admin");
	TCase *tc;

	tc = tcase_create("create");
	tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
	tcase_add_test(tc, test_create_normalises_and_stores);
	tcase_add_test(tc, test_create_default_status_and_generated_code);
	tcase_add_test(tc, test_create_8192_byte_url);
	tcase_add_loop_test(tc, test_create_refused_changes_nothing, 0, (int)(sizeof(refusals) / sizeof(refusals[0])));
	tcase_add_test(tc, test_create_url_message_is_the_rule);
	tcase_add_test(tc, test_create_refuses_an_expiry_not_in_the_future);
	tcase_add_test(tc, test_create_labels_and_author);
	tcase_add_test(tc, test_labels_refused_change_nothing);
	tcase_add_test(tc, test_batch_names_the_first_bad_item);
	tcase_add_test(tc, test_patch_labels);
	suite_add_tcase(s, tc);

	tc = tcase_create("update");
	tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
	tcase_add_test(tc, test_update_applies_and_normalises);
	tcase_add_loop_test(tc, test_update_refused_changes_nothing, 0,
	                    (int)(sizeof(patch_refusals) / sizeof(patch_refusals[0])));
	tcase_add_test(tc, test_store_errors);
	suite_add_tcase(s, tc);
	return s;
}
