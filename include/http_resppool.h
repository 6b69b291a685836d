/*
 * Reusable libmicrohttpd responses for redirects, one pool per worker.
 *
 * Most clicks over a large set of links ask for one its worker has not
 * answered lately, which no kept response serves (include/http_respcache.h).
 * Building a response for it costs libmicrohttpd the response, three header
 * entries of three allocations each, and as many frees afterwards. A pooled
 * response keeps its Cache-Control, its Content-Type and a body buffer of its
 * own: the next redirect with the same status, Cache-Control, Content-Type
 * and body length gets it with the body overwritten and the Location
 * swapped, every byte it sends the same as a response built for it.
 *
 * An item is its taker's from http_resppool_take() to
 * http_resppool_give_back(): queued on one connection only, and given back
 * when libmicrohttpd reports that request completed or its connection
 * closed, after which it never sends from it again. So its bytes never
 * change while they may still be sent. A pool and its items are used by
 * one thread only.
 */
#ifndef SHORTD_HTTP_RESPPOOL_H
#define SHORTD_HTTP_RESPPOOL_H

#include <microhttpd.h>

#include "http.h"

struct http_resppool;
struct http_resppool_item;

/* An empty pool. 0, or -1 when out of memory. */
int http_resppool_new(struct http_resppool **out);

/* Drops the pool and the items given back to it; every item taken must have
 * been given back. Accepts NULL. */
void http_resppool_free(struct http_resppool *p);

/* An item whose response sends resp, a redirect whose page is made (body,
 * body_len): a free one of the same status, Cache-Control, Content-Type and
 * body length, rewritten, or a new one. NULL when resp is not such a plain
 * redirect (another header, a closing reply, a long page) or out of
 * memory: the caller then builds its own. */
struct http_resppool_item *http_resppool_take(struct http_resppool *p, const struct http_response *resp);

/* The item's response, to queue on the one connection that took it. */
struct MHD_Response *http_resppool_response(const struct http_resppool_item *it);

/* Hands it back to its pool for the next redirect of its kind (or drops it
 * when the pool keeps another of the same kind). */
void http_resppool_give_back(struct http_resppool_item *it);

#endif
