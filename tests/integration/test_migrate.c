/*
 * shortd migrate as a process: a SQLite database made by the real daemon
 * (links with labels, limits, an expiry, one disabled; two tokens, one
 * used; clicks with referrers today and history of earlier days) goes into
 * a fresh PostgreSQL database of the tests' cluster and back into a new
 * SQLite file, and `shortd export` of the original and of both copies is
 * the same byte for byte; then the daemon serves the PostgreSQL copy: the
 * stats (daily and referrers) and a read with the copied token are what
 * the original answered, and a link redirects. Then the refusals, one row
 * each (a target that is not empty, a missing source, a server that cannot
 * be reached, bad arguments), each with its exit status and message and
 * nothing written; and the failures midway: the target is left as it was
 * (a SQLite file the command made is removed), and a copy that does not
 * read back as it was read is reported.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api_client.h"
#include "harness.h"
#include "pg_cluster.h"

static struct daemon d;
static char out[1 << 20], err[16384];
static char pgurl[300]; /* a database of the cluster, dropped at teardown; "" for none */

static void setup(void)
{
	unsetenv("SHORTD_DEFAULT_STATUS");
	unsetenv("SHORTD_BASE_URL");
	unsetenv("SHORTD_LISTEN");
	daemon_prepare(&d);
	if (harness_uses_pg()) /* the source here is always SQLite */
		pg_db_drop(d.db);
	snprintf(d.db, sizeof(d.db), "%s/shortd.db", d.dir);
	pgurl[0] = '\0';
}

static void teardown(void)
{
	daemon_cleanup(&d);
	if (pgurl[0] != '\0')
		pg_db_drop(pgurl);
}

static int run_on(const char *db, const char *const *args)
{
	return shortd_run(db, out, sizeof(out), err, sizeof(err), args);
}

static void must_run(const char *db, const char *const *args)
{
	int rc = run_on(db, args);

	ck_assert_msg(rc == 0, "%s: exit %d: %s", args[0], rc, err);
}

/* A file in the test's directory. */
static const char *in_dir(const char *name)
{
	static char paths[4][400];
	static int next;
	char *p = paths[next++ % 4];

	snprintf(p, sizeof(paths[0]), "%s/%s", d.dir, name);
	return p;
}

static bool exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

/* `shortd export` of db, in a copy the caller frees. */
static char *export_of(const char *db)
{
	must_run(db, (const char *const[]){"export", NULL});
	return strdup(out);
}

/* The body of an API GET with token; asserts 200. The caller frees it. */
static char *api_get(const char *token, const char *path)
{
	struct http_result r;
	char *body;

	ck_assert_int_eq(client_call(&d, token, "GET", path, NULL, &r), 200);
	body = strndup(r.body, r.body_len);
	http_result_free(&r);
	return body;
}

static void click(const char *code, const char *referer, const char *agent)
{
	char url[256], ref[256], ua[256];
	const char *headers[3] = {NULL};
	struct http_result r;
	int n = 0;

	snprintf(url, sizeof(url), "%s/%s", d.base, code);
	if (referer != NULL) {
		snprintf(ref, sizeof(ref), "Referer: %s", referer);
		headers[n++] = ref;
	}
	if (agent != NULL) {
		snprintf(ua, sizeof(ua), "User-Agent: %s", agent);
		headers[n++] = ua;
	}
	ck_assert_int_eq(http_do("GET", url, NULL, 0, headers, false, &r), 0);
	ck_assert_int_eq(r.status, 307);
	http_result_free(&r);
}

/* The source: links, tokens and clicks made by the daemon, history of
 * earlier days written into the file. *reader gets the read-only token's
 * secret, *gen the generated code. */
