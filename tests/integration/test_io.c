/*
 * shortd export and shortd import as processes, and GET
 * /api/v1/links/export on the real daemon: a round trip through either
 * format gives back the same links with their counts; each CSV dialect
 * (our columns, Shlink's, YOURLS's) from a fixture file in tests/io/ lands
 * as the README's mapping says; a file with a bad row, or with bad CSV,
 * changes nothing and names each bad line; --on-conflict fail, skip and
 * update; the HTTP export for admin and read-only tokens.
 */
#include <check.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api_client.h"
#include "harness.h"

#define FIXTURES "tests/io/"

static struct daemon d;
static char out[1 << 20], err[16384];
static char dir[256], db2[300];

static void setup(void)
{
	unsetenv("SHORTD_DEFAULT_STATUS");
	unsetenv("SHORTD_BASE_URL");
	client_daemon_start(&d, NULL);
	tempdb_make("io", dir, sizeof(dir), db2, sizeof(db2));
}

static void teardown(void)
{
	fixture_stop(&d);
	tempdb_remove(dir, db2);
}

/* Runs shortd with args against db; stdout in out, stderr in err. */
static int run_on(const char *db, const char *const *args)
{
	return shortd_run(db, out, sizeof(out), err, sizeof(err), args);
}

/* A fresh empty database at db2. */
static void init_db2(void)
{
	const char *args[] = {"init", NULL};
	ck_assert_msg(run_on(db2, args) == 0, "init: %s", err);
}

