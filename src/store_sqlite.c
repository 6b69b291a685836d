/*
 * The SQLite backend of the storage interface: connections, statements,
 * the schema (sql/sqlite, embedded), the files held, and how link changes
 * are seen (links_changed_since). The link cache and the retries of
 * generated codes are store.c's, above it.
 *
 * One writer connection, guarded by a mutex, takes every write in an
 * explicit transaction. Each thread that reads gets its own connection with
 * its own prepared statements (created on its first read, closed at
 * store close), so a redirect's lookup never waits for a batch of clicks
 * being written: WAL lets readers and the writer run side by side.
 *
 * Invariant: a statement is reset before its connection's lock (or thread)
 * lets go of it, so no statement holds a read transaction open between calls.
 *
 * The files: SQLite opens the database, its -wal and its -shm by name, each
 * connection anew, and a new connection on a zero-length file at the path
 * deletes the -wal beside it. So only the first connection may create the
 * database; the store holds the database file and the -wal open itself, and
 * every later connection is opened only while their paths still name those
 * two files (path_check). serve opens all its read connections at start
 * (store_open_readers), so none is opened by name while it serves. Once a
 * path names something else (the file was moved, deleted or replaced), the
 * store is "gone": it copies the WAL into the file it holds, refuses every
 * write, and at close tells SQLite to delete nothing by name
 * (SQLITE_FCNTL_PERSIST_WAL), since what the names point to now is not its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "click_chunk.h"
#include "migrations.h"
#include "store_backend.h"
#include "store_sqlite_trigram.h"
#include "thread_registry.h"

#define BUSY_TIMEOUT_MS 5000
#define PING_TIMEOUT_MS 1000
#define QUICK_CHECK_MAX_BYTES (4 * 1024 * 1024) /* a full check at open up to 4 MiB, ~30 ms */

#define STR_(x) #x
#define STR(x) STR_(x)

/* A link's click totals: the blob of its chunk in click_totals (see
 * click_chunk.h and sql/sqlite/008_click_chunks.sql), NULL for none. */
#define TOTALS_OF_LINK "(SELECT data FROM click_totals WHERE chunk = links.id >> " STR(CLICK_CHUNK_SHIFT) ")"

/* click_days: a row's key is the chunk, then DAY_BITS of the day. */
#define DAY_BITS 20
#define DAY_MAX ((INT64_C(1) << DAY_BITS) - 1)
#define CHUNK_MAX (INT64_MAX >> DAY_BITS)

/* A link's columns, then its click totals (TOTALS_COLUMN), then its labels. */
#define BASE_COLUMNS "id, code, url, status, forward_query, disabled, created_at, updated_at, expires_at, max_clicks"
#define TOTALS_COLUMN 10
/* What a redirect reads of a link. */
#define REDIRECT_COLUMNS BASE_COLUMNS ", " TOTALS_OF_LINK
#define REDIRECT_COLUMN_COUNT 11
#define LINK_COLUMNS BASE_COLUMNS ", " TOTALS_OF_LINK ", title, tags, created_by, updated_by"

/* The columns an INSERT INTO links writes, in the order bind_link() binds. */
#define INSERT_COLUMNS                                                                                                 \
	"code, url, status, forward_query, disabled, created_at, updated_at, expires_at, max_clicks, title, tags, "    \
	"created_by, updated_by"
#define INSERT_VALUES 13

/* Rows of the largest multi-row INSERT of an import: INSERT_VALUES
 * parameters each, well under SQLite's default limit of 32,766. An import
 * is written in chunks of 256, 128, ..., 1 rows, each size's statement
 * prepared once (parsing a 256-row INSERT costs as much as 25 inserts). */
#define INSERT_ROWS 256
#define INSERT_SIZES 9 /* 256 >> 0 .. 256 >> 8 */

/* Rows of the INSERT of a batch of creates: one statement for a whole
 * bulk create (1,000 links, 13,000 parameters), prepared for the batch's
 * exact size and kept while batches keep that size. Each statement is a
 * segment of the trigram index, and fewer segments are less merging: one
 * statement instead of 256, 256, 256, 128, 64, 32 and 8 rows took about
 * 10,000 instructions a link less (callgrind). */
#define CREATE_ROWS 1024

/* LINK_COLUMNS of the table links, where a join has columns of the same names. */
#define LINK_COLUMNS_OF_LINKS                                                                                          \
	"links.id, links.code, links.url, links.status, links.forward_query, links.disabled, links.created_at, "       \
	"links.updated_at, links.expires_at, links.max_clicks, " TOTALS_OF_LINK ", links.title, links.tags, "          \
	"links.created_by, links.updated_by"

/* The shortest q the trigram index can answer; a shorter one is matched
 * by LIKE, link by link. */
#define TRIGRAM_MIN 3

/*
 * A new link waits to be indexed for q (sql/sqlite/009: its id is above
 * link_search_indexed.upto) until a write brings the links waiting to this
 * many; that write indexes them all in one statement, one segment of the
 * trigram index instead of one a link. q matches the links still waiting
 * one by one (WAITING_MATCH), so it finds the same links either way: no
 * more than about this many are read so.
 */
#define SEARCH_WAITING_MAX 64
#define WAITING_SINCE "(SELECT upto FROM link_search_indexed)"

/* q (?5) in a waiting link, as the trigram index would find it: the
 * tags as the index takes them, from links.tags (link_tag can lag behind
 * a row whose id was changed by hand). */
#define WAITING_MATCH                                                                                                  \
	"(shortd_trigram_contains(links.code, ?5) OR shortd_trigram_contains(links.url, ?5) OR "                       \
	"shortd_trigram_contains(links.title, ?5) OR EXISTS (SELECT 1 FROM json_each(links.tags) WHERE "               \
	"shortd_trigram_contains(value, ?5)))"

#define TOKEN_COLUMNS "name, role, created_at, hash, id, last_used_at"

enum reader_stmt {
	R_LOOKUP,
	R_RESOLVE,
	R_LIST,
	R_DAILY,
	R_REFERRERS,
	R_TOKEN_FIND,
	R_TOKEN_LIST,
	R_TOKEN_COUNT,
	R_EPOCH,
	R_DUMP_LINKS,
	R_DUMP_REFERRERS,
	R_COUNT,
};

static const char *const reader_sql[R_COUNT] = {
    [R_LOOKUP] = "SELECT " LINK_COLUMNS " FROM links WHERE code = ?1",
    [R_RESOLVE] = "SELECT " REDIRECT_COLUMNS " FROM links WHERE code = ?1",
    [R_LIST] = "SELECT " LINK_COLUMNS " FROM links WHERE id > ?1 ORDER BY id LIMIT ?2",
    [R_DAILY] = "SELECT key, data FROM click_days WHERE key BETWEEN ?1 AND ?2 ORDER BY key",
    [R_REFERRERS] = "SELECT host, SUM(clicks) AS n FROM referrers_daily WHERE link_id = ?1 AND "
                    "day >= ?2 GROUP BY host ORDER BY n DESC, host LIMIT ?3",
    [R_TOKEN_FIND] = "SELECT " TOKEN_COLUMNS " FROM tokens WHERE hash = ?1",
    [R_TOKEN_LIST] = "SELECT " TOKEN_COLUMNS " FROM tokens ORDER BY id",
    [R_TOKEN_COUNT] = "SELECT count(*) FROM tokens",
    [R_EPOCH] = "SELECT n FROM link_epoch WHERE id = 1",
    [R_DUMP_LINKS] = "SELECT " LINK_COLUMNS " FROM links ORDER BY id",
    [R_DUMP_REFERRERS] = "SELECT day, host, clicks FROM referrers_daily WHERE link_id = ?1 ORDER BY day, host",
};

enum writer_stmt {
	W_INSERT_LINK,
	W_GET_BY_CODE,
	W_ID_BY_CODE,
	W_REUSE,
	W_UPDATE_LINK,
	W_DELETE_LINK,
	W_TOTALS_GET,
	W_TOTALS_INSERT,
	W_TOTALS_UPDATE,
	W_TOTALS_DELETE,
	W_DAYS_GET,
	W_DAYS_INSERT,
	W_DAYS_UPDATE,
	W_DAYS_DELETE,
	W_DAYS_RANGE,
	W_LINK_EXISTS,
	W_CLICK_REFERRER,
	W_TOKEN_ADD,
	W_TOKEN_REVOKE,
	W_TOKEN_REVOKE_ID,
	W_TOKEN_REVOKE_NAME,
	W_TOKEN_EXISTS,
	W_TOKEN_NAME_EXISTS,
	W_TOKEN_USED,
	W_NOT_EMPTY,
	W_LOAD_LINK,
	W_LOAD_REFERRER,
	W_LOAD_TOKEN,
	W_WAITING_COUNT,
	W_WAITING_INDEX,
	W_WAITING_DONE,
	W_BEGIN,
	W_COMMIT,
	W_COUNT,
};

static const char *const writer_sql[W_COUNT] = {
    [W_INSERT_LINK] = "INSERT INTO links (" INSERT_COLUMNS ") "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    [W_GET_BY_CODE] = "SELECT " LINK_COLUMNS " FROM links WHERE code = ?1",
    [W_ID_BY_CODE] = "SELECT id FROM links WHERE code = ?1",
    [W_REUSE] = "SELECT " LINK_COLUMNS " FROM links WHERE url = ?1 AND status = ?2 AND forward_query = ?3 "
                "AND expires_at IS ?4 AND max_clicks IS ?5 AND disabled = 0 ORDER BY id LIMIT 1",
    [W_UPDATE_LINK] = "UPDATE links SET url = ?2, status = ?3, forward_query = ?4, disabled = ?5, "
                      "expires_at = ?6, max_clicks = ?7, updated_at = ?8, title = ?9, tags = ?10, "
                      "updated_by = ?11 WHERE id = ?1",
    [W_DELETE_LINK] = "DELETE FROM links WHERE code = ?1 RETURNING id",
    [W_TOTALS_GET] = "SELECT data FROM click_totals WHERE chunk = ?1",
    [W_TOTALS_INSERT] = "INSERT INTO click_totals (chunk, data) VALUES (?1, ?2)",
    [W_TOTALS_UPDATE] = "UPDATE click_totals SET data = ?2 WHERE chunk = ?1",
    [W_TOTALS_DELETE] = "DELETE FROM click_totals WHERE chunk = ?1",
    [W_DAYS_GET] = "SELECT data FROM click_days WHERE key = ?1",
    [W_DAYS_INSERT] = "INSERT INTO click_days (key, data) VALUES (?1, ?2)",
    [W_DAYS_UPDATE] = "UPDATE click_days SET data = ?2 WHERE key = ?1",
    [W_DAYS_DELETE] = "DELETE FROM click_days WHERE key = ?1",
    [W_DAYS_RANGE] = "SELECT key FROM click_days WHERE key BETWEEN ?1 AND ?2",
    [W_LINK_EXISTS] = "SELECT 1 FROM links WHERE id = ?1",
    [W_CLICK_REFERRER] = "INSERT INTO referrers_daily (link_id, day, host, clicks) VALUES (?1, ?2, ?3, ?4) "
                         "ON CONFLICT (link_id, day, host) DO UPDATE SET clicks = clicks + excluded.clicks",
    [W_TOKEN_ADD] = "INSERT INTO tokens (name, hash, role, created_at) VALUES (?1, ?2, ?3, ?4)",
    [W_TOKEN_REVOKE] = "DELETE FROM tokens WHERE name = ?1",
    /* One statement, so no other writer can revoke the other admin tokens
     * between the count and the delete. */
    [W_TOKEN_REVOKE_ID] = "DELETE FROM tokens WHERE id = ?1 AND (?2 = 0 OR role <> 0 OR "
                          "(SELECT count(*) FROM tokens WHERE role = 0) > 1)",
    [W_TOKEN_REVOKE_NAME] = "DELETE FROM tokens WHERE name = ?1 AND (?2 = 0 OR role <> 0 OR "
                            "(SELECT count(*) FROM tokens WHERE role = 0) > 1)",
    [W_TOKEN_EXISTS] = "SELECT 1 FROM tokens WHERE id = ?1",
    [W_TOKEN_NAME_EXISTS] = "SELECT 1 FROM tokens WHERE name = ?1",
    [W_TOKEN_USED] = "UPDATE tokens SET last_used_at = max(coalesce(last_used_at, ?2), ?2) WHERE id = ?1",
    [W_NOT_EMPTY] = STORE_SQL_NOT_EMPTY,
    [W_LOAD_LINK] = "INSERT INTO links (" INSERT_COLUMNS ") "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    [W_LOAD_REFERRER] = "INSERT INTO referrers_daily (link_id, day, host, clicks) VALUES (?1, ?2, ?3, ?4)",
    [W_LOAD_TOKEN] = "INSERT INTO tokens (name, hash, role, created_at, last_used_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    [W_WAITING_COUNT] = "SELECT count(*) FROM links WHERE id > " WAITING_SINCE,
    /* In id order, as FTS5 takes a statement's rows in one segment only
     * while their rowids go up. The text is what 009's triggers index. */
    [W_WAITING_INDEX] = "INSERT INTO link_search (rowid, code, url, title, tags) "
                        "SELECT id, code, url, title, (SELECT group_concat(value, char(10)) FROM json_each(tags)) "
                        "FROM links WHERE id > " WAITING_SINCE " ORDER BY id",
    [W_WAITING_DONE] = "UPDATE link_search_indexed SET upto = (SELECT max(id) FROM links) WHERE id = 1",
    /* Every write's, prepared once rather than parsed each time. */
    [W_BEGIN] = "BEGIN IMMEDIATE",
    [W_COMMIT] = "COMMIT",
};

/* The WAL-index header: the first 48 bytes of the -shm file, then its
 * second copy; read as 64-bit words (the mapping is page-aligned). */
#define WAL_HDR_WORDS 6

struct reader {
	sqlite3 *db;
	sqlite3_stmt *stmt[R_COUNT];
	volatile const uint64_t *wal_hdr; /* the mapped WAL-index, once known */
	uint64_t seen[WAL_HDR_WORDS];     /* its header when epoch was read */
	int64_t epoch;                    /* the link epoch last read */
	struct reader *next_spare;        /* opened at start, not yet taken by a thread */
};

/* A file the store holds open, and the path that should name it. */
struct held {
	char *path;
	int fd; /* -1: not held (yet) */
	dev_t dev;
	ino_t ino;
};

struct sq {
	char *path;
	pthread_mutex_t wlock;
	sqlite3 *w;
	sqlite3_stmt *wstmt[W_COUNT];
	sqlite3_stmt *insert_rows; /* insert_rows_n rows of a create; NULL until used */
	size_t insert_rows_n;
	sqlite3_stmt *import_rows[INSERT_SIZES]; /* INSERT_ROWS >> k rows of INSERT_COLUMNS; NULL until used */
	struct click_chunk_change *chg;          /* under wlock: the changes of the write under way */
	size_t chg_cap;
	int64_t *deleted; /* under wlock: links of a batch of clicks found deleted (drop_gone) */
	size_t n_deleted, deleted_cap;
	struct thread_registry *readers; /* each reading thread's own */
	pthread_mutex_t spare_lock;
	struct reader *spare; /* opened at start, not yet taken */
	bool closing_gone;    /* at close: the paths name other files */
	int version;
	int version_found;      /* before migrations */
	struct held file[2];    /* HELD_DB, HELD_WAL */
	bool gone;              /* under wlock: the last verdict of path_check */
	bool gone_checkpointed; /* under wlock: the WAL was copied into the file since */
};

enum { HELD_DB, HELD_WAL };

static int map_rc(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return STORE_OK;
	case SQLITE_CONSTRAINT:
		return STORE_CONFLICT;
	case SQLITE_FULL:
		return STORE_FULL;
	case SQLITE_READONLY:
	case SQLITE_PERM:
		return STORE_READONLY;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return STORE_CORRUPT;
	default:
		return STORE_ERROR;
	}
}

