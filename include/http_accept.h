/*
 * Content negotiation for error pages: does an Accept header prefer JSON to
 * HTML? Parses media ranges with q-values per RFC 9110 section 12.5.1.
 */
#ifndef SHORTD_ACCEPT_H
#define SHORTD_ACCEPT_H

#include <stdbool.h>

/* True when application/json gets a strictly higher q than text/html, or
 * the same q from a more specific range (JSON named, HTML only through a
 * wildcard). NULL or empty means HTML. Never reads past the terminating NUL. */
bool http_accept_prefers_json(const char *accept);

#endif
