/*
 * Prometheus metrics without a shared lock on the request path.
 *
 * Each thread that counts gets its own block (from a thread_registry: made
 * on its first call, kept until metrics_free()). Only that
 * thread writes the block, with relaxed atomic loads and stores, so a count
 * is a plain add on a cache line no other thread writes. A scrape walks the
 * registry and sums the blocks; numbers read mid-update are at most one request
 * behind, and every counter only grows.
 *
 * Derived series cost nothing on the hot path: redirects by status are the
 * redirect route's 3xx counts, store errors are the 503s the store caused
 * plus the click flusher's failed writes.
 */
#include "metrics.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "thread_registry.h"

#define STATUS_MIN 100
#define STATUS_SPAN 500 /* statuses 100..599 */

/* Upper bounds of the redirect latency buckets, in nanoseconds, and the
 * same as Prometheus "le" labels; +Inf is the total. */
static const uint64_t bucket_ns[] = {
    50000,    100000,   250000,    500000,    1000000,   2500000,    5000000,    10000000,
    25000000, 50000000, 100000000, 250000000, 500000000, 1000000000, 2500000000,
};
static const char *const bucket_le[] = {
    "0.00005", "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01",
    "0.025",   "0.05",   "0.1",     "0.25",   "0.5",   "1",      "2.5",
};
#define BUCKETS (sizeof(bucket_ns) / sizeof(bucket_ns[0]))

static const char *const route_names[METRICS_ROUTE_COUNT] = {
    [METRICS_ROUTE_REDIRECT] = "redirect", [METRICS_ROUTE_ROOT] = "root",       [METRICS_ROUTE_HEALTH] = "healthz",
    [METRICS_ROUTE_ROBOTS] = "robots",     [METRICS_ROUTE_FAVICON] = "favicon", [METRICS_ROUTE_METRICS] = "metrics",
    [METRICS_ROUTE_API] = "api",           [METRICS_ROUTE_ADMIN] = "admin",
};

struct block {
	_Alignas(64) _Atomic uint64_t requests[METRICS_ROUTE_COUNT][STATUS_SPAN];
	_Atomic uint64_t latency[BUCKETS + 1]; /* not cumulative; the last is over every bound */
	_Atomic uint64_t latency_sum_ns;
	_Atomic uint64_t conn_opened;
	_Atomic uint64_t conn_closed;
};

struct metrics {
	struct thread_registry *blocks; /* every thread's struct block */
	int64_t started;                /* unix seconds */
};

static void *block_new(void *arg)
{
	size_t size = (sizeof(struct block) + 63) / 64 * 64;
	struct block *b = aligned_alloc(64, size);

	(void)arg;
	if (b != NULL)
		memset(b, 0, size);
	return b;
}

static void block_free(void *obj, void *arg)
{
	(void)arg;
	free(obj);
}

int metrics_new(struct metrics **out)
{
	struct metrics *m = calloc(1, sizeof(*m));

	*out = NULL;
	if (m == NULL)
		return -1;
	if (thread_registry_new(block_new, block_free, NULL, &m->blocks) != 0) {
		free(m);
		return -1;
	}
	m->started = (int64_t)time(NULL);
	*out = m;
	return 0;
}

void metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	thread_registry_free(m->blocks);
	free(m);
}

const char *metrics_route_name(enum metrics_route route)
{
	return (int)route >= 0 && route < METRICS_ROUTE_COUNT ? route_names[route] : "other";
}

/* The calling thread's block, made on its first call; NULL when out of memory. */
static struct block *thread_block(struct metrics *m)
{
	return thread_registry_get(m->blocks);
}

/* Adds to a counter only this thread writes: no read-modify-write needed. */
static void bump(_Atomic uint64_t *x, uint64_t n)
{
	atomic_store_explicit(x, atomic_load_explicit(x, memory_order_relaxed) + n, memory_order_relaxed);
}

static uint64_t load(_Atomic uint64_t *x)
{
	return atomic_load_explicit(x, memory_order_relaxed);
}

