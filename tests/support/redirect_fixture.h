/*
 * The fixture of the redirect suites: one daemon and one echo target per
 * test (Check runs each test in its own process, so these are per test),
 * links written through the store API, and header assertions. Every helper
 * asserts, so a failure names what went wrong.
 */
#ifndef SHORTD_TEST_REDIRECT_FIXTURE_H
#define SHORTD_TEST_REDIRECT_FIXTURE_H

#include <stdbool.h>

#include "harness.h"

/* The test's daemon and echo target. */
extern struct daemon rt_daemon;
extern struct echo rt_echo;

/* Starts the echo target and makes the daemon's database (fixture_make_db,
 * no links), so links can be written before the daemon starts. */
void rt_prepare(void);

/* Starts the prepared daemon with the NULL-terminated serve args. */
void rt_launch(const char *const *args);

/* rt_prepare then rt_launch. */
void rt_start(const char *const *args);

/* Writes a link straight into the prepared database through the store API,
 * bypassing the CLI's rules (so a reserved code can be stored), then
 * disables it when asked. For use before the daemon starts. */
void rt_store_link(const char *code, const char *url, int status, bool disabled);

/* Asserts the daemon is still running, stops it with fixture_stop, then
 * stops the echo target. */
void rt_stop(void);

/* The daemon's URL for path (a buffer that the next call reuses). */
const char *rt_url(const char *path);

/* Asserts header name has exactly value (NULL: is absent). */
void rt_assert_header(const struct http_result *r, const char *name, const char *value);

/* Asserts the daemon answered raw bytes with a status line starting with
 * prefix (e.g. "HTTP/1.1 307 "). */
void rt_assert_status_line(const char *resp, const char *prefix);

/* A normal redirect still works: GET /code answers 307 with Location. */
void rt_assert_still_serving(const char *code, const char *location);

#endif
