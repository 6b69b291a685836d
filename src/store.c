/*
 * The storage interface above its backends. A struct store is a backend's
 * operations (store_backend.h), its private state, and what every backend
 * shares: the choice of backend by the form of the database's name, each
 * thread's link cache with the rule that keeps it exact, and the retries of
 * generated codes. A backend holds only what is particular to its engine.
 *
 * Invariant: a thread's link cache answers only while the backend says no
 * link changed since the epoch the cache was last checked against; it is
 * used by its own thread only, so the redirect path takes no lock here.
 */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "link_cache.h"
#include "store_backend.h"
#include "thread_registry.h"

/* Codes drawn for one link before giving up: with 62^7 codes, 16 taken in a
 * row means the generator is broken, not unlucky. */
#define GEN_ATTEMPTS 16

/* A thread's link cache and the epoch its records belong to. */
struct store_thread {
	struct link_cache *cache; /* NULL: not made yet */
	void *backend;            /* the backend's slot for this thread */
	int64_t epoch;
	bool off; /* it could not be made or watched: read the store */
};

struct store {
	const struct store_ops *ops;
	void *impl;
	size_t cache_bytes;              /* per thread; 0: no link cache */
	struct thread_registry *threads; /* each redirecting thread's cache */
};

static void *thread_new(void *arg)
{
	(void)arg;
	return calloc(1, sizeof(struct store_thread));
}

static void thread_free(void *obj, void *arg)
{
	struct store_thread *t = obj;

	(void)arg;
	link_cache_free(t->cache);
	free(t);
}

/*
 * The backend that serves target: a PostgreSQL URI (libpq's two schemes) or
 * else the path of a SQLite database. The URI is never repeated as given:
 * it may carry a password (store_pg.c names it without).
 */
static const struct store_ops *backend_for(const char *target)
{
	if (strncasecmp(target, "postgres://", strlen("postgres://")) == 0 ||
	    strncasecmp(target, "postgresql://", strlen("postgresql://")) == 0)
		return &store_pg_ops;
	return &store_sqlite_ops;
}

static int open_store(const char *target, bool create, struct store **out, char *err, size_t errlen)
{
	const struct store_ops *ops = backend_for(target);
	struct store *s;
	int rc;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return STORE_ERROR;
	}
	if (thread_registry_new(thread_new, thread_free, NULL, &s->threads) != 0) {
		snprintf(err, errlen, "out of memory or thread keys");
		free(s);
		return STORE_ERROR;
	}
	s->ops = ops;
	rc = ops->open(target, create, &s->impl, err, errlen);
	if (rc != STORE_OK) {
		thread_registry_free(s->threads);
		free(s);
		return rc;
	}
	*out = s;
	return STORE_OK;
}

int store_open(const char *path, struct store **out, char *err, size_t errlen)
{
	return open_store(path, true, out, err, errlen);
}

int store_open_existing(const char *path, struct store **out, char *err, size_t errlen)
{
	return open_store(path, false, out, err, errlen);
}

int store_open_readers(struct store *s, int n, char *err, size_t errlen)
{
	return s->ops->open_readers(s->impl, n, err, errlen);
}

void store_close(struct store *s)
{
	if (s == NULL)
		return;
	s->ops->close(s->impl);
	thread_registry_free(s->threads);
	free(s);
}

int store_schema_version(struct store *s)
{
	return s->ops->schema_version(s->impl);
}

int store_schema_version_found(struct store *s)
{
	return s->ops->schema_version_found(s->impl);
}

int store_check(struct store *s)
{
	return s->ops->check(s->impl);
}

int store_ping(struct store *s)
{
	return s->ops->ping(s->impl);
}

int store_link_lookup(struct store *s, const char *code, struct link *out)
{
	return s->ops->link_lookup(s->impl, code, out);
}

