/*
 * The database file moved, deleted or replaced under the running daemon.
 *
 * The daemon holds its database open: redirects go on from the file it
 * holds, /healthz and the log say the file is gone, every write is refused
 * (503 unavailable) and nothing creates a file at the path. Every link whose
 * creation was answered 201 is in the file the daemon held, wherever it went
 * (for a deleted or replaced file the test keeps a second name, a hard link,
 * to look inside), and a file put in its place is left as it was.
 */
#include <check.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define TOKEN "dbfiles-admin-token-0123456789abcdefghijklmn"
#define TARGET "https://t.example/f"
#define LOADERS 3
#define ACKED_MAX 100000
#define CODE_LEN 32

static const char *const token_env[] = {"SHORTD_ADMIN_TOKEN=" TOKEN, NULL};
static const char *const fast_flush[] = {"--flush-interval", "50", "--threads", "4", NULL};

/* POST /api/v1/links {"url": TARGET "/" code, "code": code} on c; the
 * status. A refusal must be the API's JSON 503 `unavailable`. */
static long create_on(struct http_client *c, const struct daemon *d, const char *code)
{
	static const char *const headers[] = {"Authorization: Bearer " TOKEN, "Content-Type: application/json", NULL};
	char url[128], body[256];
	struct http_result r;
	long status;

	snprintf(url, sizeof(url), "%s/api/v1/links", d->base);
	snprintf(body, sizeof(body), "{\"url\":\"" TARGET "/%s\",\"code\":\"%s\"}", code, code);
	ck_assert_int_eq(http_client_do(c, "POST", url, body, strlen(body), headers, false, &r), 0);
	status = r.status;
	if (status != 201) {
		json_t *j = json_loadb(r.body, r.body_len, 0, NULL);
		ck_assert_msg(status == 503 && j != NULL, "create %s: %ld %s", code, status, r.body);
		ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "error"), "code")),
		                 "unavailable");
		json_decref(j);
	}
	http_result_free(&r);
	return status;
}

/* GET path on a new connection: the status, and Location into loc. */
static long get(const struct daemon *d, const char *path, char *loc, size_t locsize, char *body, size_t bodysize)
{
	char url[128];
	struct http_result r;
	long status;

	snprintf(url, sizeof(url), "%s%s", d->base, path);
	ck_assert_int_eq(http_do("GET", url, NULL, 0, NULL, false, &r), 0);
	status = r.status;
	if (loc != NULL && http_header(&r, "Location", loc, locsize) != 0)
		loc[0] = '\0';
	if (body != NULL)
		snprintf(body, bodysize, "%s", r.body);
	http_result_free(&r);
	return status;
}

/* GET /code answers 302 to TARGET/code, as the loaders made it. */
static void assert_redirects(const struct daemon *d, const char *code)
{
	char want[512];

	snprintf(want, sizeof(want), TARGET "/%s", code);
	assert_redirects_to(d, code, want);
}

static void assert_health_says_gone(const struct daemon *d)
{
	char body[512];

	ck_assert_int_eq(get(d, "/healthz", NULL, 0, body, sizeof(body)), 503);
	assert_health_gone_body(body);
}

/* Every code in codes[0..n) is a link to TARGET/code in db, which passes
 * integrity_check. */
static void assert_links_in(const char *db, char (*codes)[CODE_LEN], size_t n)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;

	ck_assert_int_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(h, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
	ck_assert_int_eq(sqlite3_prepare_v2(h, "SELECT url FROM links WHERE code = ?1", -1, &st, NULL), SQLITE_OK);
	for (size_t i = 0; i < n; i++) {
		char want[128];
		sqlite3_bind_text(st, 1, codes[i], -1, SQLITE_STATIC);
		ck_assert_msg(sqlite3_step(st) == SQLITE_ROW, "link %s was acknowledged and is not in %s", codes[i],
		              db);
		snprintf(want, sizeof(want), TARGET "/%s", codes[i]);
		ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), want);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	ck_assert_int_eq(sqlite3_close(h), SQLITE_OK);
}

/* Nothing at path, or (for PATH-wal) an empty file. */
static void assert_no_data_at(const char *path)
{
	struct stat sb;

	if (stat(path, &sb) == 0)
		ck_assert_msg(sb.st_size == 0, "%s holds %lld bytes", path, (long long)sb.st_size);
	else
		ck_assert_int_eq(errno, ENOENT);
}

