/*
 * The benchmark's ceiling: the least a libmicrohttpd program can do to answer
 * a redirect. One 302 response is built at start and queued for every
 * request at the access handler's second call, so connections stay alive.
 * It is peer C of bench/run.sh, not part of shortd; its connection pool is
 * shortd's (32 KiB, also libmicrohttpd's default), so both pay the same
 * per-request pool reset.
 *
 *   mhd302 PORT [THREADS] [turbo]
 *
 * THREADS 0 or 1: one internal epoll thread; more: a thread pool of that
 * size; "tpc": a thread per connection (poll). "turbo" adds MHD_USE_TURBO.
 * Prints "listening on http://127.0.0.1:PORT" to stderr, runs until SIGTERM.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char body[] = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Redirecting</title>"
			   "</head><body><p>Redirecting to <a href=\"https://example.com/articles/1\">"
			   "https://example.com/articles/1</a>.</p></body></html>\n";

static enum MHD_Result on_request(void *cls, struct MHD_Connection *con, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_data_size,
				  void **req_cls)
{
	static int first_call_marker;
	struct MHD_Response *resp = cls;

	(void)url;
	(void)method;
	(void)version;
	(void)upload_data;
	if (*req_cls == NULL) {
		*req_cls = &first_call_marker;
		return MHD_YES;
	}
	*upload_data_size = 0;
	return MHD_queue_response(con, MHD_HTTP_FOUND, resp);
}

int main(int argc, char **argv)
{
	struct MHD_Response *resp;
	struct MHD_Daemon *d;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL;
	unsigned threads = 0;
	struct sockaddr_in addr;
	sigset_t set;
	int sig;

	if (argc < 2) {
		fprintf(stderr, "usage: mhd302 PORT [THREADS|tpc] [turbo]\n");
		return 2;
	}
	if (argc > 2 && strcmp(argv[2], "tpc") == 0)
		flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;
	else if (argc > 2)
		threads = (unsigned)atoi(argv[2]);
	if (argc > 3 && strcmp(argv[3], "turbo") == 0)
		flags |= MHD_USE_TURBO;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)atoi(argv[1]));
	inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);

	resp = MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return 1;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, "https://example.com/articles/1");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "private, no-store");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
	d = MHD_start_daemon(flags, (uint16_t)atoi(argv[1]), NULL, NULL, on_request, resp,
			     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
			     MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)(threads > 1 ? threads : 0),
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned int)1024,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30,
			     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024),
			     MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned int)1,
			     MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)1024,
			     MHD_OPTION_END);
	if (d == NULL) {
		fprintf(stderr, "mhd302: cannot start on port %s\n", argv[1]);
		return 1;
	}
	fprintf(stderr, "listening on http://127.0.0.1:%s\n", argv[1]);
	while (sigwait(&set, &sig) != 0)
		;
	MHD_stop_daemon(d);
	MHD_destroy_response(resp);
	return 0;
}
