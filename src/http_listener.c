/*
 * The accept loop. Its thread waits in poll(2) on the listening socket and
 * an eventfd that http_listener_stop() writes, takes every connection waiting
 * (accept4 until EAGAIN) and hands each to the callback. While the tick
 * callback asks for it, poll's timeout also runs the tick on time.
 */
#include "http_listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

struct http_listener {
	int listen_fd;
	int stop_fd; /* eventfd: readable once http_listener_stop() is called */
	http_listener_fn fn;
	http_listener_tick_fn tick; /* NULL: none */
	bool ticking;               /* tick asked to run again */
	uint64_t next_tick_ms;      /* monotonic */
	void *arg;
	pthread_t thread;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Runs the tick when it is due; returns poll's timeout until the next. */
static int run_tick(struct http_listener *a)
{
	uint64_t now;

	if (!a->ticking)
		return -1;
	now = now_ms();
	if (now >= a->next_tick_ms) {
		a->ticking = a->tick(a->arg);
		a->next_tick_ms = now + ACCEPTOR_TICK_MS;
		if (!a->ticking)
			return -1;
	}
	return (int)(a->next_tick_ms - now);
}

/* Waits up to ms for a stop; true if one came. */
static bool stop_within(const struct http_listener *a, int ms)
{
	struct pollfd p = {a->stop_fd, POLLIN, 0};

	return poll(&p, 1, ms) > 0;
}

/* Errors after which the next accept() may well succeed: the client gave up,
 * a signal, or (Linux) a network error pending on the new socket, which
 * accept(2) asks to be treated like EAGAIN. */
static bool transient(int err)
{
	switch (err) {
	case EINTR:
	case ECONNABORTED:
	case EPERM:
	case EPROTO:
	case ENETDOWN:
	case ENOPROTOOPT:
	case EHOSTDOWN:
#ifdef ENONET
	case ENONET:
#endif
	case EHOSTUNREACH:
	case EOPNOTSUPP:
	case ENETUNREACH:
		return true;
	default:
		return false;
	}
}

/* Takes every connection waiting. Returns false when accepting must pause
 * (out of descriptors or memory, or an error that retrying at once would
 * only repeat). */
static bool drain(struct http_listener *a)
{
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int fd = accept4(a->listen_fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd >= 0) {
			a->fn(a->arg, fd, (struct sockaddr *)&ss, len);
			if (a->tick != NULL && !a->ticking) {
				a->ticking = true;
				a->next_tick_ms = now_ms() + ACCEPTOR_TICK_MS;
			}
			continue;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return true;
		if (!transient(errno))
			return false;
	}
}

static void *accept_loop(void *arg)
{
	struct http_listener *a = arg;

	for (;;) {
		struct pollfd p[2] = {{a->listen_fd, POLLIN, 0}, {a->stop_fd, POLLIN, 0}};
		int timeout = run_tick(a);

		if (poll(p, 2, timeout) < 0) {
			if (errno == EINTR)
				continue;
			if (stop_within(a, ACCEPTOR_PAUSE_MS))
				return NULL;
			continue;
		}
		if (p[1].revents != 0)
			return NULL;
		if (p[0].revents != 0 && !drain(a) && stop_within(a, ACCEPTOR_PAUSE_MS))
			return NULL;
	}
}

int http_listener_bind(const char *host, unsigned port, int *fd_out, unsigned *port_out, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;
	bool v6 = strchr(host, ':') != NULL;
	const char *lb = v6 ? "[" : "", *rb = v6 ? "]" : "";

	memset(&ss, 0, sizeof(ss));
	if (v6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		inet_pton(AF_INET6, host, &a->sin6_addr);
		len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		inet_pton(AF_INET, host, &a->sin_addr);
		len = sizeof(*a);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create a socket: %s", strerror(errno));
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 1024) != 0) {
		snprintf(err, errlen, "cannot listen on %s%s%s:%u: %s", lb, host, rb, port, strerror(errno));
		close(fd);
		return -1;
	}
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
		snprintf(err, errlen, "cannot read the port bound on %s%s%s:%u: %s", lb, host, rb, port,
		         strerror(errno));
		close(fd);
		return -1;
	}
	*port_out = ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port);
	*fd_out = fd;
	return 0;
}

int http_listener_start(int listen_fd, http_listener_fn fn, http_listener_tick_fn tick, void *arg,
                        struct http_listener **out)
{
	struct http_listener *a = calloc(1, sizeof(*a));
	int err;

	*out = NULL;
	if (a == NULL)
		return -1;
	a->listen_fd = listen_fd;
	a->fn = fn;
	a->tick = tick;
	a->arg = arg;
	a->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (a->stop_fd < 0) {
		err = errno;
		free(a);
		errno = err;
		return -1;
	}
	err = pthread_create(&a->thread, NULL, accept_loop, a);
	if (err != 0) {
		close(a->stop_fd);
		free(a);
		errno = err;
		return -1;
	}
	*out = a;
	return 0;
}

void http_listener_stop(struct http_listener *a)
{
	uint64_t one = 1;

	if (a == NULL)
		return;
	/* An eventfd write of 1 fails only on counter overflow, which one
	 * write cannot cause. */
	while (write(a->stop_fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
	pthread_join(a->thread, NULL);
	close(a->listen_fd);
	close(a->stop_fd);
	free(a);
}
