/*
 * Unit tests of rfc3339.c: the forms RFC 3339 allows (Z or z, offsets,
 * fractions, leap days, a leap second), the ones it does not, dates before
 * 1970, and format/parse round trips.
 */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "rfc3339.h"

struct good {
	const char *s;
	int64_t t;
};

static const struct good goods[] = {
    {"1970-01-01T00:00:00Z", 0},
    {"2000-01-01T00:00:00Z", 946684800},
    {"2024-01-01T00:00:00Z", 1704067200},
    {"2024-01-01t00:00:00z", 1704067200},
    {"2024-01-01T01:00:00+01:00", 1704067200},
    {"2023-12-31T18:30:00-05:30", 1704067200},
    {"2024-01-01T00:00:00+00:00", 1704067200},
    {"2024-01-01T00:00:00-00:00", 1704067200},
    {"2024-01-01T23:59:00+23:59", 1704067200},
    {"2024-01-01T00:00:00.5Z", 1704067200},
    {"2024-01-01T00:00:00.999999999Z", 1704067200},
    {"2024-01-01T02:00:00.123+02:00", 1704067200},
    {"2024-02-29T12:00:00Z", 1709208000},
    {"2000-02-29T00:00:00Z", 951782400},
    {"1600-02-29T00:00:00Z", -11670998400},
    {"2024-03-10T08:45:30Z", 1710060330},
    {"2038-01-19T03:14:08Z", 2147483648},
    {"1969-12-31T23:59:59Z", -1},
    {"1969-07-20T20:17:40Z", -14182940},
    {"1900-01-01T00:00:00Z", -2208988800},
    {"0001-01-01T00:00:00Z", -62135596800},
    {"0001-01-01T00:01:00+00:01", -62135596800},
    {"9999-12-31T23:58:59-00:01", 253402300799},
    {"9999-12-31T23:59:59Z", 253402300799},
    {"2016-12-31T23:59:60Z", 1483228799}, /* a leap second reads as :59 */
};

START_TEST(test_parse_valid)
{
	const struct good *g = &goods[_i];
	int64_t t = 42;

	ck_assert_msg(rfc3339_parse(g->s, &t) == 0, "%s refused", g->s);
	ck_assert_msg(t == g->t, "%s -> %lld, want %lld", g->s, (long long)t, (long long)g->t);
}
END_TEST

static const char *const bads[] = {
    "",
    "2024-01-01",
    "2024-01-01T00:00:00",
    "2024-01-01T00:00Z",
    "2024-13-01T00:00:00Z",
    "2024-00-01T00:00:00Z",
    "2024-01-00T00:00:00Z",
    "2024-01-32T00:00:00Z",
    "2024-04-31T00:00:00Z",
    "2023-02-29T00:00:00Z",
    "1900-02-29T00:00:00Z",
    "2100-02-29T00:00:00Z",
    "2024-02-30T00:00:00Z",
    "2024-01-01T24:00:00Z",
    "2024-01-01T23:60:00Z",
    "2024-01-01T23:59:61Z",
    "0000-01-01T00:00:00Z",
    "2024-01-01T00:00:00Z ",
    "2024-01-01T00:00:00Zjunk",
    "2024-01-01T00:00:00+01:00x",
    "2024-01-01T00:00:00ZZ",
    " 2024-01-01T00:00:00Z",
    "2024-01-01X00:00:00Z",
    "2024-1-01T00:00:00Z",
    "24-01-01T00:00:00Z",
    "2024/01/01T00:00:00Z",
    "2024-01-01T0:00:00Z",
    "2024-01-01T00:00:00+0100",
    "2024-01-01T00:00:00+01",
    "2024-01-01T00:00:00+24:00",
    "2024-01-01T00:00:00+01:60",
    "2024-01-01T00:00:00.Z",
    "2024-01-01T00:00:00.",
    "2024-01-01T00:00:00,5Z",
    "+2024-01-01T00:00:00Z",
    "-2024-01-01T00:00:00Z",
    "2024-01-01T00:00:00UTC",
    "now",
    "0001-01-01T00:00:00+00:01", /* 0000-12-31T23:59Z: out of range */
    "9999-12-31T23:59:59-00:01", /* 10000-01-01: out of range */
};

START_TEST(test_parse_invalid)
{
	int64_t t = 42;

	ck_assert_msg(rfc3339_parse(bads[_i], &t) == -1, "\"%s\" accepted as %lld", bads[_i], (long long)t);
	ck_assert_int_eq(t, 42);
}
END_TEST

START_TEST(test_parse_null)
{
	int64_t t = 42;

	ck_assert_int_eq(rfc3339_parse(NULL, &t), -1);
}
END_TEST