/* Writes text to a file in the test's directory; returns its path. */
static const char *write_file(const char *name, const char *text)
{
	static char path[400];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

static void click(const char *code, int times)
{
	char url[256];
	struct http_result r;

	snprintf(url, sizeof(url), "%s/%s", d.base, code);
	for (int i = 0; i < times; i++) {
		ck_assert_int_eq(http_do("GET", url, NULL, 0, NULL, false, &r), 0);
		http_result_free(&r);
	}
}

static long links_in(const char *db)
{
	return sqlfile_int(db, "SELECT count(*) FROM links");
}

static const char *const formats[] = {"jsonl", "csv"};

START_TEST(test_round_trip_gives_the_same_links_and_counts)
{
	const char *format = formats[_i];
	const char *export_args[] = {"export", "--format", format, "--base-url", d.base, NULL};
	char *first;
	const char *path;

	json_decref(
	    client_create_link(&d, "{\"url\":\"https://t.example/a\",\"code\":\"rt-a\",\"title\":\"T, \\\"one\\\"\","
	                           "\"tags\":[\"x\",\"a|b\",\"été\"]}"));
	json_decref(client_create_link(
	    &d, "{\"url\":\"https://t.example/b?x=1,2\",\"code\":\"rt-b\",\"status\":308,"
	        "\"max_clicks\":50,\"expires_at\":\"2040-01-01T00:00:00Z\",\"forward_query\":true}"));
	json_decref(
	    client_create_link(&d, "{\"url\":\"https://t.example/c\\\"q\\\"\",\"code\":\"rt-c\",\"status\":301}"));
	client_patch_link(&d, "rt-c", "{\"disabled\":true}");
	click("rt-a", 3);
	click("rt-b", 2);
	ck_assert_int_eq(daemon_stop(&d), 0); /* every click written */

	ck_assert_msg(run_on(d.db, export_args) == 0, "export: %s", err);
	ck_assert_str_eq(err, "");
	first = strdup(out);
	ck_assert_ptr_nonnull(first);
	ck_assert_msg(strstr(first, strcmp(format, "csv") == 0 ? ",3,false," : "\"clicks\":3,") != NULL, "%s", first);
	path = write_file(strcmp(format, "csv") == 0 ? "links.csv" : "links.jsonl", first);

	init_db2();
	const char *import_args[] = {"import", path, NULL};
	ck_assert_msg(run_on(db2, import_args) == 0, "import: %s", err);
	ck_assert_msg(strstr(out, ": 3 created, 0 updated, 0 skipped\n") != NULL, "%s", out);
	ck_assert_msg(run_on(db2, export_args) == 0, "export: %s", err);
	ck_assert_str_eq(out, first);
	ck_assert_int_eq(sqlfile_int(db2, "SELECT clicks FROM links WHERE code = 'rt-b'"), 2);
	free(first);
	ck_assert_int_eq(daemon_start(&d, NULL, client_token_env), 0); /* for the teardown */
}
END_TEST

/* Each dialect's fixture, and what one of its links became. */
static const struct dialect {
	const char *file;
	int links;
	int generated; /* rows without a code */
	const char *code;
	const char *sql; /* a check on that link: 1 when it holds */
} dialects[] = {
    {"links.csv", 3, 1, "own2",
     "SELECT status = 302 AND max_clicks = 10 AND forward_query = 1 AND expires_at = 2208988800 FROM links "
     "WHERE code = 'own2'"},
    {"shlink.csv", 3, 1, "shl-list",
     "SELECT url = 'https://shlink.example/p?list=1,2,3' AND title = 'A title, with a comma' AND tags = '[]' AND "
     "(SELECT tags = '[\"docs\",\"help\"]' AND title = 'Shlink docs' FROM links WHERE code = 'shl-docs') "
     "FROM links WHERE code = 'shl-list'"},
    {"yourls.csv", 3, 0, "yo1",
     "SELECT url = 'https://yourls.example/one' AND clicks = 42 AND created_at = 1433154030 AND "
     "updated_at = created_at AND title = 'The \"first\" one' AND created_by = 'cli' AND "
     "(SELECT title = 'A title, with a comma' FROM links WHERE code = 'yo2') "
     "FROM links WHERE code = 'yo1'"},
};

START_TEST(test_each_csv_dialect_imports_by_its_mapping)
{
	const struct dialect *t = &dialects[_i];
	char path[256];
	const char *args[] = {"import", path, NULL};

	snprintf(path, sizeof(path), FIXTURES "%s", t->file);
	init_db2();
	ck_assert_msg(run_on(db2, args) == 0, "import %s: %s", t->file, err);
	ck_assert_str_eq(err, "");
	ck_assert_int_eq(links_in(db2), t->links);
	ck_assert_int_eq(sqlfile_int(db2, t->sql), 1);
	/* A row without a code gets a generated one. The fixtures' own codes
	 * are named: a generated code may begin like any of them. */
	ck_assert_int_eq(sqlfile_int(db2, "SELECT count(*) FROM links WHERE length(code) = 7 AND code NOT IN "
	                                  "('own1', 'own2', 'shl-docs', 'shl-list', 'yo1', 'yo2', 'yo3')"),
	                 t->generated);
}
END_TEST

START_TEST(test_a_bad_row_changes_nothing_and_each_is_named)
{
	const char *args[] = {"import", FIXTURES "bad.csv", NULL};

	init_db2();
	ck_assert_int_eq(run_on(db2, args), 1);
	ck_assert_str_eq(out, "");
	ck_assert_msg(strstr(err, "bad.csv:3: invalid_url: ") != NULL, "%s", err);
	ck_assert_msg(strstr(err, "bad.csv:4: invalid_code: ") != NULL, "%s", err);
	ck_assert_msg(strstr(err, "bad.csv:5: invalid_status: ") != NULL, "%s", err);
	ck_assert_msg(strstr(err, "bad.csv:6: invalid_row: code 'good1' is on line 2 too") != NULL, "%s", err);
	/* A field over two lines: the row is named by the line it starts on,
	 * and the next row by its own. */
	ck_assert_msg(strstr(err, "bad.csv:7: invalid_title: ") != NULL, "%s", err);
	ck_assert_msg(strstr(err, "bad.csv:9: invalid_url: ") != NULL, "%s", err);
	ck_assert_msg(strstr(err, "bad.csv:2:") == NULL && strstr(err, "bad.csv:8:") == NULL, "%s", err);
	ck_assert_msg(strstr(err, "6 bad rows; nothing was imported") != NULL, "%s", err);
	ck_assert_int_eq(links_in(db2), 0);
}
END_TEST

/* Files the reader refuses as a whole: nothing is written. */
static const struct bad_file {
	const char *name, *text, *needle;
} bad_files[] = {
    {"open.csv", "code,url\nok1,https://t.example/1\nok2,\"https://t.example/2\n",
     "line 3: a quoted field is not closed"},
    {"quote.csv", "code,url\nok1,https://t.example/1\nok2,https://t.example/\"2\"\n", "line 3: a quote inside"},
    {"column.csv", "code,url,colour\nok1,https://t.example/1,red\n", "unknown column 'colour'"},
    {"twice.csv", "code,keyword,url\nok1,ok1,https://t.example/1\n", "name the same field"},
    {"nourl.csv", "code,status\nok1,302\n", "no url column"},
    {"bad.jsonl", "{\"url\":\"https://t.example/1\",\"code\":\"ok1\"}\n{\"url\":\"https://t.example/2\",\"code\":5}\n",
     "bad.jsonl:2: invalid_type: code must be a string or null"},
    {"notjson.jsonl", "{\"url\":\"https://t.example/1\"}\n\n[1]\n", "notjson.jsonl:3: invalid_json"},
    {"field.jsonl", "{\"url\":\"https://t.example/1\",\"colour\":\"red\"}\n", "unknown_field: unknown field 'colour'"},
    {"export.jsonl",
     "{\"url\":\"https://t.example/1\",\"code\":\"ok1\"}\n{\"url\":\"https://t.example/2\",\"code\":\"export\"}\n",
     "export.jsonl:2: invalid_code: code is reserved (export"},
};

START_TEST(test_a_bad_file_changes_nothing)
{
	const struct bad_file *t = &bad_files[_i];
	const char *args[] = {"import", write_file(t->name, t->text), NULL};

	init_db2();
	ck_assert_int_eq(run_on(db2, args), 1);
	ck_assert_msg(strstr(err, t->needle) != NULL, "'%s' not in: %s", t->needle, err);
	ck_assert_msg(strstr(err, "nothing was imported") != NULL, "%s", err);
	ck_assert_int_eq(links_in(db2), 0);
}
END_TEST

START_TEST(test_on_conflict_fail_skip_and_update)
{
	const char *path = write_file("conflict.csv", "code,url,status\n"
	                                              "new1,https://t.example/new1,301\n"
	                                              "taken,https://t.example/changed,308\n");
	const char *fail_args[] = {"import", path, NULL};
	const char *skip_args[] = {"import", path, "--on-conflict", "skip", NULL};
	const char *update_args[] = {"import", path, "--on-conflict", "update", NULL};
	const char *add_args[] = {"add", "https://t.example/old", "--code", "taken", NULL};

	init_db2();
	ck_assert_int_eq(run_on(db2, add_args), 0);
	sqlfile_set_clicks(db2, "taken", 9);

	/* fail, the default: nothing written, the line named. */
	ck_assert_int_eq(run_on(db2, fail_args), 1);
	ck_assert_msg(strstr(err, "conflict.csv:3: code_taken: ") != NULL, "%s", err);
	ck_assert_int_eq(links_in(db2), 1);

	ck_assert_msg(run_on(db2, skip_args) == 0, "%s", err);
	ck_assert_msg(strstr(out, "conflict.csv:3: skipped: a link with code 'taken' exists\n") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "1 created, 0 updated, 1 skipped") != NULL, "%s", out);
	ck_assert_int_eq(sqlfile_int(db2, "SELECT url = 'https://t.example/old' FROM links WHERE code = 'taken'"), 1);

	/* new1 exists now too: both are updated, and the counts stay. */
	ck_assert_msg(run_on(db2, update_args) == 0, "%s", err);
	ck_assert_msg(strstr(out, "0 created, 2 updated, 0 skipped") != NULL, "%s", out);
	ck_assert_int_eq(sqlfile_int(db2, "SELECT url = 'https://t.example/changed' AND status = 308 AND clicks = 9 "
	                                  "FROM links WHERE code = 'taken'"),
	                 1);
	ck_assert_int_eq(links_in(db2), 2);
}
END_TEST

