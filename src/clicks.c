/*
 * Click counting off the redirect path.
 *
 * Producers are the server's worker threads: each owns one single-producer
 * ring (from a thread_registry: made on the thread's first click, found
 * through a thread key after that) and only ever writes its head. The one
 * consumer is whoever holds c->drain_lock: the flusher thread every
 * DRAIN_MS, an API read that wants exact numbers, or a worker whose ring is
 * full. It moves events from the rings into an aggregate keyed by (link,
 * day, referrer). Every interval the flusher takes the aggregate whole as a
 * batch and writes it to the store in one transaction, holding c->lock
 * (which orders writes against reads) but not c->drain_lock, so a slow
 * write holds up no click until a whole batch is waiting behind it. A
 * failed write keeps its batch for the next try, so a click is lost only
 * if the process dies before a write succeeds.
 *
 * The flusher runs at a lower priority than the daemon (THREAD_WRITER_NICE)
 * and, on Linux 6.12 and later, with a longer time slice than any HTTP
 * thread (THREAD_WRITER_SLICE_NS): a batch is a burst of CPU on a CPU the
 * redirects share, and a woken HTTP thread then takes the CPU from it at
 * once instead of waiting for the scheduler's next tick
 * (thread_priority.h). What still waits for a write to end takes c->lock:
 * a look at a limited link's clicks (clicks_pending, clicks_admit's first
 * count), and the API's reads of counts; behind a writer given less CPU,
 * it may wait longer.
 *
 * Limited links (max_clicks) also keep an exact in-memory total per link in
 * one of SHARDS hash tables, each with its own mutex: only redirects of
 * limited links that hash to the same shard ever meet on a lock.
 *
 * The same flusher writes when each API token was last used: an API request
 * only raises its token's time in a small table under a mutex of its own
 * (never c->lock, which a flush holds while it writes), and every interval
 * the table is taken whole and written in one transaction.
 */
#include "clicks.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rfc3339.h"
#include "thread_priority.h"
#include "thread_registry.h"

#define RING_SIZE 8192 /* events per worker thread; a power of two */
#define DRAIN_MS 10
#define SHARDS 64
#define WRITE_RETRIES 3

struct event {
	int64_t link_id;
	int64_t at;
	bool bot;
	char ref[CLICKS_REFERRER_MAX + 1];
};

struct ring {
	_Alignas(64) _Atomic uint64_t head; /* written by the producer */
	_Alignas(64) _Atomic uint64_t tail; /* written by the consumer */
	struct event ev[RING_SIZE];
};

struct agg_entry {
	int64_t link_id; /* 0: empty slot */
	int64_t day;
	int64_t clicks;
	int64_t bots;
	int64_t last_at;
	uint32_t host; /* the referrer: 0 for none, else the agg's hosts.name[host - 1] */
};

/* The referrer hosts of a batch, each kept once: most clicks share a few,
 * so the aggregate's entries hold an index, not the text. */
struct hosts {
	char (*name)[CLICKS_REFERRER_MAX + 1];
	uint32_t *slot; /* open addressing over 1 + index into name; 0: empty */
	size_t n;
	size_t cap; /* slots, a power of two, or 0; name has room for cap / 2 */
};

struct agg {
	struct agg_entry *slot;
	size_t cap; /* a power of two, or 0 */
	size_t n;
	uint64_t clicks; /* the events added since the last clear */
	struct hosts hosts;
};

/* The aggregate's rows taken whole, in key order, with the referrer hosts
 * they point into: what a write sends to the store, kept after a failed
 * write for the next. */
struct batch {
	struct click_row *rows;
	size_t n;
	uint64_t clicks; /* human and bot */
	struct hosts hosts;
};

struct limit_entry {
	int64_t link_id; /* 0: empty slot */
	int64_t used;
	int64_t synced_at; /* unix second when used was last taken from the store */
};

struct shard {
	pthread_mutex_t lock;
	struct limit_entry *slot;
	size_t cap;
	size_t n;
};

/* Tokens used since the last write, each with its latest time: as many
 * entries as tokens seen in one interval, searched in order. */
struct token_uses {
	pthread_mutex_t lock;
	struct store_token_use *use;
	size_t n, cap;
};