/* Logs a failed call with SQLite's own words and maps its code. */
static int sq_error(sqlite3 *db, const char *what, int rc)
{
	/* rc may be the store's own verdict (a blob found corrupt), not the
	 * connection's last error. */
	bool own = db != NULL && (sqlite3_errcode(db) & 0xff) == (rc & 0xff);

	fprintf(stderr, "shortd: store: %s: %s\n", what, own ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
	return map_rc(rc);
}

/* Every connection's settings. */
#define CONN_PRAGMAS "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;"

/*
 * A database this store creates has pages of 8 KiB, not SQLite's 4 KiB:
 * a batch of clicks rewrites every chunk row it touches, and with rows
 * of up to 3 KiB a page of 8 KiB holds two, so a batch over many links
 * writes half the pages (each a frame of the -wal, written with two
 * system calls) and reads half as many back. A file keeps the page size
 * it was made with.
 */
#define NEW_PAGE_SIZE 8192

/*
 * The -wal is copied back into the file once it holds about 32 MiB of
 * pages instead of SQLite's 1,000 pages (a connection checkpoints only
 * after its own commits): a batch of clicks over thousands of links
 * dirties most pages of the click tables, and with 1,000 each batch
 * started a checkpoint, with its fsync, on its own; now a page that
 * several batches wrote is copied once.
 */
#define WAL_CHECKPOINT_BYTES (32 * 1024 * 1024)

/* Only the store's first connection, and only for serve and init, may
 * create the file. */
static int open_conn(const char *path, bool create, sqlite3 **out)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(path, &db,
	                         SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX, NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, CONN_PRAGMAS, NULL, NULL, NULL);
	/* Takes effect only on a file that is still empty. */
	if (rc == SQLITE_OK && create)
		rc = sqlite3_exec(db, "PRAGMA page_size = " STR(NEW_PAGE_SIZE), NULL, NULL, NULL);
	*out = db;
	return rc;
}

/* sqlite3_exec's row callback for PRAGMA page_size on the connection arg:
 * sets the checkpoint's threshold for the file's page size. */
static int set_autocheckpoint(void *arg, int ncols, char **values, char **names)
{
	(void)ncols;
	(void)names;
	return sqlite3_wal_autocheckpoint(arg, WAL_CHECKPOINT_BYTES / atoi(values[0]));
}

/* Copies a text column into dst[size], cut like snprintf would cut it. */
static void column_copy(sqlite3_stmt *st, int col, char *dst, size_t size)
{
	const char *s = (const char *)sqlite3_column_text(st, col);
	size_t n = s != NULL ? strnlen(s, size - 1) : 0;

	if (n > 0)
		memcpy(dst, s, n);
	dst[n] = '\0';
}

static int64_t chunk_of(int64_t link_id)
{
	return link_id >> CLICK_CHUNK_SHIFT;
}

static unsigned slot_of(int64_t link_id)
{
	return (unsigned)(link_id & (CLICK_CHUNK_LINKS - 1));
}

/* The click_days key of a link's day; false when the link id or the day
 * is out of the keys' range. */
static bool day_key(int64_t link_id, int64_t day, int64_t *key)
{
	if (link_id < 1 || chunk_of(link_id) > CHUNK_MAX || day < 0 || day > DAY_MAX)
		return false;
	*key = chunk_of(link_id) << DAY_BITS | day;
	return true;
}

/*
 * A link's row of LINK_COLUMNS or REDIRECT_COLUMNS into l; false, logged,
 * when its click totals are not a blob of totals. A redirect of a link
 * without max_clicks does not need them, and is not refused for them: it
 * reads them as none (the click writer and every other read report the
 * row).
 */
static bool link_from_row(sqlite3_stmt *st, struct link *l)
{
	int64_t v[CLICK_CHUNK_FIELDS_MAX];
	const unsigned char *totals;
	bool redirect = sqlite3_column_count(st) == REDIRECT_COLUMN_COUNT;

	l->id = sqlite3_column_int64(st, 0);
	column_copy(st, 1, l->code, sizeof(l->code));
	column_copy(st, 2, l->url, sizeof(l->url));
	l->status = sqlite3_column_int(st, 3);
	l->forward_query = sqlite3_column_int(st, 4) != 0;
	l->disabled = sqlite3_column_int(st, 5) != 0;
	l->created_at = sqlite3_column_int64(st, 6);
	l->updated_at = sqlite3_column_int64(st, 7);
	l->expires_at = sqlite3_column_type(st, 8) == SQLITE_NULL ? LINK_NO_TIME : sqlite3_column_int64(st, 8);
	l->max_clicks = sqlite3_column_type(st, 9) == SQLITE_NULL ? LINK_NO_LIMIT : sqlite3_column_int64(st, 9);
	totals = sqlite3_column_blob(st, TOTALS_COLUMN);
	if (click_chunk_get(&click_chunk_totals, totals, (size_t)sqlite3_column_bytes(st, TOTALS_COLUMN),
	                    slot_of(l->id), v) != CLICK_CHUNK_OK) {
		if (!redirect || l->max_clicks != LINK_NO_LIMIT) {
			fprintf(stderr,
			        "shortd: store: link %lld: its click totals (click_totals row %lld) are corrupt; "
			        "DELETE FROM click_totals WHERE chunk = %lld starts the counts of links %lld to %lld "
			        "again\n",
			        (long long)l->id, (long long)chunk_of(l->id), (long long)chunk_of(l->id),
			        (long long)(chunk_of(l->id) << CLICK_CHUNK_SHIFT),
			        (long long)((chunk_of(l->id) << CLICK_CHUNK_SHIFT) + CLICK_CHUNK_LINKS - 1));
			return false;
		}
		memcpy(v, click_chunk_totals.empty, sizeof(v));
	}
	l->clicks = v[0];
	l->bot_clicks = v[1];
	l->last_click_at = v[2];
	if (redirect) { /* no labels */
		l->title[0] = '\0';
		l->n_tags = 0;
		l->created_by[0] = '\0';
		l->updated_by[0] = '\0';
		return true;
	}
	column_copy(st, TOTALS_COLUMN + 1, l->title, sizeof(l->title));
	link_tags_from_json((const char *)sqlite3_column_text(st, TOTALS_COLUMN + 2), l);
	column_copy(st, TOTALS_COLUMN + 3, l->created_by, sizeof(l->created_by));
	column_copy(st, TOTALS_COLUMN + 4, l->updated_by, sizeof(l->updated_by));
	return true;
}

/* The step result rc of a link's statement, the row read into l:
 * SQLITE_CORRUPT in place of SQLITE_ROW when its totals are. */
static int link_step(sqlite3_stmt *st, int rc, struct link *l)
{
	return rc == SQLITE_ROW && !link_from_row(st, l) ? SQLITE_CORRUPT : rc;
}

/* ---- migrations ---- */

/*
 * shortd_click_totals(id, clicks, bot_clicks, last_click_at) and
 * shortd_click_days(link_id, day, clicks, bot_clicks): aggregates that
 * build one chunk's blob from its links' rows (sql/sqlite/008), in any
 * order; the migration groups them by chunk (and day), and a link has one
 * row a group (links' and clicks_daily's keys). They fail on a link id
 * below 1 or a day out of range.
 */
struct chunk_agg {
	bool have[CLICK_CHUNK_LINKS];
	struct click_chunk_change c[CLICK_CHUNK_LINKS];
};

static void chunk_agg_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const struct click_chunk_kind *kind = sqlite3_user_data(ctx);
	struct chunk_agg *a = sqlite3_aggregate_context(ctx, sizeof(*a));
	int64_t id = sqlite3_value_int64(argv[0]), key;
	unsigned slot = slot_of(id);
	struct click_chunk_change *c;
	/* a totals row's link as on day 0: the same range of ids */
	bool in_range = day_key(id, kind == &click_chunk_day ? sqlite3_value_int64(argv[1]) : 0, &key);

	if (a == NULL) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	if (!in_range) {
		char *msg =
		    kind == &click_chunk_day
		        ? sqlite3_mprintf("link %lld, day %lld: click counts the packed rows cannot hold (a link "
		                          "id below 1 or of 2^50 and above, or a day before 1970 or after 4840)",
		                          (long long)id, (long long)sqlite3_value_int64(argv[1]))
		        : sqlite3_mprintf("link %lld: click counts the packed rows cannot hold (a link id below 1, or "
		                          "of 2^50 and above)",
		                          (long long)id);
		sqlite3_result_error(ctx, msg != NULL ? msg : "click counts out of range", -1);
		sqlite3_free(msg);
		return;
	}
	a->have[slot] = true;
	c = &a->c[slot];
	c->slot = slot;
	for (int f = 0; f < kind->fields; f++) {
		sqlite3_value *v = argv[argc - kind->fields + f];
		c->v[f] = sqlite3_value_type(v) == SQLITE_NULL ? kind->empty[f] : sqlite3_value_int64(v);
	}
}

static void chunk_agg_final(sqlite3_context *ctx)
{
	const struct click_chunk_kind *kind = sqlite3_user_data(ctx);
	struct chunk_agg *a = sqlite3_aggregate_context(ctx, 0);
	struct click_chunk_change c[CLICK_CHUNK_LINKS];
	unsigned char out[CLICK_CHUNK_MAX];
	size_t n = 0, len = 0;

	for (unsigned i = 0; a != NULL && i < CLICK_CHUNK_LINKS; i++) {
		if (a->have[i])
			c[n++] = a->c[i];
	}
	if (click_chunk_apply(kind, NULL, 0, c, n, true, out, &len) != CLICK_CHUNK_OK)
		sqlite3_result_error(ctx, "click counts cannot be packed", -1);
	else
		sqlite3_result_blob(ctx, out, (int)len, SQLITE_TRANSIENT);
}

/* Defines the aggregates above on the writer connection. */
static int chunk_agg_define(sqlite3 *db)
{
	int rc = sqlite3_create_function_v2(db, "shortd_click_totals", 4, SQLITE_UTF8, (void *)&click_chunk_totals,
	                                    NULL, chunk_agg_step, chunk_agg_final, NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_create_function_v2(db, "shortd_click_days", 4, SQLITE_UTF8, (void *)&click_chunk_day, NULL,
		                                chunk_agg_step, chunk_agg_final, NULL);
	return rc;
}

static int read_user_version(sqlite3 *db, int *version)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);

	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			*version = sqlite3_column_int(st, 0);
			rc = SQLITE_OK;
		}
	}
	sqlite3_finalize(st);
	return rc;
}

static int migrate(struct sq *q, char *err, size_t errlen)
{
	int latest = sqlite_migrations_count > 0 ? sqlite_migrations[sqlite_migrations_count - 1].version : 0;
	int rc = read_user_version(q->w, &q->version);

	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: cannot read database: %s", q->path, sqlite3_errmsg(q->w));
		return map_rc(rc);
	}
	q->version_found = q->version;
	if (q->version > latest) {
		snprintf(err, errlen,
		         "%s: database schema version %d is newer than this shortd supports (%d); "
		         "use a newer shortd",
		         q->path, q->version, latest);
		return STORE_TOO_NEW;
	}
	for (int i = 0; i < sqlite_migrations_count; i++) {
		char pragma[64];
		if (sqlite_migrations[i].version <= q->version)
			continue;
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d; COMMIT;", sqlite_migrations[i].version);
		rc = sqlite3_exec(q->w, "BEGIN IMMEDIATE", NULL, NULL, NULL);
		/* Another process opening the same file may have migrated it since
		 * the version was read: read it again under the write lock. */
		if (rc == SQLITE_OK)
			rc = read_user_version(q->w, &q->version);
		if (rc == SQLITE_OK && q->version >= sqlite_migrations[i].version) {
			sqlite3_exec(q->w, "COMMIT", NULL, NULL, NULL);
			if (q->version > latest) {
				snprintf(err, errlen,
				         "%s: database schema version %d is newer than this shortd "
				         "supports (%d); use a newer shortd",
				         q->path, q->version, latest);
				return STORE_TOO_NEW;
			}
			continue;
		}
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(q->w, sqlite_migrations[i].sql, NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(q->w, pragma, NULL, NULL, NULL);
		if (rc != SQLITE_OK) {
			snprintf(err, errlen, "%s: migration %s failed: %s", q->path, sqlite_migrations[i].name,
			         sqlite3_errmsg(q->w));
			sqlite3_exec(q->w, "ROLLBACK", NULL, NULL, NULL);
			return map_rc(rc);
		}
		q->version = sqlite_migrations[i].version;
	}
	return STORE_OK;
}

/* ---- the files held ---- */

/* Opens the file at h->path read-only and keeps it, to know it by its inode
 * for as long as the store is open. Closed only after every connection is:
 * closing any descriptor of a file drops all of the process's POSIX locks on
 * it, SQLite's included. */
static int held_open(struct held *h)
{
	struct stat sb;

	h->fd = open(h->path, O_RDONLY | O_CLOEXEC);
	if (h->fd < 0 || fstat(h->fd, &sb) != 0)
		return -1;
	h->dev = sb.st_dev;
	h->ino = sb.st_ino;
	return 0;
}

/* True while h->path names the file held, or none is held. */
static bool held_is_at_path(const struct held *h)
{
	struct stat sb;

	return h->fd < 0 || (stat(h->path, &sb) == 0 && sb.st_dev == h->dev && sb.st_ino == h->ino);
}

/* What became of a held file that its path no longer names, in words. The
 * kernel knows a file's name through /proc/self/fd unless the name it was
 * opened by was removed ("... (deleted)"), as a rename over it does. */
static void held_describe(const struct held *h, char *out, size_t size)
{
	static const char deleted[] = " (deleted)";
	char proc[64], where[PATH_MAX];
	struct stat sb;
	bool other = stat(h->path, &sb) == 0;
	size_t dl = sizeof(deleted) - 1;
	ssize_t n;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", h->fd);
	n = readlink(proc, where, sizeof(where) - 1);
	where[n > 0 ? n : 0] = '\0';
	if (fstat(h->fd, &sb) == 0 && sb.st_nlink == 0)
		snprintf(out, size, "%s was deleted%s", h->path, other ? " and another file put at its path" : "");
	else if (n > 0 && ((size_t)n < dl || strcmp(where + n - dl, deleted) != 0))
		snprintf(out, size, "%s was moved to %s%s", h->path, where,
		         other ? " and another file put at its path" : "");
	else
		snprintf(out, size, "%s was %s", h->path, other ? "replaced by another file" : "moved");
}

/* HELD_DB or HELD_WAL: the first held file that its path no longer names;
 * -1 when both are where they were. */
static int path_check(const struct sq *q)
{
	for (int i = HELD_DB; i <= HELD_WAL; i++) {
		if (!held_is_at_path(&q->file[i]))
			return i;
	}
	return -1;
}

/*
 * The writer's view of the paths, under wlock: STORE_OK, or STORE_GONE with
 * the change logged once. Gone, the WAL is copied into the database file the
 * store holds (and emptied), so that file has every committed write by
 * itself wherever it went, and the -wal left at the path holds nothing that
 * another database there could take for its own.
 */
