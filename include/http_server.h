/*
 * The HTTP server: the module that drives libmicrohttpd. It sets the
 * connection policy (limits, timeouts, threads), routes each request to its
 * handler (http_builtin.c, redirect.c, api.c) and turns the handler's
 * struct http_response into a reply.
 */
#ifndef SHORTD_HTTP_SERVER_H
#define SHORTD_HTTP_SERVER_H

#include <stddef.h>

#include "clicks.h"
#include "config.h"
#include "store.h"

struct http_server;
struct api;
struct accesslog;

struct http_server_deps {
	struct config *cfg; /* http_server_start completes cfg->base_url from the bound port */
	struct store *store;
	struct clicks *clicks;
	struct api *api;              /* NULL: /api answers 404 */
	struct accesslog *access_log; /* NULL: no access log */
};

/* Binds cfg's address, completes cfg->base_url when it was not given, and
 * starts serving. Returns 0 and the server, or -1 with a one-line reason in
 * err. The deps must outlive the server. */
int http_server_start(const struct http_server_deps *deps, struct http_server **out, char *err, size_t errlen);

/* The port actually bound (for --listen HOST:0). */
unsigned http_server_port(struct http_server *srv);

/* Graceful stop: stops accepting, waits up to grace_ms for requests in
 * flight to finish, then closes every connection and frees the server.
 * Accepts NULL. */
void http_server_stop(struct http_server *srv, int grace_ms);

#endif