void metrics_request(struct metrics *m, enum metrics_route route, int status, uint64_t latency_ns)
{
	struct block *b;
	size_t i = 0;

	if (m == NULL || (int)route < 0 || route >= METRICS_ROUTE_COUNT || status < STATUS_MIN ||
	    status >= STATUS_MIN + STATUS_SPAN)
		return;
	b = thread_block(m);
	if (b == NULL)
		return;
	bump(&b->requests[route][status - STATUS_MIN], 1);
	if (route != METRICS_ROUTE_REDIRECT)
		return;
	while (i < BUCKETS && latency_ns > bucket_ns[i])
		i++;
	bump(&b->latency[i], 1);
	bump(&b->latency_sum_ns, latency_ns);
}

void metrics_connection_opened(struct metrics *m)
{
	struct block *b = m != NULL ? thread_block(m) : NULL;

	if (b != NULL)
		bump(&b->conn_opened, 1);
}

void metrics_connection_closed(struct metrics *m)
{
	struct block *b = m != NULL ? thread_block(m) : NULL;

	if (b != NULL)
		bump(&b->conn_closed, 1);
}

/* ---- rendering ---- */

/* The sums of every thread's block. */
struct totals {
	uint64_t requests[METRICS_ROUTE_COUNT][STATUS_SPAN];
	uint64_t latency[BUCKETS + 1];
	uint64_t latency_sum_ns;
	uint64_t conn_opened;
	uint64_t conn_closed;
};

static void add_block(void *obj, void *arg)
{
	struct block *b = obj;
	struct totals *t = arg;

	for (int r = 0; r < METRICS_ROUTE_COUNT; r++) {
		for (int s = 0; s < STATUS_SPAN; s++)
			t->requests[r][s] += load(&b->requests[r][s]);
	}
	for (size_t i = 0; i <= BUCKETS; i++)
		t->latency[i] += load(&b->latency[i]);
	t->latency_sum_ns += load(&b->latency_sum_ns);
	/* Closed before opened, so a connection closing mid-scrape never
	 * makes the gauge negative. */
	t->conn_closed += load(&b->conn_closed);
	t->conn_opened += load(&b->conn_opened);
}

static void sum_blocks(struct metrics *m, struct totals *t)
{
	memset(t, 0, sizeof(*t));
	thread_registry_foreach(m->blocks, add_block, t);
}