static int watch(struct sq *q)
{
	char what[2 * PATH_MAX];
	int lost = path_check(q);

	if (lost < 0) {
		if (q->gone)
			fprintf(stderr, "shortd: store: %s is back where it was opened; writes resume\n", q->path);
		q->gone = false;
		return STORE_OK;
	}
	if (!q->gone) {
		held_describe(&q->file[lost], what, sizeof(what));
		fprintf(stderr,
		        "shortd: store: %s while shortd ran; writes are refused until it is back "
		        "(or shortd restarts)\n",
		        what);
		q->gone = true;
		q->gone_checkpointed = false;
	}
	if (!q->gone_checkpointed) {
		int rc = sqlite3_wal_checkpoint_v2(q->w, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
		q->gone_checkpointed = rc == SQLITE_OK;
		if (rc == SQLITE_OK)
			fprintf(stderr, "shortd: store: every committed write is in the database file shortd "
			                "opened (its WAL is copied into it)\n");
		else
			fprintf(stderr,
			        "shortd: store: copying the WAL into the database file failed, tried "
			        "again at the next check: %s\n",
			        sqlite3_errmsg(q->w));
	}
	return STORE_GONE;
}

/* Closes db; when the paths name other files now, it is first told to
 * delete nothing by name (by default the last connection deletes PATH-wal
 * and PATH-shm). */
static void close_conn(sqlite3 *db, bool gone)
{
	int persist = 1;

	if (db != NULL && gone)
		sqlite3_file_control(db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
	sqlite3_close(db);
}

/* ---- readers ---- */

/* A reader's page cache, in KiB (negative cache_size), instead of SQLite's
 * 2 MB: one per worker thread, and the link cache answers most redirects.
 * It still holds every interior page of both b-trees at 1,000,000 links
 * (79 pages for links and its code index), so a miss reads at most the two
 * leaves. */
#define READER_CACHE_SIZE "-1024"

/*
 * A new read connection, opened by name only while the paths name the files
 * held. Its first read, made here, opens the -wal by name as well, so the
 * paths are looked at again after it.
 */
static struct reader *reader_open(struct sq *q)
{
	struct reader *r;
	int lost = path_check(q);

	if (lost >= 0) {
		fprintf(stderr, "shortd: store: no new read connection: %s is not the file opened\n",
		        q->file[lost].path);
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	if (open_conn(q->path, false, &r->db) != SQLITE_OK || trigram_contains_register(r->db) != SQLITE_OK ||
	    sqlite3_exec(r->db,
	                 "PRAGMA query_only = 1; PRAGMA cache_size = " READER_CACHE_SIZE
	                 "; SELECT count(*) FROM sqlite_schema",
	                 NULL, NULL, NULL) != SQLITE_OK ||
	    (lost = path_check(q)) >= 0) {
		if (lost >= 0)
			fprintf(stderr, "shortd: store: no new read connection: %s is not the file opened\n",
			        q->file[lost].path);
		else
			sq_error(r->db, "open read connection", SQLITE_CANTOPEN);
		sqlite3_close(r->db);
		free(r);
		return NULL;
	}
	return r;
}

/* Closes r; gone: the paths name other files now (see close_conn). */
static void reader_close(struct reader *r, bool gone)
{
	for (int i = 0; i < R_COUNT; i++)
		sqlite3_finalize(r->stmt[i]);
	close_conn(r->db, gone);
	free(r);
}

/* A thread's first read takes a reader opened at start, else opens one. */
static void *reader_for_thread(void *arg)
{
	struct sq *q = arg;
	struct reader *r;

	pthread_mutex_lock(&q->spare_lock);
	r = q->spare;
	if (r != NULL)
		q->spare = r->next_spare;
	pthread_mutex_unlock(&q->spare_lock);
	return r != NULL ? r : reader_open(q);
}

static void reader_free(void *obj, void *arg)
{
	reader_close(obj, ((struct sq *)arg)->closing_gone);
}

/* The calling thread's reader; NULL when none can be opened. */
static struct reader *reader_get(struct sq *q)
{
	return thread_registry_get(q->readers);
}

static int sq_open_readers(void *impl, int n, char *err, size_t errlen)
{
	struct sq *q = impl;

	for (int i = 0; i < n; i++) {
		struct reader *r = reader_open(q);
		if (r == NULL) {
			snprintf(err, errlen, "%s: cannot open a read connection", q->path);
			return STORE_ERROR;
		}
		pthread_mutex_lock(&q->spare_lock);
		r->next_spare = q->spare;
		q->spare = r;
		pthread_mutex_unlock(&q->spare_lock);
	}
	return STORE_OK;
}

/* r's prepared statement, prepared on first use, reset and ready to bind. */
static sqlite3_stmt *reader_prepared(struct reader *r, enum reader_stmt which)
{
	if (r->stmt[which] == NULL && sqlite3_prepare_v3(r->db, reader_sql[which], -1, SQLITE_PREPARE_PERSISTENT,
	                                                 &r->stmt[which], NULL) != SQLITE_OK) {
		sq_error(r->db, "prepare", SQLITE_ERROR);
		return NULL;
	}
	return r->stmt[which];
}

/* The calling thread's prepared statement, reset and ready to bind. */
static sqlite3_stmt *reader_stmt(struct sq *q, enum reader_stmt which, struct reader **rout)
{
	struct reader *r = reader_get(q);

	*rout = r;
	return r != NULL ? reader_prepared(r, which) : NULL;
}

/* The one integer that statement which answers with; what names it in an
 * error. */
static int reader_int(struct reader *r, enum reader_stmt which, const char *what, int64_t *out)
{
	sqlite3_stmt *st = reader_prepared(r, which);
	int rc;

	if (st == NULL)
		return STORE_ERROR;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? STORE_OK : sq_error(r->db, what, rc);
}

/* ---- open and close ---- */

static void sq_close(void *impl)
{
	struct sq *q = impl;
	bool gone;

	if (q == NULL)
		return;
	gone = path_check(q) >= 0;
	q->closing_gone = gone;
	thread_registry_free(q->readers);
	for (struct reader *r = q->spare, *next; r != NULL; r = next) {
		next = r->next_spare;
		reader_close(r, gone);
	}
	for (int i = 0; i < W_COUNT; i++)
		sqlite3_finalize(q->wstmt[i]);
	free(q->chg);
	free(q->deleted);
	sqlite3_finalize(q->insert_rows);
	for (int i = 0; i < INSERT_SIZES; i++)
		sqlite3_finalize(q->import_rows[i]);
	if (q->w != NULL && gone) {
		/* SQLite skips its checkpoint at close when the file has moved. */
		pthread_mutex_lock(&q->wlock);
		watch(q);
		pthread_mutex_unlock(&q->wlock);
	} else if (q->w != NULL) {
		sqlite3_exec(q->w, "PRAGMA optimize", NULL, NULL, NULL);
	}
	close_conn(q->w, gone);
	for (int i = HELD_DB; i <= HELD_WAL; i++) {
		if (q->file[i].fd >= 0)
			close(q->file[i].fd);
	}
	pthread_mutex_destroy(&q->spare_lock);
	pthread_mutex_destroy(&q->wlock);
	free(q->file[HELD_WAL].path);
	free(q->path);
	free(q);
}

/* One integer from a one-row statement; -1 when it fails. */
static int64_t query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Reads the schema and the first row of every table: each table b-tree's
 * root page and its leftmost path, a constant cost whatever the size. All
 * columns are asked for, so the read cannot be answered from a smaller
 * covering index instead of the table. A virtual table is left to the
 * tables that hold it (FTS5's link_search_data, _idx, _config): it has no
 * b-tree of its own, and the contentless link_search cannot be scanned. */
static int probe_tables(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db,
	                            "SELECT name FROM sqlite_schema WHERE type = 'table' AND "
	                            "sql NOT LIKE 'CREATE VIRTUAL TABLE%'",
	                            -1, &st, NULL);

	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		char *sql = sqlite3_mprintf("SELECT * FROM \"%w\" LIMIT 1", (const char *)sqlite3_column_text(st, 0));
		rc = sql != NULL ? sqlite3_exec(db, sql, NULL, NULL, NULL) : SQLITE_NOMEM;
		sqlite3_free(sql);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/*
 * A damaged page is looked for when the database is opened (serve refuses to
 * start) rather than left to the request that first reads it. Up to
 * QUICK_CHECK_MAX_BYTES, PRAGMA quick_check reads the whole file. A larger
 * database gets probe_tables() only: a full check is O(size), 0.7 s for a
 * million links, and start-up must stay under 100 ms. Damage the
 * probe misses surfaces as a 503 on the reads that meet it.
 */
static int quick_check(struct sq *q, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc;
	const char *verdict = NULL;

	/* In bytes: the check reads the file, and pages are 4 or 8 KiB. */
	if (query_int(q->w, "PRAGMA page_count") * query_int(q->w, "PRAGMA page_size") > QUICK_CHECK_MAX_BYTES) {
		rc = probe_tables(q->w);
		if (rc == SQLITE_OK)
			return STORE_OK;
		snprintf(err, errlen, "%s: database is corrupt: %s", q->path, sqlite3_errmsg(q->w));
		rc = map_rc(rc);
		return rc == STORE_OK || rc == STORE_ERROR ? STORE_CORRUPT : rc;
	}
	rc = sqlite3_prepare_v2(q->w, "PRAGMA quick_check(1)", -1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		verdict = (const char *)sqlite3_column_text(st, 0);
		rc = verdict != NULL && strcmp(verdict, "ok") == 0 ? SQLITE_OK : SQLITE_CORRUPT;
	}
	if (rc != SQLITE_OK) {
		/* The verdict may span lines; the error is one line. */
		snprintf(err, errlen, "%s: database is corrupt: %s", q->path,
		         verdict != NULL ? verdict : sqlite3_errmsg(q->w));
		for (char *c = err; *c != '\0'; c++) {
			if (*c == '\n' || *c == '\r')
				*c = ' ';
		}
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_OK)
		return STORE_OK;
	rc = map_rc(rc);
	return rc == STORE_OK || rc == STORE_ERROR ? STORE_CORRUPT : rc;
}

/* Opens and holds the database file of a command that needs one: a missing
 * or empty file is no database, and is left as it is. */
static int hold_existing(struct sq *q, char *err, size_t errlen)
{
	struct held *h = &q->file[HELD_DB];
	struct stat sb;

	if (held_open(h) != 0) {
		int e = errno;
		if (e == ENOENT) {
			snprintf(err, errlen, "no database at %s (shortd init --db %s creates one)", q->path, q->path);
			return STORE_NOT_FOUND;
		}
		snprintf(err, errlen, "%s: cannot open database: %s", q->path, strerror(e));
		return e == EACCES ? STORE_READONLY : STORE_ERROR;
	}
	if (fstat(h->fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size == 0) {
		snprintf(err, errlen, "no database at %s: the file is empty (shortd init --db %s makes it one)",
		         q->path, q->path);
		return STORE_NOT_FOUND;
	}
	return STORE_OK;
}

/* Before a database is created at the path: a -wal with data beside a
 * missing or empty file may be all that is left of the committed writes of
 * a database moved or deleted while in use, and SQLite would delete it. */
static int refuse_orphan_wal(struct sq *q, char *err, size_t errlen)
{
	struct stat db, wal;

	if ((stat(q->path, &db) != 0 || (S_ISREG(db.st_mode) && db.st_size == 0)) &&
	    stat(q->file[HELD_WAL].path, &wal) == 0 && wal.st_size > 0) {
		snprintf(err, errlen,
		         "%s: there is no database, but %s holds data (of a database moved or deleted "
		         "while in use?); put the database back, or move %s away",
		         q->path, q->file[HELD_WAL].path, q->file[HELD_WAL].path);
		return STORE_ERROR;
	}
	return STORE_OK;
}

static int index_waiting_at_open(struct sq *q, char *err, size_t errlen);

static int sq_open(const char *path, bool create, void **impl, char *err, size_t errlen)
{
	struct sq *q = calloc(1, sizeof(*q));
	char mode[16] = "";
	sqlite3_stmt *st = NULL;
	size_t n = strlen(path);
	int rc;

	*impl = NULL;
	if (q == NULL || (q->path = strdup(path)) == NULL || (q->file[HELD_WAL].path = malloc(n + 5)) == NULL) {
		if (q != NULL)
			free(q->path);
		free(q);
		snprintf(err, errlen, "out of memory");
		return STORE_ERROR;
	}
	snprintf(q->file[HELD_WAL].path, n + 5, "%s-wal", path);
	q->file[HELD_DB].path = q->path;
	q->file[HELD_DB].fd = q->file[HELD_WAL].fd = -1;
	pthread_mutex_init(&q->wlock, NULL);
	pthread_mutex_init(&q->spare_lock, NULL);
	if (thread_registry_new(reader_for_thread, reader_free, q, &q->readers) != 0) {
		snprintf(err, errlen, "out of memory or thread keys");
		pthread_mutex_destroy(&q->spare_lock);
		pthread_mutex_destroy(&q->wlock);
		free(q->file[HELD_WAL].path);
		free(q->path);
		free(q);
		return STORE_ERROR;
	}
	rc = create ? refuse_orphan_wal(q, err, errlen) : hold_existing(q, err, errlen);
	if (rc != STORE_OK) {
		sq_close(q);
		return rc;
	}
	rc = open_conn(path, create, &q->w);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s: %s", path,
		         (rc & 0xff) == SQLITE_READONLY ? "database is read-only" : "cannot open database",
		         q->w != NULL ? sqlite3_errmsg(q->w) : sqlite3_errstr(rc));
		goto fail;
	}
	if (create && held_open(&q->file[HELD_DB]) != 0) {
		snprintf(err, errlen, "%s: cannot open database: %s", path, strerror(errno));
		rc = SQLITE_CANTOPEN;
		goto fail;
	}
	if (sqlite3_db_readonly(q->w, "main") == 1) {
		snprintf(err, errlen, "%s: database is read-only", path);
		rc = SQLITE_READONLY;
		goto fail;
	}
	/* journal_mode answers with the mode in force: check it took. */
	rc = sqlite3_prepare_v2(q->w, "PRAGMA journal_mode = WAL", -1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		snprintf(mode, sizeof(mode), "%s", (const char *)sqlite3_column_text(st, 0));
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_OK) {
		/* SQLite opens a file it may not write read-only and says so only
		 * at the first write, which is this one. */
		if ((rc & 0xff) == SQLITE_READONLY)
			snprintf(err, errlen, "%s: database is read-only (%s)", path, sqlite3_errmsg(q->w));
		else
			snprintf(err, errlen, "%s: cannot open database: %s", path, sqlite3_errmsg(q->w));
		goto fail;
	}
	if (strcmp(mode, "wal") != 0) {
		snprintf(err, errlen, "%s: cannot switch the database to WAL mode (got %s)", path, mode);
		rc = SQLITE_CANTOPEN;
		goto fail;
	}
	rc = sqlite3_exec(q->w, "PRAGMA page_size", set_autocheckpoint, q->w, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: cannot open database: %s", path, sqlite3_errmsg(q->w));
		goto fail;
	}
	rc = quick_check(q, err, errlen);
	if (rc == STORE_OK && chunk_agg_define(q->w) != SQLITE_OK) {
		snprintf(err, errlen, "%s: cannot define functions: %s", path, sqlite3_errmsg(q->w));
		rc = STORE_ERROR;
	}
	if (rc == STORE_OK)
		rc = migrate(q, err, errlen);
	if (rc != STORE_OK) {
		sq_close(q);
		return rc;
	}
	for (int i = 0; i < W_COUNT; i++) {
		rc = sqlite3_prepare_v3(q->w, writer_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &q->wstmt[i], NULL);
		if (rc != SQLITE_OK) {
			snprintf(err, errlen, "%s: cannot prepare statements: %s", path, sqlite3_errmsg(q->w));
			goto fail;
		}
	}
	/* The -wal exists now: the first read in WAL mode opened it. */
	if (held_open(&q->file[HELD_WAL]) != 0) {
		snprintf(err, errlen, "%s: cannot open %s: %s", path, q->file[HELD_WAL].path, strerror(errno));
		rc = SQLITE_CANTOPEN;
		goto fail;
	}
	if (path_check(q) >= 0) {
		snprintf(err, errlen, "%s: the file was moved or replaced while it was being opened", path);
		rc = SQLITE_CANTOPEN;
		goto fail;
	}
	rc = index_waiting_at_open(q, err, errlen);
	if (rc != STORE_OK) {
		sq_close(q);
		return rc;
	}
	*impl = q;
	return STORE_OK;
fail:
	rc = map_rc(rc);
	sq_close(q);
	return rc == STORE_OK ? STORE_ERROR : rc;
}

static int sq_schema_version(void *impl)
{
	return ((struct sq *)impl)->version;
}

static int sq_schema_version_found(void *impl)
{
	return ((struct sq *)impl)->version_found;
}

static int sq_check(void *impl)
{
	struct sq *q = impl;
	int rc;

	pthread_mutex_lock(&q->wlock);
	rc = watch(q);
	pthread_mutex_unlock(&q->wlock);
	return rc;
}

/*
 * The store answers when its files are still at their paths and a fresh
 * connection can read the schema. The daemon's own connections would go on
 * serving from a moved, deleted or unreadable file (their pages are cached,
 * their descriptors open), so they cannot tell; the paths and a new
 * connection can. It is opened read-only, without SQLITE_OPEN_CREATE, and
 * only once the paths were found to name the files held.
 */
static int sq_ping(void *impl)
{
	struct sq *q = impl;
	sqlite3 *db = NULL;
	int rc = sq_check(q);

	if (rc != STORE_OK)
		return rc;
	rc = sqlite3_open_v2(q->path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_busy_timeout(db, PING_TIMEOUT_MS);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL);
	rc = rc == SQLITE_OK ? STORE_OK : sq_error(db, "ping", rc);
	sqlite3_close(db);
	return rc;
}

/* ---- links ---- */

/* The link with this code through statement which: R_LOOKUP (all of it) or
 * R_RESOLVE (what a redirect reads). */
static int lookup_in(struct reader *r, enum reader_stmt which, const char *code, struct link *out)
{
	sqlite3_stmt *st = reader_prepared(r, which);
	int rc;

	if (st == NULL)
		return STORE_ERROR;
	sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
	rc = link_step(st, sqlite3_step(st), out);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_ROW)
		return STORE_OK;
	if (rc == SQLITE_DONE)
		return STORE_NOT_FOUND;
	return sq_error(r->db, "lookup", rc);
}

static int sq_link_lookup(void *impl, const char *code, struct link *out)
{
	struct reader *r = reader_get(impl);

	return r != NULL ? lookup_in(r, R_LOOKUP, code, out) : STORE_ERROR;
}

/* The redirect path's read of the store: sq_link_lookup() without the
 * labels, which a redirect never reads (four columns fewer, about 1,500
 * instructions a read measured with callgrind). */
static int sq_link_resolve(void *impl, const char *code, struct link *out)
{
	struct reader *r = reader_get(impl);

	return r != NULL ? lookup_in(r, R_RESOLVE, code, out) : STORE_ERROR;
}

/*
 * How this backend tells store.c's link caches that links changed.
 *
 * The epoch is the link_epoch row, moved by triggers in the transaction of
 * every change a redirect could see (sql/sqlite/004), whichever process
 * makes it. Reading it takes a read transaction, too dear for every
 * redirect; but every commit, by this process or another, rewrites the
 * WAL-index header in the -shm file (its change counter and checksum; the
 * layout is SQLite's documented WAL format), which every connection maps.
 * So each thread's read connection compares that header with the one seen
 * when it last read the epoch: equal, and nothing was committed since, so
 * the epoch stands with no lock and no system call. Changed, and the epoch
 * is read again. The header is copied before that read, so a commit racing
 * it changes the header again and is looked at next time. Click flushes
 * commit too but do not move the epoch, so they cost one small read per
 * flush per thread.
 */
static volatile const uint64_t *wal_index(sqlite3 *db)
{
	sqlite3_file *f = NULL;
	volatile void *p = NULL;
	sqlite3_stmt *st = NULL;
	bool wal = false;

	/* Only a WAL connection has a -shm to map: on any other, xShmMap would
	 * open a handle that sqlite3_close never releases. */
	if (sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		wal =
		    sqlite3_column_text(st, 0) != NULL && strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
	sqlite3_finalize(st);
	if (!wal)
		return NULL;
	if (sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &f) != SQLITE_OK || f == NULL ||
	    f->pMethods == NULL || f->pMethods->iVersion < 2 || f->pMethods->xShmMap == NULL)
		return NULL;
	/* bExtend 0: the region the connection already mapped, never a new one. */
	if (f->pMethods->xShmMap(f, 0, 32 * 1024, 0, &p) != SQLITE_OK || p == NULL)
		return NULL;
	return p;
}

static int read_epoch(struct reader *r, int64_t *epoch)
{
	return reader_int(r, R_EPOCH, "link epoch", epoch);
}

/* sq_links_changed_since() when the header moved, or on a thread's first
 * call: reads the epoch, and maps the WAL-index first if need be. */
static int read_links_epoch(struct sq *q, void **thread, int64_t *now)
{
	struct reader *r = *thread;
	uint64_t hdr[WAL_HDR_WORDS], copy2[WAL_HDR_WORDS];
	int i;

	if (r == NULL) {
		r = reader_get(q);
		if (r == NULL)
			return STORE_ERROR;
		*thread = r;
	}
	if (r->wal_hdr == NULL) {
		/* A first read maps the WAL-index. The header seen stays zero, so
		 * the next call reads the epoch again with the header copied first. */
		if (read_epoch(r, &r->epoch) != STORE_OK)
			return STORE_ERROR;
		r->wal_hdr = wal_index(r->db);
		if (r->wal_hdr == NULL) {
			fprintf(stderr, "shortd: store: no WAL index to watch for link changes\n");
			return STORE_ERROR;
		}
		*now = r->epoch;
		return STORE_OK;
	}
	/* SQLite writes the second copy, then the first: equal copies are a
	 * whole header. Unequal, a commit is under way: cannot tell now. */
	for (i = 0; i < WAL_HDR_WORDS; i++)
		hdr[i] = r->wal_hdr[i];
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	for (i = 0; i < WAL_HDR_WORDS; i++)
		copy2[i] = r->wal_hdr[WAL_HDR_WORDS + i];
	if (memcmp(hdr, copy2, sizeof(hdr)) != 0 || read_epoch(r, &r->epoch) != STORE_OK)
		return STORE_ERROR;
	memcpy(r->seen, hdr, sizeof(hdr));
	*now = r->epoch;
	return STORE_OK;
}

/* The links' epoch as the calling thread's read connection sees it; that
 * connection is kept in *thread. The redirect path: while the header is
 * the one seen, a compare of 48 bytes, nothing more. */
static int sq_links_changed_since(void *impl, void **thread, int64_t epoch, int64_t *now)
{
	const struct reader *r = *thread;
	int i;

	if (r == NULL || r->wal_hdr == NULL || epoch != r->epoch)
		return read_links_epoch(impl, thread, now);
	for (i = 0; i < WAL_HDR_WORDS && r->wal_hdr[i] == r->seen[i]; i++)
		;
	if (i < WAL_HDR_WORDS)
		return read_links_epoch(impl, thread, now);
	*now = epoch;
	return STORE_OK;
}

static void bind_opt_int64(sqlite3_stmt *st, int i, int64_t v, int64_t absent)
{
	if (v == absent)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_int64(st, i, v);
}

static int step_reset(sqlite3_stmt *st);

/* Takes the writer's lock, checks the file is still the one opened, and
 * begins an immediate transaction; the lock is held whatever the result,
 * for the caller to release. */
static int begin_w(struct sq *q)
{
	int rc, status;

	pthread_mutex_lock(&q->wlock);
	status = watch(q);
	if (status == STORE_OK && (rc = step_reset(q->wstmt[W_BEGIN])) != SQLITE_DONE)
		status = sq_error(q->w, "BEGIN IMMEDIATE", rc);
	return status;
}

/* Commits the write under way; on failure the caller rolls back. */
static int commit_w(struct sq *q)
{
	int rc = step_reset(q->wstmt[W_COMMIT]);

	return rc == SQLITE_DONE ? STORE_OK : sq_error(q->w, "COMMIT", rc);
}

/* "" as NULL: an absent title or author. */
static void bind_opt_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v[0] == '\0')
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

/* Binds l's INSERT_COLUMNS from ?base+1; tags is its tags column. */
static void bind_link(sqlite3_stmt *st, int base, const struct link *l, const char *tags)
{
	sqlite3_bind_text(st, base + 1, l->code, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, base + 2, l->url, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, base + 3, l->status);
	sqlite3_bind_int(st, base + 4, l->forward_query);
	sqlite3_bind_int(st, base + 5, l->disabled);
	sqlite3_bind_int64(st, base + 6, l->created_at);
	sqlite3_bind_int64(st, base + 7, l->updated_at);
	bind_opt_int64(st, base + 8, l->expires_at, LINK_NO_TIME);
	bind_opt_int64(st, base + 9, l->max_clicks, LINK_NO_LIMIT);
	bind_opt_text(st, base + 10, l->title);
	sqlite3_bind_text(st, base + 11, tags, -1, SQLITE_STATIC);
	bind_opt_text(st, base + 12, l->created_by);
	bind_opt_text(st, base + 13, l->updated_by);
}

/* An SQLite result code; SQLITE_NOMEM when the tags cannot be written. */
static int insert_link(struct sq *q, const struct link *l)
{
	sqlite3_stmt *st = q->wstmt[W_INSERT_LINK];
	char *tags = link_tags_to_json(l);
	int rc;

	if (tags == NULL)
		return SQLITE_NOMEM;
	bind_link(st, 0, l, tags);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	free(tags);
	return rc;
}

/* How many links wait to be indexed for q, into *n. */
static int waiting_count(struct sq *q, int64_t *n)
{
	sqlite3_stmt *st = q->wstmt[W_WAITING_COUNT];
	int rc = sqlite3_step(st);

	*n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? STORE_OK : sq_error(q->w, "count the links waiting to be indexed", rc);
}

/* Indexes the links waiting for the trigram index in the write under way,
 * once at least `least` of them wait (0: however few). */
static int index_waiting(struct sq *q, int64_t least)
{
	int64_t n;
	int rc, status = waiting_count(q, &n);

	if (status != STORE_OK || n == 0 || n < least)
		return status;
	rc = step_reset(q->wstmt[W_WAITING_INDEX]);
	if (rc == SQLITE_DONE)
		rc = step_reset(q->wstmt[W_WAITING_DONE]);
	if (rc == SQLITE_DONE)
		return STORE_OK;
	/* Not a code taken, whatever SQLite says: the caller's links are in. */
	status = sq_error(q->w, "index new links", rc);
	return status == STORE_CONFLICT ? STORE_ERROR : status;
}

/* Commits a write that may have added links, indexing the waiting ones
 * first once at least `least` wait (index_waiting). */
static int commit_links_w(struct sq *q, int64_t least)
{
	int status = index_waiting(q, least);

	return status == STORE_OK ? commit_w(q) : status;
}

/*
 * Links written by hand since shortd last wrote (the sqlite3 shell, a
 * script) may wait in any number: they are indexed when the store opens,
 * not read one by one by every q until the next create. Nothing is locked
 * when fewer than SEARCH_WAITING_MAX wait.
 */
static int index_waiting_at_open(struct sq *q, char *err, size_t errlen)
{
	int64_t n;
	int status = waiting_count(q, &n);
	bool write = status == STORE_OK && n >= SEARCH_WAITING_MAX;

	if (write) {
		/* Counted again under the lock: another process may have indexed. */
		status = begin_w(q);
		if (status == STORE_OK)
			status = commit_links_w(q, SEARCH_WAITING_MAX);
	}
	if (status != STORE_OK) {
		snprintf(err, errlen, "%s: cannot index new links for q: %s", q->path,
		         status == STORE_GONE ? store_status_message(status) : sqlite3_errmsg(q->w));
		if (write)
			sqlite3_exec(q->w, "ROLLBACK", NULL, NULL, NULL);
	}
	if (write)
		pthread_mutex_unlock(&q->wlock);
	return status;
}

static int sq_link_create(void *impl, struct link *l)
{
	struct sq *q = impl;
	int rc, status;

	status = begin_w(q);
	if (status != STORE_OK)
		goto out;
	rc = insert_link(q, l);
	if (rc != SQLITE_DONE) {
		status = (rc & 0xff) == SQLITE_CONSTRAINT ? STORE_CONFLICT : sq_error(q->w, "create link", rc);
		sqlite3_exec(q->w, "ROLLBACK", NULL, NULL, NULL);
		goto out;
	}
	l->id = sqlite3_last_insert_rowid(q->w);
	status = commit_links_w(q, SEARCH_WAITING_MAX);
	if (status != STORE_OK) {
		sqlite3_exec(q->w, "ROLLBACK", NULL, NULL, NULL);
		l->id = 0;
	}
out:
	pthread_mutex_unlock(&q->wlock);
	return status;
}

/* The oldest enabled link with l's url and options into *out, on the
 * writer connection: STORE_OK, STORE_NOT_FOUND or an error. */
static int find_same_w(struct sq *q, const struct link *l, struct link *out)
{
	sqlite3_stmt *st = q->wstmt[W_REUSE];
	int rc;

	/* A copy: out may be l, written while the statement still holds it. */
	sqlite3_bind_text(st, 1, l->url, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 2, l->status);
	sqlite3_bind_int(st, 3, l->forward_query);
	bind_opt_int64(st, 4, l->expires_at, LINK_NO_TIME);
	bind_opt_int64(st, 5, l->max_clicks, LINK_NO_LIMIT);
	rc = link_step(st, sqlite3_step(st), out);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_ROW)
		return STORE_OK;
	return rc == SQLITE_DONE ? STORE_NOT_FOUND : sq_error(q->w, "find a link to reuse", rc);
}