struct clicks {
	struct store *store;
	struct token_uses tokens;
	int interval_ms;
	pthread_mutex_t lock;       /* recursive: orders writes against reads; guards batch */
	pthread_mutex_t drain_lock; /* the rings' consumer side; guards agg */
	pthread_cond_t wake;        /* with lock */
	bool stopping;
	pthread_t thread;
	struct thread_registry *rings; /* one struct ring per producer thread */
	struct agg agg;
	struct batch batch;
	struct shard shards[SHARDS];
	_Atomic uint64_t flushed, batches, errors, flush_usec;
	_Atomic uint64_t waiting; /* the aggregate's and the batch's clicks after the flusher's last pass */
};

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

static uint64_t agg_hash(int64_t id, int64_t day, uint32_t host)
{
	return mix(mix(mix((uint64_t)id) ^ (uint64_t)day) ^ host);
}

static uint64_t host_hash(const char *name)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *name != '\0'; name++)
		h = (h ^ (unsigned char)*name) * 0x100000001b3ULL;
	return mix(h);
}

static int hosts_grow(struct hosts *t)
{
	size_t cap = t->cap ? t->cap * 2 : 64;
	uint32_t *slot = calloc(cap, sizeof(*slot));
	char(*name)[CLICKS_REFERRER_MAX + 1] = realloc(t->name, cap / 2 * sizeof(*name));

	if (slot == NULL || name == NULL) {
		free(slot);
		if (name != NULL)
			t->name = name;
		return -1;
	}
	t->name = name;
	for (size_t i = 0; i < t->n; i++) {
		size_t j = host_hash(name[i]) & (cap - 1);
		while (slot[j] != 0)
			j = (j + 1) & (cap - 1);
		slot[j] = (uint32_t)i + 1;
	}
	free(t->slot);
	t->slot = slot;
	t->cap = cap;
	return 0;
}

/* Sets *index to name's in t, adding it when new (0 for the empty name);
 * 0, or -1 only when memory runs out. */
static int hosts_find(struct hosts *t, const char *name, uint32_t *index)
{
	size_t j;

	*index = 0;
	if (name[0] == '\0')
		return 0;
	if ((t->n + 1) * 2 > t->cap && hosts_grow(t) != 0)
		return -1;
	j = host_hash(name) & (t->cap - 1);
	for (; t->slot[j] != 0; j = (j + 1) & (t->cap - 1)) {
		if (strcmp(t->name[t->slot[j] - 1], name) == 0) {
			*index = t->slot[j];
			return 0;
		}
	}
	snprintf(t->name[t->n], sizeof(t->name[t->n]), "%s", name);
	t->slot[j] = (uint32_t)++t->n;
	*index = t->slot[j];
	return 0;
}

static void hosts_clear(struct hosts *t)
{
	if (t->cap > 4096) { /* let a burst's memory go */
		free(t->slot);
		free(t->name);
		*t = (struct hosts){0};
	} else if (t->cap > 0) {
		memset(t->slot, 0, t->cap * sizeof(*t->slot));
		t->n = 0;
	}
}

static int agg_grow(struct agg *a)
{
	size_t cap = a->cap ? a->cap * 2 : 256;
	struct agg_entry *slot = calloc(cap, sizeof(*slot));

	if (slot == NULL)
		return -1;
	for (size_t i = 0; i < a->cap; i++) {
		struct agg_entry *e = &a->slot[i];
		if (e->link_id == 0)
			continue;
		size_t j = agg_hash(e->link_id, e->day, e->host) & (cap - 1);
		while (slot[j].link_id != 0)
			j = (j + 1) & (cap - 1);
		slot[j] = *e;
	}
	free(a->slot);
	a->slot = slot;
	a->cap = cap;
	return 0;
}

/* Adds one event; -1 only when memory runs out (the event stays in its ring). */
static int agg_add(struct agg *a, const struct event *ev)
{
	int64_t day = ev->at >= 0 ? rfc3339_day_of(ev->at) : 0; /* a clock before 1970: day 0 */
	uint32_t host;
	size_t j;

	if (hosts_find(&a->hosts, ev->ref, &host) != 0 || ((a->n + 1) * 2 > a->cap && agg_grow(a) != 0))
		return -1;
	j = agg_hash(ev->link_id, day, host) & (a->cap - 1);
	while (a->slot[j].link_id != 0 &&
	       !(a->slot[j].link_id == ev->link_id && a->slot[j].day == day && a->slot[j].host == host))
		j = (j + 1) & (a->cap - 1);
	struct agg_entry *e = &a->slot[j];
	if (e->link_id == 0) {
		e->link_id = ev->link_id;
		e->day = day;
		e->host = host;
		a->n++;
	}
	if (ev->bot)
		e->bots++;
	else
		e->clicks++;
	if (ev->at > e->last_at)
		e->last_at = ev->at;
	a->clicks++;
	return 0;
}

