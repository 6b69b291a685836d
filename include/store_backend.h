/*
 * What a storage backend implements. store.c holds a pointer to one of these
 * tables and dispatches every store_* call through it; a backend never sees
 * HTTP and the HTTP code never sees a backend.
 */
#ifndef SHORTD_STORE_BACKEND_H
#define SHORTD_STORE_BACKEND_H

#include "store.h"

struct store_ops {
	const char *name;
	int (*open)(const char *path, bool create, void **impl, char *err, size_t errlen);
	int (*open_readers)(void *impl, int n, char *err, size_t errlen);
	void (*close)(void *impl);
	int (*schema_version)(void *impl);
	int (*schema_version_found)(void *impl);
	int (*check)(void *impl);
	int (*ping)(void *impl);
	int (*link_lookup)(void *impl, const char *code, struct link *out);
	int (*link_resolve)(void *impl, const char *code, struct link *out);
	void (*set_link_cache)(void *impl, size_t bytes_per_thread);
	int (*link_create)(void *impl, struct link *l, store_codegen_fn gen, void *gen_ctx);
	int (*link_update)(void *impl, const char *code, const struct link_patch *p, int64_t now,
			   struct link *out);
	int (*link_delete)(void *impl, const char *code);
	int (*link_list)(void *impl, int64_t after_id, int limit, store_link_fn fn, void *ctx);
	int (*clicks_write)(void *impl, const struct click_row *rows, size_t n);
	int (*link_daily)(void *impl, int64_t link_id, int64_t since, struct store_daily *out, size_t max,
			  size_t *n);
	int (*link_referrers)(void *impl, int64_t link_id, int64_t since, struct store_referrer *out,
			      size_t max, size_t *n);
	int (*token_add)(void *impl, const char *name, const unsigned char *hash, enum store_role role,
			 int64_t now);
	int (*token_find)(void *impl, const unsigned char *hash, struct store_token *out);
	int (*token_list)(void *impl, store_token_fn fn, void *ctx);
	int (*token_revoke)(void *impl, const char *name);
	int (*token_count)(void *impl, int64_t *count);
};

extern const struct store_ops store_sqlite_ops;

#endif
