/*
 * A worker thread running one libmicrohttpd daemon's event loop.
 *
 * The worker's stop eventfd sits in the daemon's own epoll set with a NULL
 * data pointer, an event libmicrohttpd's loop (0.9.75 to 1.0.1) passes over
 * (it once kept its own shutdown signal so): writing it ends any wait on
 * that set and nothing else.
 *
 * While the daemon's connections fit one batch of the library's epoll
 * events with room to spare, the worker waits inside the library
 * (MHD_run_wait): one epoll_wait(2) a turn, woken by the sockets
 * themselves. With more connections the library's wait may wait a second
 * time with a full batch in hand (include/http_worker.h), so the worker
 * waits in poll(2) on the epoll descriptor and then runs the library
 * without waiting (MHD_run): a second system call a turn and a wake-up
 * passed on from one wait queue to another, 5-7% of a new connection's
 * CPU in bench/run.sh.
 */
#include "http_worker.h"

#include <errno.h>
#include <limits.h>
#include <microhttpd.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* The events libmicrohttpd takes from one epoll_wait(2) (MAX_EVENTS in its
 * daemon.c, 0.9.75 to 1.0.1). */
#define MHD_EPOLL_BATCH 128
/* Items of the daemon's epoll set that are not connections: its listening
 * socket, the stop eventfd, the library's own inter-thread channel where it
 * has one, and one to spare. */
#define EPOLL_OTHER_ITEMS 4

struct http_worker {
	struct MHD_Daemon *d;
	int epoll_fd;          /* the daemon's */
	int stop_fd;           /* eventfd in the daemon's epoll set: readable once stopping */
	_Atomic bool stopping; /* set before stop_fd is written */
	pthread_t thread;
};

/* Whether no wait on the daemon's epoll set can fill a batch, so that the
 * library's own wait never waits a second time with events in hand. */
static bool fits_one_batch(struct MHD_Daemon *d)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

	return info != NULL && info->num_connections + EPOLL_OTHER_ITEMS < MHD_EPOLL_BATCH;
}

/* Out of kernel memory for a wait: serves nothing for a moment, then the
 * loop tries again. */
static void pause_briefly(void)
{
	struct pollfd none = {-1, 0, 0};

	poll(&none, 1, 10);
}

/* Waits in poll(2) on the daemon's epoll set for no longer than the daemon's
 * next timeout, then lets MHD_run() act on whatever is ready without
 * waiting. */
static void run_outside(struct http_worker *w)
{
	struct pollfd p = {w->epoll_fd, POLLIN, 0};
	MHD_UNSIGNED_LONG_LONG left;
	int ms = -1;

	if (MHD_get_timeout(w->d, &left) == MHD_YES)
		ms = left > INT_MAX ? INT_MAX : (int)left;
	if (poll(&p, 1, ms) < 0 && errno != EINTR)
		pause_briefly();
	MHD_run(w->d);
}

static void *worker_loop(void *arg)
{
	struct http_worker *w = arg;

	(void)pthread_setname_np(pthread_self(), "shortd-http");
	while (!atomic_load_explicit(&w->stopping, memory_order_acquire)) {
		if (!fits_one_batch(w->d))
			run_outside(w);
		else if (MHD_run_wait(w->d, -1) != MHD_YES)
			pause_briefly();
	}
	MHD_stop_daemon(w->d);
	return NULL;
}

int http_worker_start(struct MHD_Daemon *d, struct http_worker **out)
{
	struct http_worker *w = calloc(1, sizeof(*w));
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
	int err;

	*out = NULL;
	if (w == NULL) {
		errno = ENOMEM;
		return -1;
	}
	w->d = d;
	w->epoll_fd = MHD_get_daemon_info(d, MHD_DAEMON_INFO_EPOLL_FD)->epoll_fd;
	atomic_init(&w->stopping, false);
	w->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->stop_fd < 0 || epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD, w->stop_fd, &ev) != 0) {
		err = errno;
		goto fail;
	}
	err = pthread_create(&w->thread, NULL, worker_loop, w);
	if (err != 0)
		goto fail;
	*out = w;
	return 0;

fail:
	/* Closing the eventfd also takes it out of the daemon's epoll set. */
	if (w->stop_fd >= 0)
		close(w->stop_fd);
	free(w);
	errno = err;
	return -1;
}

void http_worker_stop(struct http_worker *w)
{
	uint64_t one = 1;

	if (w == NULL)
		return;
	atomic_store_explicit(&w->stopping, true, memory_order_release);
	/* An eventfd write of 1 fails only on counter overflow, which one
	 * write cannot cause. It stays readable: a wait that starts after it
	 * returns at once. */
	while (write(w->stop_fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
	pthread_join(w->thread, NULL);
	close(w->stop_fd);
	free(w);
}
