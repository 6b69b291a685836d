/*
 * The access log in the combined log format, buffered per thread.
 *
 * Each thread that logs owns a struct tbuf (from a thread_registry, made
 * on its first line): a buffer it appends to under the tbuf's own
 * mutex, which only it and the writer ever take, and a spare the writer
 * swaps in. The writer thread, every flush_ms and at close, swaps each
 * buffer out and write(2)s it whole, so lines never interleave mid-line.
 * With flush_ms 0 there is no writer thread: reopen and close write the
 * buffers out themselves. The writer runs as the click writer does
 * (THREAD_WRITER_NICE and _SLICE_NS): a second's lines written at once are
 * a burst of CPU that a woken HTTP thread takes the CPU from at once. A
 * worker whose buffer fills meanwhile writes it out itself.
 *
 * Lock order: flush_lock (the writer and reopen), then a tbuf's lock, then
 * fd_lock. A worker takes only its tbuf lock, and fd_lock when its buffer
 * is full.
 */
#include "accesslog.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "thread_priority.h"
#include "thread_registry.h"

/* Field caps in output bytes, so one line always fits in LINE_MAX. */
#define CAP_METHOD 64
#define CAP_TARGET 16384
#define CAP_VERSION 32
#define CAP_REFERER 4096
#define CAP_AGENT 2048
#define LINE_MAX_BYTES (CAP_METHOD + CAP_TARGET + CAP_VERSION + CAP_REFERER + CAP_AGENT + 256)

struct tbuf {
	pthread_mutex_t lock;
	char *data;
	size_t len;
	char *spare;      /* the writer's: touched only under flush_lock */
	int64_t stamp_at; /* the second stamp was made for */
	char stamp[40];
};

struct accesslog {
	const struct config *cfg; /* its --trusted-proxy ranges; NULL: none */
	char *path;               /* NULL: standard output */
	int fd;
	pthread_mutex_t fd_lock;
	pthread_mutex_t flush_lock;
	struct thread_registry *bufs; /* every thread's struct tbuf */
	pthread_mutex_t wake_lock;
	pthread_cond_t wake;
	unsigned flush_ms; /* 0: no writer thread */
	bool stopping;
	bool warned; /* a write error was reported once */
	pthread_t writer;
};

static int open_path(const char *path, int *fd, char *err, size_t errlen)
{
	*fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (*fd >= 0)
		return 0;
	snprintf(err, errlen, "--access-log: cannot open %s: %s", path, strerror(errno));
	return -1;
}

/* Writes all of buf to the log's file. Caller holds fd_lock. */
static void write_all(struct accesslog *log, const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = write(log->fd, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (!log->warned)
				fprintf(stderr, "shortd: access log: write failed: %s; lines are dropped\n",
				        strerror(errno));
			log->warned = true;
			return;
		}
		buf += w;
		n -= (size_t)w;
	}
}

static void *tbuf_new(void *arg)
{
	struct tbuf *b = calloc(1, sizeof(*b));

	(void)arg;
	if (b == NULL)
		return NULL;
	b->data = malloc(ACCESSLOG_BUFFER_BYTES);
	b->spare = malloc(ACCESSLOG_BUFFER_BYTES);
	if (b->data == NULL || b->spare == NULL || pthread_mutex_init(&b->lock, NULL) != 0) {
		free(b->data);
		free(b->spare);
		free(b);
		return NULL;
	}
	b->stamp_at = -1;
	return b;
}

static void tbuf_free(void *obj, void *arg)
{
	struct tbuf *b = obj;

	(void)arg;
	pthread_mutex_destroy(&b->lock);
	free(b->data);
	free(b->spare);
	free(b);
}