static void make_source(char *reader, size_t size, char *gen, size_t gensize)
{
	json_t *j;

	must_run(d.db, (const char *const[]){"init", NULL});
	must_run(d.db, (const char *const[]){"token", "create", "--name", "reader", "--read-only", NULL});
	snprintf(reader, size, "%.*s", (int)strcspn(out, "\n"), out);
	must_run(d.db, (const char *const[]){"token", "create", "--name", "ops", NULL});
	ck_assert_int_eq(daemon_start(&d, NULL, client_token_env), 0);
	json_decref(client_create_link(&d,
	                               "{\"url\": \"https://a.example/path\", \"code\": \"alpha\", \"status\": 307, "
	                               "\"title\": \"Alpha \\u00e9t\\u00e9\", \"tags\": [\"zeta\", \"alpha\"], "
	                               "\"max_clicks\": 50, \"expires_at\": \"2031-01-01T00:00:00Z\", "
	                               "\"forward_query\": true}"));
	json_decref(client_create_link(&d, "{\"url\": \"https://b.example/\", \"code\": \"beta\"}"));
	client_patch_link(&d, "beta", "{\"disabled\": true}");
	j = client_create_link(&d, "{\"url\": \"https://c.example/\"}");
	snprintf(gen, gensize, "%s", client_str(j, "code"));
	json_decref(j);
	click("alpha", "https://news.example/post/1", NULL);
	click("alpha", "https://news.example/post/2", NULL);
	click("alpha", "https://blog.example/", NULL);
	click("alpha", NULL, "Googlebot/2.1 (+http://www.google.com/bot.html)");
	free(api_get(reader, "/api/v1/links/alpha"));
	ck_assert_int_eq(daemon_stop(&d), 0);
	sqlfile_add_clicks(d.db, "alpha", time(NULL) / 86400 - 2, 4, 1);
	sqlfile_exec(d.db, "INSERT INTO referrers_daily (link_id, day, host, clicks) SELECT id, "
	                   "CAST(strftime('%s', 'now') AS INTEGER) / 86400 - 2, 'old.example', 4 FROM links "
	                   "WHERE code = 'alpha';");
}

START_TEST(test_migrate_to_postgresql_and_back)
{
	static const char *const base[] = {"--base-url", "http://s.example", NULL};
	char reader[128], gen[64], location[128];
	char *stats, *link, *orig, *copy, *back;
	const char *back_db = in_dir("back.db");

	make_source(reader, sizeof(reader), gen, sizeof(gen));
	ck_assert_int_eq(daemon_start(&d, base, client_token_env), 0);
	stats = api_get(reader, "/api/v1/links/alpha/stats?days=5");
	ck_assert_ptr_nonnull(strstr(stats, "old.example"));
	link = api_get(reader, "/api/v1/links/alpha");
	ck_assert_int_eq(daemon_stop(&d), 0);
	orig = export_of(d.db);

	pg_db_make(pgurl, sizeof(pgurl));
	must_run(d.db, (const char *const[]){"migrate", pgurl, NULL});
	ck_assert_str_eq(out, "migrated 3 links, 2 tokens, 2 days of clicks, 3 referrer rows: verified\n");
	must_run(pgurl, (const char *const[]){"migrate", back_db, NULL});
	ck_assert_str_eq(out, "migrated 3 links, 2 tokens, 2 days of clicks, 3 referrer rows: verified\n");
	copy = export_of(pgurl);
	back = export_of(back_db);
	ck_assert_msg(strcmp(copy, orig) == 0, "PostgreSQL's export:\n%s\nthe original's:\n%s", copy, orig);
	ck_assert_msg(strcmp(back, orig) == 0, "the round trip's export:\n%s\nthe original's:\n%s", back, orig);
	must_run(back_db, (const char *const[]){"token", "list", NULL});
	ck_assert_ptr_nonnull(strstr(out, "reader"));
	ck_assert_ptr_nonnull(strstr(out, "ops"));

	/* The daemon on the copy: the same answers, with the same token. */
	snprintf(d.db, sizeof(d.db), "%s", pgurl);
	ck_assert_int_eq(daemon_start(&d, base, client_token_env), 0);
	free(copy);
	copy = api_get(reader, "/api/v1/links/alpha/stats?days=5");
	ck_assert_str_eq(copy, stats);
	free(copy);
	copy = api_get(reader, "/api/v1/links/alpha");
	ck_assert_str_eq(copy, link);
	snprintf(location, sizeof(location), "%s", "https://c.example/");
	assert_redirects_to(&d, gen, location);
	ck_assert_int_eq(daemon_stop(&d), 0);
	snprintf(d.db, sizeof(d.db), "%s/shortd.db", d.dir);
	free(stats);
	free(link);
	free(orig);
	free(copy);
	free(back);
}
END_TEST

