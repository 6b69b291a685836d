/*
 * `shortd migrate`; see cmd_migrate.h. The copy is one store_dump() of the
 * source inside one store_load() of the target; the check is a second
 * store_dump(), of the target. Both passes hash each link with its history
 * (and each token) the same way, without ids, which the target gives anew:
 * the copy keeps the source's hashes in order and the check compares the
 * target's with them, so a link that differs is named, and the order of
 * the links (by id) is checked with their fields.
 *
 * Invariant: nothing is written to the target outside store_load()'s one
 * transaction, but the schema that opening it makes, and a SQLite file
 * this command created is removed again when the copy fails.
 */
#include "cmd_migrate.h"

#include <errno.h>
#include <getopt.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd_common.h"
#include "store.h"

#define DIGEST_LEN 16

/* What one pass over a database saw. */
struct tally {
	int64_t links, tokens, days, referrers;
};

/* The hashes of the rows the copy read, in order: one a link, one a token. */
struct digests {
	unsigned char (*d)[DIGEST_LEN];
	size_t n, cap;
};

struct migrate {
	struct store *src;
	struct store_loader *ld; /* the target's open load, while copying */
	bool checking;           /* the second pass: compare, do not keep */
	bool filled;             /* the load found the target empty and began */
	struct link *copy;       /* the link being copied, with its id in the target */
	crypto_generichash_state st;
	bool in_link;                 /* st holds the current link's hash */
	char code[LINK_CODE_MAX + 1]; /* the current link's code */
	struct tally seen, checked;
	struct digests links, tokens;
	char differs[LINK_CODE_MAX + 80]; /* the first difference the check found; "" for none */
};

/* ---- hashing: every field but the id, each with its length ---- */

static void hash_int(crypto_generichash_state *st, int64_t v)
{
	unsigned char b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)((uint64_t)v >> (8 * i));
	crypto_generichash_update(st, b, sizeof(b));
}

static void hash_str(crypto_generichash_state *st, const char *s)
{
	hash_int(st, (int64_t)strlen(s));
	crypto_generichash_update(st, (const unsigned char *)s, strlen(s));
}

static void hash_link(crypto_generichash_state *st, const struct link *l)
{
	crypto_generichash_init(st, NULL, 0, DIGEST_LEN);
	hash_str(st, l->code);
	hash_str(st, l->url);
	hash_int(st, l->status);
	hash_int(st, l->forward_query);
	hash_int(st, l->disabled);
	hash_int(st, l->created_at);
	hash_int(st, l->updated_at);
	hash_int(st, l->expires_at);
	hash_int(st, l->max_clicks);
	hash_int(st, l->clicks);
	hash_int(st, l->bot_clicks);
	hash_int(st, l->last_click_at);
	hash_str(st, l->title);
	hash_int(st, l->n_tags);
	for (int i = 0; i < l->n_tags; i++)
		hash_str(st, l->tags[i]);
	hash_str(st, l->created_by);
	hash_str(st, l->updated_by);
}

static void hash_history(crypto_generichash_state *st, const struct store_history_row *h)
{
	hash_int(st, h->host != NULL);
	hash_int(st, h->day);
	hash_str(st, h->host != NULL ? h->host : "");
	hash_int(st, h->clicks);
	hash_int(st, h->bot_clicks);
}

/* Copying: keeps d as row i of set. Checking: compares it with row i,
 * noting the first row that differs as what says. STORE_OK, or
 * STORE_ERROR out of memory. */
static int keep_or_compare(struct migrate *m, struct digests *set, int64_t i, const unsigned char *d, const char *what)
{
	if (m->checking) {
		if (m->differs[0] == '\0' && ((size_t)i >= set->n || memcmp(set->d[i], d, DIGEST_LEN) != 0))
			snprintf(m->differs, sizeof(m->differs), "%s differs", what);
		return STORE_OK;
	}
	if (set->n == set->cap) {
		size_t cap = 2 * set->cap + 1024;
		void *d2 = realloc(set->d, cap * DIGEST_LEN);
		if (d2 == NULL)
			return STORE_ERROR;
		set->d = d2;
		set->cap = cap;
	}
	memcpy(set->d[set->n++], d, DIGEST_LEN);
	return STORE_OK;
}

