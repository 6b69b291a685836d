/*
 * The redirect path's link cache: a ring of records, oldest evicted first,
 * and an index of 32-bit slots probed linearly from the code's hash. A slot
 * holds the record's offset in the ring, in 8-byte units, plus one (0 is an
 * empty slot), in its low bits (off_mask), and the record's hash in the bits
 * left (12 of them in a cache of 8 MiB): a probe reads a record only when
 * those bits match, so a lookup in a cache of megabytes reads about one line
 * of the index and at most one record.
 *
 * One cache serves every worker thread. Readers take no lock: a sequence
 * count, odd while a writer changes anything, tells a reader whether what it
 * read may be torn, and then it reads again (a seqlock). Writers, one at a
 * time (the caller sees to that), change the ring and the index only between
 * write_begin() and write_end(). Every word readers may read while a writer
 * writes (the ring's, the index's, gen, current) is read and written as a
 * relaxed atomic; a reader copies a record's words out before it looks at
 * them, and checks every offset and length it read against the ring's size
 * before it follows it, so a torn read is thrown away and never reads outside
 * the cache.
 *
 * Invariants, outside write_begin() .. write_end():
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
#include <stdatomic.h>
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
#define CACHE_LINE 64
/* Reads of one lookup a reader makes while writers keep changing the cache
 * before it answers "not cached" (the caller then reads the store). */
#define READ_TRIES 64

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
/* The longest record, and the words that hold it. */
#define REC_MAX ((REC_HEADER + LINK_CODE_MAX + LINK_URL_MAX + ALIGN - 1) / ALIGN * ALIGN)
#define REC_WORDS (REC_MAX / ALIGN)
/* The words of a record's header, and of the shortest record. */
#define HEAD_WORDS ((REC_HEADER + 1 + ALIGN - 1) / ALIGN)

_Static_assert(REC_HEADER == 30, "a record's header is 30 bytes");
_Static_assert(offsetof(struct rec, flags) / ALIGN == 3, "flags lie in the header's fourth word");

/* A record copied out of the ring, word by word. */
union rec_copy {
	uint64_t w[REC_WORDS];
	struct rec r;
};

/* The same, for a record's header and the longest code only. */
union rec_head_copy {
	uint64_t w[(REC_HEADER + LINK_CODE_MAX + ALIGN - 1) / ALIGN];
	struct rec r;
};

static size_t rec_size(size_t code_len, size_t url_len)
{
	return (REC_HEADER + code_len + url_len + ALIGN - 1) / ALIGN * ALIGN;
}

/* Three cache lines: what every lookup reads and nothing writes after
 * link_cache_new(); the counts every write moves, which every lookup reads
 * too; and the writer's own. A put then costs the readers on other CPUs
 * one line, not the ones they only read. */
struct link_cache {
	unsigned char key[crypto_shorthash_KEYBYTES];
	_Atomic uint32_t *slot;
	_Atomic uint64_t *ring; /* cap bytes, read and written a word at a time */
	uint32_t off_mask;      /* a slot's low bits, which hold the offset */
	size_t mask;            /* slots - 1 */
	size_t cap;
	size_t max_count; /* indexed records allowed */

	_Alignas(CACHE_LINE) _Atomic uint32_t seq; /* odd while a writer changes the cache */
	_Atomic uint32_t gen;

	_Alignas(CACHE_LINE) size_t count; /* indexed records, any generation */
	_Atomic size_t current;            /* indexed records of generation gen */
	size_t head, tail, end;
	bool wrapped;
};

/* ---- the words readers share with the writer ---- */

static uint64_t word_get(const struct link_cache *c, size_t off)
{
	return atomic_load_explicit(&c->ring[off / ALIGN], memory_order_relaxed);
}

static void word_set(struct link_cache *c, size_t off, uint64_t w)
{
	atomic_store_explicit(&c->ring[off / ALIGN], w, memory_order_relaxed);
}

static uint32_t slot_get(const struct link_cache *c, size_t i)
{
	return atomic_load_explicit(&c->slot[i], memory_order_relaxed);
}

static void slot_set(struct link_cache *c, size_t i, uint32_t v)
{
	atomic_store_explicit(&c->slot[i], v, memory_order_relaxed);
}

static uint32_t gen_get(const struct link_cache *c)
{
	return atomic_load_explicit(&c->gen, memory_order_relaxed);
}

/* Moves current by d; only the writer moves it, any thread reads it. */
static void current_add(struct link_cache *c, int d)
{
	atomic_store_explicit(&c->current, atomic_load_explicit(&c->current, memory_order_relaxed) + (size_t)d,
	                      memory_order_relaxed);
}

/* Copies words [from, to) of the record at off into w[from, to). */
static void rec_read(const struct link_cache *c, size_t off, size_t from, size_t to, uint64_t *w)
{
	for (size_t i = from; i < to; i++)
		w[i] = word_get(c, off + i * ALIGN);
}

