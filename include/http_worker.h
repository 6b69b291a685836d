/*
 * A worker: one libmicrohttpd daemon (epoll, no thread of the library's own)
 * and a thread of ours that runs its event loop.
 *
 * Why not the library's own thread: libmicrohttpd's epoll loop (0.9.75 up
 * to 1.0.1 at least) takes events 128 at a time and, after a full batch,
 * waits again with the full timeout before acting on any of them. A worker
 * that got exactly 128 events (say, 128 requests arriving together on kept
 * connections, or 1,000 idle clients closing at once) then sleeps until the
 * next event or its next connection timeout with those requests unanswered.
 * The worker lets the library wait only while the daemon has too few
 * connections for a full batch; with more, it waits itself and the
 * library's loop runs without waiting (src/http_worker.c).
 */
#ifndef SHORTD_HTTP_WORKER_H
#define SHORTD_HTTP_WORKER_H

struct MHD_Daemon;
struct http_worker;

/* Starts a thread that runs d's event loop; d must have been started with
 * MHD_USE_EPOLL and without MHD_USE_INTERNAL_POLLING_THREAD, and belongs
 * to the worker from here (http_worker_stop stops it). The worker's stop
 * eventfd joins d's epoll set. Returns 0, or -1 with errno set (d is then
 * still the caller's, its epoll set as it was). */
int http_worker_start(struct MHD_Daemon *d, struct http_worker **out);

/* Stops the thread, then the daemon on the worker's thread (closing its
 * connections there, as they were served), and frees the worker. Accepts
 * NULL. */
void http_worker_stop(struct http_worker *w);

#endif
