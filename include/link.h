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
#define LINK_TITLE_MAX 512     /* bytes of UTF-8 */
#define LINK_TAGS_MAX 32       /* tags of one link */
#define LINK_TAG_CHARS_MAX 64  /* characters (code points) of one tag */
#define LINK_TAG_MAX 256       /* bytes of one tag: 64 characters of up to 4 bytes */
#define LINK_BY_MAX 64         /* who made or changed a link: a token's name, or "cli" */

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
	/* What owners read and set; never read by a redirect. The tags come
	 * last, so a link with few touches few of their pages. */
	char created_by[LINK_BY_MAX + 1]; /* "" when not known (made before shortd kept it) */
	char updated_by[LINK_BY_MAX + 1];
	int n_tags;                     /* distinct, in the order given */
	char title[LINK_TITLE_MAX + 1]; /* "" for none */
	char tags[LINK_TAGS_MAX][LINK_TAG_MAX + 1];
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

/* Sets every field to its "absent" value: no expiry, no limit, no clicks,
 * no title, no tags. */
void link_init(struct link *l);

/* Checks a custom code: 1..64 of [A-Za-z0-9_-], not a reserved word. */
enum link_code_error link_code_check(const char *code);

/* The syntax half of link_code_check(), without the reserved words: 1..64
 * of [A-Za-z0-9_-]. On LINK_CODE_OK, *len is code's length. */
enum link_code_error link_code_syntax(const char *code, size_t *len);

/* A human sentence for a code error, never NULL. */
const char *link_code_error_message(enum link_code_error e);

/* True for a code no new link may take although it is not a reserved path:
 * "export" (case-sensitive), since GET /api/v1/links/export is the export
 * of every link and not the link of that name. A link made with it before
 * it was kept still redirects and is changed or deleted as any other. */
bool link_code_is_kept_by_api(const char *code);

/* True for paths the daemon keeps for itself: api, healthz, metrics,
 * robots.txt, favicon.ico and anything that starts with "admin"; compared
 * without regard to case. */
bool link_code_is_reserved(const char *code, size_t len);

enum link_label_error {
	LINK_LABEL_OK = 0,
	LINK_LABEL_EMPTY = -1,    /* a tag of no characters */
	LINK_LABEL_TOO_LONG = -2, /* a title over 512 bytes, a tag over 64 characters */
	LINK_LABEL_BAD_UTF8 = -3,
	LINK_LABEL_CONTROL = -4,  /* a control character (U+0000-U+001F, U+007F-U+009F) */
	LINK_LABEL_TOO_MANY = -5, /* more than 32 distinct tags */
};

/* Checks a title of len bytes: at most 512 bytes of valid UTF-8 without
 * control characters ("" is no title). */
enum link_label_error link_title_check(const char *title, size_t len);

/* Checks a tag of len bytes: 1..64 characters of valid UTF-8 without
 * control characters. */
enum link_label_error link_tag_check(const char *tag, size_t len);

/* Adds tag (checked by link_tag_check) to tags[*n] unless it is there
 * already (tags compare byte for byte): LINK_LABEL_OK, or an error and the
 * list unchanged. */
enum link_label_error link_tag_add(char tags[][LINK_TAG_MAX + 1], int *n, const char *tag, size_t len);

/* A human sentence for a label error, never NULL. */
const char *link_label_error_message(enum link_label_error e);

/* l's tags as a JSON array of strings, as the store backends keep them;
 * the caller frees it. NULL when out of memory. */
char *link_tags_to_json(const struct link *l);

/* A JSON array of strings (s may be NULL) into l's tags, without
 * allocating, since a redirect's read of a limited link passes here. What
 * is not such an array (a hand edit) ends the tags read so far. */
void link_tags_from_json(const char *s, struct link *l);

/* True for 301, 302, 303, 307 and 308. */
bool link_status_is_valid(int status);

/* The link's state at time now; clicks is the total known (store plus pending). */
enum link_state link_state_at(const struct link *l, int64_t now, int64_t clicks);

#endif
