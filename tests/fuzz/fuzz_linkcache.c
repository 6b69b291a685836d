/*
 * Fuzzes link_cache.c against the reference model of
 * tests/support/link_cache_model.h, which its unit test uses too. The input
 * is a sequence of operations on a cache of LINK_CACHE_MIN_BYTES, each led
 * by a byte b:
 *   b % 8 < 3   put: a code byte, then two bytes of url length (1..4096)
 *   b % 8 == 3  put with a click limit: the same bytes
 *   b % 8 < 7   get: a code byte
 *   b % 8 == 7  invalidate
 * A code byte c names the model's code number c (256 codes of 1 to 64
 * characters). Invariants: get returns nothing or exactly the newest record
 * put for the code since the last invalidation; a record just put is found
 * (urls stay under an eighth of the ring), unless it has a click limit,
 * which leaves nothing for its code; an invalidated cache counts none;
 * and, checked every 16 operations and at the end, the model's scan: count
 * equals the codes found, the found records are the newest ones (oldest
 * evicted first), and the last puts that fill at most half the cache are
 * all found.
 */
#include <stdbool.h>
#include <stdint.h>

#include "fuzz.h"
#include "link_cache_model.h"

#define CODES 256
#define URL_MAX 4096

static void model_failed(const char *why)
{
	fprintf(stderr, "link cache model: %s\n", why);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lc_model m;
	size_t i = 0, ops = 0;

	FUZZ_CHECK(lcm_init(&m, LINK_CACHE_MIN_BYTES, CODES, model_failed) == 0);
	while (i < size) {
		uint8_t op = data[i++] % 8;
		if (op < 4) {
			uint8_t c;
			size_t len;
			if (size - i < 3)
				break;
			c = data[i];
			len = 1 + (((size_t)data[i + 1] << 8 | data[i + 2]) % URL_MAX);
			i += 3;
			if (op < 3) {
				lcm_put(&m, c, len);
				FUZZ_CHECK(lcm_get(&m, c));
			} else {
				lcm_put_limited(&m, c, len);
				FUZZ_CHECK(!lcm_get(&m, c));
			}
		} else if (op < 7) {
			if (i == size)
				break;
			lcm_get(&m, data[i++]);
		} else {
			lcm_invalidate(&m);
			FUZZ_CHECK(link_cache_count(m.c) == 0);
		}
		if (++ops % 16 == 0)
			lcm_scan(&m);
	}
	lcm_scan(&m);
	lcm_free(&m);
	return 0;
}