START_TEST(test_update_changes_only_the_columns_named)
{
	const char *path = write_file("partial.csv", "code,url\nkeep,https://t.example/new\n");
	const char *args[] = {"import", path, "--on-conflict", "update", NULL};
	const char *add_args[] = {"add", "https://t.example/old", "--code", "keep", "--status", "301", "--max-clicks",
	                          "4",   "--forward-query",       NULL};

	init_db2();
	ck_assert_int_eq(run_on(db2, add_args), 0);
	ck_assert_msg(run_on(db2, args) == 0, "%s", err);
	ck_assert_int_eq(sqlfile_int(db2, "SELECT url = 'https://t.example/new' AND status = 301 AND max_clicks = 4 "
	                                  "AND forward_query = 1 FROM links WHERE code = 'keep'"),
	                 1);
}
END_TEST

/* Reads the first line of the CLI's token create. */
static void read_only_token(char *token, size_t size)
{
	const char *args[] = {"token", "create", "--name", "reader", "--read-only", NULL};

	ck_assert_int_eq(run_on(d.db, args), 0);
	snprintf(token, size, "%.*s", (int)strcspn(out, "\n"), out);
}

START_TEST(test_http_export_streams_the_cli_export_for_admins)
{
	const char *format = formats[_i];
	const char *cli_args[] = {"export", "--format", format, "--base-url", d.base, NULL};
	char path[64], token[128];
	struct http_result r;

	json_decref(client_create_link(&d, "{\"url\":\"https://t.example/h1\",\"code\":\"h1\"}"));
	json_decref(client_create_link(&d, "{\"url\":\"https://t.example/h2,x\",\"code\":\"h2\",\"max_clicks\":5}"));
	click("h1", 2);
	click("h2", 1);
	snprintf(path, sizeof(path), "/api/v1/links/export?format=%s", format);
	ck_assert_int_eq(client_call(&d, API_TEST_TOKEN, "GET", path, NULL, &r), 200);
	ck_assert_str_eq(client_header(&r, "Content-Type"),
	                 strcmp(format, "csv") == 0 ? "text/csv; charset=utf-8; header=present" : "application/jsonl");
	ck_assert_str_eq(client_header(&r, "Transfer-Encoding"), "chunked");
	/* The clicks still pending in the daemon are counted too. */
	ck_assert_msg(strstr(r.body, strcmp(format, "csv") == 0 ? ",2,false," : "\"clicks\":2,") != NULL, "%s", r.body);
	ck_assert_int_eq(daemon_stop(&d), 0);
	ck_assert_msg(run_on(d.db, cli_args) == 0, "%s", err);
	ck_assert_str_eq(r.body, out);
	http_result_free(&r);
	ck_assert_int_eq(daemon_start(&d, NULL, client_token_env), 0);

	read_only_token(token, sizeof(token));
	ck_assert_int_eq(client_call(&d, token, "GET", path, NULL, &r), 403);
	client_assert_error(&r, 403, "forbidden");
	http_result_free(&r);
}
END_TEST

