/*
 * Fuzzes link_cache.c against a reference model: for each code, the newest
 * record put since the last invalidation. The input is a sequence of
 * operations on a cache of LINK_CACHE_MIN_BYTES, each led by a byte b:
 *   b % 8 < 4   put: a code byte, then two bytes of url length (1..4096)
 *   b % 8 < 7   get: a code byte
 *   b % 8 == 7  invalidate
 * A code byte c names one of 256 codes: 1 + c % 64 characters, the first
 * 'A' + c / 64, the rest 'x'. Records are made from (code, version), so a
 * record returned for the wrong code, an older version or a torn mix shows.
 * Invariants: get returns nothing or exactly the newest record put for the
 * code since the last invalidation; a record just put is found (urls stay
 * under an eighth of the ring); and, checked every 16 operations and at the
 * end, link_cache_count() equals the codes found, the found records are the
 * newest ones (oldest evicted first), and the last puts that fill at most
 * half the cache are all found.
 */
#include <stdbool.h>
#include <stdint.h>

#include "fuzz.h"
#include "link_cache.h"

#define CODES 256
#define URL_MAX 4096
#define RECENT 64

static const int statuses[] = {301, 302, 303, 307, 308};

struct model {
	uint32_t ver[CODES]; /* 0: none put since the last invalidation */
	uint32_t url_len[CODES];
	uint64_t seq[CODES];
	uint64_t nput;
	uint8_t recent[RECENT]; /* code and url length of the last puts */
	uint16_t recent_len[RECENT];
	uint32_t next_ver;
};

static struct link want, got;

static void code_text(uint8_t c, char *code)
{
	size_t len = 1 + c % 64;

	memset(code, 'x', len);
	code[0] = (char)('A' + c / 64);
	code[len] = '\0';
}

static void rec_make(struct link *l, uint8_t c, uint32_t ver, size_t url_len)
{
	char head[32];
	int n;

	link_init(l);
	l->id = ((int64_t)c << 32) | ver;
	code_text(c, l->code);
	memset(l->url, 'a' + (int)((c * 31u + ver) % 26), url_len);
	n = snprintf(head, sizeof(head), "h%u/%u/", c, ver);
	memcpy(l->url, head, (size_t)n < url_len ? (size_t)n : url_len);
	l->url[url_len - 1] = (char)('A' + ver % 26);
	l->url[url_len] = '\0';
	l->status = statuses[ver % 5];
	l->forward_query = (ver & 1) != 0;
	l->disabled = (ver & 2) != 0;
	l->expires_at = ver % 3 == 0 ? LINK_NO_TIME : 1700000000 + (int64_t)ver;
	l->max_clicks = ver % 4 == 0 ? LINK_NO_LIMIT : (int64_t)ver;
	l->clicks = (int64_t)ver * 7;
	l->created_at = 99;
	l->bot_clicks = 98;
}

/* Gets code c and checks it against the model; returns whether found. */
static bool model_get(struct link_cache *lc, const struct model *m, uint8_t c)
{
	char code[LINK_CODE_MAX + 1];

	code_text(c, code);
	if (!link_cache_get(lc, code, &got))
		return false;
	FUZZ_CHECK(m->ver[c] != 0);
	rec_make(&want, c, m->ver[c], m->url_len[c]);
	FUZZ_CHECK(got.id == want.id);
	FUZZ_CHECK(strcmp(got.code, want.code) == 0);
	FUZZ_CHECK(strcmp(got.url, want.url) == 0);
	FUZZ_CHECK(got.status == want.status);
	FUZZ_CHECK(got.forward_query == want.forward_query);
	FUZZ_CHECK(got.disabled == want.disabled);
	FUZZ_CHECK(got.expires_at == want.expires_at);
	FUZZ_CHECK(got.max_clicks == want.max_clicks);
	FUZZ_CHECK(got.clicks == want.clicks);
	FUZZ_CHECK(got.created_at == 0 && got.updated_at == 0 && got.bot_clicks == 0);
	FUZZ_CHECK(got.last_click_at == LINK_NO_TIME);
	return true;
}

static void model_scan(struct link_cache *lc, const struct model *m)
{
	uint64_t min_found = UINT64_MAX, max_missing = 0, found = 0, sum = 0, k;

	for (unsigned c = 0; c < CODES; c++) {
		bool f = model_get(lc, m, (uint8_t)c);
		if (m->ver[c] == 0)
			continue;
		if (f) {
			found++;
			if (m->seq[c] < min_found)
				min_found = m->seq[c];
		} else if (m->seq[c] > max_missing) {
			max_missing = m->seq[c];
		}
	}
	FUZZ_CHECK(link_cache_count(lc) == found);
	FUZZ_CHECK(max_missing < min_found);
	for (k = 0; k < RECENT && k < m->nput; k++) {
		uint64_t s = m->nput - k;
		uint8_t c = m->recent[(s - 1) % RECENT];
		/* Replaced records fill the ring too: count every put's own size. */
		sum += 128 + LINK_CODE_MAX + m->recent_len[(s - 1) % RECENT];
		if (sum > LINK_CACHE_MIN_BYTES / 2)
			break;
		if (m->seq[c] == s)
			FUZZ_CHECK(model_get(lc, m, c));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct model m;
	struct link_cache *lc = link_cache_new(LINK_CACHE_MIN_BYTES);
	size_t i = 0, ops = 0;

	FUZZ_CHECK(lc != NULL);
	memset(&m, 0, sizeof(m));
	m.next_ver = 1;
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
			rec_make(&want, c, m.next_ver, len);
			link_cache_put(lc, &want);
			m.ver[c] = m.next_ver++;
			m.url_len[c] = (uint32_t)len;
			m.seq[c] = ++m.nput;
			m.recent[(m.nput - 1) % RECENT] = c;
			m.recent_len[(m.nput - 1) % RECENT] = (uint16_t)len;
			FUZZ_CHECK(model_get(lc, &m, c));
		} else if (op < 7) {
			if (i == size)
				break;
			model_get(lc, &m, data[i++]);
		} else {
			link_cache_invalidate(lc);
			memset(m.ver, 0, sizeof(m.ver));
			memset(m.seq, 0, sizeof(m.seq));
			FUZZ_CHECK(link_cache_count(lc) == 0);
		}
		if (++ops % 16 == 0)
			model_scan(lc, &m);
	}
	model_scan(lc, &m);
	link_cache_free(lc);
	return 0;
}