/* Writes out one thread's buffered lines. Caller holds flush_lock. */
static void flush_one(void *obj, void *arg)
{
	struct tbuf *b = obj;
	struct accesslog *log = arg;
	char *full;
	size_t n;

	pthread_mutex_lock(&b->lock);
	full = b->data;
	n = b->len;
	b->data = b->spare;
	b->len = 0;
	b->spare = full;
	pthread_mutex_unlock(&b->lock);
	if (n == 0)
		return;
	pthread_mutex_lock(&log->fd_lock);
	write_all(log, full, n);
	pthread_mutex_unlock(&log->fd_lock);
}

/* Writes out every thread's buffered lines. Caller holds flush_lock. */
static void flush_all(struct accesslog *log)
{
	thread_registry_foreach(log->bufs, flush_one, log);
}

static void *writer_main(void *arg)
{
	struct accesslog *log = arg;
	struct timespec ts;
	bool stop = false;

	(void)pthread_setname_np(pthread_self(), "shortd-log");
	(void)thread_priority_background(THREAD_WRITER_NICE, THREAD_WRITER_SLICE_NS);
	while (!stop) {
		pthread_mutex_lock(&log->wake_lock);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += log->flush_ms / 1000;
		ts.tv_nsec += (long)(log->flush_ms % 1000) * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		if (!log->stopping)
			pthread_cond_timedwait(&log->wake, &log->wake_lock, &ts);
		stop = log->stopping;
		pthread_mutex_unlock(&log->wake_lock);
		pthread_mutex_lock(&log->flush_lock);
		flush_all(log);
		pthread_mutex_unlock(&log->flush_lock);
	}
	return NULL;
}

static int monotonic_cond_init(pthread_cond_t *cond)
{
	pthread_condattr_t ca;
	int rc;

	if (pthread_condattr_init(&ca) != 0)
		return -1;
	rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 && pthread_cond_init(cond, &ca) == 0 ? 0 : -1;
	pthread_condattr_destroy(&ca);
	return rc;
}

int accesslog_open(const char *path, const struct config *cfg, unsigned flush_ms, struct accesslog **out, char *err,
                   size_t errlen)
{
	struct accesslog *log = calloc(1, sizeof(*log));

	*out = NULL;
	if (log == NULL) {
		snprintf(err, errlen, "--access-log: out of memory");
		return -1;
	}
	log->cfg = cfg;
	log->flush_ms = flush_ms;
	log->fd = STDOUT_FILENO;
	if (strcmp(path, "-") != 0) {
		log->path = strdup(path);
		if (log->path == NULL) {
			snprintf(err, errlen, "--access-log: out of memory");
			goto fail;
		}
		if (open_path(path, &log->fd, err, errlen) != 0)
			goto fail;
	}
	if (thread_registry_new(tbuf_new, tbuf_free, NULL, &log->bufs) != 0) {
		snprintf(err, errlen, "--access-log: out of memory or thread keys");
		goto fail_fd;
	}
	/* The writer's timed wait counts on CLOCK_MONOTONIC, as writer_main
	 * computes its deadline. */
	if (monotonic_cond_init(&log->wake) != 0) {
		snprintf(err, errlen, "--access-log: cannot set up the log writer's clock");
		thread_registry_free(log->bufs);
		goto fail_fd;
	}
	pthread_mutex_init(&log->fd_lock, NULL);
	pthread_mutex_init(&log->flush_lock, NULL);
	pthread_mutex_init(&log->wake_lock, NULL);
	if (flush_ms > 0 && pthread_create(&log->writer, NULL, writer_main, log) != 0) {
		snprintf(err, errlen, "--access-log: cannot start the log writer");
		pthread_cond_destroy(&log->wake);
		pthread_mutex_destroy(&log->wake_lock);
		pthread_mutex_destroy(&log->flush_lock);
		pthread_mutex_destroy(&log->fd_lock);
		thread_registry_free(log->bufs);
		goto fail_fd;
	}
	*out = log;
	return 0;
fail_fd:
	if (log->path != NULL)
		close(log->fd);
fail:
	free(log->path);
	free(log);
	return -1;
}

