/*
 * The redirect path: /{code} -> lookup -> state -> click -> Location.
 *
 * Everything here works on the caller's stack and the calling thread's
 * answer (made on its first redirect, then found with one thread-key read):
 * no malloc, no lock but a limited link's shard (and the click counter's
 * for a HEAD or a bot looking at a limited link), no disk write. 404 and 410
 * are prebuilt responses chosen by the client's Accept header.
 */
#include "redirect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "http_accept.h"
#include "http_useragent.h"
#include "thread_registry.h"
#include "url.h"

/* One worker thread's redirect: what the response it fills points into. */
struct redirect_answer {
	char cache_control[48];
	char location[REDIRECT_LOCATION_MAX];
	char page[REDIRECT_PAGE_MAX];
};

struct redirect_ctx {
	const struct config *cfg;
	struct store *store;
	struct clicks *clicks;
	struct thread_registry *answers; /* each worker's struct redirect_answer */
};

static void *answer_new(void *arg)
{
	(void)arg;
	return malloc(sizeof(struct redirect_answer));
}

static void answer_free(void *obj, void *arg)
{
	(void)arg;
	free(obj);
}

int redirect_ctx_new(const struct config *cfg, struct store *store, struct clicks *clicks, struct redirect_ctx **out)
{
	struct redirect_ctx *ctx = malloc(sizeof(*ctx));

	*out = NULL;
	if (ctx == NULL)
		return -1;
	*ctx = (struct redirect_ctx){cfg, store, clicks, NULL};
	if (thread_registry_new(answer_new, answer_free, NULL, &ctx->answers) != 0) {
		free(ctx);
		return -1;
	}
	*out = ctx;
	return 0;
}

void redirect_ctx_free(struct redirect_ctx *ctx)
{
	if (ctx == NULL)
		return;
	thread_registry_free(ctx->answers);
	free(ctx);
}

static const char page_head[] = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Redirecting</title>"
                                "</head><body><p>Redirecting to <a href=\"";
static const char page_mid[] = "\">";
static const char page_tail[] = "</a>.</p></body></html>\n";

const char *redirect_cache_control(int status, char *buf, size_t size, unsigned max_age)
{
	if (status == 301 || status == 308) {
		snprintf(buf, size, "public, max-age=%u", max_age);
		return buf;
	}
	return "private, no-store";
}

static void append(struct redirect_answer *a, size_t *len, const char *s, size_t n)
{
	memcpy(a->page + *len, s, n);
	*len += n;
	a->page[*len] = '\0';
}

/* The small HTML page a browser shows if it does not follow the redirect:
 * resp's make_body, over the answer that holds its Location. */
static void make_page(struct http_response *resp, void *arg)
{
	struct redirect_answer *a = arg;
	size_t len = 0, at, n;

	append(a, &len, page_head, sizeof(page_head) - 1);
	at = len;
	html_escape_append(a->page, sizeof(a->page), &len, a->location);
	n = len - at;
	append(a, &len, page_mid, sizeof(page_mid) - 1);
	/* The link text is the same escaped URL: copied, not escaped again. */
	if (len + n + sizeof(page_tail) <= sizeof(a->page)) {
		memcpy(a->page + len, a->page + at, n);
		len += n;
	}
	append(a, &len, page_tail, sizeof(page_tail) - 1);
	resp->body = a->page;
	resp->body_len = len;
	resp->body_copy = true;
}

struct known {
	const struct redirect_ctx *ctx;
	const struct link *l;
	int64_t clicks;
};

static int count_known(void *arg)
{
	struct known *k = arg;
	struct link fresh;
	int64_t human, bot, last;

	if (store_link_lookup(k->ctx->store, k->l->code, &fresh) == STORE_OK && fresh.id == k->l->id)
		k->clicks = fresh.clicks;
	clicks_pending(k->ctx->clicks, k->l->id, &human, &bot, &last);
	k->clicks += human;
	return 0;
}

/* A limited link's human clicks, written and pending, read under the lock
 * that orders flushes so none is missed or counted twice. */
static int64_t clicks_known(const struct redirect_ctx *ctx, const struct link *l)
{
	struct known k = {ctx, l, l->clicks};

	if (ctx->clicks != NULL)
		clicks_locked(ctx->clicks, count_known, &k);
	return k.clicks;
}

/* Takes a human click of a limited link: on the database where several
 * nodes share it, else in this process's exact count. False when the link
 * has run out (resp stays the 410), or with a 503 when the database cannot
 * tell now. */
