/*
 * A paced load of new connections, for bench/run.sh's closepaced mode: RATE
 * connections a second, opened on an even schedule whatever the server
 * answers (an open loop: a slow answer delays no later connection), each
 * sending one GET of the next path of a list with "Connection: close" and
 * reading the answer to the server's close. A request's time runs from its
 * connect() to that close, so the handshake, the server's accept and any
 * wait behind earlier connections count, as they do for a browser
 * following a link. The walk starts at a random line of the list.
 *
 * Usage: paced_close HOST PORT PATHS RATE SECONDS [LATENCIES]
 * Prints one line: requests N errors E rate R p50_us P p99_us Q max_us M
 * late_us L, where errors are refused or failed connections, answers
 * other than 3xx and connections not answered within 5 s of the last
 * start, and late_us is the most the load fell behind its schedule (the
 * generator itself, not the server). With LATENCIES, every answered
 * request's time in microseconds is appended to that file, one a line, so
 * that rounds can be pooled. Exits 1 on bad arguments or an unwritable
 * LATENCIES, 0 otherwise.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_OPEN 8192 /* connections in flight at once */
#define DRAIN_NS 5000000000ULL

struct conn {
	int fd;            /* -1: free */
	int sent;          /* the request is written */
	uint64_t start_ns; /* connect() */
	char status[16];   /* the first bytes of the answer */
	size_t got;
};

struct load {
	struct sockaddr_in addr;
	const char *host; /* as given, for the Host header */
	char **paths;
	size_t npaths, next_path;
	struct conn conns[MAX_OPEN];
	int free_slots[MAX_OPEN]; /* a stack of the free conns' indices */
	int nfree;
	uint32_t *lat_us; /* one per answered request */
	size_t nlat, cap, errors, open;
	uint64_t late_ns;
	int ep;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "paced_close: %s\n", what);
	exit(1);
}

static void read_paths(struct load *l, const char *file)
{
	FILE *f = fopen(file, "r");
	char line[4096];
	size_t cap = 0;

	if (f == NULL)
		die("cannot open the list of paths");
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] != '/')
			continue;
		if (l->npaths == cap) {
			cap = cap ? cap * 2 : 1024;
			l->paths = realloc(l->paths, cap * sizeof(*l->paths));
			if (l->paths == NULL)
				die("out of memory");
		}
		l->paths[l->npaths] = strdup(line);
		if (l->paths[l->npaths++] == NULL)
			die("out of memory");
	}
	fclose(f);
	if (l->npaths == 0)
		die("no path (a line beginning with /) in the list");
}

static void finish(struct load *l, struct conn *c, int ok)
{
	if (ok && strncmp(c->status, "HTTP/1.1 3", 10) == 0) {
		if (l->nlat == l->cap) {
			l->cap = l->cap ? l->cap * 2 : 65536;
			l->lat_us = realloc(l->lat_us, l->cap * sizeof(*l->lat_us));
			if (l->lat_us == NULL)
				die("out of memory");
		}
		l->lat_us[l->nlat++] = (uint32_t)((now_ns() - c->start_ns) / 1000);
	} else {
		l->errors++;
	}
	close(c->fd);
	c->fd = -1;
	l->open--;
	l->free_slots[l->nfree++] = (int)(c - l->conns);
}

static void start(struct load *l, uint64_t due)
{
	struct conn *c;
	int one = 1;

	if (l->nfree == 0) {
		l->errors++; /* MAX_OPEN unanswered: counted, not waited for */
		return;
	}
	c = &l->conns[l->free_slots[--l->nfree]];
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		l->errors++;
		l->free_slots[l->nfree++] = (int)(c - l->conns);
		return;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->sent = 0;
	c->got = 0;
	c->status[0] = '\0';
	c->start_ns = now_ns();
	if (c->start_ns - due > l->late_ns)
		l->late_ns = c->start_ns - due;
	l->open++;
	if (connect(c->fd, (struct sockaddr *)&l->addr, sizeof(l->addr)) < 0 && errno != EINPROGRESS) {
		finish(l, c, 0);
		return;
	}
	struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
		finish(l, c, 0);
}

