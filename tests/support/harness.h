/*
 * Test support shared by the integration tests: the real daemon started on
 * 127.0.0.1:0 with a fresh SQLite file (or, with SHORTD_TEST_DB=postgresql,
 * a fresh database in the tests' PostgreSQL cluster), the CLI run as a
 * process, an echo target that reports what it received, and HTTP clients
 * (libcurl, the curl command, raw sockets for malformed requests).
 */
#ifndef SHORTD_TEST_HARNESS_H
#define SHORTD_TEST_HARNESS_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The libmicrohttpd that the daemon under test is built with refuses some
 * malformed requests itself, with its own status, before shortd sees them
 * (1.0 and later; see SHORTD_MHD_HEADERS_IN_PLACE in src/http_server.c). */
#define HARNESS_MHD_REFUSES_ITSELF (MHD_VERSION >= 0x00097701)

/* Whether libmicrohttpd puts a text of its own (an HTML page) in the
 * answers it sends itself: it does unless it was configured with
 * --disable-messages, and then sends them with an empty body. The tests
 * load the daemon's libmicrohttpd. */
#define HARNESS_MHD_PAGES (MHD_is_feature_supported(MHD_FEATURE_MESSAGES) == MHD_YES)

struct daemon {
	pid_t pid;
	unsigned port;
	char base[64]; /* "http://127.0.0.1:PORT" */
	char dir[256]; /* a fresh temporary directory, removed by daemon_cleanup */
	char db[300];  /* dir + "/shortd.db" unless given */
	char log[300]; /* the daemon's stderr, kept in dir */
};

/* SHORTD_TEST_DB=postgresql: the daemons run on PostgreSQL. */
bool harness_uses_pg(void);

/* Called by each test runner before its suites run: starts the PostgreSQL
 * cluster there, once, when the daemons run on it. */
void harness_runner_start(void);

/* Makes a fresh temporary directory and database in d (no daemon yet): the
 * path of a SQLite file in it, or the URL of a fresh PostgreSQL database. */
void daemon_prepare(struct daemon *d);

/* Starts $SHORTD_BIN serve --listen 127.0.0.1:0 --db d->db plus the NULL-
 * terminated extra args, with the NULL-terminated "NAME=value" env added,
 * and waits (up to 10 s) for its "listening on" line. 0 or -1. */
int daemon_start(struct daemon *d, const char *const *args, const char *const *env);

/* SIGTERM, then waits; returns the exit status (or -1 when it died by a
 * signal or did not exit within 15 s, in which case it is killed). */
int daemon_stop(struct daemon *d);

/* daemon_stop with another signal (SIGINT, say). */
int daemon_stop_with(struct daemon *d, int sig);

/* SIGKILL and reap. */
void daemon_kill(struct daemon *d);

/* Removes d->dir and everything in it, and drops a PostgreSQL database
 * (killing the daemon if it still runs). */
void daemon_cleanup(struct daemon *d);

/* The daemon process exists and has not exited. */
bool daemon_is_running(const struct daemon *d);

/* ---- the daemon-plus-links fixture that most suites use ---- */

/* A link that fixture_make_db adds with create_link. */
struct fixture_link {
	const char *url; /* NULL ends an array of them */
	const char *code;
	int status;               /* 0: the default */
	const char *const *extra; /* more "shortd add" flags, NULL-terminated, or NULL */
};

/* daemon_prepare, then the database made with shortd init (a copy of the one
 * it made for this binary, kept beside it as fixture-init.db) and the links
 * (an array ended by a NULL url, or NULL) added with create_link; no daemon
 * yet. Fails the test at the first step that fails. */
void fixture_make_db(struct daemon *d, const struct fixture_link *links);

/* fixture_make_db, then the daemon started with the NULL-terminated serve
 * args and "NAME=value" env (either may be NULL); fails the test when it
 * does not start. */
void fixture_start(struct daemon *d, const struct fixture_link *links, const char *const *args, const char *const *env);

/* Stops the daemon with SIGTERM, asserts that it exited 0 and removes its
 * files. */
void fixture_stop(struct daemon *d);

/* shortd add url --code code (--status status unless 0) plus the NULL-
 * terminated extra flags on d's database; once the daemon listens, with
 * --base-url d->base, asserting that it printed d->base/code. Fails the test
 * when shortd add fails. */
void create_link(const struct daemon *d, const char *url, const char *code, int status, const char *const *extra);

/* Sleeps ms milliseconds (resuming after a signal). */
void pause_ms(long ms);

/* CLOCK_MONOTONIC in milliseconds. */
int64_t now_ms(void);

/* Raises this process's open-file limit (which a daemon started after
 * inherits) to at least want; fails the test when it cannot. */
void raise_nofile(unsigned long want);

/* Runs $SHORTD_BIN with the NULL-terminated args (no --db added), with
 * SHORTD_DB=db in the environment; captures stdout and stderr (NUL
 * terminated, truncated to their sizes) and returns the exit status. */
int shortd_run(const char *db, char *out, size_t outsize, char *err, size_t errsize, const char *const *args);

/* An in-process HTTP server on 127.0.0.1:0 that answers every request with
 * 200 and a body of: "METHOD PATH?QUERY\n" then the request body's bytes. */
struct echo {
	void *daemon;
	unsigned port;
	char url[64]; /* "http://127.0.0.1:PORT" */
};
int echo_start(struct echo *e);
void echo_stop(struct echo *e);

