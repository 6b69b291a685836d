/*
 * Fuzzes click_chunk.c, the packed click counters, against a plain model: an
 * array of CLICK_CHUNK_LINKS slots, each with a present flag and the kind's
 * values, read from and written to blobs by this file's own codec. The
 * input is:
 *   byte 0    flags: bit 0 the day kind (else the totals), bit 1 apply with
 *             set, bit 2 the blob written here from records in the input
 *             (else raw bytes), bit 3 the changes' slots as steps from the
 *             last (else raw bytes), bit 4 the second apply with set
 *   bytes 1-2 with bit 2, byte 1 % 130 records (up to one too many), each a
 *             step byte (the slot: the last one's plus step % 4, from 0, so
 *             a slot may repeat or pass 127) and its fields as values
 *             (below); without, the blob's length, the two bytes
 *             little-endian, mod CLICK_CHUNK_MAX + 64 (cut short where the
 *             input ends), and the blob's bytes
 *   then      the changes up to the end: a slot byte (or step: byte % 4),
 *             then per field a value.
 *   A value is a byte v: v < 0x80 the value v - 32, 0x80-0x9f INT64_MAX -
 *   (v & 31), 0xa0-0xbf INT64_MIN + (v & 31), 0xc0-0xdf the kind's empty
 *   value, 0xe0-0xff the next 8 bytes little-endian.
 * Invariants: is_valid says what the model says (the format byte, then
 * records with slots below CLICK_CHUNK_LINKS and strictly increasing, each
 * field in the shortest form of its value, nothing left over; or no bytes
 * at all); a valid blob's every slot reads back by get as the model's, and
 * next yields exactly its records, each ending where the model's codec ends
 * it; apply on a corrupt blob or changes out of slot order is
 * CLICK_CHUNK_CORRUPT with out and *out_len untouched, and otherwise writes,
 * inside CLICK_CHUNK_MAX bytes, exactly the model's blob of its slots after
 * the changes (folded in order: replaced with set, else added, held within
 * int64_t, or the later time): a changed slot only when it does not hold the
 * empty values, a slot no change names as it was (a record of the empty
 * values in the blob given is copied, not dropped), which a second apply
 * without changes copies byte for byte. upgrade of a blob starting with the
 * format byte is CLICK_CHUNK_CURRENT; of a blob of the format before (8-byte
 * little-endian fields, no format byte) the model's blob of its records; of
 * anything else CLICK_CHUNK_CORRUPT; out and *out_len untouched but on
 * success.
 */
#include <stdbool.h>
#include <stdint.h>

#include "click_chunk.h"
#include "fuzz.h"

#define CHANGES_MAX 1024
#define SENTINEL 0x5a5a5a5a5a5a5a5aLL
#define FORMAT 0x81

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

/* The field of value v: zigzagged, 7 bits a byte from the lowest. */
static size_t field_write(int64_t v, unsigned char *p)
{
	uint64_t u = v >= 0 ? (uint64_t)v * 2 : (uint64_t)(-(v + 1)) * 2 + 1;
	size_t n = 0;

	for (;;) {
		p[n++] = (unsigned char)((u & 0x7f) | (u > 0x7f ? 0x80 : 0));
		if (u <= 0x7f)
			return n;
		u >>= 7;
	}
}

/* The field at b[*pos] into *v; false when it runs past len, holds more
 * than 64 bits or is longer than the field field_write() makes of it. */
static bool field_read(const unsigned char *b, size_t len, size_t *pos, int64_t *v)
{
	unsigned __int128 u = 0;
	size_t n = 0;
	unsigned char again[16];

	for (;;) {
		if (*pos + n >= len || n == 11)
			return false;
		u |= (unsigned __int128)(b[*pos + n] & 0x7f) << (7 * n);
		if (!(b[*pos + n++] & 0x80))
			break;
	}
	if (u > UINT64_MAX)
		return false;
	*v = (u & 1) ? -(int64_t)((uint64_t)(u >> 1)) - 1 : (int64_t)(uint64_t)(u >> 1);
	if (field_write(*v, again) != n)
		return false;
	*pos += n;
	return true;
}

/* Writes m as a blob into out; its length (0 with no records). */
static size_t model_write(const struct click_chunk_kind *k, const struct model *m, unsigned char *out)
{
	size_t n = 0;

	for (unsigned s = 0; s < CLICK_CHUNK_LINKS; s++) {
		if (!m->present[s])
			continue;
		if (n == 0)
			out[n++] = FORMAT;
		out[n++] = (unsigned char)s;
		for (int f = 0; f < k->fields; f++)
			n += field_write(m->v[s][f], out + n);
	}
	return n;
}

/* The bytes slot s's record takes. */
static size_t record_len(const struct click_chunk_kind *k, const struct model *m, unsigned s)
{
	unsigned char scratch[16];
	size_t n = 1;

	for (int f = 0; f < k->fields; f++)
		n += field_write(m->v[s][f], scratch);
	return n;
}

/* Reads blob b into m; false when it breaks the format. */
static bool model_read(const struct click_chunk_kind *k, const unsigned char *b, size_t len, struct model *m)
{
	size_t pos = 1;
	int last = -1;

	memset(m, 0, sizeof(*m));
	if (len == 0)
		return true;
	if (b[0] != FORMAT)
		return false;
	while (pos < len) {
		unsigned s = b[pos++];
		if (s >= CLICK_CHUNK_LINKS || (int)s <= last)
			return false;
		last = (int)s;
		m->present[s] = true;
		for (int f = 0; f < k->fields; f++) {
			if (!field_read(b, len, &pos, &m->v[s][f]))
				return false;
		}
	}
	return true;
}

