/*
 * A bounded cache of links for the redirect path, one shared by every
 * worker thread: any number of threads read it at once, with no lock, while one
 * thread at a time writes it (the caller keeps writers apart, with a mutex
 * of its own). A read that meets a write reads again; one that keeps
 * meeting writes answers "not cached". Its memory is allocated once, when
 * it is made, and never grows: records live in a ring that evicts the
 * oldest first, found through an open-addressing index of the code's keyed
 * hash (SipHash from libsodium, a random key per cache).
 *
 * The cache knows nothing of the store. Whoever owns it calls
 * link_cache_invalidate() when a link may have changed; every record put
 * before then stops being returned, at no cost beyond a counter.
 *
 * A record keeps what a redirect reads of a link without a click limit:
 * id, code, url, status, forward_query, disabled and expires_at, in 30
 * bytes plus the code and url (rounded up to 8). The other fields come back
 * as link_init() sets them: no limit, no clicks. A link with a limit is
 * never kept, since its count moves with every click.
 */
#ifndef SHORTD_LINK_CACHE_H
#define SHORTD_LINK_CACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "link.h"

#define LINK_CACHE_MIN_BYTES (64 * 1024)
/* The most: a record's offset, in 8-byte units, must leave a slot of the
 * index two bits or more for the hash. */
#define LINK_CACHE_MAX_BYTES ((size_t)8 << 30)

struct link_cache;

/* A cache of about bytes in all (LINK_CACHE_MIN_BYTES at least), ring and
 * index together. Returns NULL when memory or libsodium fails, or bytes is
 * over LINK_CACHE_MAX_BYTES. Free it with link_cache_free(). */
struct link_cache *link_cache_new(size_t bytes);

/* Frees c; accepts NULL. */
void link_cache_free(struct link_cache *c);

/* Copies the record for code into *out and returns true, or returns false
 * when there is none put since the last invalidation (or, rarely, when
 * writers kept changing the cache while it read). Any thread, at any time;
 * takes no lock and never waits for a writer. */
bool link_cache_get(const struct link_cache *c, const char *code, struct link *out);

/* Stores l under l->code, replacing any record for that code and evicting
 * the oldest records to make room. A link with a click limit, or one too
 * large for the cache (its record over an eighth of the ring), is not
 * stored, and the older record for its code is forgotten. A writer: one
 * thread at a time, beside any number of readers. */
void link_cache_put(struct link_cache *c, const struct link *l);

/* Forgets every record put so far. A writer, as link_cache_put(). */
void link_cache_invalidate(struct link_cache *c);

/* Records that link_cache_get() can return now; any thread. */
size_t link_cache_count(const struct link_cache *c);

#endif
