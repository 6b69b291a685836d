/*
 * Prepared responses: the fixed ones spelled out as the shared ones send
 * them, and a worker's table of redirects, which keeps only a response that
 * is every byte the one the redirect would build and gives it back only for
 * that same status, Location, Content-Type and Cache-Control.
 */
#include <check.h>
#include <microhttpd.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "http_respcache.h"

static void no_body(struct http_response *resp, void *arg)
{
	(void)resp;
	(void)arg;
}

/* A redirect as redirect.c answers one: kept unless a row below changes it. */
static void redirect_init(struct http_response *r)
{
	http_response_init(r);
	r->status = 302;
	r->location = "https://t.example/p";
	r->content_type = "text/html; charset=utf-8";
	r->cache_control = "private, no-store";
	r->make_body = no_body;
}

static struct MHD_Response *built(void)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);

	ck_assert_ptr_nonnull(r);
	return r;
}

/* Replies that carry anything but the status, Location and the two headers
 * that follow from them are built each time: one row per such difference. */
static const char *const extra_header[] = {"Vary", "Accept", NULL};
static const char long_location[] =
    "https://t.example/0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890"
    "1234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
    "0123456789012345678901234567890123456789012345678901";

static void not_kept(struct http_response *r, int row)
{
	switch (row) {
	case 0:
		r->fixed = HTTP_FIXED_NOT_FOUND_HTML;
		break;
	case 1:
		r->location = NULL;
		break;
	case 2:
		r->location = long_location;
		break;
	case 3:
		r->close = true;
		break;
	case 4:
		r->make_body = NULL;
		break;
	case 5:
		r->body_heap = (char *)"heap";
		break;
	case 6:
		r->allow = "GET";
		break;
	case 7:
		r->www_authenticate = "Bearer";
		break;
	case 8:
		r->nosniff = true;
		break;
	case 9:
		r->headers = extra_header;
		break;
	case 10:
		r->cache_control = NULL;
		break;
	default:
		r->cache_control = "public, max-age=31536000, immutable, stale-while-revalidate=1";
		break;
	}
}
#define NOT_KEPT_ROWS 12

START_TEST(test_reply_with_more_than_a_redirect_is_not_kept)
{
	struct http_respcache *c;
	struct http_response r;
	uint32_t sig;

	ck_assert_int_eq(http_respcache_new(true, &c), 0);
	redirect_init(&r);
	ck_assert_ptr_nonnull(http_respcache_slot(c, &r, strlen(r.location), &sig));
	not_kept(&r, _i);
	ck_assert_ptr_null(http_respcache_slot(c, &r, r.location != NULL ? strlen(r.location) : 0, &sig));
	http_respcache_free(c);
}
END_TEST

START_TEST(test_without_tables_nothing_is_kept)
{
	struct http_respcache *c;
	struct http_response r;
	uint32_t sig;

	ck_assert_int_eq(http_respcache_new(false, &c), 0);
	redirect_init(&r);
	ck_assert_ptr_null(http_respcache_slot(c, &r, strlen(r.location), &sig));
	ck_assert_ptr_nonnull(http_respcache_fixed(c, HTTP_FIXED_ROBOTS));
	http_respcache_free(c);
	http_respcache_free(NULL);
}
END_TEST

/* What the kept response is given back for: the same four, and nothing
 * else that lands in the same slot. */
static void differs(struct http_response *r, int row)
{
	switch (row) {
	case 0:
		r->status = 307;
		break;
	case 1:
		r->location = "https://t.example/p2";
		break;
	case 2:
		r->location = "https://t.example/q";
		break;
	case 3:
		r->content_type = "application/json";
		break;
	default:
		r->cache_control = "public, max-age=60";
		break;
	}
}
#define DIFFERS_ROWS 5

START_TEST(test_kept_redirect_is_given_back_only_for_the_same_reply)
{
	struct http_respcache *c;
	struct http_respcache_slot *s;
	struct http_response r, other;
	uint32_t sig;
	struct MHD_Response *resp;
	size_t len;

	ck_assert_int_eq(http_respcache_new(true, &c), 0);
	redirect_init(&r);
	len = strlen(r.location);
	s = http_respcache_slot(c, &r, len, &sig);
	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_null(http_respcache_hit(s, &r, len)); /* empty */
	r.body_len = 123;
	resp = built();
	http_respcache_keep(s, resp, &r, len);

	redirect_init(&other);
	ck_assert_ptr_eq(http_respcache_hit(s, &other, len), resp);
	ck_assert_uint_eq(other.body_len, 123); /* for the access log */

	redirect_init(&other);
	differs(&other, _i);
	ck_assert_ptr_null(http_respcache_hit(s, &other, strlen(other.location)));
	ck_assert_uint_eq(other.body_len, 0);

	/* A slot given another reply drops the one it held (ASan: no leak). */
	http_respcache_keep(s, built(), &other, strlen(other.location));
	ck_assert_ptr_null(http_respcache_hit(s, &r, len));
	http_respcache_free(c);
}
END_TEST

/* Links differ mostly in a few bytes at the end of their Location, at any
 * place in its last eight: 256 such redirects, and redirects that differ
 * only in their status, spread over most of the slots. */
