/*
 * Fuzzes click_chunk.c, the packed click counters, against a plain model: an
 * array of CLICK_CHUNK_LINKS slots, each with a present flag and the kind's
 * values. The input is:
 *   byte 0    flags: bit 0 the day kind (else the totals), bit 1 apply with
 *             set, bit 2 the blob's length in whole records, bit 3 the
 *             changes' slots as steps from the last (else raw bytes)
 *   bytes 1-2 the blob's length: with bit 2, byte 1 % 130 records (up to
 *             one too many); else the two bytes little-endian, mod
 *             CLICK_CHUNK_MAX + 64 (cut short where the input ends)
 *   then      the blob, then changes up to the end: a slot byte (or step:
 *             byte % 4), then per field a byte v: v < 0x80 the value
 *             v - 32, 0x80-0x9f INT64_MAX - (v & 31), 0xa0-0xbf INT64_MIN +
 *             (v & 31), 0xc0-0xdf the kind's empty value, 0xe0-0xff the
 *             next 8 bytes little-endian.
 * Invariants: is_valid says what the model says (length a whole number of
 * records, slots below CLICK_CHUNK_LINKS and strictly increasing); a valid
 * blob's every slot reads back by get as the model's, and next yields
 * exactly its records; apply on a corrupt blob or changes out of slot order
 * is CLICK_CHUNK_CORRUPT with out and *out_len untouched, and otherwise
 * writes, inside CLICK_CHUNK_MAX bytes, a valid blob holding exactly the
 * model's slots after the changes (folded in order: replaced with set, else
 * added, held within int64_t, or the later time): a changed slot only when
 * it does not hold the empty values, a slot no change names as it was (a
 * record of the empty values in the blob given is copied, not dropped),
 * which a second apply without changes copies byte for byte.
 */
#include <stdbool.h>
#include <stdint.h>

#include "click_chunk.h"
#include "fuzz.h"

#define CHANGES_MAX 1024
#define SENTINEL 0x5a5a5a5a5a5a5a5aLL

struct model {
	bool present[CLICK_CHUNK_LINKS];
	int64_t v[CLICK_CHUNK_LINKS][CLICK_CHUNK_FIELDS_MAX];
};

static int64_t le64(const unsigned char *p)
{
	uint64_t u = 0;

	for (int i = 0; i < 8; i++)
		u |= (uint64_t)p[i] << (8 * i);
	return (int64_t)u;
}

static size_t rec_size(const struct click_chunk_kind *k)
{
	return 1 + 8 * (size_t)k->fields;
}

/* Reads blob b into m; false when it breaks the format. */
static bool model_read(const struct click_chunk_kind *k, const unsigned char *b, size_t len, struct model *m)
{
	size_t rs = rec_size(k);
	int last = -1;

	memset(m, 0, sizeof(*m));
	if (len % rs != 0)
		return false;
	for (size_t pos = 0; pos < len; pos += rs) {
		unsigned s = b[pos];
		if (s >= CLICK_CHUNK_LINKS || (int)s <= last)
			return false;
		last = (int)s;
		m->present[s] = true;
		for (int f = 0; f < k->fields; f++)
			m->v[s][f] = le64(b + pos + 1 + 8 * (size_t)f);
	}
	return true;
}

/* The values slot s holds: its record's, or the kind's empty values. */
static const int64_t *model_get(const struct click_chunk_kind *k, const struct model *m, unsigned s)
{
	return m->present[s] ? m->v[s] : k->empty;
}

static bool is_empty(const struct click_chunk_kind *k, const int64_t *v)
{
	for (int f = 0; f < k->fields; f++) {
		if (v[f] != k->empty[f])
			return false;
	}
	return true;
}

static int64_t model_meet(enum click_chunk_op op, int64_t old, int64_t v)
{
	__int128 sum = (__int128)old + v;

	if (op == CLICK_CHUNK_LATEST)
		return v > old ? v : old;
	if (sum > INT64_MAX)
		return INT64_MAX;
	if (sum < INT64_MIN)
		return INT64_MIN;
	return (int64_t)sum;
}

