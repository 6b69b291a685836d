/*
 * Unit tests of clicks.c on a temporary store per test: recorded clicks are
 * pending exactly until a flush writes totals, daily rows and referrers
 * (bots apart); clicks_stop writes everything; clicks_admit lets exactly
 * max_clicks through under 8 threads, counting clicks recorded before the
 * limit was set.
 */
#include <check.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clicks.h"
#include "harness.h"
#include "link_code.h"
#include "store.h"

#define DAY0 1700006400 /* 2023-11-15T00:00:00Z, day 19676 */
#define NEVER 600000    /* a flush interval no test waits for */

static char dir[256];
static char path[300];
static struct store *st;
static struct clicks *ck;

static void fixture_setup(void)
{
	char err[256];

	tempdb_make("clicks", dir, sizeof(dir), path, sizeof(path));
	ck_assert_msg(store_open(path, &st, err, sizeof(err)) == STORE_OK, "%s", err);
	ck = NULL;
}

static void fixture_teardown(void)
{
	clicks_stop(ck);
	store_close(st);
	tempdb_remove(dir, path);
}

static void start(int interval_ms)
{
	ck_assert_int_eq(clicks_start(st, interval_ms, &ck), 0);
	ck_assert_ptr_nonnull(ck);
}

static struct link make(const char *code, int64_t max_clicks)
{
	struct link l;

	link_init(&l);
	snprintf(l.code, sizeof(l.code), "%s", code);
	snprintf(l.url, sizeof(l.url), "https://t.example/%s", code);
	l.status = 302;
	l.max_clicks = max_clicks;
	l.created_at = l.updated_at = DAY0;
	ck_assert_int_eq(store_link_create(st, &l, link_code_generate, NULL), STORE_OK);
	return l;
}

static struct link lookup(const char *code)
{
	struct link l;

	ck_assert_int_eq(store_link_lookup(st, code, &l), STORE_OK);
	return l;
}

static void assert_pending(int64_t id, int64_t human, int64_t bot, int64_t last)
{
	int64_t h, b, at;

	clicks_pending(ck, id, &h, &b, &at);
	ck_assert_int_eq(h, human);
	ck_assert_int_eq(b, bot);
	ck_assert_int_eq(at, last);
}

START_TEST(test_record_then_pending_is_exact)
{
	struct link a, b;

	start(NEVER);
	a = make("a", LINK_NO_LIMIT);
	b = make("b", LINK_NO_LIMIT);
	clicks_record(ck, a.id, DAY0 + 10, false, "news.example");
	clicks_record(ck, a.id, DAY0 + 30, false, NULL);
	clicks_record(ck, a.id, DAY0 + 20, false, "news.example");
	clicks_record(ck, a.id, DAY0 + 40, true, "news.example");
	clicks_record(ck, a.id, DAY0 + 86400 + 5, false, "blog.example");
	clicks_record(ck, b.id, DAY0 + 1, true, NULL);
	assert_pending(a.id, 4, 1, DAY0 + 86400 + 5);
	assert_pending(b.id, 0, 1, DAY0 + 1);
	assert_pending(9999, 0, 0, LINK_NO_TIME);
	/* pending is a read: asking twice changes nothing, and nothing is written */
	assert_pending(a.id, 4, 1, DAY0 + 86400 + 5);
	ck_assert_int_eq(lookup("a").clicks, 0);
}
END_TEST

