/*
 * Link creation and update with validation: URL (normalised), code, status,
 * limits. Validation happens before the store is touched, so a refused
 * request leaves the database as it was.
 */
#include "link_admin.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link_code.h"
#include "url.h"

static int set_error(struct link_admin_error *err, const char *code, int http_status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int set_error(struct link_admin_error *err, const char *code, int http_status, const char *fmt, ...)
{
	va_list ap;

	err->code = code;
	err->http_status = http_status;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -1;
}

void link_admin_store_error(int store_status, struct link_admin_error *err)
{
	switch (store_status) {
	case STORE_NOT_FOUND:
		set_error(err, "not_found", 404, "no link has this code");
		break;
	case STORE_CONFLICT:
		set_error(err, "code_taken", 409, "this code is already taken");
		break;
	case STORE_FULL:
		set_error(err, "storage_full", 503, "the database is full; try again when space is freed");
		break;
	default:
		set_error(err, "unavailable", 503, "the database is unavailable: %s",
		          store_status_message(store_status));
		break;
	}
}

static int check_url(const char *url, const struct url_self *self, char *out, size_t outsize,
                     struct link_admin_error *err)
{
	enum url_error e = url_normalize(url, self, out, outsize);

	if (e != URL_OK)
		return set_error(err, "invalid_url", 400, "%s", url_error_message(e));
	return 0;
}

static int title_error(struct link_admin_error *err, enum link_label_error e)
{
	return set_error(err, "invalid_title", 400, "title: %s", link_label_error_message(e));
}

static int tag_error(struct link_admin_error *err, enum link_label_error e, size_t i)
{
	if (e == LINK_LABEL_TOO_MANY)
		return set_error(err, "invalid_tags", 400, "tags: at most %d distinct tags", LINK_TAGS_MAX);
	return set_error(err, "invalid_tags", 400, "tags[%zu]: %s", i, link_label_error_message(e));
}

int link_admin_check(const struct url_self *self, int default_status, int64_t now, const struct link_input *in,
                     bool may_have_ended, struct link *out, struct link_admin_error *err)
{
	enum link_label_error le;

	link_init(out);
	if (in->url == NULL)
		return set_error(err, "invalid_url", 400, "url is required");
	if (check_url(in->url, self, out->url, sizeof(out->url), err) != 0)
		return -1;
	if (in->code != NULL && in->code[0] != '\0') {
		enum link_code_error ce = link_code_check(in->code);
		if (ce != LINK_CODE_OK)
			return set_error(err, "invalid_code", 400, "%s", link_code_error_message(ce));
		if (link_code_is_kept_by_api(in->code))
			return set_error(err, "invalid_code", 400,
			                 "code is reserved (export: GET /api/v1/links/export is the export)");
		memcpy(out->code, in->code, strlen(in->code) + 1);
	}
	out->status = in->status != 0 ? in->status : default_status;
	if (!link_status_is_valid(out->status))
		return set_error(err, "invalid_status", 400, "status must be 301, 302, 303, 307 or 308");
	if (in->max_clicks != LINK_NO_LIMIT && in->max_clicks < 0)
		return set_error(err, "invalid_max_clicks", 400, "max_clicks must be a whole number >= 0");
	/* A link dead at birth is a mistake; ending a link now is an update. */
	if (!may_have_ended && in->expires_at != LINK_NO_TIME && in->expires_at <= now)
		return set_error(err, "invalid_expires_at", 400, "expires_at must be in the future");
	if (in->title != NULL) {
		le = link_title_check(in->title, in->title_len);
		if (le != LINK_LABEL_OK)
			return title_error(err, le);
		memcpy(out->title, in->title, in->title_len);
		out->title[in->title_len] = '\0';
	}
	for (size_t i = 0; i < in->n_tags; i++) {
		size_t len = in->tag_lens != NULL ? in->tag_lens[i] : strlen(in->tags[i]);
		le = link_tag_add(out->tags, &out->n_tags, in->tags[i], len);
		if (le != LINK_LABEL_OK)
			return tag_error(err, le, i);
	}
	if (in->by != NULL) {
		snprintf(out->created_by, sizeof(out->created_by), "%s", in->by);
		snprintf(out->updated_by, sizeof(out->updated_by), "%s", in->by);
	}
	out->expires_at = in->expires_at;
	out->max_clicks = in->max_clicks;
	out->forward_query = in->forward_query;
	out->created_at = now;
	out->updated_at = now;
	return 0;
}

int link_admin_create_batch(struct store *s, const struct url_self *self, int default_status, int64_t now,
                            const struct link_input *in, size_t n, struct store_new_link *out, size_t *bad,
                            struct link_admin_error *err)
{
	int rc;

	*bad = 0;
	for (size_t i = 0; i < n; i++) {
		if (link_admin_check(self, default_status, now, &in[i], false, &out[i].link, err) != 0) {
			*bad = i;
			return -1;
		}
		/* Asked for a code, it is that code or nothing. */
		out[i].reuse = in[i].reuse && out[i].link.code[0] == '\0';
		out[i].reused = false;
	}
	rc = store_link_create_batch(s, out, n, link_code_generate, NULL, bad);
	if (rc != STORE_OK) {
		link_admin_store_error(rc, err);
		return -1;
	}
	return 0;
}

int link_admin_create(struct store *s, const struct url_self *self, int default_status, int64_t now,
                      const struct link_input *in, struct link *out, struct link_admin_error *err)
{
	int rc;

	if (link_admin_check(self, default_status, now, in, false, out, err) != 0)
		return -1;
	rc = store_link_create(s, out, link_code_generate, NULL);
	if (rc != STORE_OK) {
		link_admin_store_error(rc, err);
		return -1;
	}
	return 0;
}

int link_admin_patch_title(struct link_patch *p, const char *title, size_t len, struct link_admin_error *err)
{
	enum link_label_error e = link_title_check(title, len);

	if (e != LINK_LABEL_OK)
		return title_error(err, e);
	memcpy(p->title, title, len);
	p->title[len] = '\0';
	p->fields |= PATCH_TITLE;
	return 0;
}

int link_admin_patch_tag(struct link_patch *p, const char *tag, size_t len, size_t index, struct link_admin_error *err)
{
	enum link_label_error e;

	if (!(p->fields & PATCH_TAGS)) {
		p->n_tags = 0;
		p->fields |= PATCH_TAGS;
	}
	e = link_tag_add(p->tags, &p->n_tags, tag, len);
	return e == LINK_LABEL_OK ? 0 : tag_error(err, e, index);
}

int link_admin_update(struct store *s, const struct url_self *self, const char *code, const struct link_patch *p,
                      int64_t now, struct link *out, struct link_admin_error *err)
{
	struct link_patch *v = malloc(sizeof(*v));
	int rc = -1;

	if (v == NULL)
		return set_error(err, "unavailable", 503, "out of memory");
	*v = *p;
	if ((p->fields & PATCH_URL) && check_url(p->url, self, v->url, sizeof(v->url), err) != 0)
		goto out;
	if ((p->fields & PATCH_STATUS) && !link_status_is_valid(p->status)) {
		set_error(err, "invalid_status", 400, "status must be 301, 302, 303, 307 or 308");
		goto out;
	}
	if ((p->fields & PATCH_MAX_CLICKS) && p->max_clicks != LINK_NO_LIMIT && p->max_clicks < 0) {
		set_error(err, "invalid_max_clicks", 400, "max_clicks must be a whole number >= 0");
		goto out;
	}
	rc = store_link_update(s, code, v, now, out);
	if (rc != STORE_OK) {
		link_admin_store_error(rc, err);
		rc = -1;
	}
out:
	free(v);
	return rc;
}
