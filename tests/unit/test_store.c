/*
 * Unit tests of the store: first a conformance suite that every backend
 * runs unchanged, through store.h only (links, clicks, tokens, the redirect
 * path's cached read), one loop over the table of backends below; then what
 * is particular to SQLite (schema and migrations, the files held, the link
 * epoch, the refusals too new, not a database, read-only, full), in the
 * test cases named sqlite_*; what is particular to PostgreSQL, against the
 * tests' throw-away cluster (pg_cluster.h), in those named pg_*; then the
 * choice of backend by the form of the name. Each test has its own fresh
 * database. Raw reads in the dialect's plain SQL (a backend's sql_int and
 * sql_exec, on their own connection) check what is really stored.
 */
#include <check.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "link_cache.h"
#include "link_code.h"
#include "migrations.h"
#include "pg_cluster.h"
#include "store.h"

/* A backend under test: how to make and remove a fresh database for it,
 * and to read and write it behind the store's back in plain SQL that every
 * dialect speaks (SELECT count(*), UPDATE links SET ...). */
struct backend {
	const char *name;
	/* Fills dir (scratch space, or "") and path (what store_open takes). */
	void (*make)(char *dir, size_t dirsize, char *path, size_t pathsize);
	void (*remove)(const char *dir, const char *path);
	int64_t (*sql_int)(const char *path, const char *sql); /* first column of the first row */
	void (*sql_exec)(const char *path, const char *sql);
	/* A change made behind the store's back reaches the redirect path's
	 * cache within 1 s (announced, as PostgreSQL's notifications) rather
	 * than at the next read (seen, as SQLite's epoch). */
	bool announced;
};

static void sqlite_make(char *d, size_t dsize, char *p, size_t psize)
{
	tempdb_make("store", d, dsize, p, psize);
}

static int64_t sqlite_sql_int(const char *p, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	int64_t v = -999;

	ck_assert_int_eq(sqlite_counts_open(p, SQLITE_OPEN_READONLY, &db), SQLITE_OK);
	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

static void sqlite_sql_exec(const char *p, const char *sql)
{
	sqlite3 *db;

	ck_assert_int_eq(sqlite3_open(p, &db), SQLITE_OK);
	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(db));
	sqlite3_close(db);
}

/* PostgreSQL: a fresh database in the tests' cluster (pg_cluster.h). */
static void pg_make(char *d, size_t dsize, char *p, size_t psize)
{
	(void)dsize;
	d[0] = '\0';
	pg_db_make(p, psize);
}

static void pg_remove(const char *d, const char *p)
{
	(void)d;
	pg_db_drop(p);
}

/* Every backend built in; a conformance test runs once for each. */
static const struct backend backends[] = {
    {"sqlite", sqlite_make, tempdb_remove, sqlite_sql_int, sqlite_sql_exec, false},
    {"postgresql", pg_make, pg_remove, pg_sql_int, pg_sql_exec, true},
};

#define N_BACKENDS ((int)(sizeof(backends) / sizeof(backends[0])))
#define SQLITE 0 /* the index of SQLite's row, for the sqlite_* cases */
#define PG 1     /* and PostgreSQL's, for the pg_* cases */

static const struct backend *be; /* the backend of the running test */
static char dir[256];
static char path[300];
static struct store *st;
static char err[512];
static char dir2[256], path2[300]; /* a second database, for the copy tests */
static struct store *st2;

static void fixture_setup(void)
{
	be = NULL;
	st = NULL;
	st2 = NULL;
	path2[0] = '\0';
	err[0] = '\0';
}

/* Closes the store the test opened; a teardown finds none. */
static void close_store(void)
{
	store_close(st);
	st = NULL;
}

static void fixture_teardown(void)
{
	close_store();
	store_close(st2);
	st2 = NULL;
	if (be != NULL && path2[0] != '\0')
		be->remove(dir2, path2);
	if (be != NULL)
		be->remove(dir, path);
	be = NULL;
}

/* The first line of every test: a fresh database of backend i. */
static void use_backend(int i)
{
	be = &backends[i];
	be->make(dir, sizeof(dir), path, sizeof(path));
}

static void open_store(void)
{
	ck_assert_msg(store_open(path, &st, err, sizeof(err)) == STORE_OK, "store_open: %s", err);
	ck_assert_ptr_nonnull(st);
}

static int latest_version(void)
{
	return sqlite_migrations[sqlite_migrations_count - 1].version;
}

/* The first column of the first row of sql on its own connection. */
static int64_t sql_int(const char *sql)
{
	return be->sql_int(path, sql);
}

static void sql_exec(const char *sql)
{
	be->sql_exec(path, sql);
}

static void make_link(struct link *l, const char *code, const char *url)
{
	link_init(l);
	snprintf(l->code, sizeof(l->code), "%s", code);
	snprintf(l->url, sizeof(l->url), "%s", url);
	l->status = 302;
	l->created_at = 1700000000;
	l->updated_at = 1700000000;
}

static int64_t create(const char *code, const char *url)
{
	struct link l;

	make_link(&l, code, url);
	ck_assert_int_eq(store_link_create(st, &l, link_code_generate, NULL), STORE_OK);
	ck_assert_int_gt(l.id, 0);
	return l.id;
}

static int64_t link_count(void)
{
	return sql_int("SELECT count(*) FROM links");
}

/* Keeps the id of the first link listed in *(int64_t *)ctx. */
static int first_id_fn(const struct link *l, void *ctx)
{
	*(int64_t *)ctx = l->id;
	return 1;
}

static const char *find_codes(const struct link_filter *f, int64_t after_id, int limit, char *out, size_t size);
static int64_t assert_search_index_exact(void);
static int64_t create_tagged(const char *code, const char *url, const char *title, const char *tags);

/* ---- schema ---- */

START_TEST(test_open_creates_schema_at_latest_version)
{
	use_backend(SQLITE);
	open_store();
	ck_assert_int_ge(sqlite_migrations_count, 3);
	ck_assert_int_eq(store_schema_version(st), latest_version());
	ck_assert_int_eq(store_ping(st), STORE_OK);
	ck_assert_int_eq(sql_int("PRAGMA user_version"), latest_version());
	ck_assert_int_eq(sql_int("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
	                         "('links', 'tokens', 'click_totals', 'click_days', 'referrers_daily')"),
	                 5);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM links"), 0);
	ck_assert_int_eq(sql_int("PRAGMA page_size"), 8192);
	close_store();
	/* WAL is a property of the file: it stays after close. */
	{
		sqlite3 *db;
		sqlite3_stmt *s;
		ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
		ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL), SQLITE_OK);
		ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
		ck_assert_str_eq((const char *)sqlite3_column_text(s, 0), "wal");
		sqlite3_finalize(s);
		sqlite3_close(db);
	}
	open_store();
	ck_assert_int_eq(store_schema_version(st), latest_version());
}
END_TEST

START_TEST(test_migrations_are_numbered_in_order)
{
	use_backend(SQLITE);
	for (int i = 0; i < sqlite_migrations_count; i++) {
		ck_assert_int_eq(sqlite_migrations[i].version, i + 1);
		ck_assert_ptr_nonnull(sqlite_migrations[i].sql);
		ck_assert_ptr_nonnull(sqlite_migrations[i].name);
	}
}
END_TEST

/* A database at version 4 with tokens: versions 5 and 6 keep each token, its id
 * and its hash, with no last use yet, and never gives an id again. */
START_TEST(test_migration_6_keeps_tokens_and_their_ids)
{
	unsigned char h7[STORE_TOKEN_HASH_LEN], hn[STORE_TOKEN_HASH_LEN];
	struct store_token t;

	use_backend(SQLITE);
	for (int i = 0; i < 4; i++)
		sql_exec(sqlite_migrations[i].sql);
	sql_exec("PRAGMA user_version = 4");
	sql_exec("INSERT INTO tokens (id, name, hash, role, created_at) VALUES "
	         "(7, 'ops', zeroblob(32), 0, 1600000000), (9, 'ci', randomblob(32), 1, 1600000001)");
	memset(h7, 0, sizeof(h7));
	memset(hn, 0x5a, sizeof(hn));
	open_store();
	ck_assert_int_eq(store_schema_version(st), latest_version());
	ck_assert_int_eq(store_token_find(st, h7, &t), STORE_OK);
	ck_assert_int_eq(t.id, 7);
	ck_assert_str_eq(t.name, "ops");
	ck_assert_int_eq(t.role, STORE_ROLE_ADMIN);
	ck_assert_int_eq(t.created_at, 1600000000);
	ck_assert_int_eq(t.last_used_at, LINK_NO_TIME);
	ck_assert_int_eq(sql_int("SELECT role FROM tokens WHERE id = 9 AND name = 'ci'"), 1);
	ck_assert_int_eq(store_token_revoke_id(st, 9, true), STORE_OK);
	ck_assert_int_eq(store_token_add(st, "next", hn, STORE_ROLE_READ_ONLY, 2), STORE_OK);
	ck_assert_int_eq(store_token_find(st, hn, &t), STORE_OK);
	ck_assert_int_eq(t.id, 10);
}
END_TEST

/* A database at version 7 with counts in links and clicks_daily: version
 * 8 packs them (click_totals, click_days), and every link keeps its totals
 * and days to the unit, read back through the store; links has no count
 * columns left and clicks_daily is gone. */
START_TEST(test_migration_8_packs_the_counts)
{
	struct link got;
	struct store_daily d[4];
	size_t n;

	use_backend(SQLITE);
	for (int i = 0; i < 7; i++)
		sql_exec(sqlite_migrations[i].sql);
	sql_exec("PRAGMA user_version = 7; PRAGMA foreign_keys = ON;"
	         "INSERT INTO links (id, code, url, status, created_at, updated_at, clicks, bot_clicks, last_click_at) "
	         "VALUES (1, 'one', 'https://one.example/', 302, 1, 1, 5, 2, 1700000000),"
	         "(127, 'edge', 'https://edge.example/', 302, 1, 1, 0, 0, NULL),"
	         "(128, 'next', 'https://next.example/', 302, 1, 1, 9000000000, 0, 1700000100),"
	         "(300, 'far', 'https://far.example/', 302, 1, 1, 0, 1, 1700000200);"
	         "INSERT INTO clicks_daily (link_id, day, clicks, bot_clicks) VALUES (1, 19000, 3, 1), "
	         "(1, 19001, 2, 1), (128, 19001, 9000000000, 0), (300, 0, 0, 1), (127, 19000, 0, 0);");
	open_store();
	ck_assert_int_eq(store_schema_version(st), latest_version());
	ck_assert_int_eq(sql_int("PRAGMA page_size"), 4096); /* a file keeps the page size it was made with */
	ck_assert_int_eq(store_link_lookup(st, "one", &got), STORE_OK);
	ck_assert_int_eq(got.clicks, 5);
	ck_assert_int_eq(got.bot_clicks, 2);
	ck_assert_int_eq(got.last_click_at, 1700000000);
	ck_assert_int_eq(store_link_lookup(st, "edge", &got), STORE_OK);
	ck_assert_int_eq(got.clicks, 0);
	ck_assert_int_eq(got.bot_clicks, 0);
	ck_assert_int_eq(got.last_click_at, LINK_NO_TIME);
	ck_assert_int_eq(store_link_lookup(st, "next", &got), STORE_OK);
	ck_assert_int_eq(got.clicks, 9000000000);
	ck_assert_int_eq(got.last_click_at, 1700000100);
	ck_assert_int_eq(store_link_lookup(st, "far", &got), STORE_OK);
	ck_assert_int_eq(got.clicks, 0);
	ck_assert_int_eq(got.bot_clicks, 1);
	ck_assert_int_eq(store_link_daily(st, 1, 0, d, 4, &n), STORE_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(d[0].day, 19000);
	ck_assert_int_eq(d[0].clicks, 3);
	ck_assert_int_eq(d[0].bot_clicks, 1);
	ck_assert_int_eq(d[1].day, 19001);
	ck_assert_int_eq(d[1].clicks, 2);
	ck_assert_int_eq(store_link_daily(st, 128, 0, d, 4, &n), STORE_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(d[0].clicks, 9000000000);
	ck_assert_int_eq(store_link_daily(st, 300, 0, d, 4, &n), STORE_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(d[0].day, 0);
	ck_assert_int_eq(d[0].bot_clicks, 1);
	ck_assert_int_eq(store_link_daily(st, 127, 0, d, 4, &n), STORE_OK);
	ck_assert_uint_eq(n, 0);
	/* one row a chunk: ids 1 and 127 share one, 128 and 300 have their own */
	ck_assert_int_eq(sql_int("SELECT count(*) FROM click_totals"), 3);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM sqlite_master WHERE name = 'clicks_daily'"), 0);
	ck_assert_int_eq(sql_int("SELECT instr(sql, 'clicks INTEGER') + instr(sql, 'last_click_at') FROM sqlite_master "
	                         "WHERE name = 'links'"),
	                 0);
	/* a delete takes the link's counts with it, and leaves its neighbours' */
	ck_assert_int_eq(store_link_delete(st, "one"), STORE_OK);
	ck_assert_int_eq(store_link_daily(st, 1, 0, d, 4, &n), STORE_OK);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM clicks_daily WHERE link_id = 1"), 0);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM clicks_daily"), 2); /* 127's 0/0 day was no count */
	ck_assert_int_eq(store_link_lookup(st, "far", &got), STORE_OK);
	ck_assert_int_eq(got.bot_clicks, 1);
}
END_TEST

/* Counts the packed rows cannot hold (a day before 1970): migration 8
 * fails with the reason, and the database stays at version 7 as it was. */
START_TEST(test_migration_8_refuses_a_day_out_of_range)
{
	use_backend(SQLITE);
	for (int i = 0; i < 7; i++)
		sql_exec(sqlite_migrations[i].sql);
	sql_exec("PRAGMA user_version = 7;"
	         "INSERT INTO links (id, code, url, status, created_at, updated_at, clicks) "
	         "VALUES (1, 'one', 'https://one.example/', 302, 1, 1, 5);"
	         "INSERT INTO clicks_daily (link_id, day, clicks, bot_clicks) VALUES (1, 19000, 4, 0), (1, -1, 1, 0);");
	ck_assert_int_ne(store_open(path, &st, err, sizeof(err)), STORE_OK);
	ck_assert_ptr_null(st);
	ck_assert_msg(strstr(err, "migration 008_click_chunks failed") != NULL &&
	                  strstr(err, "link 1, day -1:") != NULL,
	              "%s", err);
	ck_assert_int_eq(sql_int("PRAGMA user_version"), 7);
	ck_assert_int_eq(sql_int("SELECT clicks FROM links WHERE code = 'one'"), 5);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM clicks_daily"), 2);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM sqlite_master WHERE name = 'click_totals'"), 0);
}
END_TEST

/* A link whose id the packed rows cannot hold (below 1, made by hand):
 * migration 8 fails, naming it, and changes nothing. */
START_TEST(test_migration_8_refuses_an_id_below_1)
{
	use_backend(SQLITE);
	for (int i = 0; i < 7; i++)
		sql_exec(sqlite_migrations[i].sql);
	sql_exec("PRAGMA user_version = 7;"
	         "INSERT INTO links (id, code, url, status, created_at, updated_at, clicks) "
	         "VALUES (0, 'zero', 'https://zero.example/', 302, 1, 1, 5);");
	ck_assert_int_ne(store_open(path, &st, err, sizeof(err)), STORE_OK);
	ck_assert_msg(strstr(err, "migration 008_click_chunks failed") != NULL && strstr(err, "link 0:") != NULL, "%s",
	              err);
	ck_assert_int_eq(sql_int("PRAGMA user_version"), 7);
	ck_assert_int_eq(sql_int("SELECT clicks FROM links WHERE code = 'zero'"), 5);
}
END_TEST

/* A database at version 6 with labelled links, one changed and one
 * deleted since: opening applies 7 (the trigram index rebuilt without its
 * own copy of the text) and q finds what it found before, nothing more;
 * then every way a link changes keeps the index exact. */
START_TEST(test_migration_7_keeps_links_found_by_q)
{
	struct link_filter f = {NULL, NULL, NULL, 0};
	struct link_patch *p = calloc(1, sizeof(*p));
	struct link out;
	char got[128];

	ck_assert_ptr_nonnull(p);
	use_backend(SQLITE);
	for (int i = 0; i < 6; i++)
		sql_exec(sqlite_migrations[i].sql);
	sql_exec("PRAGMA user_version = 6; PRAGMA foreign_keys = ON;"
	         "INSERT INTO links (code, url, status, created_at, updated_at, title, tags) VALUES "
	         "('kept', 'https://kept.example/a', 302, 1, 1, 'Quarterly Report', '[\"finance\",\"caf\u00e9\"]'),"
	         "('plain', 'https://plain.example/', 301, 1, 1, NULL, '[]'),"
	         "('moved', 'https://before.example/', 302, 1, 1, 'Old title', '[\"gone-tag\"]'),"
	         "('gone', 'https://gone.example/', 302, 1, 1, NULL, '[\"finance\"]');"
	         "UPDATE links SET url = 'https://after.example/', title = 'New title', tags = '[\"new-tag\"]' "
	         "WHERE code = 'moved';"
	         "DELETE FROM links WHERE code = 'gone';");
	ck_assert_int_eq(sql_int("SELECT count(*) FROM link_search_content"), 3);
	open_store();
	ck_assert_int_eq(store_schema_version(st), latest_version());
	ck_assert_int_eq(sql_int("SELECT count(*) FROM sqlite_master WHERE name = 'link_search_content'"), 0);
	ck_assert_int_gt(assert_search_index_exact(), 0);
	static const struct {
		const char *q, *codes;
	} finds[] = {
	    {"QUARTERLY", "kept"},
	    {"CAF\xc3\x89", "kept"},
	    {"finance", "kept"},
	    {"kept.example/a", "kept"},
	    {"plain", "plain"},
	    {"after.ex", "moved"},
	    {"before.example", ""},
	    {"Old title", ""},
	    {"new-tag", "moved"},
	    {"gone", ""},
	    {".example/", "kept,plain,moved"},
	};
	for (size_t i = 0; i < sizeof(finds) / sizeof(finds[0]); i++) {
		f.q = finds[i].q;
		ck_assert_msg(strcmp(find_codes(&f, 0, 10, got, sizeof(got)), finds[i].codes) == 0, "q=%s: %s",
		              finds[i].q, got);
	}
	/* Changed, deleted, created and replaced after the migration. */
	p->fields = PATCH_URL | PATCH_TITLE | PATCH_TAGS;
	snprintf(p->url, sizeof(p->url), "https://patched.example/");
	ck_assert_int_eq(store_link_update(st, "kept", p, 2, &out), STORE_OK);
	ck_assert_int_eq(store_link_delete(st, "plain"), STORE_OK);
	create_tagged("fresh", "https://fresh.example/", "Fresh", "finance");
	sql_exec("INSERT OR REPLACE INTO links (code, url, status, created_at, updated_at, tags) "
	         "VALUES ('moved', 'https://replaced.example/', 302, 1, 1, '[]')");
	ck_assert_int_gt(assert_search_index_exact(), 0);
	f.q = "finance";
	ck_assert_str_eq(find_codes(&f, 0, 10, got, sizeof(got)), "fresh");
	f.q = ".example/";
	ck_assert_str_eq(find_codes(&f, 0, 10, got, sizeof(got)), "kept,fresh,moved");
	f.q = "after.ex";
	ck_assert_str_eq(find_codes(&f, 0, 10, got, sizeof(got)), "");
	free(p);
}
END_TEST

/* A database left at version 1 (links only) with a link in it: opening
 * applies 2 and 3, keeps the link, and the new tables work. */
START_TEST(test_migrations_from_version_1_keep_links)
{
	char sql[256];
	struct link l;
	unsigned char hash[STORE_TOKEN_HASH_LEN] = {1};
	size_t n;
	struct store_daily d[4];

	use_backend(SQLITE);
	sql_exec(sqlite_migrations[0].sql);
	sql_exec("PRAGMA user_version = 1");
	snprintf(sql, sizeof(sql),
	         "INSERT INTO links (code, url, status, forward_query, disabled, created_at, updated_at, expires_at, "
	         "max_clicks, clicks) VALUES ('old', 'https://old.example/x', 308, 1, 0, 1600000000, 1600000001, "
	         "1900000000, 50, 7)");
	sql_exec(sql);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM sqlite_master WHERE name = 'tokens'"), 0);

	open_store();
	ck_assert_int_eq(store_schema_version(st), latest_version());
	ck_assert_int_eq(store_link_lookup(st, "old", &l), STORE_OK);
	ck_assert_str_eq(l.url, "https://old.example/x");
	ck_assert_int_eq(l.status, 308);
	ck_assert(l.forward_query);
	ck_assert(!l.disabled);
	ck_assert_int_eq(l.created_at, 1600000000);
	ck_assert_int_eq(l.updated_at, 1600000001);
	ck_assert_int_eq(l.expires_at, 1900000000);
	ck_assert_int_eq(l.max_clicks, 50);
	ck_assert_int_eq(l.clicks, 7);
	ck_assert(l.last_click_at == LINK_NO_TIME);
	ck_assert_int_eq(store_token_add(st, "t", hash, STORE_ROLE_ADMIN, 1), STORE_OK);
	struct click_row row = {l.id, 19000, 1641600000, 2, 0, "ref.example"};
	ck_assert_int_eq(store_clicks_write(st, &row, 1), STORE_OK);
	ck_assert_int_eq(store_link_daily(st, l.id, 0, d, 4, &n), STORE_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(d[0].clicks, 2);
	close_store();
	ck_assert_int_eq(sql_int("PRAGMA user_version"), latest_version());
	ck_assert_int_eq(sql_int("SELECT clicks FROM links WHERE code = 'old'"), 9);
	/* A link from before 005 has no labels and is found by q. */
	open_store();
	ck_assert_int_eq(store_link_lookup(st, "old", &l), STORE_OK);
	ck_assert_str_eq(l.title, "");
	ck_assert_int_eq(l.n_tags, 0);
	ck_assert_str_eq(l.created_by, "");
	{
		struct link_filter f = {NULL, "OLD.EXAMPLE", NULL, 0};
		int64_t found_id = 0;
		ck_assert_int_eq(store_link_find(st, &f, 0, 10, first_id_fn, &found_id), STORE_OK);
		ck_assert_int_eq(found_id, l.id);
	}
}
END_TEST

/* Two processes opening one fresh database at once: the second to take the
 * write lock must see the first's migrations, not apply them again. A trace
 * hook on the store's own connection runs a whole other store_open just
 * before its first BEGIN IMMEDIATE, after it has read user_version. */
static int race_armed;

static int race_trace(unsigned type, void *ctx, void *p, void *x)
{
	struct store *other = NULL;
	struct link l;
	char e[256];

	(void)ctx;
	(void)p;
	if (type != SQLITE_TRACE_STMT || !race_armed || strncmp((const char *)x, "BEGIN IMMEDIATE", 15) != 0)
		return 0;
	race_armed = 0;
	ck_assert_msg(store_open(path, &other, e, sizeof(e)) == STORE_OK, "other open: %s", e);
	make_link(&l, "first", "https://first.example/");
	ck_assert_int_eq(store_link_create(other, &l, link_code_generate, NULL), STORE_OK);
	store_close(other);
	return 0;
}

static int race_ext(sqlite3 *db, char **msg, const struct sqlite3_api_routines *api)
{
	(void)msg;
	(void)api;
	if (race_armed)
		sqlite3_trace_v2(db, SQLITE_TRACE_STMT, race_trace, NULL);
	return SQLITE_OK;
}

START_TEST(test_concurrent_first_open)
{
	struct link got;

	use_backend(SQLITE);
	race_armed = 1;
	ck_assert_int_eq(sqlite3_auto_extension((void (*)(void))race_ext), SQLITE_OK);
	open_store();
	sqlite3_reset_auto_extension();
	ck_assert_int_eq(race_armed, 0);
	ck_assert_int_eq(store_schema_version(st), latest_version());
	ck_assert_int_eq(store_link_lookup(st, "first", &got), STORE_OK);
	ck_assert_str_eq(got.url, "https://first.example/");
}
END_TEST

START_TEST(test_newer_database_refused)
{
	use_backend(SQLITE);
	sql_exec("CREATE TABLE future (x INTEGER); PRAGMA user_version = 99;");
	ck_assert_int_eq(store_open(path, &st, err, sizeof(err)), STORE_TOO_NEW);
	ck_assert_ptr_null(st);
	ck_assert_msg(strstr(err, "99") != NULL && strstr(err, "newer") != NULL && strstr(err, path) != NULL,
	              "message: %s", err);
	ck_assert_ptr_null(strchr(err, '\n'));
	/* nothing was migrated into it */
	ck_assert_int_eq(sql_int("PRAGMA user_version"), 99);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM sqlite_master WHERE name = 'links'"), 0);
}
END_TEST

START_TEST(test_non_database_file_is_corrupt)
{
	FILE *f;

	use_backend(SQLITE);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < 200; i++)
		fputs("this is a text file, not an SQLite database\n", f);
	fclose(f);
	ck_assert_int_eq(store_open(path, &st, err, sizeof(err)), STORE_CORRUPT);
	ck_assert_ptr_null(st);
	ck_assert_msg(strstr(err, path) != NULL, "message: %s", err);
	ck_assert_uint_gt(strlen(err), strlen(path) + 2);
}
END_TEST

/* Root ignores file modes, so as root the open is tried as nobody. */
START_TEST(test_read_only_file_refused)
{
	uid_t uid = geteuid();
	int rc;

	use_backend(SQLITE);
	open_store();
	create("keep", "https://keep.example/");
	close_store();
	ck_assert_int_eq(chmod(path, 0444), 0);
	ck_assert_int_eq(chmod(dir, 0755), 0);
	if (uid == 0)
		ck_assert_int_eq(seteuid(65534), 0);
	rc = store_open(path, &st, err, sizeof(err));
	if (uid == 0)
		ck_assert_int_eq(seteuid(0), 0);
	ck_assert_int_eq(rc, STORE_READONLY);
	ck_assert_ptr_null(st);
	ck_assert_msg(strstr(err, path) != NULL && strstr(err, "read-only") != NULL, "message: %s", err);
	ck_assert_int_eq(chmod(path, 0644), 0);
	ck_assert_int_eq(link_count(), 1);
}
END_TEST

