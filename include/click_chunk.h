/*
 * The click counters of CLICK_CHUNK_LINKS consecutive link ids, packed in
 * one blob: how the SQLite backend keeps a link's totals (click_totals) and
 * its days (click_days). A batch of clicks over thousands of links then
 * rewrites one row for each 128 links instead of one for each link.
 *
 * A blob is a run of records in increasing slot order, each a slot byte
 * (link id mod CLICK_CHUNK_LINKS) and the kind's fields as 8-byte
 * little-endian signed integers. A link without a record has the kind's
 * empty values, and click_chunk_apply() drops a record that a change
 * brings to them, so the records it writes hold counts. (A blob it is
 * given may hold a record of the empty values, read as what it holds and
 * copied as it is when no change names its slot.) Blobs come from a database file and
 * are checked before use: a blob that breaks these rules is corrupt, never
 * read past its length.
 */
#ifndef SHORTD_CLICK_CHUNK_H
#define SHORTD_CLICK_CHUNK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLICK_CHUNK_SHIFT 7
#define CLICK_CHUNK_LINKS (1 << CLICK_CHUNK_SHIFT)
#define CLICK_CHUNK_FIELDS_MAX 3
/* The largest blob: every slot with a record of the widest kind. */
#define CLICK_CHUNK_MAX (CLICK_CHUNK_LINKS * (1 + 8 * CLICK_CHUNK_FIELDS_MAX))

enum click_chunk_error {
	CLICK_CHUNK_OK = 0,
	CLICK_CHUNK_CORRUPT = -1, /* the blob breaks the format */
};

/* How a change's value meets the stored one. */
enum click_chunk_op {
	CLICK_CHUNK_ADD,    /* added (a count), held at INT64_MAX and INT64_MIN */
	CLICK_CHUNK_LATEST, /* the larger of the two (a time) */
};

struct click_chunk_kind {
	int fields;
	int64_t empty[CLICK_CHUNK_FIELDS_MAX];
	enum click_chunk_op ops[CLICK_CHUNK_FIELDS_MAX];
};

/* A link's totals: clicks, bot_clicks, last_click_at (LINK_NO_TIME when
 * never clicked). */
extern const struct click_chunk_kind click_chunk_totals;
/* A link's day: clicks, bot_clicks. */
extern const struct click_chunk_kind click_chunk_day;

/* One link's change: slot (< CLICK_CHUNK_LINKS) and the kind's fields.
 * key is the caller's, the row of chunks the change belongs to; the
 * functions here do not read it. */
struct click_chunk_change {
	int64_t key;
	unsigned slot;
	int64_t v[CLICK_CHUNK_FIELDS_MAX];
};

/* The values of slot in the len bytes at b into v[k->fields], the empty
 * values when it has no record. CLICK_CHUNK_CORRUPT when b is not a blob
 * of kind k. */
int click_chunk_get(const struct click_chunk_kind *k, const unsigned char *b, size_t len, unsigned slot, int64_t *v);

/*
 * Writes into out (CLICK_CHUNK_MAX bytes, not b) the blob b with the n changes c
 * applied, and its length into *out_len (0: no counts left, a row to
 * delete). c is in slot order, a slot perhaps more than once. With set,
 * each change replaces its slot's values (a copy of a database); without,
 * each field meets the stored one by the kind's op. CLICK_CHUNK_CORRUPT,
 * out unused, when b is not a blob of kind k or c is not in slot order.
 */
int click_chunk_apply(const struct click_chunk_kind *k, const unsigned char *b, size_t len,
                      const struct click_chunk_change *c, size_t n, bool set, unsigned char *out, size_t *out_len);

/* True when the len bytes at b are a blob of kind k. */
bool click_chunk_is_valid(const struct click_chunk_kind *k, const unsigned char *b, size_t len);

/* The records of a blob that click_chunk_is_valid() accepted, in order:
 * start with *pos 0; each call fills *slot and v[k->fields] and is true,
 * then false at the end. */
bool click_chunk_next(const struct click_chunk_kind *k, const unsigned char *b, size_t len, size_t *pos, unsigned *slot,
                      int64_t *v);

#endif
