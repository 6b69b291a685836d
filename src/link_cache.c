/*
 * The redirect path's link cache: a ring of records, oldest evicted first,
 * and an index of 32-bit slots probed linearly from the code's hash. A slot
 * holds the record's offset in the ring, in 8-byte units, plus one (0 is an
 * empty slot), in its low bits (off_mask), and the record's hash in the bits
 * left (12 of them in a cache of 8 MiB): a probe reads a record only when
 * those bits match, so a lookup in a cache of megabytes reads about one line
 * of the index and at most one record.
 *
 * Invariants:
 * - The live records lie in [tail, head) when !wrapped, or in [tail, end)
 *   then [0, head) when wrapped, and then tail < end (the tail that reaches
 *   end goes back to 0 at once); a record's size follows from its code and
 *   url lengths (rec_size()), so the ring can be walked from tail.
 * - Every live record with (flags & REC_INDEXED) has exactly one slot in the
 *   index pointing at it; a record replaced by a newer one for the same code
 *   loses its slot and the flag, and waits in the ring to be evicted.
 * - c->current counts indexed records of the current generation, the ones
 *   link_cache_get() can return.
 * Nothing here allocates after link_cache_new().
 */
#include <sodium.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "link_cache.h"

#define REC_FORWARD_QUERY 0x1
#define REC_DISABLED 0x2
#define REC_INDEXED 0x4
#define ALIGN 8
#define LOAD_NUM 7 /* at most 7/8 of the slots hold a record */
#define LOAD_DEN 8

/* 30 bytes before the text; a record takes rec_size() bytes of the ring. */
struct rec {
	int64_t id;
	int64_t expires_at;
	uint32_t hash;
	uint32_t gen;
	uint16_t url_len;
	uint16_t status;
	uint8_t code_len;
	uint8_t flags;
	char text[]; /* code then url, neither terminated */
};

#define REC_HEADER offsetof(struct rec, text)

_Static_assert(REC_HEADER == 30, "a record's header is 30 bytes");

static size_t rec_size(size_t code_len, size_t url_len)
{
	return (REC_HEADER + code_len + url_len + ALIGN - 1) / ALIGN * ALIGN;
}

struct link_cache {
	unsigned char key[crypto_shorthash_KEYBYTES];
	uint32_t *slot;
	uint32_t off_mask; /* a slot's low bits, which hold the offset */
	size_t mask;       /* slots - 1 */
	size_t max_count;  /* indexed records allowed */
	size_t count;      /* indexed records, any generation */
	size_t current;    /* indexed records of generation gen */
	uint32_t gen;
	unsigned char *ring;
	size_t cap, head, tail, end;
	bool wrapped;
};

static struct rec *rec_at(const struct link_cache *c, size_t off)
{
	return (struct rec *)(void *)(c->ring + off);
}

/* A slot for the record at off: its hash's bits above the offset's. */
static uint32_t slot_make(const struct link_cache *c, uint32_t hash, size_t off)
{
	return (hash & ~c->off_mask) | (uint32_t)(off / ALIGN + 1);
}

/* Whether the slot may be for a record of this hash. */
static bool slot_may_be(const struct link_cache *c, uint32_t slot, uint32_t hash)
{
	return ((slot ^ hash) & ~c->off_mask) == 0;
}

static size_t slot_off(const struct link_cache *c, uint32_t slot)
{
	return (size_t)((slot & c->off_mask) - 1) * ALIGN;
}

static uint32_t code_hash(const struct link_cache *c, const char *code, size_t len)
{
	unsigned char h[crypto_shorthash_BYTES];
	uint32_t v;

	crypto_shorthash(h, (const unsigned char *)code, len, c->key);
	memcpy(&v, h, sizeof(v));
	return v;
}

struct link_cache *link_cache_new(size_t bytes)
{
	struct link_cache *c;
	size_t slots = 1024;

	if (bytes < LINK_CACHE_MIN_BYTES)
		bytes = LINK_CACHE_MIN_BYTES;
	if (bytes > LINK_CACHE_MAX_BYTES)
		return NULL;
	if (sodium_init() < 0)
		return NULL;
	/* About a tenth for the index: a slot per 40 bytes of the whole, room
	 * for records averaging 40 bytes at the load limit. */
	while (slots * 2 <= bytes / 40 && slots * 2 <= (size_t)UINT32_MAX)
		slots *= 2;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->cap = (bytes - slots * sizeof(*c->slot)) / ALIGN * ALIGN;
	c->slot = calloc(slots, sizeof(*c->slot));
	c->ring = malloc(c->cap);
	if (c->slot == NULL || c->ring == NULL) {
		link_cache_free(c);
		return NULL;
	}
	while (c->off_mask < c->cap / ALIGN)
		c->off_mask = c->off_mask << 1 | 1;
	c->mask = slots - 1;
	c->max_count = slots / LOAD_DEN * LOAD_NUM;
	crypto_shorthash_keygen(c->key);
	return c;
}

void link_cache_free(struct link_cache *c)
{
	if (c == NULL)
		return;
	free(c->slot);
	free(c->ring);
	sodium_memzero(c->key, sizeof(c->key));
	free(c);
}

/* The slot holding the record for code, or the empty slot that ends its
 * probe sequence. */
static size_t find_slot(const struct link_cache *c, const char *code, size_t len, uint32_t hash)
{
	size_t i = hash & c->mask;

	for (; c->slot[i] != 0; i = (i + 1) & c->mask) {
		if (!slot_may_be(c, c->slot[i], hash))
			continue;
		const struct rec *r = rec_at(c, slot_off(c, c->slot[i]));
		if (r->hash == hash && r->code_len == len && memcmp(r->text, code, len) == 0)
			break;
	}
	return i;
}

