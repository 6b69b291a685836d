/*
 * The HTTP server: the one module that talks to libmicrohttpd.
 *
 * Per connection, a struct conn is made when the connection opens and freed
 * when it closes; each request on it reuses the conn's struct req, so a
 * keep-alive redirect allocates nothing here. The URI log callback keeps the
 * raw query (libmicrohttpd decodes it in place afterwards) and hands the
 * struct req back as the request's context.
 *
 * When to answer (libmicrohttpd closes the connection after a response
 * queued at the first call, and cannot queue one while a body streams in):
 * - no body: at the second call, keeping the connection alive;
 * - "Expect: 100-continue": at the first call, without reading the body;
 * - a body with a length over the limit: at the first call, then close;
 * - any other body: drained (or, for the API, kept up to its limit) and
 *   answered at the final call; a chunked body that passes the limit drops
 *   the connection, since no response can be queued mid-body.
 */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "acceptor.h"
#include "accesslog.h"
#include "api.h"
#include "conns.h"
#include "http.h"
#include "metrics.h"
#include "redirect.h"

#define QUERY_MAX 8192
#define API_BODY_MAX (64 * 1024)
/* libmicrohttpd zeroes a connection's whole pool after every request, so its
 * size is paid per redirect (64 KiB cost ~0.35 us more than 32 KiB, see
 * bench/RESULTS.md). 32 KiB holds the longest request line (8 KiB query)
 * with browser headers plus the longest Location (16 KiB). */
#define CONNECTION_MEMORY (32 * 1024)
/* Prepared redirect responses kept per worker thread, for links asked for
 * again: direct-mapped by (status, Location); a longer Location is not kept. */
#define RESP_SLOTS 256
#define RESP_LOCATION_MAX 255

enum route {
	ROUTE_REDIRECT,
	ROUTE_ROOT,
	ROUTE_HEALTH,
	ROUTE_ROBOTS,
	ROUTE_FAVICON,
	ROUTE_METRICS,
	ROUTE_API,
	ROUTE_ADMIN,
};

struct req {
	bool started;      /* the access handler has seen this request */
	bool query_too_long;
	bool body_too_large;
	bool body_lost; /* no memory to keep the API body: 503 */
	bool has_query;
	int refused; /* 400 or 501: framing a proxy could read otherwise (smuggling) */
	enum route route;
	uint64_t start_ns; /* monotonic, at the request's first callback */
	const char *version; /* libmicrohttpd's, valid for the request */
	const char *accept;  /* header values, libmicrohttpd's, valid for the request */
	const char *user_agent;
	const char *referer;
	uint64_t drained;
	char *body; /* API bodies only */
	size_t body_len;
	size_t body_cap;
	char query[QUERY_MAX + 1];
};

/* r comes first: a request's context (struct req *) is also its conn. */
struct conn {
	struct req r;
	struct conns_slot slot;
	bool linger; /* answered before its body: drain what follows the close */
};

struct server {
	struct MHD_Daemon *d;
	struct acceptor *acceptor; /* owns the listening socket */
	struct conns *conns; /* admission, deadlines, eviction */
	const struct config *cfg;
	struct store *store;
	struct clicks *clicks;
	struct api *api;
	struct redirect_ctx redirect;
	unsigned port;
	_Atomic long inflight;
	struct metrics *metrics;
	struct accesslog *access_log; /* NULL: no access log */
	struct MHD_Response *fixed[HTTP_FIXED_COUNT];
	bool resp_cache_on; /* resp_key and resp_lock exist */
	pthread_key_t resp_key; /* a worker's struct resp_cache */
	pthread_mutex_t resp_lock; /* guards the list of caches */
	struct resp_cache *resp_caches;
};