/* What a writer reads of a record's header. */
struct head {
	uint32_t hash, gen;
	size_t code_len, url_len;
	uint8_t flags;
};

static struct head rec_head(const struct link_cache *c, size_t off)
{
	union rec_head_copy h;

	rec_read(c, off, 0, HEAD_WORDS, h.w);
	return (struct head){h.r.hash, h.r.gen, h.r.code_len, h.r.url_len, h.r.flags};
}

static void write_begin(struct link_cache *c)
{
	uint32_t s = atomic_load_explicit(&c->seq, memory_order_relaxed);

	atomic_store_explicit(&c->seq, s + 1, memory_order_relaxed);
	/* No store below may be seen before the odd count. */
	atomic_thread_fence(memory_order_release);
}

static void write_end(struct link_cache *c)
{
	uint32_t s = atomic_load_explicit(&c->seq, memory_order_relaxed);

	atomic_store_explicit(&c->seq, s + 1, memory_order_release);
}

/* ---- the index ---- */

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
	c = aligned_alloc(CACHE_LINE, sizeof(*c));
	if (c == NULL)
		return NULL;
	memset(c, 0, sizeof(*c));
	c->cap = (bytes - slots * sizeof(*c->slot)) / ALIGN * ALIGN;
	/* Zeroed memory is a valid atomic zero on every platform shortd builds
	 * for; the ring's zeroes are what a torn read finds where nothing was
	 * written yet. */
	c->slot = calloc(slots, sizeof(*c->slot));
	c->ring = calloc(c->cap / ALIGN, sizeof(*c->ring));
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
	free((void *)c->slot);
	free((void *)c->ring);
	sodium_memzero(c->key, sizeof(c->key));
	free(c);
}

/* The writer's probe: the slot holding the record for code, or the empty
 * slot that ends its probe sequence. A record's code is read only once its
 * header says it has this length, so no read runs past a short record at
 * the end of the ring. */
static size_t find_slot(const struct link_cache *c, const char *code, size_t len, uint32_t hash)
{
	size_t i = hash & c->mask;
	uint32_t s;

	for (; (s = slot_get(c, i)) != 0; i = (i + 1) & c->mask) {
		union rec_head_copy r;
		if (!slot_may_be(c, s, hash))
			continue;
		rec_read(c, slot_off(c, s), 0, HEAD_WORDS, r.w);
		if (r.r.hash != hash || r.r.code_len != len)
			continue;
		rec_read(c, slot_off(c, s), HEAD_WORDS, (REC_HEADER + len + ALIGN - 1) / ALIGN, r.w);
		if (memcmp(r.r.text, code, len) == 0)
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
		if (slot_get(c, j) == 0)
			break;
		size_t home = rec_head(c, slot_off(c, slot_get(c, j))).hash & c->mask;
		/* The record at j may move to i only if its home is not in (i, j]. */
		if (((j - home) & c->mask) >= ((j - i) & c->mask)) {
			slot_set(c, i, slot_get(c, j));
			i = j;
		}
	}
	slot_set(c, i, 0);
}

/* Takes the record at off out of the index, if it is still there. */
static void unindex(struct link_cache *c, size_t off)
{
	const size_t flags_word = offsetof(struct rec, flags) / ALIGN;
	union rec_head_copy h;
	uint32_t want;
	size_t i;

	rec_read(c, off, 0, HEAD_WORDS, h.w);
	if (!(h.r.flags & REC_INDEXED))
		return;
	want = slot_make(c, h.r.hash, off);
	for (i = h.r.hash & c->mask; slot_get(c, i) != want; i = (i + 1) & c->mask)
		;
	slot_remove(c, i);
	/* The flag is one byte of a word readers may be reading: the word goes
	 * back whole. */
	h.r.flags &= (uint8_t)~REC_INDEXED;
	word_set(c, off + flags_word * ALIGN, h.w[flags_word]);
	c->count--;
	if (h.r.gen == gen_get(c))
		current_add(c, -1);
}

/* Evicts the oldest record. The ring is not empty: it is called while
 * records are indexed, or while it is wrapped (then tail < end). */
static void evict_oldest(struct link_cache *c)
{
	struct head h = rec_head(c, c->tail);

	unindex(c, c->tail);
	c->tail += rec_size(h.code_len, h.url_len);
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

/*
 * A reader's probe, on words a writer may be changing: true with the record
 * for code copied into *out, or false when there is none. Whatever it read,
 * it follows no offset or length it has not checked against the ring, and
 * stops after a full turn of the index, so a torn read ends here too; the
 * caller throws away what a torn read found.
 */
static bool lookup(const struct link_cache *c, const char *code, size_t len, uint32_t hash, union rec_copy *out)
{
	size_t i = hash & c->mask, n, off, size;
	uint32_t s;

	for (n = 0; n <= c->mask && (s = slot_get(c, i)) != 0; n++, i = (i + 1) & c->mask) {
		if (!slot_may_be(c, s, hash))
			continue;
		off = slot_off(c, s);
		/* The shortest record is its header's words. */
		if (off > c->cap - HEAD_WORDS * ALIGN)
			return false;
		rec_read(c, off, 0, HEAD_WORDS, out->w);
		if (out->r.hash != hash || out->r.code_len != len)
			continue;
		if (out->r.url_len > LINK_URL_MAX || off > c->cap - (size = rec_size(len, out->r.url_len)))
			return false;
		rec_read(c, off, HEAD_WORDS, size / ALIGN, out->w);
		if (memcmp(out->r.text, code, len) != 0)
			continue;
		return out->r.gen == gen_get(c);
	}
	return false;
}

/* A reader's pause while a writer works, where the CPU has a hint for it. */
static void relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield");
#endif
}

