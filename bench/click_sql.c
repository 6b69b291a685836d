/*
 * The click writer's SQL, outside the daemon: bench/click_sql.sh runs it
 * under callgrind, whose instruction counts do not depend on the machine's
 * load. Writes BATCHES batches of ROWS random clicks over a copy of the
 * benchmark's database (links 1..N), each batch sorted by link and
 * written in one transaction on one connection set up as the daemon's
 * writer is (WAL, synchronous NORMAL, foreign keys on, no mutex), the way
 * VARIANT says:
 *
 *   chunks  what src/store_sqlite.c writes (schema 8): for each chunk of
 *           128 links clicked, its click_totals row read, changed with
 *           click_chunk_apply() and written back, then its click_days row
 *           of the day the same way;
 *   rows    what it wrote before (schema 7), on tables the caller made as
 *           they were: an UPDATE of the link's row in links7 (a copy of
 *           links with the counts in it), then an upsert of its row in
 *           clicks_daily;
 *   none    no statement: what the loop, the sort and the transactions
 *           cost, to take off the others.
 *
 * Usage: click_sql DB VARIANT BATCHES ROWS N DAY
 * Prints "rows R pages P" on standard output: the distinct links written
 * and the pages the commits wrote to the -wal.
 *
 * click_sql DB fill N DAY gives each of links 1..N two clicks in its
 * chunk's click_totals row and one on DAY in click_days, as a daemon that
 * has served the walk before has.
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "click_chunk.h"

enum variant { CHUNKS, ROWS, NONE, FILL };

static const char *const update_links = "UPDATE links7 SET clicks = clicks + ?2, bot_clicks = bot_clicks + ?3, "
                                        "last_click_at = max(coalesce(last_click_at, ?4), ?4) WHERE id = ?1";
static const char *const upsert_daily =
    "INSERT INTO clicks_daily (link_id, day, clicks, bot_clicks) VALUES (?1, ?2, ?3, ?4) "
    "ON CONFLICT (link_id, day) DO UPDATE SET clicks = clicks + excluded.clicks, "
    "bot_clicks = bot_clicks + excluded.bot_clicks";

/* The chunk tables' statements: read a row, change it, add it. */
struct chunk_sql {
	const struct click_chunk_kind *kind;
	sqlite3_stmt *get, *update, *insert;
};

/*
 * After each commit: counts the pages it added to the -wal, and copies the
 * -wal back at 8,000 pages as the daemon's wal_autocheckpoint does (a hook
 * of one's own replaces SQLite's).
 */
struct wal_count {
	int64_t written; /* pages added by all commits */
	int last;        /* the -wal's pages after the commit before */
};

static int wal_pages(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct wal_count *w = arg;

	w->written += pages >= w->last ? pages - w->last : pages;
	w->last = pages;
	if (pages >= 8000) {
		sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		w->last = 0;
	}
	return SQLITE_OK;
}

static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static void die(sqlite3 *db, const char *what)
{
	fprintf(stderr, "click_sql: %s: %s\n", what, db != NULL ? sqlite3_errmsg(db) : "bad arguments");
	exit(1);
}

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		die(db, sql);
	return st;
}

/* Binds ?1..?4 (link, then the three values) and steps st once. */
static void run(sqlite3 *db, sqlite3_stmt *st, int64_t a, int64_t b, int64_t c, int64_t d)
{
	sqlite3_bind_int64(st, 1, a);
	sqlite3_bind_int64(st, 2, b);
	sqlite3_bind_int64(st, 3, c);
	sqlite3_bind_int64(st, 4, d);
	if (sqlite3_step(st) != SQLITE_DONE)
		die(db, sqlite3_sql(st));
	sqlite3_reset(st);
}

static void chunk_sql_prepare(sqlite3 *db, struct chunk_sql *t, const struct click_chunk_kind *kind,
                              const char *table, const char *key)
{
	char sql[128];

	t->kind = kind;
	snprintf(sql, sizeof(sql), "SELECT data FROM %s WHERE %s = ?1", table, key);
	t->get = prepare(db, sql);
	snprintf(sql, sizeof(sql), "UPDATE %s SET data = ?2 WHERE %s = ?1", table, key);
	t->update = prepare(db, sql);
	snprintf(sql, sizeof(sql), "INSERT INTO %s (%s, data) VALUES (?1, ?2)", table, key);
	t->insert = prepare(db, sql);
}

static void chunk_sql_finalize(struct chunk_sql *t)
{
	sqlite3_finalize(t->get);
	sqlite3_finalize(t->update);
	sqlite3_finalize(t->insert);
}

/* As the store's chunks_apply(): each key's row read once, changed, and
 * written back (or added). */
