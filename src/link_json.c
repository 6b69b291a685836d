/*
 * Link -> JSON. Times are RFC 3339 UTC; absent options are null.
 */
#include "link_json.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rfc3339.h"

json_t *link_json_time_or_null(int64_t t)
{
	char buf[RFC3339_LEN + 1];

	if (t == LINK_NO_TIME)
		return json_null();
	rfc3339_format(t, buf);
	return json_string(buf);
}

int link_json_text_put(struct link_json_text *t, const char *piece, size_t size)
{
	if (t->failed)
		return -1;
	if (size >= t->cap - t->len) { /* and room for the NUL */
		size_t cap = t->cap != 0 ? t->cap : 256;
		char *grown;
		while (size >= cap - t->len)
			cap *= 2;
		grown = realloc(t->data, cap);
		if (grown == NULL) {
			t->failed = true;
			return -1;
		}
		t->data = grown;
		t->cap = cap;
	}
	memcpy(t->data + t->len, piece, size);
	t->len += size;
	t->data[t->len] = '\0';
	return 0;
}

static int dump_append(const char *piece, size_t size, void *ctx)
{
	return link_json_text_put(ctx, piece, size);
}

int link_json_text_dump(struct link_json_text *t, const json_t *j, size_t flags)
{
	if (json_dump_callback(j, dump_append, t, flags) != 0)
		t->failed = true;
	return t->failed ? -1 : 0;
}

char *link_json_dumps(const json_t *j, size_t flags)
{
	struct link_json_text t = {NULL, 0, 0, false};

	if (link_json_text_dump(&t, j, flags) != 0 || t.data == NULL) {
		free(t.data);
		return NULL;
	}
	return t.data;
}

/* The length of the UTF-8 sequence at s (n bytes left) that Jansson's
 * json_string accepts, or 0: no overlong form, surrogate or code point
 * above U+10FFFF. */