/* Each route's label in the metrics. */
static const enum metrics_route route_metric[] = {
	[ROUTE_REDIRECT] = METRICS_ROUTE_REDIRECT, [ROUTE_ROOT] = METRICS_ROUTE_ROOT,
	[ROUTE_HEALTH] = METRICS_ROUTE_HEALTH,     [ROUTE_ROBOTS] = METRICS_ROUTE_ROBOTS,
	[ROUTE_FAVICON] = METRICS_ROUTE_FAVICON,   [ROUTE_METRICS] = METRICS_ROUTE_METRICS,
	[ROUTE_API] = METRICS_ROUTE_API,           [ROUTE_ADMIN] = METRICS_ROUTE_ADMIN,
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- fixed responses ---- */

static const struct {
	enum http_fixed id;
	const char *type;
	const char *cache;
	const char *body;
} fixed_defs[] = {
	{HTTP_FIXED_NOT_FOUND_HTML, "text/html; charset=utf-8", "no-store",
	 "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Not found</title></head>"
	 "<body><h1>Not found</h1><p>There is no link here.</p></body></html>\n"},
	{HTTP_FIXED_NOT_FOUND_JSON, "application/json", "no-store",
	 "{\"error\":{\"code\":\"not_found\",\"message\":\"no link has this code\"}}\n"},
	{HTTP_FIXED_GONE_HTML, "text/html; charset=utf-8", "no-store",
	 "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Gone</title></head>"
	 "<body><h1>Gone</h1><p>This link has expired, was disabled or has run out of clicks.</p></body></html>\n"},
	{HTTP_FIXED_GONE_JSON, "application/json", "no-store",
	 "{\"error\":{\"code\":\"gone\",\"message\":\"this link has expired, was disabled or has run out of "
	 "clicks\"}}\n"},
	{HTTP_FIXED_ROBOTS, "text/plain; charset=utf-8", "public, max-age=86400",
	 "# Short links are redirects: there is nothing here to index.\nUser-agent: *\nDisallow: /\n"},
	{HTTP_FIXED_HEALTH_OK, "text/plain; charset=utf-8", "no-store", "ok\n"},
	{HTTP_FIXED_HEALTH_FAIL, "text/plain; charset=utf-8", "no-store", "store unavailable\n"},
	{HTTP_FIXED_UNAVAILABLE_JSON, "application/json", "no-store",
	 "{\"error\":{\"code\":\"unavailable\",\"message\":\"the store is unavailable; try again\"}}\n"},
	{HTTP_FIXED_UNAVAILABLE_HTML, "text/html; charset=utf-8", "no-store",
	 "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Unavailable</title></head>"
	 "<body><h1>Service unavailable</h1><p>Try again in a moment.</p></body></html>\n"},
	{HTTP_FIXED_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8", "no-store", "method not allowed\n"},
};

static int build_fixed(struct server *srv)
{
	for (size_t i = 0; i < sizeof(fixed_defs) / sizeof(fixed_defs[0]); i++) {
		struct MHD_Response *r = MHD_create_response_from_buffer(
			strlen(fixed_defs[i].body), (void *)fixed_defs[i].body, MHD_RESPMEM_PERSISTENT);
		if (r == NULL)
			return -1;
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, fixed_defs[i].type);
		MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, fixed_defs[i].cache);
		MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
		if (fixed_defs[i].id == HTTP_FIXED_METHOD_NOT_ALLOWED)
			MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
		srv->fixed[fixed_defs[i].id] = r;
	}
	return 0;
}

static void free_fixed(struct server *srv)
{
	for (int i = 0; i < HTTP_FIXED_COUNT; i++) {
		if (srv->fixed[i] != NULL)
			MHD_destroy_response(srv->fixed[i]);
		srv->fixed[i] = NULL;
	}
}

/* ---- routing ---- */

static enum route route_of(const char *path)
{
	if (strcmp(path, "/") == 0)
		return ROUTE_ROOT;
	if (strcmp(path, "/healthz") == 0)
		return ROUTE_HEALTH;
	if (strcmp(path, "/robots.txt") == 0)
		return ROUTE_ROBOTS;
	if (strcmp(path, "/favicon.ico") == 0)
		return ROUTE_FAVICON;
	if (strcmp(path, "/metrics") == 0)
		return ROUTE_METRICS;
	if (strcmp(path, "/api") == 0 || strncmp(path, "/api/", 5) == 0)
		return ROUTE_API;
	if (strncasecmp(path, "/admin", 6) == 0)
		return ROUTE_ADMIN;
	return ROUTE_REDIRECT;
}

static void fixed(struct http_response *resp, int status, enum http_fixed which)
{
	resp->status = status;
	resp->fixed = which;
}

/* GET /metrics: the counters in the Prometheus text format. */
static void answer_metrics(struct server *srv, struct http_response *resp)
{
	struct metrics_snapshot snap = {0};
	char *text;
	size_t len;

	if (srv->clicks != NULL)
		clicks_get_stats(srv->clicks, &snap.clicks);
	snap.in_flight = atomic_load(&srv->inflight);
	if (metrics_render(srv->metrics, &snap, &text, &len) != 0) {
		fixed(resp, 503, HTTP_FIXED_UNAVAILABLE_HTML);
		return;
	}
	resp->status = 200;
	resp->body_heap = text;
	resp->body = text;
	resp->body_len = len;
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	resp->cache_control = "no-store";
}

/* Answers the routes the server keeps for itself. */
static void handle_own(struct server *srv, enum route route, const struct http_request *req,
		       struct http_response *resp)
{
	bool read = req->method == HTTP_GET || req->method == HTTP_HEAD;

