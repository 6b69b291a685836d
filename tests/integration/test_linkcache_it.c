/*
 * Integration tests of the redirect path's link cache against the real
 * daemon. A link is redirected to several times (each on a new connection,
 * so the threads' caches hold it), then changed through the API, by the CLI
 * in another process or with raw SQL on another connection; the very next
 * redirect must answer the new status and Location exactly. A link with
 * max_clicks obeys its limit to the click. Eight clients hammering one code
 * on four threads never see a url replaced before their request started,
 * and a fresh request after each change sees it. A 1 MB cache holding a
 * fraction of 3,000 links evicts and refills without mixing them up.
 * --link-cache 0 (flag or SHORTD_LINK_CACHE) answers the same, and a bad
 * value stops serve with exit status 2 and a one-line error naming it.
 */
#include <check.h>
#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api_client.h"
#include "link.h"

#define LC_WARM 8 /* redirects before a change, each on a new connection */
#define LC_OLD "https://t.example/old"
#define LC_NEW "https://t.example/new"

static struct daemon lc_d;

/* One way to run the daemon: extra serve args and one extra variable. */
struct lc_config {
	const char *name;
	const char *args[3];
	const char *env; /* "NAME=value" or NULL */
};

static const struct lc_config lc_configs[] = {
    {"defaults", {NULL}, NULL},
    {"--threads 1", {"--threads", "1", NULL}, NULL},
    {"--link-cache 0", {"--link-cache", "0", NULL}, NULL},
    {"SHORTD_LINK_CACHE=0", {"--threads", "1", NULL}, "SHORTD_LINK_CACHE=0"},
};

#define LC_NCONFIGS ((int)(sizeof(lc_configs) / sizeof(lc_configs[0])))

/* Starts a daemon with the admin token, the NULL-terminated serve args and
 * env_extra ("NAME=value", or NULL). */
static void lc_start(const char *const *args, const char *env_extra)
{
	const char *env[] = {"SHORTD_ADMIN_TOKEN=" API_TEST_TOKEN, env_extra, NULL};

	fixture_start(&lc_d, NULL, args, env);
}

static void lc_stop(void)
{
	ck_assert_msg(daemon_is_running(&lc_d), "the daemon died");
	fixture_stop(&lc_d);
}

/* GET /path on a new connection; the status, and Location into loc ("" when
 * there is none). */
static long lc_get(const char *path, char *loc, size_t size)
{
	char url[256];
	struct http_result r;
	long status;

	snprintf(url, sizeof(url), "%s/%s", lc_d.base, path);
	ck_assert_msg(http_do("GET", url, NULL, 0, NULL, false, &r) == 0, "GET /%s: no answer", path);
	if (http_header(&r, "Location", loc, size) != 0)
		loc[0] = '\0';
	status = r.status;
	http_result_free(&r);
	return status;
}

/* Asserts GET /path answers status with this Location ("" for none). */
static void lc_expect(const char *path, long status, const char *location)
{
	char loc[1024];
	long got = lc_get(path, loc, sizeof(loc));

	ck_assert_msg(got == status && strcmp(loc, location) == 0, "GET /%s: %ld '%s', expected %ld '%s'", path, got,
	              loc, status, location);
}

static void lc_warm(const char *path, long status, const char *location)
{
	for (int i = 0; i < LC_WARM; i++)
		lc_expect(path, status, location);
}

static void lc_create(const char *code, const char *url)
{
	char body[512];

	snprintf(body, sizeof(body), "{\"url\":\"%s\",\"code\":\"%s\"}", url, code);
	json_decref(client_create_link(&lc_d, body));
}

static void lc_delete(const char *code)
{
	char path[128];
	struct http_result r;

	snprintf(path, sizeof(path), "/api/v1/links/%s", code);
	ck_assert_msg(client_call(&lc_d, API_TEST_TOKEN, "DELETE", path, NULL, &r) == 204, "DELETE %s: %ld %s", code,
	              r.status, r.body);
	http_result_free(&r);
}

/* Runs sql on the daemon's database with a connection of this process, as
 * an operator's sqlite3 shell would; it waits out a click flush holding the
 * write lock rather than failing. */
