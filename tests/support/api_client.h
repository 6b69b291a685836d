/*
 * A small client for the admin API shared by the suites that use it: a
 * daemon with a known admin token, one call that sends a request and parses
 * its JSON answer, and a listing that walks every page. Every helper asserts
 * with Check, so a failure names the request.
 */
#ifndef SHORTD_TEST_API_CLIENT_H
#define SHORTD_TEST_API_CLIENT_H

#include <jansson.h>
#include <stddef.h>

#include "harness.h"

#define API_TEST_TOKEN "test-admin-token-0123456789abcdefghijklmnopq"
#define API_JSON "Content-Type: application/json"

/* The environment that gives a daemon API_TEST_TOKEN as its admin token. */
extern const char *const client_token_env[];

/* fixture_start with no links, client_token_env and the NULL-terminated
 * extra serve args; fixture_stop stops it. */
void client_daemon_start(struct daemon *d, const char *const *args);

/*
 * Sends method path (under d->base) with the token (NULL: no Authorization),
 * the content type (NULL: none) and the body (NULL: none). Returns the
 * status; r holds the answer (the caller frees it).
 */
long client_call_raw(const struct daemon *d, const char *token, const char *method, const char *path,
                     const char *content_type, const void *body, size_t body_len, struct http_result *r);

/* client_call_raw with a JSON text body (or none) and application/json. */
long client_call(const struct daemon *d, const char *token, const char *method, const char *path, const char *json,
                 struct http_result *r);

/* The answer's body as JSON; fails the test when it is not. */
json_t *client_json(const struct http_result *r);

/* The value of header name, or "" when absent (a static buffer). */
const char *client_header(const struct http_result *r, const char *name);

/* Asserts the headers every admin answer carries. */
void client_assert_admin_headers(const struct http_result *r);

/* Asserts an error answer: status, the machine code, a message, headers. */
void client_assert_error(const struct http_result *r, long status, const char *code);

/* POSTs json as a new link with the admin token; asserts 201 and returns
 * the Link (the caller decrefs it). */
json_t *client_create_link(const struct daemon *d, const char *json);

/* PATCHes the link code with json and the admin token; asserts 200. */
void client_patch_link(const struct daemon *d, const char *code, const char *json);

/* One member of a JSON object as a string ("" when absent or not a string). */
const char *client_str(const json_t *j, const char *key);

long long client_int(const json_t *j, const char *key);

/*
 * Walks every page of the listing with page size limit and returns all
 * items in one array (the caller decrefs it). *pages counts the pages.
 */
json_t *client_list_all(const struct daemon *d, int limit, int *pages);

/* The whole listing (one page of up to 1000) as the daemon's raw text, to
 * compare before and after a refused request. The caller frees it. */
char *client_list_text(const struct daemon *d);

#endif