static size_t utf8_length(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t len;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1fu;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0fu;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07u;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Appends s as a JSON string, escaped as Jansson's compact dump escapes it;
 * -1 (t failed) when s is not UTF-8. */
static int put_string(struct link_json_text *t, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s, *run = p;
	size_t left = strlen(s);

	if (link_json_text_put(t, "\"", 1) != 0)
		return -1;
	while (left > 0) {
		char esc[6] = {'\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 0xf]};
		size_t esc_len = 6, len = 1;

		if (*p >= 0x80) {
			if ((len = utf8_length(p, left)) == 0) {
				t->failed = true;
				return -1;
			}
			p += len;
			left -= len;
			continue;
		}
		if (*p >= 0x20 && *p != '"' && *p != '\\') {
			p++;
			left--;
			continue;
		}
		switch (*p) {
		case '"':
		case '\\':
			esc[1] = (char)*p;
			esc_len = 2;
			break;
		case '\b':
			esc[1] = 'b';
			esc_len = 2;
			break;
		case '\f':
			esc[1] = 'f';
			esc_len = 2;
			break;
		case '\n':
			esc[1] = 'n';
			esc_len = 2;
			break;
		case '\r':
			esc[1] = 'r';
			esc_len = 2;
			break;
		case '\t':
			esc[1] = 't';
			esc_len = 2;
			break;
		default:
			break;
		}
		if (link_json_text_put(t, (const char *)run, (size_t)(p - run)) != 0 ||
		    link_json_text_put(t, esc, esc_len) != 0)
			return -1;
		p++;
		left--;
		run = p;
	}
	if (link_json_text_put(t, (const char *)run, (size_t)(p - run)) != 0)
		return -1;
	return link_json_text_put(t, "\"", 1);
}

/* Appends key and a string value, or null for "" when empty_null. */
static int put_text(struct link_json_text *t, const char *key, const char *s, bool empty_null)
{
	if (link_json_text_put(t, key, strlen(key)) != 0)
		return -1;
	return empty_null && s[0] == '\0' ? link_json_text_put(t, "null", 4) : put_string(t, s);
}

/* Appends key and an integer, or null when is_null. */
static int put_int(struct link_json_text *t, const char *key, int64_t v, bool is_null)
{
	char num[24];
	int n;

	if (link_json_text_put(t, key, strlen(key)) != 0)
		return -1;
	if (is_null)
		return link_json_text_put(t, "null", 4);
	n = snprintf(num, sizeof(num), "%" PRId64, v);
	return link_json_text_put(t, num, (size_t)n);
}

/* Appends key and a time in RFC 3339 UTC, or null for LINK_NO_TIME. */
static int put_time(struct link_json_text *t, const char *key, int64_t v)
{
	char buf[RFC3339_LEN + 3];

	if (v == LINK_NO_TIME)
		return put_int(t, key, v, true);
	buf[0] = '"';
	rfc3339_format(v, buf + 1);
	memcpy(buf + 1 + RFC3339_LEN, "\"", 2);
	return link_json_text_put(t, key, strlen(key)) != 0 ? -1 : link_json_text_put(t, buf, RFC3339_LEN + 2);
}

int link_json_write(struct link_json_text *t, const struct link *l, const char *base_url, int64_t clicks)
{
	char short_url[1200];
	int rc;

	if (link_json_short_url(base_url, l->code, short_url, sizeof(short_url)) != 0)
		short_url[0] = '\0';
	/* The members of link_json_encode, in its order; || stops at the
	 * first that fails. */
	rc = put_text(t, "{\"code\":", l->code, false) || put_text(t, ",\"short_url\":", short_url, false) ||
	     put_text(t, ",\"url\":", l->url, false) || put_int(t, ",\"status\":", l->status, false) ||
	     link_json_text_put(t, l->forward_query ? ",\"forward_query\":true" : ",\"forward_query\":false",
	                        l->forward_query ? 21 : 22) ||
	     put_time(t, ",\"created_at\":", l->created_at) || put_time(t, ",\"updated_at\":", l->updated_at) ||
	     put_time(t, ",\"expires_at\":", l->expires_at) ||
	     put_int(t, ",\"max_clicks\":", l->max_clicks, l->max_clicks == LINK_NO_LIMIT) ||
	     put_int(t, ",\"clicks\":", clicks, false) ||
	     link_json_text_put(t, l->disabled ? ",\"disabled\":true" : ",\"disabled\":false", l->disabled ? 16 : 17) ||
	     put_text(t, ",\"title\":", l->title, true) || link_json_text_put(t, ",\"tags\":[", 9);
	for (int i = 0; rc == 0 && i < l->n_tags; i++)
		rc = (i > 0 && link_json_text_put(t, ",", 1) != 0) || put_string(t, l->tags[i]) != 0;
	rc = rc || link_json_text_put(t, "]", 1) || put_text(t, ",\"created_by\":", l->created_by, true) ||
	     put_text(t, ",\"updated_by\":", l->updated_by, true) || link_json_text_put(t, "}", 1);
	if (rc != 0)
		t->failed = true;
	return rc != 0 ? -1 : 0;
}

int link_json_short_url(const char *base_url, const char *code, char *out, size_t outsize)
{
	int n = snprintf(out, outsize, "%s/%s", base_url, code);
	return n < 0 || (size_t)n >= outsize ? -1 : 0;
}

/* A JSON string for a text field, or null for "". */
static json_t *text_or_null(const char *s)
{
	return s[0] != '\0' ? json_string(s) : json_null();
}

json_t *link_json_encode(const struct link *l, const char *base_url, int64_t clicks)
{
	char short_url[1200];
	json_t *j = json_object(), *tags = json_array();
	bool ok = j != NULL && tags != NULL;

	for (int i = 0; ok && i < l->n_tags; i++)
		ok = json_array_append_new(tags, json_string(l->tags[i])) == 0;
	if (link_json_short_url(base_url, l->code, short_url, sizeof(short_url)) != 0)
		short_url[0] = '\0';
		/* Built member by member: json_pack's format parsing cost as much as
		 * the rest of a bulk create's answer. Each set consumes its value,
		 * NULL included, and fails on NULL. */
#define SET(key, value) (ok = json_object_set_new_nocheck(j, key, value) == 0 && ok)
	SET("code", json_string(l->code));
	SET("short_url", json_string(short_url));
	SET("url", json_string(l->url));
	SET("status", json_integer(l->status));
	SET("forward_query", json_boolean(l->forward_query));
	SET("created_at", link_json_time_or_null(l->created_at));
	SET("updated_at", link_json_time_or_null(l->updated_at));
	SET("expires_at", link_json_time_or_null(l->expires_at));
	SET("max_clicks", l->max_clicks == LINK_NO_LIMIT ? json_null() : json_integer(l->max_clicks));
	SET("clicks", json_integer((json_int_t)clicks));
	SET("disabled", json_boolean(l->disabled));
	SET("title", text_or_null(l->title));
	SET("tags", tags);
	SET("created_by", text_or_null(l->created_by));
	SET("updated_by", text_or_null(l->updated_by));
#undef SET
	if (!ok) {
		json_decref(j);
		return NULL;
	}
	return j;
}
