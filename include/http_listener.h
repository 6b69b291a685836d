/*
 * The accept loop: one thread takes connections from a listening socket and
 * hands each to a callback (in the server, libmicrohttpd's
 * MHD_add_connection). The server, not the library, owns accepting, so it
 * can stop accepting at any moment without touching the library's worker
 * threads: libmicrohttpd 0.9.75's MHD_quiesce_daemon races its epoll
 * workers and can abort the process.
 *
 * Between connections the same thread runs a timer (the server's sweep of
 * overdue connections), so that work never lands on a worker's request path.
 *
 * When accept() runs out of descriptors or memory (EMFILE, ENFILE, ENOBUFS,
 * ENOMEM) the loop pauses ACCEPTOR_PAUSE_MS and tries again, leaving the
 * waiting connections in the kernel's backlog rather than spinning.
 */
#ifndef SHORTD_HTTP_LISTENER_H
#define SHORTD_HTTP_LISTENER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#define ACCEPTOR_PAUSE_MS 100
#define ACCEPTOR_TICK_MS 250

struct http_listener;

/* Called on the acceptor's thread with each new connection, non-blocking and
 * close-on-exec; the callback owns fd from then on. */
typedef void (*http_listener_fn)(void *arg, int fd, const struct sockaddr *addr, socklen_t addrlen);

/* Called on the acceptor's thread every ACCEPTOR_TICK_MS (a little later
 * under a flood of connections) while it returns true; once it returns
 * false, not again until the next connection has been handed over. */
typedef bool (*http_listener_tick_fn)(void *arg);

/* Opens a listening socket on host (a numeric IPv4 or IPv6 address) and
 * port (0 picks a free one), non-blocking and close-on-exec: 0 with the
 * socket in *fd_out and the port bound in *port_out, or -1 with a one-line
 * reason in err. Bound here, not by the HTTP library, so that the port and
 * the base URL are known before the first request can arrive. */
int http_listener_bind(const char *host, unsigned port, int *fd_out, unsigned *port_out, char *err, size_t errlen);

/* Starts accepting on listen_fd, a listening socket in non-blocking mode;
 * tick may be NULL.
 * On success the acceptor owns listen_fd and *out is set; on failure (-1,
 * errno set) the caller still owns it. The thread inherits the caller's
 * signal mask. */
int http_listener_start(int listen_fd, http_listener_fn fn, http_listener_tick_fn tick, void *arg,
                        struct http_listener **out);

/* Stops accepting and closes the listening socket: once this returns, a
 * client that connects is refused by the kernel, and fn is not called
 * again. Connections already handed over are the callback's. Frees a;
 * accepts NULL. */
void http_listener_stop(struct http_listener *a);

#endif
