/*
 * The HTTP server: the libmicrohttpd callbacks and sending. The one module
 * that drives libmicrohttpd (with http_respcache.c and http_resppool.c,
 * which hold its prepared and reusable responses); what it decides with is
 * libmicrohttpd-free: the framing and refusal table (http_framing.c), the
 * routes (http_builtin.c, redirect.c, api.c), the connection table
 * (http_conns.c) and the workers' listening sockets (http_listener.c). Each
 * worker thread is a daemon of its own that accepts from its own socket,
 * asking http_conns.c first (admit()).
 *
 * Per connection, a struct conn is taken when the connection opens (one its
 * worker kept from a closed connection, or a new one) and put back when it
 * closes; each request on it reuses the conn's struct req, emptied
 * by req_reset(), so a keep-alive redirect allocates nothing here. The URI
 * log callback sees the raw target (libmicrohttpd decodes it in place
 * afterwards): it keeps shortd's own decoding of the path, which every route
 * acts on, and the raw query, and hands the struct req back as the request's
 * context.
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
#include "http_server.h"

#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "accesslog.h"
#include "api.h"
#include "http.h"
#include "http_builtin.h"
#include "http_conns.h"
#include "http_framing.h"
#include "http_listener.h"
#include "http_respcache.h"
#include "http_resppool.h"
#include "http_worker.h"
#include "metrics.h"
#include "redirect.h"

#define QUERY_MAX 8192
/* The longest decoded path kept; a longer one is answered 414. The longest
 * path shortd serves is /api/v1/links/{64-byte code}/stats. */
#define PATH_MAX_LEN 1024
/* libmicrohttpd zeroes a connection's whole pool after every request, so its
 * size is paid per redirect (64 KiB cost ~0.35 us more than 32 KiB, see
 * bench/RESULTS.md). 32 KiB holds the longest request line (8 KiB query)
 * with browser headers plus the longest Location (16 KiB). */
#define CONNECTION_MEMORY (32 * 1024)
/*
 * libmicrohttpd releases before 1.0 (0.9.75 in Debian 12, 0.9.76, 0.9.77 in
 * Ubuntu 24.04) parse the header block in place with a lenient parser:
 * they take a bare LF as a line end, and 0.9.75 and 0.9.76 append an
 * obs-fold line to a copy of the header's *name* (0.9.77 replaces the fold
 * with spaces in the value, as RFC 9112 5.2 allows). From 1.0 (the parser
 * rewritten on the development line after 0.9.77, MHD_VERSION 0x00097701)
 * MHD_OPTION_CLIENT_DISCIPLINE_LVL 1 refuses both with its own 400 before
 * shortd sees the request; before it, on_header() and read_headers() find
 * them by the buffer's layout.
 */
#define SHORTD_MHD_HEADERS_IN_PLACE (MHD_VERSION < 0x00097701)

/*
 * MHD_OPTION_STRICT_FOR_CLIENT. In libmicrohttpd before 1.0.0 (0.9.75 to
 * 0.9.77), an error it finds once the header block is in
 * (parse_connection_headers(): no Host under strictness 1, a Content-Length
 * that is not a number) queues its own response and moves the connection to
 * sending its headers; MHD_connection_handle_idle() then overwrites that
 * state with HEADERS_PROCESSED, and the request runs on to START_REPLY,
 * which appends the header block again: the client reads two (fixed in
 * 1.0.0, commit f1bfbe71). So there (SHORTD_MHD_HEADERS_IN_PLACE)
 * strictness is 0 and shortd refuses a request without Host, or with two,
 * itself (http_framing_refusal()), in one
 * response of its own; a space in the target, which strictness 1 refuses by
 * closing the connection, is refused by http_target_parse(). A
 * Content-Length that is not a number is still found by libmicrohttpd
 * before shortd sees the request: that 400 stays libmicrohttpd's, twice.
 */
#define CLIENT_STRICTNESS 0

