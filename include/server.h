/*
 * The HTTP server: the only module that talks to libmicrohttpd. It sets the
 * connection policy (limits, timeouts, threads), routes each request to its
 * handler and turns the handler's struct http_response into a reply.
 */
#ifndef SHORTD_SERVER_H
#define SHORTD_SERVER_H

#include <stddef.h>

#include "clicks.h"
#include "config.h"
#include "store.h"

struct server;
struct api;
struct accesslog;

struct server_deps {
	struct config *cfg; /* server_start completes cfg->base_url from the bound port */
	struct store *store;
	struct clicks *clicks;
	struct api *api; /* NULL: /api answers 404 */
	struct accesslog *access_log; /* NULL: no access log */
};

/* Binds cfg's address, completes cfg->base_url when it was not given, and
 * starts serving. Returns 0 and the server, or -1 with a one-line reason in
 * err. The deps must outlive the server. */
int server_start(const struct server_deps *deps, struct server **out, char *err, size_t errlen);

/* The port actually bound (for --listen HOST:0). */
unsigned server_port(struct server *srv);

/* Graceful stop: stops accepting, waits up to grace_ms for requests in
 * flight to finish, then closes every connection and frees the server.
 * Accepts NULL. */
void server_stop(struct server *srv, int grace_ms);

#endif
