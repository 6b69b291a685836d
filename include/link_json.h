/*
 * The Link JSON shape of SPEC.md, written with Jansson (or straight as text,
 * link_json_write). Shared by the API and `shortd get`, so both print the
 * same document.
 */
#ifndef SHORTD_LINK_JSON_H
#define SHORTD_LINK_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "link.h"

/* A new JSON object for l; clicks is the total to show (store plus pending).
 * The caller owns the result (json_decref); NULL when out of memory. */
json_t *link_json_encode(const struct link *l, const char *base_url, int64_t clicks);

/* A new JSON string for t in RFC 3339 UTC, or JSON null for LINK_NO_TIME.
 * The caller owns the result; NULL when out of memory. */
json_t *link_json_time_or_null(int64_t t);

/* JSON text being written: data (NUL-terminated, the caller frees it)
 * grows as pieces are put; once failed (out of memory, or a string that is
 * not UTF-8), every later put fails too. Start from all zeros. */
struct link_json_text {
	char *data;
	size_t len, cap;
	bool failed;
};

/* Appends size bytes of piece; 0, or -1 when out of memory. */
int link_json_text_put(struct link_json_text *t, const char *piece, size_t size);

/* Appends json_dumps(j, flags); 0 or -1. */
int link_json_text_dump(struct link_json_text *t, const json_t *j, size_t flags);

/* Appends what link_json_dumps(link_json_encode(l, base_url, clicks),
 * JSON_COMPACT) writes, byte for byte, without building the object (a
 * bulk create answers 1,000 Links); 0, or -1 when out of memory or when a
 * text field is not UTF-8 (as link_json_encode then fails). */
int link_json_write(struct link_json_text *t, const struct link *l, const char *base_url, int64_t clicks);

/* json_dumps(j, flags), or NULL when out of memory, whichever part of the
 * document it ran out in. (Jansson 2.14's json_dumps does not check the
 * writing of an object's keys: a key it had no memory for is left out of
 * the text, which is then no longer JSON, and it answers with that.) The
 * caller frees the result. */
char *link_json_dumps(const json_t *j, size_t flags);

/* Writes base_url + "/" + code into out; returns 0 or -1 when too small. */
int link_json_short_url(const char *base_url, const char *code, char *out, size_t outsize);

#endif
