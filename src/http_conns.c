/*
 * The connection table: admission (--max-connections, per-address limits,
 * trusted proxies), deadlines (--header-timeout, --body-min-rate, --timeout)
 * and eviction. See include/http_conns.h for who calls what on which thread.
 *
 * Made for many workers accepting at once: a new connection touches one
 * shared word (counts, an atomic), its address's entry under the address
 * table's lock when the per-address limit applies to it, and its own
 * thread's list, whose lock no other worker takes.
 *
 * Invariants: counts holds two numbers in one word, so that they change
 * together: admitted (the low 32 bits) counts every connection admitted
 * and not yet closed (registered or still on its way to a worker), and
 * doomed (the high 32) the registered ones already shut down, so admitted
 * - doomed is what holds a slot, and doomed <= admitted. A new connection
 * takes a slot with a compare-and-swap that adds one to admitted only
 * while fewer than --max-connections are held; a close takes off its
 * admission and, if it was doomed, its doom in one subtraction. Only a
 * full table takes the table's lock, where one admission at a time pushes
 * out the connection that waited longest, with every list locked while it
 * looks.
 *
 * Each list (struct http_conns_list, one per thread that opens connections,
 * from a thread_registry) guards its connections' table fields. The
 * address table holds, per address, the admitted connections that count
 * against --max-connections-per-ip, under addr_lock. The lingering sockets
 * have a lock of their own (linger_lock), so that draining them never
 * holds up a worker. Lock order: lock, then the lists in each_list()'s
 * order; every other lock is taken alone.
 *
 * The sweeping thread sleeps (dormant) once a sweep found nothing admitted
 * or lingering. It sets dormant and then looks at counts and the
 * lingering sockets again, while an admission adds to counts and then
 * looks at dormant (both sequentially consistent): either the thread sees
 * the connection, or the admission sees it asleep and wakes it under lock.
 * A lingering socket is registered before its connection closes, so a
 * thread that sees the connection closed sees the socket.
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

#include "thread_registry.h"

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

/* One thread's registered connections. */
struct http_conns_list {
	_Alignas(64) pthread_mutex_t lock;
	struct http_conns_slot *head;
	struct http_conns_list *next_locked; /* in an eviction's walk, under the table's lock */
};

struct http_conns {
	/* Written by every admission and close: a line of its own. */
	_Alignas(64) _Atomic uint64_t counts; /* doomed << 32 | admitted */
	/* Read by every admission, written seldom. */
	_Alignas(64) _Atomic bool dormant; /* the sweeping thread waits for an admission */
	const struct config *cfg;
	struct thread_registry *lists; /* each opening thread's struct http_conns_list */

	_Alignas(64) pthread_mutex_t addr_lock;
	struct addr_count *addrs; /* open addressing, linear probing; NULL: no per-address limit */
	size_t addr_mask;

	_Alignas(64) pthread_mutex_t lock; /* a full table's admissions; the sweeping thread's sleep */
	pthread_cond_t wake;               /* with lock: a dormant sweeper's first admission, or the stop */
	bool sweeping;                     /* the sweeping thread runs */
	bool stopping;                     /* it must return */
	pthread_t sweeper;
	struct http_conns_list *locked; /* the lists an eviction holds */

	struct http_conns_list spill; /* for a thread whose own list could not be made */

	_Alignas(64) pthread_mutex_t linger_lock; /* guards lingering: draining takes a while */
	struct lingering_sock *lingering;         /* max_connections of them */
	unsigned nlingering;
};

/* The two halves of counts. */
#define DOOMED_ONE ((uint64_t)1 << 32)

static uint32_t admitted_of(uint64_t counts)
{
	return (uint32_t)counts;
}

static uint32_t doomed_of(uint64_t counts)
{
	return (uint32_t)(counts >> 32);
}

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

static void list_init(struct http_conns_list *l)
{
	l->head = NULL;
	l->next_locked = NULL;
	pthread_mutex_init(&l->lock, NULL); /* cannot fail without attributes */
}

static void *list_new(void *arg)
{
	struct http_conns_list *l = aligned_alloc(_Alignof(struct http_conns_list), sizeof(*l));

	(void)arg;
	if (l != NULL)
		list_init(l);
	return l;
}

static void list_free(void *obj, void *arg)
{
	struct http_conns_list *l = obj;

	(void)arg;
	pthread_mutex_destroy(&l->lock);
	free(l);
}

/* Calls visit(list, arg) for the spill list and then every thread's: the
 * order in which an eviction locks them. */
static void each_list(struct http_conns *t, thread_registry_visit_fn visit, void *arg)
{
	visit(&t->spill, arg);
	thread_registry_foreach(t->lists, visit, arg);
}