static const struct bad_query {
	const char *method, *path;
	long status;
	const char *code;
} bad_queries[] = {
    {"GET", "/api/v1/links/export?format=xml", 400, "invalid_format"},
    {"GET", "/api/v1/links/export?format=csv&limit=3", 400, "invalid_parameter"},
    {"POST", "/api/v1/links/export", 405, "method_not_allowed"},
    {"PUT", "/api/v1/links/export", 405, "method_not_allowed"},
    {"DELETE", "/api/v1/links/export", 404, "not_found"}, /* no link named export */
};

START_TEST(test_http_export_refuses_bad_requests)
{
	const struct bad_query *t = &bad_queries[_i];
	struct http_result r;

	ck_assert_int_eq(client_call(&d, API_TEST_TOKEN, t->method, t->path, NULL, &r), t->status);
	client_assert_error(&r, t->status, t->code);
	http_result_free(&r);
}
END_TEST

/* A link named "export" from before the code was kept: GET of
 * /api/v1/links/export is still the export (with that link in it), PATCH
 * and DELETE there reach the link; no new link may take the code. */
START_TEST(test_link_named_export_is_changed_and_deleted)
{
	struct http_result r;
	json_t *j;

	sqlfile_exec(d.db, "INSERT INTO links (code, url, status, created_at, updated_at) "
	                   "VALUES ('export', 'https://t.example/old', 302, 1, 1)");
	ck_assert_int_eq(client_call(&d, API_TEST_TOKEN, "GET", "/api/v1/links/export", NULL, &r), 200);
	ck_assert_ptr_nonnull(strstr(r.body, "\"code\":\"export\""));
	ck_assert_ptr_null(strchr(strchr(r.body, '\n') + 1, '\n')); /* one line: the stream, not a Link */
	http_result_free(&r);
	ck_assert_int_eq(
	    client_call(&d, API_TEST_TOKEN, "PATCH", "/api/v1/links/export", "{\"url\":\"https://t.example/new\"}", &r),
	    200);
	j = client_json(&r);
	ck_assert_str_eq(client_str(j, "code"), "export");
	ck_assert_str_eq(client_str(j, "url"), "https://t.example/new");
	json_decref(j);
	http_result_free(&r);
	ck_assert_int_eq(sqlfile_int(d.db, "SELECT count(*) FROM links WHERE code = 'export' AND "
	                                   "url = 'https://t.example/new'"),
	                 1);
	ck_assert_int_eq(client_call(&d, API_TEST_TOKEN, "DELETE", "/api/v1/links/export", NULL, &r), 204);
	http_result_free(&r);
	ck_assert_int_eq(sqlfile_int(d.db, "SELECT count(*) FROM links"), 0);
	ck_assert_int_eq(client_call(&d, API_TEST_TOKEN, "POST", "/api/v1/links",
	                             "{\"url\":\"https://t.example/x\",\"code\":\"export\"}", &r),
	                 400);
	client_assert_error(&r, 400, "invalid_code");
	ck_assert_ptr_nonnull(strstr(r.body, "export"));
	http_result_free(&r);
	ck_assert_int_eq(sqlfile_int(d.db, "SELECT count(*) FROM links"), 0);
}
END_TEST