/* ---- refusals: nothing written ---- */

enum target_kind {
	T_NEW_FILE,    /* a path where there is no file */
	T_LINK_FILE,   /* a SQLite database with a link */
	T_TOKEN_PG,    /* a PostgreSQL database with a token */
	T_UNREACHABLE, /* a server that refuses the connection */
	T_MISSING_DIR, /* a path in a folder that does not exist */
	T_ORPHAN_WAL,  /* a path with no file, but a -wal with data beside it */
};

struct refusal {
	const char *name;
	bool source_missing;
	enum target_kind target;
	const char *const args[5]; /* after "migrate"; "TARGET" is the target */
	int status;
	const char *message; /* stderr holds it */
};

static const struct refusal refusals[] = {
    {"non-empty SQLite target",
     false,
     T_LINK_FILE,
     {"TARGET"},
     1,
     "/target.db is not empty: it holds links or tokens (migrate copies only into a new or empty database); "
     "nothing was written\n"},
    {"non-empty PostgreSQL target",
     false,
     T_TOKEN_PG,
     {"TARGET"},
     1,
     "is not empty: it holds links or tokens (migrate copies only into a new or empty database); nothing was "
     "written\n"},
    {"missing source", true, T_NEW_FILE, {"TARGET"}, 1, "shortd: no database at "},
    {"unreachable target", false, T_UNREACHABLE, {"TARGET"}, 1, "shortd@127.0.0.1:1/shortd: cannot connect: "},
    {"target folder missing", false, T_MISSING_DIR, {"TARGET"}, 1, "/no-such-dir/target.db"},
    {"target a -wal without its file", false, T_ORPHAN_WAL, {"TARGET"}, 1, "/target.db-wal"},
    {"no target",
     false,
     T_NEW_FILE,
     {NULL},
     2,
     "shortd: migrate: expected exactly one TARGET (shortd migrate --db SOURCE TARGET)\n"},
    {"two targets",
     false,
     T_NEW_FILE,
     {"TARGET", "TARGET"},
     2,
     "shortd: migrate: expected exactly one TARGET (shortd migrate --db SOURCE TARGET)\n"},
    {"empty target", false, T_NEW_FILE, {""}, 2, "shortd: migrate: TARGET must not be empty\n"},
    {"unknown option", false, T_NEW_FILE, {"TARGET", "--force"}, 2, "shortd: --force: unknown option\n"},
    {"empty --db", false, T_NEW_FILE, {"--db", "", "TARGET"}, 2, "shortd: --db: must not be empty\n"},
    {"the source as target",
     false,
     T_NEW_FILE,
     {"SOURCE"},
     2,
     "shortd: migrate: the source and the target are the same database\n"},
};

#define UNREACHABLE "postgresql://shortd:s3cret-pw@127.0.0.1:1/shortd"