/* ---- links ---- */

START_TEST(test_create_and_lookup_every_field)
{
	struct link l, got;

	use_backend(_i);
	open_store();
	make_link(&l, "Abc_1-z", "https://t.example/p?a=b");
	l.status = 307;
	l.forward_query = true;
	l.expires_at = 1800000000;
	l.max_clicks = 10;
	l.created_at = 1700000001;
	l.updated_at = 1700000002;
	ck_assert_int_eq(store_link_create(st, &l, link_code_generate, NULL), STORE_OK);
	ck_assert_int_gt(l.id, 0);
	ck_assert_str_eq(l.code, "Abc_1-z");
	ck_assert_int_eq(store_link_lookup(st, "Abc_1-z", &got), STORE_OK);
	ck_assert_int_eq(got.id, l.id);
	ck_assert_str_eq(got.code, "Abc_1-z");
	ck_assert_str_eq(got.url, "https://t.example/p?a=b");
	ck_assert_int_eq(got.status, 307);
	ck_assert(got.forward_query);
	ck_assert(!got.disabled);
	ck_assert_int_eq(got.created_at, 1700000001);
	ck_assert_int_eq(got.updated_at, 1700000002);
	ck_assert_int_eq(got.expires_at, 1800000000);
	ck_assert_int_eq(got.max_clicks, 10);
	ck_assert_int_eq(got.clicks, 0);
	ck_assert_int_eq(got.bot_clicks, 0);
	ck_assert(got.last_click_at == LINK_NO_TIME);

	make_link(&l, "plain", "http://p.example/");
	ck_assert_int_eq(store_link_create(st, &l, link_code_generate, NULL), STORE_OK);
	ck_assert_int_eq(store_link_lookup(st, "plain", &got), STORE_OK);
	ck_assert(got.expires_at == LINK_NO_TIME);
	ck_assert(got.max_clicks == LINK_NO_LIMIT);
	ck_assert(!got.forward_query);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM links WHERE code = 'plain' AND expires_at IS NULL AND "
	                         "max_clicks IS NULL"),
	                 1);
}
END_TEST

START_TEST(test_lookup_is_exact_and_case_sensitive)
{
	struct link got;

	use_backend(_i);
	open_store();
	create("abc", "https://lower.example/");
	ck_assert_int_eq(store_link_lookup(st, "ABC", &got), STORE_NOT_FOUND);
	ck_assert_int_eq(store_link_lookup(st, "ab", &got), STORE_NOT_FOUND);
	ck_assert_int_eq(store_link_lookup(st, "abcd", &got), STORE_NOT_FOUND);
	create("ABC", "https://upper.example/");
	ck_assert_int_eq(store_link_lookup(st, "ABC", &got), STORE_OK);
	ck_assert_str_eq(got.url, "https://upper.example/");
	ck_assert_int_eq(store_link_lookup(st, "abc", &got), STORE_OK);
	ck_assert_str_eq(got.url, "https://lower.example/");
}
END_TEST

START_TEST(test_long_url_round_trips)
{
	struct link l, got;

	use_backend(_i);
	open_store();
	make_link(&l, "long", "");
	memcpy(l.url, "https://e.com/", 14);
	memset(l.url + 14, 'x', LINK_URL_MAX - 14);
	l.url[LINK_URL_MAX] = '\0';
	ck_assert_int_eq(store_link_create(st, &l, link_code_generate, NULL), STORE_OK);
	ck_assert_int_eq(store_link_lookup(st, "long", &got), STORE_OK);
	ck_assert_str_eq(got.url, l.url);
}
END_TEST

START_TEST(test_custom_code_conflict)
{
	struct link l, got;

	use_backend(_i);
	open_store();
	create("taken", "https://first.example/");
	make_link(&l, "taken", "https://second.example/");
	ck_assert_int_eq(store_link_create(st, &l, link_code_generate, NULL), STORE_CONFLICT);
	ck_assert_int_eq(store_link_lookup(st, "taken", &got), STORE_OK);
	ck_assert_str_eq(got.url, "https://first.example/");
	ck_assert_int_eq(link_count(), 1);
}
END_TEST

START_TEST(test_generated_code)
{
	struct link l, got;

	use_backend(_i);
	open_store();
	make_link(&l, "", "https://gen.example/");
	ck_assert_int_eq(store_link_create(st, &l, link_code_generate, NULL), STORE_OK);
	ck_assert_uint_eq(strlen(l.code), LINK_GEN_LEN);
	ck_assert_int_eq(link_code_check(l.code), LINK_CODE_OK);
	ck_assert_int_eq(store_link_lookup(st, l.code, &got), STORE_OK);
	ck_assert_int_eq(got.id, l.id);
	ck_assert_str_eq(got.url, "https://gen.example/");
}
END_TEST

/* A generator that hands out a script of codes, counting its calls. */
struct script {
	const char *const *codes;
	int calls;
};

static int scripted_gen(char *buf, size_t size, void *ctx)
{
	struct script *s = ctx;
	const char *c = s->codes[s->calls++];

	if (c == NULL)
		return -1;
	snprintf(buf, size, "%s", c);
	return 0;
}

START_TEST(test_generated_code_retried_on_collision)
{
	static const char *const codes[] = {"taken01", "taken02", "fresh01", NULL};
	struct script sc = {codes, 0};
	struct link l;

	use_backend(_i);
	open_store();
	create("taken01", "https://a.example/");
	create("taken02", "https://b.example/");
	make_link(&l, "", "https://gen.example/");
	ck_assert_int_eq(store_link_create(st, &l, scripted_gen, &sc), STORE_OK);
	ck_assert_str_eq(l.code, "fresh01");
	ck_assert_int_eq(sc.calls, 3);
	ck_assert_int_eq(link_count(), 3);
}
END_TEST

/* A batch of imported rows: codes and URLs, times and counts given. */
static struct store_import_row *import_rows(size_t n)
{
	struct store_import_row *rows = calloc(n, sizeof(*rows));

	ck_assert_ptr_nonnull(rows);
	for (size_t i = 0; i < n; i++) {
		char code[32], url[64];
		snprintf(code, sizeof(code), "imp%zu", i);
		snprintf(url, sizeof(url), "https://imp.example/%zu", i);
		make_link(&rows[i].link, code, url);
		rows[i].link.created_at = 1500000000 + (int64_t)i;
		rows[i].link.updated_at = 1600000000;
		rows[i].link.clicks = 40 + (int64_t)i;
		rows[i].link.bot_clicks = 3;
		rows[i].link.last_click_at = 1650000000;
		rows[i].fields = PATCH_URL | PATCH_STATUS;
	}
	return rows;
}

START_TEST(test_import_keeps_times_and_counts)
{
	struct store_import_row *rows = import_rows(3);
	struct link got;
	size_t conflict = 99;

	use_backend(_i);
	open_store();
	ck_assert_int_eq(
	    store_links_import(st, rows, 3, STORE_IMPORT_FAIL, 1700000000, link_code_generate, NULL, &conflict),
	    STORE_OK);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(rows[i].result, STORE_IMPORT_CREATED);
	ck_assert_int_eq(store_link_lookup(st, "imp2", &got), STORE_OK);
	ck_assert_int_eq(got.id, rows[2].link.id);
	ck_assert_str_eq(got.url, "https://imp.example/2");
	ck_assert_int_eq(got.created_at, 1500000002);
	ck_assert_int_eq(got.updated_at, 1600000000);
	ck_assert_int_eq(got.clicks, 42);
	ck_assert_int_eq(got.bot_clicks, 3);
	ck_assert_int_eq(got.last_click_at, 1650000000);
	ck_assert_int_eq(link_count(), 3);
	free(rows);
	/* counts of one kind each, or none */
	rows = import_rows(3);
	for (int i = 0; i < 3; i++) {
		snprintf(rows[i].link.code, sizeof(rows[i].link.code), "part%d", i);
		rows[i].link.clicks = 0;
		rows[i].link.bot_clicks = i == 0 ? 5 : 0;
		rows[i].link.last_click_at = i == 1 ? 1650000001 : LINK_NO_TIME;
	}
	ck_assert_int_eq(
	    store_links_import(st, rows, 3, STORE_IMPORT_FAIL, 1700000000, link_code_generate, NULL, &conflict),
	    STORE_OK);
	ck_assert_int_eq(store_link_lookup(st, "part0", &got), STORE_OK);
	ck_assert_int_eq(got.bot_clicks, 5);
	ck_assert_int_eq(got.last_click_at, LINK_NO_TIME);
	ck_assert_int_eq(store_link_lookup(st, "part1", &got), STORE_OK);
	ck_assert_int_eq(got.bot_clicks, 0);
	ck_assert_int_eq(got.last_click_at, 1650000001);
	ck_assert_int_eq(store_link_lookup(st, "part2", &got), STORE_OK);
	ck_assert_int_eq(got.clicks, 0);
	ck_assert_int_eq(got.last_click_at, LINK_NO_TIME);
	free(rows);
}
END_TEST

START_TEST(test_import_taken_code_by_mode)
{
	struct store_import_row *rows = import_rows(3);
	struct link got;
	size_t conflict = 99;

	use_backend(_i);
	open_store();
	create("imp1", "https://old.example/");
	sqlfile_set_clicks(path, "imp1", 7);
	/* fail: the whole batch is refused and the row named. */
	ck_assert_int_eq(
	    store_links_import(st, rows, 3, STORE_IMPORT_FAIL, 1700000000, link_code_generate, NULL, &conflict),
	    STORE_CONFLICT);
	ck_assert_uint_eq(conflict, 1);
	ck_assert_int_eq(link_count(), 1);
	/* skip: the others are written, the link stays. */
	ck_assert_int_eq(
	    store_links_import(st, rows, 3, STORE_IMPORT_SKIP, 1700000000, link_code_generate, NULL, &conflict),
	    STORE_OK);
	ck_assert_int_eq(rows[0].result, STORE_IMPORT_CREATED);
	ck_assert_int_eq(rows[1].result, STORE_IMPORT_SKIPPED);
	ck_assert_int_eq(rows[2].result, STORE_IMPORT_CREATED);
	ck_assert_int_eq(store_link_lookup(st, "imp1", &got), STORE_OK);
	ck_assert_str_eq(got.url, "https://old.example/");
	/* update: the named fields change, the counts and the rest stay. */
	rows[1].link.status = 308;
	rows[1].link.max_clicks = 5; /* not named: kept */
	ck_assert_int_eq(
	    store_links_import(st, rows + 1, 1, STORE_IMPORT_UPDATE, 1700000099, link_code_generate, NULL, &conflict),
	    STORE_OK);
	ck_assert_int_eq(rows[1].result, STORE_IMPORT_UPDATED);
	ck_assert_int_eq(store_link_lookup(st, "imp1", &got), STORE_OK);
	ck_assert_str_eq(got.url, "https://imp.example/1");
	ck_assert_int_eq(got.status, 308);
	ck_assert_int_eq(got.max_clicks, LINK_NO_LIMIT);
	ck_assert_int_eq(got.clicks, 7);
	ck_assert_int_eq(got.updated_at, 1700000099);
	ck_assert_int_eq(link_count(), 3);
	{
		struct link_filter f = {NULL, "old.example", NULL, 0};
		char out[64];
		ck_assert_str_eq(find_codes(&f, 0, 10, out, sizeof(out)), "");
		f.q = "imp.example/";
		ck_assert_str_eq(find_codes(&f, 0, 10, out, sizeof(out)), "imp1,imp0,imp2");
	}
	if (_i == SQLITE)
		assert_search_index_exact();
	free(rows);
}
END_TEST

START_TEST(test_import_redraws_a_taken_drawn_code)
{
	static const char *const codes[] = {"taken01", "fresh01", "fresh02", NULL};
	static const char *const none[] = {NULL};
	struct script sc = {codes, 0}, fails = {none, 0};
	struct store_import_row *rows = import_rows(2);
	size_t conflict = 99;

	use_backend(_i);
	open_store();
	create("taken01", "https://a.example/");
	rows[0].link.code[0] = '\0';
	rows[1].link.code[0] = '\0';
	/* Even with skip, a drawn code that is taken is drawn again. */
	ck_assert_int_eq(store_links_import(st, rows, 2, STORE_IMPORT_SKIP, 1700000000, scripted_gen, &sc, &conflict),
	                 STORE_OK);
	ck_assert_str_eq(rows[0].link.code, "fresh02");
	ck_assert_str_eq(rows[1].link.code, "fresh01");
	ck_assert_int_eq(rows[0].result, STORE_IMPORT_CREATED);
	ck_assert_int_eq(link_count(), 3);
	/* Two rows drawn the same code: one is drawn again. */
	{
		static const char *const twice[] = {"same001", "same001", "fresh03", NULL};
		struct script sc2 = {twice, 0};
		struct store_import_row *more = import_rows(2);
		more[0].link.code[0] = '\0';
		more[1].link.code[0] = '\0';
		ck_assert_int_eq(
		    store_links_import(st, more, 2, STORE_IMPORT_FAIL, 1700000000, scripted_gen, &sc2, &conflict),
		    STORE_OK);
		ck_assert_int_eq(sc2.calls, 3);
		ck_assert_str_ne(more[0].link.code, more[1].link.code);
		ck_assert_int_eq(link_count(), 5);
		/* Two rows given one code: refused, whatever the mode. */
		snprintf(more[0].link.code, sizeof(more[0].link.code), "dup");
		snprintf(more[1].link.code, sizeof(more[1].link.code), "dup");
		ck_assert_int_eq(
		    store_links_import(st, more, 2, STORE_IMPORT_SKIP, 1700000000, scripted_gen, &sc2, &conflict),
		    STORE_CONFLICT);
		ck_assert_uint_eq(conflict, 1);
		ck_assert_int_eq(link_count(), 5);
		free(more);
	}
	/* A generator that fails: nothing written, no code left behind. */
	rows[0].link.code[0] = '\0';
	snprintf(rows[1].link.code, sizeof(rows[1].link.code), "given");
	ck_assert_int_eq(
	    store_links_import(st, rows, 2, STORE_IMPORT_SKIP, 1700000000, scripted_gen, &fails, &conflict),
	    STORE_ERROR);
	ck_assert_str_eq(rows[0].link.code, "");
	ck_assert_str_eq(rows[1].link.code, "given");
	ck_assert_int_eq(link_count(), 5);
	/* It fails on the second row: the first's code, drawn, goes too. */
	{
		static const char *const once[] = {"fresh04", NULL};
		struct script sc3 = {once, 0};
		rows[1].link.code[0] = '\0';
		ck_assert_int_eq(
		    store_links_import(st, rows, 2, STORE_IMPORT_SKIP, 1700000000, scripted_gen, &sc3, &conflict),
		    STORE_ERROR);
		ck_assert_int_eq(sc3.calls, 2);
		ck_assert_str_eq(rows[0].link.code, "");
		ck_assert_str_eq(rows[1].link.code, "");
	}
	/* Refused for a code given that is taken: the drawn ones go as well. */
	{
		static const char *const one[] = {"fresh05", NULL};
		struct script sc4 = {one, 0};
		snprintf(rows[1].link.code, sizeof(rows[1].link.code), "taken01");
		ck_assert_int_eq(
		    store_links_import(st, rows, 2, STORE_IMPORT_FAIL, 1700000000, scripted_gen, &sc4, &conflict),
		    STORE_CONFLICT);
		ck_assert_uint_eq(conflict, 1);
		ck_assert_str_eq(rows[0].link.code, "");
		ck_assert_str_eq(rows[1].link.code, "taken01");
	}
	ck_assert_int_eq(link_count(), 5);
	free(rows);
}
END_TEST

START_TEST(test_generated_code_gives_up)
{
	static const char *const always[] = {"taken01", "taken01", "taken01", "taken01", "taken01",
	                                     "taken01", "taken01", "taken01", "taken01", "taken01",
	                                     "taken01", "taken01", "taken01", "taken01", "taken01",
	                                     "taken01", "taken01", "taken01", NULL};
	static const char *const failing[] = {NULL};
	struct script sc = {always, 0};
	struct link l;

	use_backend(_i);
	open_store();
	create("taken01", "https://a.example/");
	make_link(&l, "", "https://gen.example/");
	ck_assert_int_eq(store_link_create(st, &l, scripted_gen, &sc), STORE_CONFLICT);
	ck_assert_int_eq(sc.calls, 16);
	ck_assert_str_eq(l.code, "");
	sc = (struct script){failing, 0};
	ck_assert_int_eq(store_link_create(st, &l, scripted_gen, &sc), STORE_ERROR);
	ck_assert_str_eq(l.code, "");
	ck_assert_int_eq(link_count(), 1);
}
END_TEST

START_TEST(test_update_each_field)
{
	struct link_patch p;
	struct link out, got;

	use_backend(_i);
	open_store();
	create("u", "https://before.example/");
	memset(&p, 0, sizeof(p));
	p.fields = PATCH_URL;
	snprintf(p.url, sizeof(p.url), "https://after.example/");
	ck_assert_int_eq(store_link_update(st, "u", &p, 1700000100, &out), STORE_OK);
	ck_assert_str_eq(out.url, "https://after.example/");
	ck_assert_int_eq(out.updated_at, 1700000100);
	ck_assert_int_eq(out.created_at, 1700000000);
	ck_assert_int_eq(out.status, 302);

	p.fields = PATCH_STATUS | PATCH_EXPIRES_AT | PATCH_MAX_CLICKS | PATCH_FORWARD_QUERY | PATCH_DISABLED;
	snprintf(p.url, sizeof(p.url), "https://ignored.example/");
	p.status = 301;
	p.expires_at = 1900000000;
	p.max_clicks = 0;
	p.forward_query = true;
	p.disabled = true;
	ck_assert_int_eq(store_link_update(st, "u", &p, 1700000200, &out), STORE_OK);
	ck_assert_int_eq(store_link_lookup(st, "u", &got), STORE_OK);
	ck_assert_str_eq(got.url, "https://after.example/");
	ck_assert_int_eq(got.status, 301);
	ck_assert_int_eq(got.expires_at, 1900000000);
	ck_assert_int_eq(got.max_clicks, 0);
	ck_assert(got.forward_query);
	ck_assert(got.disabled);
	ck_assert_int_eq(got.updated_at, 1700000200);
	ck_assert_int_eq(out.id, got.id);

	p.fields = PATCH_EXPIRES_AT | PATCH_MAX_CLICKS | PATCH_DISABLED;
	p.expires_at = LINK_NO_TIME;
	p.max_clicks = LINK_NO_LIMIT;
	p.disabled = false;
	ck_assert_int_eq(store_link_update(st, "u", &p, 1700000300, &out), STORE_OK);
	ck_assert_int_eq(store_link_lookup(st, "u", &got), STORE_OK);
	ck_assert(got.expires_at == LINK_NO_TIME);
	ck_assert(got.max_clicks == LINK_NO_LIMIT);
	ck_assert(!got.disabled);
	ck_assert(got.forward_query);
	ck_assert_int_eq(got.status, 301);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM links WHERE expires_at IS NULL AND max_clicks IS NULL"), 1);
}
END_TEST

START_TEST(test_update_missing_link)
{
	struct link_patch p = {.fields = PATCH_STATUS, .status = 301};
	struct link out;

	use_backend(_i);
	open_store();
	ck_assert_int_eq(store_link_update(st, "nope", &p, 1, &out), STORE_NOT_FOUND);
	ck_assert_int_eq(link_count(), 0);
}
END_TEST

START_TEST(test_delete)
{
	struct link got;
	size_t n;
	struct store_daily d[2];
	int64_t id;

	use_backend(_i);
	open_store();
	id = create("gone", "https://gone.example/");
	create("stays", "https://stays.example/");
	struct click_row row = {id, 19700, 1702080000, 4, 1, "r.example"};
	ck_assert_int_eq(store_clicks_write(st, &row, 1), STORE_OK);
	ck_assert_int_eq(store_link_delete(st, "gone"), STORE_OK);
	ck_assert_int_eq(store_link_lookup(st, "gone", &got), STORE_NOT_FOUND);
	ck_assert_int_eq(store_link_delete(st, "gone"), STORE_NOT_FOUND);
	ck_assert_int_eq(store_link_delete(st, "never"), STORE_NOT_FOUND);
	ck_assert_int_eq(store_link_lookup(st, "stays", &got), STORE_OK);
	ck_assert_int_eq(store_link_daily(st, id, 0, d, 2, &n), STORE_OK);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM clicks_daily"), 0);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM referrers_daily"), 0);
	/* ids are never reused: a new link cannot inherit clicks in flight */
	ck_assert_int_gt(create("gone", "https://again.example/"), id + 1);
}
END_TEST

struct collect {
	int n;
	int stop_after;
	int64_t ids[64];
	char codes[64][LINK_CODE_MAX + 1];
};

static int collect_fn(const struct link *l, void *ctx)
{
	struct collect *c = ctx;

	c->ids[c->n] = l->id;
	snprintf(c->codes[c->n], sizeof(c->codes[0]), "%s", l->code);
	c->n++;
	return c->stop_after > 0 && c->n >= c->stop_after;
}

START_TEST(test_list_keyset_paging)
{
	struct collect c;
	int64_t after = 0;
	int seen = 0;
	char code[16];
	int64_t ids[25];

	use_backend(_i);
	open_store();
	for (int i = 0; i < 25; i++) {
		snprintf(code, sizeof(code), "c%02d", i);
		ids[i] = create(code, "https://list.example/");
	}
	ck_assert_int_eq(store_link_delete(st, "c12"), STORE_OK);
	for (int page = 0; page < 4; page++) {
		memset(&c, 0, sizeof(c));
		ck_assert_int_eq(store_link_list(st, after, 10, collect_fn, &c), STORE_OK);
		ck_assert_int_eq(c.n, page < 2 ? 10 : page == 2 ? 4 : 0);
		for (int i = 0; i < c.n; i++) {
			int want = seen + (seen >= 12 ? 1 : 0);
			snprintf(code, sizeof(code), "c%02d", want);
			ck_assert_str_eq(c.codes[i], code);
			ck_assert_int_eq(c.ids[i], ids[want]);
			ck_assert_int_gt(c.ids[i], after);
			after = c.ids[i];
			seen++;
		}
	}
	ck_assert_int_eq(seen, 24);

	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(store_link_list(st, 0, 0, collect_fn, &c), STORE_OK);
	ck_assert_int_eq(c.n, 0);
	ck_assert_int_eq(store_link_list(st, 0, -1, collect_fn, &c), STORE_OK);
	ck_assert_int_eq(c.n, 0);
	ck_assert_int_eq(store_link_list(st, ids[24], 10, collect_fn, &c), STORE_OK);
	ck_assert_int_eq(c.n, 0);

	memset(&c, 0, sizeof(c));
	c.stop_after = 3;
	ck_assert_int_eq(store_link_list(st, 0, 100, collect_fn, &c), STORE_OK);
	ck_assert_int_eq(c.n, 3);
}
END_TEST

struct creator {
	int made;
};

static void *create_many(void *arg)
{
	struct creator *c = arg;
	struct link l, got;

	for (int i = 0; i < 50; i++) {
		make_link(&l, "", "https://many.example/");
		if (store_link_create(st, &l, link_code_generate, NULL) == STORE_OK &&
		    store_link_lookup(st, l.code, &got) == STORE_OK && got.id == l.id)
			c->made++;
	}
	return NULL;
}

/* 8 threads create and read back 50 links each at once: writes are
 * serialised, each thread's reads see its own writes. */
