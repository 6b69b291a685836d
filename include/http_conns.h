/*
 * The connection policy that libmicrohttpd cannot keep for shortd: how many
 * connections may be open (in all, and per client address, with trusted
 * proxies exempt), how long a request may take to send its headers and its
 * body, and which connection makes room for a new one when every slot is
 * taken.
 *
 * Three kinds of caller, on three kinds of thread:
 * - a worker's daemon asks http_conns_admit() for each connection it
 *   accepts, and the table's own thread (http_conns_start_sweeping) runs
 *   http_conns_sweep() on a timer;
 * - a worker registers each connection it opens and closes (http_conns_open,
 *   http_conns_close) in a list of its own thread's, under that list's
 *   lock, which only the sweep and an eviction ever take besides;
 * - a worker marks each phase of each request with http_conns_phase(), which is
 *   one relaxed atomic store into the connection's own slot: no lock, no
 *   system call, so a kept-alive redirect pays nothing for the policy.
 *
 * What every worker shares is kept small for many cores: the count of
 * connections is an atomic counter, and a lock is taken on a new connection
 * only for its address's count (when --max-connections-per-ip applies to
 * it) and, when every slot is taken, to choose which connection goes.
 *
 * A connection is closed by shutdown(2) of its socket, from the sweeping
 * thread or a worker admitting another; the worker then sees end of file and
 * closes it as it would any other. The socket stays valid meanwhile because
 * the worker calls http_conns_close(), which takes its list's lock, before it
 * closes the socket.
 */
#ifndef SHORTD_HTTP_CONNS_H
#define SHORTD_HTTP_CONNS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config.h"

#define HTTP_CONNS_LINGER_MS 5000
#define HTTP_CONNS_SWEEP_MS 250

/* What a connection waits for. */
enum http_conns_phase {
	HTTP_CONNS_HEADERS = 0, /* a request's line and headers: --header-timeout */
	HTTP_CONNS_BODY = 1,    /* a request body: --body-min-rate */
	HTTP_CONNS_BUSY = 2,    /* the server answers: no deadline */
	HTTP_CONNS_IDLE = 3,    /* kept alive between requests: --timeout */
};

struct http_conns_list;

/* One connection's entry, kept in the worker's per-connection state. The
 * worker owns seq and writes state and body_bytes; the rest is the table's,
 * under the lock of the list the connection is registered in. */
struct http_conns_slot {
	struct http_conns_slot *prev, *next;
	struct http_conns_list *list; /* the opening thread's */
	int fd;
	bool counted;                /* counted against its address's limit */
	bool doomed;                 /* shut down, waiting for its worker to close it */
	unsigned char key[16];       /* the peer's address, IPv4 mapped into IPv6 */
	uint32_t seen;               /* state when the table last looked */
	uint64_t since_ms;           /* when state last changed, as far as the table knows */
	uint32_t seq;                /* the worker's count of phase changes */
	_Atomic uint32_t state;      /* seq << 2 | phase */
	_Atomic uint64_t body_bytes; /* of the current request, in HTTP_CONNS_BODY */
};

struct http_conns;

/* Makes the table for cfg's limits (cfg must outlive it). 0, or -1 when out
 * of memory. */
int http_conns_new(const struct config *cfg, struct http_conns **out);

/*
 * Starts the table's thread, which runs http_conns_sweep() every
 * HTTP_CONNS_SWEEP_MS while any connection is admitted or lingering and
 * sleeps otherwise: the first admission after that wakes it (a signal on
 * that admission only). 0, or -1 with errno set. The thread inherits the
 * caller's signal mask; http_conns_free() stops it.
 */
int http_conns_start_sweeping(struct http_conns *t);

/* Stops the sweeping thread, if started, and frees the table; every
 * connection must be closed. Accepts NULL. */
void http_conns_free(struct http_conns *t);

/*
 * The decision on a new connection from addr (len bytes), before the
 * worker that accepted it sets it up: true when it may stay, and then it
 * counts against the limits
 * until http_conns_close() (or http_conns_cancel()). When every slot is taken, the
 * connection that has waited longest for its headers, or been idle longest
 * between requests, is shut down to make room; when none is waiting so
 * (all are sending bodies or being answered), false. False also when addr's
 * --max-connections-per-ip is reached, unless addr is a trusted proxy.
 */
bool http_conns_admit(struct http_conns *t, const struct sockaddr *addr, socklen_t len);

/* Gives back an admission whose connection was never registered. */
void http_conns_cancel(struct http_conns *t, const struct sockaddr *addr, socklen_t len);

/* A worker's new connection on socket fd from addr: registers s in the
 * calling thread's list, waiting for its first request's headers
 * (HTTP_CONNS_HEADERS) from now. */
void http_conns_open(struct http_conns *t, struct http_conns_slot *s, int fd, const struct sockaddr *addr,
                     socklen_t len);

/* The connection is closing: unregisters s and frees its slot. Must come
 * before its socket is closed; any thread may call it. */
void http_conns_close(struct http_conns *t, struct http_conns_slot *s);

/*
 * Lingering close, for a connection answered before its request body was
 * read: takes a duplicate of fd (the worker then closes its own), so that
 * the socket stays open and what the peer still sends is read and dropped,
 * for HTTP_CONNS_LINGER_MS at most or until the peer closes. Closing a socket
 * with unread data would send a reset, and a proxy that is still sending
 * the body would answer its client 502 instead of the redirect. At most
 * --max-connections sockets linger; past that fd just closes.
 */
void http_conns_linger(struct http_conns *t, int fd);

/* Closes what is overdue: headers past --header-timeout, bodies behind
 * --body-min-rate, idle connections past --timeout; drains and closes the
 * lingering sockets. Returns whether any connection is admitted or
 * lingering (no sweep is needed otherwise). */
bool http_conns_sweep(struct http_conns *t);

/* Connections admitted and not yet closed. */
unsigned http_conns_count(struct http_conns *t);

/* Marks the connection's phase; the worker's hot path. */
static inline void http_conns_phase(struct http_conns_slot *s, enum http_conns_phase p)
{
	s->seq++;
	atomic_store_explicit(&s->state, s->seq << 2 | (uint32_t)p, memory_order_relaxed);
}

/* The phase last marked; for the worker that marks it. */
static inline enum http_conns_phase http_conns_phase_of(const struct http_conns_slot *s)
{
	return (enum http_conns_phase)(atomic_load_explicit(&s->state, memory_order_relaxed) & 3u);
}

/* Body bytes received so far by the request in HTTP_CONNS_BODY. */
static inline void http_conns_body_bytes(struct http_conns_slot *s, uint64_t n)
{
	atomic_store_explicit(&s->body_bytes, n, memory_order_relaxed);
}

#endif
