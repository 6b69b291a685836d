/*
 * The daemon's view of one HTTP exchange, free of libmicrohttpd: http_server.c
 * fills a struct http_request and hands it to a handler (redirect.c,
 * api.c), which fills a struct http_response that http_server.c then sends.
 * Handlers can therefore be unit-tested without a socket.
 */
#ifndef SHORTD_HTTP_H
#define SHORTD_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

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
	int64_t now;         /* unix seconds */
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

/*
 * A body written while it is sent, for an answer too long to build in
 * memory (the export): a handler embeds this in its own object. The sender
 * calls read() for each piece, on the worker thread, which writes 1..max
 * bytes to buf and returns how many, 0 at the end, or -1 when it failed
 * (the reply is then cut short, so the client sees it incomplete); then
 * free(), once, whether or not anything was read.
 */
struct http_stream {
	ssize_t (*read)(struct http_stream *s, char *buf, size_t max);
	void (*free)(struct http_stream *s);
};

/*
 * A handler's answer. The sender sends the fixed response when one is set;
 * otherwise the status, the headers named here and the body. The strings are
 * static or the handler's own, valid until the handler's next call on the same
 * thread; the sender copies what it keeps.
 */
struct http_response {
	int status;
	enum http_fixed fixed; /* when set, send that response and ignore the rest */
	const char *content_type;
	const char *cache_control;
	const char *allow;            /* for 405 */
	const char *www_authenticate; /* for 401 */
	bool nosniff;                 /* send X-Content-Type-Options: nosniff */
	const char *const *headers;   /* more headers: static name, value pairs ending in NULL */
	const char *location;
	const char *body; /* static unless body_copy or body_heap says otherwise */
	size_t body_len;
	bool body_copy;  /* body lives only until the handler's next call: copy it */
	char *body_heap; /* malloc'd body that the sender frees (API) */
	/* A body made only when the reply is built: a sender that reuses a
	 * prepared reply for the same status, Location, Content-Type and
	 * Cache-Control skips it, so the body must follow from those alone (a
	 * redirect's page). make_body(resp, make_body_arg) sets body, body_len
	 * and body_copy. */
	void (*make_body)(struct http_response *resp, void *arg);
	void *make_body_arg;
	/* A streamed body (no Content-Length; chunked in HTTP/1.1), owned by
	 * the sender once set. */
	struct http_stream *stream;
	bool close; /* close the connection after the reply */
};

/* Classifies a method name; unknown names are HTTP_OTHER. */
enum http_method http_method_parse(const char *name);

/* The value of one hex digit ([0-9A-Fa-f]) for %XX decoding, or -1. */
int http_hex_value(char c);

/* A request-target split and decoded by http_target_parse(). */
struct http_target {
	const char *path;  /* decoded, in the caller's buffer, NUL-terminated */
	size_t path_len;   /* strlen(path): a path never holds a NUL */
	const char *query; /* raw bytes after '?' in the target, or NULL */
	size_t query_len;  /* not NUL-terminated: the target goes on */
};

enum http_target_result {
	HTTP_TARGET_OK = 0,
	HTTP_TARGET_INVALID = -1,  /* 400 */
	HTTP_TARGET_TOO_LONG = -2, /* 414: the decoded path does not fit */
};

/*
 * Splits the request-target raw[0..len) (RFC 9112 3.2) into its path, decoded
 * into path_buf (path_size bytes), and its raw query. Takes origin-form
 * ("/p?q") and absolute-form ("http://host/p?q", served as "/p?q"); refuses
 * asterisk-form ("*", for OPTIONS), authority-form ("host:443", for
 * CONNECT), a target with a control character, a space, DEL or a NUL, and a
 * path whose %XX decoding holds a NUL, so no path is ever acted on in part.
 * A '%' not followed by two hex digits stays as it is. A target that is
 * invalid is HTTP_TARGET_INVALID even when its path is also too long. On
 * failure out and path_buf are unspecified.
 */
enum http_target_result http_target_parse(const char *raw, size_t len, char *path_buf, size_t path_size,
                                          struct http_target *out);

/* Resets r to an empty 500 response. */
void http_response_init(struct http_response *r);

/*
 * The error answers shortd builds itself go through these two: a prebuilt
 * page (404, 410, 503 for a short link or the server's own routes; the 405
 * of a read-only route) or a one-line text/plain answer (400, 405 and 501
 * refusals, 414, 503). The API's JSON errors (413 among them) are built by
 * api.c's reply_error(); 431, for a header block over the connection's
 * memory, is libmicrohttpd's own.
 */
void http_response_fixed(struct http_response *r, int status, enum http_fixed which);

/* A text/plain, no-store answer of status whose body is text, a static
 * string. */
void http_response_error(struct http_response *r, int status, const char *text);

/* 414: a target, or a Location made from it, too long to serve. */
void http_response_uri_too_long(struct http_response *r);

/* Whether r is a redirect and the page its make_body makes, with a
 * Cache-Control and a Content-Type and no other header, on a connection
 * that stays open: every byte of such a reply follows from its status,
 * Location, Cache-Control, Content-Type and page, so a response built for
 * it may be kept (http_respcache.c) or reused (http_resppool.c). */
bool http_response_is_plain_redirect(const struct http_response *r);

#endif