/* Empties slot i and moves later records of its probe run back into the
 * gap, so every record stays reachable from its home slot. */
static void slot_remove(struct link_cache *c, size_t i)
{
	size_t j = i;

	for (;;) {
		j = (j + 1) & c->mask;
		if (c->slot[j] == 0)
			break;
		size_t home = rec_at(c, slot_off(c, c->slot[j]))->hash & c->mask;
		/* The record at j may move to i only if its home is not in (i, j]. */
		if (((j - home) & c->mask) >= ((j - i) & c->mask)) {
			c->slot[i] = c->slot[j];
			i = j;
		}
	}
	c->slot[i] = 0;
}

/* Takes a record out of the index, if it is still there. */
static void unindex(struct link_cache *c, struct rec *r, size_t off)
{
	uint32_t want = slot_make(c, r->hash, off);
	size_t i = r->hash & c->mask;

	if (!(r->flags & REC_INDEXED))
		return;
	while (c->slot[i] != want)
		i = (i + 1) & c->mask;
	slot_remove(c, i);
	r->flags &= (uint8_t)~REC_INDEXED;
	c->count--;
	if (r->gen == c->gen)
		c->current--;
}

/* Evicts the oldest record. The ring is not empty: it is called while
 * records are indexed, or while it is wrapped (then tail < end). */
static void evict_oldest(struct link_cache *c)
{
	struct rec *r = rec_at(c, c->tail);

	unindex(c, r, c->tail);
	c->tail += rec_size(r->code_len, r->url_len);
	if (c->wrapped && c->tail == c->end) {
		c->tail = 0;
		c->wrapped = false;
	}
}

/* The offset of size free bytes at the head, evicting as needed. */
static size_t ring_alloc(struct link_cache *c, size_t size)
{
	for (;;) {
		if (!c->wrapped) {
			if (c->cap - c->head >= size)
				break;
			if (c->tail == c->head) {
				c->tail = c->head = 0;
				continue;
			}
			c->end = c->head;
			c->head = 0;
			c->wrapped = true;
		} else if (c->tail - c->head >= size) {
			break;
		} else {
			evict_oldest(c);
		}
	}
	c->head += size;
	return c->head - size;
}

bool link_cache_get(struct link_cache *c, const char *code, struct link *out)
{
	size_t len = strnlen(code, LINK_CODE_MAX + 1);
	const struct rec *r;
	size_t i;

	if (len == 0 || len > LINK_CODE_MAX)
		return false;
	i = find_slot(c, code, len, code_hash(c, code, len));
	if (c->slot[i] == 0)
		return false;
	r = rec_at(c, slot_off(c, c->slot[i]));
	if (r->gen != c->gen)
		return false;
	link_init(out);
	out->id = r->id;
	memcpy(out->code, r->text, r->code_len);
	out->code[r->code_len] = '\0';
	memcpy(out->url, r->text + r->code_len, r->url_len);
	out->url[r->url_len] = '\0';
	out->status = r->status;
	out->forward_query = (r->flags & REC_FORWARD_QUERY) != 0;
	out->disabled = (r->flags & REC_DISABLED) != 0;
	out->expires_at = r->expires_at;
	return true;
}

void link_cache_put(struct link_cache *c, const struct link *l)
{
	size_t code_len = strnlen(l->code, sizeof(l->code));
	size_t url_len = strnlen(l->url, sizeof(l->url));
	size_t size = rec_size(code_len, url_len);
	uint32_t hash;
	size_t off, i;
	struct rec *r;

	if (code_len == 0 || code_len > LINK_CODE_MAX)
		return;
	hash = code_hash(c, l->code, code_len);
	i = find_slot(c, l->code, code_len, hash);
	/* The older record goes even when this one is not kept. */
	if (c->slot[i] != 0)
		unindex(c, rec_at(c, slot_off(c, c->slot[i])), slot_off(c, c->slot[i]));
	if (l->max_clicks != LINK_NO_LIMIT || url_len > LINK_URL_MAX || size > c->cap / 8)
		return;
	while (c->count >= c->max_count)
		evict_oldest(c);
	off = ring_alloc(c, size);
	r = rec_at(c, off);
	r->id = l->id;
	r->expires_at = l->expires_at;
	r->hash = hash;
	r->gen = c->gen;
	r->url_len = (uint16_t)url_len;
	r->status = (uint16_t)l->status;
	r->code_len = (uint8_t)code_len;
	r->flags = REC_INDEXED | (l->forward_query ? REC_FORWARD_QUERY : 0) | (l->disabled ? REC_DISABLED : 0);
	memcpy(r->text, l->code, code_len);
	memcpy(r->text + code_len, l->url, url_len);
	/* The evictions above may have moved records within the index. */
	i = find_slot(c, l->code, code_len, hash);
	c->slot[i] = slot_make(c, hash, off);
	c->count++;
	c->current++;
}

void link_cache_invalidate(struct link_cache *c)
{
	c->current = 0;
	if (++c->gen != 0)
		return;
	/* After 2^32 generations an old record's could come round again: start
	 * from an empty cache instead. */
	memset(c->slot, 0, (c->mask + 1) * sizeof(*c->slot));
	c->count = 0;
	c->head = c->tail = c->end = 0;
	c->wrapped = false;
}

size_t link_cache_count(const struct link_cache *c)
{
	return c->current;
}