int http_conns_new(const struct config *cfg, struct http_conns **out)
{
	struct http_conns *t = aligned_alloc(_Alignof(struct http_conns), sizeof(*t));
	pthread_condattr_t ca;

	*out = NULL;
	if (t == NULL)
		return -1;
	memset(t, 0, sizeof(*t));
	atomic_init(&t->counts, 0);
	atomic_init(&t->dormant, false);
	t->cfg = cfg;
	if (cfg->max_connections_per_ip > 0) {
		/* Addresses with a connection: at most every slot and every
		 * doomed connection, 2 * max; the table stays under half full. */
		size_t cap = 16;
		while (cap < 4 * (size_t)cfg->max_connections)
			cap *= 2;
		t->addrs = calloc(cap, sizeof(*t->addrs));
		if (t->addrs == NULL)
			goto fail;
		t->addr_mask = cap - 1;
	}
	t->lingering = calloc(cfg->max_connections, sizeof(*t->lingering));
	if (t->lingering == NULL || thread_registry_new(list_new, list_free, NULL, &t->lists) != 0)
		goto fail;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&t->wake, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&t->lock, NULL);
	pthread_mutex_init(&t->addr_lock, NULL);
	pthread_mutex_init(&t->linger_lock, NULL);
	list_init(&t->spill);
	*out = t;
	return 0;
fail:
	free(t->lingering);
	free(t->addrs);
	free(t);
	return -1;
}