START_TEST(test_format)
{
	char buf[RFC3339_LEN + 1];

	rfc3339_format(0, buf);
	ck_assert_str_eq(buf, "1970-01-01T00:00:00Z");
	rfc3339_format(-1, buf);
	ck_assert_str_eq(buf, "1969-12-31T23:59:59Z");
	rfc3339_format(-86400, buf);
	ck_assert_str_eq(buf, "1969-12-31T00:00:00Z");
	rfc3339_format(-86401, buf);
	ck_assert_str_eq(buf, "1969-12-30T23:59:59Z");
	rfc3339_format(1709208000, buf);
	ck_assert_str_eq(buf, "2024-02-29T12:00:00Z");
	rfc3339_format(-2208988800, buf);
	ck_assert_str_eq(buf, "1900-01-01T00:00:00Z");
	rfc3339_format(253402300799, buf);
	ck_assert_str_eq(buf, "9999-12-31T23:59:59Z");
	ck_assert_uint_eq(strlen(buf), RFC3339_LEN);
}
END_TEST

START_TEST(test_date)
{
	char buf[11];

	rfc3339_date(0, buf);
	ck_assert_str_eq(buf, "1970-01-01");
	rfc3339_date(86399, buf);
	ck_assert_str_eq(buf, "1970-01-01");
	rfc3339_date(-1, buf);
	ck_assert_str_eq(buf, "1969-12-31");
	rfc3339_date(1709251199, buf);
	ck_assert_str_eq(buf, "2024-02-29");
	rfc3339_date(1709251200, buf);
	ck_assert_str_eq(buf, "2024-03-01");
}
END_TEST

START_TEST(test_days_from_civil)
{
	ck_assert_int_eq(rfc3339_days_from_civil(1970, 1, 1), 0);
	ck_assert_int_eq(rfc3339_days_from_civil(1969, 12, 31), -1);
	ck_assert_int_eq(rfc3339_days_from_civil(2000, 3, 1), 11017);
	ck_assert_int_eq(rfc3339_days_from_civil(2024, 2, 29), 19782);
	ck_assert_int_eq(rfc3339_days_from_civil(1, 1, 1), -719162);
}
END_TEST

/* format then parse gives the same second, every 7,919,993 s from year 1 to
 * 9999, and around the epoch second by second. */
START_TEST(test_round_trip)
{
	char buf[RFC3339_LEN + 1];
	int64_t back;

	for (int64_t t = -62135596800; t <= 253402300799; t += 7919993) {
		rfc3339_format(t, buf);
		ck_assert_int_eq(rfc3339_parse(buf, &back), 0);
		ck_assert_msg(back == t, "%lld -> %s -> %lld", (long long)t, buf, (long long)back);
	}
	for (int64_t t = -200000; t <= 200000; t += 37) {
		rfc3339_format(t, buf);
		ck_assert_int_eq(rfc3339_parse(buf, &back), 0);
		ck_assert_int_eq(back, t);
	}
}
END_TEST

START_TEST(test_day_of_rounds_down)
{
	ck_assert_int_eq(rfc3339_day_of(0), 0);
	ck_assert_int_eq(rfc3339_day_of(86399), 0);
	ck_assert_int_eq(rfc3339_day_of(86400), 1);
	ck_assert_int_eq(rfc3339_day_of(-1), -1);
	ck_assert_int_eq(rfc3339_day_of(-86400), -1);
	ck_assert_int_eq(rfc3339_day_of(-86401), -2);
	ck_assert_int_eq(rfc3339_day_of(1704067200), rfc3339_days_from_civil(2024, 1, 1));
	ck_assert_int_eq(rfc3339_day_of(INT64_MIN), INT64_MIN / 86400 - 1);
	ck_assert_int_eq(rfc3339_day_of(INT64_MAX), INT64_MAX / 86400);
}
END_TEST

Suite *rfc3339_suite(void)
{
	Suite *s = suite_create("rfc3339");
	TCase *tc;

	tc = tcase_create("parse");
	tcase_add_loop_test(tc, test_parse_valid, 0, (int)(sizeof(goods) / sizeof(goods[0])));
	tcase_add_loop_test(tc, test_parse_invalid, 0, (int)(sizeof(bads) / sizeof(bads[0])));
	tcase_add_test(tc, test_parse_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("format");
	tcase_add_test(tc, test_format);
	tcase_add_test(tc, test_date);
	tcase_add_test(tc, test_days_from_civil);
	tcase_add_test(tc, test_day_of_rounds_down);
	tcase_add_test(tc, test_round_trip);
	suite_add_tcase(s, tc);
	return s;
}
