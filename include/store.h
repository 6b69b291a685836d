/*
 * The storage interface: links, tokens and click counts. store.c chooses a
 * backend by the form of the database's name and dispatches each call to
 * it (store_sqlite.c today); nothing above this header knows which database
 * is behind it, and nothing here promises more than any backend can keep.
 *
 * Thread safety: every function may be called from any thread. Reads never
 * wait for a write to finish; writes are serialised inside the backend.
 * Strings and links are copied into caller-owned memory.
 */
#ifndef SHORTD_STORE_H
#define SHORTD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "link.h"

enum store_status {
	STORE_OK = 0,
	STORE_NOT_FOUND = -1,
	STORE_CONFLICT = -2, /* a unique key (code, token name) is taken */
	STORE_FULL = -3,     /* disk or database size limit reached */
	STORE_READONLY = -4,
	STORE_CORRUPT = -5,
	STORE_TOO_NEW = -6, /* the database is from a newer shortd */
	STORE_ERROR = -7,
	STORE_GONE = -8,        /* the path no longer names the file opened (moved, deleted, replaced) */
	STORE_UNSUPPORTED = -9, /* the database is of a kind this shortd is built without */
};

#define STORE_TOKEN_NAME_MAX 64
#define STORE_TOKEN_HASH_LEN 32

enum store_role { STORE_ROLE_ADMIN = 0, STORE_ROLE_READ_ONLY = 1 };

struct store_token {
	int64_t id; /* names the token for its life; never given to another token */
	char name[STORE_TOKEN_NAME_MAX + 1];
	enum store_role role;
	int64_t created_at;
	int64_t last_used_at; /* as last written (see store_token_uses_write); LINK_NO_TIME: never */
	unsigned char hash[STORE_TOKEN_HASH_LEN]; /* the stored SHA-256, never the secret */
};

/* Fields of a link to change; a flag says which are set. */
enum link_patch_field {
	PATCH_URL = 1 << 0,
	PATCH_STATUS = 1 << 1,
	PATCH_EXPIRES_AT = 1 << 2,
	PATCH_MAX_CLICKS = 1 << 3,
	PATCH_FORWARD_QUERY = 1 << 4,
	PATCH_DISABLED = 1 << 5,
	PATCH_TITLE = 1 << 6,
	PATCH_TAGS = 1 << 7, /* replaces every tag */
};

struct link_patch {
	unsigned fields;
	char url[LINK_URL_MAX + 1];
	int status;
	int64_t expires_at; /* LINK_NO_TIME clears it */
	int64_t max_clicks; /* LINK_NO_LIMIT clears it */
	bool forward_query;
	bool disabled;
	char title[LINK_TITLE_MAX + 1];
	int n_tags;
	char tags[LINK_TAGS_MAX][LINK_TAG_MAX + 1];
	char by[LINK_BY_MAX + 1]; /* who changes it: always written to updated_by */
};

/* What GET /api/v1/links and `shortd list` look for; every filter given must
 * match. The strings are borrowed for the call. */
struct link_filter {
	const char *url;         /* NULL, or the target in url_normalize()'s form */
	const char *q;           /* NULL, or a case-insensitive substring of code, url, title or a tag */
	const char *const *tags; /* each must be one of the link's tags, byte for byte */
	size_t n_tags;
};

/* One link of a batch to create. */
struct store_new_link {
	struct link link; /* in: the link (code "" draws one); out: the link stored or reused */
	bool reuse;       /* a link of the same url and options may answer instead */
	bool reused;      /* out: link is one that existed */
};

/* What an import does with a link whose code is taken. */
enum store_import_mode {
	STORE_IMPORT_SKIP = 0, /* leaves the link there as it is */
	STORE_IMPORT_FAIL,     /* the batch is refused: STORE_CONFLICT */
	STORE_IMPORT_UPDATE,   /* changes the fields the row names */
};

enum store_import_result {
	STORE_IMPORT_CREATED = 0,
	STORE_IMPORT_SKIPPED,
	STORE_IMPORT_UPDATED,
};

/* One link of an import. */
struct store_import_row {
	struct link link; /* as it is to be stored, times and counts included; an empty code: one is drawn */
	unsigned fields;  /* the PATCH_* fields the row names: what an update changes */
	bool code_drawn;  /* the store's own: the code was drawn for this batch */
	enum store_import_result result;
};