	switch (route) {
	case ROUTE_HEALTH:
		if (!read)
			fixed(resp, 405, HTTP_FIXED_METHOD_NOT_ALLOWED);
		else if (store_ping(srv->store) == STORE_OK)
			fixed(resp, 200, HTTP_FIXED_HEALTH_OK);
		else
			fixed(resp, 503, HTTP_FIXED_HEALTH_FAIL);
		return;
	case ROUTE_ROBOTS:
		if (read)
			fixed(resp, 200, HTTP_FIXED_ROBOTS);
		else
			fixed(resp, 405, HTTP_FIXED_METHOD_NOT_ALLOWED);
		return;
	case ROUTE_API:
		if (srv->api != NULL)
			api_handle(srv->api, req, resp);
		else
			fixed(resp, 404, HTTP_FIXED_NOT_FOUND_JSON);
		return;
	case ROUTE_METRICS:
		if (read)
			answer_metrics(srv, resp);
		else
			fixed(resp, 405, HTTP_FIXED_METHOD_NOT_ALLOWED);
		return;
	default:
		fixed(resp, 404, HTTP_FIXED_NOT_FOUND_HTML);
		return;
	}
}

/* ---- sending ---- */

/* ---- prepared redirect responses ----
 *
 * Building a redirect's response costs libmicrohttpd a dozen allocations
 * (the response, its body, each header's entry, name and value). A link
 * asked for again within a few requests, as a popular link is, reuses the
 * one built last time: libmicrohttpd counts the references of a response
 * and sends one object on any number of connections. Each worker thread
 * keeps its own table, so no lock is taken; a slot holds one reference,
 * dropped when the slot is reused or at stop.
 *
 * A redirect's response is a function of its status and Location: the page
 * (redirect_page(), built only when the response is), the Cache-Control (by
 * status) and the Content-Type follow from them. The key also compares the
 * last two, so a response is reused only when every byte it would send is
 * the same.
 */
struct resp_slot {
	struct MHD_Response *r; /* NULL: empty */
	int status;
	const char *content_type; /* static strings, compared by address */
	size_t body_len;
	size_t location_len;
	char cache_control[48];
	char location[RESP_LOCATION_MAX + 1];
};

struct resp_cache {
	struct resp_cache *next;
	struct resp_slot slot[RESP_SLOTS];
};

static bool resp_is_cacheable(const struct http_response *resp, size_t location_len)
{
	return resp->fixed == HTTP_FIXED_NONE && resp->location != NULL && location_len <= RESP_LOCATION_MAX &&
	       !resp->close && resp->page_pending && resp->body_heap == NULL && resp->allow == NULL &&
	       resp->www_authenticate == NULL && !resp->nosniff && resp->cache_control != NULL &&
	       strlen(resp->cache_control) < sizeof(((struct resp_slot *)NULL)->cache_control);
}

/* The calling worker's table, made on its first use; NULL when off or out
 * of memory (the response is then built every time). */
static struct resp_cache *resp_cache_get(struct server *srv)
{
	struct resp_cache *c;

	if (!srv->resp_cache_on)
		return NULL;
	c = pthread_getspecific(srv->resp_key);
	if (c != NULL)
		return c;
	c = calloc(1, sizeof(*c));
	if (c == NULL || pthread_setspecific(srv->resp_key, c) != 0) {
		free(c);
		return NULL;
	}
	pthread_mutex_lock(&srv->resp_lock);
	c->next = srv->resp_caches;
	srv->resp_caches = c;
	pthread_mutex_unlock(&srv->resp_lock);
	return c;
}

static struct resp_slot *resp_slot_for(struct resp_cache *c, int status, const char *location, size_t len)
{
	uint32_t h = 2166136261u ^ (uint32_t)status;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)location[i]) * 16777619u;
	return &c->slot[h % RESP_SLOTS];
}

static bool resp_slot_matches(const struct resp_slot *s, const struct http_response *resp, size_t len)
{
	return s->r != NULL && s->status == resp->status && s->location_len == len &&
	       s->content_type == resp->content_type &&
	       memcmp(s->location, resp->location, len) == 0 && strcmp(s->cache_control, resp->cache_control) == 0;
}

/* Keeps r in slot s (the slot's reference is the caller's own). */
static void resp_slot_fill(struct resp_slot *s, struct MHD_Response *r, const struct http_response *resp,
			   size_t len)
{
	if (s->r != NULL)
		MHD_destroy_response(s->r);
	s->r = r;
	s->status = resp->status;
	s->content_type = resp->content_type;
	s->body_len = resp->body_len;
	s->location_len = len;
	memcpy(s->location, resp->location, len);
	s->location[len] = '\0';
	snprintf(s->cache_control, sizeof(s->cache_control), "%s", resp->cache_control);
}

/* Drops every table's references; no worker may run any more. */
static void resp_caches_free(struct server *srv)
{
	for (struct resp_cache *c = srv->resp_caches, *next; c != NULL; c = next) {
		next = c->next;
		for (size_t i = 0; i < RESP_SLOTS; i++)
			MHD_destroy_response(c->slot[i].r);
		free(c);
	}
	srv->resp_caches = NULL;
	if (srv->resp_cache_on) {
		pthread_key_delete(srv->resp_key);
		pthread_mutex_destroy(&srv->resp_lock);
		srv->resp_cache_on = false;
	}
}