START_TEST(test_concurrent_creates)
{
	pthread_t t[8];
	struct creator c[8];

	use_backend(_i);
	open_store();
	for (int i = 0; i < 8; i++) {
		c[i].made = 0;
		ck_assert_int_eq(pthread_create(&t[i], NULL, create_many, &c[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		ck_assert_int_eq(c[i].made, 50);
	}
	ck_assert_int_eq(link_count(), 400);
	ck_assert_int_eq(sql_int("SELECT count(DISTINCT code) FROM links"), 400);
}
END_TEST

/* ---- labels, find, batches ---- */

/* A link with a title, tags (with the characters JSON escapes) and an author. */
static void make_labelled(struct link *l, const char *code, const char *url, const char *title, const char *by)
{
	static const char *const tags[] = {"plain", "quote\"d", "back\\slash", "caf\xc3\xa9", "emoji \xf0\x9f\x98\x80"};

	make_link(l, code, url);
	snprintf(l->title, sizeof(l->title), "%s", title);
	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
		ck_assert_int_eq(link_tag_add(l->tags, &l->n_tags, tags[i], strlen(tags[i])), LINK_LABEL_OK);
	snprintf(l->created_by, sizeof(l->created_by), "%s", by);
	snprintf(l->updated_by, sizeof(l->updated_by), "%s", by);
}

static void assert_same_labels(const struct link *a, const struct link *b)
{
	ck_assert_str_eq(a->title, b->title);
	ck_assert_int_eq(a->n_tags, b->n_tags);
	for (int i = 0; i < a->n_tags; i++)
		ck_assert_str_eq(a->tags[i], b->tags[i]);
	ck_assert_str_eq(a->created_by, b->created_by);
	ck_assert_str_eq(a->updated_by, b->updated_by);
}

START_TEST(test_labels_round_trip)
{
	struct link *l = malloc(sizeof(*l)), *got = malloc(sizeof(*got)), *out = malloc(sizeof(*out));
	struct link_patch *p = calloc(1, sizeof(*p));
	struct collect c;

	ck_assert(l != NULL && got != NULL && out != NULL && p != NULL);
	use_backend(_i);
	open_store();
	make_labelled(l, "lab", "https://lab.example/", "A \"title\" \xe2\x80\x94 here", "alice");
	ck_assert_int_eq(store_link_create(st, l, link_code_generate, NULL), STORE_OK);
	ck_assert_int_eq(store_link_lookup(st, "lab", got), STORE_OK);
	assert_same_labels(l, got);
	ck_assert_int_eq(store_link_resolve(st, "lab", got), STORE_OK);
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(store_link_list(st, 0, 10, collect_fn, &c), STORE_OK);
	ck_assert_int_eq(c.n, 1);

	/* An update without labels keeps them and records who made it. */
	p->fields = PATCH_STATUS;
	p->status = 301;
	snprintf(p->by, sizeof(p->by), "bob");
	ck_assert_int_eq(store_link_update(st, "lab", p, 1700000500, out), STORE_OK);
	ck_assert_str_eq(out->title, l->title);
	ck_assert_int_eq(out->n_tags, 5);
	ck_assert_str_eq(out->created_by, "alice");
	ck_assert_str_eq(out->updated_by, "bob");

	/* Labels replaced, then cleared. */
	p->fields = PATCH_TITLE | PATCH_TAGS;
	snprintf(p->title, sizeof(p->title), "new");
	p->n_tags = 0;
	ck_assert_int_eq(link_tag_add(p->tags, &p->n_tags, "one", 3), LINK_LABEL_OK);
	ck_assert_int_eq(store_link_update(st, "lab", p, 1700000600, out), STORE_OK);
	ck_assert_int_eq(store_link_lookup(st, "lab", got), STORE_OK);
	ck_assert_str_eq(got->title, "new");
	ck_assert_int_eq(got->n_tags, 1);
	ck_assert_str_eq(got->tags[0], "one");
	{
		struct link_filter f = {NULL, "quote\"d", NULL, 0};
		int64_t found_id = 0;
		ck_assert_int_eq(store_link_find(st, &f, 0, 10, first_id_fn, &found_id), STORE_OK);
		ck_assert_int_eq(found_id, 0); /* the old tags left the index */
		f.q = "one";
		ck_assert_int_eq(store_link_find(st, &f, 0, 10, first_id_fn, &found_id), STORE_OK);
		ck_assert_int_eq(found_id, got->id);
	}
	if (_i == SQLITE)
		assert_search_index_exact();
	p->title[0] = '\0';
	p->n_tags = 0;
	p->by[0] = '\0';
	ck_assert_int_eq(store_link_update(st, "lab", p, 1700000700, out), STORE_OK);
	ck_assert_int_eq(store_link_lookup(st, "lab", got), STORE_OK);
	ck_assert_str_eq(got->title, "");
	ck_assert_int_eq(got->n_tags, 0);
	ck_assert_str_eq(got->updated_by, "");
	if (_i == SQLITE)
		ck_assert_int_gt(assert_search_index_exact(), 0);
	free(l);
	free(got);
	free(out);
	free(p);
}
END_TEST

/* The codes that store_link_find() lists for f after after_id, joined by ','. */
static const char *find_codes(const struct link_filter *f, int64_t after_id, int limit, char *out, size_t size)
{
	struct collect c;
	size_t n = 0;

	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(store_link_find(st, f, after_id, limit, collect_fn, &c), STORE_OK);
	out[0] = '\0';
	for (int i = 0; i < c.n; i++)
		n += (size_t)snprintf(out + n, size - n, "%s%s", i > 0 ? "," : "", c.codes[i]);
	return out;
}

/* SQLite: how many links wait to be indexed for q (sql/sqlite/009). */
static int64_t links_waiting(void)
{
	return sql_int("SELECT count(*) FROM links WHERE id > (SELECT upto FROM link_search_indexed)");
}

/* Entries missing from link_search and entries too many in it, against
 * an index built afresh on db from the links with ids up to `upto`; the
 * entries it holds into *held. */
static void search_index_diff(sqlite3 *db, const char *upto, int64_t v[3])
{
	char sql[1024];
	sqlite3_stmt *s;

	snprintf(sql, sizeof(sql),
	         "DROP TABLE IF EXISTS temp.want; DROP TABLE IF EXISTS temp.ref;"
	         "CREATE VIRTUAL TABLE temp.ref USING fts5 (code, url, title, tags, tokenize = 'trigram');"
	         "INSERT INTO temp.ref (rowid, code, url, title, tags) SELECT id, code, url, title, "
	         "(SELECT group_concat(value, char(10)) FROM json_each(links.tags)) FROM links WHERE id <= %s;"
	         "CREATE VIRTUAL TABLE temp.want USING fts5vocab(temp, ref, instance);",
	         upto);
	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK, "%s", sqlite3_errmsg(db));
	ck_assert_int_eq(sqlite3_prepare_v2(db,
	                                    "SELECT (SELECT count(*) FROM (SELECT * FROM temp.want EXCEPT "
	                                    "SELECT * FROM temp.held)), (SELECT count(*) FROM (SELECT * FROM "
	                                    "temp.held EXCEPT SELECT * FROM temp.want)), (SELECT count(*) FROM "
	                                    "temp.held)",
	                                    -1, &s, NULL),
	                 SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
	for (int i = 0; i < 3; i++)
		v[i] = sqlite3_column_int64(s, i);
	sqlite3_finalize(s);
}

/*
 * SQLite: the trigram index holds exactly the trigrams of every link that
 * is not waiting to be indexed, no more (a link gone or changed leaves none
 * behind) and no fewer; fewer than 64 links wait. Each (trigram, link,
 * column, offset) that link_search holds is compared with an index built
 * afresh from the links table on a scratch connection: link_search keeps
 * no text of its own, so only its index can be read. Then the links waiting
 * are indexed here as shortd indexes them, and the index must hold every
 * link: what the triggers did to links while they waited leaves nothing
 * behind either. Returns how many entries it holds then, for the caller to
 * check.
 */
static int64_t assert_search_index_exact(void)
{
	sqlite3 *db;
	int64_t v[3] = {-1, -1, -1};

	ck_assert_int_lt(links_waiting(), 64);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_msg(sqlite3_exec(db, "CREATE VIRTUAL TABLE temp.held USING fts5vocab(main, link_search, instance);",
	                           NULL, NULL, NULL) == SQLITE_OK,
	              "%s", sqlite3_errmsg(db));
	search_index_diff(db, "(SELECT upto FROM link_search_indexed)", v);
	ck_assert_msg(v[0] == 0 && v[1] == 0, "trigram index: %lld missing, %lld too many", (long long)v[0],
	              (long long)v[1]);
	ck_assert_msg(sqlite3_exec(db,
	                           "BEGIN IMMEDIATE;"
	                           "INSERT INTO link_search (rowid, code, url, title, tags) SELECT id, code, url, "
	                           "title, (SELECT group_concat(value, char(10)) FROM json_each(tags)) FROM links "
	                           "WHERE id > (SELECT upto FROM link_search_indexed) ORDER BY id;"
	                           "UPDATE link_search_indexed SET upto = (SELECT max(upto, coalesce(max(links.id), "
	                           "0)) FROM links);"
	                           "COMMIT",
	                           NULL, NULL, NULL) == SQLITE_OK,
	              "%s", sqlite3_errmsg(db));
	search_index_diff(db, "(SELECT max(id) FROM links)", v);
	sqlite3_close(db);
	ck_assert_msg(v[0] == 0 && v[1] == 0, "trigram index, all indexed: %lld missing, %lld too many",
	              (long long)v[0], (long long)v[1]);
	return v[2];
}

/* SQLite: how many links the trigram index holds trigram for (fts5vocab's
 * count of rows that have it). */
static int64_t search_links_with(const char *trigram)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	int64_t n = -1;

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "CREATE VIRTUAL TABLE temp.rows USING fts5vocab(main, link_search, row)",
	                              NULL, NULL, NULL),
	                 SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT doc FROM temp.rows WHERE term = ?1", -1, &s, NULL), SQLITE_OK);
	sqlite3_bind_text(s, 1, trigram, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

/* Creates a link with a title and tags given as one string split at ','. */
static int64_t create_tagged(const char *code, const char *url, const char *title, const char *tags)
{
	struct link l;

	make_link(&l, code, url);
	snprintf(l.title, sizeof(l.title), "%s", title);
	for (const char *t = tags; *t != '\0';) {
		size_t len = strcspn(t, ",");
		ck_assert_int_eq(link_tag_add(l.tags, &l.n_tags, t, len), LINK_LABEL_OK);
		t += len + (t[len] == ',');
	}
	ck_assert_int_eq(store_link_create(st, &l, link_code_generate, NULL), STORE_OK);
	return l.id;
}

/* Creates n links coded prefix0, prefix1, ... to url, one at a time. */
static void create_numbered(const char *prefix, int n, const char *url)
{
	char code[32];

	for (int i = 0; i < n; i++) {
		snprintf(code, sizeof(code), "%s%d", prefix, i);
		create_tagged(code, url, "", "");
	}
}

/* In q and in a tag, the characters of LIKE patterns and of JSON strings
 * (% _ \ ") are plain text: found where they are, matching nothing else. */
START_TEST(test_find_takes_pattern_and_quote_characters_as_text)
{
	const char *quoted[] = {"a\"b\\c"}, *plain[] = {"abc"};
	char out[256];

	use_backend(_i);
	open_store();
	create_tagged("sale", "https://shop.example/sale", "50%_\\ off \"today\"", "a\"b\\c");
	create_tagged("other", "https://shop.example/other", "500 off today", "abc");
	struct link_filter f = {NULL, "50%_\\", NULL, 0};
	ck_assert_str_eq(find_codes(&f, 0, 10, out, sizeof(out)), "sale");
	f.q = "%"; /* too short for trigrams: matched link by link */
	ck_assert_str_eq(find_codes(&f, 0, 10, out, sizeof(out)), "sale");
	f.q = "_";
	ck_assert_str_eq(find_codes(&f, 0, 10, out, sizeof(out)), "sale");
	f.q = "\\ off";
	ck_assert_str_eq(find_codes(&f, 0, 10, out, sizeof(out)), "sale");
	f.q = "\"today\"";
	ck_assert_str_eq(find_codes(&f, 0, 10, out, sizeof(out)), "sale");
	f.q = "50_";
	ck_assert_str_eq(find_codes(&f, 0, 10, out, sizeof(out)), "");
	f = (struct link_filter){NULL, NULL, quoted, 1};
	ck_assert_str_eq(find_codes(&f, 0, 10, out, sizeof(out)), "sale");
	f.tags = plain;
	ck_assert_str_eq(find_codes(&f, 0, 10, out, sizeof(out)), "other");
}
END_TEST

START_TEST(test_find_by_url_q_and_tags)
{
	const char *en[] = {"en"}, *docs_en[] = {"docs", "en"}, *none[] = {"nope"};
	char out[256];
	struct collect c;
	int64_t g1;

	use_backend(_i);
	open_store();
	g1 = create_tagged("g1", "https://docs.example/guide", "User Guide", "docs,en");
	create_tagged("g2", "https://docs.example/guide", "", "docs,fr");
	create_tagged("cart", "https://shop.example/cart", "Checkout 100%", "shop");
	create_tagged("api", "https://docs.example/api", "", "docs,en,api");
	if (_i == SQLITE)
		assert_search_index_exact();

	struct link_filter f = {"https://docs.example/guide", NULL, NULL, 0};
	ck_assert_str_eq(find_codes(&f, 0, 10, out, sizeof(out)), "g1,g2");
	ck_assert_str_eq(find_codes(&f, g1, 10, out, sizeof(out)), "g2");
	ck_assert_str_eq(find_codes(&f, 0, 1, out, sizeof(out)), "g1");
	f.tags = en;
	f.n_tags = 1;
	ck_assert_str_eq(find_codes(&f, 0, 10, out, sizeof(out)), "g1");

	f = (struct link_filter){NULL, NULL, docs_en, 2};
	ck_assert_str_eq(find_codes(&f, 0, 10, out, sizeof(out)), "g1,api");
	f.q = "GUI"; /* the trigram index */
	ck_assert_str_eq(find_codes(&f, 0, 10, out, sizeof(out)), "g1");
	f.q = "gu"; /* too short for trigrams */
	ck_assert_str_eq(find_codes(&f, 0, 10, out, sizeof(out)), "g1");
	f = (struct link_filter){NULL, NULL, none, 1};
	ck_assert_str_eq(find_codes(&f, 0, 10, out, sizeof(out)), "");

	f = (struct link_filter){NULL, "checkout", NULL, 0};
	ck_assert_str_eq(find_codes(&f, 0, 10, out, sizeof(out)), "cart");
	f.q = "100%";
	ck_assert_str_eq(find_codes(&f, 0, 10, out, sizeof(out)), "cart");
	f.q = "0%";
	ck_assert_str_eq(find_codes(&f, 0, 10, out, sizeof(out)), "cart");
	f.q = "%";
	ck_assert_str_eq(find_codes(&f, 0, 10, out, sizeof(out)), "cart");
	f.q = "_";
	ck_assert_str_eq(find_codes(&f, 0, 10, out, sizeof(out)), "");
	f.q = "\"docs\"";
	ck_assert_str_eq(find_codes(&f, 0, 10, out, sizeof(out)), "");
	f.q = "FR"; /* a tag, short */
	ck_assert_str_eq(find_codes(&f, 0, 10, out, sizeof(out)), "g2");
	f.q = "docs.example/a";
	f.url = "https://docs.example/api";
	ck_assert_str_eq(find_codes(&f, 0, 10, out, sizeof(out)), "api");
	f.q = "ap";
	ck_assert_str_eq(find_codes(&f, 0, 10, out, sizeof(out)), "api");

	/* Stopped by the callback; no rows for limit 0. */
	f = (struct link_filter){NULL, "docs", NULL, 0};
	memset(&c, 0, sizeof(c));
	c.stop_after = 1;
	ck_assert_int_eq(store_link_find(st, &f, 0, 10, collect_fn, &c), STORE_OK);
	ck_assert_int_eq(c.n, 1);
	ck_assert_str_eq(find_codes(&f, 0, 0, out, sizeof(out)), "");

	/* Deleted and changed links leave the indexes. */
	ck_assert_int_eq(store_link_delete(st, "g2"), STORE_OK);
	f = (struct link_filter){NULL, NULL, docs_en, 1};
	ck_assert_str_eq(find_codes(&f, 0, 10, out, sizeof(out)), "g1,api");
	f = (struct link_filter){NULL, "fr", NULL, 0};
	ck_assert_str_eq(find_codes(&f, 0, 10, out, sizeof(out)), "");
	if (_i == SQLITE)
		assert_search_index_exact();
}
END_TEST

START_TEST(test_create_batch_all_or_none)
{
	static const char *const codes[] = {"taken01", "fresh01", "fresh02", NULL};
	static const char *const failing[] = {NULL};
	struct store_new_link *b = calloc(3, sizeof(*b));
	struct script sc = {codes, 0};
	size_t bad = 99;

	ck_assert_ptr_nonnull(b);
	use_backend(_i);
	open_store();
	create("taken01", "https://a.example/");
	create("taken", "https://a.example/");

	/* A custom code taken: none is written, its index is told. */
	make_link(&b[0].link, "n1", "https://n.example/1");
	make_link(&b[1].link, "", "https://n.example/2");
	make_link(&b[2].link, "taken", "https://n.example/3");
	ck_assert_int_eq(store_link_create_batch(st, b, 3, link_code_generate, NULL, &bad), STORE_CONFLICT);
	ck_assert_uint_eq(bad, 2);
	ck_assert_int_eq(link_count(), 2);
	ck_assert_str_eq(b[1].link.code, ""); /* a drawn code is cleared */
	ck_assert_str_eq(b[0].link.code, "n1");

	/* The same code twice in one batch. */
	make_link(&b[2].link, "n1", "https://n.example/3");
	ck_assert_int_eq(store_link_create_batch(st, b, 3, link_code_generate, NULL, &bad), STORE_CONFLICT);
	ck_assert_uint_eq(bad, 2);
	ck_assert_int_eq(link_count(), 2);

	/* The least index that repeats a code given before it. */
	{
		struct store_new_link *r = calloc(5, sizeof(*r));
		static const char *const five[] = {"z", "y", "x", "y", "z"};
		ck_assert_ptr_nonnull(r);
		for (int i = 0; i < 5; i++)
			make_link(&r[i].link, five[i], "https://n.example/r");
		ck_assert_int_eq(store_link_create_batch(st, r, 5, link_code_generate, NULL, &bad), STORE_CONFLICT);
		ck_assert_uint_eq(bad, 3);
		ck_assert_int_eq(link_count(), 2);
		free(r);
	}

	/* A stored link's code and a code given twice: the least index named. */
	{
		static const char *const orders[2][4] = {{"q", "taken", "p", "q"}, {"q", "p", "q", "taken"}};
		static const size_t want[2] = {1, 2};
		struct store_new_link *r = calloc(4, sizeof(*r));
		ck_assert_ptr_nonnull(r);
		for (int o = 0; o < 2; o++) {
			for (int i = 0; i < 4; i++)
				make_link(&r[i].link, orders[o][i], "https://n.example/o");
			ck_assert_int_eq(store_link_create_batch(st, r, 4, link_code_generate, NULL, &bad),
			                 STORE_CONFLICT);
			ck_assert_uint_eq(bad, want[o]);
			ck_assert_int_eq(link_count(), 2);
		}
		free(r);
	}

	/* A drawn code taken is drawn again. */
	make_link(&b[2].link, "n3", "https://n.example/3");
	ck_assert_int_eq(store_link_create_batch(st, b, 3, scripted_gen, &sc, &bad), STORE_OK);
	ck_assert_str_eq(b[1].link.code, "fresh01");
	ck_assert_int_eq(sc.calls, 2);
	ck_assert_int_gt(b[0].link.id, 0);
	ck_assert_int_gt(b[1].link.id, b[0].link.id);
	ck_assert_int_gt(b[2].link.id, b[1].link.id);
	ck_assert_int_eq(link_count(), 5);

	/* A generator that fails writes nothing. */
	make_link(&b[0].link, "", "https://n.example/4");
	sc = (struct script){failing, 0};
	ck_assert_int_eq(store_link_create_batch(st, b, 1, scripted_gen, &sc, &bad), STORE_ERROR);
	ck_assert_int_eq(link_count(), 5);
	free(b);
}
END_TEST

/* Batches of any size are written whole: more rows than one INSERT takes
 * (1,024), then a batch of another size, then the first size again (each
 * size's statement replaces the last). Every link gets its own id, in
 * order, its code, and its rows in link_tag and the trigram index. */
START_TEST(test_create_batch_sizes)
{
	static const size_t sizes[] = {1030, 3, 1030, 1};
	struct store_new_link *b = calloc(1030, sizeof(*b));
	struct link_filter f = {NULL, NULL, NULL, 0};
	char code[32], url[64], out[64], sql[128];
	size_t bad, made = 0;
	int64_t sum = 0;

	ck_assert_ptr_nonnull(b);
	use_backend(_i);
	open_store();
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		for (size_t k = 0; k < sizes[s]; k++) {
			snprintf(code, sizeof(code), "b%zu-%zu", s, k);
			snprintf(url, sizeof(url), "https://batch.example/%zu/%zu", s, k);
			make_link(&b[k].link, code, url);
			b[k].link.n_tags = 1;
			snprintf(b[k].link.tags[0], sizeof(b[k].link.tags[0]), "size-%zu", sizes[s]);
		}
		ck_assert_int_eq(store_link_create_batch(st, b, sizes[s], link_code_generate, NULL, &bad), STORE_OK);
		made += sizes[s];
		/* Ids ascend in the batch's order, and are the stored ones: their
		 * sum, and the first and last row's each. */
		for (size_t k = 0; k < sizes[s]; k++) {
			sum += b[k].link.id;
			if (k > 0)
				ck_assert_int_gt(b[k].link.id, b[k - 1].link.id);
		}
		snprintf(sql, sizeof(sql), "SELECT sum(id) FROM links WHERE code LIKE 'b%zu-%%'", s);
		ck_assert_int_eq(sql_int(sql), sum);
		sum = 0;
		for (size_t k = 0; k < sizes[s]; k += sizes[s] - 1) {
			snprintf(sql, sizeof(sql), "SELECT id FROM links WHERE code = 'b%zu-%zu'", s, k);
			ck_assert_int_eq(sql_int(sql), b[k].link.id);
			if (sizes[s] == 1)
				break;
		}
	}
	ck_assert_int_eq(link_count(), (int64_t)made);
	if (_i == SQLITE) { /* SQLite's own index tables */
		/* Each link indexed once ("bat" is in every url): the whole
		 * index is compared with the links in the smaller cases, too
		 * slow here. */
		ck_assert_int_lt(links_waiting(), 64);
		ck_assert_int_eq(search_links_with("bat") + links_waiting(), (int64_t)made);
		ck_assert_int_eq(sql_int("SELECT count(*) FROM link_tag WHERE tag = 'size-1030'"), 2060);
	}
	/* Found by code from past the first 1,024 rows of a batch. */
	f.q = "b2-1027";
	ck_assert_str_eq(find_codes(&f, 0, 10, out, sizeof(out)), "b2-1027");
	f.q = "batch.example/0/1029";
	ck_assert_str_eq(find_codes(&f, 0, 10, out, sizeof(out)), "b0-1029");
	free(b);
}
END_TEST

START_TEST(test_create_batch_reuses_an_identical_link)
{
	struct store_new_link *b = calloc(4, sizeof(*b));
	struct link_patch p;
	struct link out;
	size_t bad;

	ck_assert_ptr_nonnull(b);
	use_backend(_i);
	open_store();
	create("old", "https://r.example/");
	for (int i = 0; i < 4; i++) {
		make_link(&b[i].link, "", i < 2 ? "https://r.example/" : "https://r.example/new");
		b[i].reuse = true;
	}
	b[1].link.max_clicks = 5; /* other options: a new link */
	ck_assert_int_eq(store_link_create_batch(st, b, 4, link_code_generate, NULL, &bad), STORE_OK);
	ck_assert(b[0].reused);
	ck_assert_str_eq(b[0].link.code, "old");
	ck_assert(!b[1].reused);
	ck_assert(!b[2].reused);
	ck_assert(b[3].reused); /* the one made earlier in the batch */
	ck_assert_str_eq(b[3].link.code, b[2].link.code);
	ck_assert_int_eq(link_count(), 3);

	/* A disabled link is not reused; nor without reuse. */
	memset(&p, 0, sizeof(p));
	p.fields = PATCH_DISABLED;
	p.disabled = true;
	ck_assert_int_eq(store_link_update(st, "old", &p, 1700000100, &out), STORE_OK);
	make_link(&b[0].link, "", "https://r.example/");
	b[0].reuse = true;
	make_link(&b[1].link, "", "https://r.example/new");
	b[1].reuse = false;
	ck_assert_int_eq(store_link_create_batch(st, b, 2, link_code_generate, NULL, &bad), STORE_OK);
	ck_assert(!b[0].reused);
	ck_assert(!b[1].reused);
	ck_assert_int_eq(link_count(), 5);
	if (_i == SQLITE)
		ck_assert_int_gt(assert_search_index_exact(), 0);
	free(b);
}
END_TEST

/* The tags column as another writer may leave it: every JSON escape is
 * read; what is not an array of strings ends the tags. (The triggers refuse
 * malformed JSON; they are dropped here to write a damaged column.) */
START_TEST(test_tags_column_read_from_any_json)
{
	static const struct {
		const char *json;
		int n;
		const char *last;
	} rows[] = {
	    {"[\"a\\\"b\", \"\\\\\", \"\\/\\b\\f\\n\\r\\t\"]", 3, "/\b\f\n\r\t"},
	    {"[\"\\u00e9\\u0041\",\"\\ud83d\\ude00\",\"\\u20ac\"]", 3, "\xe2\x82\xac"},
	    {"[\"\\ud83d\"]", 1, "\xed\xa0\xbd"},
	    {"[\"ok\",5]", 1, "ok"},
	    {"[\"ok\",\"cut", 1, "ok"},
	    {"[\"ok\",\"bad\\q\"]", 1, "ok"},
	    {"[\"ok\",\"bad\\", 1, "ok"},
	    {"[\"ok\",\"\\u12\"]", 1, "ok"},
	    {"{}", 0, NULL},
	    {"[]", 0, NULL},
	};
	char sql[512];
	struct link l;

	use_backend(SQLITE);
	open_store();
	create("t", "https://t.example/");
	sql_exec("DROP TRIGGER link_tags_changed; DROP TRIGGER link_search_changed");
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *q = sqlite3_mprintf("UPDATE links SET tags = %Q WHERE code = 't'", rows[i].json);
		snprintf(sql, sizeof(sql), "%s", q);
		sqlite3_free(q);
		sql_exec(sql);
		ck_assert_int_eq(store_link_lookup(st, "t", &l), STORE_OK);
		ck_assert_msg(l.n_tags == rows[i].n, "%s: %d tags", rows[i].json, l.n_tags);
		if (rows[i].last != NULL)
			ck_assert_str_eq(l.tags[l.n_tags - 1], rows[i].last);
	}
}
END_TEST

/* The triggers keep link_tag and link_search whoever writes links,
 * INSERT OR REPLACE included. */
START_TEST(test_label_indexes_kept_by_triggers)
{
	char out[128];

	use_backend(SQLITE);
	open_store();
	create_tagged("t", "https://t.example/", "Title", "a,b");
	ck_assert_int_eq(sql_int("SELECT count(*) FROM link_tag"), 2);
	sql_exec("INSERT OR REPLACE INTO links (id, code, url, status, created_at, updated_at, tags) "
	         "SELECT id, 't', 'https://replaced.example/', 302, 1, 1, '[\"c\"]' FROM links WHERE code = 't'");
	ck_assert_int_eq(sql_int("SELECT count(*) FROM link_tag"), 1);
	ck_assert_int_gt(assert_search_index_exact(), 0);
	struct link_filter f = {NULL, "replaced", NULL, 0};
	ck_assert_str_eq(find_codes(&f, 0, 10, out, sizeof(out)), "t");
	/* An upsert that updates or keeps the row, and INSERT OR IGNORE, leave
	 * it indexed as it is; a REPLACE after them still takes the old text. */
	sql_exec("INSERT INTO links (code, url, status, created_at, updated_at) VALUES "
	         "('t', 'https://ignored.example/', 302, 1, 1) ON CONFLICT (code) DO UPDATE SET status = 301;"
	         "INSERT INTO links (code, url, status, created_at, updated_at) VALUES "
	         "('t', 'https://ignored.example/', 302, 1, 1) ON CONFLICT DO NOTHING;"
	         "INSERT OR IGNORE INTO links (code, url, status, created_at, updated_at) VALUES "
	         "('t', 'https://ignored.example/', 302, 1, 1)");
	ck_assert_int_gt(assert_search_index_exact(), 0);
	ck_assert_str_eq(find_codes(&f, 0, 10, out, sizeof(out)), "t");
	sql_exec("INSERT INTO links (code, url, status, created_at, updated_at, tags) VALUES "
	         "('t', 'https://upserted.example/', 302, 1, 1, '[\"d\"]') ON CONFLICT (code) DO UPDATE SET "
	         "url = excluded.url, tags = excluded.tags;"
	         "INSERT OR REPLACE INTO links (code, url, status, created_at, updated_at) VALUES "
	         "('t', 'https://again.example/', 302, 1, 1)");
	ck_assert_int_gt(assert_search_index_exact(), 0);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM link_tag"), 0);
	f.q = "again";
	ck_assert_str_eq(find_codes(&f, 0, 10, out, sizeof(out)), "t");
	sql_exec("PRAGMA foreign_keys = OFF; DELETE FROM links");
	ck_assert_int_eq(sql_int("SELECT count(*) FROM link_tag"), 0);
	ck_assert_int_eq(assert_search_index_exact(), 0);
}
END_TEST

/*
 * SQLite: a new link waits to be indexed for q until 64 wait, and q finds
 * the same links either way: case folded as the trigram index folds it
 * (non-ASCII letters too, for a q of 3 or more characters), with the other
 * filters, and in id order across indexed and waiting links when paged.
 */
START_TEST(test_find_same_while_waiting_and_indexed)
{
	const char *docs[] = {"docs"};
	struct link_patch p = {.fields = PATCH_TITLE};
	struct link out;
	char got[256];
	static const struct {
		const char *q, *codes;
	} finds[] = {
	    {"BR\xc3\x9bL\xc3\x89\x45", "w1"}, /* "BRÛLÉE" finds "Crème brûlée" */
	    {"cr\xc3\xa8me", "w1"},
	    {"D\xc3\x89J\xc3\x80", "w1"}, /* "DÉJÀ" finds the tag "déjà" */
	    {"STRASSE", ""},              /* folded, not transliterated */
	    {"QUARTER", "w2"},
	    {"50%_\\", "w3"},
	    {".example/", "w1,w2,w3"},
	    {"w2", "w2"}, /* under 3 characters: LIKE, link by link */
	    {"nowhere", ""},
	};
	int64_t first;

	use_backend(SQLITE);
	open_store();
	first = create_tagged("w1", "https://one.example/stra\xc3\x9f\x65", "Cr\xc3\xa8me br\xc3\xbbl\xc3\xa9\x65",
	                      "d\xc3\xa9j\xc3\xa0,vu");
	create_tagged("w2", "https://two.example/a", "", "quarterly,docs");
	create_tagged("w3", "https://three.example/", "50%_\\ off", "");
	for (int round = 0; round < 2; round++) {
		struct link_filter f = {NULL, NULL, NULL, 0};
		/* Waiting first, then indexed once 64 links are. */
		ck_assert_int_eq(links_waiting(), round == 0 ? 3 : 0);
		for (size_t i = 0; i < sizeof(finds) / sizeof(finds[0]); i++) {
			f.q = finds[i].q;
			ck_assert_msg(strcmp(find_codes(&f, 0, 10, got, sizeof(got)), finds[i].codes) == 0,
			              "round %d, q=%s: %s", round, finds[i].q, got);
		}
		/* q beside a tag and a url, which choose the rows read. */
		f.q = "TWO.ex";
		f.tags = docs;
		f.n_tags = 1;
		ck_assert_str_eq(find_codes(&f, 0, 10, got, sizeof(got)), "w2");
		f.q = "one.ex";
		ck_assert_str_eq(find_codes(&f, 0, 10, got, sizeof(got)), "");
		f.tags = NULL;
		f.n_tags = 0;
		f.url = "https://three.example/";
		f.q = "OFF";
		ck_assert_str_eq(find_codes(&f, 0, 10, got, sizeof(got)), "w3");
		if (round == 0)
			create_numbered("filler", 61, "https://filler.test/");
	}
	assert_search_index_exact();
	/* w1 indexed, a new link waiting, w2 taken out while indexed: a page
	 * of q runs across both in id order. */
	snprintf(p.title, sizeof(p.title), "Cr\xc3\xa8me caramel");
	ck_assert_int_eq(store_link_update(st, "w1", &p, 2, &out), STORE_OK);
	create_tagged("late", "https://late.example/", "BR\xc3\x9bL\xc3\x89\x45 again", "");
	ck_assert_int_eq(store_link_delete(st, "w2"), STORE_OK);
	ck_assert_int_eq(links_waiting(), 1);
	struct link_filter f = {NULL, "br\xc3\xbbl\xc3\xa9\x65", NULL, 0};
	ck_assert_str_eq(find_codes(&f, 0, 10, got, sizeof(got)), "late");
	f.q = "CARAMEL";
	ck_assert_str_eq(find_codes(&f, 0, 10, got, sizeof(got)), "w1");
	f.q = "QUARTER";
	ck_assert_str_eq(find_codes(&f, 0, 10, got, sizeof(got)), "");
	f.q = ".example/";
	ck_assert_str_eq(find_codes(&f, 0, 2, got, sizeof(got)), "w1,w3");
	ck_assert_str_eq(find_codes(&f, first + 2, 2, got, sizeof(got)), "late");
	ck_assert_str_eq(find_codes(&f, 0, 10, got, sizeof(got)), "w1,w3,late");
	/* A waiting link changed and deleted leaves the index as it was. */
	snprintf(p.title, sizeof(p.title), "Tarte tatin");
	ck_assert_int_eq(store_link_update(st, "late", &p, 3, &out), STORE_OK);
	f.q = "TATIN";
	ck_assert_str_eq(find_codes(&f, 0, 10, got, sizeof(got)), "late");
	ck_assert_int_gt(assert_search_index_exact(), 0);
	create_tagged("late2", "https://late2.example/", "Tarte tatin", "");
	ck_assert_int_eq(store_link_delete(st, "late2"), STORE_OK);
	ck_assert_str_eq(find_codes(&f, 0, 10, got, sizeof(got)), "late");
	ck_assert_int_gt(assert_search_index_exact(), 0);
}
END_TEST

/* SQLite: links written by hand wait, however many, until the store next
 * opens, which indexes them when 64 or more wait. */
START_TEST(test_links_written_by_hand_indexed_at_open)
{
	char got[64];
	struct link_filter f = {NULL, "byhand-99", NULL, 0};

	use_backend(SQLITE);
	open_store();
	close_store();
	sql_exec("WITH RECURSIVE n (i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 62) "
	         "INSERT INTO links (code, url, status, created_at, updated_at) "
	         "SELECT 'byhand-' || i, 'https://byhand.example/', 302, 1, 1 FROM n");
	open_store();
	ck_assert_int_eq(links_waiting(), 63);
	close_store();
	sql_exec("WITH RECURSIVE n (i) AS (SELECT 63 UNION ALL SELECT i + 1 FROM n WHERE i < 199) "
	         "INSERT INTO links (code, url, status, created_at, updated_at) "
	         "SELECT 'byhand-' || i, 'https://byhand.example/', 302, 1, 1 FROM n");
	ck_assert_int_eq(links_waiting(), 200);
	open_store();
	ck_assert_int_eq(links_waiting(), 0);
	ck_assert_str_eq(find_codes(&f, 0, 10, got, sizeof(got)), "byhand-99");
	ck_assert_int_gt(assert_search_index_exact(), 0);
}
END_TEST

/* SQLite: where the waiting links cannot be indexed, the create that
 * would have indexed them fails and changes nothing, and so does an open
 * that would have, naming why. */
START_TEST(test_failed_indexing_changes_nothing)
{
	struct link l;

	use_backend(SQLITE);
	open_store();
	create_numbered("wait", 63, "https://wait.example/");
	sql_exec("CREATE TRIGGER refuse_indexing BEFORE UPDATE ON link_search_indexed "
	         "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END");
	make_link(&l, "the64th", "https://wait.example/");
	ck_assert_int_eq(store_link_create(st, &l, link_code_generate, NULL), STORE_ERROR);
	ck_assert_int_eq(link_count(), 63);
	ck_assert_int_eq(links_waiting(), 63);
	close_store();
	sql_exec("INSERT INTO links (code, url, status, created_at, updated_at) "
	         "VALUES ('byhand', 'https://wait.example/', 302, 1, 1)");
	ck_assert_int_eq(store_open(path, &st, err, sizeof(err)), STORE_ERROR);
	ck_assert_ptr_null(st);
	ck_assert_msg(strstr(err, "cannot index new links for q: refused by the test") != NULL, "%s", err);
	ck_assert_int_eq(links_waiting(), 64);
	sql_exec("DROP TRIGGER refuse_indexing");
	open_store();
	ck_assert_int_eq(links_waiting(), 0);
	ck_assert_int_gt(assert_search_index_exact(), 0);
}
END_TEST

/* SQLite: a link given an id by hand is indexed at once where the id is
 * one of the indexed ones, and follows its id across that line when the
 * id changes. */
START_TEST(test_search_follows_ids_given_by_hand)
{
	char got[64];
	struct link_filter f = {NULL, "handmade", NULL, 0};

	use_backend(SQLITE);
	open_store();
	create_numbered("filler", 64, "https://filler.test/");
	ck_assert_int_eq(links_waiting(), 0);
	sql_exec("DELETE FROM links WHERE code = 'filler10';"
	         "INSERT INTO links (id, code, url, status, created_at, updated_at, title, tags) "
	         "VALUES (11, 'hand', 'https://hand.example/', 302, 1, 1, 'Handmade', '[\"handtag\"]')");
	ck_assert_int_eq(links_waiting(), 0);
	ck_assert_str_eq(find_codes(&f, 0, 10, got, sizeof(got)), "hand");
	assert_search_index_exact();
	/* Up past the indexed ids and back. Its tag is found as the index
	 * would find it, though link_tag keeps the old id (no foreign keys
	 * on this connection). */
	sql_exec("UPDATE links SET id = 1000 WHERE code = 'hand'");
	ck_assert_int_eq(links_waiting(), 1);
	ck_assert_str_eq(find_codes(&f, 0, 10, got, sizeof(got)), "hand");
	f.q = "HANDTAG";
	ck_assert_str_eq(find_codes(&f, 0, 10, got, sizeof(got)), "hand");
	f.q = "handmade";
	sql_exec("UPDATE links SET id = 11, title = 'Handmade again' WHERE code = 'hand'");
	ck_assert_int_eq(links_waiting(), 0);
	f.q = "made again";
	ck_assert_str_eq(find_codes(&f, 0, 10, got, sizeof(got)), "hand");
	ck_assert_int_gt(assert_search_index_exact(), 0);
}
END_TEST

/* ---- clicks ---- */

struct taker {
	int64_t id;
	int taken;
};

static void *take_many(void *arg)
{
	struct taker *t = arg;
	struct link l;
	bool taken;

	link_init(&l);
	l.id = t->id;
	l.max_clicks = 250;
	for (int i = 0; i < 50; i++) {
		if (store_link_take_click(st, &l, 0, &taken) == STORE_OK && taken)
			t->taken++;
	}
	return NULL;
}

/* Where several nodes share the database, a limited link's click is taken
 * on the server: 8 threads (each its own connection, as nodes are) making
 * 400 attempts on a link with max_clicks 250 take exactly 250, raising the
 * limit gives exactly the difference, clicks already written count, and a
 * link without a limit takes none. SQLite's single process says it does not
 * do this (clicks_admit() counts there). */
START_TEST(test_take_click_is_exact_across_connections)
{
	pthread_t t[8];
	struct taker tk[8];
	struct link l;
	int64_t id, total = 0;
	bool taken = true;

	use_backend(_i);
	open_store();
	make_link(&l, "lim", "https://limited.example/");
	l.max_clicks = 250;
	ck_assert_int_eq(store_link_create(st, &l, link_code_generate, NULL), STORE_OK);
	id = l.id;
	ck_assert(store_is_shared(st) == (_i == PG));
	if (_i == SQLITE) {
		ck_assert_int_eq(store_link_take_click(st, &l, 0, &taken), STORE_UNSUPPORTED);
		ck_assert(!taken);
		return;
	}
	for (int i = 0; i < 8; i++) {
		tk[i] = (struct taker){id, 0};
		ck_assert_int_eq(pthread_create(&t[i], NULL, take_many, &tk[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		total += tk[i].taken;
	}
	ck_assert_int_eq(total, 250);
	ck_assert_int_eq(store_link_take_click(st, &l, 0, &taken), STORE_OK);
	ck_assert(!taken);
	sql_exec("UPDATE links SET max_clicks = 260 WHERE code = 'lim'");
	for (int i = 0; i < 12; i++) {
		ck_assert_int_eq(store_link_take_click(st, &l, 0, &taken), STORE_OK);
		total += taken;
	}
	ck_assert_int_eq(total, 260);
	/* The clicks written count as used: 5 written, a limit of 6. */
	make_link(&l, "written", "https://written.example/");
	l.max_clicks = 6;
	ck_assert_int_eq(store_link_create(st, &l, link_code_generate, NULL), STORE_OK);
	sqlfile_set_clicks(path, "written", 5);
	ck_assert_int_eq(store_link_take_click(st, &l, 0, &taken), STORE_OK);
	ck_assert(taken);
	ck_assert_int_eq(store_link_take_click(st, &l, 0, &taken), STORE_OK);
	ck_assert(!taken);
	/* So do those this node knows of: 2 of a limit of 3. */
	make_link(&l, "known", "https://known.example/");
	l.max_clicks = 3;
	ck_assert_int_eq(store_link_create(st, &l, link_code_generate, NULL), STORE_OK);
	ck_assert_int_eq(store_link_take_click(st, &l, 2, &taken), STORE_OK);
	ck_assert(taken);
	ck_assert_int_eq(store_link_take_click(st, &l, 2, &taken), STORE_OK);
	ck_assert(!taken);
	/* A link without a limit has none to take. */
	id = create("free", "https://free.example/");
	l.id = id;
	ck_assert_int_eq(store_link_take_click(st, &l, 0, &taken), STORE_OK);
	ck_assert(!taken);
}
END_TEST

START_TEST(test_clicks_write_totals_daily_referrers)
{
	struct link got;
	struct store_daily d[8];
	struct store_referrer r[8];
	size_t n;
	int64_t a, b, gone;

	use_backend(_i);
	open_store();
	a = create("a", "https://a.example/");
	b = create("b", "https://b.example/");
	gone = create("gone", "https://gone.example/");
	ck_assert_int_eq(store_link_delete(st, "gone"), STORE_OK);

	struct click_row rows[] = {
	    {a, 19000, 1641600100, 3, 1, "news.example"},
	    {a, 19000, 1641600050, 2, 0, ""},
	    {a, 19000, 1641600000, 1, 0, NULL},
	    {a, 19001, 1641686500, 4, 2, "news.example"},
	    {a, 19001, 1641686400, 1, 0, "blog.example"},
	    {a, 19001, 1641686450, 0, 5, "bots.example"},
	    {gone, 19001, 1641686400, 9, 9, "gone.example"},
	    {b, 19001, 1641686401, 1, 0, "b.example"},
	    {999999, 19001, 1641686400, 7, 0, "ghost.example"},
	};
	ck_assert_int_eq(store_clicks_write(st, rows, sizeof(rows) / sizeof(rows[0])), STORE_OK);

	ck_assert_int_eq(store_link_lookup(st, "a", &got), STORE_OK);
	ck_assert_int_eq(got.clicks, 11);
	ck_assert_int_eq(got.bot_clicks, 8);
	ck_assert_int_eq(got.last_click_at, 1641686500);
	ck_assert_int_eq(store_link_lookup(st, "b", &got), STORE_OK);
	ck_assert_int_eq(got.clicks, 1);
	ck_assert_int_eq(got.last_click_at, 1641686401);

	ck_assert_int_eq(store_link_daily(st, a, 0, d, 8, &n), STORE_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(d[0].day, 19000);
	ck_assert_int_eq(d[0].clicks, 6);
	ck_assert_int_eq(d[0].bot_clicks, 1);
	ck_assert_int_eq(d[1].day, 19001);
	ck_assert_int_eq(d[1].clicks, 5);
	ck_assert_int_eq(d[1].bot_clicks, 7);
	ck_assert_int_eq(store_link_daily(st, a, 19001, d, 8, &n), STORE_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(d[0].day, 19001);
	ck_assert_int_eq(store_link_daily(st, a, 0, d, 1, &n), STORE_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(d[0].day, 19000);

	/* human clicks only, most first, ties by host */
	ck_assert_int_eq(store_link_referrers(st, a, 0, r, 8, &n), STORE_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(r[0].host, "news.example");
	ck_assert_int_eq(r[0].clicks, 7);
	ck_assert_str_eq(r[1].host, "blog.example");
	ck_assert_int_eq(r[1].clicks, 1);
	ck_assert_int_eq(store_link_referrers(st, a, 19001, r, 8, &n), STORE_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(r[0].clicks, 4);

	/* the deleted link's and the unknown id's rows were dropped */
	ck_assert_int_eq(sql_int("SELECT count(*) FROM clicks_daily"), 3);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM referrers_daily WHERE host IN ('gone.example', "
	                         "'ghost.example', 'bots.example')"),
	                 0);
	ck_assert_int_eq(link_count(), 2);

	/* a second batch adds to the same rows */
	struct click_row again = {a, 19000, 1641600000, 10, 0, "news.example"};
	ck_assert_int_eq(store_clicks_write(st, &again, 1), STORE_OK);
	ck_assert_int_eq(store_link_lookup(st, "a", &got), STORE_OK);
	ck_assert_int_eq(got.clicks, 21);
	ck_assert_int_eq(got.last_click_at, 1641686500);
	ck_assert_int_eq(sql_int("SELECT clicks FROM clicks_daily WHERE day = 19000"), 16);
	ck_assert_int_eq(sql_int("SELECT clicks FROM referrers_daily WHERE day = 19000 AND host = 'news.example'"), 13);
	ck_assert_int_eq(store_clicks_write(st, NULL, 0), STORE_OK);
}
END_TEST

/*
 * A damaged click_totals row (SQLite) is contained: the reads that show
 * counts refuse the links of its chunk (STORE_CORRUPT, logged), a redirect
 * of one without max_clicks still resolves, a batch of clicks writes every
 * other chunk's counts and leaves the row as it is, and a delete of one of
 * its links changes nothing. Deleting the row starts their counts again.
 */
START_TEST(test_corrupt_counts_are_contained)
{
	struct link got, l;
	int64_t ids[130];
	char code[16];

	use_backend(SQLITE);
	open_store();
	make_link(&l, "lim", "https://lim.example/");
	l.max_clicks = 5;
	ck_assert_int_eq(store_link_create(st, &l, link_code_generate, NULL), STORE_OK);
	for (int i = 0; i < 130; i++) {
		snprintf(code, sizeof(code), "k%d", i);
		ids[i] = create(code, "https://k.example/");
	}
	/* a new file: ids 1 (lim) to 127 in chunk 0, k129 in chunk 1 */
	ck_assert_int_eq(l.id, 1);
	ck_assert_int_eq(ids[129] >> 7, 1);
	struct click_row rows[] = {{ids[0], 19000, 1700000000, 1, 0, NULL}, {ids[129], 19000, 1700000000, 1, 0, NULL}};
	ck_assert_int_eq(store_clicks_write(st, rows, 2), STORE_OK);
	sql_exec("UPDATE click_totals SET data = x'ff' WHERE chunk = 0");
	ck_assert_int_eq(store_link_lookup(st, "k0", &got), STORE_CORRUPT);
	ck_assert_int_eq(store_link_resolve(st, "k1", &got), STORE_OK);
	ck_assert_str_eq(got.url, "https://k.example/");
	ck_assert_int_eq(store_link_resolve(st, "lim", &got), STORE_CORRUPT);
	ck_assert_int_eq(store_link_delete(st, "k1"), STORE_CORRUPT);
	ck_assert_int_eq(store_link_resolve(st, "k1", &got), STORE_OK);
	/* a batch over both chunks: the sound one is written */
	ck_assert_int_eq(store_clicks_write(st, rows, 2), STORE_OK);
	ck_assert_int_eq(store_link_lookup(st, "k129", &got), STORE_OK);
	ck_assert_int_eq(got.clicks, 2);
	ck_assert_int_eq(sql_int("SELECT hex(data) = 'FF' FROM click_totals WHERE chunk = 0"), 1);
	sql_exec("DELETE FROM click_totals WHERE chunk = 0");
	ck_assert_int_eq(store_link_lookup(st, "k0", &got), STORE_OK);
	ck_assert_int_eq(got.clicks, 0);
	ck_assert_int_eq(store_link_delete(st, "k1"), STORE_OK);
}
END_TEST

/* The clicks of a link deleted while they were on their way bring no
 * counts back, on either backend; a link made and clicked in one batch is
 * counted. */
START_TEST(test_clicks_of_a_deleted_link_leave_nothing)
{
	struct link got;
	int64_t gone, kept;
	struct store_daily d[2];
	size_t n;

	use_backend(_i);
	open_store();
	gone = create("gone", "https://gone.example/");
	kept = create("kept", "https://kept.example/");
	ck_assert_int_eq(store_link_delete(st, "gone"), STORE_OK);
	struct click_row rows[] = {{gone, 19000, 1700000000, 3, 1, "late.example"},
	                           {kept, 19000, 1700000000, 2, 0, "kept.example"}};
	ck_assert_int_eq(store_clicks_write(st, rows, 2), STORE_OK);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM clicks_daily"), 1);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM referrers_daily"), 1);
	ck_assert_int_eq(store_link_daily(st, gone, 0, d, 2, &n), STORE_OK);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(store_link_lookup(st, "kept", &got), STORE_OK);
	ck_assert_int_eq(got.clicks, 2);
	if (_i == SQLITE)
		ck_assert_int_eq(sql_int("SELECT count(*) FROM click_totals"), 1);
}
END_TEST

/*
 * A batch out of link order, over two chunks and two days, and links
 * clicked in several rows (a referrer each): each link's totals and days
 * exact, as if it had come in order. A click on a day out of the packed
 * rows' range (SQLite: 0 to 2^20 - 1) refuses the whole batch.
 */
START_TEST(test_clicks_write_out_of_order)
{
	struct link got;
	struct store_daily d[4];
	int64_t ids[130];
	char code[16];
	size_t n;

	use_backend(_i);
	open_store();
	for (int i = 0; i < 130; i++) {
		snprintf(code, sizeof(code), "o%d", i);
		ids[i] = create(code, "https://o.example/");
	}
	struct click_row rows[] = {
	    {ids[129], 19001, 1700090000, 2, 0, "z.example"}, {ids[0], 19001, 1700090000, 1, 1, NULL},
	    {ids[129], 19000, 1700000000, 3, 0, "a.example"}, {ids[0], 19000, 1700000000, 4, 0, "a.example"},
	    {ids[64], 19000, 1700000001, 0, 2, NULL},         {ids[129], 19000, 1700000005, 1, 0, "b.example"},
	};
	ck_assert_int_eq(store_clicks_write(st, rows, sizeof(rows) / sizeof(rows[0])), STORE_OK);
	ck_assert_int_eq(store_link_lookup(st, "o129", &got), STORE_OK);
	ck_assert_int_eq(got.clicks, 6);
	ck_assert_int_eq(got.last_click_at, 1700090000);
	ck_assert_int_eq(store_link_lookup(st, "o0", &got), STORE_OK);
	ck_assert_int_eq(got.clicks, 5);
	ck_assert_int_eq(got.bot_clicks, 1);
	ck_assert_int_eq(store_link_lookup(st, "o64", &got), STORE_OK);
	ck_assert_int_eq(got.clicks, 0);
	ck_assert_int_eq(got.bot_clicks, 2);
	ck_assert_int_eq(store_link_daily(st, ids[129], 0, d, 4, &n), STORE_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(d[0].day, 19000);
	ck_assert_int_eq(d[0].clicks, 4);
	ck_assert_int_eq(d[1].day, 19001);
	ck_assert_int_eq(d[1].clicks, 2);
	ck_assert_int_eq(store_link_daily(st, ids[0], 19001, d, 4, &n), STORE_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(d[0].bot_clicks, 1);
	ck_assert_int_eq(store_link_daily(st, ids[0], 0, d, 0, &n), STORE_OK);
	ck_assert_uint_eq(n, 0);
	if (_i != SQLITE)
		return;
	/* a row of no clicks (none the flusher sends) moves the last click only */
	struct click_row none = {ids[3], 19002, 1700100000, 0, 0, NULL};
	ck_assert_int_eq(store_clicks_write(st, &none, 1), STORE_OK);
	ck_assert_int_eq(store_link_lookup(st, "o3", &got), STORE_OK);
	ck_assert_int_eq(got.clicks, 0);
	ck_assert_int_eq(got.last_click_at, 1700100000);
	ck_assert_int_eq(store_link_daily(st, ids[3], 0, d, 4, &n), STORE_OK);
	ck_assert_uint_eq(n, 0);
	struct click_row bad[] = {{ids[1], 19000, 1700000000, 1, 0, NULL}, {ids[2], -1, 1700000000, 1, 0, NULL}};
	ck_assert_int_eq(store_clicks_write(st, bad, 2), STORE_ERROR);
	ck_assert_int_eq(store_link_lookup(st, "o1", &got), STORE_OK);
	ck_assert_int_eq(got.clicks, 0);
}
END_TEST

/* ---- tokens ---- */

struct token_list {
	int n;
	struct store_token t[8];
};

static int token_fn(const struct store_token *t, void *ctx)
{
	struct token_list *l = ctx;

	l->t[l->n++] = *t;
	return 0;
}

static int token_first_only(const struct store_token *t, void *ctx)
{
	*(struct store_token *)ctx = *t;
	return 1;
}

/* A listing's callback that answers non-zero stops it there; a read of
 * days or referring hosts gives at most max rows, the first ones. */
START_TEST(test_listings_stop_where_asked)
{
	unsigned char h[STORE_TOKEN_HASH_LEN];
	struct store_token first;
	struct store_daily d[1];
	struct store_referrer r[1];
	size_t n = 99;
	int64_t id;

	use_backend(_i);
	open_store();
	for (int i = 0; i < 3; i++) {
		char name[8];
		memset(h, 0x40 + i, sizeof(h));
		snprintf(name, sizeof(name), "t%d", i);
		ck_assert_int_eq(store_token_add(st, name, h, STORE_ROLE_READ_ONLY, 1), STORE_OK);
	}
	ck_assert_int_eq(store_token_list(st, token_first_only, &first), STORE_OK);
	ck_assert_str_eq(first.name, "t0");
	id = create("busy", "https://busy.example/");
	struct click_row rows[] = {
	    {id, 19000, 1641600000, 2, 0, "a.example"},
	    {id, 19001, 1641686400, 1, 0, "b.example"},
	};
	ck_assert_int_eq(store_clicks_write(st, rows, 2), STORE_OK);
	ck_assert_int_eq(store_link_daily(st, id, 0, d, 1, &n), STORE_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(d[0].day, 19000);
	ck_assert_int_eq(store_link_referrers(st, id, 0, r, 1, &n), STORE_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(r[0].host, "a.example");
}
END_TEST

START_TEST(test_tokens)
{
	unsigned char h1[STORE_TOKEN_HASH_LEN], h2[STORE_TOKEN_HASH_LEN], h3[STORE_TOKEN_HASH_LEN];
	struct store_token t;
	struct token_list tl = {0};
	int64_t count = -1;

	use_backend(_i);
	memset(h1, 0x11, sizeof(h1));
	memset(h2, 0x22, sizeof(h2));
	memset(h3, 0x33, sizeof(h3));
	open_store();
	ck_assert_int_eq(store_token_count(st, &count), STORE_OK);
	ck_assert_int_eq(count, 0);
	ck_assert_int_eq(store_token_add(st, "admin", h1, STORE_ROLE_ADMIN, 1700000000), STORE_OK);
	ck_assert_int_eq(store_token_add(st, "ci", h2, STORE_ROLE_READ_ONLY, 1700000001), STORE_OK);
	ck_assert_int_eq(store_token_add(st, "admin", h3, STORE_ROLE_ADMIN, 1700000002), STORE_CONFLICT);
	ck_assert_int_eq(store_token_add(st, "other", h1, STORE_ROLE_ADMIN, 1700000002), STORE_CONFLICT);
	ck_assert_int_eq(store_token_count(st, &count), STORE_OK);
	ck_assert_int_eq(count, 2);

	ck_assert_int_eq(store_token_find(st, h1, &t), STORE_OK);
	ck_assert_str_eq(t.name, "admin");
	ck_assert_int_eq(t.role, STORE_ROLE_ADMIN);
	ck_assert_int_eq(t.created_at, 1700000000);
	ck_assert_mem_eq(t.hash, h1, STORE_TOKEN_HASH_LEN);
	ck_assert_int_eq(store_token_find(st, h2, &t), STORE_OK);
	ck_assert_mem_eq(t.hash, h2, STORE_TOKEN_HASH_LEN);
	ck_assert_str_eq(t.name, "ci");
	ck_assert_int_eq(t.role, STORE_ROLE_READ_ONLY);
	ck_assert_int_eq(store_token_find(st, h3, &t), STORE_NOT_FOUND);

	ck_assert_int_eq(store_token_list(st, token_fn, &tl), STORE_OK);
	ck_assert_int_eq(tl.n, 2);
	ck_assert_str_eq(tl.t[0].name, "admin");
	ck_assert_str_eq(tl.t[1].name, "ci");

	ck_assert_int_eq(store_token_revoke(st, "ci"), STORE_OK);
	ck_assert_int_eq(store_token_revoke(st, "ci"), STORE_NOT_FOUND);
	ck_assert_int_eq(store_token_find(st, h2, &t), STORE_NOT_FOUND);
	ck_assert_int_eq(store_token_count(st, &count), STORE_OK);
	ck_assert_int_eq(count, 1);
	/* only the hash is stored */
	ck_assert_int_eq(sql_int("SELECT length(hash) FROM tokens WHERE name = 'admin'"), STORE_TOKEN_HASH_LEN);
}
END_TEST

START_TEST(test_token_ids_and_last_used_at)
{
	unsigned char h1[STORE_TOKEN_HASH_LEN], h2[STORE_TOKEN_HASH_LEN], h3[STORE_TOKEN_HASH_LEN];
	struct store_token t;
	struct token_list tl = {0};
	int64_t first, second;

	use_backend(_i);
	memset(h1, 0x11, sizeof(h1));
	memset(h2, 0x22, sizeof(h2));
	memset(h3, 0x33, sizeof(h3));
	open_store();
	ck_assert_int_eq(store_token_add(st, "a", h1, STORE_ROLE_ADMIN, 1700000000), STORE_OK);
	ck_assert_int_eq(store_token_add(st, "b", h2, STORE_ROLE_READ_ONLY, 1700000001), STORE_OK);
	ck_assert_int_eq(store_token_find(st, h1, &t), STORE_OK);
	first = t.id;
	ck_assert_int_eq(t.last_used_at, LINK_NO_TIME);
	ck_assert_int_eq(store_token_find(st, h2, &t), STORE_OK);
	second = t.id;
	ck_assert_int_gt(first, 0);
	ck_assert_int_gt(second, first);

	/* uses raise last_used_at and never lower it; a revoked token's is dropped */
	struct store_token_use uses[] = {{first, 1700000100}, {second, 1700000050}, {second + 1000, 1700000200}};
	ck_assert_int_eq(store_token_uses_write(st, uses, 3), STORE_OK);
	struct store_token_use older = {first, 1700000090};
	ck_assert_int_eq(store_token_uses_write(st, &older, 1), STORE_OK);
	ck_assert_int_eq(store_token_uses_write(st, NULL, 0), STORE_OK);
	ck_assert_int_eq(store_token_list(st, token_fn, &tl), STORE_OK);
	ck_assert_int_eq(tl.n, 2);
	ck_assert_int_eq(tl.t[0].id, first);
	ck_assert_int_eq(tl.t[0].last_used_at, 1700000100);
	ck_assert_int_eq(tl.t[1].id, second);
	ck_assert_int_eq(tl.t[1].last_used_at, 1700000050);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM tokens"), 2);

	/* an id is never given again: the last token revoked, the next is new */
	ck_assert_int_eq(store_token_revoke_id(st, second, true), STORE_OK);
	ck_assert_int_eq(store_token_revoke_id(st, second, true), STORE_NOT_FOUND);
	ck_assert_int_eq(store_token_add(st, "b", h3, STORE_ROLE_ADMIN, 1700000002), STORE_OK);
	ck_assert_int_eq(store_token_find(st, h3, &t), STORE_OK);
	ck_assert_int_gt(t.id, second);
	ck_assert_int_eq(t.last_used_at, LINK_NO_TIME);
}
END_TEST

START_TEST(test_token_revoke_keeps_the_last_admin)
{
	unsigned char h1[STORE_TOKEN_HASH_LEN], h2[STORE_TOKEN_HASH_LEN], h3[STORE_TOKEN_HASH_LEN];
	struct store_token a, b, r;

	use_backend(_i);
	memset(h1, 0x11, sizeof(h1));
	memset(h2, 0x22, sizeof(h2));
	memset(h3, 0x33, sizeof(h3));
	open_store();
	ck_assert_int_eq(store_token_add(st, "a", h1, STORE_ROLE_ADMIN, 1), STORE_OK);
	ck_assert_int_eq(store_token_add(st, "b", h2, STORE_ROLE_ADMIN, 1), STORE_OK);
	ck_assert_int_eq(store_token_add(st, "r", h3, STORE_ROLE_READ_ONLY, 1), STORE_OK);
	ck_assert_int_eq(store_token_find(st, h1, &a), STORE_OK);
	ck_assert_int_eq(store_token_find(st, h2, &b), STORE_OK);
	ck_assert_int_eq(store_token_find(st, h3, &r), STORE_OK);

	ck_assert_int_eq(store_token_revoke_id(st, a.id, true), STORE_OK);
	/* b is the last admin token: kept, and nothing else changes */
	ck_assert_int_eq(store_token_revoke_id(st, b.id, true), STORE_CONFLICT);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM tokens"), 2);
	/* read-only tokens go whatever is left */
	ck_assert_int_eq(store_token_revoke_id(st, r.id, true), STORE_OK);
	ck_assert_int_eq(store_token_revoke_id(st, b.id, true), STORE_CONFLICT);
	/* without the guard the last one goes too */
	ck_assert_int_eq(store_token_revoke_id(st, b.id, false), STORE_OK);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM tokens"), 0);
	ck_assert_int_eq(store_token_revoke_id(st, b.id, false), STORE_NOT_FOUND);
}
END_TEST

/* By name: the same guard as by id, in the same one step; a name is the
 * token that has it now, so a name given again names the new token. */
START_TEST(test_token_revoke_by_name)
{
	unsigned char h1[STORE_TOKEN_HASH_LEN], h2[STORE_TOKEN_HASH_LEN], h3[STORE_TOKEN_HASH_LEN];
	struct store_token t;

	use_backend(_i);
	memset(h1, 0x11, sizeof(h1));
	memset(h2, 0x22, sizeof(h2));
	memset(h3, 0x33, sizeof(h3));
	open_store();
	ck_assert_int_eq(store_token_add(st, "a", h1, STORE_ROLE_ADMIN, 1), STORE_OK);
	ck_assert_int_eq(store_token_add(st, "b/%x", h2, STORE_ROLE_ADMIN, 1), STORE_OK);
	ck_assert_int_eq(store_token_add(st, "r", h3, STORE_ROLE_READ_ONLY, 1), STORE_OK);

	ck_assert_int_eq(store_token_revoke_name(st, "A", true), STORE_NOT_FOUND);
	ck_assert_int_eq(store_token_revoke_name(st, "b/", true), STORE_NOT_FOUND);
	ck_assert_int_eq(store_token_revoke_name(st, "b/%x", true), STORE_OK);
	ck_assert_int_eq(store_token_revoke_name(st, "b/%x", true), STORE_NOT_FOUND);
	/* a is the last admin token: kept, and nothing else changes */
	ck_assert_int_eq(store_token_revoke_name(st, "a", true), STORE_CONFLICT);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM tokens"), 2);
	ck_assert_int_eq(store_token_revoke_name(st, "r", true), STORE_OK);
	ck_assert_int_eq(store_token_revoke_name(st, "a", true), STORE_CONFLICT);
	ck_assert_int_eq(store_token_find(st, h1, &t), STORE_OK);
	/* the name given again: the new token is the one revoked */
	ck_assert_int_eq(store_token_add(st, "r", h2, STORE_ROLE_READ_ONLY, 2), STORE_OK);
	ck_assert_int_eq(store_token_revoke_name(st, "r", true), STORE_OK);
	ck_assert_int_eq(store_token_find(st, h2, &t), STORE_NOT_FOUND);
	/* without the guard the last one goes too */
	ck_assert_int_eq(store_token_revoke_name(st, "a", false), STORE_OK);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM tokens"), 0);
	ck_assert_int_eq(store_token_revoke_name(st, "a", false), STORE_NOT_FOUND);
}
END_TEST

/* ---- full ---- */

static int page_limit_ext(sqlite3 *db, char **msg, const struct sqlite3_api_routines *api)
{
	(void)msg;
	(void)api;
	sqlite3_exec(db, "PRAGMA max_page_count = 1", NULL, NULL, NULL);
	return SQLITE_OK;
}

/* Every connection the store opens is limited to the file's current size
 * (max_page_count cannot go below it), so creates soon fail: STORE_FULL,
 * and the refused link leaves no trace while the others stay whole. */
START_TEST(test_full_database)
{
	struct link l, got;
	char code[16], url[3000];
	int made = 0, rc = STORE_OK;

	use_backend(SQLITE);
	open_store();
	close_store();
	ck_assert_int_eq(sqlite3_auto_extension((void (*)(void))page_limit_ext), SQLITE_OK);
	open_store();
	memset(url, 'u', sizeof(url) - 1);
	memcpy(url, "https://full.example/", 21);
	url[sizeof(url) - 1] = '\0';
	for (int i = 0; i < 200; i++) {
		make_link(&l, "", url);
		snprintf(l.code, sizeof(l.code), "full%03d", i);
		rc = store_link_create(st, &l, link_code_generate, NULL);
		if (rc != STORE_OK) {
			ck_assert_int_eq(l.id, 0);
			break;
		}
		made++;
	}
	ck_assert_int_eq(rc, STORE_FULL);
	snprintf(code, sizeof(code), "full%03d", made);
	ck_assert_int_eq(store_link_lookup(st, code, &got), STORE_NOT_FOUND);
	for (int i = 0; i < made; i++) {
		snprintf(code, sizeof(code), "full%03d", i);
		ck_assert_int_eq(store_link_lookup(st, code, &got), STORE_OK);
		ck_assert_str_eq(got.url, url);
	}
	close_store();
	sqlite3_reset_auto_extension();
	ck_assert_int_eq(link_count(), made);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM pragma_integrity_check WHERE integrity_check = 'ok'"), 1);
	open_store();
	make_link(&l, "after", url);
	ck_assert_int_eq(store_link_create(st, &l, link_code_generate, NULL), STORE_OK);
}
END_TEST

START_TEST(test_status_messages)
{
	for (int s = STORE_ERROR; s <= STORE_OK; s++)
		ck_assert_ptr_nonnull(store_status_message(s));
	ck_assert_str_eq(store_status_message(STORE_FULL), "database or disk is full");
	store_close(NULL);
}
END_TEST

/* ---- the redirect path's read (store_link_resolve) and its link cache ---- */

/* Checks that a resolved link answers a redirect as the stored one does. */
static void assert_same_for_redirect(const struct link *a, const struct link *b)
{
	ck_assert_int_eq(a->id, b->id);
	ck_assert_str_eq(a->code, b->code);
	ck_assert_str_eq(a->url, b->url);
	ck_assert_int_eq(a->status, b->status);
	ck_assert_int_eq(a->forward_query, b->forward_query);
	ck_assert_int_eq(a->disabled, b->disabled);
	ck_assert_int_eq(a->expires_at, b->expires_at);
	ck_assert_int_eq(a->max_clicks, b->max_clicks);
}

/* Opens the store with a 1 MB link cache and creates the link "c", then
 * resolves it and proves the next resolve comes from the cache: clicks set
 * to 99 on another connection (not a watched column) are not seen by
 * resolve, while lookup sees them. */
static void open_with_cached_link(struct link *got)
{
	struct link l;

	open_store();
	store_set_link_cache(st, 1 << 20);
	make_link(&l, "c", "https://cached.example/a?b=c");
	l.status = 307;
	l.expires_at = 1900000000;
	ck_assert_int_eq(store_link_create(st, &l, link_code_generate, NULL), STORE_OK);
	ck_assert_int_eq(store_link_resolve(st, "c", got), STORE_OK);
	ck_assert_int_eq(got->clicks, 0);
	sqlfile_set_clicks(path, "c", 99);
	ck_assert_int_eq(store_link_resolve(st, "c", got), STORE_OK);
	ck_assert_int_eq(got->clicks, 0);
	ck_assert_str_eq(got->url, "https://cached.example/a?b=c");
	ck_assert_int_eq(store_link_lookup(st, "c", &l), STORE_OK);
	ck_assert_int_eq(l.clicks, 99);
}

START_TEST(test_resolve_equals_lookup)
{
	struct link l, got, want;
	int i;

	use_backend(_i);
	open_store();
	store_set_link_cache(st, 1 << 20);
	make_link(&l, "Abc_1-z", "https://t.example/p?a=b");
	l.status = 308;
	l.forward_query = true;
	l.disabled = true;
	l.expires_at = 1800000000;
	ck_assert_int_eq(store_link_create(st, &l, link_code_generate, NULL), STORE_OK);
	create("plain", "http://p.example/");
	ck_assert_int_eq(store_link_lookup(st, "Abc_1-z", &want), STORE_OK);
	/* The first resolve reads the store, the next ones the cache. */
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(store_link_resolve(st, "Abc_1-z", &got), STORE_OK);
		assert_same_for_redirect(&got, &want);
		ck_assert_int_eq(got.clicks, 0);
		ck_assert_int_eq(store_link_resolve(st, "plain", &got), STORE_OK);
		ck_assert_str_eq(got.url, "http://p.example/");
		ck_assert_int_eq(got.status, 302);
		ck_assert(got.expires_at == LINK_NO_TIME && got.max_clicks == LINK_NO_LIMIT);
		ck_assert(!got.forward_query && !got.disabled);
	}
	/* Exact and case-sensitive, as lookup. */
	ck_assert_int_eq(store_link_resolve(st, "abc_1-z", &got), STORE_NOT_FOUND);
	ck_assert_int_eq(store_link_resolve(st, "Abc_1-", &got), STORE_NOT_FOUND);
	/* A miss is not remembered: the link made after it, by the store or
	 * by another connection, is found at once. */
	ck_assert_int_eq(store_link_resolve(st, "missing", &got), STORE_NOT_FOUND);
	ck_assert_int_eq(store_link_resolve(st, "missing", &got), STORE_NOT_FOUND);
	create("missing", "https://now.example/");
	ck_assert_int_eq(store_link_resolve(st, "missing", &got), STORE_OK);
	ck_assert_str_eq(got.url, "https://now.example/");
	ck_assert_int_eq(store_link_resolve(st, "raw", &got), STORE_NOT_FOUND);
	sql_exec("INSERT INTO links (code, url, status, created_at, updated_at) "
	         "VALUES ('raw', 'https://raw.example/', 301, 1, 1)");
	ck_assert_int_eq(store_link_resolve(st, "raw", &got), STORE_OK);
	ck_assert_str_eq(got.url, "https://raw.example/");
	ck_assert_int_eq(got.status, 301);
}
END_TEST

START_TEST(test_resolve_answers_from_cache)
{
	struct link got, l;
	int64_t epoch;

	use_backend(SQLITE);
	open_store();
	epoch = sql_int("SELECT n FROM link_epoch WHERE id = 1");
	close_store();
	open_with_cached_link(&got);
	/* Clicks are not watched: the epoch did not move. */
	ck_assert_int_eq(sql_int("SELECT n FROM link_epoch WHERE id = 1"), epoch);
	ck_assert_int_eq(store_link_resolve(st, "c", &got), STORE_OK);
	ck_assert_int_eq(got.clicks, 0);
	ck_assert_int_eq(store_link_lookup(st, "c", &l), STORE_OK);
	ck_assert_int_eq(l.clicks, 99);
	assert_same_for_redirect(&got, &l);
}
END_TEST

/* store_link_resolve() of "c" on a thread of its own, into *arg. */
static void *resolve_on_thread(void *arg)
{
	struct link *got = arg;

	if (store_link_resolve(st, "c", got) != STORE_OK)
		got->id = -1;
	return NULL;
}

/* The link cache is one for every thread: "c", cached by this thread,
 * answers another thread from the cache too (its clicks as cached, not the
 * 99 in the store), and a change seen by that thread first is seen by
 * this one. */
START_TEST(test_resolve_cache_is_shared_by_threads)
{
	struct link got, other, l;
	pthread_t t;

	use_backend(SQLITE);
	open_with_cached_link(&got);
	ck_assert_int_eq(pthread_create(&t, NULL, resolve_on_thread, &other), 0);
	pthread_join(t, NULL);
	ck_assert_int_eq(other.id, got.id);
	ck_assert_int_eq(other.clicks, 0);
	assert_same_for_redirect(&other, &got);
	sql_exec("UPDATE links SET url = 'https://moved.example/' WHERE code = 'c'");
	ck_assert_int_eq(pthread_create(&t, NULL, resolve_on_thread, &other), 0);
	pthread_join(t, NULL);
	ck_assert_str_eq(other.url, "https://moved.example/");
	ck_assert_int_eq(other.clicks, 99);
	ck_assert_int_eq(store_link_resolve(st, "c", &got), STORE_OK);
	ck_assert_str_eq(got.url, "https://moved.example/");
	ck_assert_int_eq(store_link_lookup(st, "c", &l), STORE_OK);
	assert_same_for_redirect(&got, &l);
}
END_TEST

/* Threads that resolve "c" while another changes its url (resolve_race). */
struct resolve_race {
	atomic_int done; /* the last version whose change has committed */
	atomic_bool stop;
	atomic_ulong n; /* resolves made */
	pthread_mutex_t lock;
	char why[200]; /* the first wrong answer; empty: none */
};

/* Resolves "c" until told to stop: a resolve begun after version k's
 * change committed must answer version k or a later one. */
static void *resolve_racer(void *arg)
{
	struct resolve_race *r = arg;
	struct link *got = malloc(sizeof(*got));
	unsigned long n = 0;

	while (got != NULL && !atomic_load(&r->stop)) {
		int k = atomic_load(&r->done), v = -1;
		int rc = store_link_resolve(st, "c", got);
		n++;
		if (rc != STORE_OK || sscanf(got->url, "https://v%d.example/", &v) != 1 || v < k) {
			pthread_mutex_lock(&r->lock);
			if (r->why[0] == '\0')
				snprintf(r->why, sizeof(r->why), "after version %d committed: rc %d, url %.100s", k, rc,
				         rc == STORE_OK ? got->url : "-");
			pthread_mutex_unlock(&r->lock);
			break;
		}
	}
	atomic_fetch_add(&r->n, n);
	free(got);
	return NULL;
}

/* Three threads resolve one link through the shared cache while this one
 * changes its url 200 times: none is ever answered a version older than
 * the last change committed before its resolve began. */
START_TEST(test_resolve_races_changes)
{
	struct resolve_race r = {0};
	pthread_t t[3];
	struct link_patch p;
	struct link out;

	use_backend(SQLITE);
	open_store();
	ck_assert_int_eq(store_set_link_cache(st, 1 << 20), STORE_OK);
	create("c", "https://v0.example/");
	pthread_mutex_init(&r.lock, NULL);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, resolve_racer, &r), 0);
	memset(&p, 0, sizeof(p));
	p.fields = PATCH_URL;
	for (int k = 1; k <= 200; k++) {
		snprintf(p.url, sizeof(p.url), "https://v%d.example/", k);
		ck_assert_int_eq(store_link_update(st, "c", &p, 1700000000 + k, &out), STORE_OK);
		atomic_store(&r.done, k);
		pause_ms(1);
	}
	atomic_store(&r.stop, true);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	pthread_mutex_destroy(&r.lock);
	ck_assert_msg(r.why[0] == '\0', "%s", r.why);
	ck_assert_uint_gt(atomic_load(&r.n), 600);
}
END_TEST

/* The links' epoch set back by hand (as a restored copy could have it):
 * the cache is emptied and answers again at the new epoch, neither stale
 * nor left unused. */
START_TEST(test_resolve_after_the_epoch_went_back)
{
	struct link got;

	use_backend(SQLITE);
	open_with_cached_link(&got);
	sql_exec("UPDATE link_epoch SET n = n - 3 WHERE id = 1");
	ck_assert_int_eq(store_link_resolve(st, "c", &got), STORE_OK);
	ck_assert_int_eq(got.clicks, 99); /* read again from the store */
	sqlfile_set_clicks(path, "c", 7);
	ck_assert_int_eq(store_link_resolve(st, "c", &got), STORE_OK);
	ck_assert_int_eq(got.clicks, 0); /* and cached again: the cache keeps no count */
	sql_exec("UPDATE links SET url = 'https://after.example/' WHERE code = 'c'");
	ck_assert_int_eq(store_link_resolve(st, "c", &got), STORE_OK);
	ck_assert_str_eq(got.url, "https://after.example/");
	ck_assert_int_eq(got.clicks, 7);
}
END_TEST

/* A cache the store cannot have (over link_cache.h's most) is an error,
 * and redirects then read the store. */
START_TEST(test_resolve_without_the_cache_asked_for)
{
	struct link got;

	use_backend(SQLITE);
	open_store();
	ck_assert_int_eq(store_set_link_cache(st, LINK_CACHE_MAX_BYTES + 1), STORE_ERROR);
	create("c", "https://c.example/");
	ck_assert_int_eq(store_link_resolve(st, "c", &got), STORE_OK);
	ck_assert_str_eq(got.url, "https://c.example/");
	sqlfile_set_clicks(path, "c", 5);
	ck_assert_int_eq(store_link_resolve(st, "c", &got), STORE_OK);
	ck_assert_int_eq(got.clicks, 5);
}
END_TEST

/* True when a and b answer a redirect alike. */
static bool same_for_redirect(const struct link *a, const struct link *b)
{
	return a->id == b->id && strcmp(a->code, b->code) == 0 && strcmp(a->url, b->url) == 0 &&
	       a->status == b->status && a->forward_query == b->forward_query && a->disabled == b->disabled &&
	       a->expires_at == b->expires_at && a->max_clicks == b->max_clicks;
}

/* store_link_resolve() of code after a change made on another connection:
 * the very next one where the backend sees such changes at once, the first
 * that agrees with the store within 1 s where they are announced. */
static int resolve_after_external_change(const char *code, struct link *got)
{
	int64_t deadline = now_ms() + 1000;
	struct link want;
	int rc, want_rc;

	for (;;) {
		rc = store_link_resolve(st, code, got);
		if (!be->announced)
			return rc;
		want_rc = store_link_lookup(st, code, &want);
		if ((rc == want_rc && (rc != STORE_OK || same_for_redirect(got, &want))) || now_ms() > deadline)
			return rc;
		pause_ms(2);
	}
}

/* A change to one watched column by another connection, and what the very
 * next resolve of "c" must answer (within 1 s where changes are announced). */
static const struct external_change {
	const char *sql;
	int rc;
	const char *url;
	int status;
	bool forward_query;
	bool disabled;
	int64_t expires_at;
	int64_t max_clicks;
} external_changes[] = {
    {"UPDATE links SET url = 'https://changed.example/' WHERE code = 'c'", STORE_OK, "https://changed.example/", 307,
     false, false, 1900000000, LINK_NO_LIMIT},
    {"UPDATE links SET status = 301 WHERE code = 'c'", STORE_OK, NULL, 301, false, false, 1900000000, LINK_NO_LIMIT},
    {"UPDATE links SET forward_query = 1 WHERE code = 'c'", STORE_OK, NULL, 307, true, false, 1900000000,
     LINK_NO_LIMIT},
    {"UPDATE links SET disabled = 1 WHERE code = 'c'", STORE_OK, NULL, 307, false, true, 1900000000, LINK_NO_LIMIT},
    {"UPDATE links SET expires_at = 1700000500 WHERE code = 'c'", STORE_OK, NULL, 307, false, false, 1700000500,
     LINK_NO_LIMIT},
    {"UPDATE links SET expires_at = NULL WHERE code = 'c'", STORE_OK, NULL, 307, false, false, LINK_NO_TIME,
     LINK_NO_LIMIT},
    {"UPDATE links SET max_clicks = 100 WHERE code = 'c'", STORE_OK, NULL, 307, false, false, 1900000000, 100},
    {"UPDATE links SET code = 'renamed' WHERE code = 'c'", STORE_NOT_FOUND, NULL, 0, false, false, 0, 0},
    {"DELETE FROM links WHERE code = 'c'", STORE_NOT_FOUND, NULL, 0, false, false, 0, 0},
};

START_TEST(test_resolve_sees_external_change)
{
	const struct external_change *ch = &external_changes[_i / N_BACKENDS];
	struct link got, l;

	use_backend(_i % N_BACKENDS);
	open_with_cached_link(&got);
	sql_exec(ch->sql);
	ck_assert_int_eq(resolve_after_external_change("c", &got), ch->rc);
	ck_assert_int_eq(store_link_lookup(st, "c", &l), ch->rc);
	if (ch->rc != STORE_OK) {
		ck_assert_int_eq(store_link_resolve(st, "c", &got), STORE_NOT_FOUND);
		if (strstr(ch->sql, "renamed") != NULL) {
			ck_assert_int_eq(store_link_resolve(st, "renamed", &got), STORE_OK);
			ck_assert_str_eq(got.url, "https://cached.example/a?b=c");
			ck_assert_int_eq(got.clicks, 99);
		}
		return;
	}
	assert_same_for_redirect(&got, &l);
	ck_assert_str_eq(got.url, ch->url != NULL ? ch->url : "https://cached.example/a?b=c");
	ck_assert_int_eq(got.status, ch->status);
	ck_assert_int_eq(got.forward_query, ch->forward_query);
	ck_assert_int_eq(got.disabled, ch->disabled);
	ck_assert_int_eq(got.expires_at, ch->expires_at);
	ck_assert_int_eq(got.max_clicks, ch->max_clicks);
	/* The store was read again: the clicks written before are there. */
	ck_assert_int_eq(got.clicks, 99);
	/* And the answer stays right from the cache afterwards. */
	ck_assert_int_eq(store_link_resolve(st, "c", &l), STORE_OK);
	assert_same_for_redirect(&l, &got);
}
END_TEST

/* A link replaced whole by another connection: a new row under the same
 * code (REPLACE deletes the old one) or an upsert that updates it. */
static const char *const external_replaces[] = {
    "INSERT OR REPLACE INTO links (code, url, status, created_at, updated_at) "
    "VALUES ('c', 'https://replaced.example/', 302, 1, 1)",
    "REPLACE INTO links (code, url, status, created_at, updated_at) "
    "VALUES ('c', 'https://replaced.example/', 302, 1, 1)",
    "INSERT INTO links (code, url, status, created_at, updated_at) "
    "VALUES ('c', 'https://replaced.example/', 302, 1, 1) "
    "ON CONFLICT (code) DO UPDATE SET url = excluded.url, status = excluded.status",
};

START_TEST(test_resolve_sees_external_replace)
{
	struct link got, l;

	use_backend(SQLITE);
	open_with_cached_link(&got);
	sql_exec(external_replaces[_i]);
	ck_assert_int_eq(store_link_lookup(st, "c", &l), STORE_OK);
	ck_assert_str_eq(l.url, "https://replaced.example/");
	ck_assert_int_eq(l.status, 302);
	ck_assert_int_eq(store_link_resolve(st, "c", &got), STORE_OK);
	assert_same_for_redirect(&got, &l);
	ck_assert_int_eq(got.clicks, l.clicks);
}
END_TEST

START_TEST(test_resolve_sees_api_update_and_delete)
{
	struct link_patch p;
	struct link got, out;

	use_backend(_i);
	open_with_cached_link(&got);
	memset(&p, 0, sizeof(p));
	p.fields = PATCH_URL | PATCH_DISABLED;
	snprintf(p.url, sizeof(p.url), "https://patched.example/");
	p.disabled = true;
	ck_assert_int_eq(store_link_update(st, "c", &p, 1700000100, &out), STORE_OK);
	ck_assert_int_eq(store_link_resolve(st, "c", &got), STORE_OK);
	ck_assert_str_eq(got.url, "https://patched.example/");
	ck_assert(got.disabled);
	ck_assert_int_eq(got.status, 307);
	ck_assert_int_eq(got.clicks, 99);
	/* Cached again, then a status-only patch. */
	ck_assert_int_eq(store_link_resolve(st, "c", &got), STORE_OK);
	p.fields = PATCH_STATUS;
	p.status = 303;
	ck_assert_int_eq(store_link_update(st, "c", &p, 1700000200, &out), STORE_OK);
	ck_assert_int_eq(store_link_resolve(st, "c", &got), STORE_OK);
	ck_assert_int_eq(got.status, 303);
	ck_assert_str_eq(got.url, "https://patched.example/");
	ck_assert_int_eq(store_link_resolve(st, "c", &got), STORE_OK);
	ck_assert_int_eq(store_link_delete(st, "c"), STORE_OK);
	ck_assert_int_eq(store_link_resolve(st, "c", &got), STORE_NOT_FOUND);
	/* A new link under the same code is a new id, never the old record. */
	create("c", "https://reborn.example/");
	ck_assert_int_eq(store_link_resolve(st, "c", &got), STORE_OK);
	ck_assert_str_eq(got.url, "https://reborn.example/");
	ck_assert_int_gt(got.id, out.id);
}
END_TEST

START_TEST(test_resolve_never_caches_max_clicks)
{
	struct link l, got;
	int i;

	use_backend(_i);
	open_store();
	store_set_link_cache(st, 1 << 20);
	make_link(&l, "lim", "https://limited.example/");
	l.max_clicks = 10;
	ck_assert_int_eq(store_link_create(st, &l, link_code_generate, NULL), STORE_OK);
	for (i = 1; i <= 3; i++) {
		ck_assert_int_eq(store_link_resolve(st, "lim", &got), STORE_OK);
		ck_assert_int_eq(got.max_clicks, 10);
		sqlfile_set_clicks(path, "lim", i);
		ck_assert_int_eq(store_link_resolve(st, "lim", &got), STORE_OK);
		ck_assert_int_eq(got.clicks, i);
	}
	/* Nor through the click flusher's own write. */
	struct click_row row = {l.id, 19700, 1702080000, 4, 0, NULL};
	ck_assert_int_eq(store_clicks_write(st, &row, 1), STORE_OK);
	ck_assert_int_eq(store_link_resolve(st, "lim", &got), STORE_OK);
	ck_assert_int_eq(got.clicks, 7);
}
END_TEST

START_TEST(test_resolve_without_cache_reads_store)
{
	struct link got, l;

	use_backend(_i);
	open_store();
	store_set_link_cache(st, 0);
	create("c", "https://nocache.example/");
	ck_assert_int_eq(store_link_resolve(st, "c", &got), STORE_OK);
	ck_assert_int_eq(got.clicks, 0);
	sqlfile_set_clicks(path, "c", 99);
	ck_assert_int_eq(store_link_resolve(st, "c", &got), STORE_OK);
	ck_assert_int_eq(store_link_lookup(st, "c", &l), STORE_OK);
	ck_assert_int_eq(got.clicks, 99);
	ck_assert_int_eq(l.clicks, 99);
	assert_same_for_redirect(&got, &l);
	/* All the stored fields, as lookup: nothing is left absent. */
	ck_assert_int_eq(got.created_at, l.created_at);
	ck_assert_int_eq(got.updated_at, l.updated_at);
	ck_assert_int_eq(store_link_resolve(st, "nope", &got), STORE_NOT_FOUND);
}
END_TEST

/* What moves link_epoch.n: every watched column and a delete, by one each;
 * not the columns the click flusher writes, nor an insert. */
START_TEST(test_link_epoch_triggers)
{
	use_backend(SQLITE);
	static const struct {
		const char *sql;
		int moves;
	} rows[] = {
	    {"UPDATE click_totals SET data = data", 0},
	    {"DELETE FROM click_totals", 0},
	    {"UPDATE click_days SET data = data", 0},
	    {"DELETE FROM click_days", 0},
	    {"INSERT INTO links (code, url, status, created_at, updated_at) VALUES ('f', 'https://f/', 302, 1, 1)", 0},
	    {"UPDATE links SET url = 'https://u.example/' WHERE code = 'e'", 1},
	    {"UPDATE links SET status = 301 WHERE code = 'e'", 1},
	    {"UPDATE links SET forward_query = 1 WHERE code = 'e'", 1},
	    {"UPDATE links SET disabled = 1 WHERE code = 'e'", 1},
	    {"UPDATE links SET expires_at = 5 WHERE code = 'e'", 1},
	    {"UPDATE links SET max_clicks = 5 WHERE code = 'e'", 1},
	    {"UPDATE links SET code = 'e2' WHERE code = 'e'", 1},
	    {"DELETE FROM links WHERE code = 'e2'", 1},
	    {"DELETE FROM links WHERE code = 'absent'", 0},
	};
	int64_t n, id;
	size_t i;

	open_store();
	ck_assert_int_eq(sql_int("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'link_epoch'"), 1);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM link_epoch"), 1);
	ck_assert_int_eq(sql_int("SELECT n FROM link_epoch WHERE id = 1"), 0);
	id = create("e", "https://e.example/");
	ck_assert_int_eq(sql_int("SELECT n FROM link_epoch WHERE id = 1"), 0);
	/* The click flusher's own write. */
	struct click_row row = {id, 19700, 1702080000, 4, 2, "r.example"};
	ck_assert_int_eq(store_clicks_write(st, &row, 1), STORE_OK);
	ck_assert_int_eq(sql_int("SELECT clicks FROM links WHERE code = 'e'"), 4);
	ck_assert_int_eq(sql_int("SELECT n FROM link_epoch WHERE id = 1"), 0);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		n = sql_int("SELECT n FROM link_epoch WHERE id = 1");
		sql_exec(rows[i].sql);
		ck_assert_msg(sql_int("SELECT n FROM link_epoch WHERE id = 1") == n + rows[i].moves, "%s", rows[i].sql);
	}
	ck_assert_int_eq(sql_int("SELECT count(*) FROM link_epoch"), 1);
}
END_TEST

/* ---- the files ---- */

START_TEST(test_open_existing_refuses_a_missing_or_empty_file_and_creates_nothing)
{
	char wal[320], want[400];
	int fd;

	use_backend(SQLITE);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	snprintf(want, sizeof(want), "no database at %s", path);
	ck_assert_int_eq(store_open_existing(path, &st, err, sizeof(err)), STORE_NOT_FOUND);
	ck_assert_ptr_null(st);
	ck_assert_msg(strstr(err, want) != NULL, "message: %s", err);
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_int_eq(access(wal, F_OK), -1);

	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(store_open_existing(path, &st, err, sizeof(err)), STORE_NOT_FOUND);
	ck_assert_msg(strstr(err, "the file is empty") != NULL, "message: %s", err);
	ck_assert_int_eq(access(wal, F_OK), -1);

	/* store_open makes it a database; then it opens as one. */
	open_store();
	ck_assert_int_eq(store_schema_version_found(st), 0);
	close_store();
	ck_assert_int_eq(store_open_existing(path, &st, err, sizeof(err)), STORE_OK);
	ck_assert_int_eq(store_schema_version_found(st), latest_version());
}
END_TEST

START_TEST(test_open_refuses_to_create_beside_a_wal_with_data)
{
	char wal[320];
	struct stat sb;
	FILE *f;

	use_backend(SQLITE);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	f = fopen(wal, "w");
	ck_assert_ptr_nonnull(f);
	fputs("frames", f);
	fclose(f);
	ck_assert_int_eq(store_open(path, &st, err, sizeof(err)), STORE_ERROR);
	ck_assert_msg(strstr(err, wal) != NULL, "message: %s", err);
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_int_eq(stat(wal, &sb), 0);
	ck_assert_int_eq(sb.st_size, 6);
	ck_assert_int_eq(unlink(wal), 0);
}
END_TEST

/* The store's writer copies the -wal back into the file only after 8,000
 * pages, not SQLite's 1,000: 24 click batches that rewrite the same
 * pages, about 3,000 in all, leave a -wal of more than 2,000 (SQLite's
 * default would have started it again after 1,000), and a clean close
 * still empties it. */
START_TEST(test_wal_is_copied_back_after_8000_pages)
{
	enum { DAYS = 4000, BATCHES = 24 };
	struct click_row *rows = calloc(DAYS, sizeof(*rows));
	char wal[320], host[91];
	struct stat sb;
	int64_t id;

	ck_assert_ptr_nonnull(rows);
	use_backend(SQLITE);
	open_store();
	id = create("busy", "https://busy.example/");
	/* A long referrer host makes each batch rewrite about 125 pages. */
	memset(host, 'r', sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	for (int d = 0; d < DAYS; d++)
		rows[d] = (struct click_row){id, 10000 + d, 1700000000, 1, 0, host};
	for (int b = 0; b < BATCHES; b++) {
		int rc = store_clicks_write(st, rows, DAYS);
		if (rc != STORE_OK)
			free(rows);
		ck_assert_int_eq(rc, STORE_OK);
	}
	free(rows);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	ck_assert_int_eq(stat(wal, &sb), 0);
	ck_assert_msg(sb.st_size > 2000 * 4096, "-wal of %lld bytes", (long long)sb.st_size);
	close_store();
	ck_assert_msg(stat(wal, &sb) != 0 || sb.st_size == 0, "-wal left with %lld bytes", (long long)sb.st_size);
	ck_assert_int_eq(sql_int("SELECT sum(clicks) FROM clicks_daily"), (int64_t)DAYS * BATCHES);
	ck_assert_int_eq(sql_int("SELECT sum(clicks) FROM referrers_daily"), (int64_t)DAYS * BATCHES);
}
END_TEST

static void *lookup_on_a_new_thread(void *arg)
{
	struct link l;

	*(int *)arg = store_link_lookup(st, "kept", &l);
	return NULL;
}

START_TEST(test_moved_file_refuses_writes_and_is_read_where_it_went)
{
	unsigned char hash[STORE_TOKEN_HASH_LEN] = {1};
	struct click_row row = {0, 20000, 1700000000, 1, 0, NULL};
	char moved[320];
	struct link l;
	pthread_t t;
	int rc;

	use_backend(SQLITE);
	snprintf(moved, sizeof(moved), "%s.moved", path);
	open_store();
	row.link_id = create("kept", "https://kept.example/");
	ck_assert_int_eq(store_link_lookup(st, "kept", &l), STORE_OK);
	ck_assert_int_eq(store_check(st), STORE_OK);

	ck_assert_int_eq(rename(path, moved), 0);
	ck_assert_int_eq(store_check(st), STORE_GONE);
	ck_assert_int_eq(store_ping(st), STORE_GONE);
	make_link(&l, "new", "https://new.example/");
	ck_assert_int_eq(store_link_create(st, &l, link_code_generate, NULL), STORE_GONE);
	ck_assert_int_eq(store_link_delete(st, "kept"), STORE_GONE);
	ck_assert_int_eq(store_token_add(st, "t", hash, STORE_ROLE_ADMIN, 1), STORE_GONE);
	ck_assert_int_eq(store_token_revoke_id(st, 1, true), STORE_GONE);
	ck_assert_int_eq(store_token_revoke_name(st, "t", true), STORE_GONE);
	ck_assert_int_eq(store_token_uses_write(st, &(struct store_token_use){1, 2}, 1), STORE_GONE);
	ck_assert_int_eq(store_clicks_write(st, &row, 1), STORE_GONE);
	/* This thread's connection reads on; a new one is not opened by name. */
	ck_assert_int_eq(store_link_lookup(st, "kept", &l), STORE_OK);
	ck_assert_int_eq(pthread_create(&t, NULL, lookup_on_a_new_thread, &rc), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(rc, STORE_ERROR);
	ck_assert_int_eq(access(path, F_OK), -1);

	/* Back at its path: writes resume. */
	ck_assert_int_eq(rename(moved, path), 0);
	ck_assert_int_eq(store_check(st), STORE_OK);
	ck_assert_int_eq(store_clicks_write(st, &row, 1), STORE_OK);
	create("after", "https://after.example/");

	/* Moved again and closed: everything is in the moved file. */
	ck_assert_int_eq(rename(path, moved), 0);
	close_store();
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_int_eq(rename(moved, path), 0);
	ck_assert_int_eq(link_count(), 2);
	ck_assert_int_eq(sql_int("SELECT clicks FROM links WHERE code = 'kept'"), 1);
}
END_TEST

/* ---- what is particular to PostgreSQL ---- */

static int pg_latest_version(void)
{
	return postgres_migrations[postgres_migrations_count - 1].version;
}

/* The same numbers as SQLite's: a schema version means the same tables on
 * both, so a database copied from one to the other keeps its version. */
START_TEST(test_pg_migrations_are_numbered_as_sqlite)
{
	ck_assert_int_eq(postgres_migrations_count, sqlite_migrations_count);
	for (int i = 0; i < postgres_migrations_count; i++) {
		ck_assert_int_eq(postgres_migrations[i].version, i + 1);
		ck_assert_str_eq(postgres_migrations[i].name, sqlite_migrations[i].name);
		ck_assert_ptr_nonnull(postgres_migrations[i].sql);
	}
}
END_TEST

/* An empty database is no shortd database for the commands that need one
 * (nothing is made in it); serve and init make the schema, at the latest
 * version, and a second open finds it so. */
START_TEST(test_pg_open_makes_the_schema_only_when_asked)
{
	use_backend(PG);
	ck_assert_int_eq(store_open_existing(path, &st, err, sizeof(err)), STORE_NOT_FOUND);
	ck_assert_ptr_null(st);
	ck_assert_msg(strstr(err, "no database at") != NULL && strstr(err, "shortd init") != NULL, "%s", err);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"), 0);
	open_store();
	ck_assert_int_eq(store_schema_version(st), pg_latest_version());
	ck_assert_int_eq(store_schema_version_found(st), 0);
	ck_assert_int_eq(store_ping(st), STORE_OK);
	ck_assert_int_eq(sql_int("SELECT version FROM shortd_schema"), pg_latest_version());
	ck_assert_int_eq(sql_int("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename IN "
	                         "('links', 'tokens', 'clicks_daily', 'referrers_daily')"),
	                 4);
	close_store();
	ck_assert_int_eq(store_open_existing(path, &st, err, sizeof(err)), STORE_OK);
	ck_assert_int_eq(store_schema_version_found(st), pg_latest_version());
}
END_TEST

START_TEST(test_pg_newer_database_refused)
{
	char sql[128];

	use_backend(PG);
	open_store();
	create("kept", "https://kept.example/");
	close_store();
	snprintf(sql, sizeof(sql), "UPDATE shortd_schema SET version = %d", pg_latest_version() + 1);
	sql_exec(sql);
	st = (struct store *)&st;
	ck_assert_int_eq(store_open(path, &st, err, sizeof(err)), STORE_TOO_NEW);
	ck_assert_ptr_null(st);
	ck_assert_msg(strstr(err, "newer than this shortd supports") != NULL, "%s", err);
	ck_assert_int_eq(sql_int("SELECT version FROM shortd_schema"), pg_latest_version() + 1);
	ck_assert_int_eq(link_count(), 1);
}
END_TEST

/* A database at an older version (the first three migrations, as an older
 * shortd left it) gets the ones it lacks, in order, and keeps its links. */
START_TEST(test_pg_older_database_gets_the_migrations_it_lacks)
{
	char sql[128];

	use_backend(PG);
	sql_exec("CREATE TABLE shortd_schema (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL); "
	         "INSERT INTO shortd_schema VALUES (1, 3)");
	for (int i = 0; i < 3; i++)
		sql_exec(postgres_migrations[i].sql);
	sql_exec("INSERT INTO links (code, url, status, forward_query, disabled, created_at, updated_at) "
	         "VALUES ('old', 'https://old.example/', 302, 0, 0, 1700000000, 1700000000)");
	open_store();
	ck_assert_int_eq(store_schema_version_found(st), 3);
	ck_assert_int_eq(store_schema_version(st), pg_latest_version());
	snprintf(sql, sizeof(sql), "SELECT version FROM shortd_schema");
	ck_assert_int_eq(sql_int(sql), pg_latest_version());
	ck_assert_str_eq(find_codes(&(struct link_filter){NULL, "old.example", NULL, 0}, 0, 10, sql, sizeof(sql)),
	                 "old");
}
END_TEST

/* A migration that fails (a table of its name is there already) stops the
 * open with its name; the ones before it stay applied and counted, and
 * nothing of it is left behind. */
START_TEST(test_pg_failing_migration_is_named_and_rolled_back)
{
	use_backend(PG);
	sql_exec("CREATE TABLE tokens (x INTEGER)");
	st = (struct store *)&st;
	ck_assert_int_ne(store_open(path, &st, err, sizeof(err)), STORE_OK);
	ck_assert_ptr_null(st);
	ck_assert_msg(strstr(err, "migration 002_tokens failed") != NULL, "%s", err);
	ck_assert_int_eq(sql_int("SELECT version FROM shortd_schema"), 1);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename = 'links'"),
	                 1);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM information_schema.columns WHERE table_name = 'tokens'"), 1);
}
END_TEST

/* A schema table without its row is no version at all: refused as corrupt. */
START_TEST(test_pg_schema_table_without_its_row_is_refused)
{
	use_backend(PG);
	sql_exec("CREATE TABLE shortd_schema (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)");
	st = (struct store *)&st;
	ck_assert_int_eq(store_open(path, &st, err, sizeof(err)), STORE_CORRUPT);
	ck_assert_ptr_null(st);
	ck_assert_msg(strstr(err, "cannot read the schema version") != NULL, "%s", err);
}
END_TEST

struct opener {
	int rc;
	int found;
	char err[256];
};

static void *open_at_once(void *arg)
{
	struct opener *o = arg;
	struct store *s = NULL;

	o->rc = store_open(path, &s, o->err, sizeof(o->err));
	o->found = s != NULL ? store_schema_version_found(s) : -1;
	store_close(s);
	return NULL;
}

/* Three nodes opening an empty database at the same moment: the migrations
 * run once, under the advisory lock, and every node starts. */
START_TEST(test_pg_concurrent_first_open_migrates_once)
{
	pthread_t t[3];
	struct opener o[3];
	int fresh = 0;

	use_backend(PG);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, open_at_once, &o[i]), 0);
	for (int i = 0; i < 3; i++) {
		pthread_join(t[i], NULL);
		ck_assert_msg(o[i].rc == STORE_OK, "node %d: %s", i, o[i].err);
		ck_assert(o[i].found == 0 || o[i].found == pg_latest_version());
		fresh += o[i].found == 0;
	}
	ck_assert_int_eq(fresh, 1);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM shortd_schema"), 1);
	ck_assert_int_eq(sql_int("SELECT version FROM shortd_schema"), pg_latest_version());
}
END_TEST

/* A URL's password, in its userinfo or as a parameter, is written neither
 * to the error nor to the log, whatever the failure: no server there, no
 * such database. The rest of the URL is kept, to say which is meant. */
START_TEST(test_pg_password_is_never_repeated)
{
	char url[3][512], log[4096];
	int saved = dup(STDERR_FILENO), fd;
	ssize_t n;

	use_backend(PG);
	snprintf(url[0], sizeof(url[0]), "postgres://shortd:pw-secret-1@127.0.0.1:1/x?connect_timeout=2");
	snprintf(url[1], sizeof(url[1]), "postgresql://127.0.0.1:1/x?password=pw-secret-2&user=shortd");
	snprintf(url[2], sizeof(url[2]), "postgresql://shortd:pw-secret-3@/nosuchdb?host=%s&password=pw-secret-4",
	         pg_cluster_dir());
	for (int i = 0; i < 3; i++) {
		fd = open("/tmp", O_TMPFILE | O_RDWR, 0600);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_ge(dup2(fd, STDERR_FILENO), 0);
		st = (struct store *)&st;
		err[0] = '\0';
		ck_assert_int_eq(store_open(url[i], &st, err, sizeof(err)), i == 2 ? STORE_NOT_FOUND : STORE_ERROR);
		ck_assert_ptr_null(st);
		fflush(stderr);
		dup2(saved, STDERR_FILENO);
		n = pread(fd, log, sizeof(log) - 1, 0);
		close(fd);
		log[n > 0 ? n : 0] = '\0';
		ck_assert_msg(strstr(err, "pw-secret") == NULL, "%s", err);
		ck_assert_msg(strstr(log, "pw-secret") == NULL, "%s", log);
		ck_assert_msg(strstr(err, i == 2 ? "/nosuchdb" : "127.0.0.1:1/x") != NULL, "%s", err);
	}
	close(saved);
}
END_TEST

/* True once resolve answers code from the cache with the server away,
 * within 2 s (the listener learns that the server went). */
static bool resolves_while_away(const char *code, struct link *got)
{
	int64_t deadline = now_ms() + 2000;

	while (store_link_resolve(st, code, got) != STORE_OK) {
		if (now_ms() > deadline)
			return false;
		pause_ms(10);
	}
	return true;
}

/*
 * The server stopped under an open store, then started again: a cached
 * link keeps answering and an uncached one is a prompt error, writes fail
 * at once and change nothing, and once the server is back every thread's
 * connection is made again (reads, writes, changes heard) without reopening.
 */
START_TEST(test_pg_server_restart_is_survived)
{
	struct link l, got;
	struct link_patch p = {.fields = PATCH_URL, .url = "https://after.example/"};
	int64_t t0;

	use_backend(PG);
	open_with_cached_link(&got);
	create("uncached", "https://uncached.example/");
	pg_cluster_down();
	ck_assert(resolves_while_away("c", &got));
	ck_assert_str_eq(got.url, "https://cached.example/a?b=c");
	t0 = now_ms();
	ck_assert_int_eq(store_link_resolve(st, "uncached", &got), STORE_ERROR);
	ck_assert_int_eq(store_link_lookup(st, "c", &l), STORE_ERROR);
	make_link(&l, "new", "https://new.example/");
	ck_assert_int_eq(store_link_create(st, &l, link_code_generate, NULL), STORE_ERROR);
	ck_assert_int_eq(store_link_update(st, "c", &p, 1700000100, &got), STORE_ERROR);
	ck_assert_int_eq(store_ping(st), STORE_ERROR);
	ck_assert_msg(now_ms() - t0 < 1000, "the errors took %lld ms", (long long)(now_ms() - t0));
	pg_cluster_up();
	/* A thread tries to connect again at most once a second. */
	pause_ms(1100);
	ck_assert_int_eq(store_ping(st), STORE_OK);
	ck_assert_int_eq(store_link_lookup(st, "uncached", &l), STORE_OK);
	make_link(&l, "new", "https://new.example/");
	ck_assert_int_eq(store_link_create(st, &l, link_code_generate, NULL), STORE_OK);
	ck_assert_int_eq(link_count(), 3);
	/* The listener listens again: a change behind the store's back is
	 * heard, and the cache answers again. */
	sql_exec("UPDATE links SET url = 'https://changed.example/' WHERE code = 'c'");
	ck_assert_int_eq(resolve_after_external_change("c", &got), STORE_OK);
	ck_assert_str_eq(got.url, "https://changed.example/");
}
END_TEST

/* Every operation with the server away answers an error at once and
 * writes nothing; each one works again once it is back. */
START_TEST(test_pg_every_operation_fails_cleanly_while_the_server_is_away)
{
	unsigned char h[STORE_TOKEN_HASH_LEN];
	struct link_patch p = {.fields = PATCH_STATUS, .status = 301};
	struct link l, got;
	struct store_new_link nl;
	struct store_daily d[2];
	struct store_referrer rf[2];
	struct store_token t;
	struct store_token_use use;
	struct click_row row;
	struct collect c;
	struct link_filter f = {.q = "away"};
	struct token_list tl = {0};
	int64_t id, count;
	size_t n, bad;
	bool taken;

	use_backend(PG);
	open_store();
	memset(&c, 0, sizeof(c));
	id = create("away", "https://away.example/");
	memset(h, 0x42, sizeof(h));
	ck_assert_int_eq(store_token_add(st, "t", h, STORE_ROLE_ADMIN, 1), STORE_OK);
	pg_cluster_down();
	make_link(&l, "new", "https://new.example/");
	ck_assert_int_ne(store_link_create(st, &l, link_code_generate, NULL), STORE_OK);
	memset(&nl, 0, sizeof(nl));
	make_link(&nl.link, "batch", "https://batch.example/");
	nl.reuse = true;
	ck_assert_int_ne(store_link_create_batch(st, &nl, 1, link_code_generate, NULL, &bad), STORE_OK);
	ck_assert_int_ne(store_link_update(st, "away", &p, 2, &got), STORE_OK);
	ck_assert_int_ne(store_link_delete(st, "away"), STORE_OK);
	ck_assert_int_ne(store_link_lookup(st, "away", &got), STORE_OK);
	ck_assert_int_ne(store_link_list(st, 0, 10, collect_fn, &c), STORE_OK);
	ck_assert_int_ne(store_link_find(st, &f, 0, 10, collect_fn, &c), STORE_OK);
	make_link(&l, "away", "https://away.example/");
	l.id = id;
	l.max_clicks = 5;
	ck_assert_int_ne(store_link_take_click(st, &l, 0, &taken), STORE_OK);
	row = (struct click_row){id, 19700, 1702080000, 1, 0, "r.example"};
	ck_assert_int_ne(store_clicks_write(st, &row, 1), STORE_OK);
	ck_assert_int_ne(store_link_daily(st, id, 0, d, 2, &n), STORE_OK);
	ck_assert_int_ne(store_link_referrers(st, id, 0, rf, 2, &n), STORE_OK);
	ck_assert_int_ne(store_token_add(st, "u", h, STORE_ROLE_ADMIN, 1), STORE_OK);
	ck_assert_int_ne(store_token_find(st, h, &t), STORE_OK);
	ck_assert_int_ne(store_token_list(st, token_fn, &tl), STORE_OK);
	ck_assert_int_ne(store_token_count(st, &count), STORE_OK);
	ck_assert_int_ne(store_token_revoke(st, "t"), STORE_OK);
	ck_assert_int_ne(store_token_revoke_id(st, 1, true), STORE_OK);
	use = (struct store_token_use){1, 5};
	ck_assert_int_ne(store_token_uses_write(st, &use, 1), STORE_OK);
	ck_assert_int_ne(store_ping(st), STORE_OK);
	pg_cluster_up();
	pause_ms(1100); /* a thread tries to connect again at most once a second */
	ck_assert_int_eq(link_count(), 1);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM tokens"), 1);
	ck_assert_int_eq(sql_int("SELECT clicks FROM links"), 0);
	ck_assert_int_eq(store_token_count(st, &count), STORE_OK);
	ck_assert_int_eq(count, 1);
	ck_assert_int_eq(store_link_create_batch(st, &nl, 1, link_code_generate, NULL, &bad), STORE_OK);
	ck_assert(!nl.reused);
	ck_assert_int_eq(store_token_uses_write(st, &use, 1), STORE_OK);
	ck_assert_int_eq(store_token_revoke_id(st, 999, true), STORE_NOT_FOUND);
	ck_assert_int_eq(store_token_find(st, h, &t), STORE_OK);
	ck_assert_int_eq(store_token_revoke_id(st, t.id, true), STORE_CONFLICT);
	ck_assert_int_eq(store_token_revoke_id(st, t.id, false), STORE_OK);
}
END_TEST

/* A trigger that refuses every write to a table, as a server that fails
 * a statement inside a transaction does (a full disk, a constraint of the
 * operator's, a cancelled statement). */
static void refuse_writes(const char *table, bool on)
{
	char sql[512];

	if (on)
		snprintf(sql, sizeof(sql),
		         "CREATE OR REPLACE FUNCTION shortd_test_refuse() RETURNS trigger LANGUAGE plpgsql AS "
		         "$$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$; "
		         "CREATE TRIGGER refuse BEFORE INSERT OR UPDATE OR DELETE ON %s "
		         "FOR EACH STATEMENT EXECUTE FUNCTION shortd_test_refuse()",
		         table);
	else
		snprintf(sql, sizeof(sql), "DROP TRIGGER refuse ON %s", table);
	sql_exec(sql);
}

/* Every write that the server refuses inside its transaction is an error
 * that changes nothing, whatever came before it in the transaction; the
 * same writes work once the server takes them. */
START_TEST(test_pg_writes_the_server_refuses_change_nothing)
{
	static const char *const tables[] = {"links", "tokens", "clicks_daily", "referrers_daily"};
	unsigned char h[STORE_TOKEN_HASH_LEN], h2[STORE_TOKEN_HASH_LEN];
	struct link_patch p = {.fields = PATCH_STATUS, .status = 301};
	struct store_import_row *rows = import_rows(2);
	struct link l, got;
	struct store_new_link nl[2];
	struct store_token t;
	struct store_token_use use;
	struct click_row row[2];
	int64_t id, limited;
	size_t bad, conflict;
	bool taken;

	use_backend(PG);
	open_store();
	id = create("kept", "https://kept.example/");
	make_link(&l, "limited", "https://limited.example/");
	l.max_clicks = 5;
	ck_assert_int_eq(store_link_create(st, &l, link_code_generate, NULL), STORE_OK);
	limited = l.id;
	memset(h, 0x42, sizeof(h));
	memset(h2, 0x43, sizeof(h2));
	ck_assert_int_eq(store_token_add(st, "a", h, STORE_ROLE_ADMIN, 1), STORE_OK);
	ck_assert_int_eq(store_token_add(st, "b", h2, STORE_ROLE_ADMIN, 1), STORE_OK);
	ck_assert_int_eq(store_token_find(st, h2, &t), STORE_OK);
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		refuse_writes(tables[i], true);

	make_link(&l, "new", "https://new.example/");
	ck_assert_int_eq(store_link_create(st, &l, link_code_generate, NULL), STORE_ERROR);
	memset(nl, 0, sizeof(nl));
	make_link(&nl[0].link, "same", "https://kept.example/");
	nl[0].reuse = true; /* found: reused, then the second one's insert is refused */
	make_link(&nl[1].link, "batch", "https://batch.example/");
	ck_assert_int_eq(store_link_create_batch(st, nl, 2, link_code_generate, NULL, &bad), STORE_ERROR);
	ck_assert_int_eq(store_link_update(st, "kept", &p, 2, &got), STORE_ERROR);
	ck_assert_int_eq(store_link_delete(st, "kept"), STORE_ERROR);
	snprintf(rows[0].link.code, sizeof(rows[0].link.code), "kept"); /* taken: updated, refused */
	rows[0].fields = PATCH_URL;
	ck_assert_int_eq(store_links_import(st, rows, 2, STORE_IMPORT_UPDATE, 3, link_code_generate, NULL, &conflict),
	                 STORE_ERROR);
	snprintf(rows[0].link.code, sizeof(rows[0].link.code), "fresh"); /* free: inserted, refused */
	ck_assert_int_eq(store_links_import(st, rows, 1, STORE_IMPORT_FAIL, 3, link_code_generate, NULL, &conflict),
	                 STORE_ERROR);
	make_link(&l, "limited", "https://limited.example/");
	l.id = limited;
	l.max_clicks = 5;
	ck_assert_int_eq(store_link_take_click(st, &l, 0, &taken), STORE_ERROR);
	row[0] = (struct click_row){id, 19700, 1702080000, 1, 0, "r.example"};
	row[1] = (struct click_row){id, 19700, 1702080001, 0, 1, NULL};
	ck_assert_int_eq(store_clicks_write(st, row, 2), STORE_ERROR);
	ck_assert_int_eq(store_token_add(st, "c", (unsigned char[STORE_TOKEN_HASH_LEN]){1}, STORE_ROLE_READ_ONLY, 1),
	                 STORE_ERROR);
	ck_assert_int_eq(store_token_revoke(st, "a"), STORE_ERROR);
	ck_assert_int_eq(store_token_revoke_name(st, "a", true), STORE_ERROR);
	ck_assert_int_eq(store_token_revoke_id(st, t.id, true), STORE_ERROR);
	use = (struct store_token_use){t.id, 5};
	ck_assert_int_eq(store_token_uses_write(st, &use, 1), STORE_ERROR);

	ck_assert_int_eq(link_count(), 2);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM tokens"), 2);
	ck_assert_int_eq(sql_int("SELECT clicks + reserved FROM links WHERE code = 'limited'"), 0);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM clicks_daily"), 0);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM tokens WHERE last_used_at IS NOT NULL"), 0);
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		refuse_writes(tables[i], false);
	ck_assert_int_eq(store_clicks_write(st, row, 2), STORE_OK);
	ck_assert_int_eq(store_link_lookup(st, "kept", &got), STORE_OK);
	ck_assert_int_eq(got.clicks, 1);
	ck_assert_int_eq(got.bot_clicks, 1);
	ck_assert_int_eq(store_token_revoke_name(st, "a", true), STORE_OK);
	ck_assert_int_eq(store_token_revoke_id(st, t.id, true), STORE_CONFLICT);
	free(rows);
}
END_TEST

static void pg_read_only(bool on)
{
	sql_exec(on ? "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET default_transaction_read_only = on', "
	              "current_database()); END $$"
	            : "BEGIN READ WRITE; "
	              "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I RESET default_transaction_read_only', "
	              "current_database()); END $$; COMMIT");
}

/* A database the server keeps read-only (a standby, or an operator's
 * setting): links are read, and every write is STORE_READONLY, at once. */
START_TEST(test_pg_read_only_database_refuses_writes_as_such)
{
	unsigned char h[STORE_TOKEN_HASH_LEN];
	struct link l, got;

	use_backend(PG);
	open_store();
	create("kept", "https://kept.example/");
	close_store();
	pg_read_only(true);
	open_store();
	ck_assert_int_eq(store_link_lookup(st, "kept", &got), STORE_OK);
	make_link(&l, "new", "https://new.example/");
	ck_assert_int_eq(store_link_create(st, &l, link_code_generate, NULL), STORE_READONLY);
	memset(h, 0x42, sizeof(h));
	ck_assert_int_eq(store_token_add(st, "t", h, STORE_ROLE_ADMIN, 1), STORE_READONLY);
	ck_assert_int_eq(store_link_delete(st, "kept"), STORE_READONLY);
	close_store();
	pg_read_only(false);
	open_store();
	ck_assert_int_eq(store_link_create(st, &l, link_code_generate, NULL), STORE_OK);
	ck_assert_int_eq(link_count(), 2);
}
END_TEST

/* ---- the choice of backend ---- */

/* A PostgreSQL URL, in either of libpq's schemes and in any case, is
 * PostgreSQL's: nothing is made at a path of that name. */
START_TEST(test_postgres_url_selects_postgresql)
{
	static const char *const urls[] = {
	    "postgres://u:pw-secret@127.0.0.1:1/shortd",
	    "postgresql://u:pw-secret@127.0.0.1:1/shortd?sslmode=disable",
	    "PostgreSQL://127.0.0.1:1/shortd",
	};

	for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		st = (struct store *)&st;
		err[0] = '\0';
		ck_assert_int_eq(store_open(urls[i], &st, err, sizeof(err)), STORE_ERROR);
		ck_assert_ptr_null(st);
		ck_assert_msg(strstr(err, "cannot connect") != NULL, "%s", err);
		ck_assert_msg(strstr(err, "pw-secret") == NULL, "%s", err);
		st = (struct store *)&st;
		ck_assert_int_eq(store_open_existing(urls[i], &st, err, sizeof(err)), STORE_ERROR);
		ck_assert_ptr_null(st);
	}
	ck_assert_int_eq(access("postgres:", F_OK), -1);
	ck_assert_int_eq(access("postgresql:", F_OK), -1);
	ck_assert_int_eq(access("PostgreSQL:", F_OK), -1);
	/* The database is named as given, less the password alone. */
	ck_assert_int_eq(store_open("postgresql://u@127.0.0.1:1/db?sslmode=disable&password=pw-x&application_name=a",
	                            &st, err, sizeof(err)),
	                 STORE_ERROR);
	ck_assert_msg(strncmp(err, "postgresql://u@127.0.0.1:1/db?sslmode=disable&application_name=a: ", 66) == 0, "%s",
	              err);
	ck_assert_int_eq(store_open("postgres://u:pw-y@127.0.0.1:1", &st, err, sizeof(err)), STORE_ERROR);
	ck_assert_msg(strncmp(err, "postgres://u@127.0.0.1:1: ", 26) == 0, "%s", err);
}
END_TEST

/* A write the database itself fails (a trigger, added behind the store's
 * back, that writes into a table since dropped: SQLite's "no such table",
 * SQLITE_ERROR) is STORE_ERROR from each writer, and changes nothing. */
START_TEST(test_failed_writes_change_nothing)
{
	static const unsigned char hash[STORE_TOKEN_HASH_LEN] = {1};
	struct store_import_row *rows = import_rows(2);
	struct store_new_link batch[1];
	struct store_token_use use;
	struct store_token t;
	struct link_patch p;
	struct link out;
	size_t conflict = 99, bad = 99;

	use_backend(SQLITE);
	open_store();
	create("keep", "https://keep.example/");
	ck_assert_int_eq(store_token_add(st, "kept", hash, STORE_ROLE_ADMIN, 1700000000), STORE_OK);
	ck_assert_int_eq(store_token_find(st, hash, &t), STORE_OK);
	sql_exec("CREATE TABLE gone (x);"
	         "CREATE TRIGGER fail_link_insert BEFORE INSERT ON links BEGIN INSERT INTO gone VALUES (1); END;"
	         "CREATE TRIGGER fail_link_update BEFORE UPDATE ON links BEGIN INSERT INTO gone VALUES (1); END;"
	         "CREATE TRIGGER fail_link_delete BEFORE DELETE ON links BEGIN INSERT INTO gone VALUES (1); END;"
	         "CREATE TRIGGER fail_token_delete BEFORE DELETE ON tokens BEGIN INSERT INTO gone VALUES (1); END;"
	         "CREATE TRIGGER fail_token_update BEFORE UPDATE ON tokens BEGIN INSERT INTO gone VALUES (1); END;"
	         "DROP TABLE gone;");
	ck_assert_int_eq(store_link_delete(st, "keep"), STORE_ERROR);
	memset(&p, 0, sizeof(p));
	p.fields = PATCH_URL;
	snprintf(p.url, sizeof(p.url), "https://changed.example/");
	ck_assert_int_eq(store_link_update(st, "keep", &p, 1700000100, &out), STORE_ERROR);
	make_link(&batch[0].link, "", "https://batch.example/");
	ck_assert_int_eq(store_link_create_batch(st, batch, 1, link_code_generate, NULL, &bad), STORE_ERROR);
	snprintf(rows[0].link.code, sizeof(rows[0].link.code), "keep");
	ck_assert_int_eq(
	    store_links_import(st, rows, 1, STORE_IMPORT_UPDATE, 1700000000, link_code_generate, NULL, &conflict),
	    STORE_ERROR);
	snprintf(rows[0].link.code, sizeof(rows[0].link.code), "imp0");
	ck_assert_int_eq(
	    store_links_import(st, rows, 2, STORE_IMPORT_FAIL, 1700000000, link_code_generate, NULL, &conflict),
	    STORE_ERROR);
	ck_assert_int_eq(store_token_revoke(st, "kept"), STORE_ERROR);
	ck_assert_int_eq(store_token_revoke_id(st, t.id, false), STORE_ERROR);
	use = (struct store_token_use){t.id, 1800000000};
	ck_assert_int_eq(store_token_uses_write(st, &use, 1), STORE_ERROR);
	ck_assert_int_eq(link_count(), 1);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM links WHERE code = 'keep' AND url = 'https://keep.example/'"),
	                 1);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM tokens WHERE name = 'kept'"), 1);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM tokens WHERE last_used_at IS NOT NULL"), 0);
	free(rows);
}
END_TEST