static void lc_sql(const char *sql)
{
	sqlite3 *h = NULL;

	ck_assert_int_eq(sqlite3_open(lc_d.db, &h), SQLITE_OK);
	ck_assert_int_eq(sqlite3_busy_timeout(h, 10000), SQLITE_OK);
	ck_assert_msg(sqlite3_exec(h, sql, NULL, NULL, NULL) == SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(h));
	ck_assert_int_eq(sqlite3_close(h), SQLITE_OK);
}

/* ---- one change after the link is cached ---- */

enum lc_kind {
	LC_PATCH,    /* text: the PATCH body */
	LC_SQL,      /* text: SQL run on another connection */
	LC_DELETE,   /* DELETE through the API */
	LC_RECREATE, /* DELETE, then POST the same code with LC_NEW */
	LC_CLI_RM,   /* shortd rm lc --db <the file>, another process */
};

struct lc_change {
	enum lc_kind kind;
	const char *text;
	const char *path; /* what is requested: "lc" or "lc?x=1" */
	long status;      /* the next redirect's status and Location */
	const char *location;
	const char *undo; /* a PATCH body that restores the link, or NULL */
	bool other_gone;  /* the change also took the link "other" away */
};

static const struct lc_change lc_changes[] = {
    {LC_PATCH, "{\"url\":\"" LC_NEW "\"}", "lc", 302, LC_NEW, NULL, false},
    {LC_PATCH, "{\"status\":307}", "lc", 307, LC_OLD, "{\"status\":302}", false},
    {LC_PATCH, "{\"status\":301}", "lc", 301, LC_OLD, "{\"status\":302}", false},
    {LC_PATCH, "{\"disabled\":true}", "lc", 410, "", "{\"disabled\":false}", false},
    {LC_PATCH, "{\"expires_at\":\"2001-02-03T04:05:06Z\"}", "lc", 410, "", "{\"expires_at\":null}", false},
    {LC_PATCH, "{\"forward_query\":true}", "lc?x=1", 302, LC_OLD "?x=1", "{\"forward_query\":false}", false},
    {LC_PATCH, "{\"url\":\"" LC_NEW "\",\"status\":308}", "lc", 308, LC_NEW, NULL, false},
    {LC_DELETE, NULL, "lc", 404, "", NULL, false},
    {LC_RECREATE, NULL, "lc", 302, LC_NEW, NULL, false},
    {LC_CLI_RM, NULL, "lc", 404, "", NULL, false},
    {LC_SQL, "UPDATE links SET url = '" LC_NEW "' WHERE code = 'lc'", "lc", 302, LC_NEW, NULL, false},
    {LC_SQL, "UPDATE links SET status = 303 WHERE code = 'lc'", "lc", 303, LC_OLD, "{\"status\":302}", false},
    {LC_SQL, "UPDATE links SET disabled = 1 WHERE code = 'lc'", "lc", 410, "", "{\"disabled\":false}", false},
    {LC_SQL, "UPDATE links SET expires_at = 1 WHERE code = 'lc'", "lc", 410, "", "{\"expires_at\":null}", false},
    {LC_SQL, "UPDATE links SET forward_query = 1 WHERE code = 'lc'", "lc?x=1", 302, LC_OLD "?x=1", NULL, false},
    {LC_SQL, "UPDATE links SET max_clicks = 0 WHERE code = 'lc'", "lc", 410, "", "{\"max_clicks\":null}", false},
    {LC_SQL, "UPDATE links SET code = 'lc2' WHERE code = 'lc'", "lc", 404, "", NULL, false},
    {LC_SQL, "DELETE FROM links WHERE code = 'lc'", "lc", 404, "", NULL, false},
    {LC_SQL, "UPDATE OR REPLACE links SET code = 'lc' WHERE code = 'other'", "lc", 302, "https://t.example/other", NULL,
     true},
    {LC_SQL,
     "BEGIN; UPDATE links SET updated_at = 5 WHERE code = 'lc'; "
     "UPDATE links SET url = '" LC_NEW "' WHERE code = 'lc'; COMMIT",
     "lc", 302, LC_NEW, NULL, false},
    {LC_SQL,
     "INSERT INTO links (code, url, status, created_at, updated_at) VALUES ('lc', '" LC_NEW "', 302, 1, 1) "
     "ON CONFLICT (code) DO UPDATE SET url = excluded.url",
     "lc", 302, LC_NEW, NULL, false},
};

