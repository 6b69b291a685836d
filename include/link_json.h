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

/* json_dumps(j, flags), or NULL when out of memory, whichever part of the
 * document it ran out in. (Jansson 2.14's json_dumps does not check the
 * writing of an object's keys: a key it had no memory for is left out of
 * the text, which is then no longer JSON, and it answers with that.) The
 * caller frees the result. */
char *link_json_dumps(const json_t *j, size_t flags);

/* Writes base_url + "/" + code into out; returns 0 or -1 when too small. */
int link_json_short_url(const char *base_url, const char *code, char *out, size_t outsize);

#endif
