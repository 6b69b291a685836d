/*
 * Unit tests of click_chunk.c: the packed click counters of 128 links in
 * one blob. The blobs here are written byte by byte by the tests' own
 * encoder (a slot byte, then 8-byte little-endian fields), so the codec is
 * checked against the format, not against itself.
 */
#include <check.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "click_chunk.h"
#include "link.h"

#define TOTALS_RS 25 /* 1 + 8 * 3 */
#define DAY_RS 17    /* 1 + 8 * 2 */
#define SENTINEL 0x5a5a5a5a5a5a5a5aLL

static size_t rec_size(const struct click_chunk_kind *k)
{
	return 1 + 8 * (size_t)k->fields;
}

/* Appends a record (slot byte, then the fields little-endian) to b at len;
 * the new length. */
static size_t put_rec(const struct click_chunk_kind *k, unsigned char *b, size_t len, unsigned slot, const int64_t *v)
{
	b[len++] = (unsigned char)slot;
	for (int f = 0; f < k->fields; f++) {
		uint64_t u = (uint64_t)v[f];
		for (int i = 0; i < 8; i++)
			b[len++] = (unsigned char)(u >> (8 * i));
	}
	return len;
}

static int64_t le64(const unsigned char *p)
{
	uint64_t u = 0;

	for (int i = 0; i < 8; i++)
		u |= (uint64_t)p[i] << (8 * i);
	return (int64_t)u;
}

static void fill_sentinel(int64_t *v)
{
	for (int f = 0; f < CLICK_CHUNK_FIELDS_MAX; f++)
		v[f] = SENTINEL;
}

static struct click_chunk_change change(unsigned slot, int64_t a, int64_t b, int64_t c)
{
	struct click_chunk_change ch = {.key = 99, .slot = slot, .v = {a, b, c}};

	return ch;
}

/* get of slot must give want[0..k->fields) and leave the rest untouched. */
static void check_get(const struct click_chunk_kind *k, const unsigned char *b, size_t len, unsigned slot,
                      const int64_t *want)
{
	int64_t v[CLICK_CHUNK_FIELDS_MAX];

	fill_sentinel(v);
	ck_assert_int_eq(click_chunk_get(k, b, len, slot, v), CLICK_CHUNK_OK);
	for (int f = 0; f < k->fields; f++)
		ck_assert_msg(v[f] == want[f], "slot %u field %d: got %lld, want %lld", slot, f, (long long)v[f],
		              (long long)want[f]);
	for (int f = k->fields; f < CLICK_CHUNK_FIELDS_MAX; f++)
		ck_assert_msg(v[f] == SENTINEL, "slot %u field %d written past the kind's fields", slot, f);
}

START_TEST(test_kinds)
{
	ck_assert_int_eq(click_chunk_totals.fields, 3);
	ck_assert_int_eq(click_chunk_day.fields, 2);
	ck_assert_uint_eq(rec_size(&click_chunk_totals), TOTALS_RS);
	ck_assert_uint_eq(rec_size(&click_chunk_day), DAY_RS);
	ck_assert_int_eq(CLICK_CHUNK_LINKS, 128);
	ck_assert_int_eq(CLICK_CHUNK_MAX, 128 * TOTALS_RS);
}
END_TEST

START_TEST(test_get_empty_blob)
{
	static const unsigned char none[1] = {0xff}; /* never read: len is 0 */
	const int64_t totals_empty[3] = {0, 0, LINK_NO_TIME};
	const int64_t day_empty[2] = {0, 0};
	unsigned slots[] = {0, 1, 63, 64, 127};

	for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++) {
		check_get(&click_chunk_totals, none, 0, slots[i], totals_empty);
		check_get(&click_chunk_day, none, 0, slots[i], day_empty);
		check_get(&click_chunk_totals, NULL, 0, slots[i], totals_empty);
	}
	ck_assert(click_chunk_is_valid(&click_chunk_totals, none, 0));
	ck_assert(click_chunk_is_valid(&click_chunk_day, NULL, 0));
}
END_TEST

