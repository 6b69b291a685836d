/*
 * shortd_trigram_contains(): a substring test in the trigram index's own
 * terms. A phrase query on a trigram index finds a text when q's trigrams
 * follow each other in it, which is when the text, folded as the tokenizer
 * folds it, contains q folded the same way. The folding is the tokenizer's
 * (Unicode case, character by character, some characters changing their
 * length in UTF-8), so the text is folded by tokenizing it: the first
 * trigram whole, then the last character of each next one.
 *
 * One tokenizer a connection, made at registration and freed with the
 * connection; a connection is used by one thread at a time.
 */
#include "store_sqlite_trigram.h"

#include <stdbool.h>
#include <string.h>

struct trigram {
	fts5_tokenizer api;
	Fts5Tokenizer *tok;
};

struct folding {
	sqlite3_str *out;
	bool first;
};

/* The byte offset of the character after the first n of s[len]. */
static int skip_chars(const char *s, int len, int n)
{
	int i = 0;

	for (; n > 0 && i < len; n--)
		for (i++; i < len && ((unsigned char)s[i] & 0xc0) == 0x80; i++)
			;
	return i;
}

static int fold_token(void *ctx, int flags, const char *token, int len, int start, int end)
{
	struct folding *f = ctx;
	int from = f->first ? 0 : skip_chars(token, len, 2);

	(void)flags;
	(void)start;
	(void)end;
	f->first = false;
	sqlite3_str_append(f->out, token + from, len - from);
	return SQLITE_OK;
}

/* text[len] folded into *out, a string of db's that the caller frees with
 * sqlite3_free() whatever the result, *outlen its length: empty for a text
 * of fewer than 3 characters. An SQLite result code (SQLITE_NOMEM). */
static int fold(struct trigram *t, sqlite3 *db, const char *text, int len, char **out, int *outlen)
{
	struct folding f = {sqlite3_str_new(db), true};
	int rc = t->api.xTokenize(t->tok, &f, FTS5_TOKENIZE_DOCUMENT, text, len, fold_token);

	*outlen = sqlite3_str_length(f.out);
	/* Never empty, so never NULL from sqlite3_str_finish() but for an error. */
	sqlite3_str_appendchar(f.out, 1, '\0');
	if (rc == SQLITE_OK)
		rc = sqlite3_str_errcode(f.out);
	*out = sqlite3_str_finish(f.out);
	return rc;
}

/* q is folded again for each text: a q reads fewer than 64 links. */
static void contains(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct trigram *t = sqlite3_user_data(ctx);
	sqlite3 *db = sqlite3_context_db_handle(ctx);
	const char *text, *q;
	char *ftext = NULL, *fq = NULL;
	int ntext, nq, rc;

	(void)argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL || sqlite3_value_type(argv[1]) == SQLITE_NULL) {
		sqlite3_result_int(ctx, 0);
		return;
	}
	/* NULL now only where the value could not be had as text. */
	text = (const char *)sqlite3_value_text(argv[0]);
	q = (const char *)sqlite3_value_text(argv[1]);
	rc = text != NULL && q != NULL ? fold(t, db, q, sqlite3_value_bytes(argv[1]), &fq, &nq) : SQLITE_NOMEM;
	if (rc == SQLITE_OK)
		rc = fold(t, db, text, sqlite3_value_bytes(argv[0]), &ftext, &ntext);
	if (rc != SQLITE_OK)
		sqlite3_result_error_code(ctx, rc);
	else
		sqlite3_result_int(ctx, nq > 0 && memmem(ftext, (size_t)ntext, fq, (size_t)nq) != NULL);
	sqlite3_free(fq);
	sqlite3_free(ftext);
}

static void trigram_free(void *p)
{
	struct trigram *t = p;

	t->api.xDelete(t->tok);
	sqlite3_free(t);
}

/* The connection's FTS5 API, NULL without FTS5. */
static fts5_api *fts5_of(sqlite3 *db)
{
	fts5_api *api = NULL;
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_pointer(st, 1, &api, "fts5_api_ptr", NULL);
	sqlite3_step(st);
	sqlite3_finalize(st);
	return api;
}

int trigram_contains_register(sqlite3 *db)
{
	fts5_api *api = fts5_of(db);
	struct trigram *t;
	void *user;
	int rc;

	if (api == NULL)
		return SQLITE_ERROR;
	t = sqlite3_malloc(sizeof(*t));
	rc = t != NULL ? api->xFindTokenizer(api, "trigram", &user, &t->api) : SQLITE_NOMEM;
	if (rc == SQLITE_OK)
		rc = t->api.xCreate(user, NULL, 0, &t->tok);
	if (rc != SQLITE_OK) {
		sqlite3_free(t);
		return rc;
	}
	/* On failure sqlite3_create_function_v2() frees t through trigram_free. */
	return sqlite3_create_function_v2(db, "shortd_trigram_contains", 2,
	                                  SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, t, contains, NULL,
	                                  NULL, trigram_free);
}
