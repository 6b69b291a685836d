/*
 * Unit tests of link_cache.c against a reference model: for each code, the
 * newest record put since the last invalidation. Whatever the eviction,
 * link_cache_get() returns either nothing or exactly that record (never an
 * older one, another code's, or a torn mix of two), link_cache_count()
 * equals the number of codes get() finds, the records found are the newest
 * ones (the oldest go first), and a record put recently enough is always
 * found. Every record is made from (code number, version), so a mix-up
 * shows in some field; the model only needs the version and url length.
 */
#include <check.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link_cache.h"

static const int statuses[] = {301, 302, 303, 307, 308};

/* The code of number n: n in base 36, padded with '_' to a length of 1 to
 * 64 that varies with n. Distinct numbers give distinct codes. */
static void code_text(unsigned n, char code[LINK_CODE_MAX + 1])
{
	char digits[16];
	size_t nd = 0, len, i;

	do {
		digits[nd++] = "0123456789abcdefghijklmnopqrstuvwxyz"[n % 36];
		n /= 36;
	} while (n > 0);
	len = 1 + (size_t)(nd * 13 + digits[0] * 7) % LINK_CODE_MAX;
	if (len < nd)
		len = nd;
	for (i = 0; i < nd; i++)
		code[i] = digits[nd - 1 - i];
	for (; i < len; i++)
		code[i] = '_';
	code[len] = '\0';
}

/* The record (n, ver) with a url of url_len bytes, and values other than
 * link_init's in the fields the cache does not keep. */
static void rec_make(struct link *l, unsigned n, uint32_t ver, size_t url_len)
{
	char head[64];
	size_t hl;

	link_init(l);
	l->id = ((int64_t)n << 32) | ver;
	code_text(n, l->code);
	hl = (size_t)snprintf(head, sizeof(head), "https://h%u.example/%u/", n, ver);
	memset(l->url, 'a' + (int)((n * 31 + ver) % 26), url_len);
	memcpy(l->url, head, hl < url_len ? hl : url_len);
	l->url[url_len - 1] = (char)('A' + ver % 26);
	l->url[url_len] = '\0';
	l->status = statuses[ver % 5];
	l->forward_query = (ver & 1) != 0;
	l->disabled = (ver & 2) != 0;
	l->expires_at = ver % 3 == 0 ? LINK_NO_TIME : 1700000000 + (int64_t)ver;
	l->max_clicks = ver % 4 == 0 ? LINK_NO_LIMIT : (int64_t)ver * 5;
	l->clicks = (int64_t)ver * 3 + n;
	l->created_at = 1600000000;
	l->updated_at = 1600000001;
	l->bot_clicks = 77;
	l->last_click_at = 1600000002;
}

/* Fails the test when cond is false. Unlike ck_assert it records nothing
 * when cond holds, which matters in loops of millions of checks. */
#define REQUIRE(cond, ...)                      \
	do {                                    \
		if (!(cond))                    \
			ck_abort_msg(__VA_ARGS__); \
	} while (0)

/* Checks that got is want as the cache returns it: the kept fields equal,
 * the others at link_init's values. */
static void assert_cached(const struct link *got, const struct link *want)
{
	REQUIRE(got->id == want->id, "%s: id %lld, want %lld", want->code, (long long)got->id,
		(long long)want->id);
	REQUIRE(strcmp(got->code, want->code) == 0, "code %s, want %s", got->code, want->code);
	REQUIRE(strcmp(got->url, want->url) == 0, "%s: url of %zu bytes differs from the %zu put", want->code,
		strlen(got->url), strlen(want->url));
	REQUIRE(got->status == want->status, "%s: status %d, want %d", want->code, got->status, want->status);
	REQUIRE(got->forward_query == want->forward_query, "%s: forward_query", want->code);
	REQUIRE(got->disabled == want->disabled, "%s: disabled", want->code);
	REQUIRE(got->expires_at == want->expires_at, "%s: expires_at %lld, want %lld", want->code,
		(long long)got->expires_at, (long long)want->expires_at);
	REQUIRE(got->max_clicks == want->max_clicks, "%s: max_clicks %lld, want %lld", want->code,
		(long long)got->max_clicks, (long long)want->max_clicks);
	REQUIRE(got->clicks == want->clicks, "%s: clicks %lld, want %lld", want->code, (long long)got->clicks,
		(long long)want->clicks);
	REQUIRE(got->created_at == 0 && got->updated_at == 0 && got->bot_clicks == 0 &&
			got->last_click_at == LINK_NO_TIME,
		"%s: a field the cache does not keep is not link_init's", want->code);
}

