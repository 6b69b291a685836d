/*
 * The admin CLI (add, get, list, rm, token) run as a process on the database
 * the daemon is serving at the same time: each subcommand's output and exit
 * status (0; 1 when not found, taken or failed; 2 on bad input with a
 * one-line error), and that the daemon sees what the CLI did and the other
 * way round. Only serve and init create a database: every other command on
 * a path with none exits 1 naming it and leaves no file behind.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "migrations.h"
#include "test_api_client.h"

static struct daemon d;
static char out[65536], err[4096];

static void setup(void)
{
	api_daemon_start(&d, NULL);
}

static void teardown(void)
{
	api_daemon_stop(&d);
}

/* Runs shortd with args against the daemon's database. */
static int run(const char *const *args)
{
	return shortd_run(d.db, out, sizeof(out), err, sizeof(err), args);
}

/* Asserts a usage or runtime failure: status, nothing on stdout, and one
 * line on stderr starting "shortd: " that contains needle. */
static void assert_failed(int status, int expected, const char *needle)
{
	ck_assert_msg(status == expected, "exit %d, expected %d (stderr: %s)", status, expected, err);
	ck_assert_str_eq(out, "");
	ck_assert_msg(strncmp(err, "shortd: ", 8) == 0, "stderr: %s", err);
	ck_assert_msg(strchr(err, '\n') == err + strlen(err) - 1, "not one line: %s", err);
	ck_assert_msg(strstr(err, needle) != NULL, "'%s' not in: %s", needle, err);
}

static long api_status(const char *method, const char *path)
{
	struct http_result r;
	long status = api_call(&d, API_TEST_TOKEN, method, path, NULL, &r);

	http_result_free(&r);
	return status;
}

START_TEST(test_add_prints_the_short_url)
{
	const char *args[] = {"add", "https://t.example/cli", "--code", "fromcli", "--status", "308",
			      "--expires", "2030-01-31T12:00:00Z", "--max-clicks", "9", "--forward-query",
			      "--base-url", d.base, NULL};
	char expected[128];
	struct http_result r;
	json_t *l;

	ck_assert_int_eq(run(args), 0);
	snprintf(expected, sizeof(expected), "%s/fromcli\n", d.base);
	ck_assert_str_eq(out, expected);
	/* The daemon serves the link at once, with every option. */
	ck_assert_int_eq(api_call(&d, API_TEST_TOKEN, "GET", "/api/v1/links/fromcli", NULL, &r), 200);
	l = api_body(&r);
	http_result_free(&r);
	ck_assert_str_eq(api_str(l, "url"), "https://t.example/cli");
	ck_assert_int_eq(api_int(l, "status"), 308);
	ck_assert_str_eq(api_str(l, "expires_at"), "2030-01-31T12:00:00Z");
	ck_assert_int_eq(api_int(l, "max_clicks"), 9);
	ck_assert(json_is_true(json_object_get(l, "forward_query")));
	json_decref(l);
	snprintf(expected, sizeof(expected), "%s/fromcli", d.base);
	ck_assert_int_eq(http_do("GET", expected, NULL, 0, NULL, false, &r), 0);
	ck_assert_int_eq(r.status, 308);
	http_result_free(&r);
}
END_TEST

START_TEST(test_add_generates_a_code)
{
	const char *args[] = {"add", "https://t.example/gen", "--base-url", d.base, NULL};
	char path[128];
	size_t n = strlen(d.base);

	ck_assert_int_eq(run(args), 0);
	ck_assert(strncmp(out, d.base, n) == 0 && out[n] == '/');
	ck_assert_uint_eq(strlen(out + n + 1), 8); /* 7 characters and a newline */
	snprintf(path, sizeof(path), "/api/v1/links/%.7s", out + n + 1);
	ck_assert_int_eq(api_status("GET", path), 200);
}
END_TEST

struct bad_add {
	const char *args[8];
	int status;
	const char *needle;
};

