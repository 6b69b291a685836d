/*
 * Unit tests of store_sqlite_trigram.c: shortd_trigram_contains() answers
 * as a phrase query on an FTS5 trigram index answers, on a scratch
 * in-memory database that has both.
 */
#include <check.h>
#include <sqlite3.h>
#include <string.h>

#include "store_sqlite_trigram.h"

static sqlite3 *open_db(void)
{
	sqlite3 *db;

	ck_assert_int_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
	ck_assert_int_eq(trigram_contains_register(db), SQLITE_OK);
	ck_assert_int_eq(
	    sqlite3_exec(db, "CREATE VIRTUAL TABLE t USING fts5 (x, tokenize = 'trigram')", NULL, NULL, NULL),
	    SQLITE_OK);
	return db;
}

/* shortd_trigram_contains(text, q), text and q NULL where given NULL. */
static int contains(sqlite3 *db, const char *text, const char *q)
{
	sqlite3_stmt *st;
	int v;

	ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT shortd_trigram_contains(?1, ?2)", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, q, -1, SQLITE_STATIC);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Whether the trigram index finds text for the phrase q. */
static int index_finds(sqlite3 *db, const char *text, const char *q)
{
	sqlite3_stmt *st;
	char phrase[256];
	size_t n = 0;
	int v;

	phrase[n++] = '"';
	for (; *q != '\0'; q++) {
		if (*q == '"')
			phrase[n++] = '"';
		phrase[n++] = *q;
	}
	phrase[n++] = '"';
	phrase[n] = '\0';
	ck_assert_int_eq(sqlite3_exec(db, "DELETE FROM t", NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "INSERT INTO t (x) VALUES (?1)", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT count(*) FROM t WHERE t MATCH ?1", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, phrase, -1, SQLITE_STATIC);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static const struct {
	const char *text, *q;
	int found;
} cases[] = {
    {"https://example.com/docs", "EXAMPLE", 1},
    {"https://example.com/docs", "com/doc", 1},
    {"https://example.com/docs", "com/dox", 0},
    {"https://example.com/docs", "https://example.com/docs", 1},
    {"https://example.com/docs", "https://example.com/docs/", 0},
    {"Cr\xc3\xa8me br\xc3\xbbl\xc3\xa9\x65", "BR\xc3\x9bL\xc3\x89\x45", 1}, /* é and É, û and Û */
    {"\xc3\x89T\xc3\x89", "\xc3\xa9t\xc3\xa9", 1},
    {"Stra\xc3\x9f\x65", "STRASSE", 0}, /* ß folds to itself */
    {"\xe2\x84\xaa"
     "elvin",
     "kelvin", 1},                                                           /* the Kelvin sign, 3 bytes, folds to k */
    {"\xc8\xba\xc8\xba\xc8\xba", "\xe2\xb1\xa5\xe2\xb1\xa5\xe2\xb1\xa5", 1}, /* Ⱥ, 2 bytes, folds to ⱥ, 3 */
    {"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", "\xe6\x9c\xac\xe8\xaa\x9e", 0}, /* 2 characters: too short */
    {"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 1},
    {"50%_\\ off \"today\"", "%_\\", 1},
    {"50%_\\ off \"today\"", "\"today\"", 1},
    {"ab", "ab", 0}, /* under 3 characters: nothing a trigram index finds */
    {"abc", "abcd", 0},
    {"aaaa", "aaa", 1},
};

/* Each case as the index answers it, and as the case says. */
START_TEST(test_contains_as_the_index_finds)
{
	sqlite3 *db = open_db();

	ck_assert_msg(contains(db, cases[_i].text, cases[_i].q) == cases[_i].found, "\"%s\" in \"%s\"", cases[_i].q,
	              cases[_i].text);
	ck_assert_int_eq(index_finds(db, cases[_i].text, cases[_i].q), cases[_i].found);
	sqlite3_close(db);
}
END_TEST

/* NULL on either side, and one q for many texts in one statement. */
START_TEST(test_contains_null_and_many_rows)
{
	sqlite3 *db = open_db();
	sqlite3_stmt *st;

	ck_assert_int_eq(contains(db, NULL, "abc"), 0);
	ck_assert_int_eq(contains(db, "abc", NULL), 0);
	ck_assert_int_eq(sqlite3_exec(db,
	                              "CREATE TABLE l (x TEXT); INSERT INTO l VALUES ('https://a.example/'), (NULL), "
	                              "('HTTPS://B.EXAMPLE/'), ('none')",
	                              NULL, NULL, NULL),
	                 SQLITE_OK);
	ck_assert_int_eq(
	    sqlite3_prepare_v2(db, "SELECT count(*) FROM l WHERE shortd_trigram_contains(x, ?1)", -1, &st, NULL),
	    SQLITE_OK);
	sqlite3_bind_text(st, 1, "Example/", -1, SQLITE_STATIC);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_int(st, 0), 2);
	sqlite3_finalize(st);
	sqlite3_close(db);
}
END_TEST

Suite *store_sqlite_trigram_suite(void)
{
	Suite *s = suite_create("store_sqlite_trigram");
	TCase *tc = tcase_create("contains");

	tcase_add_loop_test(tc, test_contains_as_the_index_finds, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_contains_null_and_many_rows);
	suite_add_tcase(s, tc);
	return s;
}