START_TEST(test_get_present_and_absent)
{
	unsigned char b[CLICK_CHUNK_MAX];
	const int64_t r3[3] = {7, 2, 1700000000}, r100[3] = {INT64_MAX, 0, -5}, r127[3] = {1, 1, LINK_NO_TIME};
	const int64_t empty[3] = {0, 0, LINK_NO_TIME};
	size_t len = 0;

	len = put_rec(&click_chunk_totals, b, len, 3, r3);
	len = put_rec(&click_chunk_totals, b, len, 100, r100);
	len = put_rec(&click_chunk_totals, b, len, 127, r127);
	ck_assert_uint_eq(len, 3 * TOTALS_RS);
	ck_assert(click_chunk_is_valid(&click_chunk_totals, b, len));
	check_get(&click_chunk_totals, b, len, 3, r3);
	check_get(&click_chunk_totals, b, len, 100, r100);
	check_get(&click_chunk_totals, b, len, 127, r127);
	check_get(&click_chunk_totals, b, len, 0, empty);
	check_get(&click_chunk_totals, b, len, 2, empty);
	check_get(&click_chunk_totals, b, len, 4, empty);
	check_get(&click_chunk_totals, b, len, 99, empty);
	check_get(&click_chunk_totals, b, len, 101, empty);
	check_get(&click_chunk_totals, b, len, 126, empty);
}
END_TEST

START_TEST(test_get_day_kind)
{
	unsigned char b[CLICK_CHUNK_MAX];
	const int64_t r0[2] = {12, 3}, r50[2] = {-1, INT64_MIN}, empty[2] = {0, 0};
	size_t len = 0;

	len = put_rec(&click_chunk_day, b, len, 0, r0);
	len = put_rec(&click_chunk_day, b, len, 50, r50);
	ck_assert_uint_eq(len, 2 * DAY_RS);
	check_get(&click_chunk_day, b, len, 0, r0);
	check_get(&click_chunk_day, b, len, 50, r50);
	check_get(&click_chunk_day, b, len, 1, empty);
	check_get(&click_chunk_day, b, len, 127, empty);
	/* A day blob is no totals blob: 34 bytes are not whole 25-byte records. */
	ck_assert(!click_chunk_is_valid(&click_chunk_totals, b, len));
}
END_TEST

/* Every slot of step'th slots present, from first: the binary search must
 * find each, and miss each between. */
START_TEST(test_get_binary_search_many)
{
	static const struct {
		unsigned first, step;
	} shapes[] = {{0, 1}, {0, 2}, {1, 2}, {0, 3}, {5, 7}, {127, 1}, {0, 127}, {64, 64}};
	unsigned char b[CLICK_CHUNK_MAX];
	unsigned first = shapes[_i].first, step = shapes[_i].step;
	size_t len = 0, nrec = 0;

	for (unsigned s = first; s < CLICK_CHUNK_LINKS; s += step) {
		int64_t v[3] = {(int64_t)s * 1000 + 1, -(int64_t)s, (int64_t)s << 40};
		len = put_rec(&click_chunk_totals, b, len, s, v);
		nrec++;
	}
	ck_assert_uint_eq(len, nrec * TOTALS_RS);
	ck_assert(click_chunk_is_valid(&click_chunk_totals, b, len));
	for (unsigned s = 0; s < CLICK_CHUNK_LINKS; s++) {
		bool present = s >= first && (s - first) % step == 0;
		int64_t want[3] = {0, 0, LINK_NO_TIME};
		if (present) {
			want[0] = (int64_t)s * 1000 + 1;
			want[1] = -(int64_t)s;
			want[2] = (int64_t)s << 40;
		}
		check_get(&click_chunk_totals, b, len, s, want);
	}
}
END_TEST

START_TEST(test_apply_writes_the_format)
{
	unsigned char out[CLICK_CHUNK_MAX];
	struct click_chunk_change c[2] = {change(9, 0x0102030405060708LL, -2, 0), change(120, 1, 0, 0)};
	size_t out_len = 12345;
	static const unsigned char want[2 * DAY_RS] = {
	    9,   0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    120, 1,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
	};

	ck_assert_int_eq(click_chunk_apply(&click_chunk_day, NULL, 0, c, 2, false, out, &out_len), CLICK_CHUNK_OK);
	ck_assert_uint_eq(out_len, sizeof(want));
	ck_assert_mem_eq(out, want, sizeof(want));
}
END_TEST

