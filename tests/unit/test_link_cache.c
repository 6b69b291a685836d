/*
 * Unit tests of link_cache.c: single behaviours, then runs against the
 * reference model of tests/support/link_cache_model.h (for each code, the
 * newest record put since the last invalidation; whatever the eviction,
 * link_cache_get() returns either nothing or exactly that record,
 * link_cache_count() equals the number of codes get() finds, the records
 * found are the newest ones, and a record put recently enough is always
 * found). Then readers on other threads beside one writer: every record a
 * reader gets is whole, one version of its own code, never a torn mix.
 */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link_cache.h"
#include "link_cache_model.h"

/* Fails the test when cond is false. Unlike ck_assert it records nothing
 * when cond holds, which matters in loops of millions of checks. */
#define REQUIRE(cond, ...)                                                                                             \
	do {                                                                                                           \
		if (!(cond))                                                                                           \
			ck_abort_msg(__VA_ARGS__);                                                                     \
	} while (0)

/* Checks that got is want as the cache returns it (lcm_same). */
static void assert_cached(const struct link *got, const struct link *want)
{
	char why[256];

	REQUIRE(lcm_same(got, want, why, sizeof(why)), "%s", why);
}

/* The model's failure: the test's. */
static void model_failed(const char *why)
{
	ck_abort_msg("%s", why);
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
	/* Every combination of flags, absent and present expiry. */
	for (ver = 1; ver <= 12; ver++) {
		lcm_record(la, ver, ver, 40 + ver);
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
	la->clicks = INT64_MAX; /* not kept: a cached link has no limit to count against */
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
	lcm_record(la, 7, 9, LINK_URL_MAX);
	memset(la->code, 'Q', LINK_CODE_MAX);
	la->code[LINK_CODE_MAX] = '\0';
	link_cache_put(c, la);
	ck_assert(link_cache_get(c, la->code, lb));
	assert_cached(lb, la);
	ck_assert_uint_eq(strlen(lb->code), LINK_CODE_MAX);
	ck_assert_uint_eq(strlen(lb->url), LINK_URL_MAX);
	/* Every url length up to the longest is kept by a 1 MB cache. */
	for (len = 1; len <= LINK_URL_MAX; len += 97) {
		lcm_record(la, (unsigned)len, 1, len);
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
	lcm_record(la, 1, 1, LINK_URL_MAX);
	link_cache_put(c, la);
	ck_assert(!link_cache_get(c, la->code, lb));
	ck_assert_uint_eq(link_cache_count(c), 0);
	lcm_record(la, 1, 1, LINK_CACHE_MIN_BYTES / 8);
	link_cache_put(c, la);
	ck_assert(!link_cache_get(c, la->code, lb));
	ck_assert_uint_eq(link_cache_count(c), 0);
	for (len = 6000; len <= LINK_CACHE_MIN_BYTES / 8; len++) {
		/* Always code number 1, so the record size moves with len only. */
		lcm_record(la, 1, (uint32_t)len, len);
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
	lcm_record(la, 1, 3, longest + 1);
	link_cache_put(c, la);
	ck_assert(!link_cache_get(c, la->code, lb));
	lcm_record(la, 1, 4, longest);
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
		lcm_record(la, 5, ver, ver % 2 ? 3 : 3000);
		link_cache_put(c, la);
		ck_assert(link_cache_get(c, la->code, lb));
		assert_cached(lb, la);
		ck_assert_uint_eq(link_cache_count(c), 1);
	}
	lcm_record(la, 6, 1, 10);
	link_cache_put(c, la);
	ck_assert_uint_eq(link_cache_count(c), 2);
	lcm_record(la, 5, 40, 3000);
	ck_assert(link_cache_get(c, la->code, lb));
	assert_cached(lb, la);
	link_cache_free(c);
}
END_TEST

/* A put too large to keep still replaces: the older record for its code is
 * not returned any more. */
/* A put the cache does not keep forgets the code's older record (the link
 * was changed), and keeps nothing for a code not seen before: a url too
 * large for the smallest cache, and a click limit, even of 0 or one far
 * off. */
START_TEST(test_unkept_put_hides_the_older_record)
{
	static const struct {
		size_t url_len;
		int64_t max_clicks;
	} rows[] = {{LINK_URL_MAX, LINK_NO_LIMIT}, {20, 0}, {20, 1}, {20, INT64_MAX}};
	struct link_cache *c = link_cache_new(LINK_CACHE_MIN_BYTES);

	ck_assert_ptr_nonnull(c);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		for (unsigned n = 7; n <= 8; n++) {
			if (n == 7) {
				lcm_record(la, n, 1, 20);
				link_cache_put(c, la);
				ck_assert(link_cache_get(c, la->code, lb));
				ck_assert_uint_eq(link_cache_count(c), 1);
			}
			lcm_record(la, n, 2, rows[i].url_len);
			la->max_clicks = rows[i].max_clicks;
			link_cache_put(c, la);
			REQUIRE(!link_cache_get(c, la->code, lb), "row %zu, code %u kept", i, n);
			ck_assert_uint_eq(link_cache_count(c), 0);
		}
	}
	link_cache_free(c);
}
END_TEST

/*
 * What the default 8 MB holds of links like the benchmark's (7-character
 * codes, urls of 34 bytes): records of 72 bytes (a 30-byte header), so the
 * ring's 7.5 MB holds 109,200 of them, under the index's 7/8 of 131,072
 * slots (114,688). With a 56-byte header and a 3/4 load limit (before
 * clicks and the limit left the record) it held 75,600.
 */
START_TEST(test_default_size_holds_109k_short_links)
{
	struct link_cache *c = link_cache_new((size_t)8 << 20);
	unsigned n;

	ck_assert_ptr_nonnull(c);
	for (n = 0; n < 120000; n++) {
		link_init(la);
		la->id = n + 1;
		snprintf(la->code, sizeof(la->code), "c%06u", n);
		snprintf(la->url, sizeof(la->url), "https://example.com/articles/%05u", n % 100000);
		la->status = 302;
		link_cache_put(c, la);
	}
	ck_assert_uint_eq(strlen(la->url), 34);
	ck_assert_uint_ge(link_cache_count(c), 109000);
	ck_assert_uint_le(link_cache_count(c), 7864320 / 72);
	/* The newest are the ones kept. */
	ck_assert(link_cache_get(c, la->code, lb));
	ck_assert(!link_cache_get(c, "c000000", lb));
	link_cache_free(c);
}
END_TEST

/* A record whose code could not be a code is not kept: the empty code, and
 * one filling the whole buffer with no end. */
START_TEST(test_put_of_an_impossible_code_keeps_nothing)
{
	struct link_cache *c = link_cache_new(LINK_CACHE_MIN_BYTES);

	ck_assert_ptr_nonnull(c);
	lcm_record(la, 1, 1, 20);
	la->code[0] = '\0';
	link_cache_put(c, la);
	ck_assert_uint_eq(link_cache_count(c), 0);
	ck_assert(!link_cache_get(c, "", lb));
	lcm_record(la, 1, 1, 20);
	memset(la->code, 'x', sizeof(la->code));
	link_cache_put(c, la);
	ck_assert_uint_eq(link_cache_count(c), 0);
	link_cache_free(c);
}
END_TEST

/* Records so small that the index fills before the ring: it holds at most
 * 7/8 of its 1,024 slots (the smallest cache's), the newest, and the
 * oldest go first. */
START_TEST(test_index_load_limit_evicts_the_oldest)
{
	struct link_cache *c = link_cache_new(LINK_CACHE_MIN_BYTES);
	const unsigned puts = 3000, kept = 1024 / 8 * 7;

	ck_assert_ptr_nonnull(c);
	for (unsigned n = 0; n < puts; n++) {
		link_init(la);
		la->id = n + 1;
		snprintf(la->code, sizeof(la->code), "%x", n);
		snprintf(la->url, sizeof(la->url), "h");
		la->status = 302;
		link_cache_put(c, la);
		REQUIRE(link_cache_count(c) == (n < kept ? n + 1 : kept), "count %zu after %u puts",
		        link_cache_count(c), n + 1);
	}
	for (unsigned n = 0; n < puts; n++) {
		char code[16];
		snprintf(code, sizeof(code), "%x", n);
		REQUIRE(link_cache_get(c, code, lb) == (n >= puts - kept), "code %s", code);
	}
	link_cache_free(c);
}
END_TEST

START_TEST(test_invalidate)
{
	struct link_cache *c = link_cache_new(1 << 20);
	unsigned n;

	ck_assert_ptr_nonnull(c);
	for (n = 0; n < 10; n++) {
		lcm_record(la, n, 1, 50);
		link_cache_put(c, la);
	}
	ck_assert_uint_eq(link_cache_count(c), 10);
	link_cache_invalidate(c);
	ck_assert_uint_eq(link_cache_count(c), 0);
	for (n = 0; n < 10; n++) {
		lcm_record(la, n, 1, 50);
		ck_assert(!link_cache_get(c, la->code, lb));
	}
	/* A new code after, and one of the old codes again with a new record. */
	lcm_record(la, 100, 2, 60);
	link_cache_put(c, la);
	ck_assert(link_cache_get(c, la->code, lb));
	assert_cached(lb, la);
	lcm_record(la, 3, 2, 70);
	link_cache_put(c, la);
	ck_assert(link_cache_get(c, la->code, lb));
	assert_cached(lb, la);
	ck_assert_uint_eq(link_cache_count(c), 2);
	for (n = 0; n < 10; n++) {
		lcm_code(n, la->code);
		ck_assert(link_cache_get(c, la->code, lb) == (n == 3));
	}
	/* Twice in a row, then the same old code again. */
	link_cache_invalidate(c);
	link_cache_invalidate(c);
	ck_assert_uint_eq(link_cache_count(c), 0);
	ck_assert(!link_cache_get(c, la->code, lb));
	lcm_record(la, 3, 3, 80);
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
		lcm_record(la, n, 1, 100);
		link_cache_put(c, la);
		ck_assert(link_cache_get(c, la->code, lb));
		assert_cached(lb, la);
	}
	ck_assert_uint_eq(link_cache_count(c), 200);
	link_cache_free(c);
	link_cache_free(NULL);
	/* Past the most, refused before any allocation. */
	ck_assert_ptr_null(link_cache_new(LINK_CACHE_MAX_BYTES + 1));
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
	struct lc_model m;
	unsigned n, k, found;
	int pass;

	rng_state = 0x9e3779b97f4a7c15ULL;
	for (pass = 0; pass < 2; pass++) {
		ck_assert_int_eq(lcm_init(&m, LINK_CACHE_MIN_BYTES, 20000, model_failed), 0);
		for (n = 0; n < m.ncodes; n++) {
			lcm_put(&m, n, pass == 0 ? 1 + rng() % 200 : 1);
			REQUIRE(lcm_get(&m, n), "code %u missing after its put", n);
			if (n % 97 == 96)
				for (k = n >= 99 ? n - 99 : 0; k <= n; k++)
					REQUIRE(lcm_get(&m, k), "pass %d: code %u missing after %u", pass, k, n);
			if (n % 1000 == 999)
				lcm_scan(&m);
		}
		lcm_scan(&m);
		for (n = 0, found = 0; n < m.ncodes; n++)
			found += lcm_get(&m, n);
		/* The cache did evict, and kept more than the last 100. */
		ck_assert_uint_lt(found, m.ncodes / 10);
		ck_assert_uint_gt(found, 100);
		ck_assert_uint_eq(link_cache_count(m.c), found);
		lcm_free(&m);
	}
}
END_TEST

