/*
 * `shortd serve`: the daemon's life. Parse the configuration, open the
 * store, start the click flusher and the HTTP server, make the first admin
 * token on a database without one, announce the address, then wait for a
 * signal. SIGTERM and SIGINT stop it gracefully: stop
 * accepting, finish requests in flight, write every pending click, close
 * the store, exit 0. SIGHUP reopens the access log (for logrotate).
 *
 * Signals are blocked in every thread and taken here with sigwait(), so no
 * handler runs inside the server's threads.
 */
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accesslog.h"
#include "api.h"
#include "auth.h"
#include "clicks.h"
#include "cmd_serve.h"
#include "config.h"
#include "http_server.h"
#include "store.h"

#define GRACE_MS 10000

int cmd_serve_main(int argc, char **argv)
{
	struct config cfg;
	struct store *store = NULL;
	struct clicks *clicks = NULL;
	struct http_server *srv = NULL;
	struct api *api = NULL;
	struct accesslog *access_log = NULL;
	sigset_t set;
	char err[512];
	int sig, rc, status = 1;

	config_defaults(&cfg);
	if (config_parse_serve(&cfg, argc, argv, err, sizeof(err)) != 0) {
		fprintf(stderr, "shortd: %s\n", err);
		return 2;
	}

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0 || signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
		fprintf(stderr, "shortd: cannot set up signal handling\n");
		return 1;
	}

	rc = store_open(cfg.db_path, &store, err, sizeof(err));
	if (rc != STORE_OK) {
		fprintf(stderr, "shortd: %s\n", err);
		return rc == STORE_UNSUPPORTED ? 2 : 1; /* a --db value this shortd cannot use is a bad value */
	}
	if (store_set_link_cache(store, (size_t)cfg.link_cache_mb * 1024 * 1024) != STORE_OK) {
		fprintf(stderr,
		        "shortd: cannot make a link cache of %u MB (--link-cache): out of memory, or libsodium "
		        "failed to start\n",
		        cfg.link_cache_mb);
		goto out;
	}
	/* One read connection per worker thread and one for this thread. */
	if (store_open_readers(store, (int)cfg.threads + 1, err, sizeof(err)) != STORE_OK) {
		fprintf(stderr, "shortd: %s\n", err);
		goto out;
	}
	if (clicks_start(store, (int)cfg.flush_ms, &clicks) != 0) {
		fprintf(stderr, "shortd: cannot start the click flusher\n");
		goto out;
	}
	if (api_new(&cfg, store, clicks, cfg.admin_token, &api) != 0) {
		fprintf(stderr, "shortd: out of memory\n");
		goto out;
	}
	if (cfg.access_log != NULL &&
	    accesslog_open(cfg.access_log, &cfg, ACCESSLOG_FLUSH_MS, &access_log, err, sizeof(err)) != 0) {
		fprintf(stderr, "shortd: %s\n", err);
		goto out;
	}
	struct http_server_deps deps = {&cfg, store, clicks, api, access_log};
	if (http_server_start(&deps, &srv, err, sizeof(err)) != 0) {
		fprintf(stderr, "shortd: %s\n", err);
		goto out;
	}
	/* The first admin token is made only once the daemon listens: a start
	 * that fails (port taken, log unwritable) must not spend the one time
	 * it is shown. */
	if (cfg.admin_token == NULL) {
		char secret[AUTH_TOKEN_LEN + 1];
		bool created;
		rc = auth_bootstrap(store, (int64_t)time(NULL), secret, &created);
		if (rc != STORE_OK) {
			fprintf(stderr, "shortd: cannot create the first admin token: %s\n", store_status_message(rc));
			goto out;
		}
		if (created)
			fprintf(stderr, "admin token (shown once): %s\n", secret);
		sodium_memzero(secret, sizeof(secret));
	}
	if (strchr(cfg.listen_host, ':') != NULL)
		fprintf(stderr, "listening on http://[%s]:%u\n", cfg.listen_host, http_server_port(srv));
	else
		fprintf(stderr, "listening on http://%s:%u\n", cfg.listen_host, http_server_port(srv));

	/* sigwait() fails only for a set that is not valid, and returns only
	 * the signals of set: SIGINT and SIGTERM stop, SIGHUP is the one left. */
	while (sigwait(&set, &sig) == 0 && sig == SIGHUP) {
		if (accesslog_reopen(access_log, err, sizeof(err)) != 0)
			fprintf(stderr, "shortd: %s\n", err);
	}
	status = 0;
out:
	http_server_stop(srv, GRACE_MS);
	accesslog_close(access_log);
	api_free(api);
	if (clicks_stop(clicks) != 0)
		status = 1;
	store_close(store);
	return status;
}
