/*
 * The API drivers' fixture: a real store on a fresh file under /dev/shm (or
 * TMPDIR), a config with a base URL and an API with a fixed admin token,
 * made once per fuzzing process. api_call() runs one request through
 * api_handle() and checks what every API answer must be: JSON with
 * Cache-Control: no-store and nosniff, an error shaped as SPEC.md says, and
 * never the token.
 */
#ifndef SHORTD_FUZZ_API_FIXTURE_H
#define SHORTD_FUZZ_API_FIXTURE_H

#include <jansson.h>
#include <stddef.h>

#include "api.h"
#include "config.h"
#include "http.h"
#include "store.h"

#define FIXTURE_TOKEN "fuzz-admin-token-0123456789abcdefghijklmnop"

struct api_fixture {
	struct config cfg;
	struct store *store;
	struct api *api;
	struct http_response *resp;
	char dir[64];
	char db[96];
};

/* The one fixture of the fuzzing process, made by fixture_init(). */
extern struct api_fixture fx;

/* Makes fx (once per process) and removes its files at exit; aborts when it
 * cannot. */
void fixture_init(void);

/* Runs one request; returns the answer's JSON (the caller decrefs; NULL for
 * 204, for a QR code and for the export, whose stream is read, checked and
 * freed here) and its status in *status. */
json_t *api_call(const char *method, const char *path, const char *query, const char *body, size_t body_len,
                 int *status);

#endif
