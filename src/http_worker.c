/*
 * A worker thread running one libmicrohttpd daemon's event loop. It waits in
 * poll(2) on the daemon's epoll descriptor and an eventfd that the listener
 * writes after queueing a connection (and http_worker_stop writes to stop
 * it), then lets MHD_run() act on whatever is ready, without waiting.
 */
#include "http_worker.h"

#include <errno.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* A connection on its way to the worker. */
struct handed {
	int fd;
	socklen_t len;
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} addr;
};

struct http_worker {
	struct MHD_Daemon *d;
	int wake_fd; /* eventfd: a connection queued, or stop */
	http_worker_refused_fn refused;
	void *arg;
	pthread_t thread;
	pthread_mutex_t lock; /* guards what follows */
	bool stopping;
	unsigned head, count, capacity;
	struct handed *queue; /* a ring of capacity */
};

static void wake(struct http_worker *w)
{
	uint64_t one = 1;

	/* An eventfd write of 1 fails only on counter overflow, which the
	 * worker's reads prevent. */
	while (write(w->wake_fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

/* Takes the queued connections into the daemon; false once told to stop. */
static bool take_handed(struct http_worker *w)
{
	struct handed batch[64];
	unsigned n;
	bool stopping;
	uint64_t count;

	if (read(w->wake_fd, &count, sizeof(count)) < 0 && errno != EAGAIN && errno != EINTR)
		return true;
	do {
		pthread_mutex_lock(&w->lock);
		stopping = w->stopping;
		for (n = 0; !stopping && n < 64 && w->count > 0; n++) {
			batch[n] = w->queue[w->head];
			w->head = (w->head + 1) % w->capacity;
			w->count--;
		}
		pthread_mutex_unlock(&w->lock);
		for (unsigned i = 0; i < n; i++) {
			/* On failure the library has closed the socket. */
			if (MHD_add_connection(w->d, batch[i].fd, &batch[i].addr.sa, batch[i].len) != MHD_YES)
				w->refused(w->arg, &batch[i].addr.sa, batch[i].len);
		}
	} while (n == 64);
	return !stopping;
}

static void *worker_loop(void *arg)
{
	struct http_worker *w = arg;
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(w->d, MHD_DAEMON_INFO_EPOLL_FD);
	int epoll_fd = info->epoll_fd;

	for (;;) {
		struct pollfd p[2] = {{epoll_fd, POLLIN, 0}, {w->wake_fd, POLLIN, 0}};
		MHD_UNSIGNED_LONG_LONG left;
		int ms = -1;

		if (MHD_get_timeout(w->d, &left) == MHD_YES)
			ms = left > INT_MAX ? INT_MAX : (int)left;
		if (poll(p, 2, ms) < 0 && errno != EINTR) {
			/* Out of kernel memory for the wait: try again shortly,
			 * serving what is ready meanwhile. */
			struct pollfd none = {-1, 0, 0};
			poll(&none, 1, 10);
		}
		if (p[1].revents != 0 && !take_handed(w))
			break;
		MHD_run(w->d);
	}
	MHD_stop_daemon(w->d);
	return NULL;
}

int http_worker_start(struct MHD_Daemon *d, unsigned capacity, http_worker_refused_fn refused, void *arg,
                      struct http_worker **out)
{
	struct http_worker *w = calloc(1, sizeof(*w));
	int err;

	*out = NULL;
	if (w == NULL || capacity == 0 || (w->queue = calloc(capacity, sizeof(*w->queue))) == NULL) {
		free(w);
		errno = ENOMEM;
		return -1;
	}
	w->d = d;
	w->capacity = capacity;
	w->refused = refused;
	w->arg = arg;
	w->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->wake_fd < 0) {
		err = errno;
		goto fail;
	}
	pthread_mutex_init(&w->lock, NULL);
	err = pthread_create(&w->thread, NULL, worker_loop, w);
	if (err != 0) {
		pthread_mutex_destroy(&w->lock);
		close(w->wake_fd);
		goto fail;
	}
	*out = w;
	return 0;
fail:
	free(w->queue);
	free(w);
	errno = err;
	return -1;
}

bool http_worker_hand(struct http_worker *w, int fd, const struct sockaddr *addr, socklen_t len)
{
	struct handed *h;

	if (len > sizeof(h->addr))
		return false;
	pthread_mutex_lock(&w->lock);
	if (w->stopping || w->count == w->capacity) {
		pthread_mutex_unlock(&w->lock);
		return false;
	}
	h = &w->queue[(w->head + w->count) % w->capacity];
	h->fd = fd;
	h->len = len;
	memcpy(&h->addr, addr, len);
	w->count++;
	pthread_mutex_unlock(&w->lock);
	wake(w);
	return true;
}

void http_worker_stop(struct http_worker *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_mutex_unlock(&w->lock);
	wake(w);
	pthread_join(w->thread, NULL);
	/* The thread is gone: what is still queued is closed unserved. */
	for (; w->count > 0; w->count--) {
		struct handed *h = &w->queue[w->head];
		close(h->fd);
		w->refused(w->arg, &h->addr.sa, h->len);
		w->head = (w->head + 1) % w->capacity;
	}
	pthread_mutex_destroy(&w->lock);
	close(w->wake_fd);
	free(w->queue);
	free(w);
}
