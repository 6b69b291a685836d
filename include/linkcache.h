/*
 * A bounded cache of links for the redirect path: one per reading thread,
 * used by that thread only, so it takes no lock. Its memory is allocated
 * once, when it is made, and never grows: records live in a ring that evicts
 * the oldest first, found through an open-addressing index of the code's
 * keyed hash (SipHash from libsodium, a random key per cache).
 *
 * The cache knows nothing of the store. Whoever owns it calls
 * linkcache_invalidate() when a link may have changed; every record put
 * before then stops being returned, at no cost beyond a counter.
 *
 * A record keeps what a redirect reads of a link: id, code, url, status,
 * forward_query, disabled, expires_at, max_clicks, and clicks as it was when
 * the record was put. The other fields come back as link_init() sets them.
 */
#ifndef SHORTD_LINKCACHE_H
#define SHORTD_LINKCACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "link.h"

#define LINKCACHE_MIN_BYTES (64 * 1024)

struct linkcache;

/* A cache of about bytes in all (LINKCACHE_MIN_BYTES at least), ring and
 * index together. Returns NULL when memory or libsodium fails. Free it with
 * linkcache_free(). */
struct linkcache *linkcache_new(size_t bytes);

/* Frees c; accepts NULL. */
void linkcache_free(struct linkcache *c);

/* Copies the record for code into *out and returns true, or returns false
 * when there is none put since the last invalidation. */
bool linkcache_get(struct linkcache *c, const char *code, struct link *out);

/* Stores l under l->code, replacing any record for that code and evicting
 * the oldest records to make room. A link too large for the cache (its
 * record, about 56 bytes plus code and url, over an eighth of the ring) is
 * not stored, and the older record for its code is forgotten. */
void linkcache_put(struct linkcache *c, const struct link *l);

/* Forgets every record put so far. */
void linkcache_invalidate(struct linkcache *c);

/* Records that linkcache_get() can return now. */
size_t linkcache_count(const struct linkcache *c);

#endif
