/*
 * The stop-under-traffic race of stop_race.h, many times: stopping once
 * raced libmicrohttpd's workers and aborted about one stop in 200, so a few
 * rounds (as make check runs) would rarely catch it coming back.
 */
#include <check.h>
#include <signal.h>

#include "stop_race.h"

#define ROUNDS 200

/* Even rounds SIGTERM, odd rounds SIGINT. */
START_TEST(test_stop_during_traffic_exits_0)
{
	stop_race_round(_i % 2 == 0 ? SIGTERM : SIGINT);
}
END_TEST

Suite *stop_race_suite(void)
{
	Suite *s = suite_create("stop_race");
	TCase *tc = tcase_create("rounds");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_stop_during_traffic_exits_0, 0, ROUNDS);
	suite_add_tcase(s, tc);
	return s;
}