START_TEST(test_similar_redirects_spread_over_the_table)
{
	static const char *const forms[] = {"https://example.com/articles/%d", "https://example.com/a/%d/x",
	                                    "https://e.example/%dabcdefg", "https://e.example/?id=%d"};
	struct http_respcache *c;
	struct http_respcache_slot *seen[256];
	struct http_response r;
	uint32_t sig;
	char loc[64];
	size_t distinct = 0;

	ck_assert_int_eq(http_respcache_new(true, &c), 0);
	for (int i = 0; i < 256; i++) {
		struct http_respcache_slot *s;
		bool again = false;

		redirect_init(&r);
		snprintf(loc, sizeof(loc), forms[_i], 1000 + i);
		r.location = loc;
		s = http_respcache_slot(c, &r, strlen(loc), &sig);
		ck_assert_ptr_nonnull(s);
		for (size_t k = 0; k < distinct; k++)
			again = again || seen[k] == s;
		if (!again)
			seen[distinct++] = s;
	}
	/* Random slots would give 256 (1 - 1/e), about 162. */
	ck_assert_msg(distinct >= 140, "%s: %zu slots", forms[_i], distinct);

	distinct = 0;
	for (int status = 300; status < 556; status++) {
		struct http_respcache_slot *s;
		bool again = false;

		redirect_init(&r);
		r.status = status;
		s = http_respcache_slot(c, &r, strlen(r.location), &sig);
		for (size_t k = 0; k < distinct; k++)
			again = again || seen[k] == s;
		if (!again)
			seen[distinct++] = s;
	}
	ck_assert_msg(distinct >= 140, "statuses: %zu slots", distinct);
	http_respcache_free(c);
}
END_TEST

/* A slot keeps a redirect from its second request in a row to it: one
 * asked for once never takes the slot, nor pushes out the one it holds,
 * even when asked for again after requests for the one held. */
START_TEST(test_a_redirect_is_admitted_when_asked_for_again)
{
	struct http_respcache *c;
	struct http_respcache_slot *s, *s2;
	struct http_response r, other;
	struct MHD_Response *resp;
	uint32_t sig, sig2;
	char loc[64];
	int i;

	ck_assert_int_eq(http_respcache_new(true, &c), 0);
	redirect_init(&r);
	s = http_respcache_slot(c, &r, strlen(r.location), &sig);
	ck_assert_ptr_nonnull(s);
	ck_assert(!http_respcache_admit(s, sig)); /* first: remembered */
	ck_assert(http_respcache_admit(s, sig));  /* again: kept */
	resp = built();
	http_respcache_keep(s, resp, &r, strlen(r.location));

	/* Another redirect of the same slot, asked for once between two of
	 * a third: neither is admitted, and the kept one stays. */
	redirect_init(&other);
	for (i = 0, s2 = NULL; s2 != s && i < 100000; i++) {
		snprintf(loc, sizeof(loc), "https://t.example/o%d", i);
		other.location = loc;
		s2 = http_respcache_slot(c, &other, strlen(loc), &sig2);
	}
	ck_assert_ptr_eq(s2, s);
	ck_assert_uint_ne(sig2, sig);
	ck_assert(!http_respcache_admit(s, sig2));
	ck_assert(!http_respcache_admit(s, sig));
	ck_assert(!http_respcache_admit(s, sig2));
	/* Nor when the kept one is asked for between its two requests. */
	redirect_init(&r);
	ck_assert_ptr_eq(http_respcache_hit(s, &r, strlen(r.location)), resp);
	ck_assert(!http_respcache_admit(s, sig2));
	/* Asked for twice in a row, it is. */
	ck_assert(http_respcache_admit(s, sig2));
	http_respcache_free(c);
}
END_TEST

/* A fixed reply that must close is sent spelled out: the same body, type,
 * cache and, for the 405, Allow as the shared response. */
START_TEST(test_fixed_reply_spelled_out_matches_the_shared_one)
{
	struct http_respcache *c;
	struct http_response r;
	enum http_fixed which = (enum http_fixed)(_i + 1);
	struct MHD_Response *shared;

	ck_assert_int_eq(http_respcache_new(false, &c), 0);
	shared = http_respcache_fixed(c, which);
	ck_assert_ptr_nonnull(shared);
	http_response_init(&r);
	r.fixed = which;
	http_respcache_spell_out(&r);
	ck_assert_ptr_nonnull(r.body);
	ck_assert_uint_eq(r.body_len, strlen(r.body));
	ck_assert_uint_eq(http_respcache_fixed_len(which), r.body_len);
	ck_assert_str_eq(MHD_get_response_header(shared, MHD_HTTP_HEADER_CONTENT_TYPE), r.content_type);
	ck_assert_str_eq(MHD_get_response_header(shared, MHD_HTTP_HEADER_CACHE_CONTROL), r.cache_control);
	if (which == HTTP_FIXED_METHOD_NOT_ALLOWED) {
		ck_assert_str_eq(r.allow, "GET, HEAD");
		ck_assert_str_eq(MHD_get_response_header(shared, MHD_HTTP_HEADER_ALLOW), r.allow);
	} else {
		ck_assert_ptr_null(r.allow);
		ck_assert_ptr_null(MHD_get_response_header(shared, MHD_HTTP_HEADER_ALLOW));
	}
	http_respcache_free(c);
}
END_TEST

Suite *http_respcache_suite(void)
{
	Suite *s = suite_create("http_respcache");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_reply_with_more_than_a_redirect_is_not_kept, 0, NOT_KEPT_ROWS);
	tcase_add_test(tc, test_without_tables_nothing_is_kept);
	tcase_add_loop_test(tc, test_similar_redirects_spread_over_the_table, 0, 4);
	tcase_add_loop_test(tc, test_kept_redirect_is_given_back_only_for_the_same_reply, 0, DIFFERS_ROWS);
	tcase_add_test(tc, test_a_redirect_is_admitted_when_asked_for_again);
	tcase_add_loop_test(tc, test_fixed_reply_spelled_out_matches_the_shared_one, 0, HTTP_FIXED_COUNT - 1);
	suite_add_tcase(s, tc);
	return s;
}
