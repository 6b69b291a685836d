/*
 * What a storage backend implements: only what is particular to its engine
 * (connections, statements, dialect, how it learns that links changed).
 * store.c holds a pointer to one of these tables, chosen by the form of
 * --db, and keeps above it what every backend shares: the per-thread link
 * cache and its staleness rule, and the retries of generated codes. A
 * backend never sees HTTP and the HTTP code never sees a backend.
 *
 * Every operation may be called from any thread, as store.h says of the
 * store_* call it serves, and returns a STORE_* status.
 */
#ifndef SHORTD_STORE_BACKEND_H
#define SHORTD_STORE_BACKEND_H

#include "store.h"

/* An epoch no backend answers: "never asked". */
#define STORE_EPOCH_UNKNOWN INT64_MIN

struct store_ops {
	const char *name;
	/* Several processes may write the database at once (store_is_shared). */
	bool shared;
	/* create: the database may be made when there is none (serve, init);
	 * without it a missing database is STORE_NOT_FOUND. */
	int (*open)(const char *target, bool create, void **impl, char *err, size_t errlen);
	int (*open_readers)(void *impl, int n, char *err, size_t errlen);
	void (*close)(void *impl);
	int (*schema_version)(void *impl);
	int (*schema_version_found)(void *impl);
	int (*check)(void *impl);
	int (*ping)(void *impl);
	int (*link_lookup)(void *impl, const char *code, struct link *out);
	/* link_lookup without the labels (title, tags, created_by, updated_by
	 * left empty): what store_link_resolve() reads on a cache miss. */
	int (*link_resolve)(void *impl, const char *code, struct link *out);
	/*
	 * The links' epoch: a number that moves whenever any field a redirect
	 * reads (code, url, status, forward_query, disabled, expires_at,
	 * max_clicks) of any link changes or a link goes, whoever changed it.
	 * Given the epoch this thread was last told, STORE_OK with *now the
	 * epoch as it is now (equal: nothing changed since). Any other status
	 * means it cannot tell at this moment and says nothing of the links:
	 * the caller reads the store this time. Called for every redirect
	 * answered from a cache, so when nothing changed it must cost no lock,
	 * allocation or system call. epoch is STORE_EPOCH_UNKNOWN on a thread's
	 * first call; a failure then means it can never tell on this thread.
	 * *thread is the calling thread's own slot, NULL at its first call and
	 * kept by the caller, where the backend may keep what it needs to
	 * answer that thread quickly (SQLite: its read connection).
	 */
	int (*links_changed_since)(void *impl, void **thread, int64_t epoch, int64_t *now);
	/* Inserts l with its code, which is set; STORE_CONFLICT when the code is
	 * taken, and then nothing is written. Fills l->id. */
	int (*link_create)(void *impl, struct link *l);
	/* Inserts the items in one transaction, or reuses as store.h says; every
	 * code is set. STORE_CONFLICT with *bad the index whose code is taken,
	 * and then nothing is written. Fills each link's id. */
	int (*link_create_batch)(void *impl, struct store_new_link *items, size_t n, size_t *bad);
	int (*link_update)(void *impl, const char *code, const struct link_patch *p, int64_t now, struct link *out);
	int (*link_delete)(void *impl, const char *code);
	/* store_links_import() for codes that are all set: a taken code of a
	 * row with code_drawn is STORE_CONFLICT (*conflict its index) whatever
	 * the mode, and then nothing is written. */
	int (*links_import)(void *impl, struct store_import_row *rows, size_t n, enum store_import_mode mode,
	                    int64_t now, size_t *conflict);
	int (*link_list)(void *impl, int64_t after_id, int limit, store_link_fn fn, void *ctx);
	/* As store_link_take_click(); STORE_UNSUPPORTED where one process owns
	 * the database and counts its limited links' clicks in memory. */
	int (*link_take_click)(void *impl, const struct link *l, int64_t known, bool *taken);
	int (*link_find)(void *impl, const struct link_filter *f, int64_t after_id, int limit, store_link_fn fn,
	                 void *ctx);
	int (*clicks_write)(void *impl, const struct click_row *rows, size_t n);
	int (*link_daily)(void *impl, int64_t link_id, int64_t since, struct store_daily *out, size_t max, size_t *n);
	int (*link_referrers)(void *impl, int64_t link_id, int64_t since, struct store_referrer *out, size_t max,
	                      size_t *n);
	int (*token_add)(void *impl, const char *name, const unsigned char *hash, enum store_role role, int64_t now);
	int (*token_find)(void *impl, const unsigned char *hash, struct store_token *out);
	int (*token_list)(void *impl, store_token_fn fn, void *ctx);
	int (*token_revoke)(void *impl, const char *name);
	int (*token_count)(void *impl, int64_t *count);
	int (*token_revoke_id)(void *impl, int64_t id, bool keep_an_admin);
	int (*token_revoke_name)(void *impl, const char *name, bool keep_an_admin);
	int (*token_uses_write)(void *impl, const struct store_token_use *uses, size_t n);
	/* store_dump(), store_load() and store_display_name(). */
	int (*dump)(void *impl, const struct store_dump_fns *fns, void *ctx);
	int (*load)(void *impl, store_fill_fn fill, void *ctx);
	const char *(*display_name)(void *impl);
};

/* A backend's open load: its own struct begins with this one, and store.c
 * calls through it. */
struct store_loader {
	int (*link)(struct store_loader *ld, struct link *l);
	int (*history)(struct store_loader *ld, const struct store_history_row *h);
	int (*token)(struct store_loader *ld, const struct store_token *t);
};

/* For load(): whether the database holds a link or a token, as one
 * statement that every dialect speaks (1 or 0). */
#define STORE_SQL_NOT_EMPTY                                                                                            \
	"SELECT CASE WHEN EXISTS (SELECT 1 FROM links) OR EXISTS (SELECT 1 FROM tokens) THEN 1 ELSE 0 END"
/* Applies the fields p names to l, and p->by as the link's updated_by. */
void store_patch_apply(struct link *l, const struct link_patch *p);

/* The patch that an imported row makes to the link with its code (the
 * fields it names; its labels, and its updated_by as the patch's by). */
void store_import_patch(const struct store_import_row *row, struct link_patch *p);

/*
 * For links_import(): STORE_CONFLICT when two of rows[idx[0..m)] (the rows
 * to be created) have one code, with *bad one of them (a drawn one when
 * there is one, which can be drawn again); STORE_OK when none do;
 * STORE_ERROR out of memory.
 */
int store_import_repeated(const struct store_import_row *rows, const size_t *idx, size_t m, size_t *bad);

extern const struct store_ops store_sqlite_ops;
extern const struct store_ops store_pg_ops;

#endif