static const struct bad_add bad_adds[] = {
	{{"add", NULL}, 2, "expected exactly one URL"},
	{{"add", "https://a.example", "https://b.example", NULL}, 2, "expected exactly one URL"},
	{{"add", "ftp://t.example", NULL}, 2, "invalid_url"},
	{{"add", "not a url", NULL}, 2, "invalid_url"},
	{{"add", "https://t.example", "--code", "api", NULL}, 2, "invalid_code"},
	{{"add", "https://t.example", "--code", "a/b", NULL}, 2, "invalid_code"},
	{{"add", "https://t.example", "--status", "200", NULL}, 2, "--status"},
	{{"add", "https://t.example", "--expires", "tomorrow", NULL}, 2, "--expires"},
	{{"add", "https://t.example", "--max-clicks", "-1", NULL}, 2, "--max-clicks"},
	{{"add", "https://t.example", "--colour", "red", NULL}, 2, "--colour"},
	{{"add", "https://t.example", "--code", NULL}, 2, "--code"},
	{{"add", "https://t.example", "--code", "taken", NULL}, 1, "code_taken"},
	{{"add", "https://t.example", "--base-url", "ftp://s.example", NULL}, 2, "--base-url"},
	{{"add", "https://t.example", "--base-url", "https://s.example/?q=1", NULL}, 2, "--base-url"},
};

START_TEST(test_add_refuses_bad_input)
{
	const struct bad_add *c = &bad_adds[_i];
	char *before, *after;

	json_decref(api_create(&d, "{\"url\":\"https://t.example/kept\",\"code\":\"taken\"}"));
	before = api_list_text(&d);
	assert_failed(run(c->args), c->status, c->needle);
	after = api_list_text(&d);
	ck_assert_str_eq(before, after);
	free(before);
	free(after);
}
END_TEST

START_TEST(test_get_prints_the_link_json)
{
	static const char *const args[] = {"get", "shown", NULL};
	json_error_t jerr;
	json_t *l;

	json_decref(api_create(&d, "{\"url\":\"https://t.example/get\",\"code\":\"shown\",\"max_clicks\":4}"));
	ck_assert_int_eq(run(args), 0);
	ck_assert_str_eq(err, "");
	l = json_loads(out, 0, &jerr);
	ck_assert_msg(l != NULL, "not JSON: %s", out);
	ck_assert_uint_eq(json_object_size(l), 11);
	ck_assert_str_eq(api_str(l, "code"), "shown");
	ck_assert_str_eq(api_str(l, "url"), "https://t.example/get");
	ck_assert_int_eq(api_int(l, "max_clicks"), 4);
	ck_assert(json_is_null(json_object_get(l, "expires_at")));
	json_decref(l);
}
END_TEST

START_TEST(test_get_missing_is_1_and_bad_code_is_2)
{
	static const char *const missing[] = {"get", "nope", NULL};
	static const char *const bad[] = {"get", "a b", NULL};
	static const char *const none[] = {"get", NULL};

	assert_failed(run(missing), 1, "no such link");
	assert_failed(run(bad), 2, "invalid code");
	assert_failed(run(none), 2, "expected exactly one CODE");
}
END_TEST

START_TEST(test_list_prints_one_line_per_link)
{
	static const char *const all[] = {"list", NULL};
	static const char *const one[] = {"list", "--limit", "1", NULL};
	static const char *const zero[] = {"list", "--limit", "0", NULL};
	static const char *const extra[] = {"list", "x", NULL};

	ck_assert_int_eq(run(all), 0);
	ck_assert_str_eq(out, "");
	json_decref(api_create(&d, "{\"url\":\"https://t.example/1\",\"code\":\"one\",\"status\":301}"));
	json_decref(api_create(&d, "{\"url\":\"https://t.example/2\",\"code\":\"two\"}"));
	ck_assert_int_eq(run(all), 0);
	ck_assert_str_eq(out, "one\t301\t0\thttps://t.example/1\ntwo\t302\t0\thttps://t.example/2\n");
	ck_assert_int_eq(run(one), 0);
	ck_assert_str_eq(out, "one\t301\t0\thttps://t.example/1\n");
	assert_failed(run(zero), 2, "--limit");
	assert_failed(run(extra), 2, "unexpected argument");
}
END_TEST

