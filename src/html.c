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
		const char *rep = NULL;
		char one[2] = {*s, '\0'};

		switch (*s) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default: rep = one; break;
		}
		size_t r = strlen(rep);
		if (n + r + 1 > outsize) {
			out[*len] = '\0';
			return -1;
		}
		memcpy(out + n, rep, r);
		n += r;
	}
	out[n] = '\0';
	*len = n;
	return 0;
}
