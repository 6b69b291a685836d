/*
 * Click counting off the redirect path. A redirect records a click into its
 * worker thread's own ring (no lock, no allocation, no disk write); a flusher
 * thread drains the rings into per-link totals (a worker whose ring fills
 * drains its own) and writes them to the store in one transaction per
 * interval, and once more at clicks_stop().
 *
 * max_clicks is exact on one node: clicks_admit() reserves a click of a
 * limited link under that link's shard lock, so the click that would pass the
 * limit is refused whatever the concurrency.
 */
#ifndef SHORTD_CLICKS_H
#define SHORTD_CLICKS_H

#include <stdbool.h>
#include <stdint.h>

#include "link.h"
#include "store.h"

#define CLICKS_REFERRER_MAX 95
/* A batch is written as soon as it holds this many distinct (link, day,
 * referrer) rows, before its interval ends, so a burst over many links
 * keeps the flusher's table at 32,768 slots of 48 bytes (1.5 MB), the
 * referrer hosts apart: a worker whose ring fills drains it only up to the
 * same bound, and only a failed write lets the table grow past it, so that
 * no click is dropped. */
#define CLICKS_BATCH_ROWS 16000

struct clicks;

struct clicks_stats {
	uint64_t flushed;    /* clicks written to the store */
	uint64_t batches;    /* flush transactions */
	uint64_t errors;     /* failed flushes (their clicks are kept) */
	uint64_t flush_usec; /* total time spent writing */
	uint64_t waiting;    /* clicks held in memory, not yet written (as of the flusher's last pass,
	                      * at most DRAIN_MS old; while the store fails, every click since) */
};

/* Creates the counters and starts the flusher, writing every interval_ms.
 * Returns 0, or -1 when the thread cannot start. */
int clicks_start(struct store *store, int interval_ms, struct clicks **out);

/* Stops the flusher after writing every pending click and token use;
 * accepts NULL. No redirect may be running. Returns 0, or -1 when the last
 * write of clicks failed (token uses that cannot be written are logged). */
int clicks_stop(struct clicks *c);

/*
 * For a link with max_clicks: reserves one human click and returns true, or
 * returns false when the link has run out. l is the link as the store
 * answered it: a link seen for the first time, changed since, or with more
 * clicks stored (l->clicks) than reserved here, takes its count again from
 * the store and the clicks pending. Links without a limit always pass.
 */
bool clicks_admit(struct clicks *c, const struct link *l);

/* Records one click of a link (called after clicks_admit said yes for a
 * human click). referrer_host may be NULL. A full ring is moved into memory
 * by the calling thread, without waiting for a write in progress; only when
 * a whole batch (CLICKS_BATCH_ROWS rows) already waits there, or memory runs
 * out, does it wait for the flusher. It never drops a click. */
void clicks_record(struct clicks *c, int64_t link_id, int64_t now, bool bot, const char *referrer_host);

/* Clicks of a link recorded but not yet written, human and bot. Drains the
 * rings first, so a click answered before the call is counted. */
void clicks_pending(struct clicks *c, int64_t link_id, int64_t *human, int64_t *bot, int64_t *last_at);

/*
 * Records that an API token was used at `at` (unix seconds): raises the
 * time kept for it in memory, which the flusher writes with the clicks of
 * its interval (store_token_uses_write), so a token's stored last_used_at
 * trails its last use by at most one interval (and is written at
 * clicks_stop). Takes a mutex of its own for a few instructions, never the
 * flusher's; no store call. Out of memory, the use goes unrecorded.
 */
void clicks_token_used(struct clicks *c, int64_t token_id, int64_t at);

/* The latest use of a token recorded and not yet written, or LINK_NO_TIME. */
int64_t clicks_token_pending(struct clicks *c, int64_t token_id);

/* Writes everything pending now, clicks and token uses (used by tests and
 * shutdown); -1 when a write failed (what it held is kept). */
int clicks_flush(struct clicks *c);

/* Runs fn under the lock that orders flushes, so a store read inside fn and
 * clicks_pending() together count every click exactly once. */
int clicks_locked(struct clicks *c, int (*fn)(void *ctx), void *ctx);

void clicks_get_stats(struct clicks *c, struct clicks_stats *out);

#endif