/* The id of the link with this code on the writer connection: STORE_OK,
 * STORE_NOT_FOUND or an error. */
static int id_by_code_w(struct sq *q, const char *code, int64_t *id)
{
	sqlite3_stmt *st = q->wstmt[W_ID_BY_CODE];
	int rc;

	sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_ROW)
		return STORE_OK;
	return rc == SQLITE_DONE ? STORE_NOT_FOUND : sq_error(q->w, "look up a code", rc);
}

/* True when b may answer a request for a with reuse (W_REUSE's test). */
static bool same_options(const struct link *a, const struct link *b)
{
	return strcmp(a->url, b->url) == 0 && a->status == b->status && a->forward_query == b->forward_query &&
	       a->expires_at == b->expires_at && a->max_clicks == b->max_clicks && !b->disabled;
}

/*
 * Inserts items[idx[0..n)] with one statement, n <= CREATE_ROWS. One statement, not one a
 * link: FTS5 writes its pending index out at every statement's savepoint,
 * and the trigram index of sql/sqlite/005 is written by a trigger, so row
 * by row a batch wrote n small segments (about 7,000 links/s measured, one
 * statement about 40,000). The codes are known to be free.
 */
static int insert_rows(struct sq *q, struct store_new_link *items, const size_t *idx, size_t n)
{
	sqlite3_stmt *st = q->insert_rows_n == n ? q->insert_rows : NULL;
	char **tags = calloc(n, sizeof(*tags));
	int rc = SQLITE_NOMEM;
	size_t k;

	if (tags == NULL)
		return SQLITE_NOMEM;
	if (st == NULL) {
		sqlite3_str *b = sqlite3_str_new(q->w);
		char *sql;
		sqlite3_str_appendall(b, "INSERT INTO links (" INSERT_COLUMNS ") VALUES ");
		for (k = 0; k < n; k++)
			sqlite3_str_appendall(b,
			                      k > 0 ? ",(?,?,?,?,?,?,?,?,?,?,?,?,?)" : "(?,?,?,?,?,?,?,?,?,?,?,?,?)");
		sql = sqlite3_str_finish(b);
		rc = sql != NULL ? sqlite3_prepare_v3(q->w, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL)
		                 : SQLITE_NOMEM;
		sqlite3_free(sql);
		if (rc != SQLITE_OK)
			goto out;
		sqlite3_finalize(q->insert_rows);
		q->insert_rows = st;
		q->insert_rows_n = n;
	}
	for (k = 0; k < n; k++) {
		if ((tags[k] = link_tags_to_json(&items[idx[k]].link)) == NULL) {
			rc = SQLITE_NOMEM;
			goto out;
		}
		bind_link(st, (int)k * INSERT_VALUES, &items[idx[k]].link, tags[k]);
	}
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	/* One INSERT numbers its rows in the order of its VALUES, each the
	 * largest id the table ever had plus one (AUTOINCREMENT), under the
	 * write lock: the last id tells every other, without reading each
	 * link back by its code. The triggers' own inserts do not move it. */
	if (rc == SQLITE_DONE) {
		int64_t last = sqlite3_last_insert_rowid(q->w);
		for (k = 0; k < n; k++)
			items[idx[k]].link.id = last - (int64_t)(n - 1 - k);
	}
out:
	for (k = 0; k < n; k++)
		free(tags[k]);
	free(tags);
	return rc;
}