static void agg_clear(struct agg *a)
{
	if (a->cap > 65536) { /* let a burst's memory go */
		free(a->slot);
		a->slot = NULL;
		a->cap = 0;
	} else if (a->cap > 0) {
		memset(a->slot, 0, a->cap * sizeof(*a->slot));
	}
	a->n = 0;
	a->clicks = 0;
	hosts_clear(&a->hosts);
}

struct drain_walk {
	struct clicks *c;
	size_t max;
	bool full;
};

/* Moves one ring's events into the aggregate until it holds w->max rows;
 * once it is full, the rings after it wait for the next drain. Caller holds
 * c->drain_lock. */
static void drain_ring(void *obj, void *arg)
{
	struct ring *r = obj;
	struct drain_walk *w = arg;
	uint64_t t, h;

	if (w->full)
		return;
	t = atomic_load_explicit(&r->tail, memory_order_relaxed);
	h = atomic_load_explicit(&r->head, memory_order_acquire);
	for (; t != h; t++) {
		if (w->c->agg.n >= w->max) {
			w->full = true;
			break;
		}
		if (agg_add(&w->c->agg, &r->ev[t & (RING_SIZE - 1)]) != 0)
			break;
	}
	atomic_store_explicit(&r->tail, t, memory_order_release);
}

/* Moves the rings' events into the aggregate until it holds max rows; true
 * when it stopped there with events left. Caller holds c->drain_lock. */
static bool drain_locked(struct clicks *c, size_t max)
{
	struct drain_walk w = {c, max, false};

	thread_registry_foreach(c->rings, drain_ring, &w);
	return w.full;
}

static bool drain_upto(struct clicks *c, size_t max)
{
	bool full;

	pthread_mutex_lock(&c->drain_lock);
	full = drain_locked(c, max);
	pthread_mutex_unlock(&c->drain_lock);
	return full;
}

/* Moves every ring's events into the aggregate. */
static void drain(struct clicks *c)
{
	drain_upto(c, SIZE_MAX);
}

static uint64_t now_usec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int row_cmp(const void *a, const void *b)
{
	const struct click_row *x = a, *y = b;

	if (x->link_id != y->link_id)
		return x->link_id < y->link_id ? -1 : 1;
	if (x->day != y->day)
		return x->day < y->day ? -1 : 1;
	return strcmp(x->referrer != NULL ? x->referrer : "", y->referrer != NULL ? y->referrer : "");
}

/* Empties the batch; its host table is kept for the next (hosts_clear). */
static void batch_clear(struct batch *b)
{
	free(b->rows);
	b->rows = NULL;
	b->n = 0;
	b->clicks = 0;
	hosts_clear(&b->hosts);
}

/* Takes the aggregate's rows as the batch, sorted by key (the store then
 * walks its b-trees from one end to the other instead of at random), and
 * empties the aggregate; -1 when out of memory (the rows stay where they
 * were). Caller holds c->lock, with the batch empty. */
static int take_batch(struct clicks *c)
{
	struct batch *b = &c->batch;
	struct agg *a = &c->agg;
	int rc = 0;

	pthread_mutex_lock(&c->drain_lock);
	if (a->n > 0 && (b->rows = malloc(a->n * sizeof(*b->rows))) == NULL)
		rc = -1;
	if (a->n > 0 && rc == 0) {
		for (size_t i = 0; i < a->cap; i++) {
			const struct agg_entry *e = &a->slot[i];
			if (e->link_id == 0)
				continue;
			b->rows[b->n++] =
			    (struct click_row){e->link_id, e->day,  e->last_at,
			                       e->clicks,  e->bots, e->host != 0 ? a->hosts.name[e->host - 1] : ""};
			b->clicks += (uint64_t)(e->clicks + e->bots);
		}
		/* The rows' referrers point into the aggregate's host table:
		 * it goes with them, and the batch's last one, emptied, takes
		 * its place. */
		struct hosts emptied = b->hosts;
		b->hosts = a->hosts;
		a->hosts = emptied;
		agg_clear(a);
	}
	pthread_mutex_unlock(&c->drain_lock);
	if (b->n > 1)
		qsort(b->rows, b->n, sizeof(*b->rows), row_cmp);
	return rc;
}