#define LC_NCHANGES ((int)(sizeof(lc_changes) / sizeof(lc_changes[0])))

static void lc_apply(const struct lc_change *c)
{
	char out[512], err[512];

	switch (c->kind) {
	case LC_PATCH:
		client_patch_link(&lc_d, "lc", c->text);
		break;
	case LC_SQL:
		lc_sql(c->text);
		break;
	case LC_DELETE:
		lc_delete("lc");
		break;
	case LC_RECREATE:
		lc_delete("lc");
		lc_create("lc", LC_NEW);
		break;
	case LC_CLI_RM: {
		const char *args[] = {"rm", "lc", "--db", lc_d.db, NULL};
		ck_assert_msg(shortd_run(lc_d.db, out, sizeof(out), err, sizeof(err), args) == 0, "shortd rm: %s", err);
		break;
	}
	}
}

/* Every change under every configuration: _i / LC_NCONFIGS is the change. */
START_TEST(test_change_seen_by_next_redirect)
{
	const struct lc_change *c = &lc_changes[_i / LC_NCONFIGS];
	const struct lc_config *cfg = &lc_configs[_i % LC_NCONFIGS];

	lc_start(cfg->args, cfg->env);
	lc_create("lc", LC_OLD);
	lc_create("other", "https://t.example/other");
	lc_warm(c->path, 302, LC_OLD);
	lc_warm("other", 302, "https://t.example/other");
	lc_apply(c);
	lc_expect(c->path, c->status, c->location);
	lc_expect(c->path, c->status, c->location);
	/* The change of one link leaves the others as they were. */
	if (c->other_gone)
		lc_expect("other", 404, "");
	else
		lc_expect("other", 302, "https://t.example/other");
	if (c->undo != NULL) {
		client_patch_link(&lc_d, "lc", c->undo);
		lc_expect(c->path, 302, LC_OLD);
		lc_warm(c->path, 302, LC_OLD);
	}
	lc_stop();
}
END_TEST

/* An operator's INSERT OR REPLACE deletes the old row and inserts a new one
 * with the same code (or the same id): the next redirect follows the new
 * row. */
START_TEST(test_insert_or_replace_seen_by_next_redirect)
{
	const struct lc_config *cfg = &lc_configs[_i];

	lc_start(cfg->args, cfg->env);
	lc_create("lc", LC_OLD);
	lc_warm("lc", 302, LC_OLD);
	lc_sql("INSERT OR REPLACE INTO links (code, url, status, created_at, updated_at) "
	       "VALUES ('lc', '" LC_NEW "', 307, 1, 1)");
	lc_expect("lc", 307, LC_NEW);
	lc_warm("lc", 307, LC_NEW);
	/* A REPLACE that keeps the row's id but gives it another code. */
	lc_sql("REPLACE INTO links (id, code, url, status, created_at, updated_at) "
	       "SELECT id, 'lc3', url, status, 1, 1 FROM links WHERE code = 'lc'");
	lc_expect("lc", 404, "");
	lc_expect("lc3", 307, LC_NEW);
	lc_stop();
}
END_TEST

/* ---- max_clicks ---- */

static void lc_max_clicks(long long n)
{
	char body[64];

	snprintf(body, sizeof(body), "{\"max_clicks\":%lld}", n);
	client_patch_link(&lc_d, "mc", body);
}