/* Scratch links: struct link holds 8 KB of url, too much for the stack of
 * a loop that keeps several. */
static struct link *la, *lb;

static void links_setup(void)
{
	la = malloc(sizeof(*la));
	lb = malloc(sizeof(*lb));
	ck_assert(la != NULL && lb != NULL);
}

static void links_teardown(void)
{
	free(la);
	free(lb);
}

/* ---- the reference model ---- */

#define RECENT 100 /* puts remembered for the "recent ones are found" check */

struct model {
	struct link_cache *c;
	size_t bytes;    /* asked of link_cache_new */
	unsigned ncodes; /* code numbers 0..ncodes-1 */
	uint32_t *ver;   /* newest version put since invalidation; 0: none */
	uint32_t *url_len;
	uint64_t *seq; /* put number of that version */
	uint64_t nput;
	unsigned recent_code[RECENT]; /* the last puts, newest at (nput-1) % RECENT */
	uint32_t recent_len[RECENT];  /* and their url lengths */
	uint32_t next_ver;
};

static void model_init(struct model *m, size_t bytes, unsigned ncodes)
{
	m->c = link_cache_new(bytes);
	ck_assert_ptr_nonnull(m->c);
	m->bytes = bytes < LINK_CACHE_MIN_BYTES ? LINK_CACHE_MIN_BYTES : bytes;
	m->ncodes = ncodes;
	m->ver = calloc(ncodes, sizeof(*m->ver));
	m->url_len = calloc(ncodes, sizeof(*m->url_len));
	m->seq = calloc(ncodes, sizeof(*m->seq));
	ck_assert(m->ver != NULL && m->url_len != NULL && m->seq != NULL);
	m->nput = 0;
	m->next_ver = 1;
}

static void model_free(struct model *m)
{
	link_cache_free(m->c);
	free(m->ver);
	free(m->url_len);
	free(m->seq);
}

static void model_put(struct model *m, unsigned n, size_t url_len)
{
	uint32_t ver = m->next_ver++;

	rec_make(la, n, ver, url_len);
	link_cache_put(m->c, la);
	m->ver[n] = ver;
	m->url_len[n] = (uint32_t)url_len;
	m->seq[n] = ++m->nput;
	m->recent_code[(m->nput - 1) % RECENT] = n;
	m->recent_len[(m->nput - 1) % RECENT] = (uint32_t)url_len;
}

/* Gets code n and checks it against the model; returns whether found. */
static bool model_get(struct model *m, unsigned n)
{
	char code[LINK_CODE_MAX + 1];
	bool found;

	code_text(n, code);
	memset(lb, 0x5a, offsetof(struct link, url) + 16);
	found = link_cache_get(m->c, code, lb);
	if (!found)
		return false;
	REQUIRE(m->ver[n] != 0, "code %s found, none put since invalidation", code);
	rec_make(la, n, m->ver[n], m->url_len[n]);
	assert_cached(lb, la);
	return true;
}

static void model_invalidate(struct model *m)
{
	link_cache_invalidate(m->c);
	memset(m->ver, 0, m->ncodes * sizeof(*m->ver));
	memset(m->seq, 0, m->ncodes * sizeof(*m->seq));
}

/*
 * Gets every code and checks what the cache promises of them together:
 * count() is the number found; the found records are the newest (every
 * current record put after one found is found too); and the current
 * records among the last RECENT puts are all found as long as, with a
 * generous 128 bytes of overhead each, they take at most half the cache.
 */
