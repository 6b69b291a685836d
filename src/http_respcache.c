/*
 * Prepared responses (include/http_respcache.h).
 *
 * Building a redirect's response costs libmicrohttpd a dozen allocations
 * (the response, its body, each header's entry, name and value). A link
 * asked for again within a few requests, as a popular link is, reuses the
 * one built last time: libmicrohttpd counts the references of a response
 * and sends one object on any number of connections. Each worker thread
 * keeps its own table, so no lock is taken; a slot holds one reference,
 * dropped when the slot is reused or at free.
 *
 * A redirect's response is a function of its status and Location: its body
 * (made by the handler's make_body, called only when the response is built),
 * the Cache-Control (by status) and the Content-Type follow from them. The
 * key also compares the last two, so a response is reused only when every
 * byte it would send is the same.
 */
#include "http_respcache.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "thread_registry.h"

/* Prepared redirect responses kept per worker thread, for links asked for
 * again: direct-mapped by (status, Location); a longer Location is not kept. */
#define RESP_SLOTS 256
#define RESP_LOCATION_MAX 255

/* Indexed by enum http_fixed; HTTP_FIXED_NONE's entry is empty. */
static const struct {
	const char *type;
	const char *cache;
	const char *body;
} fixed_defs[HTTP_FIXED_COUNT] = {
    [HTTP_FIXED_NOT_FOUND_HTML] =
        {"text/html; charset=utf-8", "no-store",
         "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Not found</title></head>"
         "<body><h1>Not found</h1><p>There is no link here.</p></body></html>\n"},
    [HTTP_FIXED_NOT_FOUND_JSON] = {"application/json", "no-store",
                                   "{\"error\":{\"code\":\"not_found\",\"message\":\"no link has this code\"}}\n"},
    [HTTP_FIXED_GONE_HTML] =
        {"text/html; charset=utf-8", "no-store",
         "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Gone</title></head>"
         "<body><h1>Gone</h1><p>This link has expired, was disabled or has run out of clicks.</p></body></html>\n"},
    [HTTP_FIXED_GONE_JSON] =
        {"application/json", "no-store",
         "{\"error\":{\"code\":\"gone\",\"message\":\"this link has expired, was disabled or has run out of "
         "clicks\"}}\n"},
    [HTTP_FIXED_ROBOTS] =
        {"text/plain; charset=utf-8", "public, max-age=86400",
         "# Short links are redirects: there is nothing here to index.\nUser-agent: *\nDisallow: /\n"},
    [HTTP_FIXED_HEALTH_OK] = {"text/plain; charset=utf-8", "no-store", "ok\n"},
    [HTTP_FIXED_HEALTH_FAIL] = {"text/plain; charset=utf-8", "no-store", "store unavailable\n"},
    [HTTP_FIXED_UNAVAILABLE_JSON] =
        {"application/json", "no-store",
         "{\"error\":{\"code\":\"unavailable\",\"message\":\"the store is unavailable; try again\"}}\n"},
    [HTTP_FIXED_UNAVAILABLE_HTML] =
        {"text/html; charset=utf-8", "no-store",
         "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Unavailable</title></head>"
         "<body><h1>Service unavailable</h1><p>Try again in a moment.</p></body></html>\n"},
    [HTTP_FIXED_METHOD_NOT_ALLOWED] = {"text/plain; charset=utf-8", "no-store", "method not allowed\n"},
};
/* The Allow of the fixed 405: the server's own routes are read-only. */
#define FIXED_ALLOW "GET, HEAD"

struct http_respcache_slot {
	struct MHD_Response *r; /* NULL: empty */
	uint32_t missed;        /* the signature of the last redirect not kept here */
	int status;
	const char *content_type; /* static strings, compared by address */
	size_t body_len;
	size_t location_len;
	char cache_control[48];
	char location[RESP_LOCATION_MAX + 1];
};

/* One worker's table. */
struct table {
	struct http_respcache_slot slot[RESP_SLOTS];
};

struct http_respcache {
	struct MHD_Response *fixed[HTTP_FIXED_COUNT];
	struct thread_registry *tables; /* each worker's struct table; NULL: off */
};

static void *table_new(void *arg)
{
	(void)arg;
	return calloc(1, sizeof(struct table));
}

static void table_free(void *obj, void *arg)
{
	struct table *t = obj;

	(void)arg;
	for (size_t i = 0; i < RESP_SLOTS; i++)
		MHD_destroy_response(t->slot[i].r);
	free(t);
}