static enum MHD_Result send_response(struct server *srv, struct MHD_Connection *con, struct http_response *resp)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	struct resp_slot *slot = NULL;
	size_t location_len = resp->location != NULL ? strlen(resp->location) : 0;
	struct resp_cache *cache = resp_is_cacheable(resp, location_len) ? resp_cache_get(srv) : NULL;

	if (cache != NULL) {
		slot = resp_slot_for(cache, resp->status, resp->location, location_len);
		if (resp_slot_matches(slot, resp, location_len)) {
			resp->body_len = slot->body_len; /* for the access log */
			return MHD_queue_response(con, (unsigned)resp->status, slot->r);
		}
	}
	redirect_page(resp);

	if (resp->fixed != HTTP_FIXED_NONE && !resp->close)
		return MHD_queue_response(con, (unsigned)resp->status, srv->fixed[resp->fixed]);
	if (resp->fixed != HTTP_FIXED_NONE) {
		/* A prebuilt body, but this reply must close: copy its headers. */
		for (size_t i = 0; i < sizeof(fixed_defs) / sizeof(fixed_defs[0]); i++) {
			if (fixed_defs[i].id == resp->fixed) {
				resp->body = fixed_defs[i].body;
				resp->body_len = strlen(fixed_defs[i].body);
				resp->content_type = fixed_defs[i].type;
				resp->cache_control = fixed_defs[i].cache;
			}
		}
		if (resp->fixed == HTTP_FIXED_METHOD_NOT_ALLOWED)
			resp->allow = "GET, HEAD";
	}
	if (resp->body_heap != NULL) {
		r = MHD_create_response_from_buffer(resp->body_len, resp->body_heap, MHD_RESPMEM_MUST_FREE);
		if (r == NULL)
			free(resp->body_heap);
		resp->body_heap = NULL;
	} else if (resp->body == resp->body_buf) {
		r = MHD_create_response_from_buffer(resp->body_len, resp->body_buf, MHD_RESPMEM_MUST_COPY);
	} else {
		r = MHD_create_response_from_buffer(resp->body_len, (void *)(resp->body ? resp->body : ""),
						    MHD_RESPMEM_PERSISTENT);
	}
	if (r == NULL)
		return MHD_NO;
	if (resp->location != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, resp->location);
	if (resp->cache_control != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, resp->cache_control);
	if (resp->content_type != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
	if (resp->allow != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, resp->allow);
	if (resp->www_authenticate != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, resp->www_authenticate);
	if (resp->nosniff)
		MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	if (resp->close)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	ret = MHD_queue_response(con, (unsigned)resp->status, r);
	if (slot != NULL)
		resp_slot_fill(slot, r, resp, location_len);
	else
		MHD_destroy_response(r);
	return ret;
}

static const char *header(struct MHD_Connection *con, const char *name)
{
	return MHD_lookup_connection_value(con, MHD_HEADER_KIND, name);
}

/* The body bytes a reply carries, for the access log. */
static uint64_t reply_bytes(const struct http_request *req, const struct http_response *resp)
{
	if (req->method == HTTP_HEAD)
		return 0;
	if (resp->fixed == HTTP_FIXED_NONE || resp->close)
		return resp->body_len; /* send_response filled it for a closing fixed reply */
	for (size_t i = 0; i < sizeof(fixed_defs) / sizeof(fixed_defs[0]); i++) {
		if (fixed_defs[i].id == resp->fixed)
			return strlen(fixed_defs[i].body);
	}
	return 0;
}