START_TEST(test_migrate_refusals_write_nothing)
{
	const struct refusal *t = &refusals[_i];
	const char *args[8] = {"migrate"};
	const char *target = in_dir("target.db");
	char *source_export = NULL;
	int n = 1, rc;

	if (!t->source_missing) {
		must_run(d.db, (const char *const[]){"init", NULL});
		must_run(d.db, (const char *const[]){"add", "https://s.example/", "--code", "src", NULL});
		source_export = export_of(d.db);
	}
	if (t->target == T_LINK_FILE) {
		must_run(target, (const char *const[]){"init", NULL});
		must_run(target, (const char *const[]){"add", "https://t.example/", "--code", "kept", NULL});
	} else if (t->target == T_TOKEN_PG) {
		pg_db_make(pgurl, sizeof(pgurl));
		must_run(pgurl, (const char *const[]){"init", NULL});
		must_run(pgurl, (const char *const[]){"token", "create", "--name", "kept", NULL});
		target = pgurl;
	} else if (t->target == T_UNREACHABLE) {
		target = UNREACHABLE;
	} else if (t->target == T_MISSING_DIR) {
		target = in_dir("no-such-dir/target.db");
	} else if (t->target == T_ORPHAN_WAL) {
		FILE *f = fopen(in_dir("target.db-wal"), "w");
		ck_assert_ptr_nonnull(f);
		ck_assert_int_eq(fputs("committed pages of a moved database", f) >= 0, 1);
		ck_assert_int_eq(fclose(f), 0);
	}
	for (int i = 0; i < 5 && t->args[i] != NULL; i++)
		args[n++] = strcmp(t->args[i], "TARGET") == 0   ? target
		            : strcmp(t->args[i], "SOURCE") == 0 ? d.db
		                                                : t->args[i];
	args[n] = NULL;
	rc = run_on(d.db, args);
	ck_assert_msg(rc == t->status, "%s: exit %d, expected %d: %s", t->name, rc, t->status, err);
	ck_assert_msg(strstr(err, t->message) != NULL, "%s: stderr: %s", t->name, err);
	ck_assert_msg(strstr(err, "s3cret-pw") == NULL, "%s: the password is shown: %s", t->name, err);
	ck_assert_str_eq(out, "");
	/* nothing written: the target as it was, the source too */
	if (t->target == T_LINK_FILE) {
		ck_assert_int_eq(sqlfile_int(target, "SELECT count(*) FROM links"), 1);
		ck_assert_int_eq(sqlfile_int(target, "SELECT count(*) FROM links WHERE code = 'kept'"), 1);
	} else if (t->target == T_TOKEN_PG) {
		ck_assert_int_eq(pg_sql_int(pgurl, "SELECT count(*) FROM links"), 0);
		ck_assert_int_eq(pg_sql_int(pgurl, "SELECT count(*) FROM tokens"), 1);
	} else if (t->target == T_ORPHAN_WAL) {
		ck_assert(!exists(in_dir("target.db")));
		ck_assert(exists(in_dir("target.db-wal"))); /* kept: it may be all that is left of a database */
	} else {
		ck_assert(!exists(in_dir("target.db")));
		ck_assert(!exists(in_dir("target.db-wal")));
	}
	if (t->source_missing) {
		ck_assert(!exists(d.db));
	} else {
		must_run(d.db, (const char *const[]){"export", NULL});
		ck_assert_str_eq(out, source_export);
		free(source_export);
	}
	ck_assert(!exists("postgresql:"));
}
END_TEST

/* ---- failures midway: all or none ---- */

/* A source whose second token's hash is damaged: the copy fails after the
 * links were written, and the SQLite file it made is removed. */
START_TEST(test_failed_copy_removes_the_file_it_made)
{
	const char *target = in_dir("new.db");

	must_run(d.db, (const char *const[]){"init", NULL});
	must_run(d.db, (const char *const[]){"add", "https://s.example/", "--code", "src", NULL});
	must_run(d.db, (const char *const[]){"token", "create", "--name", "one", NULL});
	must_run(d.db, (const char *const[]){"token", "create", "--name", "two", NULL});
	sqlfile_exec(d.db, "UPDATE tokens SET hash = x'0102' WHERE name = 'two'");
	ck_assert_int_eq(run_on(d.db, (const char *const[]){"migrate", target, NULL}), 1);
	ck_assert_msg(strstr(err, "shortd: store: token 'two': its stored hash is 2 bytes, not 32\n") != NULL, "%s",
	              err);
	ck_assert_msg(strstr(err, "/new.db failed: database is corrupt; nothing was written\n") != NULL, "%s", err);
	ck_assert_str_eq(out, "");
	ck_assert(!exists(target));
	ck_assert(!exists(in_dir("new.db-wal")));
	ck_assert(!exists(in_dir("new.db-shm")));
}
END_TEST

/* A target that refuses a row midway (a trigger there): PostgreSQL and an
 * empty SQLite file are left empty, the file in place. */