/* Writes the batch in one transaction and empties it; a failed write keeps
 * it. Caller holds c->lock. */
static int write_batch(struct clicks *c)
{
	struct batch *b = &c->batch;
	uint64_t start = now_usec();

	if (b->n == 0)
		return 0;
	if (store_clicks_write(c->store, b->rows, b->n) != STORE_OK) {
		atomic_fetch_add(&c->errors, 1);
		return -1;
	}
	atomic_fetch_add(&c->flush_usec, now_usec() - start);
	atomic_fetch_add(&c->batches, 1);
	atomic_fetch_add(&c->flushed, b->clicks);
	batch_clear(b);
	return 0;
}

/* Writes the batch a failed write left, then the aggregate. Caller holds
 * c->lock. */
static int write_pending(struct clicks *c)
{
	bool retry = c->batch.n > 0;

	if (!retry && take_batch(c) != 0)
		return -1;
	if (write_batch(c) != 0)
		return -1;
	if (retry && (take_batch(c) != 0 || write_batch(c) != 0))
		return -1;
	return 0;
}

/* The clicks held in memory: the aggregate's and the batch's. Caller holds
 * c->lock. */
static uint64_t held(struct clicks *c)
{
	uint64_t n;

	pthread_mutex_lock(&c->drain_lock);
	n = c->agg.clicks;
	pthread_mutex_unlock(&c->drain_lock);
	return n + c->batch.clicks;
}

/* ---- token uses ---- */

/* Raises the entry of id to at, adding it when absent; -1 when out of
 * memory. Caller holds u->lock. */
static int token_use_add(struct token_uses *u, int64_t id, int64_t at)
{
	for (size_t i = 0; i < u->n; i++) {
		if (u->use[i].id == id) {
			if (at > u->use[i].at)
				u->use[i].at = at;
			return 0;
		}
	}
	if (u->n == u->cap) {
		size_t cap = u->cap ? u->cap * 2 : 16;
		struct store_token_use *grown = realloc(u->use, cap * sizeof(*grown));
		if (grown == NULL)
			return -1;
		u->use = grown;
		u->cap = cap;
	}
	u->use[u->n++] = (struct store_token_use){id, at};
	return 0;
}

/* Takes the table whole and writes it; a failed write puts its entries
 * back (uses recorded meanwhile keep the later time). Requests go on
 * recording during the write: the table is not held while the store is. */
static int write_token_uses(struct clicks *c)
{
	struct token_uses *u = &c->tokens;
	struct store_token_use *taken;
	size_t n;
	int rc;

	pthread_mutex_lock(&u->lock);
	taken = u->use;
	n = u->n;
	u->use = NULL;
	u->n = 0;
	u->cap = 0;
	pthread_mutex_unlock(&u->lock);
	if (n == 0) {
		free(taken);
		return 0;
	}
	rc = store_token_uses_write(c->store, taken, n);
	if (rc != STORE_OK) {
		pthread_mutex_lock(&u->lock);
		for (size_t i = 0; i < n; i++)
			token_use_add(u, taken[i].id,
			              taken[i].at); /* out of memory: that time is lost, not the token */
		pthread_mutex_unlock(&u->lock);
	}
	free(taken);
	return rc == STORE_OK ? 0 : -1;
}

void clicks_token_used(struct clicks *c, int64_t token_id, int64_t at)
{
	pthread_mutex_lock(&c->tokens.lock);
	token_use_add(&c->tokens, token_id, at); /* out of memory: this use goes unrecorded */
	pthread_mutex_unlock(&c->tokens.lock);
}

int64_t clicks_token_pending(struct clicks *c, int64_t token_id)
{
	int64_t at = LINK_NO_TIME;

	pthread_mutex_lock(&c->tokens.lock);
	for (size_t i = 0; i < c->tokens.n; i++) {
		if (c->tokens.use[i].id == token_id)
			at = c->tokens.use[i].at;
	}
	pthread_mutex_unlock(&c->tokens.lock);
	return at;
}