static bool log_has(const struct daemon *d, const char *needle)
{
	static char buf[65536];
	FILE *f = fopen(d->log, "r");
	size_t n;

	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

/* Runs shortd with args against db; the exit status, stderr into err. */
static int cli(const char *db, char *err, size_t errsize, const char *const *args)
{
	char out[512];

	return shortd_run(db, out, sizeof(out), err, errsize, args);
}

/* ---- the reported case: links added with the CLI, the file moved, a click ---- */

START_TEST(test_moved_database_keeps_serving_and_creates_no_file)
{
	static char codes[10][CODE_LEN];
	struct daemon d;
	struct http_client c;
	char moved[400], wal[400], err[512], url[512];

	fixture_start(&d, NULL, fast_flush, token_env);
	for (int i = 0; i < 10; i++) {
		snprintf(codes[i], CODE_LEN, "cli%d", i);
		snprintf(url, sizeof(url), TARGET "/%s", codes[i]);
		ck_assert_int_eq(
		    cli(d.db, err, sizeof(err), (const char *const[]){"add", url, "--code", codes[i], NULL}), 0);
	}
	snprintf(moved, sizeof(moved), "%s.moved", d.db);
	snprintf(wal, sizeof(wal), "%s-wal", d.db);
	ck_assert_int_eq(rename(d.db, moved), 0);

	/* Clicks on new connections (every worker thread) still redirect. */
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 10; i++)
			assert_redirects(&d, codes[i]);
	}
	assert_health_says_gone(&d);
	ck_assert_int_eq(http_client_init(&c), 0);
	ck_assert_int_eq(create_on(&c, &d, "aftermove"), 503);
	http_client_cleanup(&c);
	ck_assert(log_has(&d, "was moved to"));
	ck_assert(log_has(&d, moved));
	/* The CLI does not make a new database at the path either. */
	ck_assert_int_eq(cli(d.db, err, sizeof(err), (const char *const[]){"add", TARGET, "--code", "x", NULL}), 1);
	ck_assert_msg(strstr(err, "no database at") != NULL, "stderr: %s", err);
	assert_no_data_at(d.db);
	assert_no_data_at(wal);

	/* The clicks since the move could not be written: exit 1, said so. */
	ck_assert_int_eq(daemon_stop(&d), 1);
	ck_assert(log_has(&d, "could not be written"));
	assert_no_data_at(d.db);
	assert_no_data_at(wal);
	assert_links_in(moved, codes, 10);
	ck_assert_int_eq(sqlfile_int(moved, "SELECT count(*) FROM links"), 10);
	daemon_cleanup(&d);
}
END_TEST

START_TEST(test_file_put_back_resumes_writes)
{
	static char codes[2][CODE_LEN] = {"before", "after"};
	struct daemon d;
	struct http_client c;
	char moved[400], body[256];

	fixture_start(&d, NULL, fast_flush, token_env);
	ck_assert_int_eq(http_client_init(&c), 0);
	ck_assert_int_eq(create_on(&c, &d, "before"), 201);
	snprintf(moved, sizeof(moved), "%s.moved", d.db);
	ck_assert_int_eq(rename(d.db, moved), 0);
	ck_assert_int_eq(create_on(&c, &d, "during"), 503);
	assert_health_says_gone(&d);
	ck_assert_int_eq(rename(moved, d.db), 0);
	ck_assert_int_eq(get(&d, "/healthz", NULL, 0, body, sizeof(body)), 200);
	ck_assert_str_eq(body, "ok\n");
	ck_assert_int_eq(create_on(&c, &d, "after"), 201);
	assert_redirects(&d, "before");
	assert_redirects(&d, "after");
	http_client_cleanup(&c);
	ck_assert(log_has(&d, "is back where it was opened"));
	/* Clicks kept while it was away are written now: a clean stop. */
	ck_assert_int_eq(daemon_stop(&d), 0);
	assert_links_in(d.db, codes, 2);
	ck_assert_int_eq(sqlfile_int(d.db, "SELECT count(*) FROM links"), 2);
	ck_assert_int_eq(sqlfile_int(d.db, "SELECT clicks FROM links WHERE code = 'before'"), 1);
	daemon_cleanup(&d);
}
END_TEST

/* ---- under load ---- */

enum file_op { OP_MOVE, OP_DELETE, OP_REPLACE, OP_COUNT };

struct acked {
	pthread_mutex_t lock;
	size_t n;
	char (*codes)[CODE_LEN];
};

struct loader {
	const struct daemon *d;
	struct acked *acked;
	atomic_bool *op_done;
	atomic_bool *stop;
	int id;
	atomic_long created;
	long refused;
	long created_after_op; /* sent after the file operation and answered 201 */
};

static void *loader_run(void *arg)
{
	struct loader *l = arg;
	struct http_client c;
	char code[CODE_LEN];

	ck_assert_int_eq(http_client_init(&c), 0);
	/* Until told to stop, and at least once after the file operation. */
	for (int n = 0, sent_after = 0; !atomic_load(l->stop) || !sent_after; n++) {
		bool after = atomic_load(l->op_done);
		long status;

		sent_after |= after;

		snprintf(code, sizeof(code), "t%dn%d", l->id, n);
		status = create_on(&c, l->d, code);
		if (status == 201) {
			pthread_mutex_lock(&l->acked->lock);
			ck_assert_uint_lt(l->acked->n, ACKED_MAX);
			memcpy(l->acked->codes[l->acked->n++], code, sizeof(code));
			pthread_mutex_unlock(&l->acked->lock);
			atomic_fetch_add(&l->created, 1);
			l->created_after_op += after;
		} else {
			l->refused++;
		}
		assert_redirects(l->d, "seed");
	}
	http_client_cleanup(&c);
	return NULL;
}