static void model_scan(struct model *m)
{
	uint64_t min_found = UINT64_MAX, max_missing = 0, current = 0, found = 0, sum = 0;
	unsigned n, k;

	for (n = 0; n < m->ncodes; n++) {
		bool f = model_get(m, n);
		if (m->ver[n] == 0)
			continue;
		current++;
		if (f) {
			found++;
			if (m->seq[n] < min_found)
				min_found = m->seq[n];
		} else if (m->seq[n] > max_missing) {
			max_missing = m->seq[n];
		}
	}
	REQUIRE(link_cache_count(m->c) == found, "count %zu, %llu found", link_cache_count(m->c),
		(unsigned long long)found);
	REQUIRE(found <= current, "more found than put");
	REQUIRE(max_missing < min_found, "put %llu missing, older put %llu found",
		      (unsigned long long)max_missing, (unsigned long long)min_found);
	for (k = 0; k < RECENT && k < m->nput; k++) {
		uint64_t s = m->nput - k;
		n = m->recent_code[(s - 1) % RECENT];
		/* Replaced records fill the ring too: count every put's own size. */
		sum += 128 + LINK_CODE_MAX + m->recent_len[(s - 1) % RECENT];
		if (sum > m->bytes / 2)
			break;
		if (m->seq[n] == s)
			REQUIRE(model_get(m, n), "put %llu of %llu not found", (unsigned long long)s,
				      (unsigned long long)m->nput);
	}
}

/* ---- single behaviours ---- */

START_TEST(test_get_on_empty)
{
	struct link_cache *c = link_cache_new(LINK_CACHE_MIN_BYTES);
	char long_code[LINK_CODE_MAX + 2];

	ck_assert_ptr_nonnull(c);
	ck_assert(!link_cache_get(c, "a", la));
	ck_assert(!link_cache_get(c, "", la));
	memset(long_code, 'x', sizeof(long_code) - 1);
	long_code[sizeof(long_code) - 1] = '\0';
	ck_assert(!link_cache_get(c, long_code, la));
	ck_assert_uint_eq(link_cache_count(c), 0);
	link_cache_invalidate(c);
	ck_assert(!link_cache_get(c, "a", la));
	ck_assert_uint_eq(link_cache_count(c), 0);
	link_cache_free(c);
}
END_TEST

START_TEST(test_put_get_every_field)
{
	struct link_cache *c = link_cache_new(1 << 20);
	uint32_t ver;

	ck_assert_ptr_nonnull(c);
	/* Every combination of flags, absent and present expiry and limit. */
	for (ver = 1; ver <= 12; ver++) {
		rec_make(la, ver, ver, 40 + ver);
		link_cache_put(c, la);
		memset(lb, 0x5a, sizeof(*lb));
		ck_assert(link_cache_get(c, la->code, lb));
		assert_cached(lb, la);
	}
	ck_assert_uint_eq(link_cache_count(c), 12);
	/* Explicit values, not derived: a 307 with everything set. */
	link_init(la);
	la->id = INT64_MAX;
	snprintf(la->code, sizeof(la->code), "Abc_1-z");
	snprintf(la->url, sizeof(la->url), "https://t.example/p?a=b");
	la->status = 307;
	la->forward_query = true;
	la->disabled = true;
	la->expires_at = INT64_MIN + 1;
	la->max_clicks = 0;
	la->clicks = INT64_MAX;
	la->created_at = 5;
	la->bot_clicks = 6;
	link_cache_put(c, la);
	memset(lb, 0x5a, sizeof(*lb));
	ck_assert(link_cache_get(c, "Abc_1-z", lb));
	assert_cached(lb, la);
	/* Codes are exact and case-sensitive. */
	ck_assert(!link_cache_get(c, "abc_1-z", lb));
	ck_assert(!link_cache_get(c, "Abc_1-", lb));
	ck_assert(!link_cache_get(c, "Abc_1-zz", lb));
	ck_assert_uint_eq(link_cache_count(c), 13);
	link_cache_free(c);
}
END_TEST