/* Orders indexes of a batch by their code, then by index. */
static int by_code(const void *a, const void *b, void *ctx)
{
	const struct store_new_link *items = ctx;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int c = strcmp(items[i].link.code, items[j].link.code);

	return c != 0 ? c : (i > j) - (i < j);
}

/* STORE_CONFLICT when two of items[idx[0..m)] have one code, with *bad
 * the least index that repeats a code given before it; STORE_OK when none
 * do; STORE_ERROR out of memory. Sorted, not compared pair by pair: a
 * batch is up to 1,000 links. */
static int repeated_code(const struct store_new_link *items, const size_t *idx, size_t m, size_t *bad)
{
	size_t *sorted = malloc((m != 0 ? m : 1) * sizeof(*sorted));
	int status = STORE_OK;

	if (sorted == NULL)
		return STORE_ERROR;
	memcpy(sorted, idx, m * sizeof(*sorted));
	qsort_r(sorted, m, sizeof(*sorted), by_code, (void *)items);
	for (size_t j = 1; j < m; j++) {
		/* In a run of equal codes, by index, all but the first repeat it. */
		if (strcmp(items[sorted[j - 1]].link.code, items[sorted[j]].link.code) != 0)
			continue;
		if (status == STORE_OK || sorted[j] < *bad)
			*bad = sorted[j];
		status = STORE_CONFLICT;
	}
	free(sorted);
	return status;
}

/* Lowers *bad to the least of items[idx[0..m)] whose code a stored link
 * has, if one is less than *bad: STORE_OK, or an error of the lookup. */
static int first_taken_code(struct sq *q, const struct store_new_link *items, const size_t *idx, size_t m, size_t *bad)
{
	int64_t id;

	for (size_t k = 0; k < m && idx[k] < *bad; k++) {
		int status = id_by_code_w(q, items[idx[k]].link.code, &id);
		if (status == STORE_OK) {
			*bad = idx[k];
			return STORE_OK;
		}
		if (status != STORE_NOT_FOUND)
			return status;
	}
	return STORE_OK;
}

/* What each item of a batch becomes: inserted, or the same as an earlier
 * item (or a stored link) that it reuses. */
#define BATCH_NEW SIZE_MAX

static int sq_link_create_batch(void *impl, struct store_new_link *items, size_t n, size_t *bad)
{
	struct sq *q = impl;
	size_t *idx = calloc(n != 0 ? n : 1, sizeof(*idx)), *same = calloc(n != 0 ? n : 1, sizeof(*same));
	size_t i = 0, m = 0, k;
	int rc, status;

	*bad = 0;
	if (idx == NULL || same == NULL) {
		free(idx);
		free(same);
		return STORE_ERROR;
	}
	status = begin_w(q);
	if (status != STORE_OK)
		goto out;
	/* Decide each item before anything is written: reused (a stored link
	 * first, being older, then one earlier in the batch), or new with a
	 * code that is free and not given twice. */
	for (i = 0; i < n && status == STORE_OK; i++) {
		struct store_new_link *it = &items[i];
		it->reused = false;
		same[i] = BATCH_NEW;
		if (it->reuse) {
			status = find_same_w(q, &it->link, &it->link);
			if (status == STORE_OK) {
				it->reused = true;
				continue;
			}
			if (status != STORE_NOT_FOUND)
				break;
			status = STORE_OK;
			for (k = 0; k < m && same[i] == BATCH_NEW; k++) {
				if (same_options(&it->link, &items[idx[k]].link))
					same[i] = idx[k];
			}
			if (same[i] != BATCH_NEW)
				continue;
		}
		idx[m++] = i;
	}
	/* A code taken is not looked up item by item beforehand: the INSERT
	 * refuses it (the code is UNIQUE), and only then are the codes read to
	 * name the least index that failed, a stored link's code or one given
	 * twice, whichever comes first. */
	if (status == STORE_OK)
		status = repeated_code(items, idx, m, &i);
	for (k = 0; k < m && status == STORE_OK;) {
		size_t rows = m - k < CREATE_ROWS ? m - k : CREATE_ROWS;
		rc = insert_rows(q, items, idx + k, rows);
		if (rc != SQLITE_DONE) {
			i = n;
			status = (rc & 0xff) == SQLITE_CONSTRAINT ? STORE_CONFLICT : sq_error(q->w, "create links", rc);
		}
		k += rows;
	}
	if (status == STORE_CONFLICT) {
		int found = first_taken_code(q, items, idx, m, &i);
		if (found != STORE_OK)
			status = found;
	}
	if (status == STORE_OK)
		status = commit_links_w(q, SEARCH_WAITING_MAX);
	if (status != STORE_OK) {
		*bad = i < n ? i : 0;
		sqlite3_exec(q->w, "ROLLBACK", NULL, NULL, NULL);
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (same[i] != BATCH_NEW) {
			items[i].link = items[same[i]].link;
			items[i].reused = true;
		}
	}
out:
	pthread_mutex_unlock(&q->wlock);
	free(idx);
	free(same);
	return status;
}

/* Reads a link on the writer connection (inside its transaction). */
static int get_w(struct sq *q, const char *code, struct link *out)
{
	sqlite3_stmt *st = q->wstmt[W_GET_BY_CODE];
	int rc;

	sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
	rc = link_step(st, sqlite3_step(st), out);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_ROW)
		return STORE_OK;
	return rc == SQLITE_DONE ? STORE_NOT_FOUND : sq_error(q->w, "read link", rc);
}

/* Applies p to l, read inside the writer's transaction, and writes it. */
static int write_patch(struct sq *q, struct link *l, const struct link_patch *p, int64_t now)
{
	sqlite3_stmt *st = q->wstmt[W_UPDATE_LINK];
	char *tags;
	int rc;

	store_patch_apply(l, p);
	l->updated_at = now;
	if ((tags = link_tags_to_json(l)) == NULL)
		return sq_error(q->w, "update link", SQLITE_NOMEM);
	sqlite3_bind_int64(st, 1, l->id);
	sqlite3_bind_text(st, 2, l->url, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, l->status);
	sqlite3_bind_int(st, 4, l->forward_query);
	sqlite3_bind_int(st, 5, l->disabled);
	bind_opt_int64(st, 6, l->expires_at, LINK_NO_TIME);
	bind_opt_int64(st, 7, l->max_clicks, LINK_NO_LIMIT);
	sqlite3_bind_int64(st, 8, now);
	bind_opt_text(st, 9, l->title);
	sqlite3_bind_text(st, 10, tags, -1, SQLITE_STATIC);
	bind_opt_text(st, 11, l->updated_by);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	free(tags);
	return rc == SQLITE_DONE ? STORE_OK : sq_error(q->w, "update link", rc);
}

static int sq_link_update(void *impl, const char *code, const struct link_patch *p, int64_t now, struct link *out)
{
	struct sq *q = impl;
	int status;

	status = begin_w(q);
	if (status != STORE_OK)
		goto out;
	status = get_w(q, code, out);
	if (status == STORE_OK)
		status = write_patch(q, out, p, now);
	if (status != STORE_OK)
		goto rollback;
	status = commit_w(q);
	if (status == STORE_OK)
		goto out;
rollback:
	sqlite3_exec(q->w, "ROLLBACK", NULL, NULL, NULL);
out:
	pthread_mutex_unlock(&q->wlock);
	return status;
}

/* ---- click counters (click_chunk.h) ---- */

static int step_reset(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

enum chunk_table { CHUNK_TOTALS, CHUNK_DAYS };

/* How chunks_apply() meets what is stored. */
enum chunk_mode {
	CHUNK_ADD, /* counted: added to it (click_chunk_kind's ops) */
	CHUNK_SET, /* replaces it */
	CHUNK_NEW, /* a copy's row: STORE_CONFLICT where the link has counts */
};

static const struct {
	const char *name;
	const struct click_chunk_kind *kind;
	enum writer_stmt get, insert, update, del;
} chunk_tables[] = {
    [CHUNK_TOTALS] = {"click_totals", &click_chunk_totals, W_TOTALS_GET, W_TOTALS_INSERT, W_TOTALS_UPDATE,
                      W_TOTALS_DELETE},
    [CHUNK_DAYS] = {"click_days", &click_chunk_day, W_DAYS_GET, W_DAYS_INSERT, W_DAYS_UPDATE, W_DAYS_DELETE},
};

/* Room for n changes in q->chg (under wlock). */
static int chg_reserve(struct sq *q, size_t n)
{
	struct click_chunk_change *c;

	if (n <= q->chg_cap)
		return STORE_OK;
	if (n < 2 * q->chg_cap)
		n = 2 * q->chg_cap;
	c = realloc(q->chg, n * sizeof(*c));
	if (c == NULL)
		return STORE_ERROR;
	q->chg = c;
	q->chg_cap = n;
	return STORE_OK;
}

static int change_cmp(const void *a, const void *b)
{
	const struct click_chunk_change *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return (x->slot > y->slot) - (x->slot < y->slot);
}

/* Puts c in (key, slot) order; a batch of clicks mostly comes in it. */
static void changes_sort(struct click_chunk_change *c, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		if (change_cmp(&c[i - 1], &c[i]) > 0) {
			qsort(c, n, sizeof(*c), change_cmp);
			return;
		}
	}
}

/* Binds key (and data, when not NULL) to statement which and steps it. */
static int chunk_write(struct sq *q, enum writer_stmt which, int64_t key, const unsigned char *data, size_t len)
{
	sqlite3_stmt *st = q->wstmt[which];

	sqlite3_bind_int64(st, 1, key);
	if (data != NULL)
		sqlite3_bind_blob(st, 2, data, (int)len, SQLITE_STATIC);
	return step_reset(st);
}

/* CHUNK_NEW's check: no two changes of one slot, none of a slot that has
 * counts in old already. */
static bool chunk_is_new(const struct click_chunk_kind *kind, const unsigned char *old, size_t len,
                         const struct click_chunk_change *c, size_t n)
{
	int64_t v[CLICK_CHUNK_FIELDS_MAX];

	for (size_t k = 0; k < n; k++) {
		if ((k > 0 && c[k].slot == c[k - 1].slot) ||
		    click_chunk_get(kind, old, len, c[k].slot, v) != CLICK_CHUNK_OK ||
		    memcmp(v, kind->empty, sizeof(*v) * (size_t)kind->fields) != 0)
			return false;
	}
	return true;
}

/* Makes c a change that changes nothing: empty values add nothing, and
 * give no record to a link that has none. */
static void change_void(struct click_chunk_change *c, const struct click_chunk_kind *kind)
{
	memcpy(c->v, kind->empty, sizeof(c->v));
}

/*
 * A batch of clicks' totals for the row old of a chunk: a change that would
 * give a link its first record stands only while the link is there, which
 * one read by id tells. Else the clicks of a link deleted while they were
 * on their way would bring its counts back, where no link reads them
 * (AUTOINCREMENT keeps its id from coming back); the change is voided and
 * the id noted in q->deleted, for its days to be voided too (void_gone_days).
 * A link with a record was there (a delete takes its records), and costs
 * no read.
 */
static int drop_gone(struct sq *q, const unsigned char *old, size_t len, struct click_chunk_change *c, size_t n)
{
	sqlite3_stmt *st = q->wstmt[W_LINK_EXISTS];
	int64_t v[CLICK_CHUNK_FIELDS_MAX], *g;
	size_t pos = 0;
	unsigned slot = 0;
	bool have;

	if (!click_chunk_is_valid(&click_chunk_totals, old, len))
		return STORE_OK; /* chunks_apply() reports the row */
	/* One walk of old's records beside the changes, both in slot order. */
	have = click_chunk_next(&click_chunk_totals, old, len, &pos, &slot, v);
	for (size_t k = 0, e; k < n; k = e) {
		int64_t id = c[k].key << CLICK_CHUNK_SHIFT | c[k].slot;
		int rc;

		for (e = k + 1; e < n && c[e].slot == c[k].slot; e++)
			;
		while (have && slot < c[k].slot)
			have = click_chunk_next(&click_chunk_totals, old, len, &pos, &slot, v);
		if (have && slot == c[k].slot && memcmp(v, click_chunk_totals.empty, sizeof(v)) != 0)
			continue;
		sqlite3_bind_int64(st, 1, id);
		rc = step_reset(st);
		if (rc == SQLITE_ROW)
			continue;
		if (rc != SQLITE_DONE)
			return sq_error(q->w, "look for a link clicked", rc);
		if (q->n_deleted == q->deleted_cap) {
			size_t cap = q->deleted_cap != 0 ? 2 * q->deleted_cap : 16;
			if ((g = realloc(q->deleted, cap * sizeof(*g))) == NULL)
				return STORE_ERROR;
			q->deleted = g;
			q->deleted_cap = cap;
		}
		q->deleted[q->n_deleted++] = id;
		for (size_t i = k; i < e; i++)
			change_void(&c[i], &click_chunk_totals);
	}
	return STORE_OK;
}

/* Voids the day changes of the links drop_gone() found deleted. */
static void void_gone_days(const struct sq *q, struct click_chunk_change *c, size_t n)
{
	for (size_t i = 0; i < n && q->n_deleted > 0; i++) {
		int64_t id = (c[i].key >> DAY_BITS) << CLICK_CHUNK_SHIFT | c[i].slot;
		for (size_t k = 0; k < q->n_deleted; k++) {
			if (q->deleted[k] == id)
				change_void(&c[i], &click_chunk_day);
		}
	}
}

/*
 * Applies c[0..n), in (key, slot) order, to the rows of table t inside the
 * writer's transaction, as mode says: each row read once, changed, and
 * written back only when it changed (deleted when no counts are left). A
 * corrupt row is left as it is: a batch of clicks (CHUNK_ADD) logs it and
 * goes on without the clicks of its 128 links, so that one damaged row
 * holds up no other link's counts; the other modes fail with
 * STORE_CORRUPT. A batch of clicks' totals go through drop_gone() first.
 */