/* Counts a queued reply and logs it. Never logs the Authorization header. */
static void account(struct server *srv, struct MHD_Connection *con, const struct req *r,
		    const struct http_request *req, const struct http_response *resp)
{
	const union MHD_ConnectionInfo *ci;
	struct accesslog_entry e;

	metrics_request(srv->metrics, route_metric[r->route], resp->status, now_ns() - r->start_ns);
	if (srv->access_log == NULL)
		return;
	ci = MHD_get_connection_info(con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	e = (struct accesslog_entry){
		.peer = ci != NULL ? ci->client_addr : NULL,
		.forwarded_for = header(con, "X-Forwarded-For"),
		.when = req->now,
		.method = req->method_name,
		.path = req->path,
		.query = r->query_too_long ? NULL : req->query,
		.version = r->version,
		.status = resp->status,
		.bytes = reply_bytes(req, resp),
		.referer = req->referer,
		.user_agent = req->user_agent,
	};
	accesslog_write(srv->access_log, &e);
}

/* Builds the request, runs its handler, queues the reply and accounts for it. */
static enum MHD_Result answer(struct server *srv, struct MHD_Connection *con, struct req *r, const char *url,
			      const char *method, bool close)
{
	struct http_request req = {0};
	struct http_response resp;
	enum MHD_Result ret;

	req.method_name = method;
	req.method = http_method_parse(method);
	req.path = url;
	req.query = r->has_query ? r->query : NULL;
	req.accept = r->accept;
	req.user_agent = r->user_agent;
	req.referer = r->referer;
	req.now = (int64_t)time(NULL);
	http_response_init(&resp);

	if (r->refused != 0) {
		resp.status = r->refused;
		resp.content_type = "text/plain; charset=utf-8";
		resp.cache_control = "no-store";
		resp.body = r->refused == 501 ? "transfer coding not supported\n" : "malformed or ambiguous request\n";
		resp.body_len = strlen(resp.body);
	} else if (r->query_too_long) {
		resp.status = 414;
		resp.content_type = "text/plain; charset=utf-8";
		resp.cache_control = "no-store";
		resp.body = "URI too long\n";
		resp.body_len = strlen(resp.body);
	} else if (r->body_lost) {
		resp.status = 503;
		resp.fixed = HTTP_FIXED_UNAVAILABLE_JSON;
	} else if (r->route == ROUTE_REDIRECT) {
		redirect_handle(&srv->redirect, &req, &resp);
	} else {
		req.authorization = header(con, MHD_HTTP_HEADER_AUTHORIZATION);
		req.content_type = header(con, MHD_HTTP_HEADER_CONTENT_TYPE);
		req.body = r->body;
		req.body_len = r->body_len;
		req.body_too_large = r->body_too_large;
		handle_own(srv, r->route, &req, &resp);
	}
	resp.close = resp.close || close;
	ret = send_response(srv, con, &resp);
	if (ret == MHD_YES)
		account(srv, con, r, &req, &resp);
	return ret;
}

/* ---- libmicrohttpd callbacks ---- */

/* The length of a client address libmicrohttpd hands back (it keeps the
 * length to itself). */
static socklen_t addr_len(const struct sockaddr *sa)
{
	return sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

static void on_connection(void *cls, struct MHD_Connection *con, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct server *srv = cls;
	struct conn *c;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *fd = MHD_get_connection_info(con, MHD_CONNECTION_INFO_CONNECTION_FD);
		const union MHD_ConnectionInfo *addr = MHD_get_connection_info(con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

		metrics_connection_opened(srv->metrics);
		c = calloc(1, sizeof(*c));
		*socket_context = c;
		/* Without its state the connection gets 503 at its first
		 * request (on_request) and closes, counted until it does. */
		if (c != NULL)
			conns_open(srv->conns, &c->slot, fd->connect_fd, addr->client_addr,
				   addr_len(addr->client_addr));
	} else {
		const union MHD_ConnectionInfo *addr = MHD_get_connection_info(con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

		c = *socket_context;
		if (c != NULL && c->linger)
			conns_linger(srv->conns, c->slot.fd);
		if (c != NULL)
			conns_close(srv->conns, &c->slot);
		else
			conns_cancel(srv->conns, addr->client_addr, addr_len(addr->client_addr));
		metrics_connection_closed(srv->metrics);
		free(c);
		*socket_context = NULL;
	}
}

static bool has_control(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	}
	return false;
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *con)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(con, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct conn *c = ci != NULL ? ci->socket_context : NULL;
	const char *q;
	struct req *r;

	(void)cls;
	if (c == NULL)
		return NULL;
	r = &c->r;
	/* A kept-alive connection's next request: its headers are due. On a
	 * new connection they have been due since it opened. */
	if (conns_phase_of(&c->slot) == CONNS_IDLE)
		conns_phase(&c->slot, CONNS_HEADERS);
	r->started = false;
	r->query_too_long = false;
	r->body_too_large = false;
	r->body_lost = false;
	r->drained = 0;
	r->body_len = 0;
	r->has_query = false;
	r->accept = r->user_agent = r->referer = NULL;
	/* A control character in the target (libmicrohttpd keeps a bare CR
	 * there) makes the request invalid (RFC 9112 3.2, 2.2). */
	r->refused = has_control(uri) ? 400 : 0;
	q = strchr(uri, '?');
	if (q != NULL) {
		size_t n = strlen(q + 1);
		r->has_query = true;
		if (n > QUERY_MAX) {
			r->query_too_long = true;
			n = 0;
		}
		memcpy(r->query, q + 1, n);
		r->query[n] = '\0';
	}
	return r;
}

static void on_completed(void *cls, struct MHD_Connection *con, void **req_cls, enum MHD_RequestTerminationCode toe)
{
	struct server *srv = cls;
	struct req *r = *req_cls;

	(void)con;
	(void)toe;
	if (r == NULL)
		return;
	if (r->started)
		atomic_fetch_sub(&srv->inflight, 1);
	conns_phase(&((struct conn *)r)->slot, CONNS_IDLE);
	r->started = false;
	free(r->body);
	r->body = NULL;
	r->body_len = 0;
	r->body_cap = 0;
	*req_cls = NULL;
}

static bool parse_length(const char *v, uint64_t *out)
{
	char *end;
	unsigned long long n;

	if (v == NULL || *v < '0' || *v > '9')
		return false;
	n = strtoull(v, &end, 10);
	if (*end != '\0')
		return false;
	*out = n;
	return true;
}

static bool keep_body(struct req *r, const char *data, size_t size)
{
	if (r->body_len + size > API_BODY_MAX) {
		r->body_too_large = true;
		return true;
	}
	if (r->body_len + size + 1 > r->body_cap) { /* and room for the NUL */
		size_t cap = r->body_cap ? r->body_cap : 4096;
		char *nb;
		while (cap < r->body_len + size + 1)
			cap *= 2;
		nb = realloc(r->body, cap);
		if (nb == NULL)
			return false;
		r->body = nb;
		r->body_cap = cap;
	}
	memcpy(r->body + r->body_len, data, size);
	r->body_len += size;
	r->body[r->body_len] = '\0';
	return true;
}

/* What one pass over the request's headers finds: the framing to check,
 * and the first value of each header a request needs later. */
struct framing {
	unsigned content_length;
	unsigned transfer_encoding;
	bool chunked;
	bool malformed;
	const char *line_end; /* where the previous line's text ended */
	const char *length_value;
	const char *te_value;
	const char *expect;
	const char *accept;
	const char *user_agent;
	const char *referer;
};

/*
 * libmicrohttpd releases before 1.0 (0.9.75 in Debian 12, 0.9.76, 0.9.77 in
 * Ubuntu 24.04) parse the header block in place with a lenient parser:
 * they take a bare LF as a line end, and 0.9.75 and 0.9.76 append an
 * obs-fold line to a copy of the header's *name* (0.9.77 replaces the fold
 * with spaces in the value, as RFC 9112 5.2 allows). From 1.0 (the parser
 * rewritten on the development line after 0.9.77, MHD_VERSION 0x00097701)
 * MHD_OPTION_CLIENT_DISCIPLINE_LVL 1 refuses both with its own 400 before
 * shortd sees the request; before it, check_framing finds them by the
 * buffer's layout.
 */
#define SHORTD_MHD_HEADERS_IN_PLACE (MHD_VERSION < 0x00097701)

/* Keeps the first value of a header seen twice, as lookups by name do. */
static void keep_first(const char **slot, const char *value)
{
	if (*slot == NULL)
		*slot = value;
}

#if SHORTD_MHD_HEADERS_IN_PLACE
static bool is_ows(const char *p, const char *end)
{
	for (; p < end; p++) {
		if (*p != ' ' && *p != '\t')
			return false;
	}
	return true;
}
#endif

static enum MHD_Result check_framing(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
				     const char *value, size_t value_size)
{
	struct framing *f = cls;

	(void)kind;
	if (key_size == 14 && strncasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH, 14) == 0) {
		f->content_length++;
		keep_first(&f->length_value, value);
	} else if (key_size == 17 && strncasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING, 17) == 0) {
		f->transfer_encoding++;
		f->chunked = value != NULL && strcasecmp(value, "chunked") == 0;
		keep_first(&f->te_value, value);
	} else if (key_size == 6 && strncasecmp(key, MHD_HTTP_HEADER_EXPECT, 6) == 0) {
		keep_first(&f->expect, value);
	} else if (key_size == 6 && strncasecmp(key, MHD_HTTP_HEADER_ACCEPT, 6) == 0) {
		keep_first(&f->accept, value);
	} else if (key_size == 10 && strncasecmp(key, MHD_HTTP_HEADER_USER_AGENT, 10) == 0) {
		keep_first(&f->user_agent, value);
	} else if (key_size == 7 && strncasecmp(key, MHD_HTTP_HEADER_REFERER, 7) == 0) {
		keep_first(&f->referer, value);
	}
	if (strcspn(key, " \t") != key_size)
		f->malformed = true;
#if SHORTD_MHD_HEADERS_IN_PLACE
	/*
	 * SHORTD_MHD_HEADERS_IN_PLACE: each line is "name\0OWS value\0\0"
	 * after a CRLF. A folded line appended to a copy of the name (0.9.75,
	 * 0.9.76) and a bare LF, which leaves one NUL where CRLF leaves two,
	 * both break that layout, which is how they are found here.
	 */
	if (value == NULL || value < key + key_size + 1 || value > key + key_size + 1 + 1024 ||
	    key[key_size] != '\0' || !is_ows(key + key_size + 1, value))
		f->malformed = true;
	else if (f->line_end != NULL && key != f->line_end + 2)
		f->malformed = true;
	f->line_end = value != NULL ? value + value_size : NULL;
#else
	(void)value_size;
#endif
	return MHD_YES;
}

