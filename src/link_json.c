/*
 * Link -> JSON. Times are RFC 3339 UTC; absent options are null.
 */
#include "link_json.h"

#include <stdbool.h>
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

struct dump_buf {
	char *data;
	size_t len, cap;
	bool failed; /* once set, every later piece fails too */
};

static int dump_append(const char *piece, size_t size, void *ctx)
{
	struct dump_buf *d = ctx;

	if (d->failed)
		return -1;
	if (size >= d->cap - d->len) { /* and room for the NUL */
		size_t cap = d->cap != 0 ? d->cap : 256;
		char *grown;
		while (size >= cap - d->len)
			cap *= 2;
		grown = realloc(d->data, cap);
		if (grown == NULL) {
			d->failed = true;
			return -1;
		}
		d->data = grown;
		d->cap = cap;
	}
	memcpy(d->data + d->len, piece, size);
	d->len += size;
	d->data[d->len] = '\0';
	return 0;
}

char *link_json_dumps(const json_t *j, size_t flags)
{
	struct dump_buf d = {NULL, 0, 0, false};

	if (json_dump_callback(j, dump_append, &d, flags) != 0 || d.failed || d.data == NULL) {
		free(d.data);
		return NULL;
	}
	return d.data;
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
