/*
 * Crash safety: 4 times, the daemon is killed with SIGKILL in the middle of
 * a mixed load (link creation through the API and clicks), then restarted on
 * the same database; after each restart the database passes PRAGMA
 * integrity_check and holds every link whose creation was answered 201
 * (crash_rounds.h). make check-load runs 20 rounds.
 */
#include <check.h>

#include "crash_rounds.h"

START_TEST(test_sigkill_under_load_loses_no_acknowledged_link)
{
	crash_rounds(4);
}
END_TEST

Suite *crash_suite(void)
{
	Suite *s = suite_create("crash");
	TCase *tc = tcase_create("sigkill");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_sigkill_under_load_loses_no_acknowledged_link);
	suite_add_tcase(s, tc);
	return s;
}
