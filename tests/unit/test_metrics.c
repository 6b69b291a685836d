/*
 * The metrics counters without a daemon: what is counted and what is not
 * (statuses out of range, unknown routes, a NULL set), one block per thread
 * summed at render, the latency histogram's buckets, the connection gauge,
 * and route names.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

static char *render(struct metrics *m, const struct metrics_snapshot *snap)
{
	char *text;
	size_t len;

	ck_assert_int_eq(metrics_render(m, snap, &text, &len), 0);
	ck_assert_uint_eq(strlen(text), len);
	return text;
}

static void assert_line(const char *text, const char *line)
{
	char want[256];

	snprintf(want, sizeof(want), "\n%s\n", line);
	ck_assert_msg(strstr(text, want) != NULL, "no line '%s' in:\n%s", line, text);
}

START_TEST(test_what_is_counted)
{
	struct metrics *m;
	struct metrics_snapshot snap = {{.flushed = 7, .batches = 3, .errors = 1, .flush_usec = 2500000, .waiting = 5},
	                                4};
	char *text;

	ck_assert_int_eq(metrics_new(&m), 0);
	metrics_request(m, METRICS_ROUTE_REDIRECT, 302, 50000);      /* 50 us */
	metrics_request(m, METRICS_ROUTE_REDIRECT, 302, 2000000000); /* 2 s: past every bucket */
	metrics_request(m, METRICS_ROUTE_REDIRECT, 503, 1000);
	metrics_request(m, METRICS_ROUTE_API, 201, 1000);
	metrics_request(m, METRICS_ROUTE_API, 503, 1000);
	metrics_request(m, METRICS_ROUTE_HEALTH, 503, 1000);
	/* Not counted: statuses outside 100..599, routes outside the enum. */
	metrics_request(m, METRICS_ROUTE_API, 99, 1000);
	metrics_request(m, METRICS_ROUTE_API, 600, 1000);
	metrics_request(m, METRICS_ROUTE_COUNT, 200, 1000);
	metrics_request(m, (enum metrics_route) - 1, 200, 1000);
	metrics_request(NULL, METRICS_ROUTE_API, 200, 1000);
	metrics_connection_opened(m);
	metrics_connection_opened(m);
	metrics_connection_closed(m);
	metrics_connection_opened(NULL);
	metrics_connection_closed(NULL);

	text = render(m, &snap);
	assert_line(text, "shortd_http_requests_total{route=\"redirect\",code=\"302\"} 2");
	assert_line(text, "shortd_http_requests_total{route=\"api\",code=\"201\"} 1");
	ck_assert_ptr_null(strstr(text, "code=\"99\""));
	ck_assert_ptr_null(strstr(text, "code=\"600\""));
	ck_assert_ptr_null(strstr(text, "code=\"200\""));
	assert_line(text, "shortd_redirects_total{code=\"302\"} 2");
	assert_line(text, "shortd_redirects_total{code=\"301\"} 0");
	assert_line(text, "shortd_store_errors_total{source=\"redirect\"} 1");
	assert_line(text, "shortd_store_errors_total{source=\"healthz\"} 1");
	assert_line(text, "shortd_store_errors_total{source=\"api\"} 1");
	assert_line(text, "shortd_store_errors_total{source=\"click_flush\"} 1");
	assert_line(text, "shortd_redirect_duration_seconds_bucket{le=\"+Inf\"} 3");
	assert_line(text, "shortd_redirect_duration_seconds_count 3");
	assert_line(text, "shortd_clicks_flushed_total 7");
	assert_line(text, "shortd_click_flush_batches_total 3");
	assert_line(text, "shortd_click_flush_seconds_total 2.500000");
	assert_line(text, "shortd_clicks_waiting 5");
	assert_line(text, "shortd_open_connections 1");
	assert_line(text, "shortd_connections_total 2");
	assert_line(text, "shortd_requests_in_flight 4");
	free(text);
	metrics_free(m);
	metrics_free(NULL);
}
END_TEST

static void *count_from_a_thread(void *arg)
{
	struct metrics *m = arg;

	for (int i = 0; i < 1000; i++)
		metrics_request(m, METRICS_ROUTE_REDIRECT, 301, 1000);
	metrics_connection_closed(m); /* closed on another thread than opened */
	return NULL;
}

/* Each thread counts in its own block; render sums them, and a gauge whose
 * closes were counted first never goes under 0. */
START_TEST(test_blocks_of_every_thread_are_summed)
{
	struct metrics *m;
	struct metrics_snapshot snap = {{0}, 0};
	pthread_t th[4];
	char *text;

	ck_assert_int_eq(metrics_new(&m), 0);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, count_from_a_thread, m), 0);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
	metrics_request(m, METRICS_ROUTE_REDIRECT, 301, 1000);
	text = render(m, &snap);
	assert_line(text, "shortd_redirects_total{code=\"301\"} 4001");
	assert_line(text, "shortd_open_connections 0");
	assert_line(text, "shortd_connections_total 0");
	free(text);
	metrics_free(m);
}
END_TEST

START_TEST(test_route_names)
{
	ck_assert_str_eq(metrics_route_name(METRICS_ROUTE_REDIRECT), "redirect");
	ck_assert_str_eq(metrics_route_name(METRICS_ROUTE_API), "api");
	ck_assert_str_eq(metrics_route_name(METRICS_ROUTE_COUNT), "other");
	ck_assert_str_eq(metrics_route_name((enum metrics_route) - 1), "other");
}
END_TEST

Suite *metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("metrics");

	tcase_add_test(tc, test_what_is_counted);
	tcase_add_test(tc, test_blocks_of_every_thread_are_summed);
	tcase_add_test(tc, test_route_names);
	suite_add_tcase(s, tc);
	return s;
}