int http_respcache_new(bool redirects, struct http_respcache **out)
{
	struct http_respcache *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (c == NULL)
		return -1;
	for (int i = HTTP_FIXED_NONE + 1; i < HTTP_FIXED_COUNT; i++) {
		struct MHD_Response *r = MHD_create_response_from_buffer(
		    strlen(fixed_defs[i].body), (void *)fixed_defs[i].body, MHD_RESPMEM_PERSISTENT);
		if (r == NULL) {
			http_respcache_free(c);
			return -1;
		}
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, fixed_defs[i].type);
		MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, fixed_defs[i].cache);
		MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
		if (i == HTTP_FIXED_METHOD_NOT_ALLOWED)
			MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, FIXED_ALLOW);
		c->fixed[i] = r;
	}
	/* Without a registry the tables stay off: every response is then built. */
	if (redirects && thread_registry_new(table_new, table_free, NULL, &c->tables) != 0)
		c->tables = NULL;
	*out = c;
	return 0;
}

void http_respcache_free(struct http_respcache *c)
{
	if (c == NULL)
		return;
	for (int i = 0; i < HTTP_FIXED_COUNT; i++)
		MHD_destroy_response(c->fixed[i]); /* accepts NULL, as table_free relies on */
	thread_registry_free(c->tables);
	free(c);
}

struct MHD_Response *http_respcache_fixed(const struct http_respcache *c, enum http_fixed which)
{
	return c->fixed[which];
}

void http_respcache_spell_out(struct http_response *resp)
{
	resp->body = fixed_defs[resp->fixed].body;
	resp->body_len = strlen(fixed_defs[resp->fixed].body);
	resp->content_type = fixed_defs[resp->fixed].type;
	resp->cache_control = fixed_defs[resp->fixed].cache;
	if (resp->fixed == HTTP_FIXED_METHOD_NOT_ALLOWED)
		resp->allow = FIXED_ALLOW;
}

size_t http_respcache_fixed_len(enum http_fixed which)
{
	return strlen(fixed_defs[which].body);
}

static bool is_cacheable(const struct http_response *resp, size_t location_len)
{
	return http_response_is_plain_redirect(resp) && location_len <= RESP_LOCATION_MAX &&
	       strlen(resp->cache_control) < sizeof(((struct http_respcache_slot *)NULL)->cache_control);
}

/* The slot of (status, Location), eight bytes at a time: every redirect
 * hashes its Location, and links differ mostly in their last bytes. */
static uint64_t slot_hash(int status, const char *location, size_t len)
{
	const uint64_t k = 0x9e3779b97f4a7c15u;
	uint64_t h = ((uint64_t)(unsigned)status << 32 | len) * k, w;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&w, location + i, 8);
		h = (h ^ w) * k;
		h ^= h >> 29;
	}
	/* The tail: the last eight bytes, overlapping words already read,
	 * read as one word. A copy of len - i bytes into a zeroed word is a
	 * call, and its narrow stores stall the wide load after them. */
	if (len >= 8) {
		memcpy(&w, location + len - 8, 8);
	} else {
		for (w = 0; i < len; i++)
			w = w << 8 | (unsigned char)location[i];
	}
	h = (h ^ w) * k;
	/* A product's bit depends only on the bits below it: the high half,
	 * folded down and multiplied again, reaches the bits returned. */
	h = (h ^ h >> 32) * k;
	return h >> 32;
}

struct http_respcache_slot *http_respcache_slot(struct http_respcache *c, const struct http_response *resp,
                                                size_t location_len, uint32_t *sig)
{
	struct table *t;

	if (!is_cacheable(resp, location_len) || c->tables == NULL || (t = thread_registry_get(c->tables)) == NULL)
		return NULL;
	*sig = (uint32_t)slot_hash(resp->status, resp->location, location_len);
	return &t->slot[*sig % RESP_SLOTS];
}

bool http_respcache_admit(struct http_respcache_slot *s, uint32_t sig)
{
	if (s->missed == sig)
		return true;
	s->missed = sig;
	return false;
}

struct MHD_Response *http_respcache_hit(struct http_respcache_slot *s, struct http_response *resp, size_t location_len)
{
	if (s->r == NULL || s->status != resp->status || s->location_len != location_len ||
	    s->content_type != resp->content_type || memcmp(s->location, resp->location, location_len) != 0 ||
	    strcmp(s->cache_control, resp->cache_control) != 0)
		return NULL;
	resp->body_len = s->body_len; /* for the access log */
	if (s->missed != 0)
		s->missed = 0; /* the miss before this is not "in a row" with the next */
	return s->r;
}

void http_respcache_keep(struct http_respcache_slot *s, struct MHD_Response *r, const struct http_response *resp,
                         size_t location_len)
{
	if (s->r != NULL)
		MHD_destroy_response(s->r);
	s->r = r;
	s->status = resp->status;
	s->content_type = resp->content_type;
	s->body_len = resp->body_len;
	s->location_len = location_len;
	memcpy(s->location, resp->location, location_len);
	s->location[location_len] = '\0';
	/* Shorter than the field: http_respcache_slot() gave no slot otherwise. */
	memcpy(s->cache_control, resp->cache_control, strlen(resp->cache_control) + 1);
}