/* Imported counts are the link's totals from its first day here; its
 * history by day starts with the clicks this daemon counts, since an
 * export carries totals only: the stats answer the totals with every day
 * of the period at 0, then today's click on top. */
START_TEST(test_imported_clicks_count_in_totals_not_in_days)
{
	const char *path = write_file("counted.csv", "code,url,clicks,bot_clicks,last_click_at\n"
	                                             "counted,https://t.example/c,40,3,2024-01-31T12:00:00Z\n");
	const char *args[] = {"import", path, NULL};
	struct http_result r;
	size_t i;
	json_t *s, *daily, *day;
	char url[256];

	ck_assert_msg(run_on(d.db, args) == 0, "%s", err);
	ck_assert_int_eq(client_call(&d, API_TEST_TOKEN, "GET", "/api/v1/links/counted/stats?days=7", NULL, &r), 200);
	s = client_json(&r);
	http_result_free(&r);
	ck_assert_int_eq(client_int(s, "clicks"), 40);
	ck_assert_int_eq(client_int(s, "bot_clicks"), 3);
	ck_assert_str_eq(client_str(s, "last_click_at"), "2024-01-31T12:00:00Z");
	daily = json_object_get(s, "daily");
	ck_assert_uint_eq(json_array_size(daily), 7);
	json_array_foreach(daily, i, day)
	{
		ck_assert_int_eq(client_int(day, "clicks"), 0);
		ck_assert_int_eq(client_int(day, "bot_clicks"), 0);
	}
	json_decref(s);

	snprintf(url, sizeof(url), "%s/counted", d.base);
	ck_assert_int_eq(http_do("GET", url, NULL, 0, NULL, false, &r), 0);
	ck_assert_int_eq(r.status, 302);
	http_result_free(&r);
	ck_assert_int_eq(client_call(&d, API_TEST_TOKEN, "GET", "/api/v1/links/counted/stats?days=7", NULL, &r), 200);
	s = client_json(&r);
	http_result_free(&r);
	ck_assert_int_eq(client_int(s, "clicks"), 41);
	daily = json_object_get(s, "daily");
	ck_assert_int_eq(client_int(json_array_get(daily, 6), "clicks"), 1);
	json_decref(s);
}
END_TEST

START_TEST(test_http_export_of_no_links)
{
	struct http_result r;

	ck_assert_int_eq(client_call(&d, API_TEST_TOKEN, "GET", "/api/v1/links/export", NULL, &r), 200);
	ck_assert_str_eq(r.body, "");
	http_result_free(&r);
	ck_assert_int_eq(client_call(&d, API_TEST_TOKEN, "GET", "/api/v1/links/export?format=csv", NULL, &r), 200);
	ck_assert_str_eq(r.body, "code,short_url,url,status,forward_query,created_at,updated_at,expires_at,max_clicks,"
	                         "clicks,disabled,title,tags,created_by,updated_by,bot_clicks,last_click_at\r\n");
	http_result_free(&r);
}
END_TEST

/* A file of two whole batches and more codes than the set of codes seen
 * starts with: every row written, in order, each batch counted in the
 * total; a code repeated far apart still found. */
