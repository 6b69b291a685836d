/*
 * Unit tests of html.c: the five characters are escaped, everything else
 * passes through, appending keeps what was there, and a result that does
 * not fit is refused without writing past the buffer.
 */
#include <check.h>
#include <string.h>

#include "html.h"

START_TEST(test_escapes_five_characters)
{
	char buf[128];
	size_t len = 0;

	ck_assert_int_eq(html_escape_append(buf, sizeof(buf), &len, "a&b<c>d\"e'f"), 0);
	ck_assert_str_eq(buf, "a&amp;b&lt;c&gt;d&quot;e&#39;f");
	ck_assert_uint_eq(len, strlen(buf));
}
END_TEST

START_TEST(test_other_bytes_pass_through)
{
	char buf[128];
	size_t len = 0;

	ck_assert_int_eq(html_escape_append(buf, sizeof(buf), &len, "https://e.com/caf\xc3\xa9?a=1;b=%20#x"), 0);
	ck_assert_str_eq(buf, "https://e.com/caf\xc3\xa9?a=1;b=%20#x");
}
END_TEST

START_TEST(test_appends_after_len)
{
	char buf[64] = "<p>";
	size_t len = 3;

	ck_assert_int_eq(html_escape_append(buf, sizeof(buf), &len, "<x>"), 0);
	ck_assert_str_eq(buf, "<p>&lt;x&gt;");
	ck_assert_uint_eq(len, 12);
	ck_assert_int_eq(html_escape_append(buf, sizeof(buf), &len, ""), 0);
	ck_assert_str_eq(buf, "<p>&lt;x&gt;");
	ck_assert_uint_eq(len, 12);
}
END_TEST

/* For every buffer size: too small -> -1, old text kept and terminated,
 * *len unchanged, nothing written at or past outsize; big enough -> 0. */
START_TEST(test_overflow_every_size)
{
	static const char want[] = "ab&lt;&amp;&quot;z";
	char buf[64];

	for (size_t size = 3; size <= sizeof(want) + 2; size++) {
		size_t len = 2;
		memset(buf, 'Z', sizeof(buf));
		memcpy(buf, "ab", 3);
		int rc = html_escape_append(buf, size, &len, "<&\"z");
		if (size < sizeof(want)) {
			ck_assert_msg(rc == -1, "size %zu accepted", size);
			ck_assert_uint_eq(len, 2);
			ck_assert_str_eq(buf, "ab");
		} else {
			ck_assert_msg(rc == 0, "size %zu refused", size);
			ck_assert_str_eq(buf, want);
			ck_assert_uint_eq(len, sizeof(want) - 1);
		}
		for (size_t i = size; i < sizeof(buf); i++)
			ck_assert_msg(buf[i] == 'Z', "size %zu: byte %zu written", size, i);
	}
}
END_TEST

Suite *html_suite(void)
{
	Suite *s = suite_create("html");
	TCase *tc = tcase_create("escape");

	tcase_add_test(tc, test_escapes_five_characters);
	tcase_add_test(tc, test_other_bytes_pass_through);
	tcase_add_test(tc, test_appends_after_len);
	tcase_add_test(tc, test_overflow_every_size);
	suite_add_tcase(s, tc);
	return s;
}