static void chunks_apply(sqlite3 *db, struct chunk_sql *t, const struct click_chunk_change *c, size_t n, bool set)
{
	unsigned char out[CLICK_CHUNK_MAX];

	for (size_t i = 0, j; i < n; i = j) {
		const unsigned char *old = NULL;
		size_t len = 0, out_len = 0;
		sqlite3_stmt *put;

		for (j = i + 1; j < n && c[j].key == c[i].key; j++)
			;
		sqlite3_bind_int64(t->get, 1, c[i].key);
		if (sqlite3_step(t->get) == SQLITE_ROW) {
			old = sqlite3_column_blob(t->get, 0);
			len = (size_t)sqlite3_column_bytes(t->get, 0);
		}
		if (click_chunk_apply(t->kind, old, len, c + i, j - i, set, out, &out_len) != CLICK_CHUNK_OK)
			die(NULL, "a corrupt chunk");
		put = old != NULL ? t->update : t->insert;
		sqlite3_reset(t->get);
		sqlite3_bind_int64(put, 1, c[i].key);
		sqlite3_bind_blob(put, 2, out, (int)out_len, SQLITE_STATIC);
		if (sqlite3_step(put) != SQLITE_DONE)
			die(db, sqlite3_sql(put));
		sqlite3_reset(put);
	}
}

/* The changes of a sorted batch of ids, one per click: totals keyed by
 * chunk, days by chunk and day. */
static void batch_changes(const int64_t *ids, int nrows, int day, struct click_chunk_change *totals,
                          struct click_chunk_change *days)
{
	for (int i = 0; i < nrows; i++) {
		unsigned slot = (unsigned)(ids[i] & (CLICK_CHUNK_LINKS - 1));
		int64_t chunk = ids[i] >> CLICK_CHUNK_SHIFT;

		totals[i] = (struct click_chunk_change){.key = chunk, .slot = slot, .v = {1, 0, 1800000000}};
		days[i] = (struct click_chunk_change){.key = chunk << 20 | day, .slot = slot, .v = {1, 0}};
	}
}

int main(int argc, char **argv)
{
	static const char *const names[] = {"chunks", "rows", "none", "fill"};
	enum variant v = FILL + 1;
	sqlite3 *db = NULL;
	sqlite3_stmt *links = NULL, *daily = NULL;
	struct chunk_sql totals_sql = {0}, days_sql = {0};
	struct click_chunk_change *totals, *days;
	struct wal_count wal = {0, 0};
	int64_t *ids, rows = 0;
	int batches, nrows, n, day;

	for (int i = 0; argc > 2 && i <= FILL; i++)
		if (strcmp(argv[2], names[i]) == 0)
			v = (enum variant)i;
	if (v == FILL && argc == 5) {
		batches = 1, n = atoi(argv[3]), day = atoi(argv[4]), nrows = n;
	} else if (v < FILL && argc == 7) {
		batches = atoi(argv[3]), nrows = atoi(argv[4]), n = atoi(argv[5]), day = atoi(argv[6]);
	} else {
		die(NULL, "usage: click_sql DB chunks|rows|none BATCHES ROWS N DAY, or click_sql DB fill N DAY");
	}
	if (batches < 1 || nrows < 1 || n < 1)
		die(NULL, "BATCHES, ROWS and N are at least 1");
	if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 8000;",
	                 NULL, NULL, NULL) != SQLITE_OK)
		die(db, argv[1]);
	sqlite3_wal_hook(db, wal_pages, &wal);
	if (v == ROWS) {
		links = prepare(db, update_links);
		daily = prepare(db, upsert_daily);
	} else if (v == CHUNKS || v == FILL) {
		chunk_sql_prepare(db, &totals_sql, &click_chunk_totals, "click_totals", "chunk");
		chunk_sql_prepare(db, &days_sql, &click_chunk_day, "click_days", "key");
	}
	ids = malloc(sizeof(*ids) * (size_t)nrows);
	totals = malloc(sizeof(*totals) * (size_t)nrows);
	days = malloc(sizeof(*days) * (size_t)nrows);
	if (ids == NULL || totals == NULL || days == NULL)
		die(NULL, "out of memory");
	srand(7);
	for (int b = 0; b < batches; b++) {
		for (int i = 0; i < nrows; i++)
			ids[i] = v == FILL ? 1 + i : 1 + rand() % n;
		qsort(ids, (size_t)nrows, sizeof(*ids), cmp_id);
		if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
			die(db, "BEGIN");
		if (v == CHUNKS || v == FILL) {
			batch_changes(ids, nrows, day, totals, days);
			for (int i = 0; v == FILL && i < nrows; i++)
				totals[i].v[0] = 2; /* a row of two clicks, as ROWS has */
			chunks_apply(db, &totals_sql, totals, (size_t)nrows, v == FILL);
			chunks_apply(db, &days_sql, days, (size_t)nrows, v == FILL);
		}
		for (int i = 0; i < nrows; i++) {
			if (i > 0 && ids[i] == ids[i - 1])
				continue;
			rows++;
			if (v != ROWS)
				continue;
			run(db, links, ids[i], 1, 0, 1800000000);
			run(db, daily, ids[i], day, 1, 0);
		}
		if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
			die(db, "COMMIT");
	}
	printf("rows %lld pages %lld\n", (long long)rows, (long long)wal.written);
	free(days);
	free(totals);
	free(ids);
	sqlite3_finalize(links);
	sqlite3_finalize(daily);
	chunk_sql_finalize(&totals_sql);
	chunk_sql_finalize(&days_sql);
	sqlite3_close(db);
	return 0;
}