/* ---- the whole database: dump and load ---- */

/* What a dump read, in order, with ids as the dump gave them. */
struct dumped {
	int64_t link_ids[8];
	char codes[8][LINK_CODE_MAX + 1];
	int links;
	char history[32][96]; /* "link-index kind day host clicks bot" */
	int rows;
	struct store_token tokens[4];
	int n_tokens;
	int stop_after; /* a status is returned at this row (0: never) */
	int status;
};

static int dumped_stop(struct dumped *d)
{
	return d->stop_after != 0 && d->links + d->rows + d->n_tokens == d->stop_after ? d->status : STORE_OK;
}

static int dumped_link(const struct link *l, void *ctx)
{
	struct dumped *d = ctx;

	ck_assert_int_lt(d->links, 8);
	d->link_ids[d->links] = l->id;
	snprintf(d->codes[d->links], sizeof(d->codes[0]), "%s", l->code);
	d->links++;
	return dumped_stop(d);
}

static int dumped_history(const struct store_history_row *h, void *ctx)
{
	struct dumped *d = ctx;
	char line[sizeof(d->history[0])], code[LINK_CODE_MAX + 1];

	ck_assert_int_lt(d->rows, 32);
	ck_assert_int_gt(d->links, 0);
	ck_assert_int_eq(h->link_id, d->link_ids[d->links - 1]); /* after its link */
	memcpy(code, d->codes[d->links - 1], sizeof(code));
	snprintf(line, sizeof(line), "%s %s %lld %s %lld %lld", code, h->host == NULL ? "day" : "ref",
	         (long long)h->day, h->host != NULL ? h->host : "-", (long long)h->clicks, (long long)h->bot_clicks);
	memcpy(d->history[d->rows++], line, sizeof(line));
	return dumped_stop(d);
}

