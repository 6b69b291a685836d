/*
 * The admin JSON API under /api/v1: links (create, read, list, update,
 * delete) and their click stats, and the tokens themselves (list, create,
 * revoke; admin tokens only), behind Bearer tokens; its OpenAPI document
 * at /api/v1/openapi.json, without a token. JSON in and out with
 * Jansson; every rule on a link is link_admin.c's, so the API and the CLI accept
 * and refuse the same input. A refused request changes nothing.
 */
#ifndef SHORTD_API_H
#define SHORTD_API_H

#include "clicks.h"
#include "config.h"
#include "http.h"
#include "store.h"

/* The largest request body the API reads; the server keeps a body up to
 * this size for an API route and answers 413 past it (through the API).
 * Room for a bulk create of API_BULK_MAX links of about 1 KiB each. */
#define API_BODY_MAX (1024 * 1024)
#define API_BULK_MAX 1000 /* links in one bulk create */
#define API_LIST_DEFAULT 100
#define API_LIST_MAX 1000
#define API_QUERY_MAX 512 /* bytes of ?q=, decoded */
#define API_STATS_DAYS_DEFAULT 30
#define API_STATS_DAYS_MAX 366
#define API_STATS_REFERRERS 10

/* doc/openapi.json as built in (tools/embed_openapi.sh), NUL-terminated. */
extern const char api_openapi_json[];
extern const size_t api_openapi_json_len;

struct api;

/*
 * Makes the API over store and clicks (which may be NULL: no pending clicks).
 * cfg is read at each request (its base_url is completed once the server has
 * bound). admin_token, when not NULL, is a fixed admin token (only its hash
 * is kept). Each request's token use is handed to clicks, which writes the
 * tokens' last_used_at in its batches. Returns 0, or -1 when out of memory.
 */
int api_new(const struct config *cfg, struct store *store, struct clicks *clicks, const char *admin_token,
            struct api **out);

/* Frees the API; accepts NULL. */
void api_free(struct api *a);

/*
 * Answers one request for a path under /api. Fills resp: status, JSON body in
 * resp->body_heap (malloc'd; the caller frees it, http_server.c through
 * libmicrohttpd), Cache-Control: no-store, nosniff, Allow on 405 and
 * WWW-Authenticate on 401. Never fails: errors are answered as JSON.
 */
void api_handle(struct api *a, const struct http_request *req, struct http_response *resp);

#endif
