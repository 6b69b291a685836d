/*
 * The listening sockets: one per worker, all bound to the same address in
 * one SO_REUSEPORT group, so that the kernel spreads new connections over
 * the workers and each worker's libmicrohttpd daemon accepts its own (no
 * thread hands a connection to another).
 *
 * Each daemon is given a duplicate of its socket (http_listener_take_fd()). To
 * stop, http_listener_retire() puts a descriptor that is never ready (an
 * eventfd) in place of every duplicate and closes every socket, one right
 * after the other: the port refuses new clients from then on, the daemons
 * keep running (and answering the connections they have) without being
 * told, and never see their listening descriptor fail. That is how shortd
 * stops without MHD_quiesce_daemon, which in libmicrohttpd 0.9.75 races its
 * epoll thread and can abort the process.
 */
#ifndef SHORTD_HTTP_LISTENER_H
#define SHORTD_HTTP_LISTENER_H

#include <stddef.h>

struct http_listener;

/*
 * Opens n listening sockets on host (a numeric IPv4 or IPv6 address) and
 * port (0 picks a free one), non-blocking and close-on-exec, with a
 * duplicate of each for a daemon: 0 and *out, or -1 with a one-line reason
 * in err. Bound here, not by the HTTP library, so that the port and the
 * base URL are known before the first request can arrive. The first socket
 * is bound before it joins the group, so a port that anything else holds
 * (another shortd included) is refused, as with one socket.
 */
int http_listener_open(const char *host, unsigned port, unsigned n, struct http_listener **out, char *err,
                       size_t errlen);

/* The port bound. */
unsigned http_listener_port(const struct http_listener *l);

/* The duplicate of socket i (i < n) for worker i's daemon, which owns it
 * from then on, whether or not the daemon starts, and closes it when it
 * stops. */
int http_listener_take_fd(struct http_listener *l, unsigned i);

/* Stops accepting on every socket: once this returns, a client that
 * connects is refused by the kernel, and one that was waiting in a backlog
 * is reset (as when a lone listening socket is closed). Each daemon's
 * descriptor is left open, never ready; its daemon still closes it.
 * Cannot fail: the eventfds were made by http_listener_open(). Once only. */
void http_listener_retire(struct http_listener *l);

/* Closes what is still the listener's (the sockets unless retired, the
 * duplicates not taken, the eventfds not used) and frees l. Accepts NULL. */
void http_listener_free(struct http_listener *l);

#endif