START_TEST(test_file_moved_deleted_or_replaced_under_load_loses_no_acknowledged_link)
{
	static const char *const what[OP_COUNT] = {"was moved to", "was moved", "replaced by another file"};
	struct acked acked = {PTHREAD_MUTEX_INITIALIZER, 0, calloc(ACKED_MAX, CODE_LEN)};
	struct loader loaders[LOADERS];
	pthread_t threads[LOADERS];
	atomic_bool op_done = false, stop = false;
	struct daemon d;
	struct http_client c;
	char held[400], other[400], wal[400], err[512];
	long refused = 0;

	ck_assert_ptr_nonnull(acked.codes);
	fixture_make_db(&d, NULL);
	snprintf(held, sizeof(held), "%s/held.db", d.dir);
	snprintf(other, sizeof(other), "%s/other.db", d.dir);
	snprintf(wal, sizeof(wal), "%s-wal", d.db);
	if (_i == OP_REPLACE) {
		/* The file put in its place: a shortd database of its own. */
		ck_assert_int_eq(cli(other, err, sizeof(err), (const char *const[]){"init", NULL}), 0);
		ck_assert_int_eq(cli(other, err, sizeof(err),
		                     (const char *const[]){"add", TARGET "/intruder", "--code", "intruder", NULL}),
		                 0);
	}
	ck_assert_int_eq(daemon_start(&d, fast_flush, token_env), 0);
	ck_assert_int_eq(http_client_init(&c), 0);
	ck_assert_int_eq(create_on(&c, &d, "seed"), 201);
	memcpy(acked.codes[acked.n++], "seed", 5);
	for (int i = 0; i < LOADERS; i++) {
		loaders[i] = (struct loader){&d, &acked, &op_done, &stop, i, 0, 0, 0};
		ck_assert_int_eq(pthread_create(&threads[i], NULL, loader_run, &loaders[i]), 0);
	}
	/* Every loader has had a creation answered before the file goes. */
	for (int i = 0, waited = 0; i < LOADERS; waited++) {
		ck_assert_int_lt(waited, 1000);
		if (atomic_load(&loaders[i].created) > 0)
			i++;
		else
			pause_ms(10);
	}
	pause_ms(200);
	switch (_i) {
	case OP_MOVE:
		ck_assert_int_eq(rename(d.db, held), 0);
		break;
	case OP_DELETE: /* the test keeps a second name to look inside */
		ck_assert_int_eq(link(d.db, held), 0);
		ck_assert_int_eq(unlink(d.db), 0);
		break;
	default:
		ck_assert_int_eq(link(d.db, held), 0);
		ck_assert_int_eq(rename(other, d.db), 0);
		break;
	}
	atomic_store(&op_done, true);
	pause_ms(200);
	atomic_store(&stop, true);
	for (int i = 0; i < LOADERS; i++) {
		ck_assert_int_eq(pthread_join(threads[i], NULL), 0);
		ck_assert_int_eq(loaders[i].created_after_op, 0);
		ck_assert_int_gt(loaders[i].refused, 0);
		refused += loaders[i].refused;
	}
	ck_assert_int_ge(refused, LOADERS);
	ck_assert_int_eq(create_on(&c, &d, "late"), 503);
	http_client_cleanup(&c);
	assert_health_says_gone(&d);
	for (size_t i = 0; i < acked.n; i += acked.n / 20 + 1)
		assert_redirects(&d, acked.codes[i]);
	ck_assert_msg(log_has(&d, what[_i]), "the log does not say '%s'", what[_i]);

	ck_assert_int_eq(daemon_stop(&d), 1); /* the clicks since could not be written */
	assert_links_in(held, acked.codes, acked.n);
	if (_i == OP_REPLACE) {
		/* The file put in the path is untouched: its one link, nothing of ours. */
		static char intruder[1][CODE_LEN] = {"intruder"};
		assert_links_in(d.db, intruder, 1);
		ck_assert_int_eq(sqlfile_int(d.db, "SELECT count(*) FROM links"), 1);
	} else {
		assert_no_data_at(d.db);
	}
	assert_no_data_at(wal);
	daemon_cleanup(&d);
	free(acked.codes);
}
END_TEST

Suite *dbfiles_suite(void)
{
	Suite *s = suite_create("dbfiles");
	TCase *tc = tcase_create("gone");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_moved_database_keeps_serving_and_creates_no_file);
	tcase_add_test(tc, test_file_put_back_resumes_writes);
	tcase_add_loop_test(tc, test_file_moved_deleted_or_replaced_under_load_loses_no_acknowledged_link, 0, OP_COUNT);
	suite_add_tcase(s, tc);
	return s;
}
