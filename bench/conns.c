/*
 * The connection table's cost to a new connection, outside the daemon:
 * THREADS threads each open and close connections through src/http_conns.c
 * as a worker does (http_conns_admit, http_conns_open, the phases of one
 * request, http_conns_close), with the table's sweeping thread running and
 * shortd's default limits, for SECONDS seconds. Each thread keeps HELD
 * connections open and replaces the oldest each turn, so the table always
 * holds THREADS * HELD of them.
 *
 * ADDRS is how many client addresses the threads take turns at: 1 is the
 * benchmark's one load generator on 127.0.0.1 (every admission counts
 * against one address's entry); more spread the connections over
 * 10.0.0.0/8 as real clients would; 0 is one address with no per-address
 * limit (--max-connections-per-ip 0). GAP_NS is work done between two
 * connections (a busy loop), standing for the rest of a connection's
 * cost: 0 is the worst case, every thread in the table at once.
 *
 * Usage: conns THREADS SECONDS ADDRS GAP_NS
 * Prints one line: threads, connections a second in all, and the CPU
 * time a connection (the process's, over connections).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "config.h"
#include "http_conns.h"

#define HELD 8

struct worker {
	pthread_t thread;
	struct http_conns *table;
	unsigned index;
	unsigned addrs;
	uint64_t gap_ns;
	_Atomic bool *stop;
	uint64_t done;
	uint64_t refused;
	struct http_conns_slot slots[HELD];
	struct sockaddr_in held[HELD];
	bool open[HELD];
};

static double now_s(int clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void spin(uint64_t ns)
{
	double until = now_s(CLOCK_MONOTONIC) + (double)ns / 1e9;

	if (ns == 0)
		return;
	while (now_s(CLOCK_MONOTONIC) < until)
		;
}

static void *run(void *arg)
{
	struct worker *w = arg;
	uint32_t next = w->index * 7919u;

	for (unsigned turn = 0; !atomic_load_explicit(w->stop, memory_order_relaxed); turn = (turn + 1) % HELD) {
		struct sockaddr_in *a = &w->held[turn];
		struct http_conns_slot *s = &w->slots[turn];

		if (w->open[turn]) {
			http_conns_close(w->table, s);
			w->open[turn] = false;
		}
		memset(a, 0, sizeof(*a));
		a->sin_family = AF_INET;
		a->sin_addr.s_addr = w->addrs == 1 ? htonl(INADDR_LOOPBACK) : htonl(0x0a000000u | (next++ % w->addrs));
		if (!http_conns_admit(w->table, (struct sockaddr *)a, sizeof(*a))) {
			w->refused++;
			continue;
		}
		/* No socket: the limits are never reached, so the table never
		 * shuts one down. */
		http_conns_open(w->table, s, -1, (struct sockaddr *)a, sizeof(*a));
		http_conns_phase(s, HTTP_CONNS_BUSY);
		http_conns_phase(s, HTTP_CONNS_IDLE);
		w->open[turn] = true;
		w->done++;
		spin(w->gap_ns);
	}
	for (unsigned i = 0; i < HELD; i++) {
		if (w->open[i])
			http_conns_close(w->table, &w->slots[i]);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct config cfg;
	struct http_conns *table;
	struct worker *w;
	struct rusage ru;
	_Atomic bool stop = false;
	unsigned threads;
	double seconds, t0, wall, cpu;
	uint64_t done = 0, refused = 0;

	if (argc != 5 || (threads = (unsigned)atoi(argv[1])) == 0 || (seconds = atof(argv[2])) <= 0) {
		fprintf(stderr, "usage: conns THREADS SECONDS ADDRS GAP_NS\n");
		return 2;
	}
	config_defaults(&cfg);
	if (atoi(argv[3]) == 0)
		cfg.max_connections_per_ip = 0;
	if (cfg.max_connections_per_ip > 0 && threads * HELD > cfg.max_connections_per_ip) {
		fprintf(stderr, "conns: at most %u threads\n", cfg.max_connections_per_ip / HELD);
		return 2;
	}
	if (http_conns_new(&cfg, &table) != 0 || http_conns_start_sweeping(table) != 0 ||
	    (w = calloc(threads, sizeof(*w))) == NULL) {
		fprintf(stderr, "conns: cannot make the table\n");
		return 1;
	}
	t0 = now_s(CLOCK_MONOTONIC);
	for (unsigned i = 0; i < threads; i++) {
		w[i] = (struct worker){.table = table,
		                       .index = i,
		                       .addrs = (unsigned)atoi(argv[3]) < 1 ? 1 : (unsigned)atoi(argv[3]),
		                       .gap_ns = strtoull(argv[4], NULL, 10),
		                       .stop = &stop};
		if (pthread_create(&w[i].thread, NULL, run, &w[i]) != 0) {
			fprintf(stderr, "conns: cannot start a thread\n");
			return 1;
		}
	}
	nanosleep(
	    &(struct timespec){.tv_sec = (time_t)seconds, .tv_nsec = (long)((seconds - (double)(time_t)seconds) * 1e9)},
	    NULL);
	atomic_store(&stop, true);
	for (unsigned i = 0; i < threads; i++) {
		pthread_join(w[i].thread, NULL);
		done += w[i].done;
		refused += w[i].refused;
	}
	wall = now_s(CLOCK_MONOTONIC) - t0;
	getrusage(RUSAGE_SELF, &ru);
	cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	      (double)ru.ru_stime.tv_usec / 1e6;
	if (refused > 0 || http_conns_count(table) != 0) {
		fprintf(stderr, "conns: %llu refused, %u left counted\n", (unsigned long long)refused,
		        http_conns_count(table));
		return 1;
	}
	printf("%u %.0f %.1f\n", threads, (double)done / wall, cpu * 1e9 / (double)done);
	http_conns_free(table);
	free(w);
	return 0;
}