static bool take_click(const struct redirect_ctx *ctx, const struct link *l, struct http_response *resp)
{
	bool taken;
	int rc;

	if (!store_is_shared(ctx->store))
		return clicks_admit(ctx->clicks, l);
	rc = store_link_take_click(ctx->store, l, clicks_known(ctx, l), &taken);
	if (rc != STORE_OK)
		http_response_fixed(resp, 503, HTTP_FIXED_UNAVAILABLE_HTML);
	return rc == STORE_OK && taken;
}

/* The answer with its 404, 410 and 503 pages in HTML; redirect_handle()
 * swaps them for JSON when the client asks, so a redirect never reads Accept. */
static void resolve(const struct redirect_ctx *ctx, const struct http_request *req, struct http_response *resp)
{
	const char *code = req->path + 1;
	struct redirect_answer *a;
	bool bot, counted;
	enum link_state state;
	struct link l;
	size_t len;
	int rc;

	http_response_fixed(resp, 404, HTTP_FIXED_NOT_FOUND_HTML);
	if (req->path[0] != '/' || link_code_syntax(code, &len) != LINK_CODE_OK || link_code_is_reserved(code, len))
		return;
	rc = store_link_resolve(ctx->store, code, &l);
	if (rc == STORE_NOT_FOUND)
		return;
	if (rc != STORE_OK) {
		http_response_fixed(resp, 503, HTTP_FIXED_UNAVAILABLE_HTML);
		return;
	}

	/* A HEAD is a look, not a click: it is answered but never counted. */
	counted = req->method != HTTP_HEAD && ctx->clicks != NULL;
	bot = http_useragent_is_bot(req->user_agent);
	http_response_fixed(resp, 410, HTTP_FIXED_GONE_HTML);
	state = link_state_at(&l, req->now, l.clicks);
	if (state == LINK_DISABLED || state == LINK_EXPIRED)
		return;

	a = thread_registry_get(ctx->answers);
	if (a == NULL) {
		http_response_fixed(resp, 503, HTTP_FIXED_UNAVAILABLE_HTML);
		return;
	}
	/* The Location before the click: a request refused for its length
	 * must not use up one of a limited link's clicks. */
	if (l.forward_query && req->query != NULL && req->query[0] != '\0') {
		if (url_merge_query(l.url, req->query, a->location, sizeof(a->location)) != 0) {
			http_response_uri_too_long(resp);
			return;
		}
	} else {
		memcpy(a->location, l.url, strlen(l.url) + 1);
	}
	if (l.max_clicks != LINK_NO_LIMIT) {
		/* A human click reserves its place exactly; a bot or a HEAD only
		 * looks, at the clicks written and those still pending. */
		if (counted && !bot) {
			if (!take_click(ctx, &l, resp))
				return;
		} else if (link_state_at(&l, req->now, clicks_known(ctx, &l)) == LINK_EXHAUSTED) {
			return;
		}
	}
	if (counted) {
		char host[CLICKS_REFERRER_MAX + 1];
		bool has_ref = url_host(req->referer, host, sizeof(host)) == 0;
		clicks_record(ctx->clicks, l.id, req->now, bot, has_ref ? host : NULL);
	}
	resp->fixed = HTTP_FIXED_NONE;
	resp->status = l.status;
	resp->location = a->location;
	resp->cache_control =
	    redirect_cache_control(l.status, a->cache_control, sizeof(a->cache_control), ctx->cfg->cache_max_age);
	resp->content_type = "text/html; charset=utf-8";
	resp->make_body = make_page;
	resp->make_body_arg = a;
}

void redirect_handle(const struct redirect_ctx *ctx, const struct http_request *req, struct http_response *resp)
{
	resolve(ctx, req, resp);
	if (resp->fixed == HTTP_FIXED_NONE || !http_accept_prefers_json(req->accept))
		return;
	switch (resp->fixed) {
	case HTTP_FIXED_NOT_FOUND_HTML:
		resp->fixed = HTTP_FIXED_NOT_FOUND_JSON;
		break;
	case HTTP_FIXED_GONE_HTML:
		resp->fixed = HTTP_FIXED_GONE_JSON;
		break;
	case HTTP_FIXED_UNAVAILABLE_HTML:
		resp->fixed = HTTP_FIXED_UNAVAILABLE_JSON;
		break;
	default:
		break;
	}
}