/* Ends the current link's hash, its history included. */
static int link_done(struct migrate *m)
{
	struct tally *t = m->checking ? &m->checked : &m->seen;
	unsigned char d[DIGEST_LEN];
	char what[sizeof(m->differs)];

	if (!m->in_link)
		return STORE_OK;
	m->in_link = false;
	crypto_generichash_final(&m->st, d, DIGEST_LEN);
	snprintf(what, sizeof(what), "link '%s'", m->code);
	return keep_or_compare(m, &m->links, t->links - 1, d, what);
}

/* ---- the two passes' callbacks ---- */

static int on_link(const struct link *l, void *ctx)
{
	struct migrate *m = ctx;
	int status = link_done(m);

	if (status != STORE_OK)
		return status;
	hash_link(&m->st, l);
	m->in_link = true;
	snprintf(m->code, sizeof(m->code), "%s", l->code);
	if (m->checking) {
		m->checked.links++;
		return STORE_OK;
	}
	m->seen.links++;
	*m->copy = *l;
	return store_load_link(m->ld, m->copy);
}

static int on_history(const struct store_history_row *h, void *ctx)
{
	struct migrate *m = ctx;
	struct tally *t = m->checking ? &m->checked : &m->seen;
	struct store_history_row row = *h;

	hash_history(&m->st, h);
	t->days += h->host == NULL;
	t->referrers += h->host != NULL;
	if (m->checking)
		return STORE_OK;
	row.link_id = m->copy->id; /* the history follows its link */
	return store_load_history(m->ld, &row);
}

static int on_token(const struct store_token *t, void *ctx)
{
	struct migrate *m = ctx;
	struct tally *tl = m->checking ? &m->checked : &m->seen;
	crypto_generichash_state st;
	unsigned char d[DIGEST_LEN];
	char what[sizeof(m->differs)];
	int status = link_done(m);

	if (status != STORE_OK)
		return status;
	crypto_generichash_init(&st, NULL, 0, DIGEST_LEN);
	hash_str(&st, t->name);
	crypto_generichash_update(&st, t->hash, STORE_TOKEN_HASH_LEN);
	hash_int(&st, t->role);
	hash_int(&st, t->created_at);
	hash_int(&st, t->last_used_at);
	crypto_generichash_final(&st, d, DIGEST_LEN);
	snprintf(what, sizeof(what), "token '%s'", t->name);
	status = keep_or_compare(m, &m->tokens, tl->tokens++, d, what);
	return status != STORE_OK || m->checking ? status : store_load_token(m->ld, t);
}

static const struct store_dump_fns pass_fns = {on_link, on_history, on_token};

/* The copy: the whole source, read inside the target's one transaction. */
static int fill(struct store_loader *ld, void *ctx)
{
	struct migrate *m = ctx;
	int status;

	m->ld = ld;
	m->filled = true;
	status = store_dump(m->src, &pass_fns, m);
	if (status == STORE_OK)
		status = link_done(m);
	m->ld = NULL;
	return status;
}

/* ---- the command ---- */