START_TEST(test_rm_deletes_and_missing_is_1)
{
	static const char *const rm[] = {"rm", "bye", NULL};

	json_decref(api_create(&d, "{\"url\":\"https://t.example/rm\",\"code\":\"bye\"}"));
	ck_assert_int_eq(run(rm), 0);
	ck_assert_str_eq(out, "");
	ck_assert_str_eq(err, "");
	ck_assert_int_eq(api_status("GET", "/api/v1/links/bye"), 404);
	ck_assert_int_eq(api_status("GET", "/bye"), 404);
	assert_failed(run(rm), 1, "no such link");
}
END_TEST

START_TEST(test_token_create_list_revoke)
{
	static const char *const create[] = {"token", "create", "--name", "deploy", NULL};
	static const char *const create_ro[] = {"token", "create", "--name", "viewer", "--read-only", NULL};
	static const char *const list[] = {"token", "list", NULL};
	static const char *const revoke[] = {"token", "revoke", "deploy", NULL};
	char admin[64], viewer[64];
	struct http_result r;
	int y, mo, da, h, mi, s;

	ck_assert_int_eq(run(create), 0);
	ck_assert_uint_eq(strlen(out), 44);
	memcpy(admin, out, 43);
	admin[43] = '\0';
	ck_assert_ptr_nonnull(strstr(err, "shown only this once"));
	ck_assert_int_eq(run(create_ro), 0);
	memcpy(viewer, out, 43);
	viewer[43] = '\0';
	ck_assert_str_ne(admin, viewer);

	/* The running daemon accepts both at once, each with its role. */
	ck_assert_int_eq(api_call(&d, admin, "POST", "/api/v1/links", "{\"url\":\"https://t.example/t\"}", &r), 201);
	http_result_free(&r);
	ck_assert_int_eq(api_call(&d, viewer, "GET", "/api/v1/links", NULL, &r), 200);
	http_result_free(&r);
	ck_assert_int_eq(api_call(&d, viewer, "DELETE", "/api/v1/links/x", NULL, &r), 403);
	http_result_free(&r);

	ck_assert_int_eq(run(list), 0);
	ck_assert_ptr_null(strstr(out, admin));
	ck_assert_ptr_null(strstr(out, viewer));
	ck_assert_int_eq(sscanf(out, "deploy\tadmin\t%4d-%2d-%2dT%2d:%2d:%2dZ\n", &y, &mo, &da, &h, &mi, &s), 6);
	ck_assert_int_eq(sscanf(out + 34, "viewer\tread-only\t%4d-%2d-%2dT%2d:%2d:%2dZ\n", &y, &mo, &da, &h, &mi, &s),
			 6);
	ck_assert_uint_eq(strlen(out), 34 + 38);

	ck_assert_int_eq(run(revoke), 0);
	ck_assert_int_eq(api_call(&d, admin, "GET", "/api/v1/links", NULL, &r), 401);
	http_result_free(&r);
	ck_assert_int_eq(run(list), 0);
	ck_assert(strncmp(out, "viewer\tread-only\t", 17) == 0);
	assert_failed(run(revoke), 1, "no such token");
}
END_TEST

START_TEST(test_token_create_without_a_name_makes_distinct_names)
{
	static const char *const create[] = {"token", "create", NULL};
	static const char *const list[] = {"token", "list", NULL};
	long long t1, t2;
	unsigned r1, r2;
	char role1[16], role2[16];

	ck_assert_int_eq(run(create), 0);
	ck_assert_int_eq(run(create), 0);
	ck_assert_int_eq(run(list), 0);
	ck_assert_msg(sscanf(out, "token-%lld-%4x\t%15s\t%*s\ntoken-%lld-%4x\t%15s\t", &t1, &r1, role1, &t2, &r2,
			     role2) == 6,
		      "token list: %s", out);
	ck_assert_str_eq(role1, "admin");
	ck_assert_str_eq(role2, "admin");
	ck_assert(t1 != t2 || r1 != r2);
}
END_TEST