struct req {
	bool started; /* the access handler has seen this request */
	bool query_too_long;
	bool path_too_long;
	bool body_too_large;
	bool body_lost; /* no memory to keep the API body: 503 */
	bool has_query;
	int refused;             /* 400, 405, 501: a request refused before its route sees it */
	const char *refused_why; /* the refusal's one-line text */
	enum http_route route;
	uint64_t start_ns;   /* monotonic, at the request's first callback */
	const char *version; /* libmicrohttpd's, valid for the request */
	const char *accept;  /* header values, libmicrohttpd's, valid for the request */
	const char *user_agent;
	const char *referer;
	size_t target_len; /* of the raw target libmicrohttpd showed on_uri() */
	uint64_t drained;
	char *body; /* API bodies only */
	size_t body_len;
	size_t body_cap;
	struct http_resppool_item *pooled; /* the redirect's response, until the request ends */
	/* Last, the path first: a request writes the lines above and the
	 * path's first bytes; the query's 8 KiB only when it has one. */
	char path[PATH_MAX_LEN + 1]; /* decoded, without the query */
	char query[QUERY_MAX + 1];   /* valid while has_query && !query_too_long */
};

/*
 * A connection's state. A request's context (struct req *) is its r, and
 * conn_of() finds the conn from it. r comes last, so that what every
 * request on a kept-alive connection touches (the slot, r's fields, its
 * path) lies in a few adjacent cache lines: a connection's state has
 * left the CPU's nearer caches by the time its next request arrives.
 */
struct conn {
	struct http_conns_slot slot;
	bool linger;             /* answered before its body: drain what follows the close */
	struct conn *next_spare; /* in its lane's spares, once closed */
	struct req r;
};

static struct conn *conn_of(struct req *r)
{
	return (struct conn *)(void *)((char *)r - offsetof(struct conn, r));
}

/* The closed connections' states a worker keeps for its next ones: a
 * conn is over 9 KiB, past the C library's per-thread cache of small
 * blocks, so a malloc and a free per new connection cost ~600
 * instructions that a list of spares does not. */
#define LANE_SPARES_MAX 32

/* What a short link answers; the Allow of its 405. */
#define LINK_METHODS "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"

/* The one place a request's state is emptied: when its target arrives and
 * when it completes. The body a request kept is freed, and its pooled
 * response given back: libmicrohttpd sends nothing more from it. */
static void req_reset(struct req *r)
{
	if (r->body != NULL) {
		free(r->body);
		r->body = NULL;
	}
	if (r->pooled != NULL) {
		http_resppool_give_back(r->pooled);
		r->pooled = NULL;
	}
	r->body_len = 0;
	r->body_cap = 0;
	r->started = false;
	r->query_too_long = false;
	r->path_too_long = false;
	r->body_too_large = false;
	r->body_lost = false;
	r->has_query = false;
	r->refused = 0;
	r->refused_why = NULL;
	r->accept = r->user_agent = r->referer = NULL;
	r->drained = 0;
	r->path[0] = '\0';
}

static void refuse(struct req *r, int status, const char *why)
{
	r->refused = status;
	r->refused_why = why;
}

/*
 * What a worker's daemon hands its callbacks: the server, and the requests
 * in flight on that worker. Every callback of a daemon runs on its worker's
 * thread, so the count has one writer and needs no locked instruction; it
 * sits on a cache line of its own, so that a request writes nothing another
 * worker reads, and the server's fields stay read-only while it serves.
 */
struct lane {
	_Alignas(64) _Atomic long inflight;
	struct http_server *srv;
	struct http_resppool *pool; /* the worker's reusable redirects; NULL: off */
	struct conn *spares;        /* closed connections' states, for the next ones */
	unsigned nspares;
};

struct http_server {
	struct http_worker **workers; /* one per thread, nworkers of them started */
	unsigned nworkers;
	struct lane *lanes; /* one per thread, the same index as its worker */
	unsigned nlanes;
	struct http_listener *listener; /* the workers' listening sockets */
	struct http_conns *conns;       /* admission, deadlines, eviction */
	const struct config *cfg;
	struct store *store;
	struct clicks *clicks;
	struct http_builtin builtin; /* the server's own routes */
	struct redirect_ctx *redirect;
	unsigned port;
	struct metrics *metrics;
	struct accesslog *access_log;     /* NULL: no access log */
	struct http_respcache *responses; /* the fixed ones, and each worker's redirects */
};

/* One request more (+1) or fewer (-1) in flight on l's worker, from its
 * thread. */
static void lane_count(struct lane *l, long d)
{
	atomic_store_explicit(&l->inflight, atomic_load_explicit(&l->inflight, memory_order_relaxed) + d,
	                      memory_order_relaxed);
}

