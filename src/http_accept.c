/*
 * Accept header negotiation between application/json and text/html for the
 * error pages. Each media range's q (default 1) applies to the types it
 * matches; the most specific range wins for each type (RFC 9110 12.5.1).
 * Malformed ranges are skipped rather than failing the request.
 */
#include "http_accept.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

struct match {
	int specificity; /* 0 none, 1 star/star, 2 type/star, 3 exact */
	int q;           /* thousandths */
};

static const char *skip_ws(const char *s, const char *end)
{
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	return s;
}

/* Parses "q=0.5" style values into thousandths; -1 when malformed. */
static int parse_q(const char *s, const char *end)
{
	int q = 0, scale = 1000;

	if (s >= end || (*s != '0' && *s != '1'))
		return -1;
	q = (*s - '0') * 1000;
	s++;
	if (s < end && *s == '.') {
		s++;
		for (int i = 0; i < 3 && s < end && *s >= '0' && *s <= '9'; i++, s++) {
			scale /= 10;
			q += (*s - '0') * scale;
		}
	}
	s = skip_ws(s, end);
	if (s != end || q > 1000)
		return -1;
	return q;
}

static void consider(struct match *m, int specificity, int q)
{
	if (specificity > m->specificity) {
		m->specificity = specificity;
		m->q = q;
	}
}

static int range_specificity(const char *type, size_t tlen, const char *want, size_t wlen)
{
	const char *slash = memchr(want, '/', wlen);
	size_t major = (size_t)(slash - want);

	if (tlen == 3 && strncmp(type, "*/*", 3) == 0)
		return 1;
	if (tlen == major + 2 && strncasecmp(type, want, major + 1) == 0 && type[major + 1] == '*')
		return 2;
	if (tlen == wlen && strncasecmp(type, want, wlen) == 0)
		return 3;
	return 0;
}

bool http_accept_prefers_json(const char *accept)
{
	struct match json = {0, 0}, html = {0, 0};
	const char *s = accept;

	if (accept == NULL)
		return false;
	while (*s != '\0') {
		const char *end = s + strcspn(s, ",");
		const char *semi = memchr(s, ';', (size_t)(end - s));
		const char *type = skip_ws(s, end);
		const char *tend = semi != NULL ? semi : end;
		int q = 1000;

		while (tend > type && (tend[-1] == ' ' || tend[-1] == '\t'))
			tend--;
		for (const char *p = semi; p != NULL && p < end;) {
			const char *pend = memchr(p + 1, ';', (size_t)(end - p - 1));
			const char *name = skip_ws(p + 1, pend != NULL ? pend : end);
			if ((pend != NULL ? pend : end) - name >= 2 && (name[0] == 'q' || name[0] == 'Q') &&
			    name[1] == '=') {
				q = parse_q(name + 2, pend != NULL ? pend : end);
				break;
			}
			p = pend;
		}
		if (q >= 0 && tend > type) {
			size_t tlen = (size_t)(tend - type);
			consider(&json, range_specificity(type, tlen, "application/json", 16), q);
			consider(&html, range_specificity(type, tlen, "text/html", 9), q);
		}
		s = *end == ',' ? end + 1 : end;
	}
	/* Equal q: the range that names JSON beats a wildcard that only reaches
	 * HTML (an API client's "application/json, text/plain" and any type). */
	int html_q = html.specificity > 0 ? html.q : 0;
	return json.specificity > 0 && json.q > 0 &&
	       (json.q > html_q || (json.q == html_q && json.specificity > html.specificity));
}