START_TEST(test_token_refuses_bad_input)
{
	static const char *const dup[] = {"token", "create", "--name", "twice", NULL};
	static const char *const bad_name[] = {"token", "create", "--name", "has space", NULL};
	static const char *const no_sub[] = {"token", NULL};
	static const char *const bad_sub[] = {"token", "rotate", NULL};
	static const char *const revoke_none[] = {"token", "revoke", NULL};
	static const char *const list_ro[] = {"token", "list", "--read-only", NULL};

	ck_assert_int_eq(run(dup), 0);
	assert_failed(run(dup), 1, "exists");
	assert_failed(run(bad_name), 2, "--name");
	assert_failed(run(no_sub), 2, "expected create, list or revoke");
	assert_failed(run(bad_sub), 2, "expected create, list or revoke");
	assert_failed(run(revoke_none), 2, "expected exactly one NAME");
	assert_failed(run(list_ro), 2, "--read-only");
}
END_TEST

START_TEST(test_api_links_show_in_cli)
{
	static const char *const list[] = {"list", NULL};
	static const char *const get[] = {"get", "viaapi", NULL};

	json_decref(api_create(&d, "{\"url\":\"https://t.example/api\",\"code\":\"viaapi\",\"status\":303}"));
	ck_assert_int_eq(run(list), 0);
	ck_assert_str_eq(out, "viaapi\t303\t0\thttps://t.example/api\n");
	ck_assert_int_eq(run(get), 0);
	ck_assert_ptr_nonnull(strstr(out, "\"code\": \"viaapi\""));
}
END_TEST

/* ---- the database must exist ---- */

/* Every command but serve and init, with --db given as a mistyped flag. */
static const char *const db_commands[][6] = {
	{"add", "https://t.example/x", "--db", NULL},
	{"add", "https://t.example/x", "--code", "x", "--db", NULL},
	{"get", "x", "--db", NULL},
	{"list", "--db", NULL},
	{"rm", "x", "--db", NULL},
	{"token", "create", "--name", "n", "--db", NULL},
	{"token", "list", "--db", NULL},
	{"token", "revoke", "n", "--db", NULL},
};

/* Runs db_commands[i] on path (as --db and as SHORTD_DB). */
static int run_on(int i, const char *path)
{
	const char *args[8];
	int n = 0;

	while (db_commands[i][n] != NULL) {
		args[n] = db_commands[i][n];
		n++;
	}
	args[n++] = path;
	args[n] = NULL;
	return shortd_run(path, out, sizeof(out), err, sizeof(err), args);
}

/* The names in dir other than . and .., joined with spaces. */
static void dir_entries(const char *dir, char *names, size_t size)
{
	DIR *dp = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	ck_assert_ptr_nonnull(dp);
	names[0] = '\0';
	while ((e = readdir(dp)) != NULL) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n += (size_t)snprintf(names + n, n < size ? size - n : 0, "%s ", e->d_name);
	}
	closedir(dp);
}

