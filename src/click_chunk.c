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

static size_t record_size(const struct click_chunk_kind *k)
{
	return 1 + 8 * (size_t)k->fields;
}

static int64_t get_le64(const unsigned char *p)
{
	uint64_t u;

	memcpy(&u, p, sizeof(u));
	return (int64_t)le64toh(u);
}

static void put_le64(unsigned char *p, int64_t v)
{
	uint64_t u = htole64((uint64_t)v);

	memcpy(p, &u, sizeof(u));
}

bool click_chunk_is_valid(const struct click_chunk_kind *k, const unsigned char *b, size_t len)
{
	size_t rs = record_size(k);
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

bool click_chunk_next(const struct click_chunk_kind *k, const unsigned char *b, size_t len, size_t *pos, unsigned *slot,
                      int64_t *v)
{
	if (*pos + record_size(k) > len)
		return false;
	*slot = b[*pos];
	for (int f = 0; f < k->fields; f++)
		v[f] = get_le64(b + *pos + 1 + 8 * (size_t)f);
	*pos += record_size(k);
	return true;
}

int click_chunk_get(const struct click_chunk_kind *k, const unsigned char *b, size_t len, unsigned slot, int64_t *v)
{
	size_t rs = record_size(k), lo = 0, hi;

	if (!click_chunk_is_valid(k, b, len))
		return CLICK_CHUNK_CORRUPT;
	memcpy(v, k->empty, sizeof(*v) * (size_t)k->fields);
	hi = len / rs;
	while (lo < hi) { /* records are in slot order */
		size_t mid = lo + (hi - lo) / 2;
		unsigned s = b[mid * rs];
		if (s == slot) {
			size_t pos = mid * rs;
			click_chunk_next(k, b, len, &pos, &s, v);
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

/* Appends slot's record to out at *n unless it holds the empty values. */
static void emit(const struct click_chunk_kind *k, unsigned slot, const int64_t *v, unsigned char *out, size_t *n)
{
	if (is_empty(k, v))
		return;
	out[*n] = (unsigned char)slot;
	for (int f = 0; f < k->fields; f++)
		put_le64(out + *n + 1 + 8 * (size_t)f, v[f]);
	*n += record_size(k);
}

/*
 * A merge of b's records and the changes, both in slot order: the records
 * between two changed slots are copied as they are, in one piece, and only
 * a changed slot's record is read and written again.
 */
int click_chunk_apply(const struct click_chunk_kind *k, const unsigned char *b, size_t len,
                      const struct click_chunk_change *c, size_t n, bool set, unsigned char *out, size_t *out_len)
{
	size_t rs = record_size(k), pos = 0, w = 0, i = 0;

	if (!click_chunk_is_valid(k, b, len))
		return CLICK_CHUNK_CORRUPT;
	for (size_t j = 0; j < n; j++) {
		if (c[j].slot >= CLICK_CHUNK_LINKS || (j > 0 && c[j].slot < c[j - 1].slot))
			return CLICK_CHUNK_CORRUPT;
	}
	while (i < n) {
		unsigned s = c[i].slot, old_slot;
		size_t start = pos;
		int64_t cur[CLICK_CHUNK_FIELDS_MAX];

		while (pos < len && b[pos] < s)
			pos += rs;
		if (pos > start)
			memcpy(out + w, b + start, pos - start);
		w += pos - start;
		if (!(pos < len && b[pos] == s && click_chunk_next(k, b, len, &pos, &old_slot, cur)))
			memcpy(cur, k->empty, sizeof(cur));
		for (; i < n && c[i].slot == s; i++) {
			for (int f = 0; f < k->fields; f++)
				cur[f] = set ? c[i].v[f] : meet(k->ops[f], cur[f], c[i].v[f]);
		}
		emit(k, s, cur, out, &w);
	}
	if (len > pos)
		memcpy(out + w, b + pos, len - pos);
	*out_len = w + (len - pos);
	return CLICK_CHUNK_OK;
}