/*
 * Request smuggling: libmicrohttpd reads a body framed by the first of two
 * Content-Lengths; before 1.0 it also reads one framed by both
 * Content-Length and Transfer-Encoding (it takes the chunks), takes a bare
 * LF as a line end, joins an obs-fold line to the header's name and keeps a
 * name with a space before its colon (1.0 refuses those itself). A
 * proxy in front may read the same bytes otherwise, so such requests are
 * refused (RFC 9112 2.2, 5.1, 5.2, 6.1, 6.3) at the first call, which closes
 * the connection: 400, or 501 for a transfer coding other than chunked.
 */
static void read_headers(struct MHD_Connection *con, const char *version, struct framing *f)
{
	memset(f, 0, sizeof(*f));
#if SHORTD_MHD_HEADERS_IN_PLACE
	f->line_end = version != NULL ? version + strlen(version) : NULL;
#else
	(void)version;
#endif
	MHD_get_connection_values_n(con, MHD_HEADER_KIND, check_framing, f);
}

static int framing_refusal(const struct framing *f)
{
	if (f->malformed || f->content_length > 1 || f->transfer_encoding > 1 ||
	    (f->content_length > 0 && f->transfer_encoding > 0))
		return 400;
	if (f->transfer_encoding == 1 && !f->chunked)
		return 501;
	return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *con, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_data_size,
				  void **req_cls)
{
	struct server *srv = cls;
	struct req *r = *req_cls;
	struct conns_slot *slot;

	if (r == NULL) {
		/* No per-connection state (out of memory): 503, and close. */
		struct http_response resp;

		http_response_init(&resp);
		resp.status = 503;
		resp.fixed = HTTP_FIXED_UNAVAILABLE_JSON;
		resp.close = true;
		return send_response(srv, con, &resp);
	}
	slot = &((struct conn *)r)->slot;
	if (!r->started) {
		struct framing f;
		uint64_t length = 0, limit = srv->cfg->max_body;
		bool has_length, has_body;

		conns_phase(slot, CONNS_BUSY);
		read_headers(con, version, &f);
		has_length = parse_length(f.length_value, &length);
		has_body = (has_length && length > 0) || f.te_value != NULL;
		r->accept = f.accept;
		r->user_agent = f.user_agent;
		r->referer = f.referer;
		r->started = true;
		r->start_ns = now_ns();
		r->version = version;
		atomic_fetch_add(&srv->inflight, 1);
		r->route = route_of(url);
		if (r->refused == 0)
			r->refused = framing_refusal(&f);
		/* An answer before the body closes the connection: whatever
		 * the client (or a proxy) still sends is drained after the
		 * close, so that it can read the answer instead of a reset. */
		((struct conn *)r)->linger = has_body;
		if (r->refused != 0)
			return answer(srv, con, r, url, method, true);
		if (r->route == ROUTE_API)
			limit = API_BODY_MAX;
		if (!has_body)
			return MHD_YES;
		if (f.expect != NULL && strcasecmp(f.expect, "100-continue") == 0 && r->route != ROUTE_API)
			return answer(srv, con, r, url, method, true);
		if (has_length && length > limit) {
			r->body_too_large = true;
			return answer(srv, con, r, url, method, true);
		}
		((struct conn *)r)->linger = false; /* the body will be read */
		conns_phase(slot, CONNS_BODY);
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		size_t size = *upload_data_size;
		*upload_data_size = 0;
		r->drained += size;
		conns_body_bytes(slot, r->drained);
		if (r->route == ROUTE_API) {
			if (!r->body_lost && !keep_body(r, upload_data, size))
				r->body_lost = true; /* read the rest, answer 503 */
			return r->drained > srv->cfg->max_body + API_BODY_MAX ? MHD_NO : MHD_YES;
		}
		return r->drained > srv->cfg->max_body ? MHD_NO : MHD_YES;
	}
	if (conns_phase_of(slot) == CONNS_BODY)
		conns_phase(slot, CONNS_BUSY);
	return answer(srv, con, r, url, method, false);
}

