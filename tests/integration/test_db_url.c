/*
 * The backend is chosen by the form of --db (or SHORTD_DB): a postgres:// or
 * postgresql:// URL names PostgreSQL. With no server there, serve, init and
 * every command that opens the database exit 1 with one line that names the
 * database without the URL's password, and create nothing: not a SQLite
 * file named like the URL. (Port 1 of 127.0.0.1 refuses at once.)
 *
 * libpq is loaded only for a PostgreSQL database: a daemon on SQLite has
 * none of it (nor OpenSSL's and Kerberos's pages) in its memory, and a
 * libpq.so.5 that is not libpq refuses the database in one line.
 */
#include <check.h>
#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#define URL "postgres://shortd:s3cret-pw@127.0.0.1:1/shortd"

static const char *const urls[] = {
    URL,
    "postgresql://shortd:s3cret-pw@127.0.0.1:1/shortd?sslmode=disable&password=s3cret-pw",
    "POSTGRESQL://shortd:s3cret-pw@127.0.0.1:1/shortd",
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
    (const char *const[]){"migrate", "./no-such-target.db", NULL},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))
#define N_URLS (sizeof(urls) / sizeof(urls[0]))

static void assert_refused(int status, const char *out, const char *err)
{
	struct stat sb;

	ck_assert_msg(status == 1, "exit %d, expected 1 (stderr: %s)", status, err);
	ck_assert_str_eq(out, "");
	ck_assert_msg(strstr(err, "shortd@127.0.0.1:1/shortd") != NULL && strstr(err, ": cannot connect: ") != NULL,
	              "stderr: %s", err);
	ck_assert_msg(strchr(err, '\n') == err + strlen(err) - 1, "not one line: %s", err);
	ck_assert_msg(strstr(err, "s3cret-pw") == NULL, "the password is shown: %s", err);
	ck_assert_int_eq(stat("postgres:", &sb), -1);
	ck_assert_int_eq(stat("postgresql:", &sb), -1);
	ck_assert_int_eq(stat("POSTGRESQL:", &sb), -1);
}

/* _i: a command and a URL; the URL in SHORTD_DB. */
START_TEST(test_unreachable_postgres_url_in_the_variable_exits_1)
{
	char out[4096], err[4096];
	const char *url = urls[(size_t)_i / N_COMMANDS];

	assert_refused(shortd_run(url, out, sizeof(out), err, sizeof(err), commands[(size_t)_i % N_COMMANDS]), out,
	               err);
}
END_TEST

/* _i: a command; the URL given as --db, SHORTD_DB naming a path. */
START_TEST(test_unreachable_postgres_url_in_the_flag_exits_1)
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

/* _i: a command. A libpq.so.5 that is not libpq (zlib under that name,
 * first on the library path): the command exits 1 with one line that names
 * the database and the library, and makes nothing. */
START_TEST(test_a_library_that_is_not_libpq_is_refused)
{
	char dir[] = "/tmp/shortd-fakepq-XXXXXX", fake[64], out[4096], err[4096];
	void *zlib_fn = dlsym(RTLD_DEFAULT, "zlibVersion"); /* libpng's zlib, in this process */
	Dl_info info;
	struct stat sb;
	int status;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_msg(zlib_fn != NULL && dladdr(zlib_fn, &info) != 0, "zlib is not loaded");
	snprintf(fake, sizeof(fake), "%s/libpq.so.5", dir);
	ck_assert_int_eq(symlink(info.dli_fname, fake), 0);
	ck_assert_int_eq(setenv("LD_LIBRARY_PATH", dir, 1), 0);
	status = shortd_run(URL, out, sizeof(out), err, sizeof(err), commands[_i]);
	unsetenv("LD_LIBRARY_PATH");
	unlink(fake);
	rmdir(dir);
	ck_assert_msg(status == 1, "exit %d, expected 1 (stderr: %s)", status, err);
	ck_assert_str_eq(out, "");
	ck_assert_msg(strstr(err, "shortd: postgres://shortd@127.0.0.1:1/shortd: libpq.so.5 has no function PQclear: "
	                          "not libpq") != NULL,
	              "stderr: %s", err);
	ck_assert_msg(strchr(err, '\n') == err + strlen(err) - 1, "not one line: %s", err);
	ck_assert_msg(strstr(err, "s3cret-pw") == NULL, "the password is shown: %s", err);
	ck_assert_int_eq(stat("postgres:", &sb), -1);
}
END_TEST

/* Whether process pid has libpq mapped. */
static bool maps_libpq(pid_t pid)
{
	char path[64], line[1024];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot read %s", path);
	while (fgets(line, sizeof(line), f) != NULL)
		found = found || strstr(line, "/libpq.so") != NULL;
	fclose(f);
	return found;
}

START_TEST(test_libpq_is_loaded_only_for_postgres)
{
	struct daemon d;
	struct http_result r;
	char url[128];

	daemon_prepare(&d);
	ck_assert_int_eq(daemon_start(&d, NULL, NULL), 0);
	snprintf(url, sizeof(url), "%s/healthz", d.base);
	ck_assert_int_eq(http_do("GET", url, NULL, 0, NULL, false, &r), 0);
	ck_assert_int_eq(r.status, 200);
	http_result_free(&r);
	ck_assert_msg(maps_libpq(d.pid) == harness_uses_pg(), "libpq %s on %s",
	              maps_libpq(d.pid) ? "loaded" : "not loaded", harness_uses_pg() ? "PostgreSQL" : "SQLite");
	ck_assert_int_eq(daemon_stop(&d), 0);
	daemon_cleanup(&d);
}
END_TEST

Suite *db_url_suite(void)
{
	Suite *s = suite_create("db_url");
	TCase *tc = tcase_create("postgres");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_unreachable_postgres_url_in_the_variable_exits_1, 0, (int)(N_COMMANDS * N_URLS));
	tcase_add_loop_test(tc, test_unreachable_postgres_url_in_the_flag_exits_1, 0, (int)N_COMMANDS);
	tcase_add_test(tc, test_libpq_is_loaded_only_for_postgres);
	tcase_add_loop_test(tc, test_a_library_that_is_not_libpq_is_refused, 0, (int)N_COMMANDS);
	suite_add_tcase(s, tc);
	return s;
}