/* One link's clicks for one day, with the referring host ("" for none). */
struct click_row {
	int64_t link_id;
	int64_t day; /* days since 1970-01-01, UTC */
	int64_t last_at;
	int64_t clicks;
	int64_t bot_clicks;
	const char *referrer; /* borrowed for the call; NULL or "" for none */
};

struct store_daily {
	int64_t day;
	int64_t clicks;
	int64_t bot_clicks;
};

struct store_referrer {
	char host[256];
	int64_t clicks;
};

struct store;

/* Fills buf with a fresh code of LINK_GEN_LEN characters; 0 or -1. */
typedef int (*store_codegen_fn)(char *buf, size_t size, void *ctx);
/* Called once per listed link; a non-zero return stops the listing. */
typedef int (*store_link_fn)(const struct link *l, void *ctx);
typedef int (*store_token_fn)(const struct store_token *t, void *ctx);

/*
 * Opens the database that path names, creating it when there is none (only
 * serve and `shortd init` do), and brings its schema up to date. path is the
 * value of --db: a postgres:// or postgresql:// URL names a PostgreSQL
 * database (libpq's connection URI; the database itself must exist, and
 * the schema is made in it), anything else the path of a SQLite database.
 * An error never repeats a URL's password. On failure returns an error, writes a one-line reason that
 * names the database to err and sets *out to NULL: STORE_TOO_NEW for a
 * database from a newer shortd, STORE_CORRUPT, STORE_READONLY, STORE_ERROR.
 *
 * SQLite: the database file and its -wal are held open until store_close,
 * and no connection opened later may create a file (store_check). A missing
 * or empty file with a non-empty PATH-wal beside it is STORE_ERROR: that
 * WAL may hold the committed data of a database moved or deleted while in
 * use, and SQLite would delete it.
 */
int store_open(const char *path, struct store **out, char *err, size_t errlen);

/* store_open() for a database that must exist: a missing one (for SQLite
 * also an empty file) is STORE_NOT_FOUND with "no database at PATH" in
 * err, and nothing is created (not even a -wal or -shm); for PostgreSQL a
 * database without shortd's schema. Every command but serve and init. */
int store_open_existing(const char *path, struct store **out, char *err, size_t errlen);

/*
 * Readies the store for n threads that will read, so that a thread's first
 * read finds its connection open: SQLite opens each thread's connection
 * now, so that none is opened by name while the daemon serves and a file
 * moved meanwhile keeps being read where it went. Call before those threads
 * start. STORE_OK, or an error with err.
 */
int store_open_readers(struct store *s, int n, char *err, size_t errlen);

/* Closes every connection; accepts NULL. No call may be running. */
void store_close(struct store *s);

/* The schema version the database is at. */
int store_schema_version(struct store *s);

/* The schema version it had when opened, before migrations: 0 for a
 * database store_open() created. */
int store_schema_version_found(struct store *s);

/*
 * STORE_OK while the database is the one the store opened; STORE_GONE once
 * it is not (or STORE_OK again once it is back). While gone, every write
 * answers STORE_GONE and writes nothing; reads go on from the database
 * opened. Each change is logged once. May make system calls: never on the
 * redirect path.
 *
 * SQLite: gone is the path or PATH-wal naming another file than the one
 * held (moved, deleted or replaced); on the change to gone the WAL is first
 * copied into the file held (a checkpoint), so that file holds every
 * committed write by itself wherever it went.
 */
int store_check(struct store *s);

/* STORE_OK when store_check() passes and a fresh connection can read the
 * database; STORE_GONE, or another error, when not. */
int store_ping(struct store *s);

/* The link with this code into *out, as stored now, or STORE_NOT_FOUND.
 * Never waits for a writer. */
int store_link_lookup(struct store *s, const char *code, struct link *out);

/*
 * The redirect path's read: as store_link_lookup(), but it may answer from
 * the link cache (see store_set_link_cache), one shared by every thread, which
 * is exact for every field a redirect reads (url, status, forward_query,
 * disabled, expires_at, max_clicks) whoever changed the link, and leaves the
 * counts and times of a link without max_clicks as they were when cached
 * (created_at, updated_at, bot_clicks, last_click_at and the labels
 * absent). A link with max_clicks always comes from the store. Answered
 * from the cache, it waits for no lock, allocates nothing and makes no
 * system call (it tries the cache's writer lock only when links changed);
 * on a miss it puts what it read into the cache only when no other thread
 * is writing it, so it never waits for another redirect.
 */