/* A new connection's state, not yet initialised: a spare of l's worker,
 * or a new one (NULL when out of memory). */
static struct conn *conn_take(struct lane *l)
{
	struct conn *c = l->spares;

	if (c == NULL)
		return malloc(sizeof(*c));
	l->spares = c->next_spare;
	l->nspares--;
	return c;
}

/* A closed connection's state: kept for l's next connection, or freed. */
static void conn_put(struct lane *l, struct conn *c)
{
	if (l->nspares >= LANE_SPARES_MAX) {
		free(c);
		return;
	}
	c->next_spare = l->spares;
	l->spares = c;
	l->nspares++;
}

static void lane_free(struct lane *l)
{
	for (struct conn *c = l->spares, *next; c != NULL; c = next) {
		next = c->next_spare;
		free(c);
	}
	http_resppool_free(l->pool);
}

/* The requests in flight on every worker; from any thread. */
static long in_flight(const void *arg)
{
	const struct http_server *srv = arg;
	long n = 0;

	for (unsigned i = 0; i < srv->nlanes; i++)
		n += atomic_load_explicit(&srv->lanes[i].inflight, memory_order_relaxed);
	return n;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- sending ---- */

#define STREAM_BLOCK (32 * 1024)

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct http_stream *s = cls;
	ssize_t n = s->read(s, buf, max);

	(void)pos;
	if (n == 0)
		return MHD_CONTENT_READER_END_OF_STREAM;
	return n > 0 ? n : MHD_CONTENT_READER_END_WITH_ERROR;
}

static void stream_free(void *cls)
{
	struct http_stream *s = cls;

	s->free(s);
}

/* Queues resp on con for req (NULL: a connection without state): a
 * prepared response when there is one; for a redirect not asked for just
 * before, the worker's pooled one, req's until it ends; else one built here
 * (and kept, when it is a redirect asked for again). */
static enum MHD_Result send_response(struct lane *lane, struct MHD_Connection *con, struct req *req,
                                     struct http_response *resp)
{
	struct http_server *srv = lane->srv;
	struct MHD_Response *r;
	enum MHD_Result ret;
	size_t location_len = resp->location != NULL ? strlen(resp->location) : 0;
	uint32_t sig = 0;
	struct http_respcache_slot *slot = http_respcache_slot(srv->responses, resp, location_len, &sig);

	if (slot != NULL && (r = http_respcache_hit(slot, resp, location_len)) != NULL)
		return MHD_queue_response(con, (unsigned)resp->status, r);
	if (resp->make_body != NULL)
		resp->make_body(resp, resp->make_body_arg);
	/* A redirect asked for again is built below and kept; any other
	 * reply tries the worker's pooled responses first. */
	if (slot == NULL || !http_respcache_admit(slot, sig)) {
		slot = NULL;
		if (req != NULL && lane->pool != NULL && (req->pooled = http_resppool_take(lane->pool, resp)) != NULL)
			return MHD_queue_response(con, (unsigned)resp->status, http_resppool_response(req->pooled));
	}

	if (resp->fixed != HTTP_FIXED_NONE && !resp->close)
		return MHD_queue_response(con, (unsigned)resp->status,
		                          http_respcache_fixed(srv->responses, resp->fixed));
	/* A prebuilt body, but this reply must close: it gets its own headers. */
	if (resp->fixed != HTTP_FIXED_NONE)
		http_respcache_spell_out(resp);
	if (resp->stream != NULL) {
		r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK, stream_read, resp->stream,
		                                      stream_free);
		if (r == NULL)
			resp->stream->free(resp->stream);
		resp->stream = NULL;
	} else if (resp->body_heap != NULL) {
		r = MHD_create_response_from_buffer(resp->body_len, resp->body_heap, MHD_RESPMEM_MUST_FREE);
		if (r == NULL)
			free(resp->body_heap);
		resp->body_heap = NULL;
	} else if (resp->body_copy) {
		r = MHD_create_response_from_buffer(resp->body_len, (void *)resp->body, MHD_RESPMEM_MUST_COPY);
	} else {
		r = MHD_create_response_from_buffer(resp->body_len, (void *)(resp->body ? resp->body : ""),
		                                    MHD_RESPMEM_PERSISTENT);
	}
	if (r == NULL)
		return MHD_NO;
	/* The Location after these two, where a pooled response has it. */
	if (resp->cache_control != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, resp->cache_control);
	if (resp->content_type != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
	if (resp->location != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, resp->location);
	if (resp->allow != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, resp->allow);
	if (resp->www_authenticate != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, resp->www_authenticate);
	if (resp->nosniff)
		MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	for (const char *const *h = resp->headers; h != NULL && h[0] != NULL; h += 2)
		MHD_add_response_header(r, h[0], h[1]);
	if (resp->close)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	ret = MHD_queue_response(con, (unsigned)resp->status, r);
	if (slot != NULL)
		http_respcache_keep(slot, r, resp, location_len);
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
	return http_respcache_fixed_len(resp->fixed);
}