START_TEST(test_apply_add_and_latest)
{
	unsigned char b[CLICK_CHUNK_MAX], out[CLICK_CHUNK_MAX];
	const int64_t r5[3] = {3, 1, 1000}, r9[3] = {10, 0, 5000};
	struct click_chunk_change c[3] = {
	    change(2, 1, 0, 700),  /* new record, before the stored ones */
	    change(5, 2, 1, 900),  /* older time: last_click_at stays 1000 */
	    change(9, 1, 4, 6000), /* newer time: last_click_at becomes 6000 */
	};
	size_t len = 0, out_len = 0;

	len = put_rec(&click_chunk_totals, b, len, 5, r5);
	len = put_rec(&click_chunk_totals, b, len, 9, r9);
	ck_assert_int_eq(click_chunk_apply(&click_chunk_totals, b, len, c, 3, false, out, &out_len), CLICK_CHUNK_OK);
	ck_assert_uint_eq(out_len, 3 * TOTALS_RS);
	ck_assert(click_chunk_is_valid(&click_chunk_totals, out, out_len));
	check_get(&click_chunk_totals, out, out_len, 2, (const int64_t[]){1, 0, 700});
	check_get(&click_chunk_totals, out, out_len, 5, (const int64_t[]){5, 2, 1000});
	check_get(&click_chunk_totals, out, out_len, 9, (const int64_t[]){11, 4, 6000});
	check_get(&click_chunk_totals, out, out_len, 0, (const int64_t[]){0, 0, LINK_NO_TIME});
	/* Records come out in slot order. */
	ck_assert_uint_eq(out[0], 2);
	ck_assert_uint_eq(out[TOTALS_RS], 5);
	ck_assert_uint_eq(out[2 * TOTALS_RS], 9);
	/* The input blob is only read. */
	check_get(&click_chunk_totals, b, len, 5, r5);
	check_get(&click_chunk_totals, b, len, 9, r9);
}
END_TEST

START_TEST(test_apply_new_record_after_stored)
{
	unsigned char b[CLICK_CHUNK_MAX], out[CLICK_CHUNK_MAX];
	const int64_t r0[2] = {4, 4};
	struct click_chunk_change c[2] = {change(64, 1, 0, 0), change(127, 0, 2, 0)};
	size_t len = put_rec(&click_chunk_day, b, 0, 0, r0), out_len = 0;

	ck_assert_int_eq(click_chunk_apply(&click_chunk_day, b, len, c, 2, false, out, &out_len), CLICK_CHUNK_OK);
	ck_assert_uint_eq(out_len, 3 * DAY_RS);
	ck_assert_uint_eq(out[0], 0);
	ck_assert_uint_eq(out[DAY_RS], 64);
	ck_assert_uint_eq(out[2 * DAY_RS], 127);
	check_get(&click_chunk_day, out, out_len, 0, (const int64_t[]){4, 4});
	check_get(&click_chunk_day, out, out_len, 64, (const int64_t[]){1, 0});
	check_get(&click_chunk_day, out, out_len, 127, (const int64_t[]){0, 2});
}
END_TEST

START_TEST(test_apply_no_changes_copies)
{
	unsigned char b[CLICK_CHUNK_MAX], out[CLICK_CHUNK_MAX];
	size_t len = 0, out_len = 1;

	ck_assert_int_eq(click_chunk_apply(&click_chunk_totals, NULL, 0, NULL, 0, false, out, &out_len),
	                 CLICK_CHUNK_OK);
	ck_assert_uint_eq(out_len, 0);
	len = put_rec(&click_chunk_totals, b, len, 1, (const int64_t[]){1, 2, 3});
	len = put_rec(&click_chunk_totals, b, len, 77, (const int64_t[]){0, 0, 42});
	ck_assert_int_eq(click_chunk_apply(&click_chunk_totals, b, len, NULL, 0, true, out, &out_len), CLICK_CHUNK_OK);
	ck_assert_uint_eq(out_len, len);
	ck_assert_mem_eq(out, b, len);
}
END_TEST

