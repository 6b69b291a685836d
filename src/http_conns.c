/*
 * The connection table: admission (--max-connections, per-address limits,
 * trusted proxies), deadlines (--header-timeout, --body-min-rate, --timeout)
 * and eviction. See include/http_conns.h for who calls what on which thread.
 *
 * Invariants, all under t->lock: admitted counts every connection admitted
 * and not yet closed (registered or still on its way to a worker); doomed
 * counts the registered ones already shut down, so admitted - doomed is
 * what holds a slot; the address table holds, per address, the admitted
 * connections that count against --max-connections-per-ip. The lingering
 * sockets have a lock of their own (linger_lock), so that draining them
 * never holds up a worker opening or closing a connection.
 *
 * The sweeping thread sleeps (dormant) once a sweep found nothing admitted
 * or lingering and no admission came since the sweep began (admissions
 * counts them): a connection admitted before then was either still
 * admitted when the sweep looked, or had closed, and a lingering socket is
 * registered before its connection closes, so the sweep saw it. Both flags
 * and the count are under lock, with which the thread waits on wake.
 */
#include "http_conns.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* An address table entry; count 0 marks it empty. */
struct addr_count {
	unsigned char key[16];
	uint32_t count;
};

/* A lingering socket (http_conns_linger). */
struct lingering_sock {
	int fd;
	uint64_t until_ms;
};

struct http_conns {
	const struct config *cfg;
	pthread_mutex_t lock;
	struct http_conns_slot *head; /* registered connections */
	unsigned admitted;
	unsigned doomed;
	struct addr_count *addrs; /* open addressing, linear probing; NULL: no per-address limit */
	size_t addr_mask;
	unsigned long admissions; /* admitted in all: the sweeping thread's clock */
	pthread_cond_t wake;      /* with lock: a dormant sweeper's first admission, or the stop */
	bool sweeping;            /* the sweeping thread runs */
	bool dormant;             /* it waits for an admission */
	bool stopping;            /* it must return */
	pthread_t sweeper;
	pthread_mutex_t linger_lock;      /* guards lingering, apart from lock: draining takes a while */
	struct lingering_sock *lingering; /* max_connections of them */
	unsigned nlingering;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Whether a connection from key counts against the per-address limit. */
static bool counts_per_addr(const struct http_conns *t, const unsigned char key[16])
{
	return t->addrs != NULL && !config_is_trusted_proxy(t->cfg, key);
}

static size_t addr_hash(const struct http_conns *t, const unsigned char key[16])
{
	uint32_t h = 2166136261u;

	for (int i = 0; i < 16; i++)
		h = (h ^ key[i]) * 16777619u;
	return h & t->addr_mask;
}

/* key's entry, or the empty one where it would go. */
static struct addr_count *addr_find(struct http_conns *t, const unsigned char key[16])
{
	size_t i = addr_hash(t, key);

	while (t->addrs[i].count != 0 && memcmp(t->addrs[i].key, key, 16) != 0)
		i = (i + 1) & t->addr_mask;
	return &t->addrs[i];
}

/* One connection fewer from key; an entry that reaches 0 is removed by
 * moving back the entries of its probe run (no tombstones). */
static void addr_release(struct http_conns *t, const unsigned char key[16])
{
	struct addr_count *e = addr_find(t, key);
	size_t hole, i;

	if (e->count == 0 || --e->count > 0)
		return;
	hole = (size_t)(e - t->addrs);
	for (i = (hole + 1) & t->addr_mask; t->addrs[i].count != 0; i = (i + 1) & t->addr_mask) {
		size_t home = addr_hash(t, t->addrs[i].key);
		/* The entry at i may fill the hole unless its home lies
		 * cyclically in (hole, i]. */
		bool stays = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
		if (!stays) {
			t->addrs[hole] = t->addrs[i];
			t->addrs[i].count = 0;
			hole = i;
		}
	}
}

int http_conns_new(const struct config *cfg, struct http_conns **out)
{
	struct http_conns *t = calloc(1, sizeof(*t));
	pthread_condattr_t ca;

	*out = NULL;
	if (t == NULL)
		return -1;
	t->cfg = cfg;
	if (cfg->max_connections_per_ip > 0) {
		/* Addresses with a connection: at most every slot and every
		 * doomed connection, 2 * max; the table stays under half full. */
		size_t cap = 16;
		while (cap < 4 * (size_t)cfg->max_connections)
			cap *= 2;
		t->addrs = calloc(cap, sizeof(*t->addrs));
		if (t->addrs == NULL) {
			free(t);
			return -1;
		}
		t->addr_mask = cap - 1;
	}
	t->lingering = calloc(cfg->max_connections, sizeof(*t->lingering));
	if (t->lingering == NULL) {
		free(t->addrs);
		free(t);
		return -1;
	}
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&t->wake, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&t->lock, NULL);
	pthread_mutex_init(&t->linger_lock, NULL);
	*out = t;
	return 0;
}