static int chunks_apply(struct sq *q, enum chunk_table t, struct click_chunk_change *c, size_t n, enum chunk_mode mode)
{
	const struct click_chunk_kind *kind = chunk_tables[t].kind;
	sqlite3_stmt *get = q->wstmt[chunk_tables[t].get];
	unsigned char out[CLICK_CHUNK_MAX];
	size_t i = 0, j, len, out_len = 0;
	int rc = SQLITE_DONE, bad, status = STORE_OK;

	for (; i < n && rc == SQLITE_DONE && status == STORE_OK; i = j) {
		const unsigned char *old = NULL;
		bool exists, same, taken;

		for (j = i + 1; j < n && c[j].key == c[i].key; j++)
			;
		sqlite3_bind_int64(get, 1, c[i].key);
		rc = sqlite3_step(get);
		exists = rc == SQLITE_ROW;
		if (exists)
			old = sqlite3_column_blob(get, 0);
		len = exists ? (size_t)sqlite3_column_bytes(get, 0) : 0;
		if ((rc == SQLITE_ROW || rc == SQLITE_DONE) && mode == CHUNK_ADD && t == CHUNK_TOTALS)
			status = drop_gone(q, old, len, c + i, j - i);
		bad = rc == SQLITE_ROW || rc == SQLITE_DONE
		          ? click_chunk_apply(kind, old, len, c + i, j - i, mode != CHUNK_ADD, out, &out_len)
		          : CLICK_CHUNK_OK;
		taken = bad == CLICK_CHUNK_OK && mode == CHUNK_NEW && !chunk_is_new(kind, old, len, c + i, j - i);
		same = bad == CLICK_CHUNK_OK && out_len == len && (len == 0 || memcmp(out, old, len) == 0);
		sqlite3_reset(get);
		sqlite3_clear_bindings(get);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return sq_error(q->w, chunk_tables[t].name, rc);
		if (status != STORE_OK)
			return status;
		if (taken)
			return STORE_CONFLICT;
		if (bad != CLICK_CHUNK_OK) {
			fprintf(stderr,
			        "shortd: store: %s row %lld is corrupt; it is left as it is%s (DELETE FROM %s WHERE %s "
			        "= %lld "
			        "starts its counts again)\n",
			        chunk_tables[t].name, (long long)c[i].key,
			        mode == CHUNK_ADD ? ", without the clicks of this batch for its links" : "",
			        chunk_tables[t].name, t == CHUNK_TOTALS ? "chunk" : "key", (long long)c[i].key);
			if (mode != CHUNK_ADD)
				return STORE_CORRUPT;
			rc = SQLITE_DONE;
			continue;
		}
		if (same)
			rc = SQLITE_DONE;
		else if (out_len == 0)
			rc = chunk_write(q, chunk_tables[t].del, c[i].key, NULL, 0);
		else
			rc = chunk_write(q, exists ? chunk_tables[t].update : chunk_tables[t].insert, c[i].key, out,
			                 out_len);
	}
	if (status != STORE_OK)
		return status;
	return rc == SQLITE_DONE ? STORE_OK : sq_error(q->w, chunk_tables[t].name, rc);
}

/* Takes the records of link id out of its chunk's rows, totals and days,
 * inside the writer's transaction. */
static int chunks_forget(struct sq *q, int64_t id)
{
	sqlite3_stmt *st = q->wstmt[W_DAYS_RANGE];
	struct click_chunk_change one = {.key = chunk_of(id), .slot = slot_of(id)};
	size_t n = 0;
	int64_t first;
	int rc, status;

	memcpy(one.v, click_chunk_totals.empty, sizeof(one.v));
	status = chunks_apply(q, CHUNK_TOTALS, &one, 1, CHUNK_SET);
	if (status != STORE_OK || !day_key(id, 0, &first))
		return status;
	/* The keys first: the rows are rewritten after the range is read. */
	sqlite3_bind_int64(st, 1, first);
	sqlite3_bind_int64(st, 2, first | DAY_MAX);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && (status = chg_reserve(q, n + 1)) == STORE_OK) {
		q->chg[n] = (struct click_chunk_change){.key = sqlite3_column_int64(st, 0), .slot = slot_of(id)};
		n++;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (status != STORE_OK)
		return status;
	if (rc != SQLITE_DONE)
		return sq_error(q->w, "click_days of a link", rc);
	return chunks_apply(q, CHUNK_DAYS, q->chg, n, CHUNK_SET);
}

/* Deletes the link and its click counts in one transaction. */
static int sq_link_delete(void *impl, const char *code)
{
	struct sq *q = impl;
	sqlite3_stmt *st = q->wstmt[W_DELETE_LINK];
	int64_t id = 0;
	bool found = false;
	int rc, status;

	status = begin_w(q);
	if (status == STORE_OK) {
		sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			id = sqlite3_column_int64(st, 0);
			found = true;
			rc = sqlite3_step(st); /* RETURNING: done after its one row */
		}
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		if (rc != SQLITE_DONE)
			status = sq_error(q->w, "delete link", rc);
		else if (!found)
			status = STORE_NOT_FOUND;
		else
			status = chunks_forget(q, id);
	}
	if (status == STORE_OK)
		status = commit_w(q);
	if (status != STORE_OK)
		sqlite3_exec(q->w, "ROLLBACK", NULL, NULL, NULL);
	pthread_mutex_unlock(&q->wlock);
	return status;
}

/* The counts an import gives the links it created, rows[idx[0..n)]. */
static int imported_counts(struct sq *q, const struct store_import_row *rows, const size_t *idx, size_t n)
{
	size_t m = 0;
	int status = chg_reserve(q, n);

	for (size_t k = 0; k < n && status == STORE_OK; k++) {
		const struct link *l = &rows[idx[k]].link;
		if (l->clicks != 0 || l->bot_clicks != 0 || l->last_click_at != LINK_NO_TIME)
			q->chg[m++] = (struct click_chunk_change){.key = chunk_of(l->id),
			                                          .slot = slot_of(l->id),
			                                          .v = {l->clicks, l->bot_clicks, l->last_click_at}};
	}
	if (status != STORE_OK)
		return status;
	changes_sort(q->chg, m);
	return chunks_apply(q, CHUNK_TOTALS, q->chg, m, CHUNK_SET);
}

/*
 * Inserts rows[idx[0..n)] of an import in one statement of n = INSERT_ROWS
 * >> size rows, for the reason insert_rows() gives, and fills their ids
 * (imported_counts() writes their counts). The codes are known to be free.
 */
static int insert_imported(struct sq *q, struct store_import_row *rows, const size_t *idx, size_t n, int size)
{
	sqlite3_stmt *st = q->import_rows[size];
	char **tags = calloc(n, sizeof(*tags));
	int rc = SQLITE_NOMEM;
	size_t k;

	if (tags == NULL)
		return SQLITE_NOMEM;
	if (st == NULL) {
		sqlite3_str *b = sqlite3_str_new(q->w);
		char *sql;
		sqlite3_str_appendall(b, "INSERT INTO links (" INSERT_COLUMNS ") VALUES ");
		for (k = 0; k < n; k++)
			sqlite3_str_appendall(b,
			                      k > 0 ? ",(?,?,?,?,?,?,?,?,?,?,?,?,?)" : "(?,?,?,?,?,?,?,?,?,?,?,?,?)");
		sql = sqlite3_str_finish(b);
		rc = sql != NULL ? sqlite3_prepare_v3(q->w, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL)
		                 : SQLITE_NOMEM;
		sqlite3_free(sql);
		if (rc != SQLITE_OK)
			goto out;
		q->import_rows[size] = st;
	}
	for (k = 0; k < n; k++) {
		const struct link *l = &rows[idx[k]].link;
		if ((tags[k] = link_tags_to_json(l)) == NULL) {
			rc = SQLITE_NOMEM;
			goto out;
		}
		bind_link(st, (int)k * INSERT_VALUES, l, tags[k]);
	}
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	for (k = 0; k < n && rc == SQLITE_DONE; k++) {
		int found = id_by_code_w(q, rows[idx[k]].link.code, &rows[idx[k]].link.id);
		rc = found == STORE_OK ? SQLITE_DONE : SQLITE_ERROR;
	}
out:
	for (k = 0; k < n; k++)
		free(tags[k]);
	free(tags);
	return rc;
}

/* Changes the fields an imported row names in the link with its code. */
static int update_imported(struct sq *q, const struct store_import_row *row, int64_t now)
{
	struct link_patch *p = malloc(sizeof(*p));
	struct link *cur = malloc(sizeof(*cur));
	int status = STORE_ERROR;

	if (p != NULL && cur != NULL) {
		store_import_patch(row, p);
		status = get_w(q, row->link.code, cur);
		if (status == STORE_OK)
			status = write_patch(q, cur, p, now);
	}
	free(cur);
	free(p);
	return status;
}

static int sq_links_import(void *impl, struct store_import_row *rows, size_t n, enum store_import_mode mode,
                           int64_t now, size_t *conflict)
{
	struct sq *q = impl;
	size_t *idx = malloc((n != 0 ? n : 1) * sizeof(*idx)), m = 0, k;
	int64_t id;
	int rc, status;

	if (idx == NULL)
		return STORE_ERROR;
	status = begin_w(q);
	if (status != STORE_OK)
		goto out;
	/* Each row's code taken or free first; the free ones are inserted
	 * together at the end. */
	for (size_t i = 0; i < n && status == STORE_OK; i++) {
		status = id_by_code_w(q, rows[i].link.code, &id);
		if (status == STORE_NOT_FOUND) {
			status = STORE_OK;
			rows[i].result = STORE_IMPORT_CREATED;
			idx[m++] = i;
		} else if (status == STORE_OK && (rows[i].code_drawn || mode == STORE_IMPORT_FAIL)) {
			*conflict = i;
			status = STORE_CONFLICT;
		} else if (status == STORE_OK && mode == STORE_IMPORT_SKIP) {
			rows[i].result = STORE_IMPORT_SKIPPED;
		} else if (status == STORE_OK) {
			rows[i].result = STORE_IMPORT_UPDATED;
			status = update_imported(q, &rows[i], now);
		}
	}
	if (status == STORE_OK)
		status = store_import_repeated(rows, idx, m, conflict);
	for (k = 0; k < m && status == STORE_OK;) {
		int size = 0;
		while ((size_t)(INSERT_ROWS >> size) > m - k)
			size++;
		rc = insert_imported(q, rows, idx + k, (size_t)(INSERT_ROWS >> size), size);
		if (rc != SQLITE_DONE)
			status = sq_error(q->w, "import links", rc);
		else
			status = imported_counts(q, rows, idx + k, (size_t)(INSERT_ROWS >> size));
		k += (size_t)(INSERT_ROWS >> size);
	}
	if (status == STORE_OK)
		status = commit_links_w(q, SEARCH_WAITING_MAX);
	if (status != STORE_OK)
		sqlite3_exec(q->w, "ROLLBACK", NULL, NULL, NULL);
out:
	pthread_mutex_unlock(&q->wlock);
	free(idx);
	return status;
}