START_TEST(test_apply_add_to_empty_values_drops)
{
	unsigned char b[CLICK_CHUNK_MAX], out[CLICK_CHUNK_MAX];
	struct click_chunk_change c[2] = {change(3, -3, 0, 0), change(4, 0, 0, LINK_NO_TIME)};
	size_t len = put_rec(&click_chunk_day, b, 0, 3, (const int64_t[]){3, 0}), out_len = 99;

	/* Slot 3 comes back to {0, 0}; slot 4 gets nothing: no record left. */
	ck_assert_int_eq(click_chunk_apply(&click_chunk_day, b, len, c, 2, false, out, &out_len), CLICK_CHUNK_OK);
	ck_assert_uint_eq(out_len, 0);
	/* Adding the totals' empty values to nothing makes no record either. */
	c[0] = change(10, 0, 0, LINK_NO_TIME);
	ck_assert_int_eq(click_chunk_apply(&click_chunk_totals, NULL, 0, c, 1, false, out, &out_len), CLICK_CHUNK_OK);
	ck_assert_uint_eq(out_len, 0);
}
END_TEST

START_TEST(test_apply_set_replaces)
{
	unsigned char b[CLICK_CHUNK_MAX], out[CLICK_CHUNK_MAX];
	size_t len = 0, out_len = 0;
	struct click_chunk_change c[3] = {
	    change(5, 1, 0, 7), /* replaces, though 7 is older than 1000 */
	    change(6, 2, 2, 8), /* a new record */
	    change(9, 0, 0, LINK_NO_TIME),
	};

	len = put_rec(&click_chunk_totals, b, len, 5, (const int64_t[]){3, 1, 1000});
	len = put_rec(&click_chunk_totals, b, len, 9, (const int64_t[]){10, 0, 5000});
	len = put_rec(&click_chunk_totals, b, len, 20, (const int64_t[]){1, 1, 1});
	ck_assert_int_eq(click_chunk_apply(&click_chunk_totals, b, len, c, 3, true, out, &out_len), CLICK_CHUNK_OK);
	/* 5 replaced, 6 added, 9 set to the empty values and dropped, 20 kept. */
	ck_assert_uint_eq(out_len, 3 * TOTALS_RS);
	ck_assert_uint_eq(out[0], 5);
	ck_assert_uint_eq(out[TOTALS_RS], 6);
	ck_assert_uint_eq(out[2 * TOTALS_RS], 20);
	check_get(&click_chunk_totals, out, out_len, 5, (const int64_t[]){1, 0, 7});
	check_get(&click_chunk_totals, out, out_len, 6, (const int64_t[]){2, 2, 8});
	check_get(&click_chunk_totals, out, out_len, 9, (const int64_t[]){0, 0, LINK_NO_TIME});
	check_get(&click_chunk_totals, out, out_len, 20, (const int64_t[]){1, 1, 1});
}
END_TEST

START_TEST(test_apply_set_empty_leaves_nothing)
{
	unsigned char b[CLICK_CHUNK_MAX], out[CLICK_CHUNK_MAX];
	size_t len = 0, out_len = 77;
	struct click_chunk_change c[3] = {change(0, 0, 0, 0), change(1, 0, 0, 0), change(127, 0, 0, 0)};

	len = put_rec(&click_chunk_day, b, len, 0, (const int64_t[]){1, 0});
	len = put_rec(&click_chunk_day, b, len, 127, (const int64_t[]){0, 9});
	memset(out, 0xaa, sizeof(out));
	ck_assert_int_eq(click_chunk_apply(&click_chunk_day, b, len, c, 3, true, out, &out_len), CLICK_CHUNK_OK);
	ck_assert_uint_eq(out_len, 0);
	check_get(&click_chunk_day, out, out_len, 0, (const int64_t[]){0, 0});
	check_get(&click_chunk_day, out, out_len, 127, (const int64_t[]){0, 0});
}
END_TEST

