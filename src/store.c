/*
 * The storage interface's dispatch: a struct store is a backend's operations
 * and its private state. Only the SQLite backend exists today; a future one
 * (PostgreSQL, say) is chosen here by the form of the path.
 */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>

#include "store_backend.h"

struct store {
	const struct store_ops *ops;
	void *impl;
};

static int open_store(const char *path, bool create, struct store **out, char *err, size_t errlen)
{
	struct store *s;
	int rc;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return STORE_ERROR;
	}
	s->ops = &store_sqlite_ops;
	rc = s->ops->open(path, create, &s->impl, err, errlen);
	if (rc != STORE_OK) {
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

int store_link_resolve(struct store *s, const char *code, struct link *out)
{
	return s->ops->link_resolve(s->impl, code, out);
}

void store_set_link_cache(struct store *s, size_t bytes_per_thread)
{
	s->ops->set_link_cache(s->impl, bytes_per_thread);
}

int store_link_create(struct store *s, struct link *l, store_codegen_fn gen, void *gen_ctx)
{
	return s->ops->link_create(s->impl, l, gen, gen_ctx);
}

int store_link_update(struct store *s, const char *code, const struct link_patch *p, int64_t now,
		      struct link *out)
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

int store_clicks_write(struct store *s, const struct click_row *rows, size_t n)
{
	return s->ops->clicks_write(s->impl, rows, n);
}

int store_link_daily(struct store *s, int64_t link_id, int64_t since, struct store_daily *out,
		     size_t max, size_t *n)
{
	return s->ops->link_daily(s->impl, link_id, since, out, max, n);
}

int store_link_referrers(struct store *s, int64_t link_id, int64_t since, struct store_referrer *out,
			 size_t max, size_t *n)
{
	return s->ops->link_referrers(s->impl, link_id, since, out, max, n);
}

int store_token_add(struct store *s, const char *name, const unsigned char hash[STORE_TOKEN_HASH_LEN],
		    enum store_role role, int64_t now)
{
	return s->ops->token_add(s->impl, name, hash, role, now);
}

int store_token_find(struct store *s, const unsigned char hash[STORE_TOKEN_HASH_LEN],
		     struct store_token *out)
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
	default:
		return "database error";
	}
}