START_TEST(test_command_on_a_missing_database_exits_1_and_creates_nothing)
{
	char dir[256], path[300], needle[400], names[256];

	tempdb_make("nodb", dir, sizeof(dir), path, sizeof(path));
	snprintf(needle, sizeof(needle), "no database at %s", path);
	assert_failed(run_on(_i, path), 1, needle);
	dir_entries(dir, names, sizeof(names));
	ck_assert_msg(names[0] == '\0', "left behind: %s", names);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

START_TEST(test_command_on_an_empty_file_exits_1_and_leaves_it)
{
	char dir[256], path[300], needle[400], names[256];
	struct stat sb;
	FILE *f;

	tempdb_make("emptydb", dir, sizeof(dir), path, sizeof(path));
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	snprintf(needle, sizeof(needle), "no database at %s: the file is empty", path);
	assert_failed(run_on(_i, path), 1, needle);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(sb.st_size, 0);
	dir_entries(dir, names, sizeof(names));
	ck_assert_str_eq(names, "test.db ");
	tempdb_remove(dir, path);
}
END_TEST

START_TEST(test_command_on_a_bad_file_keeps_its_error)
{
	static const char *const list[] = {"list", NULL};
	char dir[256], path[300], names[256];
	FILE *f;

	tempdb_make("baddb", dir, sizeof(dir), path, sizeof(path));
	ck_assert_int_eq(mkdir(path, 0700), 0);
	assert_failed(shortd_run(path, out, sizeof(out), err, sizeof(err), list), 1, "cannot open database");
	ck_assert_int_eq(rmdir(path), 0);

	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < 200; i++)
		fputs("this is a text file, not an SQLite database\n", f);
	fclose(f);
	assert_failed(shortd_run(path, out, sizeof(out), err, sizeof(err), list), 1, "not a database");
	dir_entries(dir, names, sizeof(names));
	ck_assert_str_eq(names, "test.db ");
	ck_assert_int_eq(unlink(path), 0);

	sqlfile_exec(path, "CREATE TABLE future (x INTEGER); PRAGMA user_version = 999;");
	assert_failed(shortd_run(path, out, sizeof(out), err, sizeof(err), list), 1, "newer");
	ck_assert_int_eq(sqlfile_int(path, "PRAGMA user_version"), 999);
	tempdb_remove(dir, path);
}
END_TEST

START_TEST(test_init_creates_then_finds_a_current_database)
{
	static const char *const init[] = {"init", NULL};
	static const char *const list[] = {"list", NULL};
	char dir[256], path[300], want[400];
	int version;

	tempdb_make("init", dir, sizeof(dir), path, sizeof(path));
	ck_assert_int_eq(shortd_run(path, out, sizeof(out), err, sizeof(err), init), 0);
	ck_assert_str_eq(out, "");
	version = sqlfile_int(path, "PRAGMA user_version");
	ck_assert_int_gt(version, 0);
	snprintf(want, sizeof(want), "shortd: created %s (schema version %d)\n", path, version);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(sqlfile_int(path, "SELECT count(*) FROM links"), 0);
	ck_assert_int_eq(shortd_run(path, out, sizeof(out), err, sizeof(err), list), 0);

	ck_assert_int_eq(shortd_run(path, out, sizeof(out), err, sizeof(err), init), 0);
	snprintf(want, sizeof(want), "shortd: %s is already a shortd database (schema version %d); nothing to do\n",
		 path, version);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(sqlfile_int(path, "PRAGMA user_version"), version);
	tempdb_remove(dir, path);
}
END_TEST

START_TEST(test_init_migrates_an_older_database)
{
	static const char *const init[] = {"init", NULL};
	static const char *const get[] = {"get", "old", NULL};
	char dir[256], path[300], want[400];
	int latest = migrations[migrations_count - 1].version;

	tempdb_make("initold", dir, sizeof(dir), path, sizeof(path));
	sqlfile_exec(path, migrations[0].sql);
	sqlfile_exec(path, "PRAGMA user_version = 1; INSERT INTO links (code, url, status, forward_query, disabled, "
			   "created_at, updated_at) VALUES ('old', 'https://old.example/', 302, 0, 0, 1600000000, "
			   "1600000000)");
	ck_assert_int_eq(shortd_run(path, out, sizeof(out), err, sizeof(err), init), 0);
	snprintf(want, sizeof(want), "shortd: %s migrated from schema version 1 to %d\n", path, latest);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(sqlfile_int(path, "PRAGMA user_version"), latest);
	ck_assert_int_eq(shortd_run(path, out, sizeof(out), err, sizeof(err), get), 0);
	ck_assert_ptr_nonnull(strstr(out, "\"url\": \"https://old.example/\""));
	tempdb_remove(dir, path);
}
END_TEST

