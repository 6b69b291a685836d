/*
 * The Link JSON shape of SPEC.md, written with Jansson. Shared by the API
 * and `shortd get`, so both print the same document.
 */
#ifndef SHORTD_LINKJSON_H
#define SHORTD_LINKJSON_H

#include <jansson.h>

#include "link.h"

/* A new JSON object for l; clicks is the total to show (store plus pending).
 * The caller owns the result (json_decref); NULL when out of memory. */
json_t *linkjson_encode(const struct link *l, const char *base_url, int64_t clicks);

/* Writes base_url + "/" + code into out; returns 0 or -1 when too small. */
int linkjson_short_url(const char *base_url, const char *code, char *out, size_t outsize);

#endif