bool link_cache_get(const struct link_cache *c, const char *code, struct link *out)
{
	size_t len = strnlen(code, LINK_CODE_MAX + 1);
	union rec_copy rec;
	uint32_t hash, s;
	bool found;

	if (len == 0 || len > LINK_CODE_MAX)
		return false;
	hash = code_hash(c, code, len);
	for (int tries = 0; tries < READ_TRIES; tries++) {
		s = atomic_load_explicit(&c->seq, memory_order_acquire);
		if (s & 1) {
			relax();
			continue;
		}
		found = lookup(c, code, len, hash, &rec);
		/* What lookup() read, read before the count is read again. */
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&c->seq, memory_order_relaxed) != s) {
			relax();
			continue;
		}
		if (!found)
			return false;
		link_init(out);
		out->id = rec.r.id;
		memcpy(out->code, rec.r.text, len);
		out->code[len] = '\0';
		memcpy(out->url, rec.r.text + len, rec.r.url_len);
		out->url[rec.r.url_len] = '\0';
		out->status = rec.r.status;
		out->forward_query = (rec.r.flags & REC_FORWARD_QUERY) != 0;
		out->disabled = (rec.r.flags & REC_DISABLED) != 0;
		out->expires_at = rec.r.expires_at;
		return true;
	}
	return false;
}

void link_cache_put(struct link_cache *c, const struct link *l)
{
	size_t code_len = strnlen(l->code, sizeof(l->code));
	size_t url_len = strnlen(l->url, sizeof(l->url));
	size_t size = rec_size(code_len, url_len);
	bool keep = l->max_clicks == LINK_NO_LIMIT && url_len <= LINK_URL_MAX && size <= c->cap / 8;
	union rec_copy rec;
	uint32_t hash;
	size_t off, i;

	if (code_len == 0 || code_len > LINK_CODE_MAX)
		return;
	hash = code_hash(c, l->code, code_len);
	/* The writer reads what only it changes: no write section yet, and
	 * none at all for a link not kept that had no record. */
	i = find_slot(c, l->code, code_len, hash);
	if (!keep && slot_get(c, i) == 0)
		return;
	write_begin(c);
	/* The older record goes even when this one is not kept. */
	if (slot_get(c, i) != 0)
		unindex(c, slot_off(c, slot_get(c, i)));
	if (!keep) {
		write_end(c);
		return;
	}
	while (c->count >= c->max_count)
		evict_oldest(c);
	off = ring_alloc(c, size);
	memset(&rec.w[size / ALIGN - 1], 0, ALIGN); /* the padding after the text */
	rec.r.id = l->id;
	rec.r.expires_at = l->expires_at;
	rec.r.hash = hash;
	rec.r.gen = gen_get(c);
	rec.r.url_len = (uint16_t)url_len;
	rec.r.status = (uint16_t)l->status;
	rec.r.code_len = (uint8_t)code_len;
	rec.r.flags = REC_INDEXED | (l->forward_query ? REC_FORWARD_QUERY : 0) | (l->disabled ? REC_DISABLED : 0);
	memcpy(rec.r.text, l->code, code_len);
	memcpy(rec.r.text + code_len, l->url, url_len);
	for (size_t w = 0; w < size / ALIGN; w++)
		word_set(c, off + w * ALIGN, rec.w[w]);
	/* The evictions above may have moved records within the index. */
	i = find_slot(c, l->code, code_len, hash);
	slot_set(c, i, slot_make(c, hash, off));
	c->count++;
	current_add(c, 1);
	write_end(c);
}

void link_cache_invalidate(struct link_cache *c)
{
	write_begin(c);
	atomic_store_explicit(&c->current, 0, memory_order_relaxed);
	atomic_store_explicit(&c->gen, gen_get(c) + 1, memory_order_relaxed);
	if (gen_get(c) == 0) {
		/* After 2^32 generations an old record's could come round again:
		 * start from an empty cache instead. */
		for (size_t i = 0; i <= c->mask; i++)
			slot_set(c, i, 0);
		c->count = 0;
		c->head = c->tail = c->end = 0;
		c->wrapped = false;
	}
	write_end(c);
}

size_t link_cache_count(const struct link_cache *c)
{
	return atomic_load_explicit(&c->current, memory_order_relaxed);
}