/* Counts a queued reply and logs it. Never logs the Authorization header. */
static void account(struct http_server *srv, struct MHD_Connection *con, const struct req *r,
                    const struct http_request *req, const struct http_response *resp)
{
	const union MHD_ConnectionInfo *ci;
	struct accesslog_entry e;

	metrics_request(srv->metrics, http_route_metric(r->route), resp->status, now_ns() - r->start_ns);
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
static enum MHD_Result respond(struct lane *lane, struct MHD_Connection *con, struct req *r, const char *method,
                               bool close)
{
	struct http_server *srv = lane->srv;
	struct http_request req = {0};
	struct http_response resp;
	enum MHD_Result ret;

	req.method_name = method;
	req.method = http_method_parse(method);
	req.path = r->path;
	req.query = r->has_query && !r->query_too_long ? r->query : NULL;
	req.accept = r->accept;
	req.user_agent = r->user_agent;
	req.referer = r->referer;
	req.now = (int64_t)time(NULL);
	http_response_init(&resp);

	if (r->refused != 0) {
		http_response_error(&resp, r->refused, r->refused_why);
		if (r->refused == 405)
			resp.allow = LINK_METHODS;
	} else if (r->query_too_long || r->path_too_long) {
		http_response_uri_too_long(&resp);
	} else if (r->body_lost) {
		http_response_fixed(&resp, 503, HTTP_FIXED_UNAVAILABLE_JSON);
	} else if (r->route == HTTP_ROUTE_REDIRECT) {
		redirect_handle(srv->redirect, &req, &resp);
	} else {
		req.authorization = header(con, MHD_HTTP_HEADER_AUTHORIZATION);
		req.content_type = header(con, MHD_HTTP_HEADER_CONTENT_TYPE);
		req.body = r->body;
		req.body_len = r->body_len;
		req.body_too_large = r->body_too_large;
		http_builtin_handle(&srv->builtin, r->route, &req, &resp);
	}
	/* A body over its limit is answered 413 and the connection closed,
	 * however it was framed. */
	resp.close = resp.close || close || r->body_too_large;
	ret = send_response(lane, con, r, &resp);
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
	struct lane *lane = cls;
	struct http_server *srv = lane->srv;
	struct conn *c;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		/* Each answer is read before the next call: from 1.0,
		 * libmicrohttpd answers every query in one per-connection
		 * union, which the next query overwrites. */
		int fd = MHD_get_connection_info(con, MHD_CONNECTION_INFO_CONNECTION_FD)->connect_fd;
		const union MHD_ConnectionInfo *addr = MHD_get_connection_info(con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

		metrics_connection_opened(srv->metrics);
		/* Not zeroed: the request's 9 KiB of path and query buffers
		 * need none. req_reset() empties the request,
		 * http_conns_open() fills the slot. */
		c = conn_take(lane);
		*socket_context = c;
		/* Without its state the connection gets 503 at its first
		 * request (on_request) and closes, counted until it does. */
		if (c != NULL) {
			c->r.body = NULL;
			c->r.pooled = NULL;
			req_reset(&c->r);
			c->linger = false;
			http_conns_open(srv->conns, &c->slot, fd, addr->client_addr, addr_len(addr->client_addr));
		}
	} else {
		c = *socket_context;
		if (c != NULL && c->linger)
			http_conns_linger(srv->conns, c->slot.fd);
		/* A request still started was never completed: libmicrohttpd
		 * 1.0.1 can close a connection without NOTIFY_COMPLETED
		 * (transmit_error_response_len() called twice, as for a
		 * chunk-size line past the connection's memory, sets
		 * MHD_CONNECTION_CLOSED itself), so it is ended here, or a
		 * stop would wait for it. */
		if (c != NULL && c->r.started) {
			lane_count(lane, -1);
			req_reset(&c->r);
		}
		if (c != NULL) {
			http_conns_close(srv->conns, &c->slot);
		} else {
			const union MHD_ConnectionInfo *addr =
			    MHD_get_connection_info(con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
			http_conns_cancel(srv->conns, addr->client_addr, addr_len(addr->client_addr));
		}
		metrics_connection_closed(srv->metrics);
		if (c != NULL)
			conn_put(lane, c);
		*socket_context = NULL;
	}
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *con)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(con, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct conn *c = ci != NULL ? ci->socket_context : NULL;
	struct http_target t;
	struct req *r;

	(void)cls;
	if (c == NULL)
		return NULL;
	r = &c->r;
	/* A kept-alive connection's next request: its headers are due. On a
	 * new connection they have been due since it opened. */
	if (http_conns_phase_of(&c->slot) == HTTP_CONNS_IDLE)
		http_conns_phase(&c->slot, HTTP_CONNS_HEADERS);
	req_reset(r);
	/* The raw target, before libmicrohttpd decodes it in place: the route
	 * acts on shortd's own decoding of it, which refuses what would cut the
	 * path short (a %00) and takes the absolute-form (RFC 9112 3.2). A
	 * control character (libmicrohttpd keeps a bare CR there) or a space
	 * makes the request invalid. */
	r->target_len = strlen(uri);
	switch (http_target_parse(uri, r->target_len, r->path, sizeof(r->path), &t)) {
	case HTTP_TARGET_OK:
		break;
	case HTTP_TARGET_TOO_LONG:
		r->path_too_long = true;
		snprintf(r->path, sizeof(r->path), "%s", uri); /* for the access log only */
		return r;
	default:
		refuse(r, 400, HTTP_FRAMING_MALFORMED);
		snprintf(r->path, sizeof(r->path), "%s", uri);
		return r;
	}
	if (t.query != NULL) {
		r->has_query = true;
		if (t.query_len > QUERY_MAX) {
			r->query_too_long = true;
			return r;
		}
		memcpy(r->query, t.query, t.query_len);
		r->query[t.query_len] = '\0';
	}
	return r;
}

static void on_completed(void *cls, struct MHD_Connection *con, void **req_cls, enum MHD_RequestTerminationCode toe)
{
	struct lane *lane = cls;
	struct req *r = *req_cls;

	(void)con;
	(void)toe;
	if (r == NULL)
		return;
	if (r->started)
		lane_count(lane, -1);
	http_conns_phase(&conn_of(r)->slot, HTTP_CONNS_IDLE);
	req_reset(r);
	*req_cls = NULL;
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

/* One pass over a request's header fields: the framing module's findings,
 * and (SHORTD_MHD_HEADERS_IN_PLACE) where the previous line's text ended. */
struct header_pass {
	struct http_framing f;
#if SHORTD_MHD_HEADERS_IN_PLACE
	const char *line_end;
#endif
};

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

static enum MHD_Result on_header(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
                                 const char *value, size_t value_size)
{
	struct header_pass *h = cls;

	(void)kind;
	http_framing_field(&h->f, key, key_size, value);
#if SHORTD_MHD_HEADERS_IN_PLACE
	/*
	 * SHORTD_MHD_HEADERS_IN_PLACE: each line is "name\0OWS value\0\0"
	 * after a CRLF. A folded line appended to a copy of the name (0.9.75,
	 * 0.9.76) and a bare LF, which leaves one NUL where CRLF leaves two,
	 * both break that layout, which is how they are found here.
	 */
	if (value == NULL || value < key + key_size + 1 || value > key + key_size + 1 + 1024 || key[key_size] != '\0' ||
	    !is_ows(key + key_size + 1, value))
		h->f.malformed = true;
	else if (h->line_end != NULL && key != h->line_end + 2)
		h->f.malformed = true;
	h->line_end = value != NULL ? value + value_size : NULL;
#else
	(void)value_size;
#endif
	return MHD_YES;
}

/* Reads the request's header fields into f (src/http_framing.c). */
static void read_headers(struct MHD_Connection *con, const char *method, const char *version, struct http_framing *f)
{
	struct header_pass h;
#if SHORTD_MHD_HEADERS_IN_PLACE
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(con, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);

	http_framing_init(&h.f);
	h.line_end = version != NULL ? version + strlen(version) : NULL;
	MHD_get_connection_values_n(con, MHD_HEADER_KIND, on_header, &h);
	/* The last line's text ends 4 bytes (its CRLF and the empty line's)
	 * before the header block does; a NUL in the last header's value (a
	 * C string ends there) or a bare LF at the end shows here. */
	if (ci == NULL || h.line_end == NULL || h.line_end + 4 != method + ci->header_size)
		h.f.malformed = true;
#else
	(void)method;
	(void)version;
	http_framing_init(&h.f);
	MHD_get_connection_values_n(con, MHD_HEADER_KIND, on_header, &h);
#endif
	*f = h.f;
}

#if SHORTD_MHD_HEADERS_IN_PLACE
/*
 * A NUL in the request line. libmicrohttpd before 1.0.0 keeps the line in
 * its read buffer as "METHOD\0 *SP target\0version" (the first space and the
 * one before the version turned into NULs) and hands out C strings into it,
 * so a NUL the client sent ends the method or the target early: "GE\0T /abc"
 * reads as method "GE", "/abc?x\0y" as target "/abc?x". The layout shows
 * it. (1.0.0 closes a connection with a NUL in the request line itself.)
 */
static bool request_line_has_nul(const char *method, const char *url, const char *version, size_t target_len)
{
	const char *p = method + strlen(method) + 1;

	while (p < url && *p == ' ')
		p++;
	return p != url || url + target_len + 1 != version;
}
#endif

/* Refuses, at the first call, what no route may see: the framing and
 * refusal table of src/http_framing.c, and before 1.0 a NUL in the request
 * line. Such a request is answered at once, which closes the connection. */
static void refuse_request(struct req *r, const struct http_framing *f, const char *method, const char *url,
                           const char *version)
{
	const char *why;
	int status;

#if SHORTD_MHD_HEADERS_IN_PLACE
	if (r->refused == 0 && request_line_has_nul(method, url, version, r->target_len))
		refuse(r, 400, HTTP_FRAMING_MALFORMED);
#else
	(void)url;
#endif
	if (r->refused != 0)
		return;
	status = http_framing_refusal(f, strcmp(version, MHD_HTTP_VERSION_1_0) == 0, method,
	                              r->route == HTTP_ROUTE_REDIRECT, &why);
	if (status != 0)
		refuse(r, status, why);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *con, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
	struct lane *lane = cls;
	struct http_server *srv = lane->srv;
	struct req *r = *req_cls;
	struct http_conns_slot *slot;

	if (r == NULL) {
		/* No per-connection state (out of memory): 503, and close. */
		struct http_response resp;

		http_response_init(&resp);
		http_response_fixed(&resp, 503, HTTP_FIXED_UNAVAILABLE_JSON);
		resp.close = true;
		return send_response(lane, con, NULL, &resp);
	}
	slot = &conn_of(r)->slot;
	if (!r->started) {
		struct http_framing f;
		uint64_t length = 0, limit = srv->cfg->max_body;
		bool has_length, has_body;

		http_conns_phase(slot, HTTP_CONNS_BUSY);
		read_headers(con, method, version, &f);
		has_length = http_framing_length(&f, &length);
		has_body = (has_length && length > 0) || f.te_value != NULL;
		r->accept = f.accept;
		r->user_agent = f.user_agent;
		r->referer = f.referer;
		r->started = true;
		r->start_ns = now_ns();
		r->version = version;
		lane_count(lane, 1);
		r->route = http_route_of(r->path);
		refuse_request(r, &f, method, url, version);
		/* An answer before the body closes the connection: whatever
		 * the client (or a proxy) still sends is drained after the
		 * close, so that it can read the answer instead of a reset. */
		conn_of(r)->linger = has_body;
		if (r->refused != 0)
			return respond(lane, con, r, method, true);
		if (r->route == HTTP_ROUTE_API)
			limit = API_BODY_MAX;
		if (!has_body)
			return MHD_YES;
		if (f.expect != NULL && strcasecmp(f.expect, "100-continue") == 0 && r->route != HTTP_ROUTE_API)
			return respond(lane, con, r, method, true);
		if (has_length && length > limit) {
			r->body_too_large = true;
			return respond(lane, con, r, method, true);
		}
		conn_of(r)->linger = false; /* the body will be read */
		http_conns_phase(slot, HTTP_CONNS_BODY);
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		size_t size = *upload_data_size;
		*upload_data_size = 0;
		r->drained += size;
		http_conns_body_bytes(slot, r->drained);
		if (r->route == HTTP_ROUTE_API) {
			if (!r->body_lost && !keep_body(r, upload_data, size))
				r->body_lost = true; /* read the rest, answer 503 */
			return r->drained > srv->cfg->max_body + API_BODY_MAX ? MHD_NO : MHD_YES;
		}
		return r->drained > srv->cfg->max_body ? MHD_NO : MHD_YES;
	}
	if (http_conns_phase_of(slot) == HTTP_CONNS_BODY)
		http_conns_phase(slot, HTTP_CONNS_BUSY);
	return respond(lane, con, r, method, false);
}

/* ---- start and stop ---- */

static void quiet_logger(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	(void)fmt;
	(void)ap;
}

/* The accept policy of every worker's daemon: admission is decided here
 * (src/http_conns.c), not by libmicrohttpd, whose per-address limit cannot
 * exempt a trusted proxy and whose connection limit is per worker. So the
 * library's limits are set out of reach and a connection refused here is
 * closed unanswered, as the library would. An admitted connection is
 * registered at MHD_CONNECTION_NOTIFY_STARTED; one that the library took
 * but then could not set up (no memory for its state or pool) is never
 * reported and stays counted: a slot lost only when memory runs out. */
static enum MHD_Result admit(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	const struct lane *lane = cls;

	return http_conns_admit(lane->srv->conns, addr, addrlen) ? MHD_YES : MHD_NO;
}

/* Frees what http_server_start made besides the daemons. */
static void http_server_free(struct http_server *srv)
{
	for (unsigned i = 0; i < srv->nlanes; i++)
		lane_free(&srv->lanes[i]);
	http_listener_free(srv->listener);
	http_conns_free(srv->conns);
	http_respcache_free(srv->responses);
	redirect_ctx_free(srv->redirect);
	metrics_free(srv->metrics);
	free(srv->workers);
	free(srv->lanes);
	free(srv);
}

/*
 * Raises the soft limit on open descriptors (up to the hard limit) to what
 * the server may hold at once: every admitted connection (--max-connections
 * open and as many pushed out, not yet closed), as many lingering, and per
 * worker a connection accepted and not yet refused, its listening socket
 * (three descriptors), its epoll and eventfds and its SQLite files, plus the
 * process's own. Out of descriptors, a worker's daemon (libmicrohttpd)
 * stops accepting until one of its own connections closes, or, with none,
 * retries at once: with the limit at this, it never gets there.
 */
static void raise_nofile_limit(const struct config *cfg, unsigned threads)
{
	struct rlimit rl;
	rlim_t want = 3 * (rlim_t)cfg->max_connections + 16 * (rlim_t)threads + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want ? rl.rlim_max : want;
	setrlimit(RLIMIT_NOFILE, &rl);
}

/* Worker i's daemon on its own listening socket: epoll, run by a thread of
 * ours (src/http_worker.c), accepting for itself from its socket of the
 * SO_REUSEPORT group (src/http_listener.c). */
static struct MHD_Daemon *start_daemon(struct http_server *srv, unsigned i)
{
	const struct config *cfg = srv->cfg;
	struct lane *lane = &srv->lanes[i];

	return MHD_start_daemon(
	    MHD_USE_EPOLL, 0, admit, lane, on_request, lane, MHD_OPTION_LISTEN_SOCKET,
	    http_listener_take_fd(srv->listener, i),
	    /* Admission keeps every daemon's connections, with those shut
	     * down to make room and not yet closed, under twice
	     * --max-connections; the library's own limit stays out of reach. */
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)(4 * cfg->max_connections + 16),
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)0, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned int)cfg->timeout, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
#if SHORTD_MHD_HEADERS_IN_PLACE
	    MHD_OPTION_STRICT_FOR_CLIENT, (int)CLIENT_STRICTNESS,
#else
	    /* Strict within what RFC 9110/9112 allow a server: no bare LF,
	     * obs-fold, space in or before a header's name, or
	     * Content-Length with Transfer-Encoding. */
	    MHD_OPTION_CLIENT_DISCIPLINE_LVL, (int)1,
#endif
	    MHD_OPTION_EXTERNAL_LOGGER, quiet_logger, NULL, MHD_OPTION_NOTIFY_CONNECTION, on_connection, lane,
	    MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL, MHD_OPTION_NOTIFY_COMPLETED, on_completed, lane, MHD_OPTION_END);
}

