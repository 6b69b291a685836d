/*
 * The daemon's counters, rendered for GET /metrics in the Prometheus text
 * format (version 0.0.4). Counting is meant for the redirect path: each
 * thread adds to its own block of counters (no lock, no allocation after the
 * thread's first call), and a scrape sums the blocks.
 */
#ifndef SHORTD_METRICS_H
#define SHORTD_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "clicks.h"

/* The routes requests are counted by; the label is metrics_route_name(). */
enum metrics_route {
	METRICS_ROUTE_REDIRECT,
	METRICS_ROUTE_ROOT,
	METRICS_ROUTE_HEALTH,
	METRICS_ROUTE_ROBOTS,
	METRICS_ROUTE_FAVICON,
	METRICS_ROUTE_METRICS,
	METRICS_ROUTE_API,
	METRICS_ROUTE_ADMIN,
	METRICS_ROUTE_COUNT,
};

struct metrics;

/* What the server knows at scrape time besides its counters. */
struct metrics_snapshot {
	struct clicks_stats clicks; /* zero when clicks are not counted */
	long in_flight;             /* requests started and not yet completed */
};

/* Creates an empty set of counters; 0, or -1 when out of memory or keys. */
int metrics_new(struct metrics **out);

/* Frees the counters and every thread's block; accepts NULL. No thread may
 * be counting any more. */
void metrics_free(struct metrics *m);

/*
 * Counts one answered request by route and status (100..599; others are
 * ignored). For METRICS_ROUTE_REDIRECT it also observes latency_ns, the time
 * from the request's first callback to its queued reply, in the redirect
 * latency histogram. Lock-free; allocates only on a thread's first call, and
 * if that allocation fails the thread's requests go uncounted.
 */
void metrics_request(struct metrics *m, enum metrics_route route, int status, uint64_t latency_ns);

/* Count a connection opened or closed (the open gauge is the difference). */
void metrics_connection_opened(struct metrics *m);
void metrics_connection_closed(struct metrics *m);

/* The route's label value ("redirect", "api", ...). */
const char *metrics_route_name(enum metrics_route route);

/* Renders every metric as Prometheus text into a malloc'd, NUL-terminated
 * buffer *out of *len bytes that the caller frees. 0, or -1 when out of
 * memory (*out is then NULL). */
int metrics_render(struct metrics *m, const struct metrics_snapshot *snap, char **out, size_t *len);

#endif