START_TEST(test_apply_repeated_slots_fold_in_order)
{
	unsigned char b[CLICK_CHUNK_MAX], out[CLICK_CHUNK_MAX];
	size_t len = 0, out_len = 0;
	struct click_chunk_change add[5] = {
	    change(2, 1, 0, 300), change(2, 2, 1, 100), change(2, 3, 0, 200), change(8, 1, 1, 5), change(8, 1, 1, 4),
	};
	struct click_chunk_change set[3] = {change(2, 1, 1, 1), change(2, 9, 4, 50), change(2, 6, 0, 40)};
	/* Held at INT64_MAX, then lowered: in order, not summed first. */
	struct click_chunk_change order[2] = {change(1, 5, 0, 0), change(1, -10, 0, 0)};

	len = put_rec(&click_chunk_totals, b, len, 2, (const int64_t[]){10, 10, 250});
	ck_assert_int_eq(click_chunk_apply(&click_chunk_totals, b, len, add, 5, false, out, &out_len), CLICK_CHUNK_OK);
	ck_assert_uint_eq(out_len, 2 * TOTALS_RS);
	check_get(&click_chunk_totals, out, out_len, 2, (const int64_t[]){16, 11, 300});
	check_get(&click_chunk_totals, out, out_len, 8, (const int64_t[]){2, 2, 5});

	ck_assert_int_eq(click_chunk_apply(&click_chunk_totals, b, len, set, 3, true, out, &out_len), CLICK_CHUNK_OK);
	ck_assert_uint_eq(out_len, TOTALS_RS);
	check_get(&click_chunk_totals, out, out_len, 2, (const int64_t[]){6, 0, 40}); /* the last wins */

	len = put_rec(&click_chunk_day, b, 0, 1, (const int64_t[]){INT64_MAX - 1, 0});
	ck_assert_int_eq(click_chunk_apply(&click_chunk_day, b, len, order, 2, false, out, &out_len), CLICK_CHUNK_OK);
	ck_assert_uint_eq(out_len, DAY_RS);
	check_get(&click_chunk_day, out, out_len, 1, (const int64_t[]){INT64_MAX - 10, 0});
}
END_TEST

START_TEST(test_apply_add_saturates)
{
	unsigned char b[CLICK_CHUNK_MAX], out[CLICK_CHUNK_MAX];
	size_t len = 0, out_len = 0;
	struct click_chunk_change c[4] = {
	    change(0, 5, INT64_MAX, INT64_MAX),
	    change(1, INT64_MAX, 1, 0),
	    change(2, 1, 0, 0),
	    change(3, INT64_MAX, INT64_MAX, LINK_NO_TIME),
	};

	len = put_rec(&click_chunk_totals, b, len, 0, (const int64_t[]){INT64_MAX - 1, INT64_MAX, 10});
	len = put_rec(&click_chunk_totals, b, len, 1, (const int64_t[]){1, INT64_MAX - 1, 10});
	len = put_rec(&click_chunk_totals, b, len, 2, (const int64_t[]){INT64_MAX, 0, 10});
	ck_assert_int_eq(click_chunk_apply(&click_chunk_totals, b, len, c, 4, false, out, &out_len), CLICK_CHUNK_OK);
	ck_assert_uint_eq(out_len, 4 * TOTALS_RS);
	check_get(&click_chunk_totals, out, out_len, 0, (const int64_t[]){INT64_MAX, INT64_MAX, INT64_MAX});
	check_get(&click_chunk_totals, out, out_len, 1, (const int64_t[]){INT64_MAX, INT64_MAX, 10});
	check_get(&click_chunk_totals, out, out_len, 2, (const int64_t[]){INT64_MAX, 0, 10});
	check_get(&click_chunk_totals, out, out_len, 3, (const int64_t[]){INT64_MAX, INT64_MAX, LINK_NO_TIME});
	/* Just below the bound still adds exactly. */
	c[0] = change(0, INT64_MAX - 3, 0, 0);
	len = put_rec(&click_chunk_day, b, 0, 0, (const int64_t[]){3, 0});
	ck_assert_int_eq(click_chunk_apply(&click_chunk_day, b, len, c, 1, false, out, &out_len), CLICK_CHUNK_OK);
	check_get(&click_chunk_day, out, out_len, 0, (const int64_t[]){INT64_MAX, 0});
	/* A negative change held the other way, at INT64_MIN, never wrapped. */
	c[0] = change(0, -10, INT64_MIN, 0);
	len = put_rec(&click_chunk_day, b, 0, 0, (const int64_t[]){INT64_MIN + 1, -5});
	ck_assert_int_eq(click_chunk_apply(&click_chunk_day, b, len, c, 1, false, out, &out_len), CLICK_CHUNK_OK);
	check_get(&click_chunk_day, out, out_len, 0, (const int64_t[]){INT64_MIN, INT64_MIN});
}
END_TEST

