/*
 * HTML escaping into caller buffers, for the pages that echo a URL.
 */
#ifndef SHORTD_HTML_H
#define SHORTD_HTML_H

#include <stddef.h>

/* Appends s to out[*len..] with & < > " ' escaped, keeping the result NUL
 * terminated. Returns 0, or -1 when it does not fit (out is left terminated
 * at the old length). */
int html_escape_append(char *out, size_t outsize, size_t *len, const char *s);

#endif
