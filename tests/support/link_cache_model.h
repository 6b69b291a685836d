/*
 * A reference model of link_cache.c, shared by its unit test and its fuzz
 * driver: for each code, the newest record put since the last invalidation.
 * Whatever the eviction, link_cache_get() returns either nothing or exactly
 * that record (never an older one, another code's, or a torn mix of two),
 * link_cache_count() equals the number of codes get() finds, the records
 * found are the newest ones (the oldest go first), and a record put recently
 * enough is always found. Every record is made from (code number, version),
 * so a mix-up shows in some field; the model only keeps the version and url
 * length of each code.
 *
 * The model reports a broken promise through its fail function (Check's
 * failure in the unit test, abort() in the fuzz driver), which must not
 * return.
 */
#ifndef SHORTD_TEST_LINKCACHE_MODEL_H
#define SHORTD_TEST_LINKCACHE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "link_cache.h"

#define LCM_RECENT 100 /* puts remembered for the "recent ones are found" check */

struct lc_model {
	struct link_cache *c;
	size_t bytes;    /* asked of link_cache_new */
	unsigned ncodes; /* code numbers 0..ncodes-1 */
	uint32_t *ver;   /* newest version put since invalidation; 0: none */
	uint32_t *url_len;
	uint64_t *seq; /* put number of that version */
	uint64_t nput;
	unsigned recent_code[LCM_RECENT]; /* the last puts, newest at (nput-1) % LCM_RECENT */
	uint32_t recent_len[LCM_RECENT];  /* and their url lengths */
	uint32_t next_ver;
	struct link *want, *got; /* scratch records (8 KB of url each) */
	void (*fail)(const char *why);
};

/* The code of number n: n in base 36, padded with '_' to a length of 1 to
 * 64 that varies with n. Distinct numbers give distinct codes. */
void lcm_code(unsigned n, char code[LINK_CODE_MAX + 1]);

/* The record (n, ver) with a url of url_len bytes (1..LINK_URL_MAX), no
 * click limit, and values other than link_init's in the fields the cache
 * does not keep (clicks among them). */
void lcm_record(struct link *l, unsigned n, uint32_t ver, size_t url_len);

/* Whether got is want as the cache returns it: the kept fields equal, the
 * others at link_init's values; when not, why says which field differs. */
bool lcm_same(const struct link *got, const struct link *want, char *why, size_t whysize);

/* A cache of bytes and a model of ncodes codes, none put; fail as above.
 * 0, or -1 when out of memory. */
int lcm_init(struct lc_model *m, size_t bytes, unsigned ncodes, void (*fail)(const char *why));
void lcm_free(struct lc_model *m);

/* Puts a new version of code n with a url of url_len bytes. */
void lcm_put(struct lc_model *m, unsigned n, size_t url_len);

/* Puts a new version of code n with a click limit: the cache must keep
 * nothing for n after it. */
void lcm_put_limited(struct lc_model *m, unsigned n, size_t url_len);

/* Gets code n and checks it against the model; returns whether found. */
bool lcm_get(struct lc_model *m, unsigned n);

/* Invalidates the cache and forgets every code. */
void lcm_invalidate(struct lc_model *m);

/*
 * Gets every code and checks what the cache promises of them together:
 * count() is the number found; the found records are the newest (every
 * current record put after one found is found too); and the current
 * records among the last LCM_RECENT puts are all found as long as, with a
 * generous 128 bytes of overhead each, they take at most half the cache.
 */
void lcm_scan(struct lc_model *m);

#endif
