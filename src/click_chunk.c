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
 * Moves *pos past the field at b[*pos] (of len bytes). False, *pos
 * unchanged, when it runs past len, is longer than 64 bits need or is not
 * the shortest form of its value.
 */
static inline bool skip_varint(const unsigned char *b, size_t len, size_t *pos)
{
	size_t p = *pos, end = p;

	while (end < len && b[end] >= 0x80)
		end++;
	if (end >= len)
		return false; /* cut short */
	if (end > p && (end - p >= VARINT_MAX || b[end] == 0 || (end - p == VARINT_MAX - 1 && b[end] > 1)))
		return false; /* too long, longer than the value needs, past 64 bits */
	*pos = end + 1;
	return true;
}

#define HIGH_BITS 0x8080808080808080ULL
#define LOW_BITS 0x7f7f7f7f7f7f7f7fULL

/*
 * Moves *pos past the kind's fields at b[*pos], as skip_varint() for each.
 * Where 8 bytes are left, a word at a time: a field ends at each byte with
 * its high bit clear, and the record at the kind's fields'th. Past the
 * format byte, a byte with the high bit set is a field's and never its
 * last, so a zero byte after one ends a field longer than its value needs,
 * whichever record it is in. (No field that ends within 8 bytes can be too
 * long or past 64 bits.)
 */
static inline bool skip_fields(const struct click_chunk_kind *k, const unsigned char *b, size_t len, size_t *pos)
{
	size_t p = *pos;

	if (len - p >= 8) {
		uint64_t w, ends, zero;
		unsigned end;

		memcpy(&w, b + p, sizeof(w));
		w = le64toh(w);
		ends = ~w & HIGH_BITS;
		for (int f = 1; f < k->fields && ends != 0; f++)
			ends &= ends - 1; /* the fields before the last */
		if (ends != 0) {
			end = (unsigned)__builtin_ctzll(ends) / 8; /* the last field's last byte */
			/* A zero byte after a field's byte with the high bit set,
			 * in this record or a later one. */
			zero = ~(((w & LOW_BITS) + LOW_BITS) | w | LOW_BITS);
			if ((zero & (w & HIGH_BITS) << 8) != 0)
				return false; /* a field longer than its value needs */
			*pos = p + end + 1;
			return true;
		}
	}
	for (int f = 0; f < k->fields; f++) {
		if (!skip_varint(b, len, pos))
			return false;
	}
	return true;
}

/* The field at b[*pos], which skip_varint() accepted; *pos past it. */
static inline int64_t get_varint(const unsigned char *b, size_t *pos)
{
	uint64_t u = 0;
	unsigned shift = 0;
	unsigned char c;

	do {
		c = b[(*pos)++];
		u |= (uint64_t)(c & 0x7f) << shift;
		shift += 7;
	} while (c >= 0x80);
	return unzigzag(u);
}

/*
 * Where each record of blob b starts, into at[] (CLICK_CHUNK_LINKS
 * entries); how many records it has, or -1 when b breaks the format. The
 * functions below read a blob only where this found a record.
 */
static int scan(const struct click_chunk_kind *k, const unsigned char *b, size_t len, uint16_t *at)
{
	size_t pos = 1;
	int n = 0, last = -1;

	if (len == 0)
		return 0;
	if (b[0] != CLICK_CHUNK_FORMAT || len > CLICK_CHUNK_MAX)
		return -1;
	while (pos < len) {
		if (b[pos] >= CLICK_CHUNK_LINKS || (int)b[pos] <= last)
			return -1;
		last = b[pos];
		at[n++] = (uint16_t)pos++;
		if (!skip_fields(k, b, len, &pos))
			return -1;
	}
	return n;
}

/* The fields of the record at b[pos], which scan() found, into v. */
static void read_fields(const struct click_chunk_kind *k, const unsigned char *b, size_t pos, int64_t *v)
{
	pos++; /* the slot */
	for (int f = 0; f < k->fields; f++)
		v[f] = get_varint(b, &pos);
}

bool click_chunk_is_valid(const struct click_chunk_kind *k, const unsigned char *b, size_t len)
{
	uint16_t at[CLICK_CHUNK_LINKS];

	return scan(k, b, len, at) >= 0;
}

bool click_chunk_next(const struct click_chunk_kind *k, const unsigned char *b, size_t len, size_t *pos, unsigned *slot,
                      int64_t *v)
{
	size_t p = *pos == 0 ? 1 : *pos, end = p + 1; /* the first record follows the format byte */

	if (p >= len || b[p] >= CLICK_CHUNK_LINKS)
		return false;
	for (int f = 0; f < k->fields; f++) {
		if (!skip_varint(b, len, &end))
			return false;
	}
	*slot = b[p];
	read_fields(k, b, p, v);
	*pos = end;
	return true;
}

int click_chunk_get(const struct click_chunk_kind *k, const unsigned char *b, size_t len, unsigned slot, int64_t *v)
{
	uint16_t at[CLICK_CHUNK_LINKS];
	int n = scan(k, b, len, at), lo = 0, hi = n;

	if (n < 0)
		return CLICK_CHUNK_CORRUPT;
	memcpy(v, k->empty, sizeof(*v) * (size_t)k->fields);
	while (lo < hi) { /* records are in slot order */
		int mid = lo + (hi - lo) / 2;
		unsigned s = b[at[mid]];
		if (s == slot) {
			read_fields(k, b, at[mid], v);
			break;
		}
		if (s < slot)
			lo = mid + 1;
		else
			hi = mid;
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
	uint16_t at[CLICK_CHUNK_LINKS];
	int nrec = scan(k, b, len, at), r = 0;
	size_t w = 0, i = 0;

	if (nrec < 0)
		return CLICK_CHUNK_CORRUPT;
	for (size_t j = 0; j < n; j++) {
		if (c[j].slot >= CLICK_CHUNK_LINKS || (j > 0 && c[j].slot < c[j - 1].slot))
			return CLICK_CHUNK_CORRUPT;
	}
	while (i < n) {
		unsigned s = c[i].slot;
		int first = r;
		int64_t cur[CLICK_CHUNK_FIELDS_MAX];

		while (r < nrec && b[at[r]] < s)
			r++;
		if (r > first)
			copy_records(b + at[first], (r < nrec ? at[r] : len) - at[first], out, &w);
		memcpy(cur, k->empty, sizeof(cur));
		if (r < nrec && b[at[r]] == s)
			read_fields(k, b, at[r++], cur);
		for (; i < n && c[i].slot == s; i++) {
			for (int f = 0; f < k->fields; f++)
				cur[f] = set ? c[i].v[f] : meet(k->ops[f], cur[f], c[i].v[f]);
		}
		emit(k, s, cur, out, &w);
	}
	if (r < nrec)
		copy_records(b + at[r], len - at[r], out, &w);
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
