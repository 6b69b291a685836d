/*
 * Unit tests of http_framing.c: the refusal table on header fields alone,
 * each row a request's method, version, route and fields; and the
 * Content-Length reader.
 */
#include <check.h>
#include <string.h>

#include "http_framing.h"

#define FIELDS_MAX 6

struct framing_row {
	const char *name;
	const char *method;
	bool http_1_0;
	bool link_route;
	const char *fields[FIELDS_MAX][2]; /* name, value; a NULL name ends them */
	int status;
};

static const struct framing_row rows[] = {
    {"a plain GET", "GET", false, true, {{"Host", "x"}, {"Accept", "*/*"}}, 0},
    {"HTTP/1.0 without Host", "GET", true, true, {{NULL, NULL}}, 0},
    {"HTTP/1.1 without Host", "GET", false, true, {{"Accept", "*/*"}}, 400},
    {"two Hosts", "GET", false, true, {{"Host", "x"}, {"host", "y"}}, 400},
    {"a path in Host", "GET", false, false, {{"Host", "x/api"}}, 400},
    {"a space inside Host", "GET", false, true, {{"Host", "x y"}}, 400},
    {"Host with a port and trailing space", "GET", false, true, {{"Host", "[::1]:8080 \t"}}, 0},
    {"empty Host", "GET", false, true, {{"Host", ""}}, 0},
    {"Host with every mark a host may have", "GET", false, true, {{"Host", "a-._~!$&'()*+,;=:[]%9Z"}}, 0},
    {"a quote in Host", "GET", false, true, {{"Host", "a\"b"}}, 400},
    {"a brace in Host", "GET", false, true, {{"Host", "a{b"}}, 400},
    {"a byte past ASCII in Host", "GET", false, true, {{"Host", "h\xc3\xa9"}}, 400},
    {"a name of every length compared",
     "GET",
     false,
     true,
     {{"Host", "x"}, {"Cookie", "1"}, {"Referrer", "2"}, {"User-Agents", "3"}, {"Content-Lengths", "4"}},
     0},
    {"two Content-Lengths",
     "POST",
     false,
     true,
     {{"Host", "x"}, {"Content-Length", "3"}, {"content-length", "3"}},
     400},
    {"Content-Length with Transfer-Encoding",
     "POST",
     false,
     true,
     {{"Host", "x"}, {"Content-Length", "3"}, {"Transfer-Encoding", "chunked"}},
     400},
    {"two Transfer-Encodings",
     "POST",
     false,
     true,
     {{"Host", "x"}, {"Transfer-Encoding", "chunked"}, {"Transfer-Encoding", "chunked"}},
     400},
    {"chunked", "POST", false, true, {{"Host", "x"}, {"Transfer-Encoding", "Chunked"}}, 0},
    {"gzip, chunked", "POST", false, true, {{"Host", "x"}, {"Transfer-Encoding", "gzip, chunked"}}, 501},
    {"a space in a name", "GET", false, true, {{"Host", "x"}, {"X A", "1"}}, 400},
    {"a tab ending a name", "GET", false, true, {{"Host\t", "x"}}, 400},
    {"lower-case method", "get", false, true, {{"Host", "x"}}, 501},
    {"TRACE to a short link", "TRACE", false, true, {{"Host", "x"}}, 405},
    {"CONNECT to a short link", "CONNECT", false, true, {{"Host", "x"}}, 405},
    {"TRACE to the API", "TRACE", false, false, {{"Host", "x"}}, 0},
    {"framing before the method", "get", false, true, {{"Host", "x"}, {"Host", "y"}}, 400},
};

START_TEST(test_refusal_table)
{
	const struct framing_row *row = &rows[_i];
	struct http_framing f;
	const char *why;
	int status;

	http_framing_init(&f);
	for (int k = 0; k < FIELDS_MAX && row->fields[k][0] != NULL; k++)
		http_framing_field(&f, row->fields[k][0], strlen(row->fields[k][0]), row->fields[k][1]);
	status = http_framing_refusal(&f, row->http_1_0, row->method, row->link_route, &why);
	ck_assert_msg(status == row->status, "%s: %d, not %d", row->name, status, row->status);
	ck_assert_msg((status == 0) == (why == NULL), "%s: text %s", row->name, why != NULL ? why : "(none)");
}
END_TEST