static void series_header(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void render_requests(FILE *f, const struct totals *t, const struct metrics_snapshot *snap)
{
	static const int redirect_codes[] = {301, 302, 303, 307, 308};
	uint64_t errors[METRICS_ROUTE_COUNT];

	series_header(f, "shortd_http_requests_total", "counter",
	              "HTTP requests answered by shortd, by route and status code.");
	for (int r = 0; r < METRICS_ROUTE_COUNT; r++) {
		for (int s = 0; s < STATUS_SPAN; s++) {
			if (t->requests[r][s] != 0)
				fprintf(f, "shortd_http_requests_total{route=\"%s\",code=\"%d\"} %llu\n",
				        route_names[r], s + STATUS_MIN, (unsigned long long)t->requests[r][s]);
		}
	}
	series_header(f, "shortd_redirects_total", "counter", "Redirects answered, by status code.");
	for (size_t i = 0; i < sizeof(redirect_codes) / sizeof(redirect_codes[0]); i++)
		fprintf(f, "shortd_redirects_total{code=\"%d\"} %llu\n", redirect_codes[i],
		        (unsigned long long)t->requests[METRICS_ROUTE_REDIRECT][redirect_codes[i] - STATUS_MIN]);
	for (int r = 0; r < METRICS_ROUTE_COUNT; r++)
		errors[r] = t->requests[r][503 - STATUS_MIN];
	series_header(f, "shortd_store_errors_total", "counter",
	              "Store failures: requests answered 503 because the store failed, by route, and failed click "
	              "flushes.");
	fprintf(f, "shortd_store_errors_total{source=\"redirect\"} %llu\n",
	        (unsigned long long)errors[METRICS_ROUTE_REDIRECT]);
	fprintf(f, "shortd_store_errors_total{source=\"healthz\"} %llu\n",
	        (unsigned long long)errors[METRICS_ROUTE_HEALTH]);
	fprintf(f, "shortd_store_errors_total{source=\"api\"} %llu\n", (unsigned long long)errors[METRICS_ROUTE_API]);
	fprintf(f, "shortd_store_errors_total{source=\"click_flush\"} %llu\n", (unsigned long long)snap->clicks.errors);
}

static void render_latency(FILE *f, const struct totals *t)
{
	uint64_t cumulative = 0;

	series_header(
	    f, "shortd_redirect_duration_seconds", "histogram",
	    "Time from a redirect request's headers to its queued reply (every outcome of the redirect route).");
	for (size_t i = 0; i < BUCKETS; i++) {
		cumulative += t->latency[i];
		fprintf(f, "shortd_redirect_duration_seconds_bucket{le=\"%s\"} %llu\n", bucket_le[i],
		        (unsigned long long)cumulative);
	}
	cumulative += t->latency[BUCKETS];
	fprintf(f, "shortd_redirect_duration_seconds_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)cumulative);
	fprintf(f, "shortd_redirect_duration_seconds_sum %.9f\n", (double)t->latency_sum_ns / 1e9);
	fprintf(f, "shortd_redirect_duration_seconds_count %llu\n", (unsigned long long)cumulative);
}

static void render_clicks(FILE *f, const struct clicks_stats *c)
{
	series_header(f, "shortd_clicks_flushed_total", "counter", "Clicks (human and bot) written to the store.");
	fprintf(f, "shortd_clicks_flushed_total %llu\n", (unsigned long long)c->flushed);
	series_header(f, "shortd_click_flush_batches_total", "counter", "Click batches written, one transaction each.");
	fprintf(f, "shortd_click_flush_batches_total %llu\n", (unsigned long long)c->batches);
	series_header(f, "shortd_click_flush_seconds_total", "counter", "Time spent writing click batches.");
	fprintf(f, "shortd_click_flush_seconds_total %.6f\n", (double)c->flush_usec / 1e6);
	series_header(f, "shortd_click_flush_errors_total", "counter",
	              "Click batches that failed to write (their clicks are kept and retried).");
	fprintf(f, "shortd_click_flush_errors_total %llu\n", (unsigned long long)c->errors);
	series_header(f, "shortd_clicks_waiting", "gauge",
	              "Clicks held in memory, not yet written (all since the last write while the store fails).");
	fprintf(f, "shortd_clicks_waiting %llu\n", (unsigned long long)c->waiting);
}

int metrics_render(struct metrics *m, const struct metrics_snapshot *snap, char **out, size_t *len)
{
	struct totals *t = malloc(sizeof(*t));
	FILE *f;
	bool failed;

	*out = NULL;
	*len = 0;
	if (t == NULL)
		return -1;
	f = open_memstream(out, len);
	if (f == NULL) {
		free(t);
		return -1;
	}
	sum_blocks(m, t);
	render_requests(f, t, snap);
	render_latency(f, t);
	render_clicks(f, &snap->clicks);
	series_header(f, "shortd_open_connections", "gauge", "HTTP connections open now.");
	fprintf(f, "shortd_open_connections %llu\n",
	        (unsigned long long)(t->conn_opened >= t->conn_closed ? t->conn_opened - t->conn_closed : 0));
	series_header(f, "shortd_connections_total", "counter", "HTTP connections accepted.");
	fprintf(f, "shortd_connections_total %llu\n", (unsigned long long)t->conn_opened);
	series_header(f, "shortd_requests_in_flight", "gauge", "Requests being answered now.");
	fprintf(f, "shortd_requests_in_flight %ld\n", snap->in_flight);
	series_header(f, "shortd_start_time_seconds", "gauge", "When the daemon started, in unix seconds.");
	fprintf(f, "shortd_start_time_seconds %lld\n", (long long)m->started);
	free(t);
	/* The stream is closed whatever happened to it: a text cut short by a
	 * failed write is dropped, not served. */
	failed = ferror(f) != 0;
	if (fclose(f) != 0 || failed) {
		free(*out);
		*out = NULL;
		*len = 0;
		return -1;
	}
	return 0;
}
