/*
 * HTML escaping for pages that echo user data (a target URL). Writes into
 * the caller's buffer; never allocates.
 */
#include "html.h"

#include <string.h>

int html_escape_append(char *out, size_t outsize, size_t *len, const char *s)
{
	size_t n = *len;

	for (; *s != '\0'; s++) {
		const char *rep;
		size_t r;

		switch (*s) {
		case '&': rep = "&amp;"; r = 5; break;
		case '<': rep = "&lt;"; r = 4; break;
		case '>': rep = "&gt;"; r = 4; break;
		case '"': rep = "&quot;"; r = 6; break;
		case '\'': rep = "&#39;"; r = 5; break;
		default:
			/* the common case, on the redirect path: one byte, no lookup */
			if (n + 2 > outsize)
				goto full;
			out[n++] = *s;
			continue;
		}
		if (n + r + 1 > outsize)
			goto full;
		memcpy(out + n, rep, r);
		n += r;
	}
	out[n] = '\0';
	*len = n;
	return 0;
full:
	out[*len] = '\0';
	return -1;
}