static void deadline_after(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_nsec += (long)ms * 1000000L;
	ts->tv_sec += ts->tv_nsec / 1000000000L;
	ts->tv_nsec %= 1000000000L;
}

static void *flusher(void *arg)
{
	struct clicks *c = arg;
	uint64_t last_write = now_usec();
	struct timespec ts;

	/* Refused, the writer runs at the daemon's priority. */
	(void)thread_priority_background(THREAD_WRITER_NICE, THREAD_WRITER_SLICE_NS);
	(void)pthread_setname_np(pthread_self(), "shortd-clicks");
	pthread_mutex_lock(&c->lock);
	while (!c->stopping) {
		deadline_after(&ts, DRAIN_MS);
		pthread_cond_timedwait(&c->wake, &c->lock, &ts);
		while (drain_upto(c, CLICKS_BATCH_ROWS)) {
			if (write_pending(c) != 0) {
				drain(c); /* the store fails: keep every click, let it grow */
				break;
			}
			last_write = now_usec();
		}
		if (now_usec() - last_write >= (uint64_t)c->interval_ms * 1000u) {
			/* Looks at the database's path even with nothing to write,
			 * so a moved or deleted file is found (and logged) at once;
			 * while it is gone the clicks stay here. */
			if (store_check(c->store) == STORE_OK) {
				write_pending(c);
				write_token_uses(c);
			}
			last_write = now_usec();
		}
		atomic_store(&c->waiting, held(c));
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

static void *ring_new(void *arg)
{
	(void)arg;
	return calloc(1, sizeof(struct ring));
}

static void ring_free(void *obj, void *arg)
{
	(void)arg;
	free(obj);
}

int clicks_start(struct store *store, int interval_ms, struct clicks **out)
{
	struct clicks *c = calloc(1, sizeof(*c));
	pthread_mutexattr_t ma;
	pthread_condattr_t ca;

	*out = NULL;
	if (c == NULL)
		return -1;
	c->store = store;
	c->interval_ms = interval_ms > 0 ? interval_ms : 1000;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&c->lock, &ma);
	pthread_mutexattr_destroy(&ma);
	pthread_mutex_init(&c->drain_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->wake, &ca);
	pthread_condattr_destroy(&ca);
	for (int i = 0; i < SHARDS; i++)
		pthread_mutex_init(&c->shards[i].lock, NULL);
	pthread_mutex_init(&c->tokens.lock, NULL);
	if (thread_registry_new(ring_new, ring_free, NULL, &c->rings) != 0)
		goto fail;
	if (pthread_create(&c->thread, NULL, flusher, c) != 0) {
		thread_registry_free(c->rings);
		goto fail;
	}
	*out = c;
	return 0;
fail:
	pthread_mutex_destroy(&c->tokens.lock);
	for (int i = 0; i < SHARDS; i++)
		pthread_mutex_destroy(&c->shards[i].lock);
	pthread_cond_destroy(&c->wake);
	pthread_mutex_destroy(&c->drain_lock);
	pthread_mutex_destroy(&c->lock);
	free(c);
	return -1;
}

int clicks_stop(struct clicks *c)
{
	int rc = 0;

	if (c == NULL)
		return 0;
	pthread_mutex_lock(&c->lock);
	c->stopping = true;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);

	pthread_mutex_lock(&c->lock);
	drain(c);
	for (int i = 0; i < WRITE_RETRIES && (rc = write_pending(c)) != 0; i++)
		;
	if (rc != 0)
		fprintf(stderr, "shortd: clicks: %zu pending click rows could not be written\n", c->agg.n + c->batch.n);
	pthread_mutex_unlock(&c->lock);
	/* A token's last use not written is not a click lost: logged, and
	 * the exit status stays the clicks' own. */
	if (write_token_uses(c) != 0)
		fprintf(stderr, "shortd: tokens: the last uses of %zu tokens could not be written\n", c->tokens.n);

	thread_registry_free(c->rings);
	free(c->agg.slot);
	free(c->agg.hosts.slot);
	free(c->agg.hosts.name);
	free(c->batch.rows);
	free(c->batch.hosts.slot);
	free(c->batch.hosts.name);
	free(c->tokens.use);
	pthread_mutex_destroy(&c->tokens.lock);
	for (int i = 0; i < SHARDS; i++) {
		free(c->shards[i].slot);
		pthread_mutex_destroy(&c->shards[i].lock);
	}
	pthread_cond_destroy(&c->wake);
	pthread_mutex_destroy(&c->drain_lock);
	pthread_mutex_destroy(&c->lock);
	free(c);
	return rc;
}