START_TEST(test_init_takes_db_and_refuses_what_serve_refuses)
{
	char dir[256], path[300], wal[320], other[320], names[256];
	const char *init_db[] = {"init", "--db", other, NULL};
	static const char *const init[] = {"init", NULL};
	static const char *const extra[] = {"init", "x", NULL};
	FILE *f;

	tempdb_make("initbad", dir, sizeof(dir), path, sizeof(path));
	/* --db wins over SHORTD_DB. */
	snprintf(other, sizeof(other), "%s/other.db", dir);
	ck_assert_int_eq(shortd_run(path, out, sizeof(out), err, sizeof(err), init_db), 0);
	ck_assert_int_gt(sqlfile_int(other, "PRAGMA user_version"), 0);
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_int_eq(unlink(other), 0);
	assert_failed(shortd_run(path, out, sizeof(out), err, sizeof(err), extra), 2, "unexpected argument");

	/* A newer database: refused as serve refuses it, untouched. */
	sqlfile_exec(path, "CREATE TABLE future (x INTEGER); PRAGMA user_version = 999;");
	assert_failed(shortd_run(path, out, sizeof(out), err, sizeof(err), init), 1, "999");
	ck_assert_int_eq(sqlfile_int(path, "PRAGMA user_version"), 999);
	ck_assert_int_eq(unlink(path), 0);

	/* A -wal with data and no database beside it may be all that is left of
	 * one: init (like serve) leaves it alone instead of starting afresh. */
	snprintf(wal, sizeof(wal), "%s-wal", path);
	f = fopen(wal, "w");
	ck_assert_ptr_nonnull(f);
	fputs("committed frames", f);
	fclose(f);
	assert_failed(shortd_run(path, out, sizeof(out), err, sizeof(err), init), 1, "holds data");
	dir_entries(dir, names, sizeof(names));
	ck_assert_str_eq(names, "test.db-wal ");
	ck_assert_int_eq(unlink(wal), 0);

	/* A directory at the path keeps its clear error. */
	ck_assert_int_eq(mkdir(path, 0700), 0);
	assert_failed(shortd_run(path, out, sizeof(out), err, sizeof(err), init), 1, "cannot open database");
	ck_assert_int_eq(rmdir(path), 0);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

START_TEST(test_serve_still_creates_the_database)
{
	struct daemon fresh;

	api_daemon_start(&fresh, NULL);
	ck_assert_int_gt(sqlfile_int(fresh.db, "PRAGMA user_version"), 0);
	api_daemon_stop(&fresh);
}
END_TEST

Suite *cli_suite(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("commands");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_add_prints_the_short_url);
	tcase_add_test(tc, test_add_generates_a_code);
	tcase_add_loop_test(tc, test_add_refuses_bad_input, 0, (int)(sizeof(bad_adds) / sizeof(bad_adds[0])));
	tcase_add_test(tc, test_get_prints_the_link_json);
	tcase_add_test(tc, test_get_missing_is_1_and_bad_code_is_2);
	tcase_add_test(tc, test_list_prints_one_line_per_link);
	tcase_add_test(tc, test_rm_deletes_and_missing_is_1);
	tcase_add_test(tc, test_token_create_list_revoke);
	tcase_add_test(tc, test_token_create_without_a_name_makes_distinct_names);
	tcase_add_test(tc, test_token_refuses_bad_input);
	tcase_add_test(tc, test_api_links_show_in_cli);
	suite_add_tcase(s, tc);

	tc = tcase_create("database");
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_command_on_a_missing_database_exits_1_and_creates_nothing, 0,
			    (int)(sizeof(db_commands) / sizeof(db_commands[0])));
	tcase_add_loop_test(tc, test_command_on_an_empty_file_exits_1_and_leaves_it, 0,
			    (int)(sizeof(db_commands) / sizeof(db_commands[0])));
	tcase_add_test(tc, test_command_on_a_bad_file_keeps_its_error);
	tcase_add_test(tc, test_init_creates_then_finds_a_current_database);
	tcase_add_test(tc, test_init_migrates_an_older_database);
	tcase_add_test(tc, test_init_takes_db_and_refuses_what_serve_refuses);
	tcase_add_test(tc, test_serve_still_creates_the_database);
	suite_add_tcase(s, tc);
	return s;
}
