/*
 * The Link JSON shape of SPEC.md, written with Jansson. Shared by the API
 * and `shortd get`, so both print the same document.
 */
#ifndef SHORTD_LINK_JSON_H
#define SHORTD_LINK_JSON_H

#include <jansson.h>

#include "link.h"

/* A new JSON object for l; clicks is the total to show (store plus pending).
 * The caller owns the result (json_decref); NULL when out of memory. */
json_t *link_json_encode(const struct link *l, const char *base_url, int64_t clicks);

/* A new JSON string for t in RFC 3339 UTC, or JSON null for LINK_NO_TIME.
 * The caller owns the result; NULL when out of memory. */
json_t *link_json_time_or_null(int64_t t);

/* Writes base_url + "/" + code into out; returns 0 or -1 when too small. */
int link_json_short_url(const char *base_url, const char *code, char *out, size_t outsize);

#endif
