/*
 * Unit tests of num.c: the one integer parser for outside text. Each row is
 * one input with its bounds and the expected result.
 */
#include <check.h>
#include <stdint.h>

#include "num.h"

struct num_case {
	const char *s;
	uint64_t min, max;
	enum num_error want;
	uint64_t value; /* when want is NUM_OK */
};

static const struct num_case cases[] = {
    {"0", 0, 10, NUM_OK, 0},
    {"10", 0, 10, NUM_OK, 10},
    {"007", 0, 10, NUM_OK, 7},
    {"4", 1, 256, NUM_OK, 4},
    {"18446744073709551615", 0, UINT64_MAX, NUM_OK, UINT64_MAX},
    {"0018446744073709551615", 0, UINT64_MAX, NUM_OK, UINT64_MAX},
    {"9223372036854775807", 0, INT64_MAX, NUM_OK, INT64_MAX},
    /* bounds */
    {"0", 1, 256, NUM_TOO_SMALL, 0},
    {"257", 1, 256, NUM_TOO_LARGE, 0},
    {"9223372036854775808", 0, INT64_MAX, NUM_TOO_LARGE, 0},
    {"18446744073709551616", 0, UINT64_MAX, NUM_TOO_LARGE, 0},
    {"99999999999999999999999", 0, UINT64_MAX, NUM_TOO_LARGE, 0},
    {"99999999999999999999999", 5, 10, NUM_TOO_LARGE, 0},
    /* not decimal digits alone: the same for every caller */
    {"", 0, 10, NUM_INVALID, 0},
    {"+4", 0, 10, NUM_INVALID, 0},
    {"+5", 0, 10, NUM_INVALID, 0},
    {"-0", 0, 10, NUM_INVALID, 0},
    {"-1", 0, 10, NUM_INVALID, 0},
    {" 4", 0, 10, NUM_INVALID, 0},
    {"4 ", 0, 10, NUM_INVALID, 0},
    {"\t4", 0, 10, NUM_INVALID, 0},
    {"4\n", 0, 10, NUM_INVALID, 0},
    {"0x10", 0, 100, NUM_INVALID, 0},
    {"1e3", 0, 10000, NUM_INVALID, 0},
    {"1.0", 0, 10, NUM_INVALID, 0},
    {"1,000", 0, 10000, NUM_INVALID, 0},
    {"\xd9\xa3", 0, 10, NUM_INVALID, 0}, /* ARABIC-INDIC DIGIT THREE */
    {"99999999999999999999999x", 0, UINT64_MAX, NUM_INVALID, 0},
};

START_TEST(test_parse_rows)
{
	const struct num_case *c = &cases[_i];
	uint64_t v = 12345;

	ck_assert_msg(num_parse(c->s, c->min, c->max, &v) == c->want, "row %d '%s'", _i, c->s);
	ck_assert_msg(v == (c->want == NUM_OK ? c->value : 12345), "row %d '%s': value", _i, c->s);
}
END_TEST

START_TEST(test_null_is_invalid)
{
	uint64_t v = 1;

	ck_assert_int_eq(num_parse(NULL, 0, 10, &v), NUM_INVALID);
	ck_assert_uint_eq(v, 1);
}
END_TEST

START_TEST(test_error_messages)
{
	ck_assert_str_eq(num_error_message(NUM_INVALID), "not a whole number");
	ck_assert_str_eq(num_error_message(NUM_TOO_SMALL), "too small");
	ck_assert_str_eq(num_error_message(NUM_TOO_LARGE), "too large");
	ck_assert_ptr_nonnull(num_error_message((enum num_error)42));
}
END_TEST

Suite *num_suite(void)
{
	Suite *s = suite_create("num");
	TCase *tc = tcase_create("parse");

	tcase_add_loop_test(tc, test_parse_rows, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_null_is_invalid);
	tcase_add_test(tc, test_error_messages);
	suite_add_tcase(s, tc);
	return s;
}
