/*
 * The listening sockets of the workers, in one SO_REUSEPORT group, and
 * their retirement at stop. Each socket i has three descriptors here: the
 * socket itself (sock), a duplicate for worker i's daemon (dup) and an
 * eventfd (spare) that http_listener_retire() puts in the duplicate's place.
 * The socket closes when its last descriptor does, so replacing the
 * duplicate and closing sock closes it; epoll forgets a file only when it
 * closes, so the daemon's epoll set loses the socket at that moment and
 * never holds the eventfd, which nothing ever writes.
 */
#include "http_listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define LISTEN_BACKLOG 1024

struct listen_sock {
	int sock;   /* -1 once closed */
	int dup;    /* -1 once taken by a daemon */
	int spare;  /* -1 once used */
	int handed; /* the duplicate's number once taken, else -1 */
};

struct http_listener {
	unsigned n;
	unsigned port;
	struct listen_sock s[];
};

/* Fills ss and *len with host:port. */
static void address_of(const char *host, unsigned port, bool v6, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (v6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		inet_pton(AF_INET6, host, &a->sin6_addr);
		*len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		inet_pton(AF_INET, host, &a->sin_addr);
		*len = sizeof(*a);
	}
}

/*
 * One listening socket on ss. The first (join_first false) is bound before
 * it asks for SO_REUSEPORT: a port that anything holds, even another
 * group's member, refuses it. The socket may ask afterwards, and the rest
 * (join_first true) ask before binding and join its group: the kernel lets
 * sockets of one user that all asked share a port.
 */
static int listen_one(const struct sockaddr_storage *ss, socklen_t len, bool join_first)
{
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), one = 1, err;

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    (join_first && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) ||
	    bind(fd, (const struct sockaddr *)ss, len) != 0 ||
	    (!join_first && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) ||
	    listen(fd, LISTEN_BACKLOG) != 0) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

int http_listener_open(const char *host, unsigned port, unsigned n, struct http_listener **out, char *err,
                       size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	bool v6 = strchr(host, ':') != NULL;
	const char *lb = v6 ? "[" : "", *rb = v6 ? "]" : "";
	struct http_listener *l = calloc(1, sizeof(*l) + (size_t)n * sizeof(l->s[0]));

	*out = NULL;
	if (l == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	l->n = n;
	for (unsigned i = 0; i < n; i++)
		l->s[i] = (struct listen_sock){-1, -1, -1, -1};
	address_of(host, port, v6, &ss, &len);
	for (unsigned i = 0; i < n; i++) {
		struct listen_sock *s = &l->s[i];

		s->sock = listen_one(&ss, len, i > 0);
		if (s->sock < 0) {
			snprintf(err, errlen, "cannot listen on %s%s%s:%u: %s", lb, host, rb, l->port ? l->port : port,
			         strerror(errno));
			goto fail;
		}
		if (i == 0) {
			/* The port bound, which the others then share. */
			len = sizeof(ss);
			if (getsockname(s->sock, (struct sockaddr *)&ss, &len) != 0) {
				snprintf(err, errlen, "cannot read the port bound on %s%s%s:%u: %s", lb, host, rb, port,
				         strerror(errno));
				goto fail;
			}
			l->port =
			    ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port);
		}
		s->dup = fcntl(s->sock, F_DUPFD_CLOEXEC, 0);
		s->spare = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (s->dup < 0 || s->spare < 0) {
			snprintf(err, errlen, "cannot listen on %s%s%s:%u: %s", lb, host, rb, l->port, strerror(errno));
			goto fail;
		}
	}
	*out = l;
	return 0;
fail:
	http_listener_free(l);
	return -1;
}

unsigned http_listener_port(const struct http_listener *l)
{
	return l->port;
}

int http_listener_take_fd(struct http_listener *l, unsigned i)
{
	struct listen_sock *s = &l->s[i];

	s->handed = s->dup;
	s->dup = -1;
	return s->handed;
}

void http_listener_retire(struct http_listener *l)
{
	/* First every daemon's descriptor, then every socket: each socket
	 * closes at its close() below, all within a few microseconds, so no
	 * socket of the group stops taking connections while the others go
	 * on for long. dup2() fails only for a bad descriptor, and these are
	 * all open (the daemons close theirs only when they stop). */
	for (unsigned i = 0; i < l->n; i++) {
		struct listen_sock *s = &l->s[i];

		if (s->handed >= 0) {
			dup2(s->spare, s->handed);
			close(s->spare);
			s->spare = -1;
		}
	}
	for (unsigned i = 0; i < l->n; i++) {
		struct listen_sock *s = &l->s[i];

		if (s->dup >= 0)
			close(s->dup);
		s->dup = -1;
		close(s->sock);
		s->sock = -1;
	}
}

void http_listener_free(struct http_listener *l)
{
	if (l == NULL)
		return;
	for (unsigned i = 0; i < l->n; i++) {
		struct listen_sock *s = &l->s[i];

		if (s->sock >= 0)
			close(s->sock);
		if (s->dup >= 0)
			close(s->dup);
		if (s->spare >= 0)
			close(s->spare);
	}
	free(l);
}