/* Starts worker i: its daemon and the thread that runs it; -1 with a
 * one-line reason in err. */
static int start_worker(struct http_server *srv, unsigned i, char *err, size_t errlen)
{
	struct MHD_Daemon *d = start_daemon(srv, i);

	if (d == NULL) {
		snprintf(err, errlen, "cannot start the HTTP server on %s:%u", srv->cfg->listen_host, srv->port);
		return -1;
	}
	if (http_worker_start(d, &srv->workers[i]) != 0) {
		snprintf(err, errlen, "cannot start a worker thread: %s", strerror(errno));
		MHD_stop_daemon(d);
		return -1;
	}
	return 0;
}

/* Stops the workers started, each closing its connections. */
static void stop_workers(struct http_server *srv)
{
	for (unsigned i = 0; i < srv->nworkers; i++)
		http_worker_stop(srv->workers[i]);
	srv->nworkers = 0;
}

int http_server_start(const struct http_server_deps *deps, struct http_server **out, char *err, size_t errlen)
{
	struct http_server *srv = calloc(1, sizeof(*srv));
	unsigned threads = deps->cfg->threads > 1 ? deps->cfg->threads : 1;

	*out = NULL;
	if (srv == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	srv->cfg = deps->cfg;
	srv->store = deps->store;
	srv->clicks = deps->clicks;
	srv->access_log = deps->access_log;
	/* --link-cache 0 turns every cache of the redirect path off, and the
	 * reuse of its responses. */
	if (redirect_ctx_new(deps->cfg, deps->store, deps->clicks, &srv->redirect) != 0 ||
	    http_respcache_new(deps->cfg->link_cache_mb > 0, &srv->responses) != 0 || metrics_new(&srv->metrics) != 0 ||
	    http_conns_new(deps->cfg, &srv->conns) != 0 ||
	    (srv->workers = calloc(threads, sizeof(*srv->workers))) == NULL ||
	    (srv->lanes = aligned_alloc(_Alignof(struct lane), threads * sizeof(*srv->lanes))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (unsigned i = 0; i < threads; i++) {
		atomic_init(&srv->lanes[i].inflight, 0);
		srv->lanes[i].srv = srv;
		srv->lanes[i].pool = NULL;
		srv->lanes[i].spares = NULL;
		srv->lanes[i].nspares = 0;
	}
	srv->nlanes = threads;
	for (unsigned i = 0; i < threads && deps->cfg->link_cache_mb > 0; i++) {
		if (http_resppool_new(&srv->lanes[i].pool) != 0) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	srv->builtin = (struct http_builtin){deps->store, deps->clicks, deps->api, srv->metrics, in_flight, srv};
	raise_nofile_limit(deps->cfg, threads);
	if (http_listener_open(deps->cfg->listen_host, deps->cfg->listen_port, threads, &srv->listener, err, errlen) !=
	    0)
		goto fail;
	srv->port = http_listener_port(srv->listener);
	config_finish_base_url(deps->cfg, srv->port);
	if (http_conns_start_sweeping(srv->conns) != 0) {
		snprintf(err, errlen, "cannot start the connection timer: %s", strerror(errno));
		goto fail;
	}
	for (; srv->nworkers < threads; srv->nworkers++) {
		if (start_worker(srv, srv->nworkers, err, errlen) != 0)
			goto fail;
	}
	*out = srv;
	return 0;
fail:
	stop_workers(srv);
	http_server_free(srv);
	return -1;
}

unsigned http_server_port(struct http_server *srv)
{
	return srv->port;
}

void http_server_stop(struct http_server *srv, int grace_ms)
{
	if (srv == NULL)
		return;
	/* Closes the listening sockets: from here a new client is refused,
	 * and each daemon goes on with the connections it has. */
	http_listener_retire(srv->listener);
	for (int waited = 0; in_flight(srv) > 0 && waited < grace_ms; waited += 5) {
		struct timespec pause = {0, 5 * 1000000L};
		nanosleep(&pause, NULL);
	}
	stop_workers(srv);
	http_server_free(srv);
}
