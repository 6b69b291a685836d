/*
 * Unit tests of http.c's request-target parsing, as rows: a raw target (which
 * may hold NULs), the verdict, and for an accepted one the decoded path and
 * the raw query. A path is never cut short: a decoded NUL refuses the target.
 * Then the route a decoded path takes (http_builtin.c), as rows: every
 * built-in name, and paths one byte away from one, which are short codes.
 */
#include <check.h>
#include <string.h>

#include "http.h"
#include "http_builtin.h"

#define T(raw) raw, sizeof(raw) - 1

static const struct {
	const char *raw;
	size_t len;
	enum http_target_result result;
	const char *path;  /* for HTTP_TARGET_OK */
	const char *query; /* for HTTP_TARGET_OK; NULL: none */
} targets[] = {
    {T("/abc"), HTTP_TARGET_OK, "/abc", NULL},
    {T("/abc?x=1&y"), HTTP_TARGET_OK, "/abc", "x=1&y"},
    {T("/abc?"), HTTP_TARGET_OK, "/abc", ""},
    {T("/%61b%63"), HTTP_TARGET_OK, "/abc", NULL},
    {T("/a%2Fb%3fc?q%00"), HTTP_TARGET_OK, "/a/b?c", "q%00"}, /* the query stays raw */
    {T("/%zz%4"), HTTP_TARGET_OK, "/%zz%4", NULL},
    {T("/"), HTTP_TARGET_OK, "/", NULL},
    {T("http://h.example/abc?q"), HTTP_TARGET_OK, "/abc", "q"},
    {T("HTTPS://H.EXAMPLE:8443/api/v1/links/abc"), HTTP_TARGET_OK, "/api/v1/links/abc", NULL},
    {T("http://h.example"), HTTP_TARGET_OK, "/", NULL},
    {T("http://h.example?q=1"), HTTP_TARGET_OK, "/", "q=1"},
    {T("/abc%00zzz"), HTTP_TARGET_INVALID, NULL, NULL},
    {T("/api/v1/links/victim%00/stats"), HTTP_TARGET_INVALID, NULL, NULL},
    {T("/abc%00"), HTTP_TARGET_INVALID, NULL, NULL},
    {T("/abc\0zzz"), HTTP_TARGET_INVALID, NULL, NULL},
    {T("/abc?x\0y"), HTTP_TARGET_INVALID, NULL, NULL},
    {T("/a b"), HTTP_TARGET_INVALID, NULL, NULL},
    {T("/a\tb"), HTTP_TARGET_INVALID, NULL, NULL},
    {T("/a\rb"), HTTP_TARGET_INVALID, NULL, NULL},
    {T("/a\x7f"), HTTP_TARGET_INVALID, NULL, NULL},
    {T(""), HTTP_TARGET_INVALID, NULL, NULL},
    {T("*"), HTTP_TARGET_INVALID, NULL, NULL},
    {T("t.example:443"), HTTP_TARGET_INVALID, NULL, NULL},
    {T("abc"), HTTP_TARGET_INVALID, NULL, NULL},
    {T("ftp://h.example/abc"), HTTP_TARGET_INVALID, NULL, NULL},
    {T("http:///abc"), HTTP_TARGET_INVALID, NULL, NULL},
    {T("http://u@h.example/abc"), HTTP_TARGET_INVALID, NULL, NULL},
    {T("http://h.example/abc%00"), HTTP_TARGET_INVALID, NULL, NULL},
};

START_TEST(test_target_parses_as_its_row_says)
{
	char path[64];
	struct http_target t;
	enum http_target_result r = http_target_parse(targets[_i].raw, targets[_i].len, path, sizeof(path), &t);

	ck_assert_msg(r == targets[_i].result, "row %d: %d, not %d", _i, r, targets[_i].result);
	if (r != HTTP_TARGET_OK)
		return;
	ck_assert_str_eq(t.path, targets[_i].path);
	ck_assert_uint_eq(t.path_len, strlen(targets[_i].path));
	if (targets[_i].query == NULL) {
		ck_assert_ptr_null(t.query);
	} else {
		ck_assert_ptr_nonnull(t.query);
		ck_assert_uint_eq(t.query_len, strlen(targets[_i].query));
		ck_assert(memcmp(t.query, targets[_i].query, t.query_len) == 0);
	}
}
END_TEST

