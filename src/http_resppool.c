/*
 * Reusable redirect responses (include/http_resppool.h).
 *
 * The free items sit in a small direct-mapped table by kind (status and
 * body length): libmicrohttpd usually sends a redirect's few hundred bytes
 * as soon as it is queued, so an item is mostly back before the next
 * redirect of its kind is asked for. Two of one kind are out together when
 * a send waits for the client, or when several connections of the worker
 * are answered in one pass of its loop before their replies go out; the
 * second is built, and one of the two is dropped when both are back.
 */
#include "http_resppool.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define POOL_SLOTS 64
/* A longer page (a Location near 2 KiB, escaped twice) is built each time:
 * such links are rare, and a free item holds its page's bytes. */
#define POOL_BODY_MAX 4096
#define POOL_CACHE_CONTROL_MAX 47

struct http_resppool_item {
	struct MHD_Response *r;
	struct http_resppool *pool;
	int status;
	const char *content_type; /* static strings, compared by address */
	char cache_control[POOL_CACHE_CONTROL_MAX + 1];
	size_t body_len;
	char body[]; /* body_len bytes: r's body, sent from here */
};

struct http_resppool {
	struct http_resppool_item *free_item[POOL_SLOTS]; /* NULL: empty */
};

int http_resppool_new(struct http_resppool **out)
{
	*out = calloc(1, sizeof(**out));
	return *out != NULL ? 0 : -1;
}

static void item_free(struct http_resppool_item *it)
{
	MHD_destroy_response(it->r);
	free(it);
}

void http_resppool_free(struct http_resppool *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < POOL_SLOTS; i++) {
		if (p->free_item[i] != NULL)
			item_free(p->free_item[i]);
	}
	free(p);
}

/* A redirect and its page, nothing more, the page made: what an item sends. */
static bool is_poolable(const struct http_response *resp)
{
	return http_response_is_plain_redirect(resp) && resp->body != NULL && resp->body_len > 0 &&
	       resp->body_len <= POOL_BODY_MAX && strlen(resp->cache_control) <= POOL_CACHE_CONTROL_MAX;
}

static size_t slot_of(int status, size_t body_len)
{
	return (body_len * 5 + (size_t)status) % POOL_SLOTS;
}

static bool is_kind(const struct http_resppool_item *it, const struct http_response *resp)
{
	return it->status == resp->status && it->body_len == resp->body_len && it->content_type == resp->content_type &&
	       strcmp(it->cache_control, resp->cache_control) == 0;
}

/* A new item for resp's kind, its headers in the order a reused one has
 * them (the Location last), its body still to be written. */
static struct http_resppool_item *item_new(struct http_resppool *p, const struct http_response *resp)
{
	struct http_resppool_item *it = malloc(sizeof(*it) + resp->body_len);

	if (it == NULL)
		return NULL;
	it->r = MHD_create_response_from_buffer(resp->body_len, it->body, MHD_RESPMEM_PERSISTENT);
	if (it->r == NULL) {
		free(it);
		return NULL;
	}
	it->pool = p;
	it->status = resp->status;
	it->content_type = resp->content_type;
	memcpy(it->cache_control, resp->cache_control, strlen(resp->cache_control) + 1);
	it->body_len = resp->body_len;
	if (MHD_add_response_header(it->r, MHD_HTTP_HEADER_CACHE_CONTROL, resp->cache_control) != MHD_YES ||
	    MHD_add_response_header(it->r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type) != MHD_YES ||
	    MHD_add_response_header(it->r, MHD_HTTP_HEADER_LOCATION, resp->location) != MHD_YES) {
		item_free(it);
		return NULL;
	}
	return it;
}

/* Puts location in the item's response as its Location, the last header;
 * false when out of memory (the response then has none). */
static bool relocate(struct http_resppool_item *it, const char *location)
{
	/* libmicrohttpd's own copy of the value: deleting by it frees it. */
	const char *old = MHD_get_response_header(it->r, MHD_HTTP_HEADER_LOCATION);

	if (old != NULL && strcmp(old, location) == 0)
		return true;
	if (old != NULL)
		MHD_del_response_header(it->r, MHD_HTTP_HEADER_LOCATION, old);
	return MHD_add_response_header(it->r, MHD_HTTP_HEADER_LOCATION, location) == MHD_YES;
}

struct http_resppool_item *http_resppool_take(struct http_resppool *p, const struct http_response *resp)
{
	struct http_resppool_item **slot, *it;

	if (!is_poolable(resp))
		return NULL;
	slot = &p->free_item[slot_of(resp->status, resp->body_len)];
	if (*slot != NULL && is_kind(*slot, resp)) {
		it = *slot;
		*slot = NULL;
		if (!relocate(it, resp->location)) {
			item_free(it);
			return NULL;
		}
	} else if ((it = item_new(p, resp)) == NULL) {
		return NULL;
	}
	memcpy(it->body, resp->body, resp->body_len);
	return it;
}

struct MHD_Response *http_resppool_response(const struct http_resppool_item *it)
{
	return it->r;
}

void http_resppool_give_back(struct http_resppool_item *it)
{
	struct http_resppool_item **slot = &it->pool->free_item[slot_of(it->status, it->body_len)];

	/* The one back last is kept: the kinds asked for shift over time. */
	if (*slot != NULL)
		item_free(*slot);
	*slot = it;
}