/* Each byte in the middle of a Host value: a letter, digit or one of RFC
 * 3986's marks of a host and port is taken, any other refused (a blank
 * only at the end, which the row above checks). */
START_TEST(test_host_every_byte)
{
	const char *marks = "-._~!$&'()*+,;=:[]%";
	unsigned char c = (unsigned char)_i;
	bool ok =
	    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr(marks, c) != NULL;
	char host[4] = {'a', (char)c, 'b', '\0'};
	struct http_framing f;
	const char *why;

	http_framing_init(&f);
	http_framing_field(&f, "Host", 4, host);
	ck_assert_msg((http_framing_refusal(&f, false, "GET", true, &why) == 0) == ok, "byte %u", c);
}
END_TEST

START_TEST(test_first_values_are_kept)
{
	struct http_framing f;

	http_framing_init(&f);
	/* Names one byte off each of the fields read, of the same lengths. */
	http_framing_field(&f, "Hosx", 4, "h");
	http_framing_field(&f, "Acceps", 6, "no");
	http_framing_field(&f, "Expecs", 6, "no");
	http_framing_field(&f, "Referex", 7, "no");
	http_framing_field(&f, "User-Agenx", 10, "no");
	http_framing_field(&f, "Content-Lengtx", 14, "9");
	http_framing_field(&f, "Transfer-Encodinx", 17, "chunked");
	ck_assert_uint_eq(f.host + f.content_length + f.transfer_encoding, 0);
	ck_assert(f.accept == NULL && f.expect == NULL && f.referer == NULL && f.user_agent == NULL);
	ck_assert(f.length_value == NULL && f.te_value == NULL && f.host_value == NULL && !f.chunked);
	http_framing_field(&f, "accept", 6, "text/html");
	http_framing_field(&f, "Accept", 6, "application/json");
	http_framing_field(&f, "User-Agent", 10, "ua");
	http_framing_field(&f, "REFERER", 7, "https://r.example/");
	http_framing_field(&f, "Expect", 6, "100-continue");
	ck_assert_str_eq(f.accept, "text/html");
	ck_assert_str_eq(f.user_agent, "ua");
	ck_assert_str_eq(f.referer, "https://r.example/");
	ck_assert_str_eq(f.expect, "100-continue");
}
END_TEST

static const struct {
	const char *value; /* NULL: no Content-Length */
	bool ok;
	uint64_t length;
} lengths[] = {
    {NULL, false, 0},
    {"", false, 0},
    {"0", true, 0},
    {"100", true, 100},
    {"007", true, 7},
    {"+5", false, 0},
    {"-5", false, 0},
    {" 5", false, 0},
    {"5 ", false, 0},
    {"abc", false, 0},
    {"18446744073709551615", true, UINT64_MAX},
    {"18446744073709551616", true, UINT64_MAX},
    {"99999999999999999999999", true, UINT64_MAX},
};

START_TEST(test_content_length)
{
	struct http_framing f;
	uint64_t n = 12345;
	bool ok;

	http_framing_init(&f);
	if (lengths[_i].value != NULL)
		http_framing_field(&f, "Content-Length", 14, lengths[_i].value);
	ok = http_framing_length(&f, &n);
	ck_assert_msg(ok == lengths[_i].ok, "%s", lengths[_i].value ? lengths[_i].value : "(none)");
	if (ok)
		ck_assert_msg(n == lengths[_i].length, "%s: %llu", lengths[_i].value, (unsigned long long)n);
	else
		ck_assert_msg(n == 12345, "%s: written though refused",
		              lengths[_i].value ? lengths[_i].value : "(none)");
}
END_TEST

Suite *http_framing_suite(void)
{
	Suite *s = suite_create("http_framing");
	TCase *tc = tcase_create("framing");

	tcase_add_loop_test(tc, test_refusal_table, 0, (int)(sizeof(rows) / sizeof(rows[0])));
	tcase_add_loop_test(tc, test_host_every_byte, 1, 256);
	tcase_add_test(tc, test_first_values_are_kept);
	tcase_add_loop_test(tc, test_content_length, 0, (int)(sizeof(lengths) / sizeof(lengths[0])));
	suite_add_tcase(s, tc);
	return s;
}