/* Clicks are counted by this test: every 302 is one human click. */
START_TEST(test_max_clicks_patched_on_cached_link)
{
	const struct lc_config *cfg = &lc_configs[_i];
	long long clicks = 0;

	lc_start(cfg->args, cfg->env);
	lc_create("mc", LC_OLD);
	lc_warm("mc", 302, LC_OLD);
	clicks += LC_WARM;

	/* One click left, then none. */
	lc_max_clicks(clicks + 1);
	lc_expect("mc", 302, LC_OLD);
	clicks++;
	lc_expect("mc", 410, "");
	lc_expect("mc", 410, "");

	/* The limit lifted: cached again. */
	client_patch_link(&lc_d, "mc", "{\"max_clicks\":null}");
	lc_warm("mc", 302, LC_OLD);
	clicks += LC_WARM;

	/* A limit equal to the clicks so far: gone at once. */
	lc_max_clicks(clicks);
	lc_expect("mc", 410, "");

	/* Two more allowed, exactly. */
	lc_max_clicks(clicks + 2);
	lc_expect("mc", 302, LC_OLD);
	lc_expect("mc", 302, LC_OLD);
	clicks += 2;
	lc_expect("mc", 410, "");

	lc_max_clicks(0);
	lc_expect("mc", 410, "");
	lc_stop();
}
END_TEST

/* ---- many threads, many changes ---- */

#define HOT_CLIENTS 8
#define HOT_PATCHES 50
#define HOT_PREFIX "https://t.example/v/"

struct hot {
	const char *base;
	atomic_int published; /* the newest version whose PATCH has returned */
	atomic_int issued;    /* the newest version sent */
	atomic_int ready;     /* clients with at least one answer */
	atomic_bool stop;
	atomic_bool failed;
	pthread_mutex_t lock;
	char failure[512];
};

struct hot_client {
	struct hot *h;
	long requests;
};

__attribute__((format(printf, 2, 3))) static void hot_fail(struct hot *h, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&h->lock);
	va_start(ap, fmt);
	if (!atomic_load(&h->failed))
		vsnprintf(h->failure, sizeof(h->failure), fmt, ap);
	va_end(ap);
	atomic_store(&h->failed, true);
	pthread_mutex_unlock(&h->lock);
}

/* Requests /hot on one kept-alive connection until told to stop; each
 * answer must name a version no older than the one published before the
 * request was sent and no newer than the one sent after it came back. */
static void *hot_run(void *arg)
{
	struct hot_client *c = arg;
	struct hot *h = c->h;
	struct http_client cl;
	char url[128], loc[256], want[256];

	if (http_client_init(&cl) != 0) {
		hot_fail(h, "no curl handle");
		return NULL;
	}
	snprintf(url, sizeof(url), "%s/hot", h->base);
	while (!atomic_load(&h->stop) && !atomic_load(&h->failed)) {
		struct http_result r;
		int floor = atomic_load(&h->published), ceiling, v = -1;

		if (http_client_do(&cl, "GET", url, NULL, 0, NULL, false, &r) != 0) {
			hot_fail(h, "GET /hot: no answer (request %ld, published %d)", c->requests, floor);
			break;
		}
		ceiling = atomic_load(&h->issued);
		if (http_header(&r, "Location", loc, sizeof(loc)) != 0)
			loc[0] = '\0';
		if (sscanf(loc, HOT_PREFIX "%d", &v) == 1)
			snprintf(want, sizeof(want), HOT_PREFIX "%d", v);
		else
			want[0] = '\0';
		if (r.status != 302 || strcmp(loc, want) != 0 || v < floor || v > ceiling) {
			hot_fail(h,
			         "GET /hot: %ld, Location '%s'; %d was published before the request, %d sent after it",
			         r.status, loc, floor, ceiling);
			http_result_free(&r);
			break;
		}
		http_result_free(&r);
		if (c->requests++ == 0)
			atomic_fetch_add(&h->ready, 1);
	}
	http_client_cleanup(&cl);
	return NULL;
}