START_TEST(test_longest_code_and_url)
{
	struct link_cache *c = link_cache_new(1 << 20);
	size_t len;

	ck_assert_ptr_nonnull(c);
	rec_make(la, 7, 9, LINK_URL_MAX);
	memset(la->code, 'Q', LINK_CODE_MAX);
	la->code[LINK_CODE_MAX] = '\0';
	link_cache_put(c, la);
	ck_assert(link_cache_get(c, la->code, lb));
	assert_cached(lb, la);
	ck_assert_uint_eq(strlen(lb->code), LINK_CODE_MAX);
	ck_assert_uint_eq(strlen(lb->url), LINK_URL_MAX);
	/* Every url length up to the longest is kept by a 1 MB cache. */
	for (len = 1; len <= LINK_URL_MAX; len += 97) {
		rec_make(la, (unsigned)len, 1, len);
		link_cache_put(c, la);
		ck_assert(link_cache_get(c, la->code, lb));
		assert_cached(lb, la);
	}
	link_cache_free(c);
}
END_TEST

/*
 * In the smallest cache a url longer than an eighth of its ring is not
 * stored. The ring is most of LINK_CACHE_MIN_BYTES (the index takes about a
 * tenth), so the longest url stored lies between 7,000 bytes and an eighth
 * of LINK_CACHE_MIN_BYTES; every shorter url is stored and no longer one.
 */
START_TEST(test_url_longer_than_an_eighth_is_not_stored)
{
	struct link_cache *c = link_cache_new(LINK_CACHE_MIN_BYTES);
	size_t len, longest = 0;
	bool stored;

	ck_assert_ptr_nonnull(c);
	rec_make(la, 1, 1, LINK_URL_MAX);
	link_cache_put(c, la);
	ck_assert(!link_cache_get(c, la->code, lb));
	ck_assert_uint_eq(link_cache_count(c), 0);
	rec_make(la, 1, 1, LINK_CACHE_MIN_BYTES / 8);
	link_cache_put(c, la);
	ck_assert(!link_cache_get(c, la->code, lb));
	ck_assert_uint_eq(link_cache_count(c), 0);
	for (len = 6000; len <= LINK_CACHE_MIN_BYTES / 8; len++) {
		/* Always code number 1, so the record size moves with len only. */
		rec_make(la, 1, (uint32_t)len, len);
		link_cache_put(c, la);
		stored = link_cache_get(c, la->code, lb);
		if (stored) {
			assert_cached(lb, la);
			ck_assert_msg(longest == len - 1 || len == 6000, "url of %zu stored, of %zu not", len,
				      longest + 1);
			longest = len;
		}
		ck_assert_uint_eq(link_cache_count(c), stored);
		link_cache_invalidate(c);
	}
	ck_assert_uint_ge(longest, 7000);
	ck_assert_uint_lt(longest, LINK_CACHE_MIN_BYTES / 8);
	/* Both sides once more, in a fresh cache. */
	link_cache_free(c);
	c = link_cache_new(LINK_CACHE_MIN_BYTES);
	ck_assert_ptr_nonnull(c);
	rec_make(la, 1, 3, longest + 1);
	link_cache_put(c, la);
	ck_assert(!link_cache_get(c, la->code, lb));
	rec_make(la, 1, 4, longest);
	link_cache_put(c, la);
	ck_assert(link_cache_get(c, la->code, lb));
	assert_cached(lb, la);
	ck_assert_uint_eq(link_cache_count(c), 1);
	link_cache_free(c);
}
END_TEST

START_TEST(test_replace)
{
	struct link_cache *c = link_cache_new(LINK_CACHE_MIN_BYTES);
	uint32_t ver;

	ck_assert_ptr_nonnull(c);
	/* Short then long then short again, so old records of every size wait
	 * in the ring behind the newest. */
	for (ver = 1; ver <= 40; ver++) {
		rec_make(la, 5, ver, ver % 2 ? 3 : 3000);
		link_cache_put(c, la);
		ck_assert(link_cache_get(c, la->code, lb));
		assert_cached(lb, la);
		ck_assert_uint_eq(link_cache_count(c), 1);
	}
	rec_make(la, 6, 1, 10);
	link_cache_put(c, la);
	ck_assert_uint_eq(link_cache_count(c), 2);
	rec_make(la, 5, 40, 3000);
	ck_assert(link_cache_get(c, la->code, lb));
	assert_cached(lb, la);
	link_cache_free(c);
}
END_TEST