static void on_event(struct load *l, struct conn *c, uint32_t events)
{
	if (!c->sent) {
		char req[4200];
		int err = 0, n;
		socklen_t len = sizeof(err);

		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0 || (events & EPOLLERR)) {
			finish(l, c, 0);
			return;
		}
		n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n",
		             l->paths[l->next_path], l->host);
		l->next_path = (l->next_path + 1) % l->npaths;
		if (n < 0 || (size_t)n >= sizeof(req) || write(c->fd, req, (size_t)n) != n) {
			finish(l, c, 0);
			return;
		}
		c->sent = 1;
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
		if (epoll_ctl(l->ep, EPOLL_CTL_MOD, c->fd, &ev) < 0)
			finish(l, c, 0);
		return;
	}
	for (;;) {
		char buf[8192];
		ssize_t n = read(c->fd, buf, sizeof(buf));

		if (n > 0) {
			size_t take = sizeof(c->status) - 1 - c->got;
			if ((size_t)n < take)
				take = (size_t)n;
			memcpy(c->status + c->got, buf, take);
			c->got += take;
			c->status[c->got] = '\0';
			continue;
		}
		if (n == 0)
			finish(l, c, 1);
		else if (errno != EAGAIN && errno != EINTR)
			finish(l, c, 0);
		return;
	}
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* The smallest latency that at least q% of the answers took no more than
 * (rank ceil(q n / 100)), in the sorted lat_us; 0 when none. */
static uint32_t percentile(const struct load *l, unsigned q)
{
	size_t rank = (l->nlat * q + 99) / 100;

	return l->nlat == 0 ? 0 : l->lat_us[rank > 0 ? rank - 1 : 0];
}

/* Appends every answered request's time to the file at path. */
static void append_latencies(const struct load *l, const char *path)
{
	FILE *f = fopen(path, "a");

	if (f == NULL)
		die("cannot open the latencies file");
	for (size_t i = 0; i < l->nlat; i++)
		fprintf(f, "%u\n", l->lat_us[i]);
	if (fclose(f) != 0)
		die("cannot write the latencies file");
}

int main(int argc, char **argv)
{
	static struct load l;
	double rate, seconds;
	uint64_t t0, period, total, started = 0, end;

	if (argc != 6 && argc != 7)
		die("usage: paced_close HOST PORT PATHS RATE SECONDS [LATENCIES]");
	rate = atof(argv[4]);
	seconds = atof(argv[5]);
	l.host = argv[1];
	l.addr.sin_family = AF_INET;
	l.addr.sin_port = htons((uint16_t)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &l.addr.sin_addr) != 1 || rate <= 0 || seconds <= 0)
		die("usage: paced_close HOST PORT PATHS RATE SECONDS (HOST an IPv4 address)");
	signal(SIGPIPE, SIG_IGN);
	read_paths(&l, argv[3]);
	srand((unsigned)(getpid() ^ now_ns()));
	l.next_path = (size_t)rand() % l.npaths;
	for (int i = MAX_OPEN - 1; i >= 0; i--) {
		l.conns[i].fd = -1;
		l.free_slots[l.nfree++] = i;
	}
	l.ep = epoll_create1(EPOLL_CLOEXEC);
	if (l.ep < 0)
		die("epoll_create1");
	period = (uint64_t)(1e9 / rate);
	total = (uint64_t)(rate * seconds);
	t0 = now_ns();
	end = UINT64_MAX;
	while (started < total || (l.open > 0 && now_ns() < end)) {
		struct epoll_event evs[256];
		struct timespec wait = {0, 0};
		uint64_t now = now_ns();
		int n;

		while (started < total && t0 + started * period <= now)
			start(&l, t0 + started++ * period);
		if (started == total && end == UINT64_MAX)
			end = now_ns() + DRAIN_NS;
		now = now_ns();
		if (started < total) {
			uint64_t due = t0 + started * period;
			if (due > now) {
				wait.tv_sec = (time_t)((due - now) / 1000000000ULL);
				wait.tv_nsec = (long)((due - now) % 1000000000ULL);
			}
		} else {
			wait.tv_nsec = 10000000; /* draining: look at the clock every 10 ms */
		}
		n = epoll_pwait2(l.ep, evs, 256, &wait, NULL);
		if (n < 0 && errno != EINTR)
			die("epoll_pwait2 failed");
		for (int i = 0; i < n; i++)
			on_event(&l, evs[i].data.ptr, evs[i].events);
	}
	l.errors += l.open; /* not answered in time */
	qsort(l.lat_us, l.nlat, sizeof(*l.lat_us), cmp_u32);
	if (argc == 7)
		append_latencies(&l, argv[6]);
	printf("requests %zu errors %zu rate %.0f p50_us %u p99_us %u max_us %u late_us %llu\n", l.nlat, l.errors,
	       (double)l.nlat / seconds, percentile(&l, 50), percentile(&l, 99), percentile(&l, 100),
	       (unsigned long long)(l.late_ns / 1000));
	return 0;
}
