/*
 * The daemon's view of one HTTP exchange, free of libmicrohttpd: server.c
 * fills a struct http_request and hands it to a handler (redirect.c,
 * api.c), which fills a struct http_response that server.c then sends.
 * Handlers can therefore be unit-tested without a socket.
 */
#ifndef SHORTD_HTTP_H
#define SHORTD_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "link.h"

enum http_method {
	HTTP_GET,
	HTTP_HEAD,
	HTTP_POST,
	HTTP_PUT,
	HTTP_PATCH,
	HTTP_DELETE,
	HTTP_OPTIONS,
	HTTP_OTHER,
};

struct http_request {
	enum http_method method;
	const char *method_name;
	const char *path;  /* decoded path, without the query */
	const char *query; /* raw query after '?', or NULL */
	const char *accept;
	const char *user_agent;
	const char *referer;
	const char *authorization;
	const char *content_type;
	const char *body; /* the whole body for API requests; NULL on redirects */
	size_t body_len;
	bool body_too_large; /* the body passed the route's limit and was dropped */
	int64_t now; /* unix seconds */
};

/* Responses built once at start and shared by every request. */
enum http_fixed {
	HTTP_FIXED_NONE = 0,
	HTTP_FIXED_NOT_FOUND_HTML,
	HTTP_FIXED_NOT_FOUND_JSON,
	HTTP_FIXED_GONE_HTML,
	HTTP_FIXED_GONE_JSON,
	HTTP_FIXED_ROBOTS,
	HTTP_FIXED_HEALTH_OK,
	HTTP_FIXED_HEALTH_FAIL,
	HTTP_FIXED_UNAVAILABLE_JSON,
	HTTP_FIXED_UNAVAILABLE_HTML,
	HTTP_FIXED_METHOD_NOT_ALLOWED,
	HTTP_FIXED_COUNT,
};

/* Large enough for a Location of LINK_URL_MAX plus a merged query of the same
 * size, and for the HTML page that escapes it. */
#define HTTP_LOCATION_MAX (2 * LINK_URL_MAX + 2)
#define HTTP_BODY_MAX (6 * HTTP_LOCATION_MAX + 256)

struct http_response {
	int status;
	enum http_fixed fixed; /* when set, send that response and ignore the rest */
	const char *content_type;
	const char *cache_control;
	const char *allow;         /* for 405 */
	const char *www_authenticate; /* for 401 */
	bool nosniff;              /* send X-Content-Type-Options: nosniff */
	const char *const *headers; /* more headers: static name, value pairs ending in NULL */
	const char *location;      /* points into location_buf */
	const char *body;          /* static, or into body_buf */
	size_t body_len;
	char *body_heap;           /* malloc'd body that server.c frees (API) */
	bool close;                /* close the connection after the reply */
	bool page_pending;         /* the body is a redirect's page for location, built by
				    * redirect_page() only if the response is built */
	char cache_buf[48];
	char location_buf[HTTP_LOCATION_MAX];
	char body_buf[HTTP_BODY_MAX];
};

/* Classifies a method name; unknown names are HTTP_OTHER. */
enum http_method http_method_parse(const char *name);

/* Resets r to an empty 500 response. */
void http_response_init(struct http_response *r);

#endif