/* Corrupt blobs of the totals kind, each as a builder of b: its length. */
static size_t corrupt_blob(int which, unsigned char *b)
{
	const int64_t v[3] = {1, 2, 3};
	size_t len = 0;

	switch (which) {
	case 0: /* a lone byte */
		b[0] = 0;
		return 1;
	case 1: /* one byte short of a record */
		len = put_rec(&click_chunk_totals, b, 0, 4, v);
		return len - 1;
	case 2: /* one byte over */
		len = put_rec(&click_chunk_totals, b, 0, 4, v);
		b[len] = 5;
		return len + 1;
	case 3: /* slot 128 */
		return put_rec(&click_chunk_totals, b, 0, 128, v);
	case 4: /* slot 255, after a good record */
		len = put_rec(&click_chunk_totals, b, 0, 0, v);
		return put_rec(&click_chunk_totals, b, len, 255, v);
	case 5: /* a slot twice */
		len = put_rec(&click_chunk_totals, b, 0, 5, v);
		return put_rec(&click_chunk_totals, b, len, 5, v);
	case 6: /* slots going down */
		len = put_rec(&click_chunk_totals, b, 0, 6, v);
		return put_rec(&click_chunk_totals, b, len, 5, v);
	case 7: /* down at the end of many good ones */
		for (unsigned s = 10; s < 100; s++)
			len = put_rec(&click_chunk_totals, b, len, s, v);
		return put_rec(&click_chunk_totals, b, len, 50, v);
	case 8: /* too long: all 128 slots, then one more */
		for (unsigned s = 0; s < CLICK_CHUNK_LINKS; s++)
			len = put_rec(&click_chunk_totals, b, len, s, v);
		return put_rec(&click_chunk_totals, b, len, 127, v);
	case 9: /* too long: all 128 slots, then a whole extra blob's worth */
		for (unsigned s = 0; s < CLICK_CHUNK_LINKS; s++)
			len = put_rec(&click_chunk_totals, b, len, s, v);
		for (unsigned s = 0; s < CLICK_CHUNK_LINKS; s++)
			len = put_rec(&click_chunk_totals, b, len, s, v);
		return len;
	default: /* a day blob: 17 bytes */
		return put_rec(&click_chunk_day, b, 0, 1, v);
	}
}
#define CORRUPT_BLOBS 11

START_TEST(test_corrupt_blob_rejected)
{
	static unsigned char b[3 * CLICK_CHUNK_MAX];
	unsigned char out[CLICK_CHUNK_MAX], before[CLICK_CHUNK_MAX];
	struct click_chunk_change c[1] = {change(4, 1, 1, 1)};
	size_t len = corrupt_blob(_i, b), out_len = 4242;
	int64_t v[CLICK_CHUNK_FIELDS_MAX];

	ck_assert(!click_chunk_is_valid(&click_chunk_totals, b, len));
	for (unsigned slot = 0; slot < CLICK_CHUNK_LINKS; slot += 9) {
		fill_sentinel(v);
		ck_assert_int_eq(click_chunk_get(&click_chunk_totals, b, len, slot, v), CLICK_CHUNK_CORRUPT);
		ck_assert(v[0] == SENTINEL && v[1] == SENTINEL && v[2] == SENTINEL);
	}
	memset(out, 0xaa, sizeof(out));
	memcpy(before, out, sizeof(out));
	ck_assert_int_eq(click_chunk_apply(&click_chunk_totals, b, len, c, 1, false, out, &out_len),
	                 CLICK_CHUNK_CORRUPT);
	ck_assert_int_eq(click_chunk_apply(&click_chunk_totals, b, len, c, 1, true, out, &out_len),
	                 CLICK_CHUNK_CORRUPT);
	ck_assert_int_eq(click_chunk_apply(&click_chunk_totals, b, len, NULL, 0, false, out, &out_len),
	                 CLICK_CHUNK_CORRUPT);
	ck_assert_uint_eq(out_len, 4242);
	ck_assert_mem_eq(out, before, sizeof(out));
}
END_TEST

