/*
 * The packed click counters of include/click_chunk.h. Pure functions over
 * byte buffers: no SQLite, no allocation. A blob read from a file is
 * checked whole before any record of it is used.
 */
#include "click_chunk.h"

#include <endian.h>
#include <string.h>

#include "link.h"

const struct click_chunk_kind click_chunk_totals = {
    3, {0, 0, LINK_NO_TIME}, {CLICK_CHUNK_ADD, CLICK_CHUNK_ADD, CLICK_CHUNK_LATEST}};
const struct click_chunk_kind click_chunk_day = {2, {0, 0, 0}, {CLICK_CHUNK_ADD, CLICK_CHUNK_ADD, CLICK_CHUNK_ADD}};

#define VARINT_MAX 10 /* bytes of the longest field: 64 bits, 7 a byte */

static uint64_t zigzag(int64_t v)
{
	return (uint64_t)v << 1 ^ (uint64_t)(v >> 63);
}

static int64_t unzigzag(uint64_t u)
{
	return (int64_t)(u >> 1 ^ (0 - (u & 1)));
}

/* Writes v at p; the bytes written. */
static size_t put_varint(unsigned char *p, int64_t v)
{
	uint64_t u = zigzag(v);
	size_t n = 0;

	while (u >= 0x80) {
		p[n++] = (unsigned char)(u | 0x80);
		u >>= 7;
	}
	p[n++] = (unsigned char)u;
	return n;
}

/*
 * The field at b[*pos] (of len bytes) into *v, *pos past it. False, *pos
 * unchanged, when it runs past len, is longer than 64 bits need or is not
 * the shortest form of its value.
 */
static bool get_varint(const unsigned char *b, size_t len, size_t *pos, int64_t *v)
{
	uint64_t u = 0;

	for (size_t i = 0; i < VARINT_MAX && *pos + i < len; i++) {
		unsigned char c = b[*pos + i];
		if (i == VARINT_MAX - 1 && c > 1)
			return false; /* past 64 bits */
		u |= (uint64_t)(c & 0x7f) << (7 * i);
		if (c < 0x80) {
			if (c == 0 && i > 0)
				return false; /* a longer form than the value needs */
			*v = unzigzag(u);
			*pos += i + 1;
			return true;
		}
	}
	return false;
}

/* The record at b[*pos]: its slot and fields, *pos past it; false at the
 * end of the blob or where the record breaks the format. */
static bool read_record(const struct click_chunk_kind *k, const unsigned char *b, size_t len, size_t *pos,
                        unsigned *slot, int64_t *v)
{
	size_t p = *pos;

	if (p >= len || b[p] >= CLICK_CHUNK_LINKS)
		return false;
	*slot = b[p++];
	for (int f = 0; f < k->fields; f++) {
		if (!get_varint(b, len, &p, &v[f]))
			return false;
	}
	*pos = p;
	return true;
}

bool click_chunk_is_valid(const struct click_chunk_kind *k, const unsigned char *b, size_t len)
{
	int64_t v[CLICK_CHUNK_FIELDS_MAX];
	size_t pos = 1;
	unsigned slot;
	int last = -1;

	if (len == 0)
		return true;
	if (b[0] != CLICK_CHUNK_FORMAT)
		return false;
	while (pos < len) {
		if (!read_record(k, b, len, &pos, &slot, v) || (int)slot <= last)
			return false;
		last = (int)slot;
	}
	return true;
}

bool click_chunk_next(const struct click_chunk_kind *k, const unsigned char *b, size_t len, size_t *pos, unsigned *slot,
                      int64_t *v)
{
	size_t p = *pos == 0 ? 1 : *pos; /* the first record follows the format byte */

	if (!read_record(k, b, len, &p, slot, v))
		return false;
	*pos = p;
	return true;
}

int click_chunk_get(const struct click_chunk_kind *k, const unsigned char *b, size_t len, unsigned slot, int64_t *v)
{
	int64_t cur[CLICK_CHUNK_FIELDS_MAX];
	size_t pos = 0;
	unsigned s;

	if (!click_chunk_is_valid(k, b, len))
		return CLICK_CHUNK_CORRUPT;
	memcpy(v, k->empty, sizeof(*v) * (size_t)k->fields);
	while (click_chunk_next(k, b, len, &pos, &s, cur) && s <= slot) { /* records are in slot order */
		if (s == slot)
			memcpy(v, cur, sizeof(*v) * (size_t)k->fields);
	}
	return CLICK_CHUNK_OK;
}

static int64_t meet(enum click_chunk_op op, int64_t old, int64_t add)
{
	int64_t sum;

	if (op == CLICK_CHUNK_LATEST)
		return add > old ? add : old;
	if (__builtin_add_overflow(old, add, &sum))
		return add > 0 ? INT64_MAX : INT64_MIN;
	return sum;
}