static int sq_link_list(void *impl, int64_t after_id, int limit, store_link_fn fn, void *ctx)
{
	struct reader *r;
	sqlite3_stmt *st = reader_stmt(impl, R_LIST, &r);
	struct link *l;
	int rc;

	if (st == NULL)
		return STORE_ERROR;
	if (limit <= 0) /* SQLite reads a negative LIMIT as none at all */
		return STORE_OK;
	l = malloc(sizeof(*l));
	if (l == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(st, 1, after_id);
	sqlite3_bind_int(st, 2, limit);
	while ((rc = link_step(st, sqlite3_step(st), l)) == SQLITE_ROW) {
		if (fn(l, ctx) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_reset(st);
	free(l);
	return rc == SQLITE_DONE ? STORE_OK : sq_error(r->db, "list links", rc);
}

/* One process owns the file: clicks_admit() counts limited links in memory. */
static int sq_link_take_click(void *impl, const struct link *l, int64_t known, bool *taken)
{
	(void)impl;
	(void)l;
	(void)known;
	*taken = false;
	return STORE_UNSUPPORTED;
}

/* The number of characters (UTF-8 lead bytes) of s. */
static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/* Appends to b (a sqlite3_str) s with each '"' doubled, inside quotes: one
 * FTS5 phrase, which the trigram tokenizer matches as a substring. */
static void append_phrase(sqlite3_str *b, const char *s)
{
	sqlite3_str_appendchar(b, 1, '"');
	for (; *s != '\0'; s++) {
		if (*s == '"')
			sqlite3_str_appendchar(b, 1, '"');
		sqlite3_str_appendchar(b, 1, *s);
	}
	sqlite3_str_appendchar(b, 1, '"');
}

/* Appends s as a LIKE pattern that matches it anywhere, with '\' escaping
 * LIKE's own '%' and '_'. */
static void append_like(sqlite3_str *b, const char *s)
{
	sqlite3_str_appendchar(b, 1, '%');
	for (; *s != '\0'; s++) {
		if (*s == '%' || *s == '_' || *s == '\\')
			sqlite3_str_appendchar(b, 1, '\\');
		sqlite3_str_appendchar(b, 1, *s);
	}
	sqlite3_str_appendchar(b, 1, '%');
}

/*
 * The statement for f. Parameters: ?1 the id after which, ?2 the limit, ?3
 * the url, ?4 the FTS5 phrase of q, ?5 q's LIKE pattern (q itself where the
 * trigram index answers, for the links waiting for it), ?6... the tags.
 * The rows are read from the most selective index among the filters given
 * (url, then the first tag, then the trigram index), in id order, and the
 * other filters are checked link by link through their own indexes.
 */
static char *find_sql(const struct link_filter *f, bool q_indexed)
{
	sqlite3_str *b = sqlite3_str_new(NULL);
	bool by_url = f->url != NULL, by_tag = !by_url && f->n_tags > 0;

	/* q alone: the index's links and the waiting ones, each read in id
	 * order up to a page, then merged. */
	if (!by_url && !by_tag && q_indexed) {
		sqlite3_str_appendall(b, "SELECT * FROM (SELECT " LINK_COLUMNS_OF_LINKS " FROM link_search CROSS JOIN "
		                         "links ON links.id = link_search.rowid WHERE link_search MATCH ?4 AND "
		                         "link_search.rowid > ?1 ORDER BY link_search.rowid LIMIT ?2) "
		                         "UNION ALL SELECT * FROM (SELECT " LINK_COLUMNS_OF_LINKS " FROM links "
		                         "WHERE links.id > max(?1, " WAITING_SINCE ") AND " WAITING_MATCH
		                         " ORDER BY links.id LIMIT ?2) ORDER BY 1 LIMIT ?2");
		return sqlite3_str_finish(b);
	}
	sqlite3_str_appendall(b, "SELECT " LINK_COLUMNS_OF_LINKS " FROM ");
	if (by_tag)
		sqlite3_str_appendall(b, "link_tag AS t0 CROSS JOIN links ON links.id = t0.link_id "
		                         "WHERE t0.tag = ?6 AND t0.link_id > ?1");
	else
		sqlite3_str_appendall(b, "links WHERE links.id > ?1");
	if (f->url != NULL)
		sqlite3_str_appendall(b, " AND links.url = ?3");
	for (size_t i = by_tag ? 1 : 0; i < f->n_tags; i++)
		sqlite3_str_appendf(b, " AND EXISTS (SELECT 1 FROM link_tag WHERE link_id = links.id AND tag = ?%d)",
		                    (int)i + 6);
	if (f->q != NULL && q_indexed)
		sqlite3_str_appendall(b, " AND (EXISTS (SELECT 1 FROM link_search WHERE link_search MATCH ?4 "
		                         "AND link_search.rowid = links.id) OR (links.id > " WAITING_SINCE
		                         " AND " WAITING_MATCH "))");
	if (f->q != NULL && !q_indexed)
		sqlite3_str_appendall(b, " AND (links.code LIKE ?5 ESCAPE '\\' OR links.url LIKE ?5 ESCAPE '\\' "
		                         "OR links.title LIKE ?5 ESCAPE '\\' OR EXISTS (SELECT 1 FROM link_tag "
		                         "WHERE link_id = links.id AND tag LIKE ?5 ESCAPE '\\'))");
	sqlite3_str_appendall(b, by_tag ? " ORDER BY t0.link_id" : " ORDER BY links.id");
	sqlite3_str_appendall(b, " LIMIT ?2");
	return sqlite3_str_finish(b);
}

static int sq_link_find(void *impl, const struct link_filter *f, int64_t after_id, int limit, store_link_fn fn,
                        void *ctx)
{
	struct reader *r = reader_get(impl);
	bool q_indexed = f->q != NULL && utf8_chars(f->q) >= TRIGRAM_MIN;
	sqlite3_str *phrase = NULL, *pattern = NULL;
	sqlite3_stmt *st = NULL;
	struct link *l = NULL;
	char *sql = NULL;
	int rc;

	if (r == NULL)
		return STORE_ERROR;
	if (limit <= 0)
		return STORE_OK;
	sql = find_sql(f, q_indexed);
	l = malloc(sizeof(*l));
	if (sql == NULL || l == NULL) {
		rc = SQLITE_NOMEM;
		goto out;
	}
	rc = sqlite3_prepare_v2(r->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(st, 1, after_id);
	sqlite3_bind_int(st, 2, limit);
	if (f->url != NULL)
		sqlite3_bind_text(st, 3, f->url, -1, SQLITE_STATIC);
	if (f->q != NULL) {
		sqlite3_str *b = sqlite3_str_new(NULL);
		if (q_indexed)
			append_phrase(phrase = b, f->q);
		else
			append_like(pattern = b, f->q);
		if (sqlite3_str_errcode(b) != SQLITE_OK) {
			rc = SQLITE_NOMEM;
			goto out;
		}
		sqlite3_bind_text(st, q_indexed ? 4 : 5, sqlite3_str_value(b), sqlite3_str_length(b), SQLITE_STATIC);
		if (q_indexed)
			sqlite3_bind_text(st, 5, f->q, -1, SQLITE_STATIC);
	}
	for (size_t i = 0; i < f->n_tags; i++)
		sqlite3_bind_text(st, (int)i + 6, f->tags[i], -1, SQLITE_STATIC);
	while ((rc = link_step(st, sqlite3_step(st), l)) == SQLITE_ROW) {
		if (fn(l, ctx) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
out:
	if (rc != SQLITE_DONE)
		rc = sq_error(r->db, "find links", rc);
	else
		rc = STORE_OK;
	sqlite3_finalize(st);
	sqlite3_free(sqlite3_str_finish(phrase));
	sqlite3_free(sqlite3_str_finish(pattern));
	sqlite3_free(sql);
	free(l);
	return rc;
}

/* ---- clicks ---- */

static int row_link_cmp(const void *a, const void *b)
{
	const struct click_row *x = a, *y = b;

	return (x->link_id > y->link_id) - (x->link_id < y->link_id);
}

/* The counts of rows[0..n), all of links of one chunk: its totals row,
 * then its rows of the days, each read and written once. */
static int clicks_write_chunk(struct sq *q, const struct click_row *rows, size_t n)
{
	struct click_chunk_change *totals, *days;
	size_t nd = 0;
	int status = chg_reserve(q, 2 * n);

	if (status != STORE_OK)
		return status;
	totals = q->chg;
	days = q->chg + n;
	for (size_t i = 0; i < n; i++) {
		const struct click_row *c = &rows[i];
		totals[i] = (struct click_chunk_change){.key = chunk_of(c->link_id),
		                                        .slot = slot_of(c->link_id),
		                                        .v = {c->clicks, c->bot_clicks, c->last_at}};
		if (c->clicks != 0 || c->bot_clicks != 0)
			days[nd++] = (struct click_chunk_change){.key = chunk_of(c->link_id) << DAY_BITS | c->day,
			                                         .slot = slot_of(c->link_id),
			                                         .v = {c->clicks, c->bot_clicks}};
	}
	changes_sort(totals, n);
	changes_sort(days, nd);
	status = chunks_apply(q, CHUNK_TOTALS, totals, n, CHUNK_ADD);
	void_gone_days(q, days, nd);
	if (status == STORE_OK)
		status = chunks_apply(q, CHUNK_DAYS, days, nd, CHUNK_ADD);
	return status;
}

/*
 * A batch of clicks in one transaction: a row a referring host and day,
 * then, a chunk of links at a time (rows in link order, as the flusher
 * sends them; sorted here when they are not), each chunk's totals row and
 * each of its days read and written once, however many of its links were
 * clicked. The clicks of a link deleted since they were counted leave
 * nothing: the foreign key refuses its referrer rows, and drop_gone() its
 * counts.
 */
static int sq_clicks_write(void *impl, const struct click_row *rows, size_t n)
{
	struct sq *q = impl;
	struct click_row *sorted = NULL;
	bool in_order = true;
	int64_t key;
	int rc = SQLITE_DONE, status;

	status = begin_w(q);
	if (status != STORE_OK)
		goto fail;
	q->n_deleted = 0;
	for (size_t i = 0; i < n; i++) {
		if (!day_key(rows[i].link_id, rows[i].day, &key)) {
			fprintf(stderr, "shortd: store: a click of link %lld on day %lld is out of range\n",
			        (long long)rows[i].link_id, (long long)rows[i].day);
			status = STORE_ERROR;
			goto fail;
		}
		in_order = in_order && (i == 0 || rows[i - 1].link_id <= rows[i].link_id);
	}
	if (!in_order) {
		if ((sorted = malloc(n * sizeof(*sorted))) == NULL) {
			status = STORE_ERROR;
			goto fail;
		}
		memcpy(sorted, rows, n * sizeof(*sorted));
		qsort(sorted, n, sizeof(*sorted), row_link_cmp);
		rows = sorted;
	}
	for (size_t i = 0; i < n && rc == SQLITE_DONE; i++) {
		const struct click_row *c = &rows[i];
		sqlite3_stmt *st = q->wstmt[W_CLICK_REFERRER];

		if (c->referrer == NULL || c->referrer[0] == '\0' || c->clicks == 0)
			continue;
		sqlite3_bind_int64(st, 1, c->link_id);
		sqlite3_bind_int64(st, 2, c->day);
		sqlite3_bind_text(st, 3, c->referrer, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, c->clicks);
		rc = step_reset(st);
		if (rc == SQLITE_CONSTRAINT && sqlite3_extended_errcode(q->w) == SQLITE_CONSTRAINT_FOREIGNKEY)
			rc = SQLITE_DONE; /* the link is gone */
	}
	if (rc != SQLITE_DONE) {
		status = sq_error(q->w, "write clicks", rc);
		goto fail;
	}
	for (size_t i = 0, j; i < n && status == STORE_OK; i = j) {
		for (j = i + 1; j < n && chunk_of(rows[j].link_id) == chunk_of(rows[i].link_id); j++)
			;
		status = clicks_write_chunk(q, rows + i, j - i);
	}
	if (status == STORE_OK)
		status = commit_w(q);
fail:
	if (status != STORE_OK)
		sqlite3_exec(q->w, "ROLLBACK", NULL, NULL, NULL);
	pthread_mutex_unlock(&q->wlock);
	free(sorted);
	return status;
}

/* A link's days from click_days through statement st (R_DAILY) on r, from
 * day since on, in order: each day with counts handed to fn, until it
 * returns other than STORE_OK (its status is the result). */
static int link_days(struct reader *r, sqlite3_stmt *st, int64_t link_id, int64_t since,
                     int (*fn)(int64_t day, const int64_t *v, void *ctx), void *ctx)
{
	int64_t v[CLICK_CHUNK_FIELDS_MAX], from;
	int rc = SQLITE_DONE, status = STORE_OK;

	if (!day_key(link_id, since < 0 ? 0 : since, &from)) /* since <= DAY_MAX */
		return STORE_OK;                             /* no link has such an id, no counts such a day */
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_int64(st, 2, chunk_of(link_id) << DAY_BITS | DAY_MAX);
	while (status == STORE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *b = sqlite3_column_blob(st, 1);
		int64_t key = sqlite3_column_int64(st, 0);
		if (click_chunk_get(&click_chunk_day, b, (size_t)sqlite3_column_bytes(st, 1), slot_of(link_id), v) !=
		    CLICK_CHUNK_OK) {
			fprintf(stderr, "shortd: store: click_days row %lld is corrupt\n", (long long)key);
			status = STORE_CORRUPT;
		} else if (v[0] != 0 || v[1] != 0) {
			status = fn(key & DAY_MAX, v, ctx);
		}
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (status != STORE_OK)
		return status;
	return rc == SQLITE_DONE ? STORE_OK : sq_error(r->db, "daily clicks", rc);
}

struct daily_out {
	struct store_daily *out;
	size_t max, *n;
};

static int daily_add(int64_t day, const int64_t *v, void *ctx)
{
	struct daily_out *d = ctx;

	if (*d->n >= d->max)
		return STORE_NOT_FOUND; /* full: stops the walk, not an error */
	d->out[*d->n] = (struct store_daily){day, v[0], v[1]};
	(*d->n)++;
	return STORE_OK;
}

static int sq_link_daily(void *impl, int64_t link_id, int64_t since, struct store_daily *out, size_t max, size_t *n)
{
	struct reader *r;
	sqlite3_stmt *st = reader_stmt(impl, R_DAILY, &r);
	struct daily_out d = {out, max, n};
	int status;

	*n = 0;
	if (st == NULL)
		return STORE_ERROR;
	if (max == 0 || since > DAY_MAX)
		return STORE_OK;
	status = link_days(r, st, link_id, since, daily_add, &d);
	return status == STORE_NOT_FOUND ? STORE_OK : status;
}

static int sq_link_referrers(void *impl, int64_t link_id, int64_t since, struct store_referrer *out, size_t max,
                             size_t *n)
{
	struct reader *r;
	sqlite3_stmt *st = reader_stmt(impl, R_REFERRERS, &r);
	int rc;

	*n = 0;
	if (st == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(st, 1, link_id);
	sqlite3_bind_int64(st, 2, since);
	sqlite3_bind_int64(st, 3, (int64_t)max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < max) {
		const unsigned char *h = sqlite3_column_text(st, 0);
		snprintf(out[*n].host, sizeof(out[*n].host), "%s", h != NULL ? (const char *)h : "");
		out[*n].clicks = sqlite3_column_int64(st, 1);
		(*n)++;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? STORE_OK : sq_error(r->db, "referrers", rc);
}

/* ---- tokens ---- */

static void token_from_row(sqlite3_stmt *st, struct store_token *t)
{
	const unsigned char *name = sqlite3_column_text(st, 0);

	snprintf(t->name, sizeof(t->name), "%s", name != NULL ? (const char *)name : "");
	t->role = sqlite3_column_int(st, 1) == 1 ? STORE_ROLE_READ_ONLY : STORE_ROLE_ADMIN;
	t->created_at = sqlite3_column_int64(st, 2);
	memset(t->hash, 0, sizeof(t->hash));
	if (sqlite3_column_bytes(st, 3) == STORE_TOKEN_HASH_LEN)
		memcpy(t->hash, sqlite3_column_blob(st, 3), STORE_TOKEN_HASH_LEN);
	t->id = sqlite3_column_int64(st, 4);
	t->last_used_at = sqlite3_column_type(st, 5) == SQLITE_NULL ? LINK_NO_TIME : sqlite3_column_int64(st, 5);
}

static int sq_token_add(void *impl, const char *name, const unsigned char *hash, enum store_role role, int64_t now)
{
	struct sq *q = impl;
	sqlite3_stmt *st = q->wstmt[W_TOKEN_ADD];
	int rc;

	pthread_mutex_lock(&q->wlock);
	if (watch(q) != STORE_OK) {
		pthread_mutex_unlock(&q->wlock);
		return STORE_GONE;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, hash, STORE_TOKEN_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, role == STORE_ROLE_READ_ONLY ? 1 : 0);
	sqlite3_bind_int64(st, 4, now);
	rc = step_reset(st);
	pthread_mutex_unlock(&q->wlock);
	if (rc == SQLITE_DONE)
		return STORE_OK;
	return (rc & 0xff) == SQLITE_CONSTRAINT ? STORE_CONFLICT : sq_error(q->w, "add token", rc);
}

static int sq_token_find(void *impl, const unsigned char *hash, struct store_token *out)
{
	struct reader *r;
	sqlite3_stmt *st = reader_stmt(impl, R_TOKEN_FIND, &r);
	int rc;

	if (st == NULL)
		return STORE_ERROR;
	sqlite3_bind_blob(st, 1, hash, STORE_TOKEN_HASH_LEN, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		token_from_row(st, out);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_ROW)
		return STORE_OK;
	return rc == SQLITE_DONE ? STORE_NOT_FOUND : sq_error(r->db, "find token", rc);
}

static int sq_token_list(void *impl, store_token_fn fn, void *ctx)
{
	struct reader *r;
	sqlite3_stmt *st = reader_stmt(impl, R_TOKEN_LIST, &r);
	struct store_token t;
	int rc;

	if (st == NULL)
		return STORE_ERROR;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		token_from_row(st, &t);
		if (fn(&t, ctx) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? STORE_OK : sq_error(r->db, "list tokens", rc);
}

static int sq_token_revoke(void *impl, const char *name)
{
	struct sq *q = impl;
	sqlite3_stmt *st = q->wstmt[W_TOKEN_REVOKE];
	int rc, status;

	pthread_mutex_lock(&q->wlock);
	status = watch(q);
	if (status == STORE_OK) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		rc = step_reset(st);
		if (rc != SQLITE_DONE)
			status = sq_error(q->w, "revoke token", rc);
		else
			status = sqlite3_changes(q->w) > 0 ? STORE_OK : STORE_NOT_FOUND;
	}
	pthread_mutex_unlock(&q->wlock);
	return status;
}

/* Revokes the token named name, or else the one with this id, unless
 * keep_an_admin and it is the last admin token: one guarded DELETE, then,
 * when it deleted nothing, whether the token exists tells a conflict from
 * an absent token (both under the write lock). */
static int revoke_guarded(struct sq *q, const char *name, int64_t id, bool keep_an_admin)
{
	sqlite3_stmt *st = q->wstmt[name != NULL ? W_TOKEN_REVOKE_NAME : W_TOKEN_REVOKE_ID];
	int rc, status;

	pthread_mutex_lock(&q->wlock);
	status = watch(q);
	if (status != STORE_OK)
		goto out;
	if (name != NULL)
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, keep_an_admin ? 1 : 0);
	rc = step_reset(st);
	if (rc != SQLITE_DONE) {
		status = sq_error(q->w, "revoke token", rc);
		goto out;
	}
	if (sqlite3_changes(q->w) > 0)
		goto out;
	/* Nothing deleted: the token is absent, or it is the last admin one. */
	st = q->wstmt[name != NULL ? W_TOKEN_NAME_EXISTS : W_TOKEN_EXISTS];
	if (name != NULL)
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(st, 1, id);
	rc = step_reset(st);
	if (rc == SQLITE_ROW)
		status = STORE_CONFLICT;
	else if (rc == SQLITE_DONE)
		status = STORE_NOT_FOUND;
	else
		status = sq_error(q->w, "revoke token", rc);
out:
	pthread_mutex_unlock(&q->wlock);
	return status;
}

static int sq_token_revoke_id(void *impl, int64_t id, bool keep_an_admin)
{
	return revoke_guarded(impl, NULL, id, keep_an_admin);
}

static int sq_token_revoke_name(void *impl, const char *name, bool keep_an_admin)
{
	return revoke_guarded(impl, name, 0, keep_an_admin);
}

static int sq_token_uses_write(void *impl, const struct store_token_use *uses, size_t n)
{
	struct sq *q = impl;
	sqlite3_stmt *st = q->wstmt[W_TOKEN_USED];
	int rc = SQLITE_DONE, status;

	status = begin_w(q);
	if (status != STORE_OK)
		goto out;
	for (size_t i = 0; i < n && rc == SQLITE_DONE; i++) {
		sqlite3_bind_int64(st, 1, uses[i].id);
		sqlite3_bind_int64(st, 2, uses[i].at);
		rc = step_reset(st); /* a token revoked since matches no row */
	}
	if (rc != SQLITE_DONE) {
		status = sq_error(q->w, "write token uses", rc);
		sqlite3_exec(q->w, "ROLLBACK", NULL, NULL, NULL);
		goto out;
	}
	status = commit_w(q);
	if (status != STORE_OK)
		sqlite3_exec(q->w, "ROLLBACK", NULL, NULL, NULL);
out:
	pthread_mutex_unlock(&q->wlock);
	return status;
}

static int sq_token_count(void *impl, int64_t *count)
{
	struct reader *r = reader_get(impl);

	return r != NULL ? reader_int(r, R_TOKEN_COUNT, "count tokens", count) : STORE_ERROR;
}

/* ---- the whole database: dump and load ---- */

/* The click_days rows of one chunk, read once for its 128 links: a dump
 * takes each link's days from them rather than reading the rows again. */
struct chunk_days {
	int64_t chunk; /* -1: none read yet */
	size_t n, cap; /* rows, and room for them */
	int64_t *key;
	size_t *off; /* row i's blob is data[off[i] .. off[i + 1]) */
	unsigned char *data;
	size_t size; /* data's room */
};

/* A dump's statements, prepared on the calling thread's reader. */
struct dump {
	struct reader *r;
	sqlite3_stmt *links, *daily, *refs, *tokens;
	const struct store_dump_fns *fns;
	void *ctx;
	struct chunk_days days;
};

static const enum reader_stmt dump_stmts[] = {R_DUMP_LINKS, R_DAILY, R_DUMP_REFERRERS, R_TOKEN_LIST};

/* Resets st after a dump's loop over it: the callbacks' status when one
 * stopped it, else the step's (SQLITE_DONE: all read). */
static int dump_end(struct dump *d, sqlite3_stmt *st, int status, int rc, const char *what)
{
	sqlite3_reset(st);
	return status != STORE_OK || rc == SQLITE_DONE ? status : sq_error(d->r->db, what, rc);
}

/* Room in c for one more row of len bytes. */
static int chunk_days_grow(struct chunk_days *c, size_t len)
{
	if (c->n + 1 >= c->cap) {
		size_t cap = c->cap != 0 ? 2 * c->cap : 64;
		int64_t *key = realloc(c->key, cap * sizeof(*key));
		size_t *off = key != NULL ? realloc(c->off, (cap + 1) * sizeof(*off)) : NULL;
		if (key != NULL)
			c->key = key;
		if (off == NULL)
			return STORE_ERROR;
		c->off = off;
		c->cap = cap;
	}
	if (c->off[c->n] + len > c->size) {
		size_t size = 2 * (c->off[c->n] + len);
		unsigned char *data = realloc(c->data, size);
		if (data == NULL)
			return STORE_ERROR;
		c->data = data;
		c->size = size;
	}
	return STORE_OK;
}

/* Reads the click_days rows of chunk into d->days, each checked. */
static int chunk_days_read(struct dump *d, int64_t chunk)
{
	struct chunk_days *c = &d->days;
	sqlite3_stmt *st = d->daily;
	int rc, status = STORE_OK;

	c->chunk = -1;
	c->n = 0;
	if (c->off == NULL && (c->off = calloc(1, sizeof(*c->off))) == NULL)
		return STORE_ERROR;
	c->off[0] = 0;
	sqlite3_bind_int64(st, 1, chunk << DAY_BITS);
	sqlite3_bind_int64(st, 2, chunk << DAY_BITS | DAY_MAX);
	while (status == STORE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *b = sqlite3_column_blob(st, 1);
		size_t len = (size_t)sqlite3_column_bytes(st, 1);
		int64_t key = sqlite3_column_int64(st, 0);
		if (!click_chunk_is_valid(&click_chunk_day, b, len)) {
			fprintf(stderr, "shortd: store: click_days row %lld is corrupt\n", (long long)key);
			status = STORE_CORRUPT;
		} else if ((status = chunk_days_grow(c, len)) == STORE_OK) {
			if (len > 0)
				memcpy(c->data + c->off[c->n], b, len);
			c->key[c->n] = key;
			c->off[c->n + 1] = c->off[c->n] + len;
			c->n++;
		}
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (status != STORE_OK)
		return status;
	if (rc != SQLITE_DONE)
		return sq_error(d->r->db, "dump daily clicks", rc);
	c->chunk = chunk;
	return STORE_OK;
}

/* A link's days with counts, in order, from its chunk's rows. */
static int dump_days(struct dump *d, int64_t link_id)
{
	struct chunk_days *c = &d->days;
	struct store_history_row h = {.link_id = link_id};
	int64_t v[CLICK_CHUNK_FIELDS_MAX], first;
	int status = STORE_OK;

	if (!day_key(link_id, 0, &first))
		return STORE_OK; /* no days can be kept for such an id */
	if (c->chunk != chunk_of(link_id) && (status = chunk_days_read(d, chunk_of(link_id))) != STORE_OK)
		return status;
	for (size_t i = 0; i < c->n && status == STORE_OK; i++) {
		click_chunk_get(&click_chunk_day, c->data + c->off[i], c->off[i + 1] - c->off[i], slot_of(link_id), v);
		if (v[0] == 0 && v[1] == 0)
			continue;
		h.day = c->key[i] & DAY_MAX;
		h.clicks = v[0];
		h.bot_clicks = v[1];
		status = d->fns->history(&h, d->ctx);
	}
	return status;
}

/* A link's history rows: its days, then its referrers. */
static int dump_history(struct dump *d, int64_t link_id)
{
	struct store_history_row h = {.link_id = link_id};
	int rc = SQLITE_DONE, status;

	status = dump_days(d, link_id);
	sqlite3_bind_int64(d->refs, 1, link_id);
	h.bot_clicks = 0;
	while (status == STORE_OK && (rc = sqlite3_step(d->refs)) == SQLITE_ROW) {
		h.day = sqlite3_column_int64(d->refs, 0);
		h.host = (const char *)sqlite3_column_text(d->refs, 1);
		h.host = h.host != NULL ? h.host : "";
		h.clicks = sqlite3_column_int64(d->refs, 2);
		status = d->fns->history(&h, d->ctx);
	}
	return dump_end(d, d->refs, status, rc, "dump referrers");
}

static int dump_all(struct dump *d, struct link *l)
{
	struct store_token t;
	int rc = SQLITE_DONE, status = STORE_OK;

	while (status == STORE_OK && (rc = link_step(d->links, sqlite3_step(d->links), l)) == SQLITE_ROW) {
		status = d->fns->link(l, d->ctx);
		if (status == STORE_OK)
			status = dump_history(d, l->id);
	}
	status = dump_end(d, d->links, status, rc, "dump links");
	while (status == STORE_OK && (rc = sqlite3_step(d->tokens)) == SQLITE_ROW) {
		token_from_row(d->tokens, &t);
		if (sqlite3_column_bytes(d->tokens, 3) != STORE_TOKEN_HASH_LEN) {
			fprintf(stderr, "shortd: store: token '%s': its stored hash is %d bytes, not %d\n", t.name,
			        sqlite3_column_bytes(d->tokens, 3), STORE_TOKEN_HASH_LEN);
			status = STORE_CORRUPT;
		} else {
			status = d->fns->token(&t, d->ctx);
		}
	}
	return dump_end(d, d->tokens, status, rc, "dump tokens");
}

/* One read transaction on the calling thread's connection: one snapshot. */
static int sq_dump(void *impl, const struct store_dump_fns *fns, void *ctx)
{
	struct dump d = {.r = reader_get(impl), .fns = fns, .ctx = ctx, .days = {.chunk = -1}};
	sqlite3_stmt *st[4] = {NULL};
	struct link *l = malloc(sizeof(*l));
	bool ready = l != NULL && d.r != NULL;
	int status = STORE_ERROR;

	for (size_t i = 0; ready && i < 4; i++)
		ready = (st[i] = reader_prepared(d.r, dump_stmts[i])) != NULL;
	if (ready && sqlite3_exec(d.r->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK) {
		d.links = st[0];
		d.daily = st[1];
		d.refs = st[2];
		d.tokens = st[3];
		status = dump_all(&d, l);
		sqlite3_exec(d.r->db, "COMMIT", NULL, NULL, NULL); /* a read: nothing to lose */
	} else if (ready) {
		status = sq_error(d.r->db, "begin a dump", SQLITE_ERROR);
	}
	free(d.days.data);
	free(d.days.off);
	free(d.days.key);
	free(l);
	return status;
}

/* A load's click counts wait in two lists of LOAD_CHANGES each, written a
 * chunk row at a time when one fills and at the end. */
#define LOAD_CHANGES 65536

struct sq_loader {
	struct store_loader ld;
	struct sq *q;
	struct click_chunk_change *totals, *days;
	size_t n_totals, n_days;
	int64_t last_id; /* the link loaded last, whose history follows it */
};

/* Writes the counts gathered so far. */
static int load_flush(struct sq_loader *l)
{
	int status;

	changes_sort(l->totals, l->n_totals);
	changes_sort(l->days, l->n_days);
	status = chunks_apply(l->q, CHUNK_TOTALS, l->totals, l->n_totals, CHUNK_NEW);
	if (status == STORE_OK)
		status = chunks_apply(l->q, CHUNK_DAYS, l->days, l->n_days, CHUNK_NEW);
	l->n_totals = l->n_days = 0;
	return status;
}

static int load_link(struct store_loader *ld, struct link *l)
{
	struct sq_loader *lo = (struct sq_loader *)ld;
	struct sq *q = lo->q;
	sqlite3_stmt *st = q->wstmt[W_LOAD_LINK];
	char *tags = link_tags_to_json(l);
	int rc;

	if (tags == NULL)
		return STORE_ERROR;
	bind_link(st, 0, l, tags);
	rc = step_reset(st);
	free(tags);
	if (rc != SQLITE_DONE)
		return sq_error(q->w, "load a link", rc);
	l->id = sqlite3_last_insert_rowid(q->w);
	lo->last_id = l->id;
	if (l->clicks == 0 && l->bot_clicks == 0 && l->last_click_at == LINK_NO_TIME)
		return STORE_OK;
	if (lo->n_totals == LOAD_CHANGES && (rc = load_flush(lo)) != STORE_OK)
		return rc;
	lo->totals[lo->n_totals++] = (struct click_chunk_change){
	    .key = chunk_of(l->id), .slot = slot_of(l->id), .v = {l->clicks, l->bot_clicks, l->last_click_at}};
	return STORE_OK;
}

static int load_history(struct store_loader *ld, const struct store_history_row *h)
{
	struct sq_loader *lo = (struct sq_loader *)ld;
	struct sq *q = lo->q;
	sqlite3_stmt *st = q->wstmt[W_LOAD_REFERRER];
	struct click_chunk_change *c;
	int rc;

	if (h->host == NULL) {
		if (h->link_id != lo->last_id) { /* as the foreign key of referrers_daily checks */
			sqlite3_bind_int64(q->wstmt[W_LINK_EXISTS], 1, h->link_id);
			rc = step_reset(q->wstmt[W_LINK_EXISTS]);
			if (rc != SQLITE_ROW && rc != SQLITE_DONE)
				return sq_error(q->w, "load click history", rc);
			if (rc == SQLITE_DONE) {
				fprintf(stderr, "shortd: store: load click history: no link %lld\n",
				        (long long)h->link_id);
				return STORE_CONFLICT;
			}
		}
		if (lo->n_days == LOAD_CHANGES && (rc = load_flush(lo)) != STORE_OK)
			return rc;
		c = &lo->days[lo->n_days];
		if (!day_key(h->link_id, h->day, &c->key)) {
			fprintf(stderr, "shortd: store: load click history: day %lld of link %lld is out of range\n",
			        (long long)h->day, (long long)h->link_id);
			return STORE_ERROR;
		}
		c->slot = slot_of(h->link_id);
		c->v[0] = h->clicks;
		c->v[1] = h->bot_clicks;
		lo->n_days++;
		return STORE_OK;
	}
	sqlite3_bind_int64(st, 1, h->link_id);
	sqlite3_bind_int64(st, 2, h->day);
	sqlite3_bind_text(st, 3, h->host, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, h->clicks);
	rc = step_reset(st);
	return rc == SQLITE_DONE ? STORE_OK : sq_error(q->w, "load click history", rc);
}

static int load_token(struct store_loader *ld, const struct store_token *t)
{
	struct sq *q = ((struct sq_loader *)ld)->q;
	sqlite3_stmt *st = q->wstmt[W_LOAD_TOKEN];
	int rc;

	sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, t->hash, STORE_TOKEN_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, t->role == STORE_ROLE_READ_ONLY ? 1 : 0);
	sqlite3_bind_int64(st, 4, t->created_at);
	bind_opt_int64(st, 5, t->last_used_at, LINK_NO_TIME);
	rc = step_reset(st);
	return rc == SQLITE_DONE ? STORE_OK : sq_error(q->w, "load a token", rc);
}

static int sq_load(void *impl, store_fill_fn fill, void *ctx)
{
	struct sq *q = impl;
	struct sq_loader l = {{load_link, load_history, load_token}, q, NULL, NULL, 0, 0, 0};
	int rc, status;

	l.totals = malloc(LOAD_CHANGES * sizeof(*l.totals));
	l.days = malloc(LOAD_CHANGES * sizeof(*l.days));
	status = begin_w(q);
	if (status == STORE_OK && (l.totals == NULL || l.days == NULL)) {
		status = STORE_ERROR;
		sqlite3_exec(q->w, "ROLLBACK", NULL, NULL, NULL);
	}
	if (status != STORE_OK)
		goto out;
	rc = sqlite3_step(q->wstmt[W_NOT_EMPTY]);
	if (rc != SQLITE_ROW)
		status = sq_error(q->w, "check that the database is empty", rc);
	else if (sqlite3_column_int(q->wstmt[W_NOT_EMPTY], 0) != 0)
		status = STORE_CONFLICT;
	sqlite3_reset(q->wstmt[W_NOT_EMPTY]);
	if (status == STORE_OK)
		status = fill(&l.ld, ctx);
	if (status == STORE_OK)
		status = load_flush(&l);
	if (status == STORE_OK)
		status = commit_links_w(q, 0);
	if (status != STORE_OK)
		sqlite3_exec(q->w, "ROLLBACK", NULL, NULL, NULL);
out:
	pthread_mutex_unlock(&q->wlock);
	free(l.days);
	free(l.totals);
	return status;
}

static const char *sq_display_name(void *impl)
{
	return ((struct sq *)impl)->path;
}

const struct store_ops store_sqlite_ops = {
    .name = "sqlite",
    .shared = false,
    .open = sq_open,
    .open_readers = sq_open_readers,
    .close = sq_close,
    .schema_version = sq_schema_version,
    .schema_version_found = sq_schema_version_found,
    .check = sq_check,
    .ping = sq_ping,
    .link_lookup = sq_link_lookup,
    .link_resolve = sq_link_resolve,
    .links_changed_since = sq_links_changed_since,
    .link_create = sq_link_create,
    .link_create_batch = sq_link_create_batch,
    .link_update = sq_link_update,
    .link_delete = sq_link_delete,
    .links_import = sq_links_import,
    .link_list = sq_link_list,
    .link_take_click = sq_link_take_click,
    .link_find = sq_link_find,
    .clicks_write = sq_clicks_write,
    .link_daily = sq_link_daily,
    .link_referrers = sq_link_referrers,
    .token_add = sq_token_add,
    .token_find = sq_token_find,
    .token_list = sq_token_list,
    .token_revoke = sq_token_revoke,
    .token_count = sq_token_count,
    .token_revoke_id = sq_token_revoke_id,
    .token_revoke_name = sq_token_revoke_name,
    .token_uses_write = sq_token_uses_write,
    .dump = sq_dump,
    .load = sq_load,
    .display_name = sq_display_name,
};