START_TEST(test_import_of_many_rows_in_batches)
{
	static char text[1 << 17];
	size_t n = 0;
	const char *path;

	n += (size_t)snprintf(text + n, sizeof(text) - n, "code,url\n");
	for (int i = 0; i < 1000; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "m%d,https://t.example/m/%d\n", i, i);
	path = write_file("many.csv", text);
	const char *args[] = {"import", path, "--format", "csv", "--on-conflict", "fail", NULL};
	init_db2();
	ck_assert_msg(run_on(db2, args) == 0, "%s", err);
	ck_assert_msg(strstr(out, "many.csv: 1000 created, 0 updated, 0 skipped") != NULL, "%s", out);
	ck_assert_int_eq(links_in(db2), 1000);
	ck_assert_int_eq(sqlfile_int(db2, "SELECT count(*) FROM links WHERE url = 'https://t.example/m/' || "
	                                  "substr(code, 2) AND id = CAST(substr(code, 2) AS INTEGER) + 1"),
	                 1000);
	/* The same codes again, with one repeated at the end: all refused. */
	snprintf(text + n, sizeof(text) - n, "m3,https://t.example/again\n");
	path = write_file("many.txt", text);
	const char *again[] = {"import", path, "--format", "csv", "--on-conflict", "skip", NULL};
	ck_assert_int_eq(run_on(db2, again), 1);
	ck_assert_msg(strstr(err, "many.txt:1002: invalid_row: code 'm3' is on line 5 too") != NULL, "%s", err);
	ck_assert_int_eq(links_in(db2), 1000);
}
END_TEST

/* An export that cannot be written fails with exit status 1, whether the
 * write fails during the pages or at the end. */
START_TEST(test_export_into_a_full_stdout_fails)
{
	const char *bin = getenv("SHORTD_BIN") != NULL ? getenv("SHORTD_BIN") : "build/shortd";
	static char text[1 << 16];
	size_t n = 0;

	n += (size_t)snprintf(text + n, sizeof(text) - n, "code,url\n");
	for (int i = 0; i < 400; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "f%d,https://t.example/f/%d\n", i, i);
	const char *args[] = {"import", write_file("full.csv", text), NULL};
	init_db2();
	ck_assert_msg(run_on(db2, args) == 0, "%s", err);
	/* 400 links fail in the pages; one fails when stdout is flushed. */
	for (int round = 0; round < 2; round++) {
		char cmd[1024], line[512] = "";
		FILE *p;

		if (round == 1)
			sqlfile_exec(db2, "DELETE FROM links WHERE code <> 'f0'");
		snprintf(cmd, sizeof(cmd), "SHORTD_DB='%s' '%s' export 2>&1 >/dev/full", db2, bin);
		p = popen(cmd, "r");
		ck_assert_ptr_nonnull(p);
		ck_assert_ptr_nonnull(fgets(line, sizeof(line), p));
		ck_assert_msg(WEXITSTATUS(pclose(p)) == 1, "round %d: exit status", round);
		ck_assert_msg(strncmp(line, "shortd: ", 8) == 0 &&
		                  strstr(line, "cannot write to standard output") != NULL,
		              "round %d: %s", round, line);
	}
}
END_TEST

/* import reads its file twice (check, then write): from a pipe, as `-`
 * (stdin) or a path that names one (/dev/stdin), it reads a copy of what
 * came through; a bad row read from a pipe still changes nothing. */
static const struct piped {
	const char *file, *text, *output;
	int status;
	int64_t links;
} piped[] = {
    {"-", "{\"url\":\"https://t.example/p\",\"code\":\"pp\"}\\n{\"url\":\"https://t.example/q\"}\\n",
     "stdin: 2 created, 0 updated, 0 skipped\n", 0, 2},
    {"/dev/stdin --format csv", "url,code\\r\\nhttps://t.example/p,pp\\r\\n",
     "/dev/stdin: 1 created, 0 updated, 0 skipped\n", 0, 1},
    {"- --format csv", "url,code\\r\\nhttps://t.example/p,pp\\r\\nftp://t.example/,qq\\r\\n",
     "shortd: import: stdin:3: invalid_url: url must be an absolute http or https URL\n"
     "shortd: import: stdin: 1 bad row; nothing was imported\n",
     1, 0},
};