static bool is_empty(const struct click_chunk_kind *k, const int64_t *v)
{
	for (int f = 0; f < k->fields; f++) {
		if (v[f] != k->empty[f])
			return false;
	}
	return true;
}

/* Appends slot's record to out at *n unless it holds the empty values; the
 * format byte first, before the first record. */
static void emit(const struct click_chunk_kind *k, unsigned slot, const int64_t *v, unsigned char *out, size_t *n)
{
	if (is_empty(k, v))
		return;
	if (*n == 0)
		out[(*n)++] = CLICK_CHUNK_FORMAT;
	out[(*n)++] = (unsigned char)slot;
	for (int f = 0; f < k->fields; f++)
		*n += put_varint(out + *n, v[f]);
}

/* Appends the len bytes of records at b to out at *n, the format byte first
 * where out has none yet. */
static void copy_records(const unsigned char *b, size_t len, unsigned char *out, size_t *n)
{
	if (*n == 0)
		out[(*n)++] = CLICK_CHUNK_FORMAT;
	memcpy(out + *n, b, len);
	*n += len;
}

/*
 * A merge of b's records and the changes, both in slot order: the records
 * between two changed slots are copied as they are, in one piece, and only
 * a changed slot's record is read and written again.
 */
int click_chunk_apply(const struct click_chunk_kind *k, const unsigned char *b, size_t len,
                      const struct click_chunk_change *c, size_t n, bool set, unsigned char *out, size_t *out_len)
{
	size_t pos = len > 0 ? 1 : 0, w = 0, i = 0;

	if (!click_chunk_is_valid(k, b, len))
		return CLICK_CHUNK_CORRUPT;
	for (size_t j = 0; j < n; j++) {
		if (c[j].slot >= CLICK_CHUNK_LINKS || (j > 0 && c[j].slot < c[j - 1].slot))
			return CLICK_CHUNK_CORRUPT;
	}
	while (i < n) {
		unsigned s = c[i].slot, old_slot;
		size_t start = pos, at;
		int64_t cur[CLICK_CHUNK_FIELDS_MAX];

		/* The valid blob's records before slot s, each read only for
		 * its length. */
		for (at = pos; read_record(k, b, len, &at, &old_slot, cur) && old_slot < s; at = pos)
			pos = at;
		if (pos > start)
			copy_records(b + start, pos - start, out, &w);
		if (pos < len && b[pos] == s)
			read_record(k, b, len, &pos, &old_slot, cur);
		else
			memcpy(cur, k->empty, sizeof(cur));
		for (; i < n && c[i].slot == s; i++) {
			for (int f = 0; f < k->fields; f++)
				cur[f] = set ? c[i].v[f] : meet(k->ops[f], cur[f], c[i].v[f]);
		}
		emit(k, s, cur, out, &w);
	}
	if (len > pos)
		copy_records(b + pos, len - pos, out, &w);
	*out_len = w;
	return CLICK_CHUNK_OK;
}

/* ---- the format before this one: 8-byte fields, no format byte ---- */

static size_t fixed_record_size(const struct click_chunk_kind *k)
{
	return 1 + 8 * (size_t)k->fields;
}

static int64_t get_le64(const unsigned char *p)
{
	uint64_t u;

	memcpy(&u, p, sizeof(u));
	return (int64_t)le64toh(u);
}

static bool fixed_is_valid(const struct click_chunk_kind *k, const unsigned char *b, size_t len)
{
	size_t rs = fixed_record_size(k);
	int last = -1;

	if (len % rs != 0 || len > CLICK_CHUNK_LINKS * rs)
		return false;
	for (size_t pos = 0; pos < len; pos += rs) {
		if (b[pos] >= CLICK_CHUNK_LINKS || (int)b[pos] <= last)
			return false;
		last = b[pos];
	}
	return true;
}

int click_chunk_upgrade(const struct click_chunk_kind *k, const unsigned char *b, size_t len, unsigned char *out,
                        size_t *out_len)
{
	size_t rs = fixed_record_size(k), w = 0;

	if (len > 0 && b[0] == CLICK_CHUNK_FORMAT)
		return CLICK_CHUNK_CURRENT;
	if (!fixed_is_valid(k, b, len))
		return CLICK_CHUNK_CORRUPT;
	for (size_t pos = 0; pos < len; pos += rs) {
		if (w == 0)
			out[w++] = CLICK_CHUNK_FORMAT;
		out[w++] = b[pos];
		for (int f = 0; f < k->fields; f++)
			w += put_varint(out + w, get_le64(b + pos + 1 + 8 * (size_t)f));
	}
	*out_len = w;
	return CLICK_CHUNK_OK;
}
