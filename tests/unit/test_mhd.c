/*
 * The libmicrohttpd found at run time is the one whose header the build
 * used: make check-mhd1 builds against a private libmicrohttpd 1.0 and
 * finds it through an rpath, and a build that fell back to the system's
 * library would test another version than it claims.
 */
#include <check.h>
#include <microhttpd.h>
#include <stdio.h>

START_TEST(test_runtime_library_matches_header)
{
	char want[32];

	/* MHD_VERSION 0x00097500 is "0.9.75", 0x01000100 "1.0.1". */
	snprintf(want, sizeof(want), "%x.%x.%x", (unsigned)(MHD_VERSION >> 24), (unsigned)(MHD_VERSION >> 16) & 0xff,
	         (unsigned)(MHD_VERSION >> 8) & 0xff);
	ck_assert_str_eq(MHD_get_version(), want);
}
END_TEST

Suite *mhd_suite(void)
{
	Suite *s = suite_create("mhd");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_runtime_library_matches_header);
	suite_add_tcase(s, tc);
	return s;
}