/* True when t's cache may answer now, after forgetting it if links changed. */
static bool cache_is_current(struct store *s, struct store_thread *t)
{
	int64_t now;

	if (t->off)
		return false;
	if (t->cache == NULL) {
		t->cache = link_cache_new(s->cache_bytes);
		if (t->cache == NULL ||
		    s->ops->links_changed_since(s->impl, &t->backend, STORE_EPOCH_UNKNOWN, &t->epoch) != STORE_OK) {
			fprintf(stderr, "shortd: store: link cache off for a thread: %s\n",
			        t->cache == NULL ? "out of memory" : "the store cannot tell when links change");
			link_cache_free(t->cache);
			t->cache = NULL;
			t->off = true;
			return false;
		}
		return true;
	}
	if (s->ops->links_changed_since(s->impl, &t->backend, t->epoch, &now) != STORE_OK)
		return false;
	if (now != t->epoch) {
		link_cache_invalidate(t->cache);
		t->epoch = now;
	}
	return true;
}

int store_link_resolve(struct store *s, const char *code, struct link *out)
{
	struct store_thread *t;
	bool cached;
	int rc;

	if (s->cache_bytes == 0)
		return s->ops->link_resolve(s->impl, code, out);
	t = thread_registry_get(s->threads);
	cached = t != NULL && cache_is_current(s, t);
	if (cached && link_cache_get(t->cache, code, out))
		return STORE_OK;
	rc = s->ops->link_resolve(s->impl, code, out);
	/* The cache keeps no link with a click limit (its count moves with
	 * every click); link_cache_put() passes those by. */
	if (cached && rc == STORE_OK)
		link_cache_put(t->cache, out);
	return rc;
}

void store_set_link_cache(struct store *s, size_t bytes_per_thread)
{
	s->cache_bytes = bytes_per_thread;
}

int store_link_create(struct store *s, struct link *l, store_codegen_fn gen, void *gen_ctx)
{
	int rc = STORE_ERROR;

	if (l->code[0] != '\0')
		return s->ops->link_create(s->impl, l);
	for (int attempt = 0; attempt < GEN_ATTEMPTS; attempt++) {
		if (gen(l->code, sizeof(l->code), gen_ctx) != 0) {
			fprintf(stderr, "shortd: store: create link: the code generator failed\n");
			rc = STORE_ERROR;
			break;
		}
		rc = s->ops->link_create(s->impl, l);
		if (rc != STORE_CONFLICT)
			break;
	}
	if (rc != STORE_OK)
		l->code[0] = '\0';
	return rc;
}

/* Orders indexes of an import's rows by their code, then by index. */
static int by_import_code(const void *a, const void *b, void *ctx)
{
	const struct store_import_row *rows = ctx;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int c = strcmp(rows[i].link.code, rows[j].link.code);

	return c != 0 ? c : (i > j) - (i < j);
}

void store_patch_apply(struct link *l, const struct link_patch *p)
{
	if (p->fields & PATCH_URL)
		snprintf(l->url, sizeof(l->url), "%s", p->url);
	if (p->fields & PATCH_STATUS)
		l->status = p->status;
	if (p->fields & PATCH_EXPIRES_AT)
		l->expires_at = p->expires_at;
	if (p->fields & PATCH_MAX_CLICKS)
		l->max_clicks = p->max_clicks;
	if (p->fields & PATCH_FORWARD_QUERY)
		l->forward_query = p->forward_query;
	if (p->fields & PATCH_DISABLED)
		l->disabled = p->disabled;
	if (p->fields & PATCH_TITLE)
		memcpy(l->title, p->title, sizeof(l->title));
	if (p->fields & PATCH_TAGS) {
		l->n_tags = p->n_tags;
		for (int i = 0; i < p->n_tags; i++)
			memcpy(l->tags[i], p->tags[i], sizeof(l->tags[i]));
	}
	memcpy(l->updated_by, p->by, sizeof(l->updated_by));
}

void store_import_patch(const struct store_import_row *row, struct link_patch *p)
{
	const struct link *l = &row->link;

	p->fields = row->fields;
	memcpy(p->url, l->url, strlen(l->url) + 1);
	p->status = l->status;
	p->expires_at = l->expires_at;
	p->max_clicks = l->max_clicks;
	p->forward_query = l->forward_query;
	p->disabled = l->disabled;
	memcpy(p->title, l->title, sizeof(p->title));
	p->n_tags = l->n_tags;
	memcpy(p->tags, l->tags, sizeof(p->tags));
	memcpy(p->by, l->updated_by, sizeof(p->by));
}