/* A put too large to keep still replaces: the older record for its code is
 * not returned any more. */
START_TEST(test_too_large_put_hides_the_older_record)
{
	struct link_cache *c = link_cache_new(LINK_CACHE_MIN_BYTES);

	ck_assert_ptr_nonnull(c);
	rec_make(la, 7, 1, 20);
	link_cache_put(c, la);
	ck_assert(link_cache_get(c, la->code, lb));
	ck_assert_uint_eq(link_cache_count(c), 1);
	rec_make(la, 7, 2, LINK_URL_MAX);
	link_cache_put(c, la);
	ck_assert(!link_cache_get(c, la->code, lb));
	ck_assert_uint_eq(link_cache_count(c), 0);
	link_cache_free(c);
}
END_TEST

START_TEST(test_invalidate)
{
	struct link_cache *c = link_cache_new(1 << 20);
	unsigned n;

	ck_assert_ptr_nonnull(c);
	for (n = 0; n < 10; n++) {
		rec_make(la, n, 1, 50);
		link_cache_put(c, la);
	}
	ck_assert_uint_eq(link_cache_count(c), 10);
	link_cache_invalidate(c);
	ck_assert_uint_eq(link_cache_count(c), 0);
	for (n = 0; n < 10; n++) {
		rec_make(la, n, 1, 50);
		ck_assert(!link_cache_get(c, la->code, lb));
	}
	/* A new code after, and one of the old codes again with a new record. */
	rec_make(la, 100, 2, 60);
	link_cache_put(c, la);
	ck_assert(link_cache_get(c, la->code, lb));
	assert_cached(lb, la);
	rec_make(la, 3, 2, 70);
	link_cache_put(c, la);
	ck_assert(link_cache_get(c, la->code, lb));
	assert_cached(lb, la);
	ck_assert_uint_eq(link_cache_count(c), 2);
	for (n = 0; n < 10; n++) {
		code_text(n, la->code);
		ck_assert(link_cache_get(c, la->code, lb) == (n == 3));
	}
	/* Twice in a row, then the same old code again. */
	link_cache_invalidate(c);
	link_cache_invalidate(c);
	ck_assert_uint_eq(link_cache_count(c), 0);
	ck_assert(!link_cache_get(c, la->code, lb));
	rec_make(la, 3, 3, 80);
	link_cache_put(c, la);
	ck_assert(link_cache_get(c, la->code, lb));
	assert_cached(lb, la);
	ck_assert_uint_eq(link_cache_count(c), 1);
	link_cache_free(c);
}
END_TEST

START_TEST(test_new_zero_and_free_null)
{
	struct link_cache *c = link_cache_new(0);
	unsigned n;

	ck_assert_ptr_nonnull(c);
	for (n = 0; n < 200; n++) {
		rec_make(la, n, 1, 100);
		link_cache_put(c, la);
		ck_assert(link_cache_get(c, la->code, lb));
		assert_cached(lb, la);
	}
	ck_assert_uint_eq(link_cache_count(c), 200);
	link_cache_free(c);
	link_cache_free(NULL);
}
END_TEST

/* ---- eviction and the randomized run ---- */

static uint64_t rng_state;

static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

/*
 * Many thousands of distinct links in order into the smallest cache, in two
 * passes: urls of 1..200 bytes (the ring fills first) and of 1 byte (the
 * index fills first). After each put it is found; every 97 puts the last
 * 100 are all found; every 1,000 puts every code put so far is checked.
 */
