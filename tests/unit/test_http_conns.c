/*
 * Unit tests of http_conns.c without a daemon: admission against
 * --max-connections and --max-connections-per-ip (trusted proxies exempt),
 * the address table under churn, which connection is pushed out when all
 * slots are taken, and the sweep's deadlines. A connection's socket is one
 * end of a socketpair; a shutdown shows at the other end as end of file.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "http_conns.h"

static struct config cfg;

struct fake {
	struct http_conns_slot slot;
	int fd[2]; /* fd[0]: the daemon's end, fd[1]: the client's */
	struct sockaddr_in addr;
};

static void setup(void)
{
	config_defaults(&cfg);
	cfg.max_connections = 4;
	cfg.max_connections_per_ip = 2;
}

static struct sockaddr_in v4(const char *a)
{
	struct sockaddr_in s = {.sin_family = AF_INET};

	ck_assert_int_eq(inet_pton(AF_INET, a, &s.sin_addr), 1);
	return s;
}

static bool admit(struct http_conns *t, const char *a)
{
	struct sockaddr_in s = v4(a);

	return http_conns_admit(t, (struct sockaddr *)&s, sizeof(s));
}

/* A connection from a, its socket made, not yet admitted. */
static void fake_init(struct fake *f, const char *a)
{
	memset(f, 0, sizeof(*f));
	f->addr = v4(a);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, f->fd), 0);
}

/* Admits and registers f on the calling thread; false when refused. No
 * Check assert: any thread may call it. */
static bool fake_admit_open(struct http_conns *t, struct fake *f)
{
	if (!http_conns_admit(t, (struct sockaddr *)&f->addr, sizeof(f->addr)))
		return false;
	http_conns_open(t, &f->slot, f->fd[0], (struct sockaddr *)&f->addr, sizeof(f->addr));
	return true;
}

/* Admits and registers a connection from a. */
static void open_fake(struct http_conns *t, struct fake *f, const char *a)
{
	fake_init(f, a);
	ck_assert(fake_admit_open(t, f));
}

static void close_fake(struct http_conns *t, struct fake *f)
{
	http_conns_close(t, &f->slot);
	close(f->fd[0]);
	close(f->fd[1]);
}

/* The daemon's end was shut down: the client's end reads end of file. */
static bool was_shut(const struct fake *f)
{
	struct pollfd p = {f->fd[1], POLLIN, 0};
	char c;

	return poll(&p, 1, 0) > 0 && recv(f->fd[1], &c, 1, MSG_DONTWAIT) == 0;
}

static void pause_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

START_TEST(test_per_address_limit_and_total)
{
	struct http_conns *t;
	struct sockaddr_in a = v4("192.0.2.1");

	ck_assert_int_eq(http_conns_new(&cfg, &t), 0);
	ck_assert(admit(t, "192.0.2.1"));
	ck_assert(admit(t, "192.0.2.1"));
	ck_assert(!admit(t, "192.0.2.1"));
	ck_assert(admit(t, "192.0.2.2"));
	ck_assert(admit(t, "192.0.2.3"));
	ck_assert_uint_eq(http_conns_count(t), 4);
	/* Full, and nothing registered to push out. */
	ck_assert(!admit(t, "192.0.2.4"));
	http_conns_cancel(t, (struct sockaddr *)&a, sizeof(a));
	ck_assert(admit(t, "192.0.2.1"));
	ck_assert_uint_eq(http_conns_count(t), 4);
	http_conns_free(t);
}
END_TEST

START_TEST(test_trusted_proxy_has_no_per_address_limit)
{
	struct http_conns *t;

	ck_assert_int_eq(config_parse_cidr("192.0.2.0/30", &cfg.trusted_proxy[0]), 0);
	cfg.trusted_proxies = 1;
	ck_assert_int_eq(http_conns_new(&cfg, &t), 0);
	for (int i = 0; i < 4; i++)
		ck_assert(admit(t, "192.0.2.3"));
	ck_assert_uint_eq(http_conns_count(t), 4);
	http_conns_free(t);

	cfg.max_connections = 10;
	ck_assert_int_eq(http_conns_new(&cfg, &t), 0);
	ck_assert(admit(t, "192.0.2.4"));
	ck_assert(admit(t, "192.0.2.4"));
	ck_assert(!admit(t, "192.0.2.4"));
	http_conns_free(t);
}
END_TEST

/* Many addresses, each at its limit of one, given back in another order:
 * the table finds every address while it is held, and forgets it once
 * given back (its probe runs stay whole through the removals). */