int store_import_repeated(const struct store_import_row *rows, const size_t *idx, size_t m, size_t *bad)
{
	size_t *sorted = malloc((m != 0 ? m : 1) * sizeof(*sorted));
	int status = STORE_OK;

	if (sorted == NULL)
		return STORE_ERROR;
	memcpy(sorted, idx, m * sizeof(*sorted));
	qsort_r(sorted, m, sizeof(*sorted), by_import_code, (void *)rows);
	for (size_t j = 1; j < m; j++) {
		size_t a = sorted[j - 1], b = sorted[j];
		if (strcmp(rows[a].link.code, rows[b].link.code) != 0)
			continue;
		if (status == STORE_OK || !rows[*bad].code_drawn)
			*bad = rows[a].code_drawn ? a : b;
		status = STORE_CONFLICT;
	}
	free(sorted);
	return status;
}

/* Draws a code for each row without one; on failure every drawn code is
 * cleared again. */
static int draw_codes(struct store_import_row *rows, size_t n, store_codegen_fn gen, void *gen_ctx)
{
	for (size_t i = 0; i < n; i++) {
		if (rows[i].code_drawn || rows[i].link.code[0] != '\0')
			continue;
		if (gen(rows[i].link.code, sizeof(rows[i].link.code), gen_ctx) != 0) {
			fprintf(stderr, "shortd: store: import links: the code generator failed\n");
			for (size_t j = 0; j < i; j++) {
				if (rows[j].code_drawn)
					rows[j].link.code[0] = '\0';
				rows[j].code_drawn = false;
			}
			return STORE_ERROR;
		}
		rows[i].code_drawn = true;
	}
	return STORE_OK;
}

int store_links_import(struct store *s, struct store_import_row *rows, size_t n, enum store_import_mode mode,
                       int64_t now, store_codegen_fn gen, void *gen_ctx, size_t *conflict)
{
	int rc = STORE_ERROR;

	for (size_t i = 0; i < n; i++)
		rows[i].code_drawn = false;
	/* A drawn code that is taken is drawn again and the batch retried. */
	for (int attempt = 0; attempt < GEN_ATTEMPTS; attempt++) {
		if ((rc = draw_codes(rows, n, gen, gen_ctx)) != STORE_OK)
			return rc;
		rc = s->ops->links_import(s->impl, rows, n, mode, now, conflict);
		if (rc != STORE_CONFLICT || !rows[*conflict].code_drawn)
			break;
		rows[*conflict].link.code[0] = '\0';
		rows[*conflict].code_drawn = false;
	}
	if (rc != STORE_OK) {
		for (size_t i = 0; i < n; i++) {
			if (rows[i].code_drawn)
				rows[i].link.code[0] = '\0';
			rows[i].code_drawn = false;
		}
	}
	return rc;
}

int store_link_create_batch(struct store *s, struct store_new_link *items, size_t n, store_codegen_fn gen,
                            void *gen_ctx, size_t *bad)
{
	bool *drawn = calloc(n != 0 ? n : 1, sizeof(*drawn));
	bool gen_failed = false;
	int rc = STORE_OK;

	*bad = 0;
	if (drawn == NULL)
		return STORE_ERROR;
	for (size_t i = 0; i < n && !gen_failed; i++) {
		drawn[i] = items[i].link.code[0] == '\0';
		gen_failed = drawn[i] && gen(items[i].link.code, sizeof(items[i].link.code), gen_ctx) != 0;
	}
	/* A drawn code that is taken is drawn again and the batch retried; a
	 * custom one taken is the caller's error. */
	for (int attempt = 1; !gen_failed; attempt++) {
		rc = s->ops->link_create_batch(s->impl, items, n, bad);
		if (rc != STORE_CONFLICT || !drawn[*bad])
			break;
		gen_failed =
		    attempt >= GEN_ATTEMPTS || gen(items[*bad].link.code, sizeof(items[*bad].link.code), gen_ctx) != 0;
	}
	if (gen_failed) {
		fprintf(stderr, "shortd: store: create links: the code generator failed\n");
		rc = STORE_ERROR;
	}
	if (rc != STORE_OK) {
		for (size_t i = 0; i < n; i++) {
			if (drawn[i])
				items[i].link.code[0] = '\0';
			items[i].link.id = 0;
			items[i].reused = false;
		}
	}
	free(drawn);
	return rc;
}