START_TEST(test_patches_seen_by_every_thread)
{
	static const char *const args[] = {"--threads", "4", NULL};
	static struct hot h;
	struct hot_client clients[HOT_CLIENTS];
	pthread_t tid[HOT_CLIENTS];
	char body[128], url[128];

	lc_start(args, NULL);
	lc_create("hot", HOT_PREFIX "0");
	h.base = lc_d.base;
	pthread_mutex_init(&h.lock, NULL);
	for (int i = 0; i < HOT_CLIENTS; i++) {
		clients[i].h = &h;
		clients[i].requests = 0;
		ck_assert_int_eq(pthread_create(&tid[i], NULL, hot_run, &clients[i]), 0);
	}
	while (atomic_load(&h.ready) < HOT_CLIENTS && !atomic_load(&h.failed))
		pause_ms(1);
	for (int n = 1; n <= HOT_PATCHES && !atomic_load(&h.failed); n++) {
		atomic_store(&h.issued, n);
		snprintf(body, sizeof(body), "{\"url\":\"" HOT_PREFIX "%d\"}", n);
		client_patch_link(&lc_d, "hot", body);
		atomic_store(&h.published, n);
		/* Fresh connections, served by whichever thread accepts them. */
		snprintf(url, sizeof(url), HOT_PREFIX "%d", n);
		for (int k = 0; k < 4; k++)
			lc_expect("hot", 302, url);
	}
	atomic_store(&h.stop, true);
	for (int i = 0; i < HOT_CLIENTS; i++)
		ck_assert_int_eq(pthread_join(tid[i], NULL), 0);
	ck_assert_msg(!atomic_load(&h.failed), "%s", h.failure);
	for (int i = 0; i < HOT_CLIENTS; i++)
		ck_assert_int_gt(clients[i].requests, 0);
	ck_assert_int_eq(atomic_load(&h.published), HOT_PATCHES);
	lc_stop();
}
END_TEST

/* ---- a small cache: eviction and refill ---- */

#define RING_LINKS 3000
#define RING_PAD 400 /* characters of padding per url, so 3,000 links outgrow 1 MB */

static void ring_url(int i, int round, char *out, size_t size)
{
	char pad[RING_PAD + 1];

	memset(pad, '0', RING_PAD);
	pad[RING_PAD] = '\0';
	snprintf(out, size, "https://t.example/l/%04d/%s%s", i, pad, round == 0 ? "" : "/2");
}

/* Requests every link once in an order shuffled with seed, on one kept-alive
 * connection, and checks each url. */
static void ring_pass(unsigned seed, int round)
{
	static int order[RING_LINKS];
	struct http_client cl;
	char url[128], want[LINK_URL_MAX], loc[1024];

	for (int i = 0; i < RING_LINKS; i++)
		order[i] = i;
	srand(seed);
	for (int i = RING_LINKS - 1; i > 0; i--) {
		int j = rand() % (i + 1), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	ck_assert_int_eq(http_client_init(&cl), 0);
	for (int k = 0; k < RING_LINKS; k++) {
		struct http_result r;
		int i = order[k];

		snprintf(url, sizeof(url), "%s/k%04d", lc_d.base, i);
		ck_assert_msg(http_client_do(&cl, "GET", url, NULL, 0, NULL, false, &r) == 0, "GET %s: no answer", url);
		ring_url(i, round, want, sizeof(want));
		if (http_header(&r, "Location", loc, sizeof(loc)) != 0)
			loc[0] = '\0';
		ck_assert_msg(r.status == 302 && strcmp(loc, want) == 0, "GET /k%04d: %ld '%s'", i, r.status, loc);
		http_result_free(&r);
	}
	http_client_cleanup(&cl);
}

START_TEST(test_small_cache_evicts_and_refills)
{
	static const char *const args[] = {"--link-cache", "1", "--threads", "1", NULL};
	char sql[512];

	lc_start(args, NULL);
	snprintf(sql, sizeof(sql),
	         "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < %d) "
	         "INSERT INTO links (code, url, status, created_at, updated_at) "
	         "SELECT printf('k%%04d', i), printf('https://t.example/l/%%04d/', i) || "
	         "substr(hex(zeroblob(%d)), 1, %d), 302, 1, 1 FROM n",
	         RING_LINKS - 1, RING_PAD, RING_PAD);
	lc_sql(sql);
	ck_assert_int_eq(sqlfile_int(lc_d.db, "SELECT count(*) FROM links"), RING_LINKS);
	ring_pass(1, 0);
	ring_pass(2, 0);
	/* Every url changed in one statement: the whole cache is forgotten. */
	lc_sql("UPDATE links SET url = url || '/2'");
	ring_pass(3, 1);
	lc_stop();
}
END_TEST

/* ---- bad values ---- */

/* The empty value last: an empty variable counts as unset, so the
 * variable's test stops before it. */
static const char *const lc_bad_values[] = {"abc", "-1", "4097", "12MB", "99999999999999999999", ""};

#define LC_NBAD ((int)(sizeof(lc_bad_values) / sizeof(lc_bad_values[0])))

/* The error is one line naming the setting; no database was made. */
static void lc_assert_refused(int status, const char *err, const char *name)
{
	char prefix[64];

	snprintf(prefix, sizeof(prefix), "shortd: %s: ", name);
	ck_assert_int_eq(status, 2);
	ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0, "stderr: %s", err);
	ck_assert_msg(strchr(err, '\n') == err + strlen(err) - 1, "not one line: %s", err);
	ck_assert_int_eq(access(lc_d.db, F_OK), -1);
}