/* Lingering sockets not yet closed. */
static unsigned lingering_count(struct http_conns *t)
{
	unsigned n;

	pthread_mutex_lock(&t->linger_lock);
	n = t->nlingering;
	pthread_mutex_unlock(&t->linger_lock);
	return n;
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

		if (atomic_load(&t->dormant)) {
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
		pthread_mutex_unlock(&t->lock);
		if (!http_conns_sweep(t)) {
			/* Asleep first, then looked again (see the top). */
			atomic_store(&t->dormant, true);
			if (admitted_of(atomic_load(&t->counts)) > 0 || lingering_count(t) > 0)
				atomic_store(&t->dormant, false);
		}
		pthread_mutex_lock(&t->lock);
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

int http_conns_start_sweeping(struct http_conns *t)
{
	int err;

	atomic_store(&t->dormant, true); /* nothing admitted yet */
	err = pthread_create(&t->sweeper, NULL, sweep_loop, t);
	if (err != 0) {
		atomic_store(&t->dormant, false);
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
	thread_registry_free(t->lists);
	pthread_mutex_destroy(&t->spill.lock);
	pthread_cond_destroy(&t->wake);
	pthread_mutex_destroy(&t->lock);
	pthread_mutex_destroy(&t->addr_lock);
	pthread_mutex_destroy(&t->linger_lock);
	for (unsigned i = 0; i < t->nlingering; i++)
		close(t->lingering[i].fd);
	free(t->lingering);
	free(t->addrs);
	free(t);
}

/* Under s's list's lock. */
static void doom(struct http_conns *t, struct http_conns_slot *s)
{
	s->doomed = true;
	atomic_fetch_add(&t->counts, DOOMED_ONE);
	shutdown(s->fd, SHUT_RDWR);
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

/* An eviction's look at every list: the connection waiting longest for
 * headers or idle between requests. */
struct eviction {
	struct http_conns *t;
	struct http_conns_slot *victim;
	uint64_t now;
};

/* Locks l, keeps it locked (t->locked) and looks at its connections. */
static void evict_visit(void *obj, void *arg)
{
	struct http_conns_list *l = obj;
	struct eviction *e = arg;

	pthread_mutex_lock(&l->lock);
	l->next_locked = e->t->locked;
	e->t->locked = l;
	for (struct http_conns_slot *s = l->head; s != NULL; s = s->next) {
		enum http_conns_phase p;
		if (s->doomed)
			continue;
		p = observe(s, e->now);
		if ((p == HTTP_CONNS_HEADERS || p == HTTP_CONNS_IDLE) &&
		    (e->victim == NULL || s->since_ms < e->victim->since_ms))
			e->victim = s;
	}
}

/* Shuts down the connection waiting longest for headers or idle between
 * requests; false when there is none. Under t->lock. */
static bool evict_one(struct http_conns *t)
{
	struct eviction e = {t, NULL, now_ms()};

	each_list(t, evict_visit, &e);
	if (e.victim != NULL)
		doom(t, e.victim);
	while (t->locked != NULL) {
		struct http_conns_list *l = t->locked;
		t->locked = l->next_locked;
		pthread_mutex_unlock(&l->lock);
	}
	return e.victim != NULL;
}

/* A slot for a new connection, on the shared word alone while fewer than
 * --max-connections are held. */
static bool take_slot_at_once(struct http_conns *t)
{
	uint64_t c = atomic_load(&t->counts);

	while (admitted_of(c) - doomed_of(c) < t->cfg->max_connections) {
		if (atomic_compare_exchange_weak(&t->counts, &c, c + 1))
			return true;
	}
	return false;
}

/* A slot for a new connection; when every one is held, the connection
 * waiting longest is pushed out for it. Doomed connections are let go over
 * the limit (they close as soon as their worker sees it), but never more
 * than max of them. */
static bool take_slot(struct http_conns *t)
{
	bool ok;

	if (take_slot_at_once(t))
		return true;
	pthread_mutex_lock(&t->lock);
	while (!(ok = take_slot_at_once(t)) && doomed_of(atomic_load(&t->counts)) < t->cfg->max_connections &&
	       evict_one(t))
		;
	pthread_mutex_unlock(&t->lock);
	return ok;
}

/* One connection more from key, unless its limit is reached. */
static bool addr_take(struct http_conns *t, const unsigned char key[16])
{
	struct addr_count *e;
	bool ok = false;

	pthread_mutex_lock(&t->addr_lock);
	e = addr_find(t, key);
	if (e->count < t->cfg->max_connections_per_ip) {
		if (e->count == 0)
			memcpy(e->key, key, 16);
		e->count++;
		ok = true;
	}
	pthread_mutex_unlock(&t->addr_lock);
	return ok;
}

static void addr_give_back(struct http_conns *t, const unsigned char key[16])
{
	pthread_mutex_lock(&t->addr_lock);
	addr_release(t, key);
	pthread_mutex_unlock(&t->addr_lock);
}

bool http_conns_admit(struct http_conns *t, const struct sockaddr *addr, socklen_t len)
{
	unsigned char key[16];
	bool per_addr = config_addr_key(addr, len, key) && counts_per_addr(t, key);

	if (per_addr && !addr_take(t, key))
		return false;
	if (!take_slot(t)) {
		if (per_addr)
			addr_give_back(t, key);
		return false;
	}
	if (atomic_load(&t->dormant)) {
		pthread_mutex_lock(&t->lock);
		if (atomic_load(&t->dormant)) {
			atomic_store(&t->dormant, false);
			pthread_cond_signal(&t->wake);
		}
		pthread_mutex_unlock(&t->lock);
	}
	return true;
}

void http_conns_cancel(struct http_conns *t, const struct sockaddr *addr, socklen_t len)
{
	unsigned char key[16];

	if (config_addr_key(addr, len, key) && counts_per_addr(t, key))
		addr_give_back(t, key);
	atomic_fetch_sub(&t->counts, 1);
}

void http_conns_open(struct http_conns *t, struct http_conns_slot *s, int fd, const struct sockaddr *addr,
                     socklen_t len)
{
	struct http_conns_list *l = thread_registry_get(t->lists);

	if (l == NULL)
		l = &t->spill;
	s->fd = fd;
	s->list = l;
	s->counted = config_addr_key(addr, len, s->key) && counts_per_addr(t, s->key);
	s->doomed = false;
	s->seq = 0;
	atomic_store_explicit(&s->state, (uint32_t)HTTP_CONNS_HEADERS, memory_order_relaxed);
	atomic_store_explicit(&s->body_bytes, 0, memory_order_relaxed);
	s->seen = (uint32_t)HTTP_CONNS_HEADERS;
	s->since_ms = now_ms();
	pthread_mutex_lock(&l->lock);
	s->prev = NULL;
	s->next = l->head;
	if (l->head != NULL)
		l->head->prev = s;
	l->head = s;
	pthread_mutex_unlock(&l->lock);
}

void http_conns_close(struct http_conns *t, struct http_conns_slot *s)
{
	struct http_conns_list *l = s->list;

	pthread_mutex_lock(&l->lock);
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		l->head = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	pthread_mutex_unlock(&l->lock);
	if (s->counted)
		addr_give_back(t, s->key);
	/* The doom and the admission go together: s->doomed is set only
	 * while s is registered, under the lock just held. */
	atomic_fetch_sub(&t->counts, (s->doomed ? DOOMED_ONE : 0) + 1);
}

/* Whether the connection in phase p since since_ms is past its deadline. */
static bool is_overdue(const struct http_conns *t, const struct http_conns_slot *s, enum http_conns_phase p,
                       uint64_t now)
{
	const struct config *cfg = t->cfg;
	uint64_t waited = now > s->since_ms ? now - s->since_ms : 0, allowed;

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

/* Shuts down what is overdue in one list. */
static void sweep_visit(void *obj, void *arg)
{
	struct http_conns_list *l = obj;
	struct http_conns *t = arg;
	uint64_t now;

	pthread_mutex_lock(&l->lock);
	/* Read under the lock: every since_ms in the list is older. */
	now = now_ms();
	for (struct http_conns_slot *s = l->head; s != NULL; s = s->next) {
		if (!s->doomed && is_overdue(t, s, observe(s, now), now))
			doom(t, s);
	}
	pthread_mutex_unlock(&l->lock);
}

bool http_conns_sweep(struct http_conns *t)
{
	uint64_t now = now_ms();
	bool any;

	each_list(t, sweep_visit, t);
	any = admitted_of(atomic_load(&t->counts)) > 0;

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
	return admitted_of(atomic_load(&t->counts));
}
