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

struct redirect_ctx {
	const struct config *cfg;
	struct store *store;
	struct clicks *clicks;
};

/* Answers req for path "/{code}": the link's redirect, 404, 410, or 503 when
 * the store fails. Fills resp; never fails. */
void redirect_handle(const struct redirect_ctx *ctx, const struct http_request *req,
		     struct http_response *resp);

/* Builds the page of a redirect answered by redirect_handle() into the
 * response's body (content type, length); nothing when none is pending.
 * Separate so that a reused response skips it. */
void redirect_page(struct http_response *resp);

/* Cache-Control for a redirect status: public with max-age for 301 and 308,
 * "private, no-store" for 302, 303 and 307. */
const char *redirect_cache_control(int status, char *buf, size_t size, unsigned max_age);

#endif
