/*
 * Inputs the libFuzzer drivers of tests/fuzz/ found breaking an invariant,
 * one row each, kept so the bug cannot come back. Each row names the driver
 * and the input as it was found.
 */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "rfc3339.h"

/* fuzz_rfc3339: an offset carried a time out of years 0001-9999; it parsed,
 * but rfc3339_format could not write it back (it clamps the year), so the
 * round trip failed. Such times are now refused as out of range. */
static const struct {
	const char *text;
	int ok;
	int64_t t;
} rfc3339_rows[] = {
	{"0001-01-01T00:00:00+00:01", 0, 0},
	{"0001-01-01T00:00:00+23:59", 0, 0},
	{"9999-12-31T23:59:59-00:01", 0, 0},
	{"9999-12-31T23:00:00-23:59", 0, 0},
	{"0001-01-01T00:00:00Z", 1, -62135596800LL},
	{"0001-01-01T00:00:00-00:01", 1, -62135596740LL},
	{"9999-12-31T23:59:59Z", 1, 253402300799LL},
	{"9999-12-31T23:59:59+00:01", 1, 253402300739LL},
};

START_TEST(test_rfc3339_offset_out_of_range_is_refused)
{
	int64_t t = 42, back = 0;
	char text[RFC3339_LEN + 1];
	int rc = rfc3339_parse(rfc3339_rows[_i].text, &t);

	if (!rfc3339_rows[_i].ok) {
		ck_assert_int_eq(rc, -1);
		ck_assert_int_eq(t, 42);
		return;
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(t, rfc3339_rows[_i].t);
	rfc3339_format(t, text);
	ck_assert_int_eq(rfc3339_parse(text, &back), 0);
	ck_assert_int_eq(back, t);
}
END_TEST

Suite *regress_fuzz_suite(void)
{
	Suite *s = suite_create("regress_fuzz");
	TCase *tc = tcase_create("rfc3339");

	tcase_add_loop_test(tc, test_rfc3339_offset_out_of_range_is_refused, 0,
			    (int)(sizeof(rfc3339_rows) / sizeof(rfc3339_rows[0])));
	suite_add_tcase(s, tc);
	return s;
}
