/*
 * The hot path: a code becomes a link, the link a redirect. No allocation,
 * no lock shared by all workers, no disk write: the lookup uses the calling
 * thread's read connection and the click goes to that thread's ring.
 */
#ifndef SHORTD_REDIRECT_H
#define SHORTD_REDIRECT_H

#include "clicks.h"
#include "config.h"
#include "http.h"
#include "store.h"

/* Large enough for a Location of LINK_URL_MAX plus a merged query of the same
 * size, and for the HTML page that escapes it. */
#define REDIRECT_LOCATION_MAX (2 * LINK_URL_MAX + 2)
#define REDIRECT_PAGE_MAX (6 * REDIRECT_LOCATION_MAX + 256)

struct redirect_ctx;

/* Makes the redirect handler over cfg, store and clicks (borrowed for its
 * life; clicks may be NULL: nothing is counted). 0, or -1 when out of memory
 * or out of thread keys. */
int redirect_ctx_new(const struct config *cfg, struct store *store, struct clicks *clicks, struct redirect_ctx **out);

/* Frees ctx; no thread may call redirect_handle() on it any more. Accepts
 * NULL. */
void redirect_ctx_free(struct redirect_ctx *ctx);

/*
 * Answers req for path "/{code}": the link's redirect, 404, 410, or 503 when
 * the store fails (or the calling thread's answer cannot be made). Fills
 * resp; never fails. A redirect's Location, Cache-Control and page live in
 * the calling thread's answer, valid until its next call; the page is made
 * by resp->make_body, only when the reply is built, so a sender that reuses
 * a prepared reply (the same status and Location) never builds it.
 */
void redirect_handle(const struct redirect_ctx *ctx, const struct http_request *req, struct http_response *resp);

/* Cache-Control for a redirect status: public with max-age for 301 and 308,
 * "private, no-store" for 302, 303 and 307. */
const char *redirect_cache_control(int status, char *buf, size_t size, unsigned max_age);

#endif