START_TEST(test_bad_link_cache_flag_exits_2)
{
	const char *args[] = {"serve", "--listen",     "127.0.0.1:0",     "--db",
	                      NULL,    "--link-cache", lc_bad_values[_i], NULL};
	char out[256], err[512];
	int status;

	daemon_prepare(&lc_d);
	args[4] = lc_d.db;
	status = shortd_run(lc_d.db, out, sizeof(out), err, sizeof(err), args);
	ck_assert_str_eq(out, "");
	lc_assert_refused(status, err, "--link-cache");
	daemon_cleanup(&lc_d);
}
END_TEST

START_TEST(test_bad_link_cache_env_exits_2)
{
	const char *args[] = {"serve", "--listen", "127.0.0.1:0", "--db", NULL, NULL};
	char out[256], err[512];
	int status;

	daemon_prepare(&lc_d);
	args[4] = lc_d.db;
	ck_assert_int_eq(setenv("SHORTD_LINK_CACHE", lc_bad_values[_i], 1), 0);
	status = shortd_run(lc_d.db, out, sizeof(out), err, sizeof(err), args);
	ck_assert_str_eq(out, "");
	lc_assert_refused(status, err, "SHORTD_LINK_CACHE");
	daemon_cleanup(&lc_d);
}
END_TEST

/* An empty SHORTD_LINK_CACHE is unset: the daemon serves with the default. */
START_TEST(test_empty_env_serves)
{
	lc_start(NULL, "SHORTD_LINK_CACHE=");
	lc_create("lc", LC_OLD);
	lc_warm("lc", 302, LC_OLD);
	client_patch_link(&lc_d, "lc", "{\"url\":\"" LC_NEW "\"}");
	lc_expect("lc", 302, LC_NEW);
	lc_stop();
}
END_TEST

Suite *linkcache_it_suite(void)
{
	Suite *s = suite_create("linkcache_it");
	TCase *changes = tcase_create("changes");
	TCase *load = tcase_create("load");
	TCase *flags = tcase_create("flags");

	tcase_set_timeout(changes, 60);
	tcase_add_loop_test(changes, test_change_seen_by_next_redirect, 0, LC_NCHANGES * LC_NCONFIGS);
	tcase_add_loop_test(changes, test_insert_or_replace_seen_by_next_redirect, 0, LC_NCONFIGS);
	tcase_add_loop_test(changes, test_max_clicks_patched_on_cached_link, 0, LC_NCONFIGS);
	suite_add_tcase(s, changes);

	tcase_set_timeout(load, 180);
	tcase_add_test(load, test_patches_seen_by_every_thread);
	tcase_add_test(load, test_small_cache_evicts_and_refills);
	suite_add_tcase(s, load);

	tcase_add_loop_test(flags, test_bad_link_cache_flag_exits_2, 0, LC_NBAD);
	tcase_add_loop_test(flags, test_bad_link_cache_env_exits_2, 0, LC_NBAD - 1);
	tcase_add_test(flags, test_empty_env_serves);
	suite_add_tcase(s, flags);
	return s;
}
