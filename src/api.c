/*
 * The admin JSON API: /api/v1/links, /api/v1/links/export and
 * /api/v1/links/{code}[/stats|/qr], /api/v1/tokens[/{id}] (admin tokens
 * only), and /api/v1/openapi.json (the one path answered without a token).
 *
 * A request goes through the same gates in the same order: token (401),
 * route (404), method (405), role (403), body size (413), media type (415),
 * JSON shape (400), then link_admin.c's rules (400/409) and the store (404/503).
 * Every gate runs before the store is written, so a refused request changes
 * nothing. JSON is decoded and encoded only with Jansson.
 *
 * Click counts in answers are exact: the store is read inside clicks_locked(),
 * which keeps the flusher out, and the clicks still pending in memory are
 * added to what the store says.
 *
 * Invariant: a token never reaches a response, a log or a copy; only its
 * hash is compared.
 */
#include "api.h"

#include <inttypes.h>
#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "link_admin.h"
#include "link_io.h"
#include "link_json.h"
#include "num.h"
#include "qr.h"
#include "rfc3339.h"
#include "url.h"

#define API_PREFIX "/api/v1/links"
#define TOKENS_PREFIX "/api/v1/tokens"
#define OPENAPI_PATH "/api/v1/openapi.json"
#define CURSOR_MAX 64
#define QUERY_VALUE_MAX 128
#define EXPORT_PAGE 256

struct api {
	const struct config *cfg;
	struct store *store;
	struct clicks *clicks;
	bool has_fixed;
	unsigned char fixed_hash[STORE_TOKEN_HASH_LEN];
};

enum api_route {
	ROUTE_NONE,
	ROUTE_COLLECTION, /* /api/v1/links */
	ROUTE_LINK,       /* /api/v1/links/{code} */
	ROUTE_STATS,      /* /api/v1/links/{code}/stats */
	ROUTE_QR,         /* /api/v1/links/{code}/qr */
	ROUTE_EXPORT,     /* /api/v1/links/export */
};

int api_new(const struct config *cfg, struct store *store, struct clicks *clicks, const char *admin_token,
            struct api **out)
{
	struct api *a = calloc(1, sizeof(*a));

	*out = NULL;
	if (a == NULL)
		return -1;
	a->cfg = cfg;
	a->store = store;
	a->clicks = clicks;
	if (admin_token != NULL && admin_token[0] != '\0') {
		auth_token_hash(admin_token, a->fixed_hash);
		a->has_fixed = true;
	}
	*out = a;
	return 0;
}

void api_free(struct api *a)
{
	if (a == NULL)
		return;
	sodium_memzero(a->fixed_hash, sizeof(a->fixed_hash));
	free(a);
}

/* ---- responses ---- */

static const char fallback_body[] = "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}\n";

static void reply_headers(struct http_response *resp, int status)
{
	resp->status = status;
	resp->fixed = HTTP_FIXED_NONE;
	resp->cache_control = "no-store";
	resp->nosniff = true;
}

/* Sends t's text (taken) as the body with a final newline; 500 when t
 * failed. */
static void reply_text(struct http_response *resp, int status, struct link_json_text *t)
{
	reply_headers(resp, status);
	resp->content_type = "application/json";
	if (link_json_text_put(t, "\n", 1) != 0 || t->data == NULL) {
		free(t->data);
		goto fail;
	}
	resp->body_heap = t->data;
	resp->body_len = t->len;
	return;
fail:
	resp->status = 500;
	resp->body = fallback_body;
	resp->body_len = sizeof(fallback_body) - 1;
}

/* Sends j (consumed) as the body, compact, with a final newline. */
static void reply_json(struct http_response *resp, int status, json_t *j)
{
	struct link_json_text t = {NULL, 0, 0, false};

	if (j == NULL || link_json_text_dump(&t, j, JSON_COMPACT) != 0)
		t.failed = true;
	json_decref(j);
	reply_text(resp, status, &t);
}

/*
 * Replaces with '?' each byte of s that does not belong to a valid UTF-8
 * character (by Jansson's rules: no overlong forms, surrogates or values past
 * U+10FFFF). A message that quotes client text cut at a byte limit (a field
 * name, Jansson's own error text) can end mid-character, and Jansson refuses
 * to pack such a string.
 */
static void utf8_repair(char *s)
{
	unsigned char *p = (unsigned char *)s;

	while (*p != '\0') {
		unsigned c = *p, v, n;
		unsigned i;

		if (c < 0x80) {
			p++;
			continue;
		}
		n = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
		v = n == 2 ? c & 0x1F : n == 3 ? c & 0x0F : c & 0x07;
		for (i = 1; i < n && (p[i] & 0xC0) == 0x80; i++)
			v = (v << 6) | (p[i] & 0x3F);
		if (n == 0 || i < n || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF) || (n == 3 && v < 0x800) ||
		    (n == 4 && v < 0x10000)) {
			*p++ = '?';
			continue;
		}
		p += n;
	}
}