START_TEST(test_address_table_under_churn)
{
	enum { N = 3000 };
	static char names[N][20];
	struct http_conns *t;

	cfg.max_connections = N;
	cfg.max_connections_per_ip = 1;
	ck_assert_int_eq(http_conns_new(&cfg, &t), 0);
	for (int i = 0; i < N; i++) {
		uint32_t a = (uint32_t)i * 2654435761u; /* spread over the address space */
		snprintf(names[i], sizeof(names[i]), "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
		ck_assert_msg(admit(t, names[i]), "%s", names[i]);
	}
	for (int round = 0; round < 3; round++) {
		for (int i = round; i < N; i += 3) {
			struct sockaddr_in s = v4(names[i]);
			http_conns_cancel(t, (struct sockaddr *)&s, sizeof(s));
		}
		for (int i = 0; i < N; i++)
			ck_assert_msg(admit(t, names[i]) == (i % 3 <= round), "round %d, %s", round, names[i]);
		for (int i = 0; i < N; i++) {
			if (i % 3 <= round) {
				struct sockaddr_in s = v4(names[i]);
				http_conns_cancel(t, (struct sockaddr *)&s, sizeof(s));
			}
		}
	}
	ck_assert_uint_eq(http_conns_count(t), 0);
	http_conns_free(t);
}
END_TEST

START_TEST(test_full_table_pushes_out_the_oldest_waiting)
{
	struct fake f[4];
	struct http_conns *t;

	cfg.max_connections_per_ip = 0;
	ck_assert_int_eq(http_conns_new(&cfg, &t), 0);
	for (int i = 0; i < 4; i++) {
		open_fake(t, &f[i], "192.0.2.1");
		pause_ms(5);
	}
	http_conns_phase(&f[0].slot, HTTP_CONNS_BODY); /* never pushed out */
	http_conns_phase(&f[1].slot, HTTP_CONNS_BUSY); /* nor this one */
	http_conns_sweep(t);                           /* notes the changes */
	ck_assert(admit(t, "192.0.2.9"));
	ck_assert(was_shut(&f[2]));
	ck_assert(!was_shut(&f[3]) && !was_shut(&f[0]) && !was_shut(&f[1]));
	/* f[2] is shut down but still open: it does not hold a slot. */
	ck_assert(admit(t, "192.0.2.9"));
	ck_assert(was_shut(&f[3]));
	/* Only a body and an answer left, and two admitted on their way. */
	ck_assert(!admit(t, "192.0.2.9"));
	ck_assert(!was_shut(&f[0]) && !was_shut(&f[1]));
	for (int i = 0; i < 4; i++)
		close_fake(t, &f[i]);
	ck_assert_uint_eq(http_conns_count(t), 2);
	http_conns_free(t);
}
END_TEST

START_TEST(test_sweep_closes_what_is_overdue)
{
	struct fake headers, body, fast_body, busy, idle;
	struct http_conns *t;

	cfg.header_timeout = 1;
	cfg.body_min_rate = 1000;
	cfg.timeout = 2;
	cfg.max_connections = 10;
	cfg.max_connections_per_ip = 0;
	ck_assert_int_eq(http_conns_new(&cfg, &t), 0);
	open_fake(t, &headers, "192.0.2.1");
	open_fake(t, &body, "192.0.2.1");
	open_fake(t, &fast_body, "192.0.2.1");
	open_fake(t, &busy, "192.0.2.1");
	open_fake(t, &idle, "192.0.2.1");
	http_conns_phase(&body.slot, HTTP_CONNS_BODY);
	http_conns_phase(&fast_body.slot, HTTP_CONNS_BODY);
	http_conns_phase(&busy.slot, HTTP_CONNS_BUSY);
	http_conns_phase(&idle.slot, HTTP_CONNS_IDLE);
	ck_assert(http_conns_sweep(t));
	pause_ms(600);
	ck_assert(http_conns_sweep(t));
	ck_assert(!was_shut(&headers) && !was_shut(&body));
	pause_ms(600);
	/* 1.2 s: headers overdue; the body has 1 s plus 1 s per 1000 bytes. */
	http_conns_body_bytes(&body.slot, 300);
	http_conns_body_bytes(&fast_body.slot, 5000);
	http_conns_sweep(t);
	ck_assert(was_shut(&headers));
	ck_assert(!was_shut(&body) && !was_shut(&fast_body) && !was_shut(&idle) && !was_shut(&busy));
	pause_ms(1000);
	/* 2.2 s: the slow body (1.3 s allowed) and the idle connection. */
	http_conns_sweep(t);
	ck_assert(was_shut(&body) && was_shut(&idle));
	ck_assert(!was_shut(&fast_body) && !was_shut(&busy));
	close_fake(t, &headers);
	close_fake(t, &body);
	close_fake(t, &fast_body);
	close_fake(t, &busy);
	close_fake(t, &idle);
	ck_assert(!http_conns_sweep(t));
	http_conns_free(t);
}
END_TEST

/* Waits up to ms for f to be shut down. */
static bool shut_within(const struct fake *f, long ms)
{
	for (long waited = 0; waited <= ms; waited += 10) {
		if (was_shut(f))
			return true;
		pause_ms(10);
	}
	return false;
}

/* The table's own thread enforces the deadlines without anyone calling
 * http_conns_sweep(); with nothing left it sleeps, and the next admission
 * wakes it: that connection's deadline holds too. */
START_TEST(test_sweeping_thread_keeps_the_deadlines)
{
	struct fake first, second;
	struct http_conns *t;

	cfg.header_timeout = 1;
	ck_assert_int_eq(http_conns_new(&cfg, &t), 0);
	ck_assert_int_eq(http_conns_start_sweeping(t), 0);
	open_fake(t, &first, "192.0.2.1");
	pause_ms(500);
	ck_assert(!was_shut(&first));
	ck_assert(shut_within(&first, 1000 + 2 * HTTP_CONNS_SWEEP_MS));
	close_fake(t, &first);
	/* Two sweeps find nothing: the thread sleeps. */
	pause_ms(3 * HTTP_CONNS_SWEEP_MS);
	open_fake(t, &second, "192.0.2.1");
	pause_ms(500);
	ck_assert(!was_shut(&second));
	ck_assert(shut_within(&second, 1000 + 2 * HTTP_CONNS_SWEEP_MS));
	close_fake(t, &second);
	http_conns_free(t);
}
END_TEST

/* A lingering socket is read until its peer closes; a reset never comes. */
START_TEST(test_lingering_socket_is_drained_then_closed)
{
	struct http_conns *t;
	char junk[1000] = {0};
	int sv[2];

	ck_assert_int_eq(http_conns_new(&cfg, &t), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	http_conns_linger(t, sv[0]);
	close(sv[0]); /* the worker's close */
	ck_assert(http_conns_sweep(t));
	ck_assert_int_eq(send(sv[1], junk, sizeof(junk), MSG_NOSIGNAL), (ssize_t)sizeof(junk));
	ck_assert(http_conns_sweep(t));
	shutdown(sv[1], SHUT_WR);
	ck_assert(!http_conns_sweep(t)); /* read to the end, closed, nothing left */
	ck_assert_int_eq(send(sv[1], junk, 1, MSG_NOSIGNAL), -1);
	close(sv[1]);
	http_conns_free(t);
}
END_TEST

/* A connection whose phase changed after the sweep read its clock (its
 * time later than the sweep's) is not overdue: the wait is never taken
 * as negative, which would wrap to forever. */
START_TEST(test_sweep_with_a_time_after_its_clock)
{
	struct fake f;
	struct http_conns *t;

	ck_assert_int_eq(http_conns_new(&cfg, &t), 0);
	open_fake(t, &f, "192.0.2.1");
	f.slot.since_ms += 60000; /* the table's field, set as a later clock read would */
	ck_assert(http_conns_sweep(t));
	ck_assert(!was_shut(&f));
	close_fake(t, &f);
	http_conns_free(t);
}
END_TEST

/* A connection opened by another thread, in that thread's list. Check's
 * asserts stay on the test's thread: the opener only reports. */
struct opener {
	struct http_conns *t;
	struct fake *f;
	bool admitted;
};

static void *open_on_a_thread(void *arg)
{
	struct opener *o = arg;

	o->admitted = fake_admit_open(o->t, o->f);
	return NULL;
}

static void open_elsewhere(struct http_conns *t, struct fake *f, const char *addr)
{
	struct opener o = {t, f, false};
	pthread_t th;

	fake_init(f, addr);
	ck_assert_int_eq(pthread_create(&th, NULL, open_on_a_thread, &o), 0);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	ck_assert(o.admitted);
}

/* Each thread registers its connections in a list of its own: a full
 * table still looks at every list for the connection that waited longest,
 * and any thread may close a connection. */
START_TEST(test_full_table_looks_at_every_thread)
{
	struct fake f[4];
	struct http_conns *t;

	cfg.max_connections_per_ip = 0;
	ck_assert_int_eq(http_conns_new(&cfg, &t), 0);
	open_elsewhere(t, &f[0], "192.0.2.1");
	pause_ms(5);
	open_fake(t, &f[1], "192.0.2.1");
	pause_ms(5);
	open_elsewhere(t, &f[2], "192.0.2.1");
	pause_ms(5);
	open_fake(t, &f[3], "192.0.2.1");
	ck_assert(f[0].slot.list != f[1].slot.list && f[1].slot.list == f[3].slot.list);
	ck_assert(admit(t, "192.0.2.9"));
	ck_assert(was_shut(&f[0]));
	ck_assert(!was_shut(&f[1]) && !was_shut(&f[2]) && !was_shut(&f[3]));
	close_fake(t, &f[0]); /* opened by a thread that has ended */
	http_conns_phase(&f[1].slot, HTTP_CONNS_BUSY);
	http_conns_sweep(t); /* notes the change */
	ck_assert(admit(t, "192.0.2.9"));
	ck_assert(was_shut(&f[2]));
	ck_assert(!was_shut(&f[1]) && !was_shut(&f[3]));
	for (int i = 1; i < 4; i++)
		close_fake(t, &f[i]);
	ck_assert_uint_eq(http_conns_count(t), 2);
	http_conns_free(t);
}
END_TEST

enum { RACERS = 4, RACE_TURNS = 20000, RACE_HELD = 4, RACE_ADDRS = 8 };

struct racer {
	pthread_t thread;
	struct http_conns *t;
	unsigned index;
	unsigned admitted;
};

/* Opens and closes connections as a worker does, RACE_HELD at a time,
 * from RACE_ADDRS addresses: many are refused, and many pushed out (their
 * socket, -1, is never a real one). */
static void *race(void *arg)
{
	struct racer *r = arg;
	struct http_conns_slot slots[RACE_HELD];
	bool open[RACE_HELD] = {false};

	for (unsigned turn = 0; turn < RACE_TURNS; turn++) {
		unsigned i = turn % RACE_HELD;
		char name[16];
		struct sockaddr_in a;

		if (open[i]) {
			http_conns_close(r->t, &slots[i]);
			open[i] = false;
		}
		snprintf(name, sizeof(name), "192.0.2.%u", 1 + (r->index * 7 + turn) % RACE_ADDRS);
		a = v4(name);
		if (!http_conns_admit(r->t, (struct sockaddr *)&a, sizeof(a)))
			continue;
		r->admitted++;
		if (turn % 5 == 0) { /* never set up: given back */
			http_conns_cancel(r->t, (struct sockaddr *)&a, sizeof(a));
			continue;
		}
		http_conns_open(r->t, &slots[i], -1, (struct sockaddr *)&a, sizeof(a));
		http_conns_phase(&slots[i], turn % 3 == 0 ? HTTP_CONNS_BUSY : HTTP_CONNS_IDLE);
		open[i] = true;
	}
	for (unsigned i = 0; i < RACE_HELD; i++) {
		if (open[i])
			http_conns_close(r->t, &slots[i]);
	}
	return NULL;
}

/* Workers admitting, opening, pushing out and closing at once, beside the
 * sweeping thread: afterwards nothing is left counted, in all or for any
 * address, and the limits hold exactly again. */
START_TEST(test_threads_admit_and_close_at_once)
{
	struct racer r[RACERS];
	struct http_conns *t;
	unsigned admitted = 0;

	cfg.max_connections = 6;
	cfg.max_connections_per_ip = 2;
	cfg.header_timeout = 0; /* every sweep pushes out what waits for headers */
	ck_assert_int_eq(http_conns_new(&cfg, &t), 0);
	ck_assert_int_eq(http_conns_start_sweeping(t), 0);
	for (unsigned i = 0; i < RACERS; i++) {
		r[i] = (struct racer){.t = t, .index = i};
		ck_assert_int_eq(pthread_create(&r[i].thread, NULL, race, &r[i]), 0);
	}
	for (unsigned i = 0; i < RACERS; i++) {
		ck_assert_int_eq(pthread_join(r[i].thread, NULL), 0);
		admitted += r[i].admitted;
	}
	ck_assert_uint_gt(admitted, RACE_TURNS);
	ck_assert_uint_eq(http_conns_count(t), 0);
	for (unsigned i = 1; i <= 3; i++) {
		char name[16];
		snprintf(name, sizeof(name), "192.0.2.%u", i);
		ck_assert(admit(t, name));
		ck_assert(admit(t, name));
		ck_assert(!admit(t, name));
	}
	ck_assert(!admit(t, "192.0.2.4")); /* six admitted, none registered */
	ck_assert_uint_eq(http_conns_count(t), 6);
	http_conns_free(t);
}
END_TEST

Suite *http_conns_suite(void)
{
	Suite *s = suite_create("http_conns");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_per_address_limit_and_total);
	tcase_add_test(tc, test_trusted_proxy_has_no_per_address_limit);
	tcase_add_test(tc, test_address_table_under_churn);
	tcase_add_test(tc, test_full_table_pushes_out_the_oldest_waiting);
	tcase_add_test(tc, test_sweep_closes_what_is_overdue);
	tcase_add_test(tc, test_lingering_socket_is_drained_then_closed);
	tcase_add_test(tc, test_sweeping_thread_keeps_the_deadlines);
	tcase_add_test(tc, test_full_table_looks_at_every_thread);
	tcase_add_test(tc, test_sweep_with_a_time_after_its_clock);
	tcase_add_test(tc, test_threads_admit_and_close_at_once);
	suite_add_tcase(s, tc);
	return s;
}
