/*
 * Helpers shared by the redirect suites: one daemon and one echo target per
 * test (Check runs each test in its own process, so these are per test),
 * links made with the CLI, and header assertions. Every helper asserts, so
 * a failure names what went wrong.
 */
#ifndef SHORTD_TEST_REDIRECT_UTIL_H
#define SHORTD_TEST_REDIRECT_UTIL_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "link.h"
#include "store.h"

static struct daemon rt_daemon;
static struct echo rt_echo;

/* Starts the echo target and makes the daemon's directory and database
 * path, so links can be written before the daemon starts. */
static inline void rt_prepare(void)
{
	ck_assert_int_eq(echo_start(&rt_echo), 0);
	daemon_prepare(&rt_daemon);
}

/* Starts the prepared daemon with the NULL-terminated serve args. */
static inline void rt_launch(const char *const *args)
{
	ck_assert_int_eq(daemon_start(&rt_daemon, args, NULL), 0);
}

/* rt_prepare then rt_launch. */
static inline void rt_start(const char *const *args)
{
	rt_prepare();
	rt_launch(args);
}

/* Writes a link straight into the prepared database through the store API,
 * bypassing the CLI's rules (so a reserved code can be stored), then
 * disables it when asked. For use before the daemon starts. */
static inline void rt_store_link(const char *code, const char *url, int status, bool disabled)
{
	char err[512];
	struct store *s;
	struct link *l = malloc(sizeof(*l));
	struct link_patch *p = calloc(1, sizeof(*p));

	ck_assert(l != NULL && p != NULL);
	ck_assert_msg(store_open(rt_daemon.db, &s, err, sizeof(err)) == STORE_OK, "%s", err);
	link_init(l);
	snprintf(l->code, sizeof(l->code), "%s", code);
	snprintf(l->url, sizeof(l->url), "%s", url);
	l->status = status;
	l->created_at = (int64_t)time(NULL);
	l->updated_at = l->created_at;
	ck_assert_int_eq(store_link_create(s, l, NULL, NULL), STORE_OK);
	if (disabled) {
		p->fields = PATCH_DISABLED;
		p->disabled = true;
		ck_assert_int_eq(store_link_update(s, code, p, l->created_at, l), STORE_OK);
		ck_assert(l->disabled);
	}
	store_close(s);
	free(p);
	free(l);
}

/* Asserts the daemon is still running, stops it with SIGTERM and asserts it
 * exited 0; then removes its files and stops the echo target. */
static inline void rt_stop(void)
{
	ck_assert_msg(daemon_is_running(&rt_daemon), "the daemon died");
	ck_assert_int_eq(daemon_stop(&rt_daemon), 0);
	daemon_cleanup(&rt_daemon);
	echo_stop(&rt_echo);
}

/* shortd add url --code code --status status (0: default) plus the
 * NULL-terminated extra args, against the running daemon's database and
 * base URL; asserts it printed the short URL. */
static inline void rt_add_link(const char *url, const char *code, int status, const char *const *extra)
{
	const char *args[24];
	char st[16], out[1024], err[1024], want[512];
	int n = 0, rc;

	args[n++] = "add";
	args[n++] = url;
	args[n++] = "--code";
	args[n++] = code;
	args[n++] = "--base-url";
	args[n++] = rt_daemon.base;
	if (status != 0) {
		snprintf(st, sizeof(st), "%d", status);
		args[n++] = "--status";
		args[n++] = st;
	}
	for (int i = 0; extra != NULL && extra[i] != NULL && n < 23; i++)
		args[n++] = extra[i];
	args[n] = NULL;
	rc = shortd_run(rt_daemon.db, out, sizeof(out), err, sizeof(err), args);
	ck_assert_msg(rc == 0, "shortd add %s: exit %d: %s", url, rc, err);
	snprintf(want, sizeof(want), "%s/%s\n", rt_daemon.base, code);
	ck_assert_str_eq(out, want);
}

/* The daemon's URL for path. */
static inline const char *rt_url(const char *path)
{
	static char url[8192];

	snprintf(url, sizeof(url), "%s%s", rt_daemon.base, path);
	return url;
}

/* Asserts header name has exactly value (NULL: is absent). */
static inline void rt_assert_header(const struct http_result *r, const char *name, const char *value)
{
	char got[8192];
	int rc = http_header(r, name, got, sizeof(got));

	if (value == NULL) {
		ck_assert_msg(rc != 0, "%s present: %s", name, got);
		return;
	}
	ck_assert_msg(rc == 0, "%s absent in:\n%s", name, r->headers);
	ck_assert_str_eq(got, value);
}

/* Asserts the daemon answered raw bytes with a status line starting with
 * prefix (e.g. "HTTP/1.1 307 "). */
static inline void rt_assert_status_line(const char *resp, const char *prefix)
{
	ck_assert_msg(strncmp(resp, prefix, strlen(prefix)) == 0, "expected '%s', got: %.300s", prefix, resp);
}

/* A normal redirect still works: GET /code answers 307 with Location. */
static inline void rt_assert_still_serving(const char *code, const char *location)
{
	struct http_result r;

	ck_assert_msg(daemon_is_running(&rt_daemon), "the daemon died");
	ck_assert_int_eq(http_do("GET", rt_url(code), NULL, 0, NULL, false, &r), 0);
	ck_assert_int_eq(r.status, 307);
	rt_assert_header(&r, "Location", location);
	http_result_free(&r);
}

#endif