START_TEST(test_path_that_does_not_fit_is_too_long)
{
	char path[8];
	struct http_target t;

	ck_assert_int_eq(http_target_parse(T("/abcdef"), path, sizeof(path), &t), HTTP_TARGET_OK);
	ck_assert_str_eq(t.path, "/abcdef");
	ck_assert_int_eq(http_target_parse(T("/abcdefg"), path, sizeof(path), &t), HTTP_TARGET_TOO_LONG);
	/* Decoding shortens: nine raw bytes, a seven-byte path. */
	ck_assert_int_eq(http_target_parse(T("/abcd%65f"), path, sizeof(path), &t), HTTP_TARGET_OK);
	ck_assert_str_eq(t.path, "/abcdef");
	/* Invalid wins over too long, wherever the fault is. */
	ck_assert_int_eq(http_target_parse(T("/abcdefgh%00"), path, sizeof(path), &t), HTTP_TARGET_INVALID);
	ck_assert_int_eq(http_target_parse(T("/abcdefgh?a b"), path, sizeof(path), &t), HTTP_TARGET_INVALID);
}
END_TEST

static const struct {
	const char *path;
	enum http_route route;
} routes[] = {
    {"/", HTTP_ROUTE_ROOT},
    {"/healthz", HTTP_ROUTE_HEALTH},
    {"/robots.txt", HTTP_ROUTE_ROBOTS},
    {"/favicon.ico", HTTP_ROUTE_FAVICON},
    {"/metrics", HTTP_ROUTE_METRICS},
    {"/api", HTTP_ROUTE_API},
    {"/api/", HTTP_ROUTE_API},
    {"/api/v1/links", HTTP_ROUTE_API},
    {"/admin", HTTP_ROUTE_ADMIN},
    {"/admin/", HTTP_ROUTE_ADMIN},
    {"/ADMIN", HTTP_ROUTE_ADMIN},
    {"/Admin/x", HTTP_ROUTE_ADMIN},
    {"/aDmInistrator", HTTP_ROUTE_ADMIN},
    {"", HTTP_ROUTE_REDIRECT},
    {"healthz", HTTP_ROUTE_REDIRECT},
    {"//", HTTP_ROUTE_REDIRECT},
    {"/abc", HTTP_ROUTE_REDIRECT},
    {"/apix", HTTP_ROUTE_REDIRECT},
    {"/API", HTTP_ROUTE_REDIRECT},
    {"/ap", HTTP_ROUTE_REDIRECT},
    {"/adm", HTTP_ROUTE_REDIRECT},
    {"/healthz/", HTTP_ROUTE_REDIRECT},
    {"/Healthz", HTTP_ROUTE_REDIRECT},
    {"/health", HTTP_ROUTE_REDIRECT},
    {"/robots", HTTP_ROUTE_REDIRECT},
    {"/robots.txt2", HTTP_ROUTE_REDIRECT},
    {"/favicon.ic", HTTP_ROUTE_REDIRECT},
    {"/metric", HTTP_ROUTE_REDIRECT},
    {"/metricsx", HTTP_ROUTE_REDIRECT},
    {"/x", HTTP_ROUTE_REDIRECT},
};

START_TEST(test_path_takes_its_route)
{
	ck_assert_msg(http_route_of(routes[_i].path) == routes[_i].route, "%s", routes[_i].path);
}
END_TEST

Suite *http_suite(void)
{
	Suite *s = suite_create("http");
	TCase *tc = tcase_create("target");

	tcase_add_loop_test(tc, test_target_parses_as_its_row_says, 0, (int)(sizeof(targets) / sizeof(targets[0])));
	tcase_add_test(tc, test_path_that_does_not_fit_is_too_long);
	suite_add_tcase(s, tc);
	tc = tcase_create("route");
	tcase_add_loop_test(tc, test_path_takes_its_route, 0, (int)(sizeof(routes) / sizeof(routes[0])));
	suite_add_tcase(s, tc);
	return s;
}