/* Reads blob b of the format before into m; false when it breaks that
 * format. */
static bool model_read_fixed(const struct click_chunk_kind *k, const unsigned char *b, size_t len, struct model *m)
{
	size_t rs = 1 + 8 * (size_t)k->fields;
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

/* 129 records of the widest kind at their longest fit. */
_Static_assert(1 + (CLICK_CHUNK_LINKS + 1) * (1 + 10 * CLICK_CHUNK_FIELDS_MAX) <= CLICK_CHUNK_MAX + 64,
               "records_write() stays inside its buffer");

/* The blob of bit 2 (see the top) into b (CLICK_CHUNK_MAX + 64 bytes): the
 * format byte and the input's records as they come, slots unchecked; its
 * length. */
static size_t records_write(const struct click_chunk_kind *k, const uint8_t *data, size_t size, size_t *i,
                            unsigned char *b)
{
	size_t nrec = data[1] % (CLICK_CHUNK_LINKS + 2), n = 0;
	unsigned slot = 0;

	for (size_t r = 0; r < nrec && *i < size; r++) {
		slot += r == 0 ? 0 : data[*i] % 4;
		(*i)++;
		if (n == 0)
			b[n++] = FORMAT;
		b[n++] = (unsigned char)slot;
		for (int f = 0; f < k->fields; f++)
			n += field_write(take_value(k, f, data, size, i), b + n);
	}
	return n;
}

/* The records of a valid blob b, by next, are exactly m's present slots. */
static void check_next(const struct click_chunk_kind *k, const unsigned char *b, size_t len, const struct model *m)
{
	size_t pos = 0, end = len > 0 ? 1 : 0;
	unsigned slot, want = 0;
	int64_t v[CLICK_CHUNK_FIELDS_MAX];

	while (click_chunk_next(k, b, len, &pos, &slot, v)) {
		while (want < CLICK_CHUNK_LINKS && !m->present[want])
			want++;
		FUZZ_CHECK(want < CLICK_CHUNK_LINKS);
		FUZZ_CHECK(slot == want);
		for (int f = 0; f < k->fields; f++)
			FUZZ_CHECK(v[f] == m->v[slot][f]);
		end += record_len(k, m, slot);
		FUZZ_CHECK(pos == end);
		want++;
	}
	while (want < CLICK_CHUNK_LINKS && !m->present[want])
		want++;
	FUZZ_CHECK(want == CLICK_CHUNK_LINKS);
	FUZZ_CHECK(end == len);
	FUZZ_CHECK(pos == (len > 1 ? len : 0));
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
	static struct model m, after, got, fixed;
	static unsigned char built[CLICK_CHUNK_MAX + 64], want[CLICK_CHUNK_MAX];
	const struct click_chunk_kind *k;
	bool set, valid, ordered = true;
	size_t i = 3, len, n = 0, out_len = 7777, again_len = 7777, want_len;
	unsigned char *b, *out, *again;
	unsigned last = 0;
	int rc;

	if (size < 3)
		return 0;
	k = data[0] & 1 ? &click_chunk_day : &click_chunk_totals;
	set = data[0] & 2;
	if (data[0] & 4) {
		len = records_write(k, data, size, &i, built);
	} else {
		len = (size_t)(data[1] | data[2] << 8) % (CLICK_CHUNK_MAX + 64);
		if (len > size - i)
			len = size - i;
		memcpy(built, data + i, len);
		i += len;
	}
	/* Exactly len bytes, so that AddressSanitizer sees a read past them. */
	b = malloc(len > 0 ? len : 1);
	out = malloc(CLICK_CHUNK_MAX);
	again = malloc(CLICK_CHUNK_MAX);
	if (b == NULL || out == NULL || again == NULL)
		abort();
	memcpy(b, built, len);
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

	memset(out, 0xa5, CLICK_CHUNK_MAX);
	memcpy(again, out, CLICK_CHUNK_MAX);
	rc = click_chunk_upgrade(k, b, len, out, &out_len);
	if (len > 0 && b[0] == FORMAT) {
		FUZZ_CHECK(rc == CLICK_CHUNK_CURRENT);
	} else if (model_read_fixed(k, b, len, &fixed)) {
		FUZZ_CHECK(rc == CLICK_CHUNK_OK);
		want_len = model_write(k, &fixed, want);
		FUZZ_CHECK(out_len == want_len && memcmp(out, want, want_len) == 0);
		FUZZ_CHECK(click_chunk_is_valid(k, out, out_len));
		memset(out, 0xa5, CLICK_CHUNK_MAX);
		out_len = 7777;
	} else {
		FUZZ_CHECK(rc == CLICK_CHUNK_CORRUPT);
	}
	FUZZ_CHECK(out_len == 7777 && memcmp(out, again, CLICK_CHUNK_MAX) == 0);

	valid = model_read(k, b, len, &m);
	FUZZ_CHECK(click_chunk_is_valid(k, b, len) == valid);
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
		if (!after.present[s])
			memset(after.v[s], 0, sizeof(after.v[s]));
	}

	FUZZ_CHECK(click_chunk_apply(k, b, len, c, n, set, out, &out_len) == CLICK_CHUNK_OK);
	FUZZ_CHECK(out_len <= CLICK_CHUNK_MAX);
	want_len = model_write(k, &after, want);
	FUZZ_CHECK(out_len == want_len && memcmp(out, want, want_len) == 0);
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