START_TEST(test_import_from_a_pipe)
{
	const char *bin = getenv("SHORTD_BIN") != NULL ? getenv("SHORTD_BIN") : "build/shortd";
	const struct piped *t = &piped[_i];
	char cmd[1024], text[1024];
	size_t n;
	FILE *p;

	init_db2();
	snprintf(cmd, sizeof(cmd), "printf '%s' | SHORTD_DB='%s' '%s' import %s 2>&1", t->text, db2, bin, t->file);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	n = fread(text, 1, sizeof(text) - 1, p);
	text[n] = '\0';
	ck_assert_int_eq(WEXITSTATUS(pclose(p)), t->status);
	ck_assert_str_eq(text, t->output);
	ck_assert_int_eq(links_in(db2), t->links);
	if (t->links > 0)
		ck_assert_int_eq(sqlfile_int(db2, "SELECT count(*) FROM links WHERE code = 'pp' AND "
		                                  "url = 'https://t.example/p'"),
		                 1);
}
END_TEST

/* A pipe whose copy cannot be written (here past a file size limit of 512
 * bytes, SIGXFSZ ignored) fails before the database is opened: exit 1,
 * the reason said, nothing imported. */
START_TEST(test_import_from_a_pipe_that_cannot_be_copied)
{
	const char *bin = getenv("SHORTD_BIN") != NULL ? getenv("SHORTD_BIN") : "build/shortd";
	char cmd[1024], text[1024], rest[4096];
	size_t n;
	FILE *p;

	init_db2();
	snprintf(cmd, sizeof(cmd),
	         "for i in $(seq 100); do printf 'https://t.example/p/%%03d\\n' $i; done | "
	         "(trap '' XFSZ; ulimit -f 1; SHORTD_DB='%s' exec '%s' import - --format csv) 2>&1",
	         db2, bin);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	n = fread(text, 1, sizeof(text) - 1, p);
	text[n] = '\0';
	/* Read to the end: a build with --coverage adds its own complaints
	 * about the size limit, and a pipe closed early would end the process
	 * with SIGPIPE. */
	while (fread(rest, 1, sizeof(rest), p) > 0)
		;
	ck_assert_int_eq(WEXITSTATUS(pclose(p)), 1);
	ck_assert_msg(strncmp(text, "shortd: import: stdin: cannot copy it into a temporary file: ", 61) == 0, "%s",
	              text);
	ck_assert_int_eq(links_in(db2), 0);
}
END_TEST

/* A batch that cannot be written (another process holds the write lock past
 * the busy timeout) fails with the lines it held named, and writes none of
 * them. */
