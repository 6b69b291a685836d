/*
 * The link cache's reference model of link_cache_model.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link_cache_model.h"

static const int statuses[] = {301, 302, 303, 307, 308};

__attribute__((format(printf, 2, 3))) static void lcm_fail(const struct lc_model *m, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	m->fail(why);
	abort(); /* fail does not return */
}

void lcm_code(unsigned n, char code[LINK_CODE_MAX + 1])
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
	memset(code + nd, '_', len - nd);
	code[len] = '\0';
}

void lcm_record(struct link *l, unsigned n, uint32_t ver, size_t url_len)
{
	char head[64];
	size_t hl;

	link_init(l);
	l->id = ((int64_t)n << 32) | ver;
	lcm_code(n, l->code);
	hl = (size_t)snprintf(head, sizeof(head), "https://h%u.example/%u/", n, ver);
	memset(l->url, 'a' + (int)((n * 31 + ver) % 26), url_len);
	memcpy(l->url, head, hl < url_len ? hl : url_len);
	l->url[url_len - 1] = (char)('A' + ver % 26);
	l->url[url_len] = '\0';
	l->status = statuses[ver % 5];
	l->forward_query = (ver & 1) != 0;
	l->disabled = (ver & 2) != 0;
	l->expires_at = ver % 3 == 0 ? LINK_NO_TIME : 1700000000 + (int64_t)ver;
	l->clicks = (int64_t)ver * 3 + n;
	l->created_at = 1600000000;
	l->updated_at = 1600000001;
	l->bot_clicks = 77;
	l->last_click_at = 1600000002;
}

bool lcm_same(const struct link *got, const struct link *want, char *why, size_t whysize)
{
	if (got->id != want->id)
		snprintf(why, whysize, "%s: id %lld, want %lld", want->code, (long long)got->id, (long long)want->id);
	else if (strcmp(got->code, want->code) != 0)
		snprintf(why, whysize, "code %s, want %s", got->code, want->code);
	else if (strcmp(got->url, want->url) != 0)
		snprintf(why, whysize, "%s: url of %zu bytes differs from the %zu put", want->code, strlen(got->url),
		         strlen(want->url));
	else if (got->status != want->status)
		snprintf(why, whysize, "%s: status %d, want %d", want->code, got->status, want->status);
	else if (got->forward_query != want->forward_query)
		snprintf(why, whysize, "%s: forward_query", want->code);
	else if (got->disabled != want->disabled)
		snprintf(why, whysize, "%s: disabled", want->code);
	else if (got->expires_at != want->expires_at)
		snprintf(why, whysize, "%s: expires_at %lld, want %lld", want->code, (long long)got->expires_at,
		         (long long)want->expires_at);
	else if (!(got->created_at == 0 && got->updated_at == 0 && got->max_clicks == LINK_NO_LIMIT &&
	           got->clicks == 0 && got->bot_clicks == 0 && got->last_click_at == LINK_NO_TIME))
		snprintf(why, whysize, "%s: a field the cache does not keep is not link_init's", want->code);
	else
		return true;
	return false;
}

int lcm_init(struct lc_model *m, size_t bytes, unsigned ncodes, void (*fail)(const char *why))
{
	memset(m, 0, sizeof(*m));
	m->fail = fail;
	m->c = link_cache_new(bytes);
	m->bytes = bytes < LINK_CACHE_MIN_BYTES ? LINK_CACHE_MIN_BYTES : bytes;
	m->ncodes = ncodes;
	m->ver = calloc(ncodes, sizeof(*m->ver));
	m->url_len = calloc(ncodes, sizeof(*m->url_len));
	m->seq = calloc(ncodes, sizeof(*m->seq));
	m->want = malloc(sizeof(*m->want));
	m->got = malloc(sizeof(*m->got));
	m->next_ver = 1;
	if (m->c == NULL || m->ver == NULL || m->url_len == NULL || m->seq == NULL || m->want == NULL ||
	    m->got == NULL) {
		lcm_free(m);
		return -1;
	}
	return 0;
}

void lcm_free(struct lc_model *m)
{
	link_cache_free(m->c);
	free(m->ver);
	free(m->url_len);
	free(m->seq);
	free(m->want);
	free(m->got);
	memset(m, 0, sizeof(*m));
}

/* Puts a new version of code n; one with a click limit leaves the model
 * nothing for n. Either counts among the recent puts. */
static void put(struct lc_model *m, unsigned n, size_t url_len, bool limited)
{
	uint32_t ver = m->next_ver++;

	lcm_record(m->want, n, ver, url_len);
	if (limited)
		m->want->max_clicks = (int64_t)n;
	link_cache_put(m->c, m->want);
	m->nput++;
	m->ver[n] = limited ? 0 : ver;
	m->url_len[n] = (uint32_t)url_len;
	m->seq[n] = limited ? 0 : m->nput;
	m->recent_code[(m->nput - 1) % LCM_RECENT] = n;
	m->recent_len[(m->nput - 1) % LCM_RECENT] = (uint32_t)url_len;
}

void lcm_put(struct lc_model *m, unsigned n, size_t url_len)
{
	put(m, n, url_len, false);
}

void lcm_put_limited(struct lc_model *m, unsigned n, size_t url_len)
{
	put(m, n, url_len, true);
}

bool lcm_get(struct lc_model *m, unsigned n)
{
	char code[LINK_CODE_MAX + 1], why[256];

	lcm_code(n, code);
	memset(m->got, 0x5a, offsetof(struct link, url) + 16);
	if (!link_cache_get(m->c, code, m->got))
		return false;
	if (m->ver[n] == 0)
		lcm_fail(m, "code %s found, none put since invalidation", code);
	lcm_record(m->want, n, m->ver[n], m->url_len[n]);
	if (!lcm_same(m->got, m->want, why, sizeof(why)))
		lcm_fail(m, "%s", why);
	return true;
}

void lcm_invalidate(struct lc_model *m)
{
	link_cache_invalidate(m->c);
	memset(m->ver, 0, m->ncodes * sizeof(*m->ver));
	memset(m->seq, 0, m->ncodes * sizeof(*m->seq));
}

void lcm_scan(struct lc_model *m)
{
	uint64_t min_found = UINT64_MAX, max_missing = 0, current = 0, found = 0, sum = 0;
	unsigned n, k;

	for (n = 0; n < m->ncodes; n++) {
		bool f = lcm_get(m, n);
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
	if (link_cache_count(m->c) != found)
		lcm_fail(m, "count %zu, %llu found", link_cache_count(m->c), (unsigned long long)found);
	if (found > current)
		lcm_fail(m, "more found than put");
	if (max_missing >= min_found)
		lcm_fail(m, "put %llu missing, older put %llu found", (unsigned long long)max_missing,
		         (unsigned long long)min_found);
	for (k = 0; k < LCM_RECENT && k < m->nput; k++) {
		uint64_t s = m->nput - k;
		n = m->recent_code[(s - 1) % LCM_RECENT];
		/* Replaced records fill the ring too: count every put's own size. */
		sum += 128 + LINK_CODE_MAX + m->recent_len[(s - 1) % LCM_RECENT];
		if (sum > m->bytes / 2)
			break;
		if (m->seq[n] == s && !lcm_get(m, n))
			lcm_fail(m, "put %llu of %llu not found", (unsigned long long)s, (unsigned long long)m->nput);
	}
}
