/*
 * The backend is chosen by the form of --db (or SHORTD_DB): a postgres:// or
 * postgresql:// URL names PostgreSQL, which this shortd is built without.
 * serve, init and every command that opens the database then exit 2 with one
 * line saying so, never echo the URL (it may carry a password), and create
 * nothing: not a SQLite file named like the URL.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"

#define URL "postgres://shortd:s3cret-pw@db.example/shortd"

static const char *const urls[] = {
    URL,
    "postgresql://shortd:s3cret-pw@db.example:5432/shortd?sslmode=require",
    "POSTGRESQL://shortd:s3cret-pw@db.example/shortd",
};

/* Each command that opens a database, with its arguments; --db is added
 * after them, or SHORTD_DB carries the URL. */
static const char *const *const commands[] = {
    (const char *const[]){"serve", "--listen", "127.0.0.1:0", NULL},
    (const char *const[]){"init", NULL},
    (const char *const[]){"add", "https://example.com/", "--base-url", "http://s.example", NULL},
    (const char *const[]){"get", "abc", "--base-url", "http://s.example", NULL},
    (const char *const[]){"list", NULL},
    (const char *const[]){"rm", "abc", NULL},
    (const char *const[]){"token", "create", "--name", "ci", NULL},
    (const char *const[]){"token", "list", NULL},
    (const char *const[]){"token", "revoke", "ci", NULL},
    (const char *const[]){"qr", "abc", "--base-url", "http://s.example", NULL},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))
#define N_URLS (sizeof(urls) / sizeof(urls[0]))

static void assert_refused(int status, const char *out, const char *err)
{
	struct stat sb;

	ck_assert_msg(status == 2, "exit %d, expected 2 (stderr: %s)", status, err);
	ck_assert_str_eq(out, "");
	ck_assert_msg(strncmp(err, "shortd: --db: PostgreSQL is not built in yet", 44) == 0, "stderr: %s", err);
	ck_assert_msg(strchr(err, '\n') == err + strlen(err) - 1, "not one line: %s", err);
	ck_assert_msg(strstr(err, "s3cret-pw") == NULL, "the password is shown: %s", err);
	ck_assert_int_eq(stat("postgres:", &sb), -1);
	ck_assert_int_eq(stat("postgresql:", &sb), -1);
	ck_assert_int_eq(stat("POSTGRESQL:", &sb), -1);
}

/* _i: a command and a URL; the URL in SHORTD_DB. */
START_TEST(test_postgres_url_in_the_variable_exits_2)
{
	char out[4096], err[4096];
	const char *url = urls[(size_t)_i / N_COMMANDS];

	assert_refused(shortd_run(url, out, sizeof(out), err, sizeof(err), commands[(size_t)_i % N_COMMANDS]), out,
	               err);
}
END_TEST

/* _i: a command; the URL given as --db, SHORTD_DB naming a path. */
START_TEST(test_postgres_url_in_the_flag_exits_2)
{
	const char *args[16];
	char out[4096], err[4096];
	size_t n = 0;

	for (const char *const *a = commands[_i]; *a != NULL; a++)
		args[n++] = *a;
	args[n++] = "--db";
	args[n++] = URL;
	args[n] = NULL;
	assert_refused(shortd_run("./no-such.db", out, sizeof(out), err, sizeof(err), args), out, err);
}
END_TEST

Suite *db_url_suite(void)
{
	Suite *s = suite_create("db_url");
	TCase *tc = tcase_create("postgres");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_postgres_url_in_the_variable_exits_2, 0, (int)(N_COMMANDS * N_URLS));
	tcase_add_loop_test(tc, test_postgres_url_in_the_flag_exits_2, 0, (int)N_COMMANDS);
	suite_add_tcase(s, tc);
	return s;
}
