/*
 * The access log: one line per answered request in the combined log format
 * (remote address, time, request line, status, bytes, Referer, User-Agent),
 * to a file or standard output. Lines are appended to the calling thread's
 * buffer; a writer thread writes the buffers out (the daemon's every 200 ms)
 * and at accesslog_close(), so a request costs no write(2).
 *
 * Credentials are never logged: no Authorization header and no user name
 * (the %u field is always "-").
 *
 * Behind a reverse proxy, the remote address is the one the proxy appended
 * last to X-Forwarded-For; the header is believed only when the connection
 * comes from a loopback address or a --trusted-proxy range, since anyone
 * else could write it.
 */
#ifndef SHORTD_ACCESSLOG_H
#define SHORTD_ACCESSLOG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config.h"

struct accesslog;

/* One answered request. Strings may be NULL (logged as "-"). */
struct accesslog_entry {
	const struct sockaddr *peer; /* the client's address, or NULL */
	const char *forwarded_for;   /* X-Forwarded-For as received, or NULL */
	int64_t when;                /* unix seconds */
	const char *method;
	const char *path;  /* decoded path */
	const char *query; /* raw query after '?', or NULL */
	const char *version;
	int status;
	uint64_t bytes; /* response body bytes; 0 is logged as "-" */
	const char *referer;
	const char *user_agent;
};

/* How often the daemon's log writer writes the buffers out, and how much
 * one thread's buffer holds. */
#define ACCESSLOG_FLUSH_MS 200
#define ACCESSLOG_BUFFER_BYTES (256 * 1024)

/* Opens path for appending (created 0640 when absent), or standard output
 * for "-", and starts the writer: it writes the buffers out every flush_ms,
 * and a thread's at once when it is half full. With flush_ms 0 there is no
 * writer (nginx's buffer= without flush=): a thread's lines are written
 * when its buffer cannot take another line, at accesslog_reopen() and at
 * accesslog_close(). cfg (NULL: none) gives the trusted proxies and must
 * outlive the log. Returns 0, or -1 with a one-line reason naming the path
 * in err. */
int accesslog_open(const char *path, const struct config *cfg, unsigned flush_ms, struct accesslog **out, char *err,
                   size_t errlen);

/* Appends e's line to the calling thread's buffer. Never blocks on the
 * file except when that buffer is full, which writes it out at once. */
void accesslog_write(struct accesslog *log, const struct accesslog_entry *e);

/* Writes every buffered line to the current file, then reopens the path
 * (for logrotate after a rename). A no-op for standard output. Returns 0, or
 * -1 with a reason in err when the path cannot be opened (logging then goes
 * on to the old file). */
int accesslog_reopen(struct accesslog *log, char *err, size_t errlen);

/* Stops the writer, writes every buffered line and closes the file; accepts
 * NULL. No accesslog_write() may be running. */
void accesslog_close(struct accesslog *log);

#endif
