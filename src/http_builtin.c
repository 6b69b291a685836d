/*
 * Routing and the server's own routes (include/http_builtin.h).
 */
#include "http_builtin.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "admin_page.h"
#include "clicks.h"

/* Most paths are short codes: the byte after the slash picks the one or
 * two built-in names worth comparing. */
enum http_route http_route_of(const char *path)
{
	if (path[0] != '/')
		return HTTP_ROUTE_REDIRECT;
	switch (path[1]) {
	case '\0':
		return HTTP_ROUTE_ROOT;
	case 'h':
		return strcmp(path, "/healthz") == 0 ? HTTP_ROUTE_HEALTH : HTTP_ROUTE_REDIRECT;
	case 'r':
		return strcmp(path, "/robots.txt") == 0 ? HTTP_ROUTE_ROBOTS : HTTP_ROUTE_REDIRECT;
	case 'f':
		return strcmp(path, "/favicon.ico") == 0 ? HTTP_ROUTE_FAVICON : HTTP_ROUTE_REDIRECT;
	case 'm':
		return strcmp(path, "/metrics") == 0 ? HTTP_ROUTE_METRICS : HTTP_ROUTE_REDIRECT;
	case 'a':
	case 'A': /* /api in lower case only, /admin in any case */
		if (strcmp(path, "/api") == 0 || strncmp(path, "/api/", 5) == 0)
			return HTTP_ROUTE_API;
		return strncasecmp(path, "/admin", 6) == 0 ? HTTP_ROUTE_ADMIN : HTTP_ROUTE_REDIRECT;
	default:
		return HTTP_ROUTE_REDIRECT;
	}
}

enum metrics_route http_route_metric(enum http_route route)
{
	static const enum metrics_route metric[] = {
	    [HTTP_ROUTE_REDIRECT] = METRICS_ROUTE_REDIRECT, [HTTP_ROUTE_ROOT] = METRICS_ROUTE_ROOT,
	    [HTTP_ROUTE_HEALTH] = METRICS_ROUTE_HEALTH,     [HTTP_ROUTE_ROBOTS] = METRICS_ROUTE_ROBOTS,
	    [HTTP_ROUTE_FAVICON] = METRICS_ROUTE_FAVICON,   [HTTP_ROUTE_METRICS] = METRICS_ROUTE_METRICS,
	    [HTTP_ROUTE_API] = METRICS_ROUTE_API,           [HTTP_ROUTE_ADMIN] = METRICS_ROUTE_ADMIN,
	};

	return metric[route];
}

/* GET /metrics: the counters in the Prometheus text format. */
static void answer_metrics(const struct http_builtin *b, struct http_response *resp)
{
	struct metrics_snapshot snap = {0};
	char *text;
	size_t len;

	if (b->clicks != NULL)
		clicks_get_stats(b->clicks, &snap.clicks);
	snap.in_flight = b->in_flight(b->in_flight_arg);
	if (metrics_render(b->metrics, &snap, &text, &len) != 0) {
		http_response_fixed(resp, 503, HTTP_FIXED_UNAVAILABLE_HTML);
		return;
	}
	resp->status = 200;
	resp->body_heap = text;
	resp->body = text;
	resp->body_len = len;
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	resp->cache_control = "no-store";
}

/* GET /healthz: 200 ok when the store answers; else 503 with what is
 * wrong (not where: the paths are in the log) and what this node still
 * does, a line each. */
static void answer_health(const struct http_builtin *b, struct http_response *resp)
{
	int rc = store_ping(b->store);
	struct clicks_stats cs = {0};
	const char *why;
	char *text;

	if (rc == STORE_OK) {
		http_response_fixed(resp, 200, HTTP_FIXED_HEALTH_OK);
		return;
	}
	if (rc == STORE_GONE)
		why = ": the database file was moved, deleted or replaced";
	else if (store_is_shared(b->store))
		why = ": the database server cannot be reached";
	else
		why = "";
	if (b->clicks != NULL)
		clicks_get_stats(b->clicks, &cs);
	if (asprintf(&text,
	             "store unavailable%s\n"
	             "redirects: links this node has cached answer as they were; others answer 503\n"
	             "writes: answer 503\n"
	             "clicks: %" PRIu64 " wait in memory, written when the store is back\n",
	             why, cs.waiting) < 0) {
		http_response_fixed(resp, 503, HTTP_FIXED_HEALTH_FAIL);
		return;
	}
	http_response_error(resp, 503, text);
	resp->body_heap = text;
	resp->nosniff = true;
}

void http_builtin_handle(const struct http_builtin *b, enum http_route route, const struct http_request *req,
                         struct http_response *resp)
{
	bool read = req->method == HTTP_GET || req->method == HTTP_HEAD;

	switch (route) {
	case HTTP_ROUTE_HEALTH:
		if (read)
			answer_health(b, resp);
		else
			http_response_fixed(resp, 405, HTTP_FIXED_METHOD_NOT_ALLOWED);
		return;
	case HTTP_ROUTE_ROBOTS:
		if (read)
			http_response_fixed(resp, 200, HTTP_FIXED_ROBOTS);
		else
			http_response_fixed(resp, 405, HTTP_FIXED_METHOD_NOT_ALLOWED);
		return;
	case HTTP_ROUTE_API:
		if (b->api != NULL)
			api_handle(b->api, req, resp);
		else
			http_response_fixed(resp, 404, HTTP_FIXED_NOT_FOUND_JSON);
		return;
	case HTTP_ROUTE_METRICS:
		if (read)
			answer_metrics(b, resp);
		else
			http_response_fixed(resp, 405, HTTP_FIXED_METHOD_NOT_ALLOWED);
		return;
	case HTTP_ROUTE_ADMIN:
		if (!admin_page_handle(req, resp))
			http_response_fixed(resp, 404, HTTP_FIXED_NOT_FOUND_HTML);
		return;
	default:
		http_response_fixed(resp, 404, HTTP_FIXED_NOT_FOUND_HTML);
		return;
	}
}
