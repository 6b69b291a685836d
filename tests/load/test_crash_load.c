/*
 * Crash safety at length: 20 times, the daemon is killed with SIGKILL in the
 * middle of a mixed load (link creation through the API and clicks), then
 * restarted on the same database; after each restart the database passes
 * PRAGMA integrity_check and holds every link whose creation was answered
 * 201, in this round and all the rounds before (crash_rounds.h).
 */
#include <check.h>

#include "crash_rounds.h"

START_TEST(test_sigkill_under_load_loses_no_acknowledged_link_20_rounds)
{
	crash_rounds(20);
}
END_TEST

Suite *crash_load_suite(void)
{
	Suite *s = suite_create("crash_load");
	TCase *tc = tcase_create("sigkill");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_sigkill_under_load_loses_no_acknowledged_link_20_rounds);
	suite_add_tcase(s, tc);
	return s;
}
