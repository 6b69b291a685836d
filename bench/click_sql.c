/*
 * The click writer's SQL, outside the daemon: bench/click_sql.sh runs it
 * under callgrind, whose instruction counts do not depend on the machine's
 * load. Writes BATCHES batches of ROWS random clicks over a copy of the
 * benchmark's database (links 1..N), each batch sorted by link and
 * written in one transaction on one connection set up as the daemon's
 * writer is (WAL, synchronous NORMAL, foreign keys on, no mutex), with
 * the statements of one VARIANT:
 *
 *   current  what src/store_sqlite.c writes: an UPDATE of the link's row
 *            in links, then an upsert of its row in clicks_daily;
 *   totals   the totals in a narrow table of their own (link_clicks: id,
 *            clicks, bot_clicks, last_click_at), which the caller has
 *            made, instead of the link's whole row; the same upsert;
 *   first    the current UPDATE, then an UPDATE of the clicks_daily row
 *            and an INSERT only when the day has none (no upsert);
 *   none     no statement: what the loop, the sort and the transactions
 *            cost, to take off the others.
 *
 * Usage: click_sql DB VARIANT BATCHES ROWS N DAY
 * Prints "rows R pages P" on standard output: the distinct links written
 * and the pages the commits wrote to the -wal.
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum variant { CURRENT, TOTALS, FIRST, NONE };

static const char *const update_links = "UPDATE links SET clicks = clicks + ?2, bot_clicks = bot_clicks + ?3, "
                                        "last_click_at = max(coalesce(last_click_at, ?4), ?4) WHERE id = ?1";
static const char *const update_totals = "UPDATE link_clicks SET clicks = clicks + ?2, bot_clicks = bot_clicks + ?3, "
                                         "last_click_at = max(coalesce(last_click_at, ?4), ?4) WHERE id = ?1";
static const char *const upsert_daily =
    "INSERT INTO clicks_daily (link_id, day, clicks, bot_clicks) VALUES (?1, ?2, ?3, ?4) "
    "ON CONFLICT (link_id, day) DO UPDATE SET clicks = clicks + excluded.clicks, "
    "bot_clicks = bot_clicks + excluded.bot_clicks";
static const char *const update_daily =
    "UPDATE clicks_daily SET clicks = clicks + ?3, bot_clicks = bot_clicks + ?4 WHERE link_id = ?1 AND day = ?2";
static const char *const insert_daily =
    "INSERT INTO clicks_daily (link_id, day, clicks, bot_clicks) VALUES (?1, ?2, ?3, ?4)";

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

int main(int argc, char **argv)
{
	static const char *const names[] = {"current", "totals", "first", "none"};
	enum variant v = NONE + 1;
	sqlite3 *db = NULL;
	sqlite3_stmt *links = NULL, *daily = NULL, *daily_new = NULL;
	struct wal_count wal = {0, 0};
	int64_t *ids, rows = 0;

	if (argc != 7)
		die(NULL, "usage: click_sql DB current|totals|first|none BATCHES ROWS N DAY");
	for (int i = 0; i <= NONE; i++)
		if (strcmp(argv[2], names[i]) == 0)
			v = (enum variant)i;
	int batches = atoi(argv[3]), nrows = atoi(argv[4]), n = atoi(argv[5]), day = atoi(argv[6]);
	if (v > NONE || batches < 1 || nrows < 1 || n < 1)
		die(NULL, "usage: click_sql DB current|totals|first|none BATCHES ROWS N DAY");
	if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 8000;",
	                 NULL, NULL, NULL) != SQLITE_OK)
		die(db, argv[1]);
	sqlite3_wal_hook(db, wal_pages, &wal);
	if (v != NONE) {
		links = prepare(db, v == TOTALS ? update_totals : update_links);
		daily = prepare(db, v == FIRST ? update_daily : upsert_daily);
		if (v == FIRST)
			daily_new = prepare(db, insert_daily);
	}
	ids = malloc(sizeof(*ids) * (size_t)nrows);
	if (ids == NULL)
		die(NULL, "out of memory");
	srand(7);
	for (int b = 0; b < batches; b++) {
		for (int i = 0; i < nrows; i++)
			ids[i] = 1 + rand() % n;
		qsort(ids, (size_t)nrows, sizeof(*ids), cmp_id);
		if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
			die(db, "BEGIN");
		for (int i = 0; i < nrows; i++) {
			if (i > 0 && ids[i] == ids[i - 1])
				continue;
			rows++;
			if (v == NONE)
				continue;
			run(db, links, ids[i], 1, 0, 1800000000);
			run(db, daily, ids[i], day, 1, 0);
			if (daily_new != NULL && sqlite3_changes(db) == 0)
				run(db, daily_new, ids[i], day, 1, 0);
		}
		if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
			die(db, "COMMIT");
	}
	printf("rows %lld pages %lld\n", (long long)rows, (long long)wal.written);
	free(ids);
	sqlite3_finalize(links);
	sqlite3_finalize(daily);
	sqlite3_finalize(daily_new);
	sqlite3_close(db);
	return 0;
}