void clicks_record(struct clicks *c, int64_t link_id, int64_t now, bool bot, const char *referrer_host)
{
	struct ring *r = thread_registry_get(c->rings);
	struct event *ev;
	uint64_t h, t;

	if (r == NULL) { /* no memory for a ring: count through the lock instead */
		struct event one = {link_id, now, bot, ""};
		if (referrer_host != NULL)
			snprintf(one.ref, sizeof(one.ref), "%s", referrer_host);
		pthread_mutex_lock(&c->drain_lock);
		agg_add(&c->agg, &one);
		pthread_mutex_unlock(&c->drain_lock);
		return;
	}
	h = atomic_load_explicit(&r->head, memory_order_relaxed);
	t = atomic_load_explicit(&r->tail, memory_order_acquire);
	while (h - t >= RING_SIZE) {
		/* Full: drain it here, under the lock no write holds, so a
		 * write held back (a disk that stalls, a writer given less CPU)
		 * holds up no redirect until a whole batch is waiting behind it
		 * (CLICKS_BATCH_ROWS rows, the aggregate's bound), or memory
		 * runs out. Then the flusher is waited for: a click is never
		 * dropped. */
		struct drain_walk w = {c, CLICKS_BATCH_ROWS, false};
		pthread_mutex_lock(&c->drain_lock);
		drain_ring(r, &w);
		pthread_mutex_unlock(&c->drain_lock);
		t = atomic_load_explicit(&r->tail, memory_order_acquire);
		if (h - t >= RING_SIZE) {
			struct timespec pause = {0, 50000};
			pthread_cond_signal(&c->wake);
			nanosleep(&pause, NULL);
			t = atomic_load_explicit(&r->tail, memory_order_acquire);
		}
	}
	ev = &r->ev[h & (RING_SIZE - 1)];
	ev->link_id = link_id;
	ev->at = now;
	ev->bot = bot;
	if (referrer_host != NULL) {
		size_t n = strnlen(referrer_host, CLICKS_REFERRER_MAX);
		memcpy(ev->ref, referrer_host, n);
		ev->ref[n] = '\0';
	} else {
		ev->ref[0] = '\0';
	}
	atomic_store_explicit(&r->head, h + 1, memory_order_release);
	/* The next click's line, for writing, while this thread answers
	 * other requests: the ring is too large to stay in the nearer caches,
	 * and a store that misses holds up the next locked instruction (a
	 * mutex of libmicrohttpd's) until it completes. */
	__builtin_prefetch(&r->ev[(h + 1) & (RING_SIZE - 1)], 1);
}

/* Adds one pending row's counts to clicks_pending()'s answer. */
static void add_pending(int64_t clicks, int64_t bots, int64_t at, int64_t *human, int64_t *bot, int64_t *last_at)
{
	*human += clicks;
	*bot += bots;
	if (*last_at == LINK_NO_TIME || at > *last_at)
		*last_at = at;
}

void clicks_pending(struct clicks *c, int64_t link_id, int64_t *human, int64_t *bot, int64_t *last_at)
{
	*human = 0;
	*bot = 0;
	*last_at = LINK_NO_TIME;
	pthread_mutex_lock(&c->lock);
	pthread_mutex_lock(&c->drain_lock);
	drain_locked(c, SIZE_MAX);
	for (size_t i = 0; i < c->agg.cap; i++) {
		const struct agg_entry *e = &c->agg.slot[i];
		if (e->link_id == link_id)
			add_pending(e->clicks, e->bots, e->last_at, human, bot, last_at);
	}
	pthread_mutex_unlock(&c->drain_lock);
	for (size_t i = 0; i < c->batch.n; i++) {
		const struct click_row *row = &c->batch.rows[i];
		if (row->link_id == link_id)
			add_pending(row->clicks, row->bot_clicks, row->last_at, human, bot, last_at);
	}
	pthread_mutex_unlock(&c->lock);
}