/* Closes a log file that was written to: on a network file system close(2)
 * is where a failed write may first be told. */
static void close_reporting(int fd)
{
	if (close(fd) != 0)
		fprintf(stderr, "shortd: access log: close failed: %s; the last lines may be lost\n", strerror(errno));
}

int accesslog_reopen(struct accesslog *log, char *err, size_t errlen)
{
	int fd, old;

	if (log == NULL || log->path == NULL)
		return 0;
	pthread_mutex_lock(&log->flush_lock);
	flush_all(log);
	if (open_path(log->path, &fd, err, errlen) != 0) {
		pthread_mutex_unlock(&log->flush_lock);
		return -1;
	}
	pthread_mutex_lock(&log->fd_lock);
	old = log->fd;
	log->fd = fd;
	log->warned = false;
	pthread_mutex_unlock(&log->fd_lock);
	pthread_mutex_unlock(&log->flush_lock);
	close_reporting(old);
	return 0;
}

void accesslog_close(struct accesslog *log)
{
	if (log == NULL)
		return;
	if (log->flush_ms > 0) {
		pthread_mutex_lock(&log->wake_lock);
		log->stopping = true;
		pthread_cond_signal(&log->wake);
		pthread_mutex_unlock(&log->wake_lock);
		pthread_join(log->writer, NULL); /* its last round wrote everything */
	} else {
		pthread_mutex_lock(&log->flush_lock);
		flush_all(log);
		pthread_mutex_unlock(&log->flush_lock);
	}
	thread_registry_free(log->bufs);
	if (log->path != NULL)
		close_reporting(log->fd);
	pthread_cond_destroy(&log->wake);
	pthread_mutex_destroy(&log->wake_lock);
	pthread_mutex_destroy(&log->flush_lock);
	pthread_mutex_destroy(&log->fd_lock);
	free(log->path);
	free(log);
}

/* ---- formatting ---- */

/*
 * Appends s, escaped, using at most cap bytes: control bytes, bytes past
 * ASCII, '"' and '\\' become \xHH (as nginx writes them), so a line can be
 * split on its quotes and nothing in it can drive a terminal; so does a
 * space when in_target (the request line is split on spaces). NULL is "-".
 */
static size_t put_escaped(char *dst, size_t cap, const char *s, bool in_target)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	if (s == NULL) {
		dst[0] = '-';
		return 1;
	}
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c >= (in_target ? 0x21 : 0x20) && c < 0x7f && c != '"' && c != '\\') {
			if (n + 1 > cap)
				break;
			dst[n++] = (char)c;
		} else {
			if (n + 4 > cap)
				break;
			dst[n++] = '\\';
			dst[n++] = 'x';
			dst[n++] = hex[c >> 4];
			dst[n++] = hex[c & 15];
		}
	}
	return n;
}

static size_t put(char *dst, const char *s)
{
	size_t n = strlen(s);

	memcpy(dst, s, n);
	return n;
}

static void stamp(struct tbuf *b, int64_t when)
{
	time_t t = (time_t)when;
	struct tm tm;

	if (when == b->stamp_at)
		return;
	gmtime_r(&t, &tm);
	strftime(b->stamp, sizeof(b->stamp), "[%d/%b/%Y:%H:%M:%S +0000]", &tm);
	b->stamp_at = when;
}

/* Whether a proxy at sa may say whom it forwards for: a loopback address
 * or one of the --trusted-proxy ranges. The address is read as its 16-byte
 * key, IPv4 mapped into IPv6 (config_addr_key()), so IPv4 loopback is the
 * same whether an IPv4 socket or an IPv6 one (::ffff:127.x.x.x) took the
 * connection, and loopback is two ranges checked as the trusted ones are. */