/* ---- start and stop ---- */

/* Opens the listening socket ourselves, so the bound port (for port 0) and
 * the base URL are known before the first request can arrive. */
static int listen_socket(const struct config *cfg, int *fd_out, unsigned *port, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;
	bool v6;

	memset(&ss, 0, sizeof(ss));
	v6 = strchr(cfg->listen_host, ':') != NULL;
	if (v6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)cfg->listen_port);
		inet_pton(AF_INET6, cfg->listen_host, &a->sin6_addr);
		len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)cfg->listen_port);
		inet_pton(AF_INET, cfg->listen_host, &a->sin_addr);
		len = sizeof(*a);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create a socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 1024) != 0) {
		snprintf(err, errlen, "cannot listen on %s%s%s:%u: %s", v6 ? "[" : "", cfg->listen_host, v6 ? "]" : "",
			 cfg->listen_port, strerror(errno));
		close(fd);
		return -1;
	}
	len = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &len);
	*port = ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port);
	*fd_out = fd;
	return 0;
}

static void quiet_logger(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	(void)fmt;
	(void)ap;
}

/* The acceptor's callback. Admission is decided here (src/conns.c), not by
 * libmicrohttpd: in 0.9.75 a connection handed over with MHD_add_connection
 * that a worker then finds over the library's limit leaves a mutex locked
 * and hangs that worker, and its per-address limit cannot exempt a trusted
 * proxy. So the library's limits are set out of reach and a connection
 * refused here is closed unanswered, as the library would. A connection the
 * library took but then could not set up (no memory for its pool) is never
 * reported closed and stays counted: a slot lost only when memory runs out. */