START_TEST(test_flush_writes_totals_daily_referrers)
{
	struct link a, b, got;
	struct store_daily d[4];
	struct store_referrer r[4];
	struct clicks_stats stats;
	size_t n;

	start(NEVER);
	a = make("a", LINK_NO_LIMIT);
	b = make("b", LINK_NO_LIMIT);
	clicks_record(ck, a.id, DAY0 + 10, false, "news.example");
	clicks_record(ck, a.id, DAY0 + 20, false, "news.example");
	clicks_record(ck, a.id, DAY0 + 30, false, NULL);
	clicks_record(ck, a.id, DAY0 + 40, true, "news.example");
	clicks_record(ck, a.id, DAY0 + 50, true, NULL);
	clicks_record(ck, a.id, DAY0 + 86400 + 5, false, "blog.example");
	clicks_record(ck, b.id, DAY0 + 7, true, NULL);
	ck_assert_int_eq(clicks_flush(ck), 0);

	got = lookup("a");
	ck_assert_int_eq(got.clicks, 4);
	ck_assert_int_eq(got.bot_clicks, 2);
	ck_assert_int_eq(got.last_click_at, DAY0 + 86400 + 5);
	got = lookup("b");
	ck_assert_int_eq(got.clicks, 0);
	ck_assert_int_eq(got.bot_clicks, 1);
	ck_assert_int_eq(got.last_click_at, DAY0 + 7);

	ck_assert_int_eq(store_link_daily(st, a.id, 0, d, 4, &n), STORE_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(d[0].day, DAY0 / 86400);
	ck_assert_int_eq(d[0].clicks, 3);
	ck_assert_int_eq(d[0].bot_clicks, 2);
	ck_assert_int_eq(d[1].day, DAY0 / 86400 + 1);
	ck_assert_int_eq(d[1].clicks, 1);
	ck_assert_int_eq(d[1].bot_clicks, 0);
	ck_assert_int_eq(store_link_referrers(st, a.id, 0, r, 4, &n), STORE_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(r[0].host, "news.example");
	ck_assert_int_eq(r[0].clicks, 2);
	ck_assert_str_eq(r[1].host, "blog.example");
	ck_assert_int_eq(r[1].clicks, 1);

	assert_pending(a.id, 0, 0, LINK_NO_TIME);
	clicks_get_stats(ck, &stats);
	ck_assert_uint_eq(stats.flushed, 7);
	ck_assert_uint_eq(stats.batches, 1);
	ck_assert_uint_eq(stats.errors, 0);

	/* nothing pending: a flush writes nothing and counts no batch */
	ck_assert_int_eq(clicks_flush(ck), 0);
	clicks_get_stats(ck, &stats);
	ck_assert_uint_eq(stats.batches, 1);
	ck_assert_int_eq(lookup("a").clicks, 4);
}
END_TEST

START_TEST(test_referrer_cut_to_max)
{
	struct link a;
	struct store_referrer r[2];
	char host[300];
	size_t n;

	start(NEVER);
	a = make("a", LINK_NO_LIMIT);
	memset(host, 'h', sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	clicks_record(ck, a.id, DAY0, false, host);
	ck_assert_int_eq(clicks_flush(ck), 0);
	ck_assert_int_eq(store_link_referrers(st, a.id, 0, r, 2, &n), STORE_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(strlen(r[0].host), CLICKS_REFERRER_MAX);
}
END_TEST

/* A batch keeps each referrer host once: 5,000 distinct hosts (past the
 * size at which the host table is let go after a write) on one link, each
 * clicked twice, are written as 5,000 rows of 2, and so is a second such
 * batch after the first was cleared. */
START_TEST(test_many_referrer_hosts_in_one_batch)
{
	static struct store_referrer r[5001];
	char host[32];
	struct link a;
	size_t n;

	start(NEVER);
	a = make("a", LINK_NO_LIMIT);
	for (int round = 0; round < 2; round++) {
		for (int twice = 0; twice < 2; twice++) {
			for (int i = 0; i < 5000; i++) {
				snprintf(host, sizeof(host), "h%d.example", i);
				clicks_record(ck, a.id, DAY0 + round * 86400, false, host);
			}
		}
		ck_assert_int_eq(clicks_flush(ck), 0);
		ck_assert_int_eq(store_link_referrers(st, a.id, DAY0 / 86400 + round, r, 5001, &n), STORE_OK);
		ck_assert_uint_eq(n, 5000);
		for (size_t i = 0; i < n; i++)
			ck_assert_int_eq(r[i].clicks, 2);
	}
	ck_assert_int_eq(lookup("a").clicks, 20000);
}
END_TEST

START_TEST(test_clicks_of_deleted_link_dropped)
{
	struct link a, b;
	struct clicks_stats stats;

	start(NEVER);
	a = make("a", LINK_NO_LIMIT);
	b = make("b", LINK_NO_LIMIT);
	clicks_record(ck, a.id, DAY0, false, "x.example");
	clicks_record(ck, b.id, DAY0, false, NULL);
	ck_assert_int_eq(store_link_delete(st, "a"), STORE_OK);
	ck_assert_int_eq(clicks_flush(ck), 0);
	ck_assert_int_eq(lookup("b").clicks, 1);
	clicks_get_stats(ck, &stats);
	ck_assert_uint_eq(stats.errors, 0);
	assert_pending(a.id, 0, 0, LINK_NO_TIME);
}
END_TEST

/* More clicks than one ring holds, from one thread: none is dropped. */
START_TEST(test_full_ring_never_drops)
{
	struct link a;

	start(NEVER);
	a = make("a", LINK_NO_LIMIT);
	for (int i = 0; i < 30000; i++)
		clicks_record(ck, a.id, DAY0 + i % 1000, i % 3 == 0, NULL);
	assert_pending(a.id, 20000, 10000, DAY0 + 999);
	ck_assert_int_eq(clicks_stop(ck), 0);
	ck = NULL;
	ck_assert_int_eq(lookup("a").clicks, 20000);
	ck_assert_int_eq(lookup("a").bot_clicks, 10000);
}
END_TEST

struct recorder {
	int64_t id;
	int n;
};

static void *record_many(void *arg)
{
	struct recorder *r = arg;

	for (int i = 0; i < r->n; i++)
		clicks_record(ck, r->id, DAY0 + i, i % 5 == 0, i % 2 ? "r.example" : NULL);
	return NULL;
}

START_TEST(test_stop_writes_everything)
{
	struct link a;
	pthread_t t[4];
	struct recorder rec = {0, 2500};
	struct store_referrer r[2];
	size_t n;

	start(NEVER);
	a = make("a", LINK_NO_LIMIT);
	rec.id = a.id;
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, record_many, &rec), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	ck_assert_int_eq(lookup("a").clicks, 0);
	ck_assert_int_eq(clicks_stop(ck), 0);
	ck = NULL;
	ck_assert_int_eq(lookup("a").clicks, 4 * 2000);
	ck_assert_int_eq(lookup("a").bot_clicks, 4 * 500);
	ck_assert_int_eq(lookup("a").last_click_at, DAY0 + 2499);
	ck_assert_int_eq(store_link_referrers(st, a.id, 0, r, 2, &n), STORE_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(r[0].clicks, 4 * 1000); /* odd i: never a multiple of 5 and even */
	ck_assert_int_eq(clicks_stop(NULL), 0);
}
END_TEST

START_TEST(test_flusher_writes_on_its_own)
{
	struct link a;
	struct clicks_stats stats;

	start(10);
	a = make("a", LINK_NO_LIMIT);
	clicks_record(ck, a.id, DAY0, false, NULL);
	/* The flusher commits the row before it counts it in its stats: wait
	 * for both. */
	clicks_get_stats(ck, &stats);
	for (int i = 0; i < 5000 && (lookup("a").clicks == 0 || stats.flushed == 0); i++) {
		usleep(1000);
		clicks_get_stats(ck, &stats);
	}
	ck_assert_int_eq(lookup("a").clicks, 1);
	ck_assert_uint_eq(stats.flushed, 1);
}
END_TEST

/* A burst of distinct rows (here CLICKS_BATCH_ROWS + 1,000 days of one
 * link) is written once the aggregate holds CLICKS_BATCH_ROWS of them, long
 * before the interval, so its memory stays bounded; every click is still
 * written once. */
START_TEST(test_burst_written_before_interval)
{
	struct link a;
	struct clicks_stats stats;

	start(NEVER);
	a = make("a", LINK_NO_LIMIT);
	for (int i = 0; i < CLICKS_BATCH_ROWS + 1000; i++)
		clicks_record(ck, a.id, DAY0 + (int64_t)i * 86400, false, NULL);
	clicks_get_stats(ck, &stats);
	for (int i = 0; i < 5000 && stats.batches == 0; i++) {
		usleep(1000);
		clicks_get_stats(ck, &stats);
	}
	ck_assert_uint_eq(stats.batches, 1);
	ck_assert_uint_eq(stats.flushed, CLICKS_BATCH_ROWS);
	ck_assert_int_eq(lookup("a").clicks, CLICKS_BATCH_ROWS);
	ck_assert_int_eq(clicks_flush(ck), 0);
	ck_assert_int_eq(lookup("a").clicks, CLICKS_BATCH_ROWS + 1000);
	ck_assert_int_eq(sqlfile_int(path, "SELECT count(*) FROM clicks_daily"), CLICKS_BATCH_ROWS + 1000);
}
END_TEST

/* The store's first connection is its writer: the hook keeps it so the test
 * can lift the page limit it puts on every connection. */
static sqlite3 *writer_db;

static int limit_pages_ext(sqlite3 *db, char **msg, const struct sqlite3_api_routines *api)
{
	(void)msg;
	(void)api;
	if (writer_db == NULL)
		writer_db = db;
	sqlite3_exec(db, "PRAGMA max_page_count = 1", NULL, NULL, NULL);
	return SQLITE_OK;
}

/* Reopens the store with room for no page: every write fails until
 * make_room(). */
static void open_full(void)
{
	char err[256];

	store_close(st);
	writer_db = NULL;
	ck_assert_int_eq(sqlite3_auto_extension((void (*)(void))limit_pages_ext), SQLITE_OK);
	ck_assert_int_eq(store_open(path, &st, err, sizeof(err)), STORE_OK);
	sqlite3_reset_auto_extension();
	ck_assert_ptr_nonnull(writer_db);
}

static void make_room(void)
{
	ck_assert_int_eq(sqlite3_exec(writer_db, "PRAGMA max_page_count = 1000000", NULL, NULL, NULL), SQLITE_OK);
}

/* Waits (5 s at most) for the flusher's first failed write; *stats as then. */
static void wait_for_a_failed_write(struct clicks_stats *stats)
{
	clicks_get_stats(ck, stats);
	for (int i = 0; i < 5000 && stats->errors == 0; i++) {
		usleep(1000);
		clicks_get_stats(ck, stats);
	}
}

/* A flush the store refuses (database full) keeps every click as its
 * batch; clicks of as many new referrer hosts come before the next flush
 * (the aggregate's host table grows and moves meanwhile), and that flush,
 * after room is made, writes the kept batch and then them, once, each
 * under its own host. */
START_TEST(test_failed_flush_keeps_clicks)
{
	static struct store_referrer r[6001];
	struct link a;
	struct clicks_stats stats;
	char host[CLICKS_REFERRER_MAX + 1];
	size_t n;

	a = make("a", LINK_NO_LIMIT);
	open_full();
	start(NEVER);
	for (int i = 0; i < 3000; i++) {
		snprintf(host, sizeof(host), "%04d-%0*d.example", i, CLICKS_REFERRER_MAX - 13, 0);
		clicks_record(ck, a.id, DAY0, false, host);
	}
	ck_assert_int_eq(clicks_flush(ck), -1);
	clicks_get_stats(ck, &stats);
	ck_assert_uint_eq(stats.errors, 1);
	ck_assert_uint_eq(stats.flushed, 0);
	assert_pending(a.id, 3000, 0, DAY0);
	ck_assert_int_eq(lookup("a").clicks, 0);
	for (int i = 3000; i < 6000; i++) {
		snprintf(host, sizeof(host), "%04d-%0*d.example", i, CLICKS_REFERRER_MAX - 13, 0);
		clicks_record(ck, a.id, DAY0, false, host);
	}

	/* What the failed write kept and what came since, together. */
	assert_pending(a.id, 6000, 0, DAY0);

	make_room();
	ck_assert_int_eq(clicks_flush(ck), 0);
	assert_pending(a.id, 0, 0, LINK_NO_TIME);
	ck_assert_int_eq(lookup("a").clicks, 6000);
	ck_assert_int_eq(store_link_referrers(st, a.id, 0, r, 6001, &n), STORE_OK);
	ck_assert_uint_eq(n, 6000);
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_eq(r[i].clicks, 1);
		ck_assert_uint_eq(strlen(r[i].host), CLICKS_REFERRER_MAX);
		ck_assert_msg(strncmp(r[i].host + 4, "-000", 4) == 0, "host %zu: %s", i, r[i].host);
	}
	/* sorted by host among equal counts: the first and the last written */
	ck_assert_int_eq(strncmp(r[0].host, "0000-", 5), 0);
	ck_assert_int_eq(strncmp(r[n - 1].host, "5999-", 5), 0);
	/* Two writes: the batch the failed write left, as it was, then the
	 * clicks recorded since. */
	clicks_get_stats(ck, &stats);
	ck_assert_uint_eq(stats.flushed, 6000);
	ck_assert_uint_eq(stats.batches, 2);
}
END_TEST

/* A burst the flusher cannot write (database full) is kept whole, not
 * only its first batch: once room is made, every click is written once. */
START_TEST(test_failed_burst_keeps_every_click)
{
	struct link a;
	struct clicks_stats stats;

	a = make("a", LINK_NO_LIMIT);
	open_full();
	start(NEVER);
	for (int i = 0; i < CLICKS_BATCH_ROWS + 1000; i++)
		clicks_record(ck, a.id, DAY0 + (int64_t)i * 86400, false, NULL);
	wait_for_a_failed_write(&stats);
	ck_assert_uint_ge(stats.errors, 1);
	ck_assert_uint_eq(stats.flushed, 0);
	assert_pending(a.id, CLICKS_BATCH_ROWS + 1000, 0, DAY0 + (int64_t)(CLICKS_BATCH_ROWS + 999) * 86400);
	ck_assert_int_eq(lookup("a").clicks, 0);

	make_room();
	ck_assert_int_eq(clicks_flush(ck), 0);
	assert_pending(a.id, 0, 0, LINK_NO_TIME);
	ck_assert_int_eq(lookup("a").clicks, CLICKS_BATCH_ROWS + 1000);
	ck_assert_int_eq(sqlfile_int(path, "SELECT count(*) FROM clicks_daily"), CLICKS_BATCH_ROWS + 1000);
}
END_TEST

/* Once a write has failed, it is tried again when more clicks come or
 * the interval ends, not on every pass of the flusher: a store that is
 * down is not asked to write the same rows a hundred times a second. */
START_TEST(test_failed_write_not_retried_without_new_clicks)
{
	struct link a;
	struct clicks_stats before, after;

	a = make("a", LINK_NO_LIMIT);
	open_full();
	start(NEVER);
	/* Two batches' worth and more: after the first failure the flusher
	 * holds the failed batch and a full aggregate besides. */
	for (int i = 0; i < 2 * CLICKS_BATCH_ROWS + 1000; i++)
		clicks_record(ck, a.id, DAY0 + (int64_t)i * 86400, false, NULL);
	wait_for_a_failed_write(&before);
	ck_assert_uint_ge(before.errors, 1);
	usleep(100000); /* the flusher drains what the rings still hold */
	clicks_get_stats(ck, &before);
	usleep(300000); /* 30 passes of the flusher */
	clicks_get_stats(ck, &after);
	ck_assert_uint_eq(after.errors, before.errors);
	assert_pending(a.id, 2 * CLICKS_BATCH_ROWS + 1000, 0, DAY0 + (int64_t)(2 * CLICKS_BATCH_ROWS + 999) * 86400);

	make_room();
	ck_assert_int_eq(clicks_flush(ck), 0);
	ck_assert_int_eq(lookup("a").clicks, 2 * CLICKS_BATCH_ROWS + 1000);
}
END_TEST

/* ---- token uses ---- */

/* A token in the store; returns its id. */
static int64_t add_token(const char *name)
{
	unsigned char hash[STORE_TOKEN_HASH_LEN];
	struct store_token t;

	memset(hash, name[0], sizeof(hash));
	ck_assert_int_eq(store_token_add(st, name, hash, STORE_ROLE_ADMIN, DAY0), STORE_OK);
	ck_assert_int_eq(store_token_find(st, hash, &t), STORE_OK);
	return t.id;
}

/* last_used_at as stored, read on a connection of its own; -1 for NULL. */
static int64_t stored_last_use(int64_t id)
{
	sqlite3 *db;
	sqlite3_stmt *q;
	int64_t v = -999;

	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	ck_assert_int_eq(
	    sqlite3_prepare_v2(db, "SELECT coalesce(last_used_at, -1) FROM tokens WHERE id = ?1", -1, &q, NULL),
	    SQLITE_OK);
	sqlite3_bind_int64(q, 1, id);
	if (sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return v;
}

/* Uses are kept in memory, the latest per token, and written only by a
 * flush: a thousand requests make no write at all, then one. */
START_TEST(test_token_uses_wait_for_the_flush)
{
	int64_t a, b;

	start(NEVER);
	a = add_token("a");
	b = add_token("b");
	ck_assert_int_eq(clicks_token_pending(ck, a), LINK_NO_TIME);
	for (int i = 0; i < 1000; i++)
		clicks_token_used(ck, a, DAY0 + (i * 7919) % 1000);
	clicks_token_used(ck, b, DAY0 + 5);
	ck_assert_int_eq(clicks_token_pending(ck, a), DAY0 + 999);
	ck_assert_int_eq(clicks_token_pending(ck, b), DAY0 + 5);
	ck_assert_int_eq(stored_last_use(a), -1);
	ck_assert_int_eq(stored_last_use(b), -1);

	ck_assert_int_eq(clicks_flush(ck), 0);
	ck_assert_int_eq(stored_last_use(a), DAY0 + 999);
	ck_assert_int_eq(stored_last_use(b), DAY0 + 5);
	ck_assert_int_eq(clicks_token_pending(ck, a), LINK_NO_TIME);
	/* an older use written later never moves the time back */
	clicks_token_used(ck, a, DAY0 + 3);
	ck_assert_int_eq(clicks_flush(ck), 0);
	ck_assert_int_eq(stored_last_use(a), DAY0 + 999);
}
END_TEST

START_TEST(test_token_uses_written_by_the_flusher_and_at_stop)
{
	int64_t a, b;

	start(10);
	a = add_token("a");
	b = add_token("b");
	clicks_token_used(ck, a, DAY0 + 1);
	for (int i = 0; i < 5000 && stored_last_use(a) == -1; i++)
		usleep(1000);
	ck_assert_int_eq(stored_last_use(a), DAY0 + 1);
	clicks_stop(ck);
	ck = NULL;

	start(NEVER);
	clicks_token_used(ck, b, DAY0 + 2);
	ck_assert_int_eq(clicks_stop(ck), 0);
	ck = NULL;
	ck_assert_int_eq(stored_last_use(b), DAY0 + 2);
}
END_TEST

/* A write the store refuses keeps the uses for the next one; a token
 * revoked meanwhile is dropped without failing the batch. */
START_TEST(test_failed_token_use_write_is_kept)
{
	char moved[320];
	int64_t a, gone;

	start(NEVER);
	a = add_token("a");
	gone = add_token("g");
	clicks_token_used(ck, a, DAY0 + 10);
	clicks_token_used(ck, gone, DAY0 + 10);
	snprintf(moved, sizeof(moved), "%s.moved", path);
	ck_assert_int_eq(rename(path, moved), 0);
	ck_assert_int_eq(store_check(st), STORE_GONE);
	ck_assert_int_eq(clicks_flush(ck), -1);
	clicks_token_used(ck, a, DAY0 + 20);
	ck_assert_int_eq(clicks_token_pending(ck, a), DAY0 + 20);
	ck_assert_int_eq(rename(moved, path), 0);
	ck_assert_int_eq(store_check(st), STORE_OK);
	ck_assert_int_eq(store_token_revoke_id(st, gone, false), STORE_OK);
	ck_assert_int_eq(clicks_flush(ck), 0);
	ck_assert_int_eq(stored_last_use(a), DAY0 + 20);
	ck_assert_int_eq(clicks_token_pending(ck, a), LINK_NO_TIME);
	ck_assert_int_eq(clicks_token_pending(ck, gone), LINK_NO_TIME);
}
END_TEST

/* A stop whose last write of token uses fails logs it; the status is the
 * clicks' own (none lost here). */
START_TEST(test_stop_reports_unwritten_token_uses)
{
	char moved[320];
	int64_t a;

	start(NEVER);
	a = add_token("a");
	clicks_token_used(ck, a, DAY0 + 10);
	snprintf(moved, sizeof(moved), "%s.moved", path);
	ck_assert_int_eq(rename(path, moved), 0);
	ck_assert_int_eq(store_check(st), STORE_GONE);
	ck_assert_int_eq(clicks_stop(ck), 0);
	ck = NULL;
	ck_assert_int_eq(rename(moved, path), 0);
	ck_assert_int_eq(stored_last_use(a), -1);
}
END_TEST

/* ---- max_clicks ---- */

struct hammer {
	const struct link *l;
	int tries;
	int admitted;
};

static void *hammer_fn(void *arg)
{
	struct hammer *h = arg;

	for (int i = 0; i < h->tries; i++) {
		if (clicks_admit(ck, h->l)) {
			h->admitted++;
			clicks_record(ck, h->l->id, DAY0 + i, false, NULL);
		}
	}
	return NULL;
}

static int run_hammer(const struct link *l, int threads, int tries)
{
	pthread_t t[8];
	struct hammer h[8];
	int total = 0;

	for (int i = 0; i < threads; i++) {
		h[i] = (struct hammer){l, tries, 0};
		ck_assert_int_eq(pthread_create(&t[i], NULL, hammer_fn, &h[i]), 0);
	}
	for (int i = 0; i < threads; i++) {
		pthread_join(t[i], NULL);
		total += h[i].admitted;
	}
	return total;
}

/* 8 threads, 4,000 tries at a link of 1,000, a flush every 10 ms under way. */
START_TEST(test_admit_exact_under_8_threads)
{
	struct link l;

	start(10);
	make("lim", 1000);
	l = lookup("lim");
	ck_assert_int_eq(run_hammer(&l, 8, 500), 1000);
	ck_assert(!clicks_admit(ck, &l));
	ck_assert_int_eq(clicks_stop(ck), 0);
	ck = NULL;
	ck_assert_int_eq(lookup("lim").clicks, 1000);
}
END_TEST

/* Stored clicks count: a link at 30 of 100 admits 70 more. */
START_TEST(test_admit_counts_stored_clicks)
{
	struct link l;
	struct click_row row;

	start(10);
	l = make("lim", 100);
	row = (struct click_row){l.id, DAY0 / 86400, DAY0, 30, 4, NULL};
	ck_assert_int_eq(store_clicks_write(st, &row, 1), STORE_OK);
	l = lookup("lim");
	ck_assert_int_eq(run_hammer(&l, 8, 50), 70);
	ck_assert_int_eq(clicks_flush(ck), 0);
	ck_assert_int_eq(lookup("lim").clicks, 100);
}
END_TEST

START_TEST(test_admit_unlimited_always)
{
	struct link l;

	start(NEVER);
	l = make("free", LINK_NO_LIMIT);
	for (int i = 0; i < 1000; i++)
		ck_assert(clicks_admit(ck, &l));
	l = make("zero", 0);
	ck_assert(!clicks_admit(ck, &l));
}
END_TEST

/* Each of many limited links keeps its own exact count: the tables that
 * hold them grow (and move what they hold) without losing or mixing one. */
START_TEST(test_admit_exact_for_many_links)
{
	enum { LINKS = 700 };
	static struct link l[LINKS];

	start(NEVER);
	for (int i = 0; i < LINKS; i++) {
		char code[16];
		snprintf(code, sizeof(code), "m%d", i);
		l[i] = make(code, 2);
	}
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < LINKS; i++)
			ck_assert_msg(clicks_admit(ck, &l[i]) == (round < 2), "link %d, round %d", i, round);
	}
}
END_TEST

/* Clicks made while the link had no limit, some written and some still
 * pending, count once a limit is set. */
START_TEST(test_clicks_before_limit_was_set)
{
	struct link l, out;
	struct link_patch p = {.fields = PATCH_MAX_CLICKS};
	int admitted = 0;

	start(NEVER);
	l = make("late", LINK_NO_LIMIT);
	for (int i = 0; i < 3; i++) {
		ck_assert(clicks_admit(ck, &l));
		clicks_record(ck, l.id, DAY0 + i, false, NULL);
	}
	ck_assert_int_eq(clicks_flush(ck), 0);
	for (int i = 0; i < 2; i++) {
		ck_assert(clicks_admit(ck, &l));
		clicks_record(ck, l.id, DAY0 + 10 + i, false, NULL);
	}
	p.max_clicks = 8;
	ck_assert_int_eq(store_link_update(st, "late", &p, time(NULL), &out), STORE_OK);
	l = lookup("late");
	ck_assert_int_eq(l.clicks, 3);
	for (int i = 0; i < 10; i++) {
		if (clicks_admit(ck, &l)) {
			admitted++;
			clicks_record(ck, l.id, DAY0 + 200, false, NULL);
		}
	}
	ck_assert_int_eq(admitted, 3);
}
END_TEST

/* A limit lifted for a while and set again: the clicks in between count.
 * Updates carry the wall clock, as the API's do. */
START_TEST(test_limit_lifted_and_set_again)
{
	struct link l, out;
	struct link_patch p = {.fields = PATCH_MAX_CLICKS};
	int admitted = 0;

	start(NEVER);
	make("lim", 5);
	l = lookup("lim");
	for (int i = 0; i < 10; i++) {
		if (clicks_admit(ck, &l)) {
			admitted++;
			clicks_record(ck, l.id, DAY0, false, NULL);
		}
	}
	ck_assert_int_eq(admitted, 5);
	p.max_clicks = LINK_NO_LIMIT;
	ck_assert_int_eq(store_link_update(st, "lim", &p, time(NULL), &out), STORE_OK);
	l = lookup("lim");
	for (int i = 0; i < 3; i++) {
		ck_assert(clicks_admit(ck, &l));
		clicks_record(ck, l.id, DAY0 + 1, false, NULL);
	}
	p.max_clicks = 10;
	ck_assert_int_eq(store_link_update(st, "lim", &p, time(NULL), &out), STORE_OK);
	l = lookup("lim");
	admitted = 0;
	for (int i = 0; i < 10; i++) {
		if (clicks_admit(ck, &l)) {
			admitted++;
			clicks_record(ck, l.id, DAY0 + 2, false, NULL);
		}
	}
	ck_assert_int_eq(admitted, 2);
	ck_assert_int_eq(clicks_flush(ck), 0);
	ck_assert_int_eq(lookup("lim").clicks, 10);
}
END_TEST

static int locked_fn(void *ctx)
{
	int *n = ctx;

	(*n)++;
	return 42;
}

START_TEST(test_locked_runs_fn)
{
	int n = 0;

	start(NEVER);
	ck_assert_int_eq(clicks_locked(ck, locked_fn, &n), 42);
	ck_assert_int_eq(n, 1);
}
END_TEST

/* A write in progress, held for as long as the test says: the lock that
 * orders writes, taken by a thread of its own. */
struct held_write {
	atomic_bool holding;
	atomic_bool release;
};

static int hold_fn(void *ctx)
{
	struct held_write *h = ctx;

	atomic_store(&h->holding, true);
	while (!atomic_load(&h->release))
		usleep(1000);
	return 0;
}

static void *hold_write(void *arg)
{
	clicks_locked(ck, hold_fn, arg);
	return NULL;
}

/* A write that does not end (a disk that stalls, a writer given no CPU)
 * holds up no click: a thread whose ring fills moves its clicks into
 * memory itself, and they are pending, then written, once. */
START_TEST(test_full_ring_does_not_wait_for_a_write)
{
	struct held_write h = {false, false};
	struct link a;
	pthread_t t;

	start(NEVER);
	a = make("a", LINK_NO_LIMIT);
	ck_assert_int_eq(pthread_create(&t, NULL, hold_write, &h), 0);
	while (!atomic_load(&h.holding))
		usleep(1000);
	for (int i = 0; i < 30000; i++)
		clicks_record(ck, a.id, DAY0 + i % 1000, i % 3 == 0, "r.example");
	atomic_store(&h.release, true);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	assert_pending(a.id, 20000, 10000, DAY0 + 999);
	ck_assert_int_eq(clicks_flush(ck), 0);
	assert_pending(a.id, 0, 0, LINK_NO_TIME);
	ck_assert_int_eq(lookup("a").clicks, 20000);
	ck_assert_int_eq(lookup("a").bot_clicks, 10000);
}
END_TEST

struct bound_recorder {
	int64_t id;
	int n;
	atomic_int done;
};

static void *record_distinct(void *arg)
{
	struct bound_recorder *r = arg;

	for (int i = 0; i < r->n; i++) {
		clicks_record(ck, r->id, DAY0 + (int64_t)i * 86400, false, NULL);
		atomic_fetch_add(&r->done, 1);
	}
	return NULL;
}

/* Behind a write that does not end, a thread's clicks go on into memory
 * up to a whole batch (CLICKS_BATCH_ROWS distinct rows) besides its ring,
 * and no further: memory stays bounded, and the clicks beyond wait for the
 * write, none dropped. */
START_TEST(test_full_ring_waits_once_a_batch_waits)
{
	struct held_write h = {false, false};
	struct bound_recorder r = {0, 3 * CLICKS_BATCH_ROWS, 0};
	struct link a;
	pthread_t holder, recorder;
	int seen;

	start(NEVER);
	a = make("a", LINK_NO_LIMIT);
	r.id = a.id;
	ck_assert_int_eq(pthread_create(&holder, NULL, hold_write, &h), 0);
	while (!atomic_load(&h.holding))
		usleep(1000);
	ck_assert_int_eq(pthread_create(&recorder, NULL, record_distinct, &r), 0);
	for (int i = 0; i < 20000 && atomic_load(&r.done) < CLICKS_BATCH_ROWS; i++)
		usleep(1000);
	ck_assert_int_ge(atomic_load(&r.done), CLICKS_BATCH_ROWS);
	usleep(200000);
	seen = atomic_load(&r.done);
	ck_assert_int_lt(seen, r.n);
	usleep(100000);
	ck_assert_int_eq(atomic_load(&r.done), seen); /* it waits */
	atomic_store(&h.release, true);
	ck_assert_int_eq(pthread_join(holder, NULL), 0);
	ck_assert_int_eq(pthread_join(recorder, NULL), 0);
	ck_assert_int_eq(clicks_flush(ck), 0);
	ck_assert_int_eq(lookup("a").clicks, r.n);
	ck_assert_int_eq(sqlfile_int(path, "SELECT count(*) FROM clicks_daily"), r.n);
}
END_TEST

Suite *clicks_suite(void)
{
	Suite *s = suite_create("clicks");
	TCase *tc;

	tc = tcase_create("counting");
	tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_record_then_pending_is_exact);
	tcase_add_test(tc, test_flush_writes_totals_daily_referrers);
	tcase_add_test(tc, test_referrer_cut_to_max);
	tcase_add_test(tc, test_many_referrer_hosts_in_one_batch);
	tcase_add_test(tc, test_clicks_of_deleted_link_dropped);
	tcase_add_test(tc, test_full_ring_never_drops);
	tcase_add_test(tc, test_full_ring_does_not_wait_for_a_write);
	tcase_add_test(tc, test_full_ring_waits_once_a_batch_waits);
	tcase_add_test(tc, test_stop_writes_everything);
	tcase_add_test(tc, test_flusher_writes_on_its_own);
	tcase_add_test(tc, test_burst_written_before_interval);
	tcase_add_test(tc, test_locked_runs_fn);
	tcase_add_test(tc, test_failed_flush_keeps_clicks);
	tcase_add_test(tc, test_failed_burst_keeps_every_click);
	tcase_add_test(tc, test_failed_write_not_retried_without_new_clicks);
	suite_add_tcase(s, tc);

	tc = tcase_create("token_uses");
	tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_token_uses_wait_for_the_flush);
	tcase_add_test(tc, test_token_uses_written_by_the_flusher_and_at_stop);
	tcase_add_test(tc, test_failed_token_use_write_is_kept);
	tcase_add_test(tc, test_stop_reports_unwritten_token_uses);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_admit_exact_under_8_threads);
	tcase_add_test(tc, test_admit_counts_stored_clicks);
	tcase_add_test(tc, test_admit_unlimited_always);
	tcase_add_test(tc, test_admit_exact_for_many_links);
	tcase_add_test(tc, test_clicks_before_limit_was_set);
	tcase_add_test(tc, test_limit_lifted_and_set_again);
	suite_add_tcase(s, tc);
	return s;
}
