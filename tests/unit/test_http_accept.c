/*
 * Unit tests of http_accept.c: whether an Accept header prefers JSON to HTML,
 * with q-values, wildcards, parameters and malformed ranges (skipped, not
 * fatal). One table, one driver.
 */
#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "http_accept.h"

struct accept_case {
	const char *accept;
	bool json;
};

static const struct accept_case cases[] = {
    {"", false},
    {"application/json", true},
    {"text/html", false},
    {"APPLICATION/JSON", true},
    {"Application/Json", true},
    {"application/json, text/html", false},
    {"text/html, application/json", false},
    {"text/html;q=0.9, application/json", true},
    {"application/json;q=0.9, text/html", false},
    {"application/json;q=0.5, text/html;q=0.4", true},
    {"application/json;q=0.4, text/html;q=0.5", false},
    {"application/json;q=0.001", true},
    {"application/json;q=0", false},
    {"application/json;q=0.000", false},
    {"application/json;q=1", true},
    {"application/json;q=1.000", true},
    {"text/html;q=0, application/json;q=0", false},
    {"*/*", false},
    {"application/*", true},
    {"text/*", false},
    {"text/*, application/json;q=0.5", false},
    {"text/*;q=0.4, application/json;q=0.5", true},
    {"*/*;q=0.1, application/json", true},
    {"*/*;q=0.5, text/html", false},
    {"text/html;q=0.1, */*", true},
    {"application/json;q=0, */*", false},
    {"application/*;q=0.2, */*;q=0.1", true},
    {"application/json; charset=utf-8", true},
    {"application/json;charset=utf-8;q=0.3, text/html;q=0.2", true},
    {"application/json;Q=0.3,text/html;q=0.2", true},
    {"  application/json ; q=1 ", true},
    {"application/json\t;\tq=0.8\t,\ttext/html;q=0.7", true},
    {",,,application/json", true},
    {"application/json,,", true},
    {"application/problem+json", false},
    {"application/jsonx", false},
    {"text/htmlx, application/json;q=0.5", true},
    {"text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8", false},
    {"application/json, text/plain, */*", true},
    /* malformed ranges are skipped */
    {"application/json;q=2", false},
    {"application/json;q=1.5", false},
    {"application/json;q=1.001", false},
    {"application/json;q=abc", false},
    {"application/json;q=", false},
    {"application/json;q=-1", false},
    {"application/json;q=0.5000", false},
    {"application/json;q=0.5, text/html;q=xyz", true},
    {"text/html;q=9, application/json", true},
    {";q=1", false},
    {"application", false},
    {"json", false},
    {"/json", false},
    {";", false},
    {",", false},
    {"q=1", false},
    {"application/json;", true},
    {"application/json;;;q=0.5;;", true},
};

START_TEST(test_prefers_json)
{
	const struct accept_case *c = &cases[_i];

	ck_assert_msg(http_accept_prefers_json(c->accept) == c->json, "Accept: %s: want %s", c->accept,
	              c->json ? "JSON" : "HTML");
}
END_TEST

START_TEST(test_null_is_html)
{
	ck_assert(!http_accept_prefers_json(NULL));
}
END_TEST

/* Each prefix of a header, in a buffer of exactly its length: nothing is
 * read past the NUL (AddressSanitizer checks it in the asan build). */
START_TEST(test_every_prefix_stays_in_bounds)
{
	const char *full = cases[_i].accept;
	size_t n = strlen(full);

	for (size_t k = 0; k <= n; k++) {
		char *p = malloc(k + 1);
		ck_assert_ptr_nonnull(p);
		memcpy(p, full, k);
		p[k] = '\0';
		(void)http_accept_prefers_json(p);
		free(p);
	}
}
END_TEST

Suite *http_accept_suite(void)
{
	Suite *s = suite_create("http_accept");
	TCase *tc = tcase_create("negotiation");

	tcase_add_loop_test(tc, test_prefers_json, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_null_is_html);
	tcase_add_loop_test(tc, test_every_prefix_stays_in_bounds, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	suite_add_tcase(s, tc);
	return s;
}
