/*
 * The storage interface above its backends. A struct store is a backend's
 * operations (store_backend.h), its private state, and what every backend
 * shares: the choice of backend by the form of the database's name, the
 * link cache with the rule that keeps it exact, and the retries of
 * generated codes. A backend holds only what is particular to its engine.
 *
 * One link cache serves every redirecting thread. Invariant: it answers a
 * thread only while the epoch that thread last learnt from the backend is
 * the cache's own (cache_epoch), the epoch its records were put in. A
 * thread that learns of another epoch (later, or earlier where the counter
 * went back) empties the cache and makes it the cache's; each such change
 * moves cache_version on. A record read from the store is put only under
 * the version read before the thread compared epochs, so a link read before
 * a change never goes in after it. Both are the cache's writes, made under
 * cache_lock, which the redirect path only tries: when another thread holds
 * it, the redirect reads the store and puts nothing, so no redirect waits
 * here for another.
 */
#include "store.h"

#include <pthread.h>
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

/* What a redirecting thread knows of link changes. */
struct store_thread {
	void *backend; /* the backend's slot for this thread */
	int64_t epoch; /* the epoch the backend last told this thread */
	bool known;    /* epoch was told */
	bool off;      /* the backend cannot tell this thread: read the store */
};

struct store {
	const struct store_ops *ops;
	void *impl;
	struct link_cache *cache;        /* NULL: no link cache */
	int64_t cache_epoch;             /* __atomic: the epoch of the cache's records */
	uint64_t cache_version;          /* __atomic: moves when cache_epoch does */
	struct thread_registry *threads; /* each redirecting thread's struct store_thread */
	/* On a line of its own: a redirect that tries it writes it, and every
	 * redirect reads the fields above. */
	_Alignas(64) pthread_mutex_t cache_lock; /* the cache's one writer at a time */
};

static void *thread_new(void *arg)
{
	(void)arg;
	return calloc(1, sizeof(struct store_thread));
}

static void thread_free(void *obj, void *arg)
{
	(void)arg;
	free(obj);
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
	s = aligned_alloc(_Alignof(struct store), sizeof(*s));
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return STORE_ERROR;
	}
	memset(s, 0, sizeof(*s));
	if (thread_registry_new(thread_new, thread_free, NULL, &s->threads) != 0) {
		snprintf(err, errlen, "out of memory or thread keys");
		free(s);
		return STORE_ERROR;
	}
	s->ops = ops;
	s->cache_epoch = STORE_EPOCH_UNKNOWN;
	pthread_mutex_init(&s->cache_lock, NULL);
	rc = ops->open(target, create, &s->impl, err, errlen);
	if (rc != STORE_OK) {
		pthread_mutex_destroy(&s->cache_lock);
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
	link_cache_free(s->cache);
	pthread_mutex_destroy(&s->cache_lock);
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

/* The epoch the backend tells t now, in *now; false when it cannot tell. */
static bool thread_epoch(struct store *s, struct store_thread *t, int64_t *now)
{
	if (t->off)
		return false;
	if (!t->known) {
		if (s->ops->links_changed_since(s->impl, &t->backend, STORE_EPOCH_UNKNOWN, &t->epoch) != STORE_OK) {
			fprintf(stderr, "shortd: store: link cache off for a thread: the store cannot tell when "
			                "links change\n");
			t->off = true;
			return false;
		}
		t->known = true;
	} else if (s->ops->links_changed_since(s->impl, &t->backend, t->epoch, &t->epoch) != STORE_OK) {
		return false;
	}
	*now = t->epoch;
	return true;
}

/* True when the cache may answer t now, with *version the cache's version,
 * under which a link t then reads from the store may be put. When links
 * changed since the cache's records were put, they are forgotten first. */
static bool cache_is_current(struct store *s, struct store_thread *t, uint64_t *version)
{
	int64_t now;
	uint64_t v;

	if (!thread_epoch(s, t, &now))
		return false;
	/* The version before the epoch: a change between the two reads leaves
	 * an old version, under which nothing is put. */
	v = __atomic_load_n(&s->cache_version, __ATOMIC_ACQUIRE);
	if (__atomic_load_n(&s->cache_epoch, __ATOMIC_ACQUIRE) == now) {
		*version = v;
		return true;
	}
	if (pthread_mutex_trylock(&s->cache_lock) != 0)
		return false;
	/* An epoch before the cache's is most often this thread's, read just
	 * before another thread moved the cache on: asked again, the backend
	 * tells it the cache's. What stays before it was set back. */
	if (now < s->cache_epoch && !thread_epoch(s, t, &now)) {
		pthread_mutex_unlock(&s->cache_lock);
		return false;
	}
	if (s->cache_epoch != now) {
		link_cache_invalidate(s->cache);
		__atomic_store_n(&s->cache_epoch, now, __ATOMIC_RELEASE);
		__atomic_store_n(&s->cache_version, s->cache_version + 1, __ATOMIC_RELEASE);
	}
	*version = s->cache_version;
	pthread_mutex_unlock(&s->cache_lock);
	return true;
}

/* Puts l, read from the store after the cache was current at version,
 * unless the cache has changed epoch since (l may be older than its
 * records) or another thread is writing it. A link with a click limit is
 * not kept, and needs nothing taken out: a record of its code from before
 * the limit was set went when the cache moved to the limit's epoch. */
static void cache_put(struct store *s, const struct link *l, uint64_t version)
{
	if (l->max_clicks != LINK_NO_LIMIT || pthread_mutex_trylock(&s->cache_lock) != 0)
		return;
	if (s->cache_version == version)
		link_cache_put(s->cache, l);
	pthread_mutex_unlock(&s->cache_lock);
}

int store_link_resolve(struct store *s, const char *code, struct link *out)
{
	struct store_thread *t;
	uint64_t version = 0;
	bool cached;
	int rc;

	if (s->cache == NULL)
		return s->ops->link_resolve(s->impl, code, out);
	t = thread_registry_get(s->threads);
	cached = t != NULL && cache_is_current(s, t, &version);
	if (cached && link_cache_get(s->cache, code, out))
		return STORE_OK;
	rc = s->ops->link_resolve(s->impl, code, out);
	/* The cache keeps no link with a click limit (its count moves with
	 * every click); cache_put() passes those by. */
	if (cached && rc == STORE_OK)
		cache_put(s, out, version);
	return rc;
}

int store_set_link_cache(struct store *s, size_t bytes)
{
	link_cache_free(s->cache);
	s->cache = NULL;
	if (bytes == 0)
		return STORE_OK;
	s->cache = link_cache_new(bytes);
	return s->cache != NULL ? STORE_OK : STORE_ERROR;
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