/*
 * 200,000 operations with a fixed seed on 3,000 codes, half of them on 50
 * hot codes: puts with urls of 1..3000 bytes (mostly short), a few puts of
 * links with a click limit (which leave nothing for their code), gets, gets of
 * codes never put or impossible, and a rare invalidation. Each get and each
 * put is checked at once, and everything every 2,000 operations.
 */
static const size_t random_sizes[] = {LINK_CACHE_MIN_BYTES, 256 * 1024, 4 * 1024 * 1024};

START_TEST(test_randomized)
{
	struct lc_model m;
	unsigned op, n;
	char code[LINK_CODE_MAX + 2];

	rng_state = 0x2545f4914f6cdd1dULL + (uint64_t)_i;
	ck_assert_int_eq(lcm_init(&m, random_sizes[_i], 3000, model_failed), 0);
	for (op = 0; op < 200000; op++) {
		uint32_t r = rng() % 1000;
		n = rng() % 2 ? rng() % 50 : rng() % m.ncodes;
		if (r < 30) {
			lcm_put_limited(&m, n, 1 + rng() % 100);
			REQUIRE(!lcm_get(&m, n), "op %u: code %u found after a put with a limit", op, n);
		} else if (r < 450) {
			size_t len = rng() % 4 ? 1 + rng() % 100 : 1 + rng() % 3000;
			lcm_put(&m, n, len);
			REQUIRE(lcm_get(&m, n), "op %u: code %u missing after its put", op, n);
		} else if (r < 990) {
			lcm_get(&m, n);
		} else if (r < 999) {
			/* A code never put, the empty code, one too long. */
			lcm_code(m.ncodes + n, code);
			REQUIRE(!link_cache_get(m.c, code, lb), "op %u: %s found, never put", op, code);
			REQUIRE(!link_cache_get(m.c, "", lb), "op %u: the empty code found", op);
			memset(code, 'y', LINK_CODE_MAX + 1);
			code[LINK_CODE_MAX + 1] = '\0';
			REQUIRE(!link_cache_get(m.c, code, lb), "op %u: a code of 65 found", op);
		} else {
			lcm_invalidate(&m);
			REQUIRE(link_cache_count(m.c) == 0, "op %u: count %zu after invalidate", op,
			        link_cache_count(m.c));
		}
		if (op % 2000 == 1999)
			lcm_scan(&m);
	}
	lcm_scan(&m);
	lcm_free(&m);
}
END_TEST