int store_link_update(struct store *s, const char *code, const struct link_patch *p, int64_t now, struct link *out)
{
	return s->ops->link_update(s->impl, code, p, now, out);
}

int store_link_delete(struct store *s, const char *code)
{
	return s->ops->link_delete(s->impl, code);
}

int store_link_list(struct store *s, int64_t after_id, int limit, store_link_fn fn, void *ctx)
{
	return s->ops->link_list(s->impl, after_id, limit, fn, ctx);
}

bool store_is_shared(const struct store *s)
{
	return s->ops->shared;
}

int store_link_take_click(struct store *s, const struct link *l, int64_t known, bool *taken)
{
	return s->ops->link_take_click(s->impl, l, known, taken);
}

int store_link_find(struct store *s, const struct link_filter *f, int64_t after_id, int limit, store_link_fn fn,
                    void *ctx)
{
	return s->ops->link_find(s->impl, f, after_id, limit, fn, ctx);
}

int store_clicks_write(struct store *s, const struct click_row *rows, size_t n)
{
	return s->ops->clicks_write(s->impl, rows, n);
}

int store_link_daily(struct store *s, int64_t link_id, int64_t since, struct store_daily *out, size_t max, size_t *n)
{
	return s->ops->link_daily(s->impl, link_id, since, out, max, n);
}

int store_link_referrers(struct store *s, int64_t link_id, int64_t since, struct store_referrer *out, size_t max,
                         size_t *n)
{
	return s->ops->link_referrers(s->impl, link_id, since, out, max, n);
}

int store_token_add(struct store *s, const char *name, const unsigned char hash[STORE_TOKEN_HASH_LEN],
                    enum store_role role, int64_t now)
{
	return s->ops->token_add(s->impl, name, hash, role, now);
}

int store_token_find(struct store *s, const unsigned char hash[STORE_TOKEN_HASH_LEN], struct store_token *out)
{
	return s->ops->token_find(s->impl, hash, out);
}

int store_token_list(struct store *s, store_token_fn fn, void *ctx)
{
	return s->ops->token_list(s->impl, fn, ctx);
}

int store_token_revoke(struct store *s, const char *name)
{
	return s->ops->token_revoke(s->impl, name);
}

int store_token_count(struct store *s, int64_t *count)
{
	return s->ops->token_count(s->impl, count);
}

int store_token_revoke_id(struct store *s, int64_t id, bool keep_an_admin)
{
	return s->ops->token_revoke_id(s->impl, id, keep_an_admin);
}

int store_token_revoke_name(struct store *s, const char *name, bool keep_an_admin)
{
	return s->ops->token_revoke_name(s->impl, name, keep_an_admin);
}

int store_token_uses_write(struct store *s, const struct store_token_use *uses, size_t n)
{
	return s->ops->token_uses_write(s->impl, uses, n);
}

int store_dump(struct store *s, const struct store_dump_fns *fns, void *ctx)
{
	return s->ops->dump(s->impl, fns, ctx);
}

int store_load(struct store *s, store_fill_fn fill, void *ctx)
{
	return s->ops->load(s->impl, fill, ctx);
}

int store_load_link(struct store_loader *ld, struct link *l)
{
	return ld->link(ld, l);
}

int store_load_history(struct store_loader *ld, const struct store_history_row *h)
{
	return ld->history(ld, h);
}

int store_load_token(struct store_loader *ld, const struct store_token *t)
{
	return ld->token(ld, t);
}

const char *store_display_name(const struct store *s)
{
	return s->ops->display_name(s->impl);
}

const char *store_status_message(int status)
{
	switch (status) {
	case STORE_OK:
		return "ok";
	case STORE_NOT_FOUND:
		return "not found";
	case STORE_CONFLICT:
		return "already exists";
	case STORE_FULL:
		return "database or disk is full";
	case STORE_READONLY:
		return "database is read-only";
	case STORE_CORRUPT:
		return "database is corrupt";
	case STORE_TOO_NEW:
		return "database is from a newer shortd";
	case STORE_GONE:
		return "the database file was moved, deleted or replaced while shortd ran";
	case STORE_UNSUPPORTED:
		return "this shortd is built without that kind of database";
	default:
		return "database error";
	}
}
