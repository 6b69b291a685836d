/*
 * The pool of reusable redirect responses: a plain redirect gets an item
 * whose response carries its Cache-Control, Content-Type and Location in
 * that order; an item given back serves the next redirect of its kind with
 * the Location swapped, and only that kind; two of one kind out at once are
 * two items; anything more than a plain redirect gets none. The bytes sent
 * are compared whole in tests/integration/test_resp_reuse.c.
 */
#include <check.h>
#include <microhttpd.h>
#include <stdio.h>
#include <string.h>

#include "http_resppool.h"

static void no_body(struct http_response *resp, void *arg)
{
	(void)resp;
	(void)arg;
}

/* A redirect with its page made, as redirect.c answers one. */
static void redirect_init(struct http_response *r, const char *location, const char *page)
{
	http_response_init(r);
	r->status = 302;
	r->location = location;
	r->content_type = "text/html; charset=utf-8";
	r->cache_control = "private, no-store";
	r->make_body = no_body;
	r->body = page;
	r->body_len = strlen(page);
	r->body_copy = true;
}

struct seen {
	char names[8][32];
	int n;
};

static enum MHD_Result note_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct seen *s = cls;

	(void)kind;
	(void)value;
	if (s->n < 8)
		snprintf(s->names[s->n++], sizeof(s->names[0]), "%s", key);
	return MHD_YES;
}

/* The item's response has exactly the three headers, the Location last
 * and equal to location. */
static void assert_headers(const struct http_resppool_item *it, const char *location, const char *cache)
{
	struct MHD_Response *r = http_resppool_response(it);
	struct seen s = {.n = 0};

	MHD_get_response_headers(r, note_header, &s);
	ck_assert_int_eq(s.n, 3);
	ck_assert_str_eq(s.names[0], MHD_HTTP_HEADER_CACHE_CONTROL);
	ck_assert_str_eq(s.names[1], MHD_HTTP_HEADER_CONTENT_TYPE);
	ck_assert_str_eq(s.names[2], MHD_HTTP_HEADER_LOCATION);
	ck_assert_str_eq(MHD_get_response_header(r, MHD_HTTP_HEADER_LOCATION), location);
	ck_assert_str_eq(MHD_get_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL), cache);
	ck_assert_str_eq(MHD_get_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE), "text/html; charset=utf-8");
}

START_TEST(test_an_item_given_back_serves_the_next_of_its_kind)
{
	struct http_resppool *p;
	struct http_resppool_item *a, *b, *c;
	struct http_response r;

	ck_assert_int_eq(http_resppool_new(&p), 0);
	redirect_init(&r, "https://t.example/a1", "page one");
	a = http_resppool_take(p, &r);
	ck_assert_ptr_nonnull(a);
	assert_headers(a, "https://t.example/a1", "private, no-store");
	http_resppool_give_back(a);

	/* Another link, its page of the same length: the same item. */
	redirect_init(&r, "https://t.example/b2/longer", "page two");
	b = http_resppool_take(p, &r);
	ck_assert_ptr_eq(b, a);
	assert_headers(b, "https://t.example/b2/longer", "private, no-store");
	http_resppool_give_back(b);

	/* The same Location again: kept as it is. */
	c = http_resppool_take(p, &r);
	ck_assert_ptr_eq(c, a);
	assert_headers(c, "https://t.example/b2/longer", "private, no-store");
	http_resppool_give_back(c);
	http_resppool_free(p);
}
END_TEST

/* Every difference of kind: a new item, never the one given back. */
static void other_kind(struct http_response *r, int row)
{
	switch (row) {
	case 0:
		r->status = 307;
		break;
	case 1:
		r->body = "page three";
		r->body_len = strlen(r->body);
		break;
	case 2:
		r->content_type = "text/plain";
		break;
	default:
		r->cache_control = "public, max-age=60";
		break;
	}
}
#define OTHER_KIND_ROWS 4

START_TEST(test_another_kind_gets_another_item)
{
	struct http_resppool *p;
	struct http_resppool_item *a, *b;
	struct http_response r;

	ck_assert_int_eq(http_resppool_new(&p), 0);
	redirect_init(&r, "https://t.example/a1", "page one");
	a = http_resppool_take(p, &r);
	ck_assert_ptr_nonnull(a);
	http_resppool_give_back(a);
	redirect_init(&r, "https://t.example/a2", "page one");
	other_kind(&r, _i);
	b = http_resppool_take(p, &r);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_ne(b, a);
	ck_assert_str_eq(MHD_get_response_header(http_resppool_response(b), MHD_HTTP_HEADER_LOCATION),
	                 "https://t.example/a2");
	ck_assert_str_eq(MHD_get_response_header(http_resppool_response(b), MHD_HTTP_HEADER_CACHE_CONTROL),
	                 r.cache_control);
	ck_assert_str_eq(MHD_get_response_header(http_resppool_response(b), MHD_HTTP_HEADER_CONTENT_TYPE),
	                 r.content_type);
	http_resppool_give_back(b);
	/* The first kind's item is still there (unless both share a slot). */
	redirect_init(&r, "https://t.example/a3", "page one");
	b = http_resppool_take(p, &r);
	ck_assert_ptr_nonnull(b);
	http_resppool_give_back(b);
	http_resppool_free(p);
}
END_TEST

/* Two of one kind out at once are two items; once both are back, one is
 * dropped (ASan: nothing leaks) and the other serves on. */