/* ---- readers beside a writer ---- */

#define RACE_CODES 300
#define RACE_READERS 3
#define RACE_PUTS 200000

struct race {
	struct link_cache *c;
	atomic_bool done;        /* the writer has finished */
	atomic_ulong hits, gets; /* the readers' */
	pthread_mutex_t lock;
	char why[256]; /* the first broken promise; empty: none */
};

static void race_fail(struct race *r, const char *why)
{
	pthread_mutex_lock(&r->lock);
	if (r->why[0] == '\0')
		snprintf(r->why, sizeof(r->why), "%s", why);
	pthread_mutex_unlock(&r->lock);
}

/* Gets random codes until the writer is done; a record found must be the
 * one its id names, (code number, version), whole. */
static void *race_reader(void *arg)
{
	struct race *r = arg;
	struct link *got = malloc(sizeof(*got)), *want = malloc(sizeof(*want));
	uint64_t state = 0x9e3779b97f4a7c15ULL ^ (uint64_t)(uintptr_t)&got;
	unsigned long hits = 0, gets = 0;
	char code[LINK_CODE_MAX + 1], why[200];

	if (got == NULL || want == NULL) {
		race_fail(r, "reader: out of memory");
		goto out;
	}
	while (!atomic_load(&r->done)) {
		unsigned n;
		state ^= state << 13;
		state ^= state >> 7;
		state ^= state << 17;
		n = (unsigned)(state >> 20) % RACE_CODES;
		lcm_code(n, code);
		gets++;
		if (!link_cache_get(r->c, code, got))
			continue;
		hits++;
		size_t len = strlen(got->url);
		if ((uint64_t)got->id >> 32 != n || len == 0) {
			snprintf(why, sizeof(why), "code %u: got id %lld, url of %zu bytes", n, (long long)got->id,
			         len);
			race_fail(r, why);
			break;
		}
		lcm_record(want, n, (uint32_t)got->id, len);
		if (!lcm_same(got, want, why, sizeof(why))) {
			race_fail(r, why);
			break;
		}
	}
	atomic_fetch_add(&r->hits, hits);
	atomic_fetch_add(&r->gets, gets);
out:
	free(got);
	free(want);
	return NULL;
}