START_TEST(test_failed_copy_leaves_the_target_empty)
{
	const char *target = in_dir("empty.db");

	must_run(d.db, (const char *const[]){"init", NULL});
	must_run(d.db, (const char *const[]){"add", "https://s.example/1", "--code", "one", NULL});
	must_run(d.db, (const char *const[]){"add", "https://s.example/2", "--code", "two", NULL});
	sqlfile_exec(d.db, "INSERT INTO referrers_daily (link_id, day, host, clicks) SELECT id, 20000, 'r.example', 1 "
	                   "FROM links WHERE code = 'two'");
	if (_i == 0) {
		must_run(target, (const char *const[]){"init", NULL});
		sqlfile_exec(target, "CREATE TRIGGER refuse BEFORE INSERT ON referrers_daily "
		                     "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END");
	} else {
		pg_db_make(pgurl, sizeof(pgurl));
		must_run(pgurl, (const char *const[]){"init", NULL});
		pg_sql_exec(pgurl, "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
		                   "$$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$;"
		                   "CREATE TRIGGER refuse BEFORE INSERT ON referrers_daily "
		                   "FOR EACH ROW EXECUTE FUNCTION refuse()");
		target = pgurl;
	}
	ck_assert_int_eq(run_on(d.db, (const char *const[]){"migrate", target, NULL}), 1);
	ck_assert_msg(strstr(err, "refused by the test") != NULL, "%s", err);
	ck_assert_msg(strstr(err, _i == 0 ? "/empty.db failed: the target refused a row; nothing was written\n"
	                                  : "failed: database error; nothing was written\n") != NULL,
	              "%s", err);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(sqlfile_int(target, "SELECT count(*) FROM links"), 0);
	ck_assert_int_eq(sqlfile_int(target, "SELECT count(*) FROM tokens"), 0);
	if (_i == 0)
		ck_assert(exists(target));
}
END_TEST

/* A target that changes what it is given (a trigger there): the check
 * names the first link that differs, or says the counts differ when only
 * they do (a row gone at the end), and exits 1. */
static const struct {
	const char *trigger;
	const char *message;
} changes[] = {
    /* one bot click for link 2 ('two'), packed as click_chunk.h says */
    {"CREATE TRIGGER change AFTER INSERT ON links WHEN NEW.code = 'two' AND NEW.id = 2 "
     "BEGIN INSERT OR REPLACE INTO click_totals (chunk, data) "
     "VALUES (0, x'02000000000000000001000000000000000000000000000080'); END",
     "/changed.db does not match what was read (link 'two' differs; read 2 links, 1 token, 0 days of clicks, 0 "
     "referrer rows, found 2, 1, 0, 0); the copy is there: remove it before migrating again\n"},
    {"CREATE TRIGGER change AFTER INSERT ON tokens BEGIN DELETE FROM tokens WHERE id = NEW.id; END",
     "/changed.db does not match what was read (the counts differ; read 2 links, 1 token, 0 days of clicks, 0 "
     "referrer rows, found 2, 0, 0, 0); the copy is there: remove it before migrating again\n"},
};

START_TEST(test_copy_that_reads_back_otherwise_is_reported)
{
	const char *target = in_dir("changed.db");

	must_run(d.db, (const char *const[]){"init", NULL});
	must_run(d.db, (const char *const[]){"add", "https://s.example/1", "--code", "one", NULL});
	must_run(d.db, (const char *const[]){"add", "https://s.example/2", "--code", "two", NULL});
	must_run(d.db, (const char *const[]){"token", "create", "--name", "t", NULL});
	must_run(target, (const char *const[]){"init", NULL});
	sqlfile_exec(target, changes[_i].trigger);
	ck_assert_int_eq(run_on(d.db, (const char *const[]){"migrate", target, NULL}), 1);
	ck_assert_msg(strstr(err, changes[_i].message) != NULL, "%s", err);
	ck_assert_str_eq(out, "");
}
END_TEST

Suite *migrate_suite(void)
{
	Suite *s = suite_create("migrate");
	TCase *tc = tcase_create("copy");

	tcase_add_unchecked_fixture(tc, pg_cluster_start, NULL);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_migrate_to_postgresql_and_back);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_unchecked_fixture(tc, pg_cluster_start, NULL);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_migrate_refusals_write_nothing, 0, (int)(sizeof(refusals) / sizeof(refusals[0])));
	tcase_add_test(tc, test_failed_copy_removes_the_file_it_made);
	tcase_add_loop_test(tc, test_failed_copy_leaves_the_target_empty, 0, 2);
	tcase_add_loop_test(tc, test_copy_that_reads_back_otherwise_is_reported, 0,
	                    (int)(sizeof(changes) / sizeof(changes[0])));
	suite_add_tcase(s, tc);
	return s;
}
