/*
 * A worker: one libmicrohttpd daemon (epoll, no thread of the library's own)
 * and a thread of ours that runs its event loop, with a queue through which
 * the listener hands it new connections.
 *
 * Why not the library's own threads: libmicrohttpd's epoll loop (0.9.75 up
 * to 1.0.1 at least) takes events 128 at a time and, after a full batch,
 * waits again with the full timeout before acting on any of them. A worker
 * that got exactly 128 events (say, 1,000 idle clients closing at once, or
 * 128 requests arriving together) then sleeps until the next event or its
 * next connection timeout, with those requests and any connection just
 * handed to it unanswered. Run from here the library's loop never waits:
 * MHD_run() takes what is ready, and this thread does the waiting.
 */
#ifndef SHORTD_HTTP_WORKER_H
#define SHORTD_HTTP_WORKER_H

#include <stdbool.h>
#include <sys/socket.h>

struct MHD_Daemon;
struct http_worker;

/* Told of a handed connection that the daemon would not take (it has
 * closed the socket) or that was still queued at stop (closed here). */
typedef void (*http_worker_refused_fn)(void *arg, const struct sockaddr *addr, socklen_t len);

/* Starts a thread that runs d's event loop; d must have been started with
 * MHD_USE_EPOLL and without MHD_USE_INTERNAL_POLLING_THREAD, and belongs
 * to the worker from here (http_worker_stop stops it). At most capacity
 * connections wait in the queue at once. Returns 0, or -1 with errno set
 * (d is then still the caller's). */
int http_worker_start(struct MHD_Daemon *d, unsigned capacity, http_worker_refused_fn refused, void *arg,
                      struct http_worker **out);

/* Queues a new connection (fd and the peer's IPv4 or IPv6 address) for the
 * worker to add to its daemon, on its thread. False when the queue is full
 * or the address longer than an IPv6 one: the socket is then still the
 * caller's. Called from one thread at a time. */
bool http_worker_hand(struct http_worker *w, int fd, const struct sockaddr *addr, socklen_t len);

/* Stops the thread, closes the connections still queued, stops the daemon
 * (closing its connections, on the worker's thread) and frees the worker.
 * Accepts NULL. */
void http_worker_stop(struct http_worker *w);

#endif