/*
 * RACE_READERS threads get codes from the smallest cache while this thread
 * puts RACE_PUTS new versions of RACE_CODES codes (urls of 1 to 400 bytes,
 * now and then 3,000, so the ring wraps and evicts all the time), puts a
 * link with a click limit now and then, and invalidates the cache every
 * 20,000 puts. A reader never sees a record other than a whole version of
 * the code it asked for.
 */
START_TEST(test_readers_beside_a_writer)
{
	struct race r = {.c = link_cache_new(LINK_CACHE_MIN_BYTES)};
	pthread_t readers[RACE_READERS];
	struct link *l = malloc(sizeof(*l));

	ck_assert_ptr_nonnull(r.c);
	ck_assert_ptr_nonnull(l);
	pthread_mutex_init(&r.lock, NULL);
	for (int i = 0; i < RACE_READERS; i++)
		ck_assert_int_eq(pthread_create(&readers[i], NULL, race_reader, &r), 0);
	rng_state = 0x853c49e6748fea9bULL;
	for (uint32_t ver = 1; ver <= RACE_PUTS; ver++) {
		unsigned n = rng() % RACE_CODES;
		lcm_record(l, n, ver, rng() % 50 ? 1 + rng() % 400 : 3000);
		if (rng() % 100 == 0)
			l->max_clicks = 10;
		link_cache_put(r.c, l);
		if (ver % 20000 == 0)
			link_cache_invalidate(r.c);
	}
	atomic_store(&r.done, true);
	for (int i = 0; i < RACE_READERS; i++)
		pthread_join(readers[i], NULL);
	ck_assert_msg(r.why[0] == '\0', "%s", r.why);
	/* The readers did read, and found records while the writer wrote. */
	ck_assert_uint_gt(atomic_load(&r.gets), 1000);
	ck_assert_uint_gt(atomic_load(&r.hits), 100);
	pthread_mutex_destroy(&r.lock);
	link_cache_free(r.c);
	free(l);
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
	tcase_add_test(tc, test_unkept_put_hides_the_older_record);
	tcase_add_test(tc, test_default_size_holds_109k_short_links);
	tcase_add_test(tc, test_url_longer_than_an_eighth_is_not_stored);
	tcase_add_test(tc, test_replace);
	tcase_add_test(tc, test_invalidate);
	tcase_add_test(tc, test_put_of_an_impossible_code_keeps_nothing);
	tcase_add_test(tc, test_index_load_limit_evicts_the_oldest);
	tcase_add_test(tc, test_new_zero_and_free_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("model");
	tcase_add_checked_fixture(tc, links_setup, links_teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_eviction_in_order);
	tcase_add_loop_test(tc, test_randomized, 0, (int)(sizeof(random_sizes) / sizeof(random_sizes[0])));
	suite_add_tcase(s, tc);

	tc = tcase_create("concurrent");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_readers_beside_a_writer);
	suite_add_tcase(s, tc);
	return s;
}