/* One field's value from the input at *i (see the top). */
static int64_t take_value(const struct click_chunk_kind *k, int f, const uint8_t *data, size_t size, size_t *i)
{
	uint8_t c = *i < size ? data[(*i)++] : 0;
	unsigned char raw[8] = {0};

	if (c < 0x80)
		return (int64_t)c - 32;
	if (c < 0xa0)
		return INT64_MAX - (c & 31);
	if (c < 0xc0)
		return INT64_MIN + (c & 31);
	if (c < 0xe0)
		return k->empty[f];
	for (int j = 0; j < 8 && *i < size; j++)
		raw[j] = data[(*i)++];
	return le64(raw);
}

/* The records of a valid blob b, by next, are exactly m's present slots. */
static void check_next(const struct click_chunk_kind *k, const unsigned char *b, size_t len, const struct model *m)
{
	size_t pos = 0, seen = 0;
	unsigned slot, want = 0;
	int64_t v[CLICK_CHUNK_FIELDS_MAX];

	while (click_chunk_next(k, b, len, &pos, &slot, v)) {
		while (want < CLICK_CHUNK_LINKS && !m->present[want])
			want++;
		FUZZ_CHECK(want < CLICK_CHUNK_LINKS);
		FUZZ_CHECK(slot == want);
		for (int f = 0; f < k->fields; f++)
			FUZZ_CHECK(v[f] == m->v[slot][f]);
		seen++;
		FUZZ_CHECK(pos == seen * rec_size(k));
		want++;
	}
	while (want < CLICK_CHUNK_LINKS && !m->present[want])
		want++;
	FUZZ_CHECK(want == CLICK_CHUNK_LINKS);
	FUZZ_CHECK(pos == len);
}