int store_link_resolve(struct store *s, const char *code, struct link *out);

/* Gives store_link_resolve() a link cache of about bytes, one shared by
 * every thread (0: none, the default), in place of any given before. Call
 * it before any thread resolves a link. STORE_ERROR when the cache cannot
 * be made (no memory, or libsodium would not start): then there is none. */
int store_set_link_cache(struct store *s, size_t bytes);

/* Creates l with its times as given. With l->code empty a code is drawn
 * with gen, and drawn again while the one drawn is taken (up to 16 times,
 * then STORE_CONFLICT); a failing gen is STORE_ERROR. On success fills
 * l->id and l->code; on failure nothing is written and a drawn code is
 * cleared. STORE_CONFLICT when a custom code is taken. */
int store_link_create(struct store *s, struct link *l, store_codegen_fn gen, void *gen_ctx);

/*
 * Creates n links in one transaction, all or none. With reuse set, an item
 * is answered with the oldest link that has its url, status, expires_at,
 * max_clicks and forward_query and is not disabled (one made earlier in the
 * batch included), when there is one; the check and the insert are one
 * transaction, so identical requests racing each other make one link.
 * Codes are drawn with gen as store_link_create() draws them. On
 * STORE_CONFLICT (a custom code taken, or given twice in the batch) *bad is
 * the index of the item that failed. On failure nothing is written.
 */
int store_link_create_batch(struct store *s, struct store_new_link *items, size_t n, store_codegen_fn gen,
                            void *gen_ctx, size_t *bad);

/* Applies p to the link with this code and writes the result to *out. */
int store_link_update(struct store *s, const char *code, const struct link_patch *p, int64_t now, struct link *out);

/* Deletes the link and its click history; STORE_NOT_FOUND when absent. */
int store_link_delete(struct store *s, const char *code);

/* Calls fn for up to limit links with id > after_id, by ascending id. */
int store_link_list(struct store *s, int64_t after_id, int limit, store_link_fn fn, void *ctx);

/*
 * Writes a batch of imported links in one transaction: each is created with
 * its times and counts as given (l->id is filled), or, when its code is
 * taken, handled as mode says (with UPDATE, the named fields change, the
 * counts stay and updated_at becomes now); each row's result says which.
 * An empty code is drawn with gen, and drawn again when taken, as
 * store_link_create() does. On any failure nothing of the batch is written:
 * STORE_CONFLICT with *conflict the index of the row whose code is taken
 * (FAIL), or another error.
 */
int store_links_import(struct store *s, struct store_import_row *rows, size_t n, enum store_import_mode mode,
                       int64_t now, store_codegen_fn gen, void *gen_ctx, size_t *conflict);
/* True when several processes may write the database at once (PostgreSQL,
 * one per node); false when one process owns it (SQLite). */
bool store_is_shared(const struct store *s);

/*
 * For a link with max_clicks, on a shared store: takes one of its clicks on
 * the server with one conditional update, so that the limit holds exactly
 * whichever node answers, and sets *taken (false: the link has run out).
 * known is the count of its clicks this process knows of, written and
 * pending, and counts as used as well (clicks made while it had no limit).
 * STORE_UNSUPPORTED on a store that is not shared: clicks_admit() counts
 * exactly in memory there. Another error: it cannot tell now.
 */
int store_link_take_click(struct store *s, const struct link *l, int64_t known, bool *taken);

/* As store_link_list(), for the links that match every filter of f; read
 * through indexes (url, tags, a trigram index for q of 3 or more
 * characters), never by reading every link for a url or a tag. */
int store_link_find(struct store *s, const struct link_filter *f, int64_t after_id, int limit, store_link_fn fn,
                    void *ctx);

/* Adds a batch of click rows in one transaction: to the links' totals and
 * last_click_at, to the daily table, and to the referrer table. Rows for
 * links deleted since are dropped. */
int store_clicks_write(struct store *s, const struct click_row *rows, size_t n);

/* Daily counts of a link from day since (inclusive), ascending; up to max. */
int store_link_daily(struct store *s, int64_t link_id, int64_t since, struct store_daily *out, size_t max, size_t *n);