static void reply_error(struct http_response *resp, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void reply_error(struct http_response *resp, int status, const char *code, const char *fmt, ...)
{
	char message[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	utf8_repair(message);
	reply_json(resp, status, json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", message));
}

static void reply_linkops_error(struct http_response *resp, const struct link_admin_error *err)
{
	reply_error(resp, err->http_status, err->code, "%s", err->message);
}

static void reply_no_content(struct http_response *resp)
{
	reply_headers(resp, 204);
	resp->body = "";
	resp->body_len = 0;
}

/* ---- requests: route, query, media type ---- */

/* Splits path into a route and the code it names (borrowed from path). */
static enum api_route route_of(const char *path, char *code, size_t codesize)
{
	const char *rest, *slash;
	size_t n;

	if (strncmp(path, API_PREFIX, sizeof(API_PREFIX) - 1) != 0)
		return ROUTE_NONE;
	rest = path + sizeof(API_PREFIX) - 1;
	if (rest[0] == '\0')
		return ROUTE_COLLECTION;
	if (rest[0] != '/' || rest[1] == '\0')
		return ROUTE_NONE;
	/* Before the codes: GET of a link whose code is "export" is the export
	 * (README: Import and export); api_handle routes its PATCH and DELETE. */
	if (strcmp(rest, "/export") == 0)
		return ROUTE_EXPORT;
	rest++;
	slash = strchr(rest, '/');
	n = slash != NULL ? (size_t)(slash - rest) : strlen(rest);
	if (n == 0 || n >= codesize)
		return ROUTE_NONE;
	memcpy(code, rest, n);
	code[n] = '\0';
	if (slash == NULL)
		return ROUTE_LINK;
	if (strcmp(slash, "/qr") == 0)
		return ROUTE_QR;
	return strcmp(slash, "/stats") == 0 ? ROUTE_STATS : ROUTE_NONE;
}

static const char *allowed_methods(enum api_route route)
{
	switch (route) {
	case ROUTE_COLLECTION:
		return "GET, HEAD, POST";
	case ROUTE_LINK:
		return "GET, HEAD, PATCH, DELETE";
	default:
		return "GET, HEAD";
	}
}

static bool method_allowed(enum api_route route, enum http_method m)
{
	if (m == HTTP_GET || m == HTTP_HEAD)
		return true;
	if (route == ROUTE_COLLECTION)
		return m == HTTP_POST;
	if (route == ROUTE_LINK)
		return m == HTTP_PATCH || m == HTTP_DELETE;
	return false;
}

/* Percent-decodes [s, s + n) into out; -1 when malformed or too long. */
static int query_decode(const char *s, size_t n, char *out, size_t outsize)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (ch == '+') {
			ch = ' ';
		} else if (ch == '%') {
			int hi = i + 2 < n ? http_hex_value(s[i + 1]) : -1;
			int lo = i + 2 < n ? http_hex_value(s[i + 2]) : -1;
			if (hi < 0 || lo < 0)
				return -1;
			ch = (char)(hi * 16 + lo);
			i += 2;
		}
		if (o + 1 >= outsize || ch == '\0')
			return -1;
		out[o++] = ch;
	}
	out[o] = '\0';
	return 0;
}

/*
 * Finds parameter name in the raw query. Returns 1 with its decoded value in
 * out, 0 when absent, -1 when its value is malformed or too long. When a name
 * is repeated the last one counts.
 */
static int query_param(const char *query, const char *name, char *out, size_t outsize)
{
	size_t name_len = strlen(name);
	int found = 0;

	for (const char *p = query; p != NULL && *p != '\0';) {
		const char *end = strchr(p, '&');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
		const char *eq = memchr(p, '=', len);
		size_t key_len = eq != NULL ? (size_t)(eq - p) : len;

		if (key_len == name_len && memcmp(p, name, name_len) == 0) {
			const char *v = eq != NULL ? eq + 1 : p + len;
			found = query_decode(v, (size_t)(p + len - v), out, outsize) == 0 ? 1 : -1;
		}
		p = end != NULL ? end + 1 : NULL;
	}
	return found;
}

/* True for "application/json" with no parameter but a UTF-8 charset. */
static bool is_json_media_type(const char *ct)
{
	static const char type[] = "application/json";
	const char *p;

	if (ct == NULL || strncasecmp(ct, type, sizeof(type) - 1) != 0)
		return false;
	p = ct + sizeof(type) - 1;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0')
		return true;
	if (*p != ';')
		return false;
	p++;
	while (*p == ' ' || *p == '\t')
		p++;
	if (strncasecmp(p, "charset=", 8) != 0)
		return false;
	p += 8;
	if (strncasecmp(p, "utf-8", 5) == 0)
		p += 5;
	else if (strncasecmp(p, "\"utf-8\"", 7) == 0)
		p += 7;
	else
		return false;
	while (*p == ' ' || *p == '\t')
		p++;
	return *p == '\0';
}

/* ---- cursors: base64url of "v1." and the last id seen ---- */

static int cursor_encode(int64_t id, char *out, size_t outsize)
{
	char plain[32];
	int n = snprintf(plain, sizeof(plain), "v1.%" PRId64, id);

	if (n < 0 || sodium_base64_ENCODED_LEN((size_t)n, sodium_base64_VARIANT_URLSAFE_NO_PADDING) > outsize)
		return -1;
	sodium_bin2base64(out, outsize, (const unsigned char *)plain, (size_t)n,
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return 0;
}

static int cursor_decode(const char *s, int64_t *id)
{
	unsigned char plain[CURSOR_MAX];
	size_t n;
	uint64_t v;
	char text[CURSOR_MAX + 1];

	if (sodium_base642bin(plain, sizeof(plain) - 1, s, strlen(s), NULL, &n, NULL,
	                      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
		return -1;
	memcpy(text, plain, n);
	text[n] = '\0';
	if (n < 4 || memcmp(text, "v1.", 3) != 0 || strlen(text) != n)
		return -1;
	if (num_parse(text + 3, 1, INT64_MAX, &v) != NUM_OK)
		return -1;
	*id = (int64_t)v;
	return 0;
}

/* ---- exact click counts ---- */

static void pending_of(struct api *a, int64_t link_id, int64_t *human, int64_t *bot, int64_t *last)
{
	*human = 0;
	*bot = 0;
	*last = LINK_NO_TIME;
	if (a->clicks != NULL)
		clicks_pending(a->clicks, link_id, human, bot, last);
}

static int run_locked(struct api *a, int (*fn)(void *ctx), void *ctx)
{
	return a->clicks != NULL ? clicks_locked(a->clicks, fn, ctx) : fn(ctx);
}

/* Link JSON with the pending human clicks added. */
static json_t *link_json(struct api *a, const struct link *l)
{
	int64_t human, bot, last;

	pending_of(a, l->id, &human, &bot, &last);
	return link_json_encode(l, a->cfg->base_url, l->clicks + human);
}

/* ---- decoding bodies ---- */

struct body_error {
	int status;
	const char *code;
	char message[200];
};

static int body_refuse(struct body_error *e, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int body_refuse(struct body_error *e, const char *code, const char *fmt, ...)
{
	va_list ap;

	e->status = 400;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	return -1;
}

/* Parses the body as one JSON object, or with allow_array also an array;
 * the caller owns *out. */
static int body_json(const struct http_request *req, bool allow_array, json_t **out, struct body_error *e)
{
	const char *body = req->body != NULL ? req->body : "";
	size_t len = req->body != NULL ? req->body_len : 0;
	json_error_t jerr;
	json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);

	if (j == NULL && (json_error_code(&jerr) == json_error_out_of_memory || jerr.line == -1 ||
	                  (j = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL)) != NULL)) {
		/* Jansson ran out of memory: it says so, or sets no error, or
		 * calls it a syntax error that parsing again does not find. */
		json_decref(j);
		e->status = 503;
		e->code = "unavailable";
		snprintf(e->message, sizeof(e->message), "out of memory");
		return -1;
	}
	if (j == NULL)
		return body_refuse(e, "invalid_json", "the body is not valid JSON: %s at line %d, column %d", jerr.text,
		                   jerr.line, jerr.column);
	if (!json_is_object(j) && !(allow_array && json_is_array(j))) {
		json_decref(j);
		return body_refuse(e, "invalid_json", "the body must be a JSON object%s",
		                   allow_array ? " or an array of them" : "");
	}
	*out = j;
	return 0;
}

static int wrong_type(struct body_error *e, const char *key, const char *expected)
{
	return body_refuse(e, "invalid_type", "%s must be %s", key, expected);
}

/* A JSON integer into a link status; values no status can have become -1,
 * which link_admin refuses with its own invalid_status. */
static int status_of(const json_t *v)
{
	json_int_t n = json_integer_value(v);
	return n >= 1 && n <= 999 ? (int)n : -1;
}

/* A JSON integer or null into max_clicks. -1 is the store's "unlimited", so
 * every negative number becomes INT64_MIN, which link_admin refuses. */
static int64_t max_clicks_of(const json_t *v)
{
	json_int_t n;

	if (json_is_null(v))
		return LINK_NO_LIMIT;
	n = json_integer_value(v);
	return n < 0 ? INT64_MIN : (int64_t)n;
}

static int expires_of(const char *key, const json_t *v, int64_t *out, struct body_error *e)
{
	if (json_is_null(v)) {
		*out = LINK_NO_TIME;
		return 0;
	}
	if (!json_is_string(v))
		return wrong_type(e, key, "an RFC 3339 time string or null");
	if (rfc3339_parse(json_string_value(v), out) != 0)
		return body_refuse(e, "invalid_expires_at",
		                   "expires_at must be an RFC 3339 time like 2030-01-31T12:00:00Z");
	return 0;
}

/* A JSON string's text and length; false when v is not a string. */
static bool string_of(const json_t *v, const char **text, size_t *len)
{
	if (!json_is_string(v))
		return false;
	*text = json_string_value(v);
	*len = json_string_length(v);
	return true;
}

/* A link to create as decoded from JSON: the input and the tags it points
 * into (borrowed from the JSON value, which must outlive it). */
struct decoded_link {
	struct link_input in;
	const char **tags;
	size_t *tag_lens;
};

static void decoded_link_free(struct decoded_link *d)
{
	free(d->tags);
	free(d->tag_lens);
}

/* tags: an array of strings (or null: none) into d's tag list. */
static int decode_tags(const json_t *v, struct decoded_link *d, struct body_error *e)
{
	size_t n = json_array_size(v), i;
	json_t *t;

	if (json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return wrong_type(e, "tags", "an array of strings or null");
	d->tags = calloc(n != 0 ? n : 1, sizeof(*d->tags));
	d->tag_lens = calloc(n != 0 ? n : 1, sizeof(*d->tag_lens));
	if (d->tags == NULL || d->tag_lens == NULL) {
		body_refuse(e, "unavailable", "out of memory");
		e->status = 503;
		return -1;
	}
	json_array_foreach(v, i, t)
	{
		if (!string_of(t, &d->tags[i], &d->tag_lens[i]))
			return body_refuse(e, "invalid_type", "tags[%zu] must be a string", i);
	}
	d->in.tags = d->tags;
	d->in.tag_lens = d->tag_lens;
	d->in.n_tags = n;
	return 0;
}

static int decode_create(const json_t *obj, struct decoded_link *d, struct body_error *e)
{
	struct link_input *in = &d->in;
	const char *key;
	json_t *v;

	if (!json_is_object(obj))
		return body_refuse(e, "invalid_json", "a link must be a JSON object");
	json_object_foreach((json_t *)obj, key, v)
	{
		if (strcmp(key, "url") == 0) {
			if (!json_is_string(v))
				return wrong_type(e, key, "a string");
			in->url = json_string_value(v);
		} else if (strcmp(key, "code") == 0) {
			if (json_is_null(v))
				continue;
			if (!json_is_string(v))
				return wrong_type(e, key, "a string or null");
			in->code = json_string_value(v);
			if (in->code[0] == '\0')
				return body_refuse(e, "invalid_code", "%s",
				                   link_code_error_message(link_code_check(in->code)));
		} else if (strcmp(key, "status") == 0) {
			if (json_is_null(v))
				continue;
			if (!json_is_integer(v))
				return wrong_type(e, key, "an integer or null");
			in->status = status_of(v);
		} else if (strcmp(key, "expires_at") == 0) {
			if (expires_of(key, v, &in->expires_at, e) != 0)
				return -1;
		} else if (strcmp(key, "max_clicks") == 0) {
			if (!json_is_integer(v) && !json_is_null(v))
				return wrong_type(e, key, "an integer or null");
			in->max_clicks = max_clicks_of(v);
		} else if (strcmp(key, "forward_query") == 0 || strcmp(key, "reuse") == 0) {
			if (!json_is_boolean(v))
				return wrong_type(e, key, "true or false");
			if (key[0] == 'f')
				in->forward_query = json_is_true(v);
			else
				in->reuse = json_is_true(v);
		} else if (strcmp(key, "title") == 0) {
			if (json_is_null(v))
				continue;
			if (!string_of(v, &in->title, &in->title_len))
				return wrong_type(e, key, "a string or null");
		} else if (strcmp(key, "tags") == 0) {
			if (decode_tags(v, d, e) != 0)
				return -1;
		} else {
			return body_refuse(e, "unknown_field",
			                   "unknown field '%.64s' (a link is created from url, code, status, "
			                   "expires_at, max_clicks, forward_query, title, tags and reuse)",
			                   key);
		}
	}
	if (in->url == NULL)
		return body_refuse(e, "invalid_url", "url is required");
	return 0;
}

/* A link_admin refusal as a body_error. */
static int admin_refuse(struct body_error *e, const struct link_admin_error *err)
{
	e->status = err->http_status;
	e->code = err->code;
	snprintf(e->message, sizeof(e->message), "%s", err->message);
	return -1;
}

static int decode_patch(const json_t *obj, struct link_patch *p, struct body_error *e)
{
	struct link_admin_error err;
	const char *key, *text;
	size_t len, i;
	json_t *v, *t;

	p->fields = 0;
	json_object_foreach((json_t *)obj, key, v)
	{
		if (strcmp(key, "url") == 0) {
			if (!json_is_string(v))
				return wrong_type(e, key, "a string");
			if (json_string_length(v) > LINK_URL_MAX)
				return body_refuse(e, "invalid_url", "%s", url_error_message(URL_TOO_LONG));
			memcpy(p->url, json_string_value(v), json_string_length(v) + 1);
			p->fields |= PATCH_URL;
		} else if (strcmp(key, "status") == 0) {
			if (!json_is_integer(v))
				return wrong_type(e, key, "an integer");
			p->status = status_of(v);
			p->fields |= PATCH_STATUS;
		} else if (strcmp(key, "expires_at") == 0) {
			if (expires_of(key, v, &p->expires_at, e) != 0)
				return -1;
			p->fields |= PATCH_EXPIRES_AT;
		} else if (strcmp(key, "max_clicks") == 0) {
			if (!json_is_integer(v) && !json_is_null(v))
				return wrong_type(e, key, "an integer or null");
			p->max_clicks = max_clicks_of(v);
			p->fields |= PATCH_MAX_CLICKS;
		} else if (strcmp(key, "forward_query") == 0 || strcmp(key, "disabled") == 0) {
			if (!json_is_boolean(v))
				return wrong_type(e, key, "true or false");
			if (key[0] == 'f') {
				p->forward_query = json_is_true(v);
				p->fields |= PATCH_FORWARD_QUERY;
			} else {
				p->disabled = json_is_true(v);
				p->fields |= PATCH_DISABLED;
			}
		} else if (strcmp(key, "title") == 0) {
			text = "";
			len = 0;
			if (!json_is_null(v) && !string_of(v, &text, &len))
				return wrong_type(e, key, "a string or null");
			if (link_admin_patch_title(p, text, len, &err) != 0)
				return admin_refuse(e, &err);
		} else if (strcmp(key, "tags") == 0) {
			if (!json_is_array(v) && !json_is_null(v))
				return wrong_type(e, key, "an array of strings or null");
			p->fields |= PATCH_TAGS;
			p->n_tags = 0;
			json_array_foreach(v, i, t)
			{
				if (!string_of(t, &text, &len))
					return body_refuse(e, "invalid_type", "tags[%zu] must be a string", i);
				if (link_admin_patch_tag(p, text, len, i, &err) != 0)
					return admin_refuse(e, &err);
			}
		} else {
			return body_refuse(e, "unknown_field",
			                   "unknown field '%.64s' (an update may change url, status, expires_at, "
			                   "max_clicks, forward_query, disabled, title and tags)",
			                   key);
		}
	}
	return 0;
}

/* ---- handlers ---- */

/* An error about the index-th link of a bulk create: the usual error
 * object with "index". */
static void reply_error_at(struct http_response *resp, int status, const char *code, size_t index, const char *message)
{
	char text[256];

	snprintf(text, sizeof(text), "links[%zu]: %s", index, message);
	utf8_repair(text);
	reply_json(
	    resp, status,
	    json_pack("{s:{s:s, s:s, s:I}}", "error", "code", code, "message", text, "index", (json_int_t)index));
}

static json_t *reused_json(struct api *a, const struct link *l);

/*
 * POST /api/v1/links: one link (an object) or up to API_BULK_MAX (an
 * array), created all or none. A link with "reuse": true may be answered
 * by an identical one: 200 for a single link, and in the array as it is.
 */
static void handle_create(struct api *a, const struct http_request *req, const char *by, struct http_response *resp)
{
	struct decoded_link *d = NULL;
	struct link_input *in = NULL;
	struct store_new_link *out = NULL;
	struct link_admin_error err;
	struct url_self self;
	struct body_error e;
	struct link_json_text answer = {NULL, 0, 0, false};
	json_t *body = NULL;
	bool bulk;
	size_t n, i, bad;

	if (body_json(req, true, &body, &e) != 0) {
		reply_error(resp, e.status, e.code, "%s", e.message);
		return;
	}
	bulk = json_is_array(body);
	n = bulk ? json_array_size(body) : 1;
	if (bulk && (n == 0 || n > API_BULK_MAX)) {
		reply_error(resp, 400, "invalid_json", "a bulk create takes an array of 1 to %d links", API_BULK_MAX);
		goto out;
	}
	d = calloc(n, sizeof(*d));
	in = calloc(n, sizeof(*in));
	/* Not zeroed: 17 KiB a link, and link_admin fills what is read. */
	out = malloc(n * sizeof(*out));
	if (d == NULL || in == NULL || out == NULL) {
		reply_error(resp, 503, "unavailable", "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		d[i].in = (struct link_input){.expires_at = LINK_NO_TIME, .max_clicks = LINK_NO_LIMIT};
		if (decode_create(bulk ? json_array_get(body, i) : body, &d[i], &e) != 0) {
			if (bulk)
				reply_error_at(resp, e.status, e.code, i, e.message);
			else
				reply_error(resp, e.status, e.code, "%s", e.message);
			goto out;
		}
		d[i].in.by = by;
		in[i] = d[i].in;
	}
	config_url_self(a->cfg, &self);
	if (link_admin_create_batch(a->store, &self, a->cfg->default_status, req->now, in, n, out, &bad, &err) != 0) {
		if (bulk)
			reply_error_at(resp, err.http_status, err.code, bad, err.message);
		else
			reply_linkops_error(resp, &err);
		goto out;
	}
	/* The answer written as text, not as Jansson objects: 1,000 Links'
	 * objects cost more than storing them. */
	if (bulk)
		link_json_text_put(&answer, "[", 1);
	for (i = 0; i < n; i++) {
		if (i > 0)
			link_json_text_put(&answer, ",", 1);
		if (!out[i].reused) {
			link_json_write(&answer, &out[i].link, a->cfg->base_url, 0);
		} else {
			json_t *j = reused_json(a, &out[i].link);
			if (j == NULL || link_json_text_dump(&answer, j, JSON_COMPACT) != 0)
				answer.failed = true;
			json_decref(j);
		}
	}
	if (bulk)
		link_json_text_put(&answer, "]", 1);
	reply_text(resp, !bulk && out[0].reused ? 200 : 201, &answer);
out:
	for (i = 0; d != NULL && i < n; i++)
		decoded_link_free(&d[i]);
	free(d);
	free(in);
	free(out);
	json_decref(body);
}

struct read_call {
	struct api *a;
	const char *code;
	struct link *l;
	const struct link_patch *patch;
	int64_t now;
	struct link_admin_error err;
	json_t *result;
	int rc;
};

static int read_locked(void *ctx)
{
	struct read_call *c = ctx;

	c->rc = store_link_lookup(c->a->store, c->code, c->l);
	if (c->rc == STORE_OK)
		c->result = link_json(c->a, c->l);
	return 0;
}

/* A reused link as read now, with its exact clicks; as it was found when
 * it cannot be read again (deleted since). */
static json_t *reused_json(struct api *a, const struct link *l)
{
	struct read_call c = {.a = a, .code = l->code};

	c.l = malloc(sizeof(*c.l));
	if (c.l == NULL)
		return NULL;
	run_locked(a, read_locked, &c);
	free(c.l);
	return c.rc == STORE_OK ? c.result : link_json(a, l);
}

static int update_locked(void *ctx)
{
	struct read_call *c = ctx;
	struct url_self self;

	config_url_self(c->a->cfg, &self);
	c->rc = link_admin_update(c->a->store, &self, c->code, c->patch, c->now, c->l, &c->err);
	if (c->rc == 0)
		c->result = link_json(c->a, c->l);
	return 0;
}

static void handle_read(struct api *a, const char *code, struct http_response *resp)
{
	struct read_call c = {.a = a, .code = code};
	struct link_admin_error err;

	c.l = malloc(sizeof(*c.l));
	if (c.l == NULL) {
		reply_error(resp, 503, "unavailable", "out of memory");
		return;
	}
	run_locked(a, read_locked, &c);
	if (c.rc == STORE_OK) {
		reply_json(resp, 200, c.result);
	} else {
		link_admin_store_error(c.rc, &err);
		reply_linkops_error(resp, &err);
	}
	free(c.l);
}

static void handle_update(struct api *a, const struct http_request *req, const char *code, const char *by,
                          struct http_response *resp)
{
	struct read_call c = {.a = a, .code = code, .now = req->now};
	struct link_patch *p = malloc(sizeof(*p));
	struct body_error e;
	json_t *obj = NULL;

	c.l = malloc(sizeof(*c.l));
	if (p == NULL || c.l == NULL) {
		reply_error(resp, 503, "unavailable", "out of memory");
		goto out;
	}
	if (body_json(req, false, &obj, &e) != 0 || decode_patch(obj, p, &e) != 0) {
		reply_error(resp, e.status, e.code, "%s", e.message);
		goto out;
	}
	snprintf(p->by, sizeof(p->by), "%s", by);
	c.patch = p;
	run_locked(a, update_locked, &c);
	if (c.rc == 0)
		reply_json(resp, 200, c.result);
	else
		reply_linkops_error(resp, &c.err);
out:
	json_decref(obj);
	free(c.l);
	free(p);
}

static void handle_delete(struct api *a, const char *code, struct http_response *resp)
{
	struct link_admin_error err;
	int rc = store_link_delete(a->store, code);

	if (rc == STORE_OK) {
		reply_no_content(resp);
		return;
	}
	link_admin_store_error(rc, &err);
	reply_linkops_error(resp, &err);
}

struct list_call {
	struct api *a;
	int64_t after;
	int limit;
	int n;
	int64_t last_id;
	bool more;
	bool oom;
	json_t *items;
	int rc;
	struct link_filter filter;
	bool filtered;
	char *url, *q; /* decoded, owned */
	char *tags[LINK_TAGS_MAX];
};

static int list_item(const struct link *l, void *ctx)
{
	struct list_call *c = ctx;

	if (c->n == c->limit) {
		c->more = true;
		return 1;
	}
	if (json_array_append_new(c->items, link_json(c->a, l)) != 0) {
		c->oom = true;
		return 1;
	}
	c->n++;
	c->last_id = l->id;
	return 0;
}

static int list_locked(void *ctx)
{
	struct list_call *c = ctx;

	/* One row past the page says whether a next page exists. */
	if (c->filtered)
		c->rc = store_link_find(c->a->store, &c->filter, c->after, c->limit + 1, list_item, c);
	else
		c->rc = store_link_list(c->a->store, c->after, c->limit + 1, list_item, c);
	return 0;
}

static void list_call_free(struct list_call *c)
{
	free(c->url);
	free(c->q);
	for (size_t i = 0; i < c->filter.n_tags; i++)
		free(c->tags[i]);
}

/* The raw value [v, v + n) percent-decoded into a new string; NULL when
 * malformed (or out of memory: the caller answers 400 either way). */
static char *query_dup(const char *v, size_t n)
{
	char *out = malloc(n + 1);

	if (out != NULL && query_decode(v, n, out, n + 1) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/*
 * Reads one parameter of the list's query into c: limit, cursor, url, q and
 * tag (repeatable); anything else is refused, so that a misspelt filter is
 * not a list of every link. 0, or -1 with the answer in resp.
 */
static int list_param(struct list_call *c, const char *name, size_t name_len, const char *v, size_t n,
                      struct http_response *resp)
{
	char value[QUERY_VALUE_MAX];
	char *text;
	uint64_t limit;

#define IS(word) (name_len == sizeof(word) - 1 && memcmp(name, word, name_len) == 0)
	if (IS("limit")) {
		if (query_decode(v, n, value, sizeof(value)) != 0 ||
		    num_parse(value, 1, API_LIST_MAX, &limit) != NUM_OK) {
			reply_error(resp, 400, "invalid_limit", "limit must be a whole number from 1 to %d",
			            API_LIST_MAX);
			return -1;
		}
		c->limit = (int)limit;
		return 0;
	}
	if (IS("cursor")) {
		if (query_decode(v, n, value, sizeof(value)) != 0 || cursor_decode(value, &c->after) != 0) {
			reply_error(resp, 400, "invalid_cursor", "cursor is not one this server gave out");
			return -1;
		}
		return 0;
	}
	if (!IS("url") && !IS("q") && !IS("tag")) {
		reply_error(resp, 400, "invalid_parameter",
		            "unknown query parameter '%.*s' (the list takes limit, cursor, url, q and tag)",
		            (int)(name_len < 64 ? name_len : 64), name);
		return -1;
	}
	text = query_dup(v, n);
	if (text == NULL) {
		reply_error(resp, 400, "invalid_parameter", "%.*s: not a well-formed query value", (int)name_len, name);
		return -1;
	}
	if (IS("url")) {
		enum url_error ue;
		free(c->url);
		c->url = malloc(LINK_URL_MAX + 1);
		ue = c->url != NULL ? url_normalize(text, NULL, c->url, LINK_URL_MAX + 1) : URL_TOO_LONG;
		free(text);
		if (ue != URL_OK) {
			reply_error(resp, 400, "invalid_parameter", "url: %s", url_error_message(ue));
			return -1;
		}
		c->filter.url = c->url;
	} else if (IS("q")) {
		size_t len = strlen(text);
		free(c->q);
		c->q = text;
		if (len > API_QUERY_MAX || link_title_check(text, len) != LINK_LABEL_OK) {
			reply_error(resp, 400, "invalid_parameter",
			            "q must be at most %d bytes of UTF-8 text without control characters",
			            API_QUERY_MAX);
			return -1;
		}
		c->filter.q = len > 0 ? c->q : NULL;
	} else {
		enum link_label_error le = link_tag_check(text, strlen(text));
		if (le != LINK_LABEL_OK || c->filter.n_tags == LINK_TAGS_MAX) {
			free(text);
			reply_error(resp, 400, "invalid_parameter", "tag: %s",
			            le != LINK_LABEL_OK ? link_label_error_message(le) : "at most 32 tags");
			return -1;
		}
		c->tags[c->filter.n_tags++] = text;
		c->filter.tags = (const char *const *)c->tags;
	}
#undef IS
	c->filtered = c->filter.url != NULL || c->filter.q != NULL || c->filter.n_tags > 0;
	return 0;
}

static void handle_list(struct api *a, const struct http_request *req, struct http_response *resp)
{
	struct list_call c = {.a = a, .limit = API_LIST_DEFAULT};
	char cursor[CURSOR_MAX];
	struct link_admin_error err;
	json_t *next;

	for (const char *p = req->query; p != NULL && *p != '\0';) {
		const char *end = strchr(p, '&');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
		const char *eq = memchr(p, '=', len);
		size_t key_len = eq != NULL ? (size_t)(eq - p) : len;
		const char *v = eq != NULL ? eq + 1 : p + len;

		if (len > 0 && list_param(&c, p, key_len, v, (size_t)(p + len - v), resp) != 0)
			goto out;
		p = end != NULL ? end + 1 : NULL;
	}
	c.items = json_array();
	if (c.items == NULL) {
		reply_error(resp, 503, "unavailable", "out of memory");
		goto out;
	}
	run_locked(a, list_locked, &c);
	if (c.rc != STORE_OK || c.oom) {
		json_decref(c.items);
		link_admin_store_error(c.oom ? STORE_ERROR : c.rc, &err);
		reply_linkops_error(resp, &err);
		goto out;
	}
	next = json_null();
	if (c.more && cursor_encode(c.last_id, cursor, sizeof(cursor)) == 0)
		next = json_string(cursor);
	reply_json(resp, 200, json_pack("{s:o, s:o}", "items", c.items, "next_cursor", next));
out:
	list_call_free(&c);
}

struct stats_call {
	struct api *a;
	const char *code;
	int64_t since; /* first day shown */
	int days;
	struct link *l;
	struct store_daily daily[API_STATS_DAYS_MAX];
	size_t n_daily;
	struct store_referrer referrers[API_STATS_REFERRERS];
	size_t n_referrers;
	int64_t pending_human, pending_bot, pending_last;
	int rc;
};

static int stats_locked(void *ctx)
{
	struct stats_call *c = ctx;

	/* Write what is pending first, so the daily and referrer tables hold
	 * every click so far; what arrives after is added from memory. */
	if (c->a->clicks != NULL)
		clicks_flush(c->a->clicks);
	c->rc = store_link_lookup(c->a->store, c->code, c->l);
	if (c->rc == STORE_OK)
		c->rc = store_link_daily(c->a->store, c->l->id, c->since, c->daily, (size_t)c->days, &c->n_daily);
	if (c->rc == STORE_OK)
		c->rc = store_link_referrers(c->a->store, c->l->id, c->since, c->referrers, API_STATS_REFERRERS,
		                             &c->n_referrers);
	if (c->rc == STORE_OK)
		pending_of(c->a, c->l->id, &c->pending_human, &c->pending_bot, &c->pending_last);
	return 0;
}

static json_t *stats_json(const struct stats_call *c, int64_t today)
{
	json_t *daily = json_array(), *refs = json_array();
	int64_t last = c->l->last_click_at;
	size_t k = 0;

	if (daily == NULL || refs == NULL)
		goto fail;
	for (int64_t day = c->since; day <= today; day++) {
		char date[11];
		int64_t human = 0, bot = 0;
		while (k < c->n_daily && c->daily[k].day < day)
			k++;
		if (k < c->n_daily && c->daily[k].day == day) {
			human = c->daily[k].clicks;
			bot = c->daily[k].bot_clicks;
		}
		if (day == today) {
			human += c->pending_human;
			bot += c->pending_bot;
		}
		rfc3339_date(day * 86400, date);
		if (json_array_append_new(daily, json_pack("{s:s, s:I, s:I}", "date", date, "clicks", (json_int_t)human,
		                                           "bot_clicks", (json_int_t)bot)) != 0)
			goto fail;
	}
	for (size_t i = 0; i < c->n_referrers; i++) {
		if (json_array_append_new(refs, json_pack("{s:s, s:I}", "host", c->referrers[i].host, "clicks",
		                                          (json_int_t)c->referrers[i].clicks)) != 0)
			goto fail;
	}
	if (c->pending_last != LINK_NO_TIME && (last == LINK_NO_TIME || c->pending_last > last))
		last = c->pending_last;
	return json_pack("{s:s, s:I, s:I, s:o, s:i, s:o, s:o}", "code", c->l->code, "clicks",
	                 (json_int_t)(c->l->clicks + c->pending_human), "bot_clicks",
	                 (json_int_t)(c->l->bot_clicks + c->pending_bot), "last_click_at", link_json_time_or_null(last),
	                 "days", c->days, "daily", daily, "referrers", refs);
fail:
	json_decref(daily);
	json_decref(refs);
	return NULL;
}

static void handle_stats(struct api *a, const struct http_request *req, const char *code, struct http_response *resp)
{
	struct stats_call *c = calloc(1, sizeof(*c));
	struct link_admin_error err;
	char value[QUERY_VALUE_MAX];
	int64_t today = rfc3339_day_of(req->now);
	uint64_t days = API_STATS_DAYS_DEFAULT;
	int found;

	if (c == NULL || (c->l = malloc(sizeof(*c->l))) == NULL) {
		reply_error(resp, 503, "unavailable", "out of memory");
		goto out;
	}
	found = query_param(req->query, "days", value, sizeof(value));
	if (found != 0 && (found < 0 || num_parse(value, 1, API_STATS_DAYS_MAX, &days) != NUM_OK)) {
		reply_error(resp, 400, "invalid_days", "days must be a whole number from 1 to %d", API_STATS_DAYS_MAX);
		goto out;
	}
	c->a = a;
	c->code = code;
	c->days = (int)days;
	c->since = today - c->days + 1;
	run_locked(a, stats_locked, c);
	if (c->rc != STORE_OK) {
		link_admin_store_error(c->rc, &err);
		reply_linkops_error(resp, &err);
		goto out;
	}
	reply_json(resp, 200, stats_json(c, today));
out:
	if (c != NULL)
		free(c->l);
	free(c);
}

/* Reads a whole-number query parameter in [min, max] into *out (left as it
 * is when absent); false when present and malformed or out of bounds. */
static bool query_whole(const char *query, const char *name, uint64_t min, uint64_t max, uint64_t *out)
{
	char value[QUERY_VALUE_MAX];
	int found = query_param(query, name, value, sizeof(value));

	return found == 0 || (found > 0 && num_parse(value, min, max, out) == NUM_OK);
}

/* GET /api/v1/links/{code}/qr?format=svg|png&size=N&margin=M: the short
 * URL as a QR code, drawn by qr.c. */
static void handle_qr(struct api *a, const struct http_request *req, const char *code, struct http_response *resp)
{
	char value[QUERY_VALUE_MAX], short_url[1200];
	uint64_t size = QR_SIZE_DEFAULT, margin = QR_MARGIN_DEFAULT;
	enum qr_format format = QR_SVG;
	struct link_admin_error err;
	struct link *l;
	char *image;
	size_t len;
	int rc, found;

	found = query_param(req->query, "format", value, sizeof(value));
	if (found != 0 && (found < 0 || qr_format_parse(value, &format) != 0)) {
		reply_error(resp, 400, "invalid_format", "format must be svg or png");
		return;
	}
	if (!query_whole(req->query, "size", QR_SIZE_MIN, QR_SIZE_MAX, &size)) {
		reply_error(resp, 400, "invalid_size", "size must be a whole number of pixels per module from %d to %d",
		            QR_SIZE_MIN, QR_SIZE_MAX);
		return;
	}
	if (!query_whole(req->query, "margin", 0, QR_MARGIN_MAX, &margin)) {
		reply_error(resp, 400, "invalid_margin", "margin must be a whole number of modules from 0 to %d",
		            QR_MARGIN_MAX);
		return;
	}
	if ((l = malloc(sizeof(*l))) == NULL) {
		reply_error(resp, 503, "unavailable", "out of memory");
		return;
	}
	rc = store_link_lookup(a->store, code, l);
	if (rc == STORE_OK && link_json_short_url(a->cfg->base_url, l->code, short_url, sizeof(short_url)) != 0)
		rc = STORE_ERROR;
	free(l);
	if (rc != STORE_OK) {
		link_admin_store_error(rc, &err);
		reply_linkops_error(resp, &err);
		return;
	}
	if (qr_render(short_url, format, (int)size, (int)margin, &image, &len) != 0) {
		reply_error(resp, 500, "internal", "the short URL could not be drawn as a QR code");
		return;
	}
	reply_headers(resp, 200);
	resp->content_type = qr_content_type(format);
	resp->body_heap = image;
	resp->body_len = len;
}

/* ---- tokens: /api/v1/tokens[/{id}], admin tokens only ---- */

struct token_list_call {
	struct api *a;
	json_t *items;
	bool oom;
};

/* A token's JSON: never its secret or its hash. last_used_at counts the
 * use not yet written too. */
static json_t *token_json(struct api *a, const struct store_token *t)
{
	int64_t last = t->last_used_at;
	int64_t pending = a->clicks != NULL ? clicks_token_pending(a->clicks, t->id) : LINK_NO_TIME;

	if (pending != LINK_NO_TIME && (last == LINK_NO_TIME || pending > last))
		last = pending;
	return json_pack("{s:I, s:s, s:s, s:o, s:o}", "id", (json_int_t)t->id, "name", t->name, "role",
	                 t->role == STORE_ROLE_ADMIN ? "admin" : "read", "created_at",
	                 link_json_time_or_null(t->created_at), "last_used_at", link_json_time_or_null(last));
}

static int token_list_item(const struct store_token *t, void *ctx)
{
	struct token_list_call *c = ctx;

	if (json_array_append_new(c->items, token_json(c->a, t)) != 0) {
		c->oom = true;
		return 1;
	}
	return 0;
}

/* ---- export: every link, streamed a page at a time ---- */

struct export_stream {
	struct http_stream base; /* first: the sender holds a pointer to it */
	struct api *a;
	enum link_io_format format;
	int64_t after;         /* the last id written */
	int in_page;           /* links read in the page being read */
	bool header_done, end; /* the header is written; the last page is read */
	int rc;
	struct link copy; /* a link with its pending clicks added */
	struct link_io_buf buf;
	size_t off; /* bytes of buf already sent */
};

static int export_item(const struct link *l, void *ctx)
{
	struct export_stream *st = ctx;
	int64_t human, bot, last;

	st->copy = *l;
	pending_of(st->a, l->id, &human, &bot, &last);
	st->copy.clicks += human;
	st->copy.bot_clicks += bot;
	if (last != LINK_NO_TIME && (st->copy.last_click_at == LINK_NO_TIME || last > st->copy.last_click_at))
		st->copy.last_click_at = last;
	st->after = l->id;
	st->in_page++;
	if (link_io_export_link(st->format, &st->copy, st->a->cfg->base_url, &st->buf) != 0) {
		st->rc = STORE_ERROR;
		return 1;
	}
	return 0;
}

static void handle_token_list(struct api *a, struct http_response *resp)
{
	struct token_list_call c = {.a = a, .items = json_array()};
	int rc;

	if (c.items == NULL) {
		reply_error(resp, 503, "unavailable", "out of memory");
		return;
	}
	rc = store_token_list(a->store, token_list_item, &c);
	if (rc != STORE_OK || c.oom) {
		json_decref(c.items);
		reply_error(resp, 503, "unavailable", "the tokens could not be listed: %s",
		            c.oom ? "out of memory" : store_status_message(rc));
		return;
	}
	reply_json(resp, 200, json_pack("{s:o}", "items", c.items));
}

static int decode_token_create(const json_t *obj, const char **name, enum store_role *role, struct body_error *e)
{
	const char *key, *r = NULL;
	json_t *v;

	*name = NULL;
	json_object_foreach((json_t *)obj, key, v)
	{
		if (strcmp(key, "name") == 0) {
			if (!json_is_string(v))
				return wrong_type(e, key, "a string");
			*name = json_string_value(v);
		} else if (strcmp(key, "role") == 0) {
			if (!json_is_string(v))
				return wrong_type(e, key, "a string");
			r = json_string_value(v);
		} else {
			return body_refuse(e, "unknown_field",
			                   "unknown field '%.64s' (a token is created from name and role)", key);
		}
	}
	if (*name == NULL || !auth_token_name_ok(*name))
		return body_refuse(e, "invalid_name", "name must be 1 to %d printable ASCII characters without spaces",
		                   STORE_TOKEN_NAME_MAX);
	if (r == NULL || (strcmp(r, "admin") != 0 && strcmp(r, "read") != 0))
		return body_refuse(e, "invalid_role", "role must be \"admin\" or \"read\"");
	*role = strcmp(r, "admin") == 0 ? STORE_ROLE_ADMIN : STORE_ROLE_READ_ONLY;
	return 0;
}

/* POST /api/v1/tokens: 201 with the token's secret, the only time it is
 * ever shown; only its hash is kept. */
static void handle_token_create(struct api *a, const struct http_request *req, struct http_response *resp)
{
	char secret[AUTH_TOKEN_LEN + 1];
	unsigned char hash[STORE_TOKEN_HASH_LEN];
	struct store_token t;
	enum store_role role = STORE_ROLE_READ_ONLY;
	struct body_error e;
	const char *name;
	json_t *obj = NULL, *j;
	int rc;

	if (body_json(req, false, &obj, &e) != 0 || decode_token_create(obj, &name, &role, &e) != 0) {
		reply_error(resp, e.status, e.code, "%s", e.message);
		goto out;
	}
	auth_token_generate(secret, hash);
	rc = store_token_add(a->store, name, hash, role, req->now);
	if (rc == STORE_OK && (rc = store_token_find(a->store, hash, &t)) != STORE_OK)
		store_token_revoke(a->store, name); /* its secret cannot be shown: not kept */
	if (rc == STORE_CONFLICT) {
		reply_error(resp, 409, "name_taken", "a token named '%s' exists", name);
	} else if (rc != STORE_OK) {
		reply_error(resp, 503, "unavailable", "the token could not be stored: %s", store_status_message(rc));
	} else {
		j = token_json(a, &t);
		if (j != NULL && json_object_set_new(j, "token", json_string(secret)) != 0) {
			json_decref(j);
			j = NULL;
		}
		if (j == NULL)
			store_token_revoke_id(a->store, t.id, false); /* nobody will see it: not kept */
		reply_json(resp, 201, j);
	}
	sodium_memzero(secret, sizeof(secret));
	sodium_memzero(hash, sizeof(hash));
	sodium_memzero(t.hash, sizeof(t.hash));
out:
	json_decref(obj);
}

/* DELETE /api/v1/tokens/{name}: 204. The name, as the CLI's, is unique
 * among the tokens that exist: the token revoked is the one that has it
 * now. The last admin token is kept (409) unless a fixed admin token
 * (SHORTD_ADMIN_TOKEN) still opens the API. */
static void handle_token_revoke(struct api *a, const char *name, struct http_response *resp)
{
	int rc = store_token_revoke_name(a->store, name, !a->has_fixed);

	if (rc == STORE_OK)
		reply_no_content(resp);
	else if (rc == STORE_NOT_FOUND)
		reply_error(resp, 404, "not_found", "no token has this name"); /* not echoed: it may be a secret */
	else if (rc == STORE_CONFLICT)
		reply_error(resp, 409, "last_admin_token",
		            "this is the last admin token; create another admin token before revoking it");
	else
		reply_error(resp, 503, "unavailable", "the token could not be revoked: %s", store_status_message(rc));
}

/* The same gates as the links' in the same order: route, method, role,
 * query (none is taken: a filter typed here is refused, not ignored), size,
 * media type, then the body. */
static void handle_tokens(struct api *a, const struct http_request *req, enum store_role role,
                          struct http_response *resp)
{
	const char *rest = req->path + sizeof(TOKENS_PREFIX) - 1;
	bool collection = rest[0] == '\0';
	const char *allow = collection ? "GET, HEAD, POST" : "DELETE";

	/* The rest of the decoded path is the name: a name holding '/' is
	 * reached as "a/b" or "a%2Fb" alike. */
	if (!collection && !auth_token_name_ok(rest + 1)) {
		reply_error(resp, 404, "not_found",
		            "no such endpoint (a token is /api/v1/tokens/{name}, its name of 1 to %d printable "
		            "ASCII characters without spaces)",
		            STORE_TOKEN_NAME_MAX);
		return;
	}
	if (collection ? req->method != HTTP_GET && req->method != HTTP_HEAD && req->method != HTTP_POST
	               : req->method != HTTP_DELETE) {
		reply_error(resp, 405, "method_not_allowed", "%s is not allowed here; use %s", req->method_name, allow);
		resp->allow = allow;
		return;
	}
	if (role != STORE_ROLE_ADMIN) {
		reply_error(resp, 403, "forbidden", "tokens are managed with an admin token; this one is read-only");
		return;
	}
	if (req->query != NULL && req->query[0] != '\0') {
		reply_error(resp, 400, "invalid_parameter", "%s takes no query parameters", TOKENS_PREFIX);
		return;
	}
	if (req->body_too_large) {
		reply_error(resp, 413, "payload_too_large", "the request body is over %d bytes", API_BODY_MAX);
		return;
	}
	if (req->method == HTTP_POST && !is_json_media_type(req->content_type)) {
		reply_error(resp, 415, "unsupported_media_type", "send the body as Content-Type: application/json");
		return;
	}
	if (!collection)
		handle_token_revoke(a, rest + 1, resp);
	else if (req->method == HTTP_POST)
		handle_token_create(a, req, resp);
	else
		handle_token_list(a, resp);
}

/* GET /api/v1/openapi.json: the document, without a token; it describes
 * the API, nothing of this server's data. */
static void handle_openapi(const struct http_request *req, struct http_response *resp)
{
	if (req->method != HTTP_GET && req->method != HTTP_HEAD) {
		reply_error(resp, 405, "method_not_allowed", "%s is not allowed here; use GET, HEAD", req->method_name);
		resp->allow = "GET, HEAD";
		return;
	}
	reply_headers(resp, 200);
	resp->cache_control = "no-cache";
	resp->content_type = "application/json";
	resp->body = api_openapi_json;
	resp->body_len = api_openapi_json_len;
}

static int export_page_locked(void *ctx)
{
	struct export_stream *st = ctx;
	int rc;

	st->in_page = 0;
	st->rc = STORE_OK;
	rc = store_link_list(st->a->store, st->after, EXPORT_PAGE, export_item, st);
	if (st->rc == STORE_OK)
		st->rc = rc;
	return 0;
}

static ssize_t export_read(struct http_stream *s, char *buf, size_t max)
{
	struct export_stream *st = (struct export_stream *)s;
	size_t n;

	while (st->off == st->buf.len) {
		if (st->end)
			return 0;
		st->buf.len = 0;
		st->off = 0;
		if (!st->header_done) {
			st->header_done = true;
			if (link_io_export_header(st->format, &st->buf) != 0)
				return -1;
			continue;
		}
		run_locked(st->a, export_page_locked, st);
		if (st->rc != STORE_OK) {
			fprintf(stderr, "shortd: export: links after id %" PRId64 ": %s\n", st->after,
			        store_status_message(st->rc));
			return -1;
		}
		st->end = st->in_page < EXPORT_PAGE;
	}
	n = st->buf.len - st->off < max ? st->buf.len - st->off : max;
	memcpy(buf, st->buf.data + st->off, n);
	st->off += n;
	return (ssize_t)n;
}

static void export_free(struct http_stream *s)
{
	struct export_stream *st = (struct export_stream *)s;

	link_io_buf_free(&st->buf);
	free(st);
}

/* True when every parameter of the query is named in names (NULL-ended);
 * else false with the first other name in bad. */
static bool query_only(const char *query, const char *const *names, char *bad, size_t badsize)
{
	for (const char *p = query; p != NULL && *p != '\0';) {
		const char *end = strchr(p, '&');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
		const char *eq = memchr(p, '=', len);
		size_t key_len = eq != NULL ? (size_t)(eq - p) : len;
		bool known = false;

		for (const char *const *n = names; *n != NULL; n++)
			known = known || (strlen(*n) == key_len && memcmp(p, *n, key_len) == 0);
		if (!known && key_len > 0) {
			snprintf(bad, badsize, "%.*s", (int)(key_len < 64 ? key_len : 64), p);
			return false;
		}
		p = end != NULL ? end + 1 : NULL;
	}
	return true;
}

/* GET /api/v1/links/export?format=jsonl|csv: every link with its counts,
 * as `shortd export` writes them, streamed. */
static void handle_export(struct api *a, const struct http_request *req, struct http_response *resp)
{
	static const char *const params[] = {"format", NULL};
	static const char *const jsonl_headers[] = {"Content-Disposition", "attachment; filename=\"links.jsonl\"",
	                                            NULL};
	static const char *const csv_headers[] = {"Content-Disposition", "attachment; filename=\"links.csv\"", NULL};
	enum link_io_format format = LINK_IO_JSONL;
	char value[QUERY_VALUE_MAX];
	struct export_stream *st;
	int found;

	if (!query_only(req->query, params, value, sizeof(value))) {
		utf8_repair(value);
		reply_error(resp, 400, "invalid_parameter", "unknown parameter '%s' (export takes format)", value);
		return;
	}
	found = query_param(req->query, "format", value, sizeof(value));
	if (found != 0 && (found < 0 || link_io_format_parse(value, &format) != 0)) {
		reply_error(resp, 400, "invalid_format", "format must be jsonl or csv");
		return;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		reply_error(resp, 503, "unavailable", "out of memory");
		return;
	}
	st->base.read = export_read;
	st->base.free = export_free;
	st->a = a;
	st->format = format;
	reply_headers(resp, 200);
	resp->content_type = format == LINK_IO_CSV ? "text/csv; charset=utf-8; header=present" : "application/jsonl";
	resp->headers = format == LINK_IO_CSV ? csv_headers : jsonl_headers;
	resp->stream = &st->base;
}

/* ---- the gates ---- */

/* Checks the token and names its holder in name; a token of the store
 * that passes has its use recorded (written by the click flusher, never
 * here). */
static bool authorised(struct api *a, const struct http_request *req, struct http_response *resp, enum store_role *role,
                       char name[STORE_TOKEN_NAME_MAX + 1])
{
	int64_t token_id = 0;

	switch (auth_check(a->store, a->has_fixed ? a->fixed_hash : NULL, req->authorization, role, &token_id, name)) {
	case AUTH_OK:
		if (token_id != 0 && a->clicks != NULL)
			clicks_token_used(a->clicks, token_id, req->now);
		return true;
	case AUTH_MISSING:
		reply_error(resp, 401, "unauthorized", "send a token as 'Authorization: Bearer TOKEN'");
		resp->www_authenticate = "Bearer realm=\"shortd\"";
		return false;
	case AUTH_INVALID:
		reply_error(resp, 401, "unauthorized", "the token is not valid (wrong or revoked)");
		resp->www_authenticate = "Bearer realm=\"shortd\", error=\"invalid_token\"";
		return false;
	default:
		reply_error(resp, 503, "unavailable", "the token store is unavailable; try again");
		return false;
	}
}

void api_handle(struct api *a, const struct http_request *req, struct http_response *resp)
{
	char code[LINK_CODE_MAX + 1], who[STORE_TOKEN_NAME_MAX + 1];
	enum store_role role;
	enum api_route route;
	bool writes;

	if (strcmp(req->path, OPENAPI_PATH) == 0) {
		handle_openapi(req, resp);
		return;
	}
	if (!authorised(a, req, resp, &role, who))
		return;
	if (strncmp(req->path, TOKENS_PREFIX, sizeof(TOKENS_PREFIX) - 1) == 0 &&
	    (req->path[sizeof(TOKENS_PREFIX) - 1] == '\0' || req->path[sizeof(TOKENS_PREFIX) - 1] == '/')) {
		handle_tokens(a, req, role, resp);
		return;
	}
	route = route_of(req->path, code, sizeof(code));
	/* Only GET (and HEAD) of /api/v1/links/export is the export: a link
	 * named "export" before the code was kept is changed and deleted there. */
	if (route == ROUTE_EXPORT && (req->method == HTTP_PATCH || req->method == HTTP_DELETE)) {
		route = ROUTE_LINK;
		snprintf(code, sizeof(code), "export");
	}
	if (route == ROUTE_NONE) {
		reply_error(resp, 404, "not_found", "no such endpoint (see /api/v1/links)");
		return;
	}
	if (!method_allowed(route, req->method)) {
		reply_error(resp, 405, "method_not_allowed", "%s is not allowed here; use %s", req->method_name,
		            allowed_methods(route));
		resp->allow = allowed_methods(route);
		return;
	}
	writes = req->method != HTTP_GET && req->method != HTTP_HEAD;
	if (writes && role != STORE_ROLE_ADMIN) {
		reply_error(resp, 403, "forbidden", "this token is read-only");
		return;
	}
	/* An export holds every link: for admin tokens only. */
	if (route == ROUTE_EXPORT && role != STORE_ROLE_ADMIN) {
		reply_error(resp, 403, "forbidden", "exporting the links needs an admin token");
		return;
	}
	if (req->body_too_large) {
		reply_error(resp, 413, "payload_too_large", "the request body is over %d bytes", API_BODY_MAX);
		return;
	}
	if ((req->method == HTTP_POST || req->method == HTTP_PATCH) && !is_json_media_type(req->content_type)) {
		reply_error(resp, 415, "unsupported_media_type", "send the body as Content-Type: application/json");
		return;
	}
	switch (route) {
	case ROUTE_COLLECTION:
		if (req->method == HTTP_POST)
			handle_create(a, req, who, resp);
		else
			handle_list(a, req, resp);
		return;
	case ROUTE_LINK:
		if (req->method == HTTP_PATCH)
			handle_update(a, req, code, who, resp);
		else if (req->method == HTTP_DELETE)
			handle_delete(a, code, resp);
		else
			handle_read(a, code, resp);
		return;
	case ROUTE_QR:
		handle_qr(a, req, code, resp);
		return;
	case ROUTE_EXPORT:
		handle_export(a, req, resp);
		return;
	default:
		handle_stats(a, req, code, resp);
		return;
	}
}