/* One request with libcurl. headers is NULL-terminated "Name: value" lines
 * (may be NULL). follow: follow redirects as curl -L does. 0, or -1 when the
 * transfer failed: then out holds no buffers, only status, uploaded and
 * connects as far as they got. */
struct http_result {
	long status;
	char *headers; /* the last response's header block */
	char *body;    /* NUL terminated */
	size_t body_len;
	double uploaded; /* request body bytes sent, over all hops */
	long connects;   /* new connections made */
};
int http_do(const char *method, const char *url, const void *body, size_t body_len, const char *const *headers,
            bool follow, struct http_result *out);
void http_result_free(struct http_result *r);

/* A libcurl handle kept across requests, so they can share one connection
 * (keep-alive): http_client_do is http_do on c's handle. */
struct http_client {
	void *curl;
};
int http_client_init(struct http_client *c);
int http_client_do(struct http_client *c, const char *method, const char *url, const void *body, size_t body_len,
                   const char *const *headers, bool follow, struct http_result *out);
void http_client_cleanup(struct http_client *c);

/* The value of a header (case-insensitive name) in r->headers copied into
 * out; 0, or -1 when absent. */
int http_header(const struct http_result *r, const char *name, char *out, size_t outsize);

/* The value of the series name (labels and all, as the page spells them)
 * in GET base/metrics, asked on c's connection (NULL: on one of its own);
 * -1 when the page cannot be read or has no such line. */
long metric_value(struct http_client *c, const char *base, const char *name);

/* Asserts that GET /code on d answers 302 with Location: location. */
void assert_redirects_to(const struct daemon *d, const char *code, const char *location);

/* Fails unless body is /healthz's 503 for a database file moved, deleted
 * or replaced: that line, what the node still does, the clicks waiting. */
void assert_health_gone_body(const char *body);

/* Sends raw bytes to 127.0.0.1:port, then reads until the peer closes, the
 * timeout passes or resp is full; returns the bytes read (NUL terminated) or
 * -1 when the connection failed. */
long raw_request(unsigned port, const void *req, size_t len, char *resp, size_t respsize, int timeout_ms);

/* raw_request that also tells whether the peer closed (or reset) the
 * connection before the timeout. */
long raw_request_ex(unsigned port, const void *req, size_t len, char *resp, size_t respsize, int timeout_ms,
                    bool *peer_closed);

/* A connected socket to 127.0.0.1:port, or -1; the caller closes it. */
int raw_connect(unsigned port);

/* Sends all of data; 0, or -1 when the peer refused it. */
int raw_send(int fd, const void *data, size_t len);

/* Reads one response to a request other than HEAD (headers, then
 * Content-Length bytes of body) into resp, NUL terminated; returns the bytes
 * read, fewer when the peer closed or the timeout passed first. */
long raw_read_response(int fd, char *resp, size_t respsize, int timeout_ms);

/* Runs the curl command with the NULL-terminated args; captures stdout and
 * returns the exit status. */
int curl_run(char *out, size_t outsize, const char *const *args);

/* curl_run that also returns how many bytes of stdout it kept, for binary
 * output that may hold NUL bytes. */
int curl_run_capture(char *out, size_t outsize, size_t *out_len, const char *const *args);

/* Makes a fresh directory $TMPDIR/shortd-TAG-XXXXXX (TMPDIR defaults to
 * /tmp) into dir and the database path dir/test.db into path; fails the test
 * when it cannot. */
void tempdb_make(const char *tag, char *dir, size_t dirsize, char *path, size_t pathsize);

/* Removes the database at path with its -wal, -shm and -journal files, then
 * the directory dir. */
void tempdb_remove(const char *dir, const char *path);

/* Runs sql on the SQLite file (or PostgreSQL URL) db with a connection of
 * its own, failing the test (with the engine's message) when it does not
 * succeed. */
void sqlfile_exec(const char *db, const char *sql);

/* The first column of the first row of sql on db, as an int; fails the test
 * when there is no row. On SQLite it reads through sqlite_counts_open(). */
int sqlfile_int(const char *db, const char *sql);

/*
 * Opens the SQLite file at path (sqlite3_open_v2's flags) for a test that
 * reads click counts by SQL. Where the file keeps them packed (click_totals
 * and click_days, see click_chunk.h), the connection gets two temporary
 * views that show them as the columns and rows a test can query the same on
 * PostgreSQL: links with clicks, bot_clicks and last_click_at, and
 * clicks_daily (link_id, day, clicks, bot_clicks). Temporary objects hide
 * the file's own links for this connection only: for reads, not writes.
 */
struct sqlite3;
int sqlite_counts_open(const char *path, int flags, struct sqlite3 **db);

/* Sets a link's clicks in the SQLite file at path, where the daemon keeps
 * them (its bot clicks and last click as they were), or by SQL on a
 * PostgreSQL URL. Fails the test when the link is not there. */
void sqlfile_set_clicks(const char *db, const char *code, int64_t clicks);

/* Adds clicks and bot_clicks to a link's totals and to its counts of day
 * (days since 1970-01-01) in the SQLite file at path, where the click
 * writer keeps them (last_click_at as it was), or by SQL on a PostgreSQL
 * URL. */
void sqlfile_add_clicks(const char *db, const char *code, int64_t day, int64_t clicks, int64_t bot_clicks);

#endif
