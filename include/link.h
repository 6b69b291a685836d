/*
 * The link model and its rules: short codes, statuses and a link's state at
 * a given time. URL rules live in url.h, times in rfc3339.h. Every caller that
 * makes or changes a link (the CLI, the API) validates through these
 * functions, so there is one implementation of each rule.
 */
#ifndef SHORTD_LINK_H
#define SHORTD_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LINK_CODE_MAX 64
#define LINK_URL_MAX 8192
#define LINK_GEN_LEN 7
#define LINK_NO_TIME INT64_MIN /* expires_at, last_click_at: absent */
#define LINK_NO_LIMIT (-1)     /* max_clicks: absent */

struct link {
	int64_t id;
	char code[LINK_CODE_MAX + 1];
	char url[LINK_URL_MAX + 1];
	int status;
	bool forward_query;
	bool disabled;
	int64_t created_at; /* unix seconds, UTC */
	int64_t updated_at;
	int64_t expires_at;    /* LINK_NO_TIME when the link never expires */
	int64_t max_clicks;    /* LINK_NO_LIMIT when unlimited */
	int64_t clicks;        /* human clicks written to the store */
	int64_t bot_clicks;    /* crawler and preview-bot clicks, apart */
	int64_t last_click_at; /* LINK_NO_TIME before the first click */
};

enum link_state {
	LINK_ACTIVE = 0,
	LINK_DISABLED,
	LINK_EXPIRED,
	LINK_EXHAUSTED, /* clicks reached max_clicks */
};

enum link_code_error {
	LINK_CODE_OK = 0,
	LINK_CODE_EMPTY = -1,
	LINK_CODE_TOO_LONG = -2,
	LINK_CODE_BAD_CHAR = -3,
	LINK_CODE_RESERVED = -4,
};

/* Sets every field to its "absent" value: no expiry, no limit, no clicks. */
void link_init(struct link *l);

/* Checks a custom code: 1..64 of [A-Za-z0-9_-], not a reserved word. */
enum link_code_error link_code_check(const char *code);

/* The syntax half of link_code_check(), without the reserved words: 1..64
 * of [A-Za-z0-9_-]. On LINK_CODE_OK, *len is code's length. */
enum link_code_error link_code_syntax(const char *code, size_t *len);

/* A human sentence for a code error, never NULL. */
const char *link_code_error_message(enum link_code_error e);

/* True for paths the daemon keeps for itself: api, healthz, metrics, anything
 * that starts with "admin"; compared without regard to case. */
bool link_code_is_reserved(const char *code, size_t len);

/* True for 301, 302, 303, 307 and 308. */
bool link_status_is_valid(int status);

/* The link's state at time now; clicks is the total known (store plus pending). */
enum link_state link_state_at(const struct link *l, int64_t now, int64_t clicks);

#endif