/* get of every slot of b gives m's values, and writes no further field. */
static void check_get(const struct click_chunk_kind *k, const unsigned char *b, size_t len, const struct model *m)
{
	for (unsigned s = 0; s < CLICK_CHUNK_LINKS; s++) {
		int64_t v[CLICK_CHUNK_FIELDS_MAX] = {SENTINEL, SENTINEL, SENTINEL};
		const int64_t *want = model_get(k, m, s);

		FUZZ_CHECK(click_chunk_get(k, b, len, s, v) == CLICK_CHUNK_OK);
		for (int f = 0; f < k->fields; f++)
			FUZZ_CHECK(v[f] == want[f]);
		for (int f = k->fields; f < CLICK_CHUNK_FIELDS_MAX; f++)
			FUZZ_CHECK(v[f] == SENTINEL);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct click_chunk_change c[CHANGES_MAX];
	static struct model m, after, got;
	const struct click_chunk_kind *k;
	bool set, valid, ordered = true;
	size_t i = 3, len, n = 0, nrec = 0, out_len = 7777, again_len = 7777, rs;
	unsigned char *b, *out, *again;
	unsigned last = 0;

	if (size < 3)
		return 0;
	k = data[0] & 1 ? &click_chunk_day : &click_chunk_totals;
	set = data[0] & 2;
	rs = rec_size(k);
	if (data[0] & 4)
		len = (size_t)(data[1] % (CLICK_CHUNK_LINKS + 2)) * rs;
	else
		len = (size_t)(data[1] | data[2] << 8) % (CLICK_CHUNK_MAX + 64);
	if (len > size - i)
		len = size - i;
	/* Exactly len bytes, so that AddressSanitizer sees a read past them. */
	b = malloc(len > 0 ? len : 1);
	out = malloc(CLICK_CHUNK_MAX);
	again = malloc(CLICK_CHUNK_MAX);
	if (b == NULL || out == NULL || again == NULL)
		abort();
	memcpy(b, data + i, len);
	i += len;
	while (i < size && n < CHANGES_MAX) {
		unsigned slot = data[0] & 8 ? last + data[i] % 4 : data[i];
		i++;
		c[n].key = (int64_t)n;
		c[n].slot = slot;
		for (int f = 0; f < CLICK_CHUNK_FIELDS_MAX; f++)
			c[n].v[f] = f < k->fields ? take_value(k, f, data, size, &i) : SENTINEL;
		if (slot >= CLICK_CHUNK_LINKS || slot < last)
			ordered = false;
		last = slot;
		n++;
	}

	valid = model_read(k, b, len, &m);
	FUZZ_CHECK(click_chunk_is_valid(k, b, len) == valid);
	memset(out, 0xa5, CLICK_CHUNK_MAX);
	memcpy(again, out, CLICK_CHUNK_MAX);
	if (!valid) {
		int64_t v[CLICK_CHUNK_FIELDS_MAX] = {SENTINEL, SENTINEL, SENTINEL};

		FUZZ_CHECK(click_chunk_get(k, b, len, data[1] % CLICK_CHUNK_LINKS, v) == CLICK_CHUNK_CORRUPT);
		FUZZ_CHECK(v[0] == SENTINEL && v[1] == SENTINEL && v[2] == SENTINEL);
		FUZZ_CHECK(click_chunk_apply(k, b, len, c, n, set, out, &out_len) == CLICK_CHUNK_CORRUPT);
		FUZZ_CHECK(out_len == 7777 && memcmp(out, again, CLICK_CHUNK_MAX) == 0);
		goto done;
	}
	check_get(k, b, len, &m);
	check_next(k, b, len, &m);
	if (!ordered) {
		FUZZ_CHECK(click_chunk_apply(k, b, len, c, n, set, out, &out_len) == CLICK_CHUNK_CORRUPT);
		FUZZ_CHECK(out_len == 7777 && memcmp(out, again, CLICK_CHUNK_MAX) == 0);
		goto done;
	}

	/* The model's apply: each change in turn, then a changed slot's empty
	 * values dropped. */
	after = m;
	for (unsigned s = 0; s < CLICK_CHUNK_LINKS; s++) {
		if (!after.present[s])
			memcpy(after.v[s], k->empty, sizeof(after.v[s]));
	}
	for (size_t j = 0; j < n; j++) {
		for (int f = 0; f < k->fields; f++) {
			int64_t *cur = &after.v[c[j].slot][f];
			*cur = set ? c[j].v[f] : model_meet(k->ops[f], *cur, c[j].v[f]);
		}
	}
	for (unsigned s = 0; s < CLICK_CHUNK_LINKS; s++) {
		bool changed = false;
		for (size_t j = 0; j < n && !changed; j++)
			changed = c[j].slot == s;
		after.present[s] = changed ? !is_empty(k, after.v[s]) : m.present[s];
		nrec += after.present[s];
		if (!after.present[s])
			memset(after.v[s], 0, sizeof(after.v[s]));
	}

	FUZZ_CHECK(click_chunk_apply(k, b, len, c, n, set, out, &out_len) == CLICK_CHUNK_OK);
	FUZZ_CHECK(out_len <= CLICK_CHUNK_MAX);
	FUZZ_CHECK(out_len == nrec * rs);
	FUZZ_CHECK(click_chunk_is_valid(k, out, out_len));
	FUZZ_CHECK(model_read(k, out, out_len, &got));
	for (unsigned s = 0; s < CLICK_CHUNK_LINKS; s++) {
		FUZZ_CHECK(got.present[s] == after.present[s]);
		for (int f = 0; f < k->fields; f++)
			FUZZ_CHECK(got.v[s][f] == after.v[s][f]);
	}
	check_get(k, out, out_len, &after);
	check_next(k, out, out_len, &after);
	/* The output is canonical: applying nothing copies it. */
	FUZZ_CHECK(click_chunk_apply(k, out, out_len, NULL, 0, data[0] & 16, again, &again_len) == CLICK_CHUNK_OK);
	FUZZ_CHECK(again_len == out_len && memcmp(again, out, out_len) == 0);
done:
	free(b);
	free(out);
	free(again);
	return 0;
}