START_TEST(test_eviction_in_order)
{
	struct model m;
	unsigned n, k, found;
	int pass;

	rng_state = 0x9e3779b97f4a7c15ULL;
	for (pass = 0; pass < 2; pass++) {
		model_init(&m, LINK_CACHE_MIN_BYTES, 20000);
		for (n = 0; n < m.ncodes; n++) {
			model_put(&m, n, pass == 0 ? 1 + rng() % 200 : 1);
			REQUIRE(model_get(&m, n), "code %u missing after its put", n);
			if (n % 97 == 96)
				for (k = n >= 99 ? n - 99 : 0; k <= n; k++)
					REQUIRE(model_get(&m, k), "pass %d: code %u missing after %u", pass, k, n);
			if (n % 1000 == 999)
				model_scan(&m);
		}
		model_scan(&m);
		for (n = 0, found = 0; n < m.ncodes; n++)
			found += model_get(&m, n);
		/* The cache did evict, and kept more than the last 100. */
		ck_assert_uint_lt(found, m.ncodes / 10);
		ck_assert_uint_gt(found, 100);
		ck_assert_uint_eq(link_cache_count(m.c), found);
		model_free(&m);
	}
}
END_TEST

/*
 * 200,000 operations with a fixed seed on 3,000 codes, half of them on 50
 * hot codes: puts with urls of 1..3000 bytes (mostly short), gets, gets of
 * codes never put or impossible, and a rare invalidation. Each get and each
 * put is checked at once, and everything every 2,000 operations.
 */
static const size_t random_sizes[] = {LINK_CACHE_MIN_BYTES, 256 * 1024, 4 * 1024 * 1024};

START_TEST(test_randomized)
{
	struct model m;
	unsigned op, n;
	char code[LINK_CODE_MAX + 2];

	rng_state = 0x2545f4914f6cdd1dULL + (uint64_t)_i;
	model_init(&m, random_sizes[_i], 3000);
	for (op = 0; op < 200000; op++) {
		uint32_t r = rng() % 1000;
		n = rng() % 2 ? rng() % 50 : rng() % m.ncodes;
		if (r < 450) {
			size_t len = rng() % 4 ? 1 + rng() % 100 : 1 + rng() % 3000;
			model_put(&m, n, len);
			REQUIRE(model_get(&m, n), "op %u: code %u missing after its put", op, n);
		} else if (r < 990) {
			model_get(&m, n);
		} else if (r < 999) {
			/* A code never put, the empty code, one too long. */
			code_text(m.ncodes + n, code);
			REQUIRE(!link_cache_get(m.c, code, lb), "op %u: %s found, never put", op, code);
			REQUIRE(!link_cache_get(m.c, "", lb), "op %u: the empty code found", op);
			memset(code, 'y', LINK_CODE_MAX + 1);
			code[LINK_CODE_MAX + 1] = '\0';
			REQUIRE(!link_cache_get(m.c, code, lb), "op %u: a code of 65 found", op);
		} else {
			model_invalidate(&m);
			REQUIRE(link_cache_count(m.c) == 0, "op %u: count %zu after invalidate", op,
				link_cache_count(m.c));
		}
		if (op % 2000 == 1999)
			model_scan(&m);
	}
	model_scan(&m);
	model_free(&m);
}
END_TEST

Suite *link_cache_suite(void)
{
	Suite *s = suite_create("link_cache");
	TCase *tc;

	tc = tcase_create("basics");
	tcase_add_checked_fixture(tc, links_setup, links_teardown);
	tcase_add_test(tc, test_get_on_empty);
	tcase_add_test(tc, test_put_get_every_field);
	tcase_add_test(tc, test_longest_code_and_url);
	tcase_add_test(tc, test_too_large_put_hides_the_older_record);
	tcase_add_test(tc, test_url_longer_than_an_eighth_is_not_stored);
	tcase_add_test(tc, test_replace);
	tcase_add_test(tc, test_invalidate);
	tcase_add_test(tc, test_new_zero_and_free_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("model");
	tcase_add_checked_fixture(tc, links_setup, links_teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_eviction_in_order);
	tcase_add_loop_test(tc, test_randomized, 0, (int)(sizeof(random_sizes) / sizeof(random_sizes[0])));
	suite_add_tcase(s, tc);
	return s;
}
