/*
 * The stop-under-traffic race of stop_race.h.
 */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "redirect_fixture.h"
#include "stop_race.h"

static atomic_int redirects;     /* 307s with the right Location */
static atomic_int wrong;         /* any other answer */
static atomic_int early_failure; /* a transfer failed before the signal */
static atomic_bool signal_sent;
static char link_url[128]; /* written before the clients start */

/* One client: even ones keep one connection alive, odd ones POST a body on
 * a new connection each time. Stops at the first failed transfer, which
 * must come after the signal. */
static void *client(void *arg)
{
	long id = (long)arg;
	struct http_client c;
	struct http_result r;
	char loc[256];
	int rc;

	if (http_client_init(&c) != 0) {
		atomic_fetch_add(&early_failure, 1);
		return NULL;
	}
	for (;;) {
		if (id % 2 == 0)
			rc = http_client_do(&c, "GET", link_url, NULL, 0, NULL, false, &r);
		else
			rc = http_do("POST", link_url, "x=1", 3, NULL, false, &r);
		if (rc != 0) {
			if (!atomic_load(&signal_sent))
				atomic_fetch_add(&early_failure, 1);
			break;
		}
		if (r.status == 307 && http_header(&r, "Location", loc, sizeof(loc)) == 0 &&
		    strcmp(loc, STOP_RACE_TARGET) == 0)
			atomic_fetch_add(&redirects, 1);
		else
			atomic_fetch_add(&wrong, 1);
		http_result_free(&r);
	}
	http_client_cleanup(&c);
	return NULL;
}

void stop_race_round(int sig)
{
	pthread_t t[STOP_RACE_CLIENTS];

	atomic_store(&redirects, 0);
	atomic_store(&wrong, 0);
	atomic_store(&early_failure, 0);
	atomic_store(&signal_sent, false);
	rt_start(NULL);
	create_link(&rt_daemon, STOP_RACE_TARGET, "c", 307, NULL);
	snprintf(link_url, sizeof(link_url), "%s/c", rt_daemon.base);
	for (long i = 0; i < STOP_RACE_CLIENTS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, client, (void *)i), 0);
	for (int waited = 0; atomic_load(&redirects) < STOP_RACE_WANTED && waited < 20000; waited += 2)
		pause_ms(2);
	ck_assert_int_ge(atomic_load(&redirects), STOP_RACE_WANTED);
	atomic_store(&signal_sent, true);
	ck_assert_int_eq(daemon_stop_with(&rt_daemon, sig), 0);
	for (int i = 0; i < STOP_RACE_CLIENTS; i++)
		pthread_join(t[i], NULL);
	ck_assert_int_eq(atomic_load(&wrong), 0);
	ck_assert_int_eq(atomic_load(&early_failure), 0);
	daemon_cleanup(&rt_daemon);
	echo_stop(&rt_echo);
}