START_TEST(test_corrupt_day_blob_rejected)
{
	unsigned char b[2 * CLICK_CHUNK_MAX], out[CLICK_CHUNK_MAX];
	size_t len = 0, out_len = 5;
	int64_t v[CLICK_CHUNK_FIELDS_MAX];

	/* 25 bytes: a totals record is no day record (25 % 17 != 0). */
	len = put_rec(&click_chunk_totals, b, 0, 1, (const int64_t[]){1, 2, 3});
	ck_assert(click_chunk_is_valid(&click_chunk_totals, b, len));
	ck_assert(!click_chunk_is_valid(&click_chunk_day, b, len));
	ck_assert_int_eq(click_chunk_get(&click_chunk_day, b, len, 1, v), CLICK_CHUNK_CORRUPT);
	ck_assert_int_eq(click_chunk_apply(&click_chunk_day, b, len, NULL, 0, false, out, &out_len),
	                 CLICK_CHUNK_CORRUPT);
	ck_assert_uint_eq(out_len, 5);
	/* 129 day records, slots 0..127 then 0 again. */
	len = 0;
	for (unsigned s = 0; s <= CLICK_CHUNK_LINKS; s++)
		len = put_rec(&click_chunk_day, b, len, s % CLICK_CHUNK_LINKS, (const int64_t[]){1, 1});
	ck_assert_uint_eq(len, 129 * DAY_RS);
	ck_assert(!click_chunk_is_valid(&click_chunk_day, b, len));
	ck_assert(click_chunk_is_valid(&click_chunk_day, b, len - DAY_RS));
	ck_assert_int_eq(click_chunk_get(&click_chunk_day, b, len, 0, v), CLICK_CHUNK_CORRUPT);
}
END_TEST

START_TEST(test_valid_blobs_accepted)
{
	static unsigned char b[CLICK_CHUNK_MAX];
	size_t len = 0;

	len = put_rec(&click_chunk_totals, b, 0, 0, (const int64_t[]){1, 0, 0});
	ck_assert(click_chunk_is_valid(&click_chunk_totals, b, len));
	len = put_rec(&click_chunk_totals, b, 0, 127, (const int64_t[]){1, 0, 0});
	ck_assert(click_chunk_is_valid(&click_chunk_totals, b, len));
	len = 0;
	for (unsigned s = 0; s < CLICK_CHUNK_LINKS; s++)
		len = put_rec(&click_chunk_totals, b, len, s, (const int64_t[]){s, s, s});
	ck_assert_uint_eq(len, CLICK_CHUNK_MAX);
	ck_assert(click_chunk_is_valid(&click_chunk_totals, b, len));
	/* Every prefix of whole records is a blob too. */
	for (size_t l = 0; l <= len; l += TOTALS_RS)
		ck_assert(click_chunk_is_valid(&click_chunk_totals, b, l));
}
END_TEST

START_TEST(test_changes_out_of_order_rejected)
{
	unsigned char b[CLICK_CHUNK_MAX], out[CLICK_CHUNK_MAX], before[CLICK_CHUNK_MAX];
	struct click_chunk_change down[3] = {change(3, 1, 0, 0), change(5, 1, 0, 0), change(4, 1, 0, 0)};
	struct click_chunk_change big[2] = {change(3, 1, 0, 0), change(128, 1, 0, 0)};
	struct click_chunk_change huge[1] = {change(UINT_MAX, 1, 0, 0)};
	size_t len = put_rec(&click_chunk_day, b, 0, 4, (const int64_t[]){1, 1}), out_len = 31;

	memset(out, 0x55, sizeof(out));
	memcpy(before, out, sizeof(out));
	for (int set = 0; set < 2; set++) {
		ck_assert_int_eq(click_chunk_apply(&click_chunk_day, b, len, down, 3, set, out, &out_len),
		                 CLICK_CHUNK_CORRUPT);
		ck_assert_int_eq(click_chunk_apply(&click_chunk_day, NULL, 0, down, 3, set, out, &out_len),
		                 CLICK_CHUNK_CORRUPT);
		ck_assert_int_eq(click_chunk_apply(&click_chunk_day, b, len, big, 2, set, out, &out_len),
		                 CLICK_CHUNK_CORRUPT);
		ck_assert_int_eq(click_chunk_apply(&click_chunk_day, b, len, huge, 1, set, out, &out_len),
		                 CLICK_CHUNK_CORRUPT);
	}
	ck_assert_uint_eq(out_len, 31);
	ck_assert_mem_eq(out, before, sizeof(out));
	/* In order (a slot repeated) they are fine. */
	down[2].slot = 5;
	ck_assert_int_eq(click_chunk_apply(&click_chunk_day, b, len, down, 3, false, out, &out_len), CLICK_CHUNK_OK);
	ck_assert_uint_eq(out_len, 3 * DAY_RS);
	check_get(&click_chunk_day, out, out_len, 5, (const int64_t[]){2, 0});
}
END_TEST

