/*
 * A worker thread running one libmicrohttpd daemon's event loop. It waits in
 * poll(2) on the daemon's epoll descriptor and an eventfd that
 * http_worker_stop writes, for no longer than the daemon's next timeout,
 * then lets MHD_run() act on whatever is ready, without waiting.
 */
#include "http_worker.h"

#include <errno.h>
#include <limits.h>
#include <microhttpd.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct http_worker {
	struct MHD_Daemon *d;
	int stop_fd; /* eventfd: readable once http_worker_stop() is called */
	pthread_t thread;
};

static void *worker_loop(void *arg)
{
	struct http_worker *w = arg;
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(w->d, MHD_DAEMON_INFO_EPOLL_FD);
	int epoll_fd = info->epoll_fd;

	(void)pthread_setname_np(pthread_self(), "shortd-http");
	for (;;) {
		struct pollfd p[2] = {{epoll_fd, POLLIN, 0}, {w->stop_fd, POLLIN, 0}};
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
		if (p[1].revents != 0)
			break;
		MHD_run(w->d);
	}
	MHD_stop_daemon(w->d);
	return NULL;
}

int http_worker_start(struct MHD_Daemon *d, struct http_worker **out)
{
	struct http_worker *w = calloc(1, sizeof(*w));
	int err;

	*out = NULL;
	if (w == NULL) {
		errno = ENOMEM;
		return -1;
	}
	w->d = d;
	w->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->stop_fd < 0) {
		err = errno;
		free(w);
		errno = err;
		return -1;
	}
	err = pthread_create(&w->thread, NULL, worker_loop, w);
	if (err != 0) {
		close(w->stop_fd);
		free(w);
		errno = err;
		return -1;
	}
	*out = w;
	return 0;
}

void http_worker_stop(struct http_worker *w)
{
	uint64_t one = 1;

	if (w == NULL)
		return;
	/* An eventfd write of 1 fails only on counter overflow, which one
	 * write cannot cause. */
	while (write(w->stop_fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
	pthread_join(w->thread, NULL);
	close(w->stop_fd);
	free(w);
}
