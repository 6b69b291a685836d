/*
 * q on links that wait to be indexed: an SQL function that tells whether a
 * text contains q the way a phrase query on link_search's trigram index
 * would find it, case folded by the trigram tokenizer itself. Only the
 * SQLite backend uses it, on its own connections; the triggers that keep
 * the index do not, so any SQLite client may still write links.
 */
#ifndef SHORTD_STORE_SQLITE_TRIGRAM_H
#define SHORTD_STORE_SQLITE_TRIGRAM_H

#include <sqlite3.h>

/*
 * Registers shortd_trigram_contains(text, q) on db: 1 when text, folded as
 * FTS5's "trigram" tokenizer folds it (its defaults, as link_search was
 * made with), contains q folded the same way, else 0; 0 for a NULL text,
 * and for a q of fewer than 3 characters, which a trigram index cannot
 * answer either. The tokenizer it makes is freed with db. An SQLite result
 * code: SQLITE_ERROR where the library has no FTS5 or no trigram tokenizer.
 */
int trigram_contains_register(sqlite3 *db);

#endif
