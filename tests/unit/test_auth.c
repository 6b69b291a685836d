/*
 * auth_check against a real store: every spelling of the Authorization
 * header it must refuse or accept, the fixed token of SHORTD_ADMIN_TOKEN,
 * the store's tokens by role, a revoked or wrong one, and a store that
 * cannot answer; auth_bootstrap makes the first token once.
 */
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "harness.h"

#define NOW 1700000000
#define FIXED "fixed-admin-token-0123456789abcdefghijklmnopq"
#define READER "reader-token-0123456789abcdefghijklmnopqrstuv"
#define READER_NAME "reader"

static char dir[256];
static char path[300];
static struct store *st;

static void fixture_setup(void)
{
	char e[256];
	unsigned char hash[STORE_TOKEN_HASH_LEN];

	tempdb_make("auth", dir, sizeof(dir), path, sizeof(path));
	ck_assert_msg(store_open(path, &st, e, sizeof(e)) == STORE_OK, "%s", e);
	auth_token_hash(READER, hash);
	ck_assert_int_eq(store_token_add(st, READER_NAME, hash, STORE_ROLE_READ_ONLY, NOW), STORE_OK);
}

static void fixture_teardown(void)
{
	store_close(st);
	tempdb_remove(dir, path);
}

START_TEST(test_header_spellings)
{
	static const struct {
		const char *header;
		enum auth_result want;
		enum store_role role;
		const char *name;
	} rows[] = {
	    {NULL, AUTH_MISSING, 0, NULL},
	    {"", AUTH_MISSING, 0, NULL},
	    {"Basic " FIXED, AUTH_MISSING, 0, NULL},
	    {"Bearer", AUTH_MISSING, 0, NULL},
	    {"Bearer ", AUTH_MISSING, 0, NULL},
	    {"Bearer \t \t", AUTH_MISSING, 0, NULL},
	    {"Bearer" FIXED, AUTH_MISSING, 0, NULL},
	    {"Bearer:" FIXED, AUTH_MISSING, 0, NULL},
	    {"Bearer " FIXED, AUTH_OK, STORE_ROLE_ADMIN, AUTH_FIXED_TOKEN_NAME},
	    {"bearer " FIXED, AUTH_OK, STORE_ROLE_ADMIN, AUTH_FIXED_TOKEN_NAME},
	    {"BEARER\t" FIXED, AUTH_OK, STORE_ROLE_ADMIN, AUTH_FIXED_TOKEN_NAME},
	    {"Bearer  \t" FIXED " \t ", AUTH_OK, STORE_ROLE_ADMIN, AUTH_FIXED_TOKEN_NAME},
	    {"Bearer " READER, AUTH_OK, STORE_ROLE_READ_ONLY, NULL},
	    {"Bearer " FIXED "x", AUTH_INVALID, 0, NULL},
	    {"Bearer " FIXED " x", AUTH_INVALID, 0, NULL},
	    {"Bearer nobody-holds-this", AUTH_INVALID, 0, NULL},
	};
	unsigned char fixed[STORE_TOKEN_HASH_LEN];

	auth_token_hash(FIXED, fixed);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		enum store_role role = (enum store_role) - 1;
		char name[STORE_TOKEN_NAME_MAX + 1] = "";
		int64_t id = -1;
		enum auth_result got = auth_check(st, fixed, rows[i].header, &role, name, &id);

		ck_assert_msg(got == rows[i].want, "row %zu (%s): %d, not %d", i,
		              rows[i].header ? rows[i].header : "NULL", got, rows[i].want);
		if (got == AUTH_OK) {
			ck_assert_int_eq(role, rows[i].role);
			/* A stored token's name: the fixture's. */
			ck_assert_str_eq(name, rows[i].name != NULL ? rows[i].name : READER_NAME);
			/* the fixed token is in no row; the reader is the first */
			ck_assert_int_eq(id, role == STORE_ROLE_ADMIN ? 0 : 1);
			ck_assert_int_eq(auth_check(st, fixed, rows[i].header, &role, NULL, NULL), AUTH_OK);
		}
	}
	/* Without a fixed token, that one is just a token no one holds. */
	ck_assert_int_eq(auth_check(st, NULL, "Bearer " FIXED, &(enum store_role){0}, NULL, NULL), AUTH_INVALID);
}
END_TEST

/* The store cannot be read (its table gone from under it): unavailable,
 * not invalid, so the client is told 503 and not 401. */
START_TEST(test_store_that_cannot_answer)
{
	sqlite3 *db;
	enum store_role role;

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "DROP TABLE tokens", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	ck_assert_int_eq(auth_check(st, NULL, "Bearer " READER, &role, NULL, NULL), AUTH_UNAVAILABLE);
}
END_TEST

START_TEST(test_bootstrap_makes_the_first_token_once)
{
	char secret[AUTH_TOKEN_LEN + 1], again[AUTH_TOKEN_LEN + 1] = "";
	char header[64];
	bool created = true;
	enum store_role role;
	sqlite3 *db;

	/* The fixture's reader token exists: nothing is made. */
	ck_assert_int_eq(auth_bootstrap(st, NOW, secret, &created), STORE_OK);
	ck_assert(!created);

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "DELETE FROM tokens", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	ck_assert_int_eq(auth_bootstrap(st, NOW, secret, &created), STORE_OK);
	ck_assert(created);
	ck_assert_uint_eq(strlen(secret), AUTH_TOKEN_LEN);
	snprintf(header, sizeof(header), "Bearer %s", secret);
	ck_assert_int_eq(auth_check(st, NULL, header, &role, NULL, NULL), AUTH_OK);
	ck_assert_int_eq(role, STORE_ROLE_ADMIN);
	ck_assert_int_eq(auth_bootstrap(st, NOW, again, &created), STORE_OK);
	ck_assert(!created);
}
END_TEST

Suite *auth_suite(void)
{
	Suite *s = suite_create("auth");
	TCase *tc = tcase_create("auth");

	tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
	tcase_add_test(tc, test_header_spellings);
	tcase_add_test(tc, test_store_that_cannot_answer);
	tcase_add_test(tc, test_bootstrap_makes_the_first_token_once);
	suite_add_tcase(s, tc);
	return s;
}