/* Top referring hosts of a link since a day, most clicks first; up to max. */
int store_link_referrers(struct store *s, int64_t link_id, int64_t since, struct store_referrer *out, size_t max,
                         size_t *n);

/* A token's latest use seen, for store_token_uses_write(). */
struct store_token_use {
	int64_t id;
	int64_t at; /* unix seconds */
};

/* Tokens, stored only as a SHA-256 hash. */
int store_token_add(struct store *s, const char *name, const unsigned char hash[STORE_TOKEN_HASH_LEN],
                    enum store_role role, int64_t now);
int store_token_find(struct store *s, const unsigned char hash[STORE_TOKEN_HASH_LEN], struct store_token *out);
int store_token_list(struct store *s, store_token_fn fn, void *ctx);
int store_token_revoke(struct store *s, const char *name);
int store_token_count(struct store *s, int64_t *count);

/* Revokes the token with this id: STORE_OK, STORE_NOT_FOUND when there is
 * none, and, with keep_an_admin, STORE_CONFLICT (nothing revoked) when it
 * is the only admin token left. The check and the delete are one atomic
 * step, so two concurrent revokes cannot both pass it. */
int store_token_revoke_id(struct store *s, int64_t id, bool keep_an_admin);

/* The same for the token named name (names are unique among the tokens
 * that exist): the one that has that name when it runs. */
int store_token_revoke_name(struct store *s, const char *name, bool keep_an_admin);

/* Raises each token's last_used_at to at (never lowers it), all in one
 * transaction; uses of tokens revoked since are dropped. */
int store_token_uses_write(struct store *s, const struct store_token_use *uses, size_t n);

/* ---- copying a whole database (shortd migrate) ---- */

/* One raw row of a link's click history: a day's counts (host NULL), or
 * a day's clicks from one referring host. Written back as it is, never
 * added to the link's totals (which are the link's own fields). */
struct store_history_row {
	int64_t link_id;
	int64_t day;      /* days since 1970-01-01, UTC */
	const char *host; /* NULL: the day's row; else the referring host, borrowed for the call */
	int64_t clicks;
	int64_t bot_clicks; /* 0 on a host's row */
};

/* What store_dump() calls for each row; each returns STORE_OK to go on, or
 * a status that stops the dump and is its result. */
struct store_dump_fns {
	int (*link)(const struct link *l, void *ctx);
	int (*history)(const struct store_history_row *h, void *ctx);
	int (*token)(const struct store_token *t, void *ctx);
};

/*
 * Reads the whole database as one snapshot (one read transaction): every
 * link by ascending id, each followed by its history (its days ascending,
 * then its referrer rows by day and host), then every token by ascending
 * id. The rows are borrowed for the call. STORE_CORRUPT for a token whose
 * stored hash is not STORE_TOKEN_HASH_LEN bytes (it could not be copied).
 */
int store_dump(struct store *s, const struct store_dump_fns *fns, void *ctx);

/* The open write of store_load(): the backend's, for fill's calls only. */
struct store_loader;

typedef int (*store_fill_fn)(struct store_loader *ld, void *ctx);

/*
 * Fills an empty database in one transaction: STORE_CONFLICT, with fill
 * never called, when it holds a link or a token; else fill writes through
 * ld, and its STORE_OK commits everything while any other status (its
 * result) rolls all of it back. Other writers wait (SQLite: the write lock;
 * PostgreSQL: the tables' locks) until it ends, so the database cannot
 * stop being empty meanwhile.
 */
int store_load(struct store *s, store_fill_fn fill, void *ctx);

/* Inserts l with its code, fields, times and counts as given; l->id is
 * set to the id it gets, which keeps the order of the calls. */
int store_load_link(struct store_loader *ld, struct link *l);

/* Inserts a history row of a link loaded (h->link_id its new id) as it is. */
int store_load_history(struct store_loader *ld, const struct store_history_row *h);

/* Inserts a token with its name, hash, role and times (t->id is not kept). */
int store_load_token(struct store_loader *ld, const struct store_token *t);

/* The database's name as messages give it: a path, or a URL without its
 * password. Borrowed until store_close. */
const char *store_display_name(const struct store *s);

/* A human name for a status, never NULL. */
const char *store_status_message(int status);

#endif