int clicks_flush(struct clicks *c)
{
	int rc;

	pthread_mutex_lock(&c->lock);
	drain(c);
	rc = write_pending(c);
	pthread_mutex_unlock(&c->lock);
	if (write_token_uses(c) != 0)
		rc = -1;
	return rc;
}

int clicks_locked(struct clicks *c, int (*fn)(void *ctx), void *ctx)
{
	int rc;

	pthread_mutex_lock(&c->lock);
	rc = fn(ctx);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

/* ---- exact limits ---- */

static struct limit_entry *limit_find(struct shard *s, int64_t id)
{
	if (s->cap == 0)
		return NULL;
	for (size_t j = mix((uint64_t)id) & (s->cap - 1);; j = (j + 1) & (s->cap - 1)) {
		if (s->slot[j].link_id == id)
			return &s->slot[j];
		if (s->slot[j].link_id == 0)
			return NULL;
	}
}

static struct limit_entry *limit_insert(struct shard *s, int64_t id, int64_t used)
{
	if ((s->n + 1) * 2 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct limit_entry *slot = calloc(cap, sizeof(*slot));
		if (slot == NULL)
			return NULL;
		for (size_t i = 0; i < s->cap; i++) {
			if (s->slot[i].link_id == 0)
				continue;
			size_t j = mix((uint64_t)s->slot[i].link_id) & (cap - 1);
			while (slot[j].link_id != 0)
				j = (j + 1) & (cap - 1);
			slot[j] = s->slot[i];
		}
		free(s->slot);
		s->slot = slot;
		s->cap = cap;
	}
	size_t j = mix((uint64_t)id) & (s->cap - 1);
	while (s->slot[j].link_id != 0)
		j = (j + 1) & (s->cap - 1);
	s->slot[j].link_id = id;
	s->slot[j].used = used;
	s->n++;
	return &s->slot[j];
}

/* The human clicks a limited link has had: the store's count read under the
 * lock that orders writes (so none can slip between) plus what is pending. */
static int64_t clicks_so_far(struct clicks *c, const struct link *l)
{
	struct link *fresh = malloc(sizeof(*fresh));
	int64_t human, bot, last, base = l->clicks;

	pthread_mutex_lock(&c->lock);
	if (fresh != NULL && store_link_lookup(c->store, l->code, fresh) == STORE_OK && fresh->id == l->id)
		base = fresh->clicks;
	clicks_pending(c, l->id, &human, &bot, &last);
	pthread_mutex_unlock(&c->lock);
	free(fresh);
	return base + human;
}

bool clicks_admit(struct clicks *c, const struct link *l)
{
	struct shard *s;
	struct limit_entry *e;
	bool ok;

	if (l->max_clicks == LINK_NO_LIMIT)
		return true;
	s = &c->shards[mix((uint64_t)l->id) % SHARDS];
	pthread_mutex_lock(&s->lock);
	e = limit_find(s, l->id);
	/*
	 * A link seen for the first time, or changed in or after the second its
	 * count was taken (its limit may have been lifted for a while, and clicks
	 * then were not reserved here), or with more clicks stored than reserved,
	 * takes its count again from the store and the pending clicks. The shard
	 * stays locked meanwhile (shard before c->lock, never the reverse), and
	 * the count never goes down: reservations not yet recorded are only in
	 * e->used.
	 */
	if (e == NULL || l->updated_at >= e->synced_at || l->clicks > e->used) {
		int64_t base = clicks_so_far(c, l);
		if (e == NULL)
			e = limit_insert(s, l->id, base);
		else if (base > e->used)
			e->used = base;
		if (e == NULL) { /* out of memory: refuse rather than overshoot */
			pthread_mutex_unlock(&s->lock);
			return false;
		}
		e->synced_at = (int64_t)time(NULL);
	}
	ok = e->used < l->max_clicks;
	if (ok)
		e->used++;
	pthread_mutex_unlock(&s->lock);
	return ok;
}

void clicks_get_stats(struct clicks *c, struct clicks_stats *out)
{
	out->flushed = atomic_load(&c->flushed);
	out->batches = atomic_load(&c->batches);
	out->errors = atomic_load(&c->errors);
	out->flush_usec = atomic_load(&c->flush_usec);
	out->waiting = atomic_load(&c->waiting);
}