static void hand_over(void *arg, int fd, const struct sockaddr *addr, socklen_t addrlen)
{
	struct server *srv = arg;

	if (!conns_admit(srv->conns, addr, addrlen)) {
		close(fd);
		return;
	}
	if (MHD_add_connection(srv->d, fd, addr, addrlen) != MHD_YES)
		conns_cancel(srv->conns, addr, addrlen);
}

/* The acceptor's timer: closes overdue connections off the workers' path. */
static bool sweep(void *arg)
{
	struct server *srv = arg;

	return conns_sweep(srv->conns);
}

/* Frees what server_start made besides the daemon and the acceptor. */
static void server_free(struct server *srv)
{
	free_fixed(srv);
	resp_caches_free(srv);
	metrics_free(srv->metrics);
	conns_free(srv->conns);
	free(srv);
}

int server_start(const struct server_deps *deps, struct server **out, char *err, size_t errlen)
{
	struct server *srv = calloc(1, sizeof(*srv));
	/* epoll, with the listening socket ours (src/acceptor.c): stopping
	 * then never calls MHD_quiesce_daemon, which in libmicrohttpd 0.9.75
	 * races epoll workers over the listening socket and aborts the
	 * process. */
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_NO_LISTEN_SOCKET;
	unsigned threads = deps->cfg->threads > 1 ? deps->cfg->threads : 1;
	int fd = -1;

	*out = NULL;
	if (srv == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	srv->cfg = deps->cfg;
	srv->store = deps->store;
	srv->clicks = deps->clicks;
	srv->api = deps->api;
	srv->access_log = deps->access_log;
	srv->redirect = (struct redirect_ctx){deps->cfg, deps->store, deps->clicks};
	if (build_fixed(srv) != 0 || metrics_new(&srv->metrics) != 0 || conns_new(deps->cfg, &srv->conns) != 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	/* --link-cache 0 turns every cache of the redirect path off. */
	if (deps->cfg->link_cache_mb > 0 && pthread_key_create(&srv->resp_key, NULL) == 0) {
		pthread_mutex_init(&srv->resp_lock, NULL);
		srv->resp_cache_on = true;
	}
	if (listen_socket(deps->cfg, &fd, &srv->port, err, errlen) != 0)
		goto fail;
	config_finish_base_url(deps->cfg, srv->port);
	srv->d = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, srv,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)(threads > 1 ? threads : 0),
		/* Each worker gets 1/threads of this: with all of ours (twice
		 * --max-connections at most, counting those shut down to make
		 * room and not yet closed) on one worker, it is still under it.
		 * The per-address limit is src/conns.c's. */
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)(2 * deps->cfg->max_connections * threads + 1),
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)0,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)deps->cfg->timeout,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
#if SHORTD_MHD_HEADERS_IN_PLACE
		MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
#else
		/* Strict within what RFC 9110/9112 allow a server: no bare LF,
		 * obs-fold, space in or before a header's name, or
		 * Content-Length with Transfer-Encoding. */
		MHD_OPTION_CLIENT_DISCIPLINE_LVL, (int)1,
#endif
		MHD_OPTION_EXTERNAL_LOGGER, quiet_logger, NULL,
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv,
		MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
		MHD_OPTION_END);
	if (srv->d == NULL) {
		snprintf(err, errlen, "cannot start the HTTP server on %s:%u", deps->cfg->listen_host, srv->port);
		goto fail;
	}
	if (acceptor_start(fd, hand_over, sweep, srv, &srv->acceptor) != 0) {
		snprintf(err, errlen, "cannot start accepting on %s:%u: %s", deps->cfg->listen_host, srv->port,
			 strerror(errno));
		MHD_stop_daemon(srv->d);
		goto fail;
	}
	*out = srv;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	server_free(srv);
	return -1;
}

unsigned server_port(struct server *srv)
{
	return srv->port;
}

void server_stop(struct server *srv, int grace_ms)
{
	if (srv == NULL)
		return;
	/* Closes the listening socket: from here a new client is refused. */
	acceptor_stop(srv->acceptor);
	for (int waited = 0; atomic_load(&srv->inflight) > 0 && waited < grace_ms; waited += 5) {
		struct timespec pause = {0, 5 * 1000000L};
		nanosleep(&pause, NULL);
	}
	MHD_stop_daemon(srv->d);
	server_free(srv);
}