/* The sweeping thread: a sweep every HTTP_CONNS_SWEEP_MS while there is
 * anything to sweep, asleep otherwise. */
static void *sweep_loop(void *arg)
{
	struct http_conns *t = arg;

	(void)pthread_setname_np(pthread_self(), "shortd-conns");
	pthread_mutex_lock(&t->lock);
	while (!t->stopping) {
		struct timespec due;
		unsigned long seen;
		bool any;

		if (t->dormant) {
			pthread_cond_wait(&t->wake, &t->lock);
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &due);
		due.tv_nsec += HTTP_CONNS_SWEEP_MS * 1000000L;
		due.tv_sec += due.tv_nsec / 1000000000L;
		due.tv_nsec %= 1000000000L;
		while (!t->stopping && pthread_cond_timedwait(&t->wake, &t->lock, &due) != ETIMEDOUT)
			;
		if (t->stopping)
			break;
		seen = t->admissions;
		pthread_mutex_unlock(&t->lock);
		any = http_conns_sweep(t);
		pthread_mutex_lock(&t->lock);
		if (!any && t->admissions == seen)
			t->dormant = true;
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

int http_conns_start_sweeping(struct http_conns *t)
{
	int err;

	t->dormant = true; /* nothing admitted yet */
	err = pthread_create(&t->sweeper, NULL, sweep_loop, t);
	if (err != 0) {
		errno = err;
		return -1;
	}
	t->sweeping = true;
	return 0;
}

void http_conns_free(struct http_conns *t)
{
	if (t == NULL)
		return;
	if (t->sweeping) {
		pthread_mutex_lock(&t->lock);
		t->stopping = true;
		pthread_cond_signal(&t->wake);
		pthread_mutex_unlock(&t->lock);
		pthread_join(t->sweeper, NULL);
	}
	pthread_cond_destroy(&t->wake);
	pthread_mutex_destroy(&t->lock);
	pthread_mutex_destroy(&t->linger_lock);
	for (unsigned i = 0; i < t->nlingering; i++)
		close(t->lingering[i].fd);
	free(t->lingering);
	free(t->addrs);
	free(t);
}

static void doom(struct http_conns *t, struct http_conns_slot *s)
{
	shutdown(s->fd, SHUT_RDWR);
	s->doomed = true;
	t->doomed++;
}

/* Brings s's view of its state up to date; returns the phase. */
static enum http_conns_phase observe(struct http_conns_slot *s, uint64_t now)
{
	uint32_t st = atomic_load_explicit(&s->state, memory_order_relaxed);

	if (st != s->seen) {
		s->seen = st;
		s->since_ms = now;
	}
	return (enum http_conns_phase)(st & 3u);
}

/* Shuts down the connection waiting longest for headers or idle between
 * requests; false when there is none. */
static bool evict_one(struct http_conns *t)
{
	struct http_conns_slot *victim = NULL;
	uint64_t now = now_ms();

	for (struct http_conns_slot *s = t->head; s != NULL; s = s->next) {
		enum http_conns_phase p;
		if (s->doomed)
			continue;
		p = observe(s, now);
		if ((p == HTTP_CONNS_HEADERS || p == HTTP_CONNS_IDLE) &&
		    (victim == NULL || s->since_ms < victim->since_ms))
			victim = s;
	}
	if (victim == NULL)
		return false;
	doom(t, victim);
	return true;
}

bool http_conns_admit(struct http_conns *t, const struct sockaddr *addr, socklen_t len)
{
	const struct config *cfg = t->cfg;
	unsigned char key[16];
	struct addr_count *e = NULL;
	bool ok = false;

	pthread_mutex_lock(&t->lock);
	if (config_addr_key(addr, len, key) && counts_per_addr(t, key)) {
		e = addr_find(t, key);
		if (e->count >= cfg->max_connections_per_ip)
			goto out;
	}
	/* Doomed connections are let go over the limit (they close as soon
	 * as their worker sees it), but never more than max of them. */
	if (t->admitted - t->doomed >= cfg->max_connections && (t->doomed >= cfg->max_connections || !evict_one(t)))
		goto out;
	t->admitted++;
	t->admissions++;
	if (t->dormant) {
		t->dormant = false;
		pthread_cond_signal(&t->wake);
	}
	if (e != NULL) {
		if (e->count == 0)
			memcpy(e->key, key, 16);
		e->count++;
	}
	ok = true;
out:
	pthread_mutex_unlock(&t->lock);
	return ok;
}

void http_conns_cancel(struct http_conns *t, const struct sockaddr *addr, socklen_t len)
{
	unsigned char key[16];

	pthread_mutex_lock(&t->lock);
	t->admitted--;
	if (config_addr_key(addr, len, key) && counts_per_addr(t, key))
		addr_release(t, key);
	pthread_mutex_unlock(&t->lock);
}

void http_conns_open(struct http_conns *t, struct http_conns_slot *s, int fd, const struct sockaddr *addr,
                     socklen_t len)
{
	s->fd = fd;
	s->counted = config_addr_key(addr, len, s->key) && counts_per_addr(t, s->key);
	s->doomed = false;
	s->seq = 0;
	atomic_store_explicit(&s->state, (uint32_t)HTTP_CONNS_HEADERS, memory_order_relaxed);
	atomic_store_explicit(&s->body_bytes, 0, memory_order_relaxed);
	s->seen = (uint32_t)HTTP_CONNS_HEADERS;
	s->since_ms = now_ms();
	pthread_mutex_lock(&t->lock);
	s->prev = NULL;
	s->next = t->head;
	if (t->head != NULL)
		t->head->prev = s;
	t->head = s;
	pthread_mutex_unlock(&t->lock);
}

void http_conns_close(struct http_conns *t, struct http_conns_slot *s)
{
	pthread_mutex_lock(&t->lock);
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		t->head = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	if (s->doomed)
		t->doomed--;
	if (s->counted)
		addr_release(t, s->key);
	t->admitted--;
	pthread_mutex_unlock(&t->lock);
}

/* Whether the connection in phase p since since_ms is past its deadline. */
static bool is_overdue(const struct http_conns *t, const struct http_conns_slot *s, enum http_conns_phase p,
                       uint64_t now)
{
	const struct config *cfg = t->cfg;
	uint64_t waited = now - s->since_ms, allowed;

	switch (p) {
	case HTTP_CONNS_HEADERS:
		return waited >= (uint64_t)cfg->header_timeout * 1000u;
	case HTTP_CONNS_BODY:
		if (cfg->body_min_rate == 0)
			return false;
		allowed = (uint64_t)cfg->header_timeout * 1000u +
		          atomic_load_explicit(&s->body_bytes, memory_order_relaxed) * 1000u / cfg->body_min_rate;
		return waited >= allowed;
	case HTTP_CONNS_IDLE:
		return waited >= (uint64_t)cfg->timeout * 1000u;
	case HTTP_CONNS_BUSY:
		return false;
	}
	return false;
}

void http_conns_linger(struct http_conns *t, int fd)
{
	int copy;

	pthread_mutex_lock(&t->linger_lock);
	if (t->nlingering < t->cfg->max_connections && (copy = fcntl(fd, F_DUPFD_CLOEXEC, 0)) >= 0)
		t->lingering[t->nlingering++] = (struct lingering_sock){copy, now_ms() + HTTP_CONNS_LINGER_MS};
	pthread_mutex_unlock(&t->linger_lock);
}

/* Reads and drops what l's peer sent, a bounded amount per sweep; true
 * when l is done (the peer closed, or its time is up). */
static bool linger_drain(struct lingering_sock *l, uint64_t now)
{
	char buf[16384];

	for (int i = 0; i < 4; i++) {
		ssize_t n = recv(l->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
			return true;
		if (n < 0)
			break;
	}
	return now >= l->until_ms;
}

bool http_conns_sweep(struct http_conns *t)
{
	uint64_t now = now_ms();
	bool any;

	pthread_mutex_lock(&t->lock);
	for (struct http_conns_slot *s = t->head; s != NULL; s = s->next) {
		if (!s->doomed && is_overdue(t, s, observe(s, now), now))
			doom(t, s);
	}
	any = t->admitted > 0;
	pthread_mutex_unlock(&t->lock);

	pthread_mutex_lock(&t->linger_lock);
	for (unsigned i = 0; i < t->nlingering;) {
		if (linger_drain(&t->lingering[i], now)) {
			close(t->lingering[i].fd);
			t->lingering[i] = t->lingering[--t->nlingering];
		} else {
			i++;
		}
	}
	any = any || t->nlingering > 0;
	pthread_mutex_unlock(&t->linger_lock);
	return any;
}

unsigned http_conns_count(struct http_conns *t)
{
	unsigned n;

	pthread_mutex_lock(&t->lock);
	n = t->admitted;
	pthread_mutex_unlock(&t->lock);
	return n;
}
