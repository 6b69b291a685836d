/*
 * Prepared libmicrohttpd responses: the fixed ones (404, 410, 503, robots,
 * health, 405), built once at start and shared by every request, and each
 * worker thread's table of redirects asked for again: a redirect is kept
 * from its second request in a row to its slot.
 */
#ifndef SHORTD_HTTP_RESPCACHE_H
#define SHORTD_HTTP_RESPCACHE_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"

struct http_respcache;
struct http_respcache_slot;

/* Builds the fixed responses and, when redirects is true, readies the
 * per-worker tables (made on each worker's first use). 0, or -1 when out
 * of memory. */
int http_respcache_new(bool redirects, struct http_respcache **out);

/* Drops every response; no worker may run any more. Accepts NULL. */
void http_respcache_free(struct http_respcache *c);

/* The shared response for which (not HTTP_FIXED_NONE). */
struct MHD_Response *http_respcache_fixed(const struct http_respcache *c, enum http_fixed which);

/* Turns resp, set to a fixed response (not HTTP_FIXED_NONE), into the same reply spelled out
 * (body, type, cache, Allow), for one that must carry its own headers. */
void http_respcache_spell_out(struct http_response *resp);

/* The body length of a fixed response (not HTTP_FIXED_NONE). */
size_t http_respcache_fixed_len(enum http_fixed which);

/* The calling worker's slot for resp, a redirect whose Location is
 * location_len bytes long, and in *sig its signature there; NULL when such
 * a response is not kept (or the table is off or could not be made). */
struct http_respcache_slot *http_respcache_slot(struct http_respcache *c, const struct http_response *resp,
                                                size_t location_len, uint32_t *sig);

/* The response s holds when it is the one resp would build, with
 * resp->body_len set for the access log (and the last miss s remembered
 * forgotten: a request for the one it holds comes between); NULL
 * otherwise. */
struct MHD_Response *http_respcache_hit(struct http_respcache_slot *s, struct http_response *resp, size_t location_len);

/* Whether a response for the redirect of signature sig, which s does not
 * hold, is worth keeping there: true when sig was the last one s missed,
 * so that it is asked for again; false, remembering sig, the first time,
 * so that a link asked for once never pushes out one asked for often. */
bool http_respcache_admit(struct http_respcache_slot *s, uint32_t sig);

/* Keeps r, built for resp, in s; the reference is the caller's own, which s
 * takes over (dropping the one it held). */
void http_respcache_keep(struct http_respcache_slot *s, struct MHD_Response *r, const struct http_response *resp,
                         size_t location_len);

#endif
