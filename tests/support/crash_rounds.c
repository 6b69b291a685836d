/*
 * Crash safety, the rounds of crash_rounds.h: the daemon is killed with
 * SIGKILL in the middle of a mixed load (link creation through the API and
 * clicks), then restarted on the same database. After each restart the
 * database passes PRAGMA integrity_check and holds every link whose creation
 * was answered 201, in this round and all the rounds before.
 */
#include <check.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crash_rounds.h"
#include "harness.h"

#define TOKEN "crash-admin-token-0123456789abcdefghijklmnopq"
#define TARGET "https://t.example/crash"
#define THREADS 3
#define ACKED_MAX 200000
#define CODE_LEN 32

static const char *const token_env[] = {"SHORTD_ADMIN_TOKEN=" TOKEN, NULL};

/* Codes whose creation was answered 201, over every round. */
struct acked {
	pthread_mutex_t lock;
	size_t n;
	char (*codes)[CODE_LEN];
};

struct loader {
	const struct daemon *d;
	struct acked *acked;
	int round;
	int id;
	long created;
	long clicked;
};

static void *loader_run(void *arg)
{
	static const char *const headers[] = {"Authorization: Bearer " TOKEN, "Content-Type: application/json", NULL};
	struct loader *l = arg;
	struct http_client c;
	char url[128], click[128], body[160], code[CODE_LEN];

	snprintf(url, sizeof(url), "%s/api/v1/links", l->d->base);
	snprintf(click, sizeof(click), "%s/seed", l->d->base);
	if (http_client_init(&c) != 0)
		return NULL;
	/* Until the daemon dies under us (bounded, should the kill not come). */
	for (int n = 0; n < 100000; n++) {
		struct http_result r;
		snprintf(code, sizeof(code), "r%dt%dn%d", l->round, l->id, n);
		snprintf(body, sizeof(body), "{\"url\":\"" TARGET "/%s\",\"code\":\"%s\"}", code, code);
		if (http_client_do(&c, "POST", url, body, strlen(body), headers, false, &r) != 0)
			break;
		if (r.status == 201) {
			pthread_mutex_lock(&l->acked->lock);
			if (l->acked->n < ACKED_MAX)
				memcpy(l->acked->codes[l->acked->n++], code, sizeof(code));
			pthread_mutex_unlock(&l->acked->lock);
			l->created++;
		}
		http_result_free(&r);
		for (int k = 0; k < 9; k++) {
			if (http_client_do(&c, "GET", click, NULL, 0, NULL, false, &r) != 0)
				goto out;
			if (r.status == 302)
				l->clicked++;
			http_result_free(&r);
		}
	}
out:
	http_client_cleanup(&c);
	return NULL;
}

/* Opens the database beside the running daemon and checks it. */
static void check_database(const char *db, const struct acked *acked)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;

	ck_assert_int_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	sqlite3_busy_timeout(h, 5000);
	ck_assert_int_eq(sqlite3_prepare_v2(h, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "ok");
	ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	ck_assert_int_eq(sqlite3_prepare_v2(h, "SELECT url FROM links WHERE code = ?1", -1, &st, NULL), SQLITE_OK);
	for (size_t i = 0; i < acked->n; i++) {
		char want[128];
		sqlite3_bind_text(st, 1, acked->codes[i], -1, SQLITE_STATIC);
		ck_assert_msg(sqlite3_step(st) == SQLITE_ROW, "link %s was answered 201 and is gone", acked->codes[i]);
		snprintf(want, sizeof(want), TARGET "/%s", acked->codes[i]);
		ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), want);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	ck_assert_int_eq(sqlite3_close(h), SQLITE_OK);
}

static void create_seed(const struct daemon *d)
{
	static const char *const headers[] = {"Authorization: Bearer " TOKEN, "Content-Type: application/json", NULL};
	static const char body[] = "{\"url\":\"" TARGET "\",\"code\":\"seed\"}";
	char url[128];
	struct http_result r;

	snprintf(url, sizeof(url), "%s/api/v1/links", d->base);
	ck_assert_int_eq(http_do("POST", url, body, sizeof(body) - 1, headers, false, &r), 0);
	ck_assert_int_eq(r.status, 201);
	http_result_free(&r);
}

void crash_rounds(int rounds)
{
	struct acked acked = {PTHREAD_MUTEX_INITIALIZER, 0, calloc(ACKED_MAX, CODE_LEN)};
	struct daemon d;
	long created = 0, clicked = 0;

	ck_assert_ptr_nonnull(acked.codes);
	srand(20);
	fixture_start(&d, NULL, (const char *const[]){"--flush-interval", "20", NULL}, token_env);
	create_seed(&d);
	for (int round = 0; round < rounds; round++) {
		struct loader loaders[THREADS];
		pthread_t threads[THREADS];
		char url[128], loc[256];
		struct http_result r;

		for (int i = 0; i < THREADS; i++) {
			loaders[i] = (struct loader){&d, &acked, round, i, 0, 0};
			ck_assert_int_eq(pthread_create(&threads[i], NULL, loader_run, &loaders[i]), 0);
		}
		pause_ms(100 + rand() % 250);
		daemon_kill(&d);
		for (int i = 0; i < THREADS; i++) {
			ck_assert_int_eq(pthread_join(threads[i], NULL), 0);
			created += loaders[i].created;
			clicked += loaders[i].clicked;
		}
		/* Restarting runs recovery and the start-up check on the same file. */
		ck_assert_msg(daemon_start(&d, (const char *const[]){"--flush-interval", "20", NULL}, token_env) == 0,
		              "round %d: the daemon does not start again", round);
		check_database(d.db, &acked);
		snprintf(url, sizeof(url), "%s/seed", d.base);
		ck_assert_int_eq(http_do("GET", url, NULL, 0, NULL, false, &r), 0);
		ck_assert_int_eq(r.status, 302);
		ck_assert_int_eq(http_header(&r, "Location", loc, sizeof(loc)), 0);
		ck_assert_str_eq(loc, TARGET);
		http_result_free(&r);
	}
	/* The load did run: links were made and clicked in the rounds. */
	ck_assert_int_gt(created, rounds);
	ck_assert_int_gt(clicked, rounds);
	ck_assert_uint_eq(acked.n, (size_t)created);
	ck_assert_int_eq(daemon_stop(&d), 0);
	check_database(d.db, &acked);
	daemon_cleanup(&d);
	free(acked.codes);
}