static bool is_proxy(const struct accesslog *log, const struct sockaddr *sa)
{
	static const struct config_cidr loopback[] = {
	    {{[10] = 0xff, [11] = 0xff, [12] = 127}, 104}, /* 127.0.0.0/8 */
	    {{[15] = 1}, 128},                             /* ::1 */
	};
	unsigned char key[16];

	if (sa == NULL)
		return false;
	if (!config_addr_key(sa, sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in),
	                     key))
		return false; /* not an IP address */
	for (size_t i = 0; i < sizeof(loopback) / sizeof(loopback[0]); i++) {
		if (config_cidr_contains(&loopback[i], key))
			return true;
	}
	return log->cfg != NULL && config_is_trusted_proxy(log->cfg, key);
}

/* The last address in an X-Forwarded-For list into out; -1 when it is not
 * a numeric IPv4 or IPv6 address. */
static int forwarded_name(const char *xff, char *out, size_t size)
{
	const char *start = strrchr(xff, ',');
	unsigned char addr[16];
	size_t n;

	start = start != NULL ? start + 1 : xff;
	while (*start == ' ' || *start == '\t')
		start++;
	n = strcspn(start, " \t");
	if (n == 0 || n >= size || start[n + strspn(start + n, " \t")] != '\0')
		return -1;
	memcpy(out, start, n);
	out[n] = '\0';
	return inet_pton(AF_INET, out, addr) == 1 || inet_pton(AF_INET6, out, addr) == 1 ? 0 : -1;
}

static void peer_name(const struct accesslog *log, const struct sockaddr *sa, const char *xff, char *out, size_t size)
{
	if (xff != NULL && is_proxy(log, sa) && forwarded_name(xff, out, size) == 0)
		return;
	if (sa != NULL && sa->sa_family == AF_INET &&
	    inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)size) != NULL)
		return;
	if (sa != NULL && sa->sa_family == AF_INET6 &&
	    inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)size) != NULL)
		return;
	snprintf(out, size, "-");
}

void accesslog_write(struct accesslog *log, const struct accesslog_entry *e)
{
	struct tbuf *b = thread_registry_get(log->bufs);
	char peer[INET6_ADDRSTRLEN];
	char *p;
	size_t target;
	bool wake;

	if (b == NULL)
		return;
	peer_name(log, e->peer, e->forwarded_for, peer, sizeof(peer));
	pthread_mutex_lock(&b->lock);
	if (ACCESSLOG_BUFFER_BYTES - b->len < LINE_MAX_BYTES) {
		pthread_mutex_lock(&log->fd_lock);
		write_all(log, b->data, b->len);
		pthread_mutex_unlock(&log->fd_lock);
		b->len = 0;
	}
	stamp(b, e->when);
	p = b->data + b->len;
	p += put(p, peer);
	p += put(p, " - - ");
	p += put(p, b->stamp);
	p += put(p, " \"");
	p += put_escaped(p, CAP_METHOD, e->method, true);
	*p++ = ' ';
	target = put_escaped(p, CAP_TARGET, e->path, true);
	if (e->query != NULL && target + 1 < CAP_TARGET) {
		p[target++] = '?';
		target += put_escaped(p + target, CAP_TARGET - target, e->query, true);
	}
	p += target;
	*p++ = ' ';
	p += put_escaped(p, CAP_VERSION, e->version, true);
	p += sprintf(p, "\" %d ", e->status);
	if (e->bytes > 0)
		p += sprintf(p, "%llu", (unsigned long long)e->bytes);
	else
		*p++ = '-';
	p += put(p, " \"");
	p += put_escaped(p, CAP_REFERER, e->referer, false);
	p += put(p, "\" \"");
	p += put_escaped(p, CAP_AGENT, e->user_agent, false);
	p += put(p, "\"\n");
	wake = b->len < ACCESSLOG_BUFFER_BYTES / 2 && (size_t)(p - b->data) >= ACCESSLOG_BUFFER_BYTES / 2;
	b->len = (size_t)(p - b->data);
	pthread_mutex_unlock(&b->lock);
	if (wake) /* half full: have the writer take it before this thread must */
		pthread_cond_signal(&log->wake);
}
