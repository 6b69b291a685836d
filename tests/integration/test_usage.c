/*
 * shortd's entry point: no command, --version, help, an unknown command.
 * (Each command's own --help is in the cli suite.)
 */
#include <check.h>
#include <string.h>

#include "harness.h"

START_TEST(test_no_command_prints_usage_and_exits_2)
{
	char out[4096], err[4096];

	ck_assert_int_eq(shortd_run(NULL, out, sizeof(out), err, sizeof(err), (const char *const[]){NULL}), 2);
	ck_assert_str_eq(out, "");
	ck_assert_ptr_nonnull(strstr(err, "usage: shortd <command> [options]\n"));
	ck_assert_ptr_nonnull(strstr(err, "  --help | --version\n"));
}
END_TEST

START_TEST(test_version)
{
	char out[256], err[256];

	ck_assert_int_eq(shortd_run(NULL, out, sizeof(out), err, sizeof(err), (const char *const[]){"--version", NULL}),
	                 0);
	ck_assert_int_eq(strncmp(out, "shortd ", 7), 0);
	ck_assert_int_eq(out[strlen(out) - 1], '\n');
	ck_assert_str_eq(err, "");
}
END_TEST

/* shortd --help, -h and help print every command's usage on stdout. */
START_TEST(test_help_in_every_spelling)
{
	static const char *const spellings[] = {"--help", "-h", "help"};

	for (size_t i = 0; i < sizeof(spellings) / sizeof(spellings[0]); i++) {
		char out[4096], err[256];

		ck_assert_int_eq(
		    shortd_run(NULL, out, sizeof(out), err, sizeof(err), (const char *const[]){spellings[i], NULL}), 0);
		ck_assert_msg(strstr(out, "  serve  [--listen HOST:PORT]") != NULL, "%s: %s", spellings[i], out);
		ck_assert_ptr_nonnull(strstr(out, "  token list | token revoke NAME\n"));
		ck_assert_str_eq(err, "");
	}
}
END_TEST

START_TEST(test_unknown_command_exits_2)
{
	char out[256], err[256];

	ck_assert_int_eq(shortd_run(NULL, out, sizeof(out), err, sizeof(err), (const char *const[]){"srve", NULL}), 2);
	ck_assert_str_eq(out, "");
	ck_assert_str_eq(err, "shortd: unknown command 'srve' (try shortd --help)\n");
}
END_TEST

Suite *usage_suite(void)
{
	Suite *s = suite_create("usage");
	TCase *tc = tcase_create("usage");

	tcase_add_test(tc, test_no_command_prints_usage_and_exits_2);
	tcase_add_test(tc, test_version);
	tcase_add_test(tc, test_help_in_every_spelling);
	tcase_add_test(tc, test_unknown_command_exits_2);
	suite_add_tcase(s, tc);
	return s;
}
