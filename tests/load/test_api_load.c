/*
 * Concurrent creation through the admin API: 8 client threads each create
 * 1,000 links with generated codes at the same time. Every request must be
 * answered 201 (no SQLITE_BUSY or other store error surfacing), every code
 * must be distinct, and a walk of the listing must find exactly those 8,000
 * links with the URLs they were created with.
 */
#include <check.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_client.h"
#include "harness.h"

#define LOAD_THREADS 8
#define LOAD_PER_THREAD 1000
#define LOAD_TOTAL (LOAD_THREADS * LOAD_PER_THREAD)

struct creator {
	const struct daemon *d;
	int id;
	int failed;
	long last_bad_status;
	char last_bad_body[256];
	char codes[LOAD_PER_THREAD][8];
};

static void *create_links(void *arg)
{
	struct creator *c = arg;
	char body[128];

	for (int k = 0; k < LOAD_PER_THREAD; k++) {
		struct http_result r;
		json_error_t err;
		json_t *l;

		snprintf(body, sizeof(body), "{\"url\":\"https://load.example/%d/%d\"}", c->id, k);
		if (client_call(c->d, API_TEST_TOKEN, "POST", "/api/v1/links", body, &r) != 201 ||
		    (l = json_loadb(r.body, r.body_len, 0, &err)) == NULL) {
			c->failed++;
			c->last_bad_status = r.status;
			snprintf(c->last_bad_body, sizeof(c->last_bad_body), "%s", r.body != NULL ? r.body : "");
			http_result_free(&r);
			continue;
		}
		snprintf(c->codes[k], sizeof(c->codes[k]), "%s", client_str(l, "code"));
		json_decref(l);
		http_result_free(&r);
	}
	return NULL;
}

static int compare_codes(const void *a, const void *b)
{
	return strcmp(a, b);
}

START_TEST(test_8_threads_create_8000_distinct_links)
{
	static struct creator creators[LOAD_THREADS];
	static char all_codes[LOAD_TOTAL][8], listed[LOAD_TOTAL][8];
	pthread_t threads[LOAD_THREADS];
	struct daemon d;
	json_t *all, *item;
	int pages;
	size_t i;

	client_daemon_start(&d, NULL);
	for (int t = 0; t < LOAD_THREADS; t++) {
		creators[t].d = &d;
		creators[t].id = t;
		ck_assert_int_eq(pthread_create(&threads[t], NULL, create_links, &creators[t]), 0);
	}
	for (int t = 0; t < LOAD_THREADS; t++)
		pthread_join(threads[t], NULL);
	for (int t = 0; t < LOAD_THREADS; t++) {
		ck_assert_msg(creators[t].failed == 0, "thread %d: %d failed, last %ld %s", t, creators[t].failed,
		              creators[t].last_bad_status, creators[t].last_bad_body);
		memcpy(all_codes[t * LOAD_PER_THREAD], creators[t].codes, sizeof(creators[t].codes));
	}
	qsort(all_codes, LOAD_TOTAL, sizeof(all_codes[0]), compare_codes);
	for (int k = 0; k < LOAD_TOTAL; k++) {
		ck_assert_uint_eq(strlen(all_codes[k]), 7);
		if (k > 0)
			ck_assert_msg(strcmp(all_codes[k - 1], all_codes[k]) != 0, "code %s twice", all_codes[k]);
	}

	all = client_list_all(&d, 1000, &pages);
	ck_assert_int_eq(pages, LOAD_TOTAL / 1000);
	ck_assert_uint_eq(json_array_size(all), LOAD_TOTAL);
	json_array_foreach(all, i, item)
	{
		int t, k;
		ck_assert_int_eq(sscanf(client_str(item, "url"), "https://load.example/%d/%d", &t, &k), 2);
		ck_assert_str_eq(client_str(item, "code"), creators[t].codes[k]);
		snprintf(listed[i], sizeof(listed[i]), "%s", client_str(item, "code"));
	}
	json_decref(all);
	qsort(listed, LOAD_TOTAL, sizeof(listed[0]), compare_codes);
	ck_assert(memcmp(listed, all_codes, sizeof(listed)) == 0);
	fixture_stop(&d);
}
END_TEST

Suite *api_load_suite(void)
{
	Suite *s = suite_create("api_load");
	TCase *tc = tcase_create("concurrency");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_8_threads_create_8000_distinct_links);
	suite_add_tcase(s, tc);
	return s;
}