START_TEST(test_two_out_at_once_are_two_items)
{
	struct http_resppool *p;
	struct http_resppool_item *a, *b, *c;
	struct http_response r1, r2;

	ck_assert_int_eq(http_resppool_new(&p), 0);
	redirect_init(&r1, "https://t.example/1", "page one");
	redirect_init(&r2, "https://t.example/2", "page two");
	a = http_resppool_take(p, &r1);
	b = http_resppool_take(p, &r2);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_ne(a, b);
	assert_headers(a, "https://t.example/1", "private, no-store");
	assert_headers(b, "https://t.example/2", "private, no-store");
	http_resppool_give_back(a);
	http_resppool_give_back(b);
	c = http_resppool_take(p, &r1);
	ck_assert_ptr_eq(c, b); /* the one back last */
	assert_headers(c, "https://t.example/1", "private, no-store");
	http_resppool_give_back(c);
	http_resppool_free(p);
	http_resppool_free(NULL);
}
END_TEST

/* Anything more than a plain redirect and its page: no item. */
static const char *const extra_header[] = {"Vary", "Accept", NULL};

static void not_pooled(struct http_response *r, int row, char *long_page)
{
	switch (row) {
	case 0:
		r->fixed = HTTP_FIXED_NOT_FOUND_HTML;
		break;
	case 1:
		r->location = NULL;
		break;
	case 2:
		r->make_body = NULL;
		break;
	case 3:
		r->body = NULL;
		break;
	case 4:
		r->body_len = 0;
		break;
	case 5:
		r->body = long_page;
		r->body_len = strlen(long_page);
		break;
	case 6:
		r->body_heap = (char *)"heap";
		break;
	case 7:
		r->close = true;
		break;
	case 8:
		r->allow = "GET";
		break;
	case 9:
		r->www_authenticate = "Bearer";
		break;
	case 10:
		r->nosniff = true;
		break;
	case 11:
		r->headers = extra_header;
		break;
	case 12:
		r->content_type = NULL;
		break;
	case 13:
		r->cache_control = NULL;
		break;
	case 14:
		r->stream = (struct http_stream *)long_page; /* never read: refused first */
		break;
	default:
		r->cache_control = "public, max-age=31536000, immutable, stale-while-revalidate=1";
		break;
	}
}
#define NOT_POOLED_ROWS 16

START_TEST(test_more_than_a_plain_redirect_gets_no_item)
{
	static char long_page[4098];
	struct http_resppool *p;
	struct http_response r;

	memset(long_page, 'x', sizeof(long_page) - 1);
	ck_assert_int_eq(http_resppool_new(&p), 0);
	redirect_init(&r, "https://t.example/a1", "page one");
	not_pooled(&r, _i, long_page);
	ck_assert_ptr_null(http_resppool_take(p, &r));
	http_resppool_free(p);
}
END_TEST

/* The longest page pooled: 4096 bytes. */
START_TEST(test_a_page_of_4096_bytes_is_pooled)
{
	static char page[4097];
	struct http_resppool *p;
	struct http_resppool_item *a;
	struct http_response r;

	memset(page, 'x', sizeof(page) - 1);
	ck_assert_int_eq(http_resppool_new(&p), 0);
	redirect_init(&r, "https://t.example/a1", page);
	a = http_resppool_take(p, &r);
	ck_assert_ptr_nonnull(a);
	http_resppool_give_back(a);
	http_resppool_free(p);
}
END_TEST

/* A Location libmicrohttpd refuses (a line break in it): no item, whether
 * new or reused, and the item that could not be reused is dropped (ASan:
 * nothing leaks); the next redirect of its kind gets a new one. */
START_TEST(test_a_location_refused_by_the_library_gets_no_item)
{
	struct http_resppool *p;
	struct http_resppool_item *a;
	struct http_response r;

	ck_assert_int_eq(http_resppool_new(&p), 0);
	redirect_init(&r, "https://t.example/a\r\nX-Injected: 1", "page one");
	ck_assert_ptr_null(http_resppool_take(p, &r));
	redirect_init(&r, "https://t.example/a1", "page one");
	a = http_resppool_take(p, &r);
	ck_assert_ptr_nonnull(a);
	http_resppool_give_back(a);
	redirect_init(&r, "https://t.example/a2\nX-Injected: 1", "page one");
	ck_assert_ptr_null(http_resppool_take(p, &r));
	redirect_init(&r, "https://t.example/a3", "page one");
	a = http_resppool_take(p, &r);
	ck_assert_ptr_nonnull(a);
	assert_headers(a, "https://t.example/a3", "private, no-store");
	http_resppool_give_back(a);
	http_resppool_free(p);
}
END_TEST

Suite *http_resppool_suite(void)
{
	Suite *s = suite_create("http_resppool");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_an_item_given_back_serves_the_next_of_its_kind);
	tcase_add_loop_test(tc, test_another_kind_gets_another_item, 0, OTHER_KIND_ROWS);
	tcase_add_test(tc, test_two_out_at_once_are_two_items);
	tcase_add_loop_test(tc, test_more_than_a_plain_redirect_gets_no_item, 0, NOT_POOLED_ROWS);
	tcase_add_test(tc, test_a_page_of_4096_bytes_is_pooled);
	tcase_add_test(tc, test_a_location_refused_by_the_library_gets_no_item);
	suite_add_tcase(s, tc);
	return s;
}
