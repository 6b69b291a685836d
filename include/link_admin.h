/*
 * Creating and changing links with every rule applied: the one place the
 * CLI and the API go through, so both accept and refuse exactly the same
 * input with the same error codes. A refused request changes nothing.
 */
#ifndef SHORTD_LINK_ADMIN_H
#define SHORTD_LINK_ADMIN_H

#include <stdbool.h>
#include <stdint.h>

#include "link.h"
#include "store.h"
#include "url.h"

/* What a caller asks for; expires_at and max_clicks use the "absent"
 * values of link.h. status 0 means the daemon's default. */
struct link_input {
	const char *url;
	const char *code; /* NULL or "": generate one */
	int status;
	int64_t expires_at;
	int64_t max_clicks;
	bool forward_query;
	const char *title;       /* NULL or "": none */
	size_t title_len;        /* bytes of title (a JSON string may hold a NUL) */
	const char *const *tags; /* n_tags tags, duplicates folded */
	const size_t *tag_lens;  /* their lengths in bytes; NULL: strlen */
	size_t n_tags;
	const char *by; /* who makes it: a token's name, "cli"; NULL: not known */
	bool reuse;     /* with no code asked for: an identical link may answer (store.h) */
};

/* Why a request was refused: a machine-readable code (SPEC.md's error
 * shape), the HTTP status the API answers with and a human message. */
struct link_admin_error {
	const char *code;
	int http_status;
	char message[160];
};

/* Validates in and creates the link; *out is the stored link. self is this
 * daemon's own origins, for the self-link rule (url.h; NULL: none); an
 * expires_at not after now is refused. Returns 0, or -1 with err set
 * (invalid_url, invalid_code, invalid_status, invalid_expires_at,
 * invalid_max_clicks, invalid_title, invalid_tags, code_taken, storage_full,
 * unavailable). in->reuse is not looked at: see link_admin_create_batch. */
int link_admin_create(struct store *s, const struct url_self *self, int default_status, int64_t now,
                      const struct link_input *in, struct link *out, struct link_admin_error *err);

/*
 * Validates each of in[0..n) and creates them all or none (store.h,
 * store_link_create_batch); out[i] is the link stored or reused for in[i].
 * Returns 0, or -1 with err set and *bad the index of the first item
 * refused, by the rules (its first) or the store (code_taken).
 */
int link_admin_create_batch(struct store *s, const struct url_self *self, int default_status, int64_t now,
                            const struct link_input *in, size_t n, struct store_new_link *out, size_t *bad,
                            struct link_admin_error *err);

/* Checks and copies a title of len bytes into p (PATCH_TITLE); 0, or -1
 * with err set (invalid_title). */
int link_admin_patch_title(struct link_patch *p, const char *title, size_t len, struct link_admin_error *err);

/* Adds a tag of len bytes, the index-th given, to p's tags (PATCH_TAGS:
 * they replace the link's; to clear them set PATCH_TAGS with n_tags 0);
 * 0, or -1 with err set (invalid_tags). */
int link_admin_patch_tag(struct link_patch *p, const char *tag, size_t len, size_t index, struct link_admin_error *err);

/* Validates the set fields of p (p->url as given; it is normalised into a
 * copy) and applies them to the link with this code. expires_at may be in
 * the past: that ends the link now. Returns 0, or -1 with
 * err set (the codes above and not_found). */
int link_admin_update(struct store *s, const struct url_self *self, const char *code, const struct link_patch *p,
                      int64_t now, struct link *out, struct link_admin_error *err);

/* Fills err for a store status (not_found, code_taken, storage_full, ...). */
void link_admin_store_error(int store_status, struct link_admin_error *err);

#endif