static const char *plural(int64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* "N links, N tokens, N days of clicks, N referrer rows" into buf. */
static const char *summary(const struct tally *t, char *buf, size_t size)
{
	snprintf(buf, size, "%lld %s, %lld %s, %lld %s, %lld %s", (long long)t->links,
	         plural(t->links, "link", "links"), (long long)t->tokens, plural(t->tokens, "token", "tokens"),
	         (long long)t->days, plural(t->days, "day of clicks", "days of clicks"), (long long)t->referrers,
	         plural(t->referrers, "referrer row", "referrer rows"));
	return buf;
}

/* Whether path names nothing, nor does its -wal: a SQLite target that this
 * command will make. A -wal without its file may hold a database's data
 * (store.h), and is never removed. */
static bool is_absent(const char *path)
{
	char wal[4096];
	struct stat sb;

	snprintf(wal, sizeof(wal), "%s-wal", path);
	return stat(path, &sb) != 0 && errno == ENOENT && stat(wal, &sb) != 0 && errno == ENOENT;
}

/* A SQLite target this command made goes again, with its -wal and -shm. */
static void remove_created(const char *path)
{
	char side[4096];

	unlink(path);
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
}

/* Reads the target back and compares it with what the copy read: 0, or -1
 * with the difference said. */
static int check(struct migrate *m, struct store *dst)
{
	const char *name = store_display_name(dst);
	char read[160];
	int status;

	m->checking = true;
	status = store_dump(dst, &pass_fns, m);
	if (status == STORE_OK)
		status = link_done(m);
	if (status != STORE_OK) {
		fprintf(stderr, "shortd: migrate: %s could not be read back: %s\n", name, store_status_message(status));
		return -1;
	}
	if (m->differs[0] == '\0' && memcmp(&m->seen, &m->checked, sizeof(m->seen)) != 0)
		snprintf(m->differs, sizeof(m->differs), "the counts differ");
	if (m->differs[0] == '\0')
		return 0;
	fprintf(stderr,
	        "shortd: migrate: %s does not match what was read (%s; read %s, found %lld, %lld, %lld, %lld); the "
	        "copy is there: remove it before migrating again\n",
	        name, m->differs, summary(&m->seen, read, sizeof(read)), (long long)m->checked.links,
	        (long long)m->checked.tokens, (long long)m->checked.days, (long long)m->checked.referrers);
	return -1;
}

static int migrate(struct migrate *m, const char *target)
{
	struct store *dst = NULL;
	bool created = is_absent(target);
	char err[512], line[160];
	int status, rc = CMD_EXIT_FAIL;

	status = store_open(target, &dst, err, sizeof(err));
	if (status != STORE_OK) {
		fprintf(stderr, "shortd: %s\n", err);
		rc = status == STORE_UNSUPPORTED ? CMD_EXIT_USAGE : CMD_EXIT_FAIL;
		goto out;
	}
	created = created && !store_is_shared(dst);
	status = store_load(dst, fill, m);
	if (status == STORE_CONFLICT && !m->filled) {
		fprintf(stderr,
		        "shortd: migrate: %s is not empty: it holds links or tokens (migrate copies only into a new or "
		        "empty database); nothing was written\n",
		        store_display_name(dst));
		goto out;
	}
	if (status != STORE_OK) {
		/* A conflict now is a row of the source that a constraint of the
		 * target (a trigger, a unique key) refused. */
		fprintf(stderr, "shortd: migrate: copying %s to %s failed: %s; nothing was written\n",
		        store_display_name(m->src), store_display_name(dst),
		        status == STORE_CONFLICT ? "the target refused a row" : store_status_message(status));
		goto out;
	}
	created = false; /* the copy is there: it stays, checked or not */
	if (check(m, dst) != 0)
		goto out;
	printf("migrated %s: verified\n", summary(&m->seen, line, sizeof(line)));
	rc = 0;
out:
	store_close(dst);
	if (created)
		remove_created(target);
	return rc;
}

int cmd_migrate_main(int argc, char **argv)
{
	static const struct option opts[] = {
	    CMD_COMMON_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	struct migrate m = {0};
	struct cmd_common c;
	const char *target;
	int opt, rc;

	cmd_common_init(&c);
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (!cmd_common_opt(&c, opt, optarg))
			return cmd_bad_option(opt, argv);
	}
	if (optind + 1 != argc)
		return cmd_usage_error("migrate: expected exactly one TARGET (shortd migrate --db SOURCE TARGET)");
	target = argv[optind];
	if (target[0] == '\0')
		return cmd_usage_error("migrate: TARGET must not be empty");
	if ((rc = cmd_common_finish(&c, false)) != 0)
		return rc;
	if (strcmp(c.db, target) == 0)
		return cmd_usage_error("migrate: the source and the target are the same database");
	if ((m.copy = malloc(sizeof(*m.copy))) == NULL)
		return CMD_EXIT_FAIL;
	if ((rc = cmd_open_store(&c, &m.src)) == 0)
		rc = migrate(&m, target);
	store_close(m.src);
	free(m.copy);
	free(m.links.d);
	free(m.tokens.d);
	return rc;
}
