/*
 * Routing, and the routes the server keeps for itself: /healthz, /metrics,
 * /robots.txt, /admin (admin_page.c), /favicon.ico (404) and, when the API
 * is off, /api (404). Free
 * of libmicrohttpd: a handler like redirect.c and api.c.
 */
#ifndef SHORTD_HTTP_BUILTIN_H
#define SHORTD_HTTP_BUILTIN_H

#include "api.h"
#include "clicks.h"
#include "http.h"
#include "metrics.h"
#include "store.h"

enum http_route {
	HTTP_ROUTE_REDIRECT,
	HTTP_ROUTE_ROOT,
	HTTP_ROUTE_HEALTH,
	HTTP_ROUTE_ROBOTS,
	HTTP_ROUTE_FAVICON,
	HTTP_ROUTE_METRICS,
	HTTP_ROUTE_API,
	HTTP_ROUTE_ADMIN,
};

/* The requests being answered now, for /metrics. */
typedef long (*http_builtin_in_flight_fn)(const void *arg);

struct http_builtin {
	struct store *store;
	struct clicks *clicks; /* NULL: none counted */
	struct api *api;       /* NULL: /api answers 404 */
	struct metrics *metrics;
	http_builtin_in_flight_fn in_flight; /* called with in_flight_arg */
	const void *in_flight_arg;
};

/* The route of a decoded path; anything not the server's own or the API's
 * is a short link's. */
enum http_route http_route_of(const char *path);

/* The route's label in the metrics. */
enum metrics_route http_route_metric(enum http_route route);

/* Answers req on any route but HTTP_ROUTE_REDIRECT. */
void http_builtin_handle(const struct http_builtin *b, enum http_route route, const struct http_request *req,
                         struct http_response *resp);

#endif