static int dumped_token(const struct store_token *t, void *ctx)
{
	struct dumped *d = ctx;

	ck_assert_int_lt(d->n_tokens, 4);
	d->tokens[d->n_tokens++] = *t;
	return dumped_stop(d);
}

static const struct store_dump_fns dumped_fns = {dumped_link, dumped_history, dumped_token};

/* A damaged click_days row (SQLite): the reads of its links' days refuse
 * it (stats, dump), a batch of clicks leaves it as it is and writes the
 * rest. */
START_TEST(test_corrupt_days_are_contained)
{
	struct store_daily d[2];
	struct dumped dump = {0};
	struct link got;
	int64_t a, b;
	size_t n;

	use_backend(SQLITE);
	open_store();
	a = create("a", "https://a.example/");
	b = create("b", "https://b.example/");
	struct click_row rows[] = {{a, 19000, 1700000000, 1, 0, NULL}, {b, 19001, 1700090000, 1, 0, NULL}};
	ck_assert_int_eq(store_clicks_write(st, rows, 2), STORE_OK);
	sql_exec("UPDATE click_days SET data = x'0102' WHERE key & 1048575 = 19000");
	ck_assert_int_eq(store_link_daily(st, a, 0, d, 2, &n), STORE_CORRUPT);
	ck_assert_int_eq(store_dump(st, &dumped_fns, &dump), STORE_CORRUPT);
	ck_assert_int_eq(store_clicks_write(st, rows, 2), STORE_OK);
	ck_assert_int_eq(sql_int("SELECT hex(data) = '0102' FROM click_days WHERE key & 1048575 = 19000"), 1);
	ck_assert_int_eq(store_link_daily(st, b, 19001, d, 2, &n), STORE_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(d[0].clicks, 2);
	ck_assert_int_eq(store_link_lookup(st, "a", &got), STORE_OK);
	ck_assert_int_eq(got.clicks, 2);
}
END_TEST

/* Links a, b (labelled, limited, expiring, disabled) and c, clicks over
 * two days with referrers, and two tokens, one used. */
static void fill_source(void)
{
	struct link l;
	unsigned char h1[STORE_TOKEN_HASH_LEN], h2[STORE_TOKEN_HASH_LEN];
	struct store_token_use use;
	struct store_token t;
	int64_t a, b;

	make_link(&l, "a", "https://a.example/");
	snprintf(l.title, sizeof(l.title), "%s", "A title");
	l.n_tags = 2;
	snprintf(l.tags[0], sizeof(l.tags[0]), "%s", "zeta");
	snprintf(l.tags[1], sizeof(l.tags[1]), "%s", "alpha");
	snprintf(l.created_by, sizeof(l.created_by), "%s", "cli");
	snprintf(l.updated_by, sizeof(l.updated_by), "%s", "ops");
	l.max_clicks = 100;
	l.expires_at = 1900000000;
	l.forward_query = true;
	l.status = 307;
	ck_assert_int_eq(store_link_create(st, &l, link_code_generate, NULL), STORE_OK);
	a = l.id;
	make_link(&l, "b", "https://b.example/");
	l.disabled = true;
	l.updated_at = 1700000500;
	ck_assert_int_eq(store_link_create(st, &l, link_code_generate, NULL), STORE_OK);
	b = l.id;
	create("c", "https://c.example/");
	struct click_row rows[] = {
	    {a, 19000, 1641600100, 3, 1, "news.example"},
	    {a, 19000, 1641600050, 2, 0, "Blog.example"},
	    {a, 19001, 1641686500, 4, 2, NULL},
	    {b, 19001, 1641686401, 1, 0, "b.example"},
	};
	ck_assert_int_eq(store_clicks_write(st, rows, 4), STORE_OK);
	memset(h1, 1, sizeof(h1));
	memset(h2, 2, sizeof(h2));
	ck_assert_int_eq(store_token_add(st, "admin", h1, STORE_ROLE_ADMIN, 1700000001), STORE_OK);
	ck_assert_int_eq(store_token_add(st, "reader", h2, STORE_ROLE_READ_ONLY, 1700000002), STORE_OK);
	ck_assert_int_eq(store_token_find(st, h2, &t), STORE_OK);
	use = (struct store_token_use){t.id, 1700000099};
	ck_assert_int_eq(store_token_uses_write(st, &use, 1), STORE_OK);
}

/* Creates a link of this code in s; its id. */
static int64_t create_in(struct store *s, const char *code)
{
	struct link l;

	make_link(&l, code, "https://made.example/");
	ck_assert_int_eq(store_link_create(s, &l, link_code_generate, NULL), STORE_OK);
	return l.id;
}

/* A second fresh database of the running test's backend, opened as st2. */
static void open_second(void)
{
	be->make(dir2, sizeof(dir2), path2, sizeof(path2));
	ck_assert_msg(store_open(path2, &st2, err, sizeof(err)) == STORE_OK, "store_open: %s", err);
}

struct copy_ctx {
	struct store *from;
	struct store_loader *ld;
	int64_t link_id; /* the current link's id in the target */
	int fail_at;     /* a link count at which the fill fails (0: never) */
	int links;
};

static int copy_link(const struct link *l, void *ctx)
{
	struct copy_ctx *c = ctx;
	struct link copy = *l;
	int status;

	if (++c->links == c->fail_at)
		return STORE_ERROR;
	copy.id = 0;
	status = store_load_link(c->ld, &copy);
	c->link_id = copy.id;
	return status;
}

static int copy_history(const struct store_history_row *h, void *ctx)
{
	struct copy_ctx *c = ctx;
	struct store_history_row row = *h;

	row.link_id = c->link_id;
	return store_load_history(c->ld, &row);
}

static int copy_token(const struct store_token *t, void *ctx)
{
	return store_load_token(((struct copy_ctx *)ctx)->ld, t);
}

static int copy_fill(struct store_loader *ld, void *ctx)
{
	static const struct store_dump_fns fns = {copy_link, copy_history, copy_token};
	struct copy_ctx *c = ctx;

	c->ld = ld;
	return store_dump(c->from, &fns, c);
}

static int never_fill(struct store_loader *ld, void *ctx)
{
	(void)ld;
	*(bool *)ctx = true;
	return STORE_OK;
}

START_TEST(test_dump_reads_links_history_and_tokens_in_order)
{
	struct dumped d = {0};

	use_backend(_i);
	open_store();
	fill_source();
	ck_assert_int_eq(store_dump(st, &dumped_fns, &d), STORE_OK);
	ck_assert_int_eq(d.links, 3);
	ck_assert_str_eq(d.codes[0], "a");
	ck_assert_str_eq(d.codes[1], "b");
	ck_assert_str_eq(d.codes[2], "c");
	ck_assert_int_lt(d.link_ids[0], d.link_ids[1]);
	/* raw rows: the day's counts, then referrers by day and host's bytes */
	ck_assert_int_eq(d.rows, 6);
	ck_assert_str_eq(d.history[0], "a day 19000 - 5 1");
	ck_assert_str_eq(d.history[1], "a day 19001 - 4 2");
	ck_assert_str_eq(d.history[2], "a ref 19000 Blog.example 2 0");
	ck_assert_str_eq(d.history[3], "a ref 19000 news.example 3 0");
	ck_assert_str_eq(d.history[4], "b day 19001 - 1 0");
	ck_assert_str_eq(d.history[5], "b ref 19001 b.example 1 0");
	ck_assert_int_eq(d.n_tokens, 2);
	ck_assert_str_eq(d.tokens[0].name, "admin");
	ck_assert_str_eq(d.tokens[1].name, "reader");
	ck_assert_int_eq(d.tokens[1].last_used_at, 1700000099);
	ck_assert_int_eq(d.tokens[0].last_used_at, LINK_NO_TIME);
	ck_assert_int_eq(d.tokens[1].hash[0], 2);
}
END_TEST

START_TEST(test_dump_stops_at_a_callback_status)
{
	struct dumped d;

	use_backend(_i);
	open_store();
	fill_source();
	/* 3 links, 6 history rows, 2 tokens: a stop at each row, whichever
	 * loop reads it, ends the dump with the callback's status */
	for (int k = 1; k <= 11; k++) {
		d = (struct dumped){.stop_after = k, .status = k % 2 != 0 ? STORE_NOT_FOUND : STORE_CONFLICT};
		ck_assert_int_eq(store_dump(st, &dumped_fns, &d), d.status);
		ck_assert_int_eq(d.links + d.rows + d.n_tokens, k);
	}
	/* and the store reads on afterwards */
	d = (struct dumped){0};
	ck_assert_int_eq(store_dump(st, &dumped_fns, &d), STORE_OK);
	ck_assert_int_eq(d.links + d.rows + d.n_tokens, 11);
	ck_assert_int_eq(d.n_tokens, 2);
}
END_TEST

START_TEST(test_dump_refuses_a_token_hash_of_another_length)
{
	struct dumped d = {0};

	use_backend(_i);
	open_store();
	fill_source();
	sql_exec("UPDATE tokens SET hash = substr(hash, 1, 4) WHERE name = 'reader'");
	ck_assert_int_eq(store_dump(st, &dumped_fns, &d), STORE_CORRUPT);
	ck_assert_int_eq(d.n_tokens, 1);
}
END_TEST

START_TEST(test_load_copies_everything_without_counting_twice)
{
	struct copy_ctx c = {0};
	struct dumped a = {0}, b = {0};
	struct link la, lb;
	struct store_token t;
	struct store_daily days[4];
	struct store_referrer refs[4];
	unsigned char h2[STORE_TOKEN_HASH_LEN];
	size_t n;

	use_backend(_i);
	open_store();
	fill_source();
	open_second();
	/* ids in the target may differ: a link made and deleted first */
	create_in(st2, "tmp");
	ck_assert_int_eq(store_link_delete(st2, "tmp"), STORE_OK);
	c.from = st;
	ck_assert_int_eq(store_load(st2, copy_fill, &c), STORE_OK);

	ck_assert_int_eq(store_dump(st, &dumped_fns, &a), STORE_OK);
	ck_assert_int_eq(store_dump(st2, &dumped_fns, &b), STORE_OK);
	ck_assert_int_eq(b.links, 3);
	ck_assert_int_eq(b.rows, a.rows);
	for (int i = 0; i < a.rows; i++)
		ck_assert_str_eq(b.history[i], a.history[i]);
	ck_assert_int_gt(b.link_ids[0], a.link_ids[0]);
	ck_assert_int_lt(b.link_ids[0], b.link_ids[1]);
	ck_assert_int_lt(b.link_ids[1], b.link_ids[2]);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(store_link_lookup(st, a.codes[i], &la), STORE_OK);
		ck_assert_int_eq(store_link_lookup(st2, a.codes[i], &lb), STORE_OK);
		ck_assert_str_eq(lb.url, la.url);
		ck_assert_str_eq(lb.title, la.title);
		ck_assert_int_eq(lb.n_tags, la.n_tags);
		for (int k = 0; k < la.n_tags; k++)
			ck_assert_str_eq(lb.tags[k], la.tags[k]);
		ck_assert_str_eq(lb.created_by, la.created_by);
		ck_assert_str_eq(lb.updated_by, la.updated_by);
		ck_assert_int_eq(lb.status, la.status);
		ck_assert_int_eq(lb.forward_query, la.forward_query);
		ck_assert_int_eq(lb.disabled, la.disabled);
		ck_assert_int_eq(lb.created_at, la.created_at);
		ck_assert_int_eq(lb.updated_at, la.updated_at);
		ck_assert_int_eq(lb.expires_at, la.expires_at);
		ck_assert_int_eq(lb.max_clicks, la.max_clicks);
		ck_assert_int_eq(lb.clicks, la.clicks); /* not counted twice */
		ck_assert_int_eq(lb.bot_clicks, la.bot_clicks);
		ck_assert_int_eq(lb.last_click_at, la.last_click_at);
	}
	ck_assert_int_eq(store_link_lookup(st2, "a", &lb), STORE_OK);
	ck_assert_int_eq(lb.clicks, 9);
	ck_assert_int_eq(store_link_daily(st2, lb.id, 0, days, 4, &n), STORE_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(days[0].clicks, 5);
	ck_assert_int_eq(store_link_referrers(st2, lb.id, 0, refs, 4, &n), STORE_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(refs[0].host, "news.example");
	/* the tokens keep their hashes, so their secrets keep working */
	memset(h2, 2, sizeof(h2));
	ck_assert_int_eq(store_token_find(st2, h2, &t), STORE_OK);
	ck_assert_str_eq(t.name, "reader");
	ck_assert_int_eq(t.role, STORE_ROLE_READ_ONLY);
	ck_assert_int_eq(t.created_at, 1700000002);
	ck_assert_int_eq(t.last_used_at, 1700000099);
	ck_assert_int_eq(b.n_tokens, 2);
	ck_assert_str_eq(b.tokens[0].name, "admin");
	ck_assert_int_eq(b.tokens[0].last_used_at, LINK_NO_TIME);
	/* the copy is a database like any other: it takes new links and clicks */
	ck_assert_int_gt(create_in(st2, "new"), b.link_ids[2]);
}
END_TEST

START_TEST(test_load_refuses_a_database_that_is_not_empty)
{
	bool called = false;
	unsigned char h[STORE_TOKEN_HASH_LEN] = {7};

	use_backend(_i);
	open_store();
	create("x", "https://x.example/");
	ck_assert_int_eq(store_load(st, never_fill, &called), STORE_CONFLICT);
	ck_assert(!called);
	ck_assert_int_eq(store_link_delete(st, "x"), STORE_OK);
	ck_assert_int_eq(store_token_add(st, "only", h, STORE_ROLE_ADMIN, 1), STORE_OK);
	ck_assert_int_eq(store_load(st, never_fill, &called), STORE_CONFLICT);
	ck_assert(!called);
	ck_assert_int_eq(store_token_revoke(st, "only"), STORE_OK);
	ck_assert_int_eq(store_load(st, never_fill, &called), STORE_OK);
	ck_assert(called);
}
END_TEST

START_TEST(test_load_writes_nothing_when_the_fill_fails)
{
	struct copy_ctx c = {.fail_at = 3};

	use_backend(_i);
	open_store();
	fill_source();
	open_second();
	c.from = st;
	ck_assert_int_eq(store_load(st2, copy_fill, &c), STORE_ERROR);
	ck_assert_int_eq(be->sql_int(path2, "SELECT count(*) FROM links"), 0);
	ck_assert_int_eq(be->sql_int(path2, "SELECT count(*) FROM clicks_daily"), 0);
	ck_assert_int_eq(be->sql_int(path2, "SELECT count(*) FROM referrers_daily"), 0);
	ck_assert_int_eq(be->sql_int(path2, "SELECT count(*) FROM tokens"), 0);
	/* rolled back: the same copy goes in whole afterwards, and only once */
	c = (struct copy_ctx){.from = st};
	ck_assert_int_eq(store_load(st2, copy_fill, &c), STORE_OK);
	ck_assert_int_eq(be->sql_int(path2, "SELECT count(*) FROM links"), 3);
	ck_assert_int_eq(be->sql_int(path2, "SELECT count(*) FROM clicks_daily"), 3);
	c = (struct copy_ctx){.from = st};
	ck_assert_int_eq(store_load(st2, copy_fill, &c), STORE_CONFLICT);
	ck_assert_int_eq(be->sql_int(path2, "SELECT count(*) FROM links"), 3);
}
END_TEST

/* A link, then its day's row twice (ctx NULL), or the link twice: the
 * second is refused. */
static int load_twice_fill(struct store_loader *ld, void *ctx)
{
	struct link l;
	struct store_history_row h = {.day = 19000, .clicks = 1};
	int status;

	make_link(&l, "twice", "https://twice.example/");
	if ((status = store_load_link(ld, &l)) != STORE_OK)
		return status;
	if (ctx != NULL)
		return store_load_link(ld, &l);
	h.link_id = l.id;
	if ((status = store_load_history(ld, &h)) != STORE_OK)
		return status;
	return store_load_history(ld, &h);
}

/* What a dump read, counted. */
static struct {
	int64_t links, days, clicks;
} counted;

static int counted_link(const struct link *l, void *ctx)
{
	(void)l;
	(void)ctx;
	counted.links++;
	return STORE_OK;
}

static int counted_history(const struct store_history_row *h, void *ctx)
{
	(void)ctx;
	counted.days += h->host == NULL;
	counted.clicks += h->host == NULL ? h->clicks : 0;
	return STORE_OK;
}

static int counted_token(const struct store_token *t, void *ctx)
{
	(void)t;
	(void)ctx;
	return STORE_OK;
}

static const struct store_dump_fns counted_fns = {counted_link, counted_history, counted_token};

/* More days than a load holds before it writes (LOAD_CHANGES, 65,536 on
 * SQLite): 1,000 links of 70 days each, link i with i clicks and one bot
 * click a day. */
static int load_many_fill(struct store_loader *ld, void *ctx)
{
	struct link l;
	int status = STORE_OK;

	(void)ctx;
	for (int i = 1; i <= 1000 && status == STORE_OK; i++) {
		make_link(&l, "", "https://many.example/");
		snprintf(l.code, sizeof(l.code), "m%d", i);
		l.clicks = 70 * i;
		l.bot_clicks = 70;
		l.last_click_at = 1700000000 + i;
		status = store_load_link(ld, &l);
		for (int day = 0; day < 70 && status == STORE_OK; day++) {
			struct store_history_row h = {
			    .link_id = l.id, .day = 19000 + day, .clicks = i, .bot_clicks = 1};
			status = store_load_history(ld, &h);
		}
	}
	return status;
}

START_TEST(test_load_writes_more_days_than_it_holds)
{
	struct store_daily d[70];
	struct link got;
	size_t n;

	use_backend(SQLITE);
	open_store();
	ck_assert_int_eq(store_load(st, load_many_fill, NULL), STORE_OK);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM clicks_daily"), 70000);
	ck_assert_int_eq(sql_int("SELECT sum(clicks) FROM clicks_daily"), 70 * 500500);
	ck_assert_int_eq(store_link_lookup(st, "m999", &got), STORE_OK);
	ck_assert_int_eq(got.clicks, 70 * 999);
	ck_assert_int_eq(got.bot_clicks, 70);
	ck_assert_int_eq(got.last_click_at, 1700000999);
	ck_assert_int_eq(store_link_daily(st, got.id, 0, d, 70, &n), STORE_OK);
	ck_assert_uint_eq(n, 70);
	ck_assert_int_eq(d[69].day, 19069);
	ck_assert_int_eq(d[69].clicks, 999);
	/* and a dump reads them all back, a chunk's 70 rows at a time */
	ck_assert_int_eq(store_dump(st, &counted_fns, &counted), STORE_OK);
	ck_assert_int_eq(counted.links, 1000);
	ck_assert_int_eq(counted.days, 70000);
	ck_assert_int_eq(counted.clicks, 70 * 500500);
}
END_TEST

/* A day's row of a link the load has not made. */
static int load_orphan_fill(struct store_loader *ld, void *ctx)
{
	struct link l;
	struct store_history_row h = {.day = 19000, .clicks = 1};
	int status;

	(void)ctx;
	make_link(&l, "first", "https://first.example/");
	if ((status = store_load_link(ld, &l)) != STORE_OK)
		return status;
	h.link_id = l.id + 1000;
	return store_load_history(ld, &h);
}

START_TEST(test_load_refuses_history_of_no_link)
{
	use_backend(_i);
	open_store();
	ck_assert_int_eq(store_load(st, load_orphan_fill, NULL), STORE_CONFLICT);
	ck_assert_int_eq(link_count(), 0);
}
END_TEST

START_TEST(test_load_refuses_a_row_given_twice)
{
	use_backend(_i);
	open_store();
	ck_assert_int_eq(store_load(st, load_twice_fill, NULL), STORE_CONFLICT);
	ck_assert_int_eq(link_count(), 0);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM clicks_daily"), 0);
	ck_assert_int_eq(store_load(st, load_twice_fill, st), STORE_CONFLICT);
	ck_assert_int_eq(link_count(), 0);
}
END_TEST

START_TEST(test_display_name)
{
	use_backend(_i);
	open_store();
	if (_i == SQLITE)
		ck_assert_str_eq(store_display_name(st), path);
	else
		ck_assert_ptr_null(strstr(store_display_name(st), "password"));
	ck_assert_int_gt((int)strlen(store_display_name(st)), 0);
}
END_TEST

START_TEST(test_pg_dump_and_load_fail_cleanly_while_the_server_is_away)
{
	struct dumped d = {0};
	bool called = false;

	use_backend(PG);
	open_store();
	fill_source();
	pg_cluster_down();
	ck_assert_int_ne(store_dump(st, &dumped_fns, &d), STORE_OK);
	ck_assert_int_eq(d.links, 0);
	ck_assert_int_ne(store_load(st, never_fill, &called), STORE_OK);
	ck_assert(!called);
	pg_cluster_up();
	pause_ms(1100); /* a thread tries to connect again at most once a second */
	ck_assert_int_eq(store_dump(st, &dumped_fns, &d), STORE_OK);
	ck_assert_int_eq(d.links, 3);
	ck_assert_int_eq(store_load(st, never_fill, &called), STORE_CONFLICT);
}
END_TEST

/* A test case of s with a fresh store for each test. */
static TCase *test_case(Suite *s, const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_add_unchecked_fixture(tc, pg_cluster_start, NULL);
	tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
	suite_add_tcase(s, tc);
	return tc;
}

Suite *store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc;

	/* The conformance suite: every test once per backend. */
	tc = test_case(s, "links");
	tcase_add_loop_test(tc, test_create_and_lookup_every_field, 0, N_BACKENDS);
	tcase_add_loop_test(tc, test_lookup_is_exact_and_case_sensitive, 0, N_BACKENDS);
	tcase_add_loop_test(tc, test_long_url_round_trips, 0, N_BACKENDS);
	tcase_add_loop_test(tc, test_custom_code_conflict, 0, N_BACKENDS);
	tcase_add_loop_test(tc, test_import_keeps_times_and_counts, 0, N_BACKENDS);
	tcase_add_loop_test(tc, test_import_taken_code_by_mode, 0, N_BACKENDS);
	tcase_add_loop_test(tc, test_import_redraws_a_taken_drawn_code, 0, N_BACKENDS);
	tcase_add_loop_test(tc, test_generated_code, 0, N_BACKENDS);
	tcase_add_loop_test(tc, test_generated_code_retried_on_collision, 0, N_BACKENDS);
	tcase_add_loop_test(tc, test_generated_code_gives_up, 0, N_BACKENDS);
	tcase_add_loop_test(tc, test_update_each_field, 0, N_BACKENDS);
	tcase_add_loop_test(tc, test_update_missing_link, 0, N_BACKENDS);
	tcase_add_loop_test(tc, test_delete, 0, N_BACKENDS);
	tcase_add_loop_test(tc, test_list_keyset_paging, 0, N_BACKENDS);
	tcase_add_loop_test(tc, test_concurrent_creates, 0, N_BACKENDS);

	tc = test_case(s, "labels");
	tcase_add_loop_test(tc, test_labels_round_trip, 0, N_BACKENDS);
	tcase_add_loop_test(tc, test_find_by_url_q_and_tags, 0, N_BACKENDS);
	tcase_add_loop_test(tc, test_find_takes_pattern_and_quote_characters_as_text, 0, N_BACKENDS);
	tcase_add_loop_test(tc, test_create_batch_all_or_none, 0, N_BACKENDS);
	tcase_add_loop_test(tc, test_create_batch_sizes, 0, N_BACKENDS);
	tcase_add_loop_test(tc, test_create_batch_reuses_an_identical_link, 0, N_BACKENDS);

	tc = test_case(s, "clicks");
	tcase_add_loop_test(tc, test_clicks_write_totals_daily_referrers, 0, N_BACKENDS);
	tcase_add_loop_test(tc, test_clicks_of_a_deleted_link_leave_nothing, 0, N_BACKENDS);
	tcase_add_test(tc, test_corrupt_counts_are_contained);
	tcase_add_loop_test(tc, test_clicks_write_out_of_order, 0, N_BACKENDS);
	tcase_add_test(tc, test_corrupt_days_are_contained);
	tcase_add_loop_test(tc, test_take_click_is_exact_across_connections, 0, N_BACKENDS);

	tc = test_case(s, "tokens");
	tcase_add_loop_test(tc, test_tokens, 0, N_BACKENDS);
	tcase_add_loop_test(tc, test_listings_stop_where_asked, 0, N_BACKENDS);
	tcase_add_loop_test(tc, test_token_ids_and_last_used_at, 0, N_BACKENDS);
	tcase_add_loop_test(tc, test_token_revoke_keeps_the_last_admin, 0, N_BACKENDS);
	tcase_add_loop_test(tc, test_token_revoke_by_name, 0, N_BACKENDS);

	tc = test_case(s, "copy");
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_dump_reads_links_history_and_tokens_in_order, 0, N_BACKENDS);
	tcase_add_loop_test(tc, test_dump_stops_at_a_callback_status, 0, N_BACKENDS);
	tcase_add_loop_test(tc, test_dump_refuses_a_token_hash_of_another_length, 0, N_BACKENDS);
	tcase_add_loop_test(tc, test_load_copies_everything_without_counting_twice, 0, N_BACKENDS);
	tcase_add_loop_test(tc, test_load_refuses_a_database_that_is_not_empty, 0, N_BACKENDS);
	tcase_add_loop_test(tc, test_load_writes_nothing_when_the_fill_fails, 0, N_BACKENDS);
	tcase_add_loop_test(tc, test_load_refuses_a_row_given_twice, 0, N_BACKENDS);
	tcase_add_loop_test(tc, test_load_refuses_history_of_no_link, 0, N_BACKENDS);
	tcase_add_test(tc, test_load_writes_more_days_than_it_holds);
	tcase_add_loop_test(tc, test_display_name, 0, N_BACKENDS);

	tc = test_case(s, "resolve");
	tcase_add_loop_test(tc, test_resolve_equals_lookup, 0, N_BACKENDS);
	tcase_add_loop_test(tc, test_resolve_sees_external_change, 0,
	                    (int)(sizeof(external_changes) / sizeof(external_changes[0])) * N_BACKENDS);
	tcase_add_loop_test(tc, test_resolve_sees_api_update_and_delete, 0, N_BACKENDS);
	tcase_add_loop_test(tc, test_resolve_never_caches_max_clicks, 0, N_BACKENDS);
	tcase_add_loop_test(tc, test_resolve_without_cache_reads_store, 0, N_BACKENDS);

	tc = test_case(s, "errors");
	tcase_add_test(tc, test_status_messages);

	/* What is particular to SQLite. */
	tc = test_case(s, "sqlite_schema");
	tcase_add_test(tc, test_open_creates_schema_at_latest_version);
	tcase_add_test(tc, test_migrations_are_numbered_in_order);
	tcase_add_test(tc, test_migration_6_keeps_tokens_and_their_ids);
	tcase_add_test(tc, test_migrations_from_version_1_keep_links);
	tcase_add_test(tc, test_migration_7_keeps_links_found_by_q);
	tcase_add_test(tc, test_migration_8_packs_the_counts);
	tcase_add_test(tc, test_migration_8_refuses_a_day_out_of_range);
	tcase_add_test(tc, test_migration_8_refuses_an_id_below_1);
	tcase_add_test(tc, test_concurrent_first_open);
	tcase_add_test(tc, test_newer_database_refused);
	tcase_add_test(tc, test_non_database_file_is_corrupt);
	tcase_add_test(tc, test_read_only_file_refused);

	tc = test_case(s, "sqlite_files");
	tcase_add_test(tc, test_open_existing_refuses_a_missing_or_empty_file_and_creates_nothing);
	tcase_add_test(tc, test_open_refuses_to_create_beside_a_wal_with_data);
	tcase_add_test(tc, test_wal_is_copied_back_after_8000_pages);
	tcase_add_test(tc, test_moved_file_refuses_writes_and_is_read_where_it_went);

	tc = test_case(s, "sqlite_resolve");
	tcase_add_test(tc, test_resolve_answers_from_cache);
	tcase_add_test(tc, test_resolve_cache_is_shared_by_threads);
	tcase_add_test(tc, test_resolve_after_the_epoch_went_back);
	tcase_add_test(tc, test_resolve_races_changes);
	tcase_add_test(tc, test_resolve_without_the_cache_asked_for);
	tcase_add_loop_test(tc, test_resolve_sees_external_replace, 0,
	                    (int)(sizeof(external_replaces) / sizeof(external_replaces[0])));
	tcase_add_test(tc, test_link_epoch_triggers);

	tc = test_case(s, "sqlite_labels");
	tcase_add_test(tc, test_tags_column_read_from_any_json);
	tcase_add_test(tc, test_label_indexes_kept_by_triggers);
	tcase_add_test(tc, test_find_same_while_waiting_and_indexed);
	tcase_add_test(tc, test_search_follows_ids_given_by_hand);
	tcase_add_test(tc, test_links_written_by_hand_indexed_at_open);
	tcase_add_test(tc, test_failed_indexing_changes_nothing);

	tc = test_case(s, "sqlite_errors");
	tcase_add_test(tc, test_full_database);
	tcase_add_test(tc, test_failed_writes_change_nothing);

	/* What is particular to PostgreSQL. */
	tc = test_case(s, "pg_schema");
	tcase_add_test(tc, test_pg_migrations_are_numbered_as_sqlite);
	tcase_add_test(tc, test_pg_open_makes_the_schema_only_when_asked);
	tcase_add_test(tc, test_pg_newer_database_refused);
	tcase_add_test(tc, test_pg_older_database_gets_the_migrations_it_lacks);
	tcase_add_test(tc, test_pg_failing_migration_is_named_and_rolled_back);
	tcase_add_test(tc, test_pg_schema_table_without_its_row_is_refused);
	tcase_add_test(tc, test_pg_concurrent_first_open_migrates_once);
	tcase_add_test(tc, test_pg_password_is_never_repeated);

	tc = test_case(s, "pg_faults");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_pg_server_restart_is_survived);
	tcase_add_test(tc, test_pg_every_operation_fails_cleanly_while_the_server_is_away);
	tcase_add_test(tc, test_pg_dump_and_load_fail_cleanly_while_the_server_is_away);
	tcase_add_test(tc, test_pg_writes_the_server_refuses_change_nothing);
	tcase_add_test(tc, test_pg_read_only_database_refuses_writes_as_such);

	tc = test_case(s, "select");
	tcase_add_test(tc, test_postgres_url_selects_postgresql);
	return s;
}
