/*
 * HTML escaping for pages that echo user data (a target URL). Writes into
 * the caller's buffer; never allocates.
 */
#include "html.h"

#include <string.h>

int html_escape_append(char *out, size_t outsize, size_t *len, const char *s)
{
	size_t n = *len;

	for (;;) {
		/* A run of plain bytes, the common case on the redirect path, is
		 * one copy. */
		size_t run = strcspn(s, "&<>\"'");
		const char *rep;
		size_t r;

		if (n + run + 1 > outsize)
			goto full;
		memcpy(out + n, s, run);
		n += run;
		s += run;
		switch (*s) {
		case '\0':
			out[n] = '\0';
			*len = n;
			return 0;
		case '&':
			rep = "&amp;";
			r = 5;
			break;
		case '<':
			rep = "&lt;";
			r = 4;
			break;
		case '>':
			rep = "&gt;";
			r = 4;
			break;
		case '"':
			rep = "&quot;";
			r = 6;
			break;
		default:
			rep = "&#39;";
			r = 5;
			break;
		}
		if (n + r + 1 > outsize)
			goto full;
		memcpy(out + n, rep, r);
		n += r;
		s++;
	}
full:
	out[*len] = '\0';
	return -1;
}