/* Every record that apply writes comes back from next, in order; applying
 * them with set onto nothing writes the same bytes again. */
START_TEST(test_next_round_trip)
{
	const struct click_chunk_kind *k = _i == 0 ? &click_chunk_totals : &click_chunk_day;
	unsigned char out[CLICK_CHUNK_MAX], again[CLICK_CHUNK_MAX];
	struct click_chunk_change c[CLICK_CHUNK_LINKS], back[CLICK_CHUNK_LINKS];
	size_t n = 0, out_len = 0, again_len = 0, pos = 0, m = 0;
	unsigned slot = 999;
	int64_t v[CLICK_CHUNK_FIELDS_MAX] = {0, 0, 0};

	for (unsigned s = 1; s < CLICK_CHUNK_LINKS; s += 3)
		c[n++] = change(s, (int64_t)s * 11, (int64_t)s - 60, (int64_t)s * 86400);
	ck_assert_int_eq(click_chunk_apply(k, NULL, 0, c, n, true, out, &out_len), CLICK_CHUNK_OK);
	ck_assert_uint_eq(out_len, n * rec_size(k));
	while (click_chunk_next(k, out, out_len, &pos, &slot, v)) {
		ck_assert_uint_lt(m, n);
		ck_assert_uint_eq(slot, c[m].slot);
		ck_assert_uint_eq(pos, (m + 1) * rec_size(k));
		ck_assert_uint_eq(out[m * rec_size(k)], slot);
		for (int f = 0; f < k->fields; f++) {
			ck_assert(v[f] == c[m].v[f]);
			ck_assert(le64(out + m * rec_size(k) + 1 + 8 * (size_t)f) == v[f]);
		}
		back[m] = change(slot, v[0], v[1], v[2]);
		m++;
	}
	ck_assert_uint_eq(m, n);
	ck_assert_uint_eq(pos, out_len);
	ck_assert(!click_chunk_next(k, out, out_len, &pos, &slot, v)); /* and stays at the end */
	ck_assert_uint_eq(pos, out_len);
	ck_assert_int_eq(click_chunk_apply(k, NULL, 0, back, m, true, again, &again_len), CLICK_CHUNK_OK);
	ck_assert_uint_eq(again_len, out_len);
	ck_assert_mem_eq(again, out, out_len);
	/* An empty blob has no records. */
	pos = 0;
	ck_assert(!click_chunk_next(k, out, 0, &pos, &slot, v));
	ck_assert_uint_eq(pos, 0);
}
END_TEST

Suite *click_chunk_suite(void)
{
	Suite *s = suite_create("click_chunk");
	TCase *tc = tcase_create("codec");

	tcase_add_test(tc, test_kinds);
	tcase_add_test(tc, test_get_empty_blob);
	tcase_add_test(tc, test_get_present_and_absent);
	tcase_add_test(tc, test_get_day_kind);
	tcase_add_loop_test(tc, test_get_binary_search_many, 0, 8);
	tcase_add_test(tc, test_apply_writes_the_format);
	tcase_add_test(tc, test_apply_add_and_latest);
	tcase_add_test(tc, test_apply_new_record_after_stored);
	tcase_add_test(tc, test_apply_no_changes_copies);
	tcase_add_test(tc, test_apply_add_to_empty_values_drops);
	tcase_add_test(tc, test_apply_set_replaces);
	tcase_add_test(tc, test_apply_set_empty_leaves_nothing);
	tcase_add_test(tc, test_apply_repeated_slots_fold_in_order);
	tcase_add_test(tc, test_apply_add_saturates);
	tcase_add_loop_test(tc, test_corrupt_blob_rejected, 0, CORRUPT_BLOBS);
	tcase_add_test(tc, test_corrupt_day_blob_rejected);
	tcase_add_test(tc, test_valid_blobs_accepted);
	tcase_add_test(tc, test_changes_out_of_order_rejected);
	tcase_add_loop_test(tc, test_next_round_trip, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}