START_TEST(test_import_into_a_locked_database_writes_nothing)
{
	const char *path = write_file("locked.csv", "url,code\r\nhttps://t.example/p,pp\r\nhttps://t.example/q,qq\r\n");
	const char *args[] = {"import", path, NULL};
	char want[1024];
	sqlite3 *holder;

	init_db2();
	ck_assert_int_eq(sqlite3_open(db2, &holder), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(holder, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(run_on(db2, args), 1);
	ck_assert_int_eq(sqlite3_exec(holder, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_close(holder), SQLITE_OK);
	snprintf(want, sizeof(want), "%s: 0 created, 0 updated, 0 skipped\n", path);
	ck_assert_str_eq(out, want);
	snprintf(want, sizeof(want), "shortd: import: %s: lines 2-3: database error\n", path);
	ck_assert_msg(strstr(err, want) != NULL, "'%s' not in: %s", want, err);
	ck_assert_int_eq(links_in(db2), 0);
}
END_TEST

/* A file that cannot be read (here a directory: read() fails with EISDIR)
 * is refused in either format, naming the line it could not read, and
 * nothing changes. */
START_TEST(test_import_of_an_unreadable_file_is_refused)
{
	char path[400], want[1024];
	const char *args[] = {"import", path, "--format", formats[_i], NULL};

	init_db2();
	snprintf(path, sizeof(path), "%s/unreadable.%s", dir, formats[_i]);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	ck_assert_int_eq(run_on(db2, args), 1);
	ck_assert_int_eq(rmdir(path), 0);
	ck_assert_str_eq(out, "");
	snprintf(want, sizeof(want),
	         "shortd: import: %s: line 1: the file could not be read\n"
	         "shortd: import: %s: nothing was imported\n",
	         path, path);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(links_in(db2), 0);
}
END_TEST

/* The default status of the rows without one comes from
 * $SHORTD_DEFAULT_STATUS: a bad one is refused before the file is read. */
START_TEST(test_import_with_a_bad_default_status_is_refused)
{
	const char *args[] = {"import", FIXTURES "links.csv", NULL};
	int status;

	init_db2();
	setenv("SHORTD_DEFAULT_STATUS", "200", 1);
	status = run_on(db2, args);
	unsetenv("SHORTD_DEFAULT_STATUS");
	ck_assert_int_eq(status, 2);
	ck_assert_str_eq(out, "");
	ck_assert_str_eq(err, "shortd: SHORTD_DEFAULT_STATUS: expected 301, 302, 303, 307 or 308, got '200'\n");
	ck_assert_int_eq(links_in(db2), 0);
}
END_TEST

static const struct usage {
	const char *args[6];
	int status;
	const char *needle;
} usages[] = {
    {{"export", "--format", "xml", NULL}, 2, "--format: expected jsonl or csv"},
    {{"export", "extra", NULL}, 2, "unexpected argument for export"},
    {{"import", NULL}, 2, "expected exactly one FILE"},
    {{"import", "a.csv", "--on-conflict", "merge", NULL}, 2, "--on-conflict: expected skip, fail or update"},
    {{"import", "a.csv", "--format", "xml", NULL}, 2, "--format: expected jsonl or csv"},
    {{"import", "/nonexistent/links.csv", NULL}, 1, "cannot open /nonexistent/links.csv"},
    {{"export", "--bogus", NULL}, 2, "--bogus"},
    {{"import", "a.csv", "--bogus", NULL}, 2, "--bogus"},
    {{"export", "--base-url", "ftp://x", NULL}, 2, "--base-url"},
    {{"import", "a.csv", "--base-url", "ftp://x", NULL}, 2, "--base-url"},
    {{"import", FIXTURES "links.csv", "--db", "/nonexistent/x.db", NULL}, 1, "no database at /nonexistent/x.db"},
    {{"export", "--db", "/nonexistent/x.db", NULL}, 1, "no database at /nonexistent/x.db"},
};

START_TEST(test_usage_errors)
{
	const struct usage *t = &usages[_i];

	ck_assert_int_eq(run_on(d.db, t->args), t->status);
	ck_assert_msg(strstr(err, t->needle) != NULL, "'%s' not in: %s", t->needle, err);
}
END_TEST

Suite *io_suite(void)
{
	Suite *s = suite_create("io");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_round_trip_gives_the_same_links_and_counts, 0, 2);
	tcase_add_loop_test(tc, test_each_csv_dialect_imports_by_its_mapping, 0,
	                    (int)(sizeof(dialects) / sizeof(dialects[0])));
	tcase_add_test(tc, test_a_bad_row_changes_nothing_and_each_is_named);
	tcase_add_loop_test(tc, test_a_bad_file_changes_nothing, 0, (int)(sizeof(bad_files) / sizeof(bad_files[0])));
	tcase_add_test(tc, test_on_conflict_fail_skip_and_update);
	tcase_add_test(tc, test_update_changes_only_the_columns_named);
	tcase_add_loop_test(tc, test_http_export_streams_the_cli_export_for_admins, 0, 2);
	tcase_add_loop_test(tc, test_http_export_refuses_bad_requests, 0,
	                    (int)(sizeof(bad_queries) / sizeof(bad_queries[0])));
	tcase_add_test(tc, test_http_export_of_no_links);
	tcase_add_test(tc, test_link_named_export_is_changed_and_deleted);
	tcase_add_test(tc, test_imported_clicks_count_in_totals_not_in_days);
	tcase_add_test(tc, test_import_of_many_rows_in_batches);
	tcase_add_test(tc, test_export_into_a_full_stdout_fails);
	tcase_add_loop_test(tc, test_import_from_a_pipe, 0, (int)(sizeof(piped) / sizeof(piped[0])));
	tcase_add_test(tc, test_import_from_a_pipe_that_cannot_be_copied);
	tcase_add_test(tc, test_import_into_a_locked_database_writes_nothing);
	tcase_add_test(tc, test_import_with_a_bad_default_status_is_refused);
	tcase_add_loop_test(tc, test_import_of_an_unreadable_file_is_refused, 0, 2);
	tcase_add_loop_test(tc, test_usage_errors, 0, (int)(sizeof(usages) / sizeof(usages[0])));
	suite_add_tcase(s, tc);
	return s;
}
