/*
 * Click counting end to end, against the real daemon: clicks show in stats
 * at once and reach the database on the flusher's cadence, with the day and
 * the referring host; bots are counted apart; a SIGTERM writes every
 * pending click; a SIGKILL loses at most the last flush interval and leaves
 * the database intact; max_clicks holds exactly under concurrent clients.
 */
#include <check.h>
#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_client.h"
#include "harness.h"

#define CLIENTS 8

/* One integer from the database at path (opened read-only beside the
 * daemon, or a PostgreSQL URL); fails the test when the query does not
 * answer one row. */
static long long db_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	long long v;

	if (harness_uses_pg())
		return sqlfile_int(path, sql);
	ck_assert_int_eq(sqlite_counts_open(path, SQLITE_OPEN_READONLY, &db), SQLITE_OK);
	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(db));
	ck_assert_msg(sqlite3_step(st) == SQLITE_ROW, "%s: no row", sql);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static long long today(void)
{
	return (long long)time(NULL) / 86400;
}

static void today_date(char out[11])
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

static void create_target_link(const struct daemon *d, const char *code, const char *extra)
{
	char body[512];
	json_t *j;

	snprintf(body, sizeof(body), "{\"url\":\"https://target.example/%s\",\"code\":\"%s\"%s}", code, code, extra);
	j = client_create_link(d, body);
	ck_assert_str_eq(client_str(j, "code"), code);
	json_decref(j);
}

/* GETs /code with the headers; returns the status and checks a redirect's
 * Location. */
static long click(const struct daemon *d, const char *code, const char *const *headers)
{
	struct http_result r;
	char url[256], loc[256], want[256];
	long status;

	snprintf(url, sizeof(url), "%s/%s", d->base, code);
	ck_assert_msg(http_do("GET", url, NULL, 0, headers, false, &r) == 0, "GET %s: no answer", url);
	status = r.status;
	if (status == 302) {
		snprintf(want, sizeof(want), "https://target.example/%s", code);
		ck_assert_int_eq(http_header(&r, "Location", loc, sizeof(loc)), 0);
		ck_assert_str_eq(loc, want);
	}
	http_result_free(&r);
	return status;
}

static json_t *stats(const struct daemon *d, const char *code)
{
	struct http_result r;
	char path[128];
	json_t *j;

	snprintf(path, sizeof(path), "/api/v1/links/%s/stats", code);
	ck_assert_msg(client_call(d, API_TEST_TOKEN, "GET", path, NULL, &r) == 200, "%s: %ld %s", path, r.status,
	              r.body);
	j = client_json(&r);
	http_result_free(&r);
	return j;
}

/* The last entry of stats' daily array: today. */
static json_t *stats_today(json_t *s)
{
	json_t *daily = json_object_get(s, "daily");
	char date[11];

	ck_assert(json_is_array(daily));
	ck_assert_uint_ge(json_array_size(daily), 1);
	today_date(date);
	json_t *last = json_array_get(daily, json_array_size(daily) - 1);
	ck_assert_str_eq(client_str(last, "date"), date);
	return last;
}

static const char *const human_headers[] = {
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
    "Referer: https://news.example.com/item?id=42",
    NULL,
};

static const char *const bot_agents[] = {
    "User-Agent: Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "User-Agent: Twitterbot/1.0",
    "User-Agent: facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "User-Agent: Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
};

START_TEST(test_ten_clicks_show_at_once_with_day_and_referrer)
{
	static const char *const args[] = {"--flush-interval", "60000", NULL};
	struct daemon d;
	char sql[256], out[4096], err[1024];
	json_t *s, *day, *refs, *link;
	struct http_result r;

	client_daemon_start(&d, args);
	create_target_link(&d, "ten", "");
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(click(&d, "ten", human_headers), 302);
	for (size_t i = 0; i < sizeof(bot_agents) / sizeof(bot_agents[0]); i++) {
		const char *h[] = {bot_agents[i], "Referer: https://chat.example.org/", NULL};
		ck_assert_int_eq(click(&d, "ten", h), 302);
	}

	/* The flush interval is a minute: these numbers come from memory. */
	s = stats(&d, "ten");
	ck_assert_int_eq(client_int(s, "clicks"), 10);
	ck_assert_int_eq(client_int(s, "bot_clicks"), 4);
	ck_assert(json_is_string(json_object_get(s, "last_click_at")));
	day = stats_today(s);
	ck_assert_int_eq(client_int(day, "clicks"), 10);
	ck_assert_int_eq(client_int(day, "bot_clicks"), 4);
	refs = json_object_get(s, "referrers");
	ck_assert_uint_eq(json_array_size(refs), 1); /* bot referrers are not counted */
	ck_assert_str_eq(client_str(json_array_get(refs, 0), "host"), "news.example.com");
	ck_assert_int_eq(client_int(json_array_get(refs, 0), "clicks"), 10);
	json_decref(s);

	ck_assert_int_eq(client_call(&d, API_TEST_TOKEN, "GET", "/api/v1/links/ten", NULL, &r), 200);
	link = client_json(&r);
	ck_assert_int_eq(client_int(link, "clicks"), 10);
	json_decref(link);
	http_result_free(&r);

	ck_assert_int_eq(daemon_stop(&d), 0);
	ck_assert_int_eq(db_int(d.db, "SELECT clicks FROM links WHERE code = 'ten'"), 10);
	ck_assert_int_eq(db_int(d.db, "SELECT bot_clicks FROM links WHERE code = 'ten'"), 4);
	snprintf(sql, sizeof(sql), "SELECT clicks * 1000 + bot_clicks FROM clicks_daily WHERE day = %lld", today());
	ck_assert_int_eq(db_int(d.db, sql), 10 * 1000 + 4);
	ck_assert_int_eq(db_int(d.db, "SELECT count(*) FROM clicks_daily"), 1);
	snprintf(sql, sizeof(sql), "SELECT clicks FROM referrers_daily WHERE host = 'news.example.com' AND day = %lld",
	         today());
	ck_assert_int_eq(db_int(d.db, sql), 10);
	ck_assert_int_eq(db_int(d.db, "SELECT count(*) FROM referrers_daily"), 1);

	const char *get[] = {"get", "ten", NULL};
	ck_assert_int_eq(shortd_run(d.db, out, sizeof(out), err, sizeof(err), get), 0);
	json_t *j = json_loads(out, 0, NULL);
	ck_assert_msg(j != NULL, "shortd get: %s", out);
	ck_assert_int_eq(client_int(j, "clicks"), 10);
	json_decref(j);
	daemon_cleanup(&d);
}
END_TEST

START_TEST(test_flusher_writes_clicks_within_its_interval)
{
	static const char *const args[] = {"--flush-interval", "100", NULL};
	struct daemon d;
	char sql[256], out[4096], err[1024];
	long long n = -1;

	client_daemon_start(&d, args);
	create_target_link(&d, "flush", "");
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(click(&d, "flush", human_headers), 302);
	/* No stats call (it would write pending clicks itself): only the
	 * flusher can put them in the database. Wait up to 10 s for it. */
	for (int waited = 0; waited < 10000; waited += 50) {
		const char *get[] = {"get", "flush", NULL};
		json_t *j;
		ck_assert_int_eq(shortd_run(d.db, out, sizeof(out), err, sizeof(err), get), 0);
		j = json_loads(out, 0, NULL);
		ck_assert_msg(j != NULL, "shortd get: %s", out);
		n = client_int(j, "clicks");
		json_decref(j);
		if (n == 10)
			break;
		pause_ms(50);
	}
	ck_assert_int_eq(n, 10);
	snprintf(sql, sizeof(sql), "SELECT clicks FROM clicks_daily WHERE day = %lld", today());
	ck_assert_int_eq(db_int(d.db, sql), 10);
	snprintf(sql, sizeof(sql), "SELECT clicks FROM referrers_daily WHERE host = 'news.example.com' AND day = %lld",
	         today());
	ck_assert_int_eq(db_int(d.db, sql), 10);
	fixture_stop(&d);
}
END_TEST

START_TEST(test_bot_clicks_do_not_use_up_max_clicks)
{
	struct daemon d;
	json_t *s;

	client_daemon_start(&d, NULL);
	create_target_link(&d, "botcap", ",\"max_clicks\":2");
	for (size_t i = 0; i < sizeof(bot_agents) / sizeof(bot_agents[0]); i++) {
		const char *h[] = {bot_agents[i], NULL};
		ck_assert_int_eq(click(&d, "botcap", h), 302);
	}
	ck_assert_int_eq(click(&d, "botcap", human_headers), 302);
	ck_assert_int_eq(click(&d, "botcap", human_headers), 302);
	ck_assert_int_eq(click(&d, "botcap", human_headers), 410);
	s = stats(&d, "botcap");
	ck_assert_int_eq(client_int(s, "clicks"), 2);
	ck_assert_int_eq(client_int(s, "bot_clicks"), 4);
	json_decref(s);
	fixture_stop(&d);
}
END_TEST

/* ---- concurrent clients ---- */

struct burst {
	const struct daemon *d;
	const char *code;
	int requests; /* per client; 0: until the daemon stops answering */
	_Atomic long *redirects;
	_Atomic long *gone;
	_Atomic long *other;
};

static void *burst_client(void *arg)
{
	struct burst *b = arg;
	char url[256];

	snprintf(url, sizeof(url), "%s/%s", b->d->base, b->code);
	for (int i = 0; b->requests == 0 || i < b->requests; i++) {
		struct http_result r;
		if (http_do("GET", url, NULL, 0, NULL, false, &r) != 0) {
			if (b->requests == 0)
				break; /* the daemon is gone */
			atomic_fetch_add(b->other, 1);
			continue;
		}
		if (r.status == 302)
			atomic_fetch_add(b->redirects, 1);
		else if (r.status == 410)
			atomic_fetch_add(b->gone, 1);
		else
			atomic_fetch_add(b->other, 1);
		http_result_free(&r);
	}
	return NULL;
}

/* Runs CLIENTS clients of b (requests each) to completion. */
static void run_burst(struct burst *b)
{
	pthread_t t[CLIENTS];

	for (int i = 0; i < CLIENTS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, burst_client, b), 0);
	for (int i = 0; i < CLIENTS; i++)
		pthread_join(t[i], NULL);
}

START_TEST(test_thousand_clicks_then_sigterm_are_all_written)
{
	/* A minute's flush interval: every click is still pending at SIGTERM. */
	static const char *const args[] = {"--flush-interval", "60000", "--threads", "4", NULL};
	static const char *const env[] = {"SHORTD_ADMIN_TOKEN=" API_TEST_TOKEN, NULL};
	_Atomic long redirects = 0, gone = 0, other = 0;
	struct daemon d;
	struct burst b;
	json_t *s;

	client_daemon_start(&d, args);
	create_target_link(&d, "k", "");
	b = (struct burst){&d, "k", 1000 / CLIENTS, &redirects, &gone, &other};
	run_burst(&b);
	ck_assert_int_eq(atomic_load(&redirects), 1000);
	ck_assert_int_eq(atomic_load(&other), 0);
	ck_assert_int_eq(daemon_stop(&d), 0);

	ck_assert_int_eq(db_int(d.db, "SELECT clicks FROM links WHERE code = 'k'"), 1000);
	ck_assert_int_eq(daemon_start(&d, args, env), 0);
	s = stats(&d, "k");
	ck_assert_int_eq(client_int(s, "clicks"), 1000);
	ck_assert_int_eq(client_int(stats_today(s), "clicks"), 1000);
	json_decref(s);
	fixture_stop(&d);
}
END_TEST

START_TEST(test_max_clicks_exact_under_concurrent_clients)
{
	static const char *const args[] = {"--threads", "4", NULL};
	_Atomic long redirects = 0, gone = 0, other = 0;
	struct daemon d;
	struct burst b;
	json_t *s;

	client_daemon_start(&d, args);
	create_target_link(&d, "fifty", ",\"max_clicks\":50");
	b = (struct burst){&d, "fifty", 200 / CLIENTS, &redirects, &gone, &other};
	run_burst(&b);
	ck_assert_int_eq(atomic_load(&redirects), 50);
	ck_assert_int_eq(atomic_load(&gone), 150);
	ck_assert_int_eq(atomic_load(&other), 0);
	s = stats(&d, "fifty");
	ck_assert_int_eq(client_int(s, "clicks"), 50);
	json_decref(s);
	ck_assert_int_eq(daemon_stop(&d), 0);
	ck_assert_int_eq(db_int(d.db, "SELECT clicks FROM links WHERE code = 'fifty'"), 50);
	daemon_cleanup(&d);
}
END_TEST

START_TEST(test_max_clicks_set_again_after_lifting_counts_clicks_between)
{
	struct daemon d;
	struct http_result r;

	client_daemon_start(&d, NULL);
	create_target_link(&d, "relim", ",\"max_clicks\":3");
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(click(&d, "relim", human_headers), 302);
	ck_assert_int_eq(click(&d, "relim", human_headers), 410);
	ck_assert_int_eq(client_call(&d, API_TEST_TOKEN, "PATCH", "/api/v1/links/relim", "{\"max_clicks\":null}", &r),
	                 200);
	http_result_free(&r);
	ck_assert_int_eq(click(&d, "relim", human_headers), 302);
	ck_assert_int_eq(click(&d, "relim", human_headers), 302);
	/* 5 clicks so far: a limit of 6 leaves exactly one. */
	ck_assert_int_eq(client_call(&d, API_TEST_TOKEN, "PATCH", "/api/v1/links/relim", "{\"max_clicks\":6}", &r),
	                 200);
	http_result_free(&r);
	ck_assert_int_eq(click(&d, "relim", human_headers), 302);
	ck_assert_int_eq(click(&d, "relim", human_headers), 410);
	fixture_stop(&d);
}
END_TEST

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#define STAMPS 65536

struct stamped {
	struct burst *b;
	uint64_t *at; /* when each redirect was read */
	int n;
};

static void *stamped_client(void *arg)
{
	struct stamped *s = arg;
	char url[256];

	snprintf(url, sizeof(url), "%s/%s", s->b->d->base, s->b->code);
	while (s->n < STAMPS) {
		struct http_result r;
		if (http_do("GET", url, NULL, 0, NULL, false, &r) != 0)
			break; /* the daemon is gone */
		if (r.status == 302)
			s->at[s->n++] = mono_ns();
		else
			atomic_fetch_add(s->b->other, 1);
		http_result_free(&r);
	}
	return NULL;
}

START_TEST(test_sigkill_mid_burst_loses_at_most_the_last_interval)
{
	static const char *const args[] = {"--flush-interval", "100", "--threads", "4", NULL};
	static const char *const env[] = {"SHORTD_ADMIN_TOKEN=" API_TEST_TOKEN, NULL};
	_Atomic long redirects = 0, gone = 0, other = 0;
	struct stamped st[CLIENTS];
	pthread_t t[CLIENTS];
	struct daemon d;
	struct burst b;
	long long stored = 0, truth = 0, recent = 0;
	uint64_t killed_at;
	struct http_result r;

	client_daemon_start(&d, args);
	create_target_link(&d, "crash", "");
	b = (struct burst){&d, "crash", 0, &redirects, &gone, &other};
	for (int i = 0; i < CLIENTS; i++) {
		st[i] = (struct stamped){&b, calloc(STAMPS, sizeof(uint64_t)), 0};
		ck_assert_ptr_nonnull(st[i].at);
		ck_assert_int_eq(pthread_create(&t[i], NULL, stamped_client, &st[i]), 0);
	}
	/* Kill once the flusher has written part of the burst. */
	for (int waited = 0; stored < 200 && waited < 20000; waited += 20) {
		pause_ms(20);
		stored = db_int(d.db, "SELECT clicks FROM links WHERE code = 'crash'");
	}
	ck_assert_int_ge(stored, 200);
	daemon_kill(&d);
	killed_at = mono_ns();
	for (int i = 0; i < CLIENTS; i++)
		pthread_join(t[i], NULL);
	ck_assert_int_eq(atomic_load(&other), 0);

	ck_assert_int_eq(daemon_start(&d, args, env), 0);
	ck_assert_int_eq(client_call(&d, NULL, "GET", "/healthz", NULL, &r), 200);
	http_result_free(&r);
	json_t *s = stats(&d, "crash");
	stored = client_int(s, "clicks");
	json_decref(s);
	ck_assert_int_eq(daemon_stop(&d), 0);

	if (harness_uses_pg()) {
		/* No file of shortd's to damage: the server holds the data, and
		 * answers for every table the flusher writes. */
		ck_assert_int_eq(db_int(d.db, "SELECT count(*) FROM links"), 1);
		ck_assert_int_le(db_int(d.db, "SELECT count(*) FROM clicks_daily"), 1);
	} else {
		sqlite3 *db = NULL;
		sqlite3_stmt *q = NULL;
		ck_assert_int_eq(sqlite3_open_v2(d.db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
		ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &q, NULL), SQLITE_OK);
		ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
		ck_assert_str_eq((const char *)sqlite3_column_text(q, 0), "ok");
		sqlite3_finalize(q);
		sqlite3_close(db);
	}
	/*
	 * Every redirect a client read was counted before it was sent, and at
	 * most one request per client was counted but never read. What the
	 * kill may lose is what was answered since the last write: at most one
	 * interval (100 ms) of clicks. The window counted here is ten intervals
	 * wide, so a loaded machine delaying the flusher does not fail the test,
	 * while losing a whole burst (or counting a click twice) still does.
	 */
	for (int i = 0; i < CLIENTS; i++) {
		truth += st[i].n;
		for (int k = 0; k < st[i].n; k++)
			recent += st[i].at[k] + 1000000000u >= killed_at;
		free(st[i].at);
	}
	ck_assert_int_le(stored, truth + CLIENTS);
	ck_assert_msg(truth - stored <= recent, "lost %lld clicks; %lld were answered in the last second",
	              truth - stored, recent);
	daemon_cleanup(&d);
}
END_TEST

Suite *clicks_it_suite(void)
{
	Suite *s = suite_create("clicks_it");
	TCase *core = tcase_create("core");
	TCase *load = tcase_create("load");

	tcase_set_timeout(core, 60);
	tcase_add_test(core, test_ten_clicks_show_at_once_with_day_and_referrer);
	tcase_add_test(core, test_flusher_writes_clicks_within_its_interval);
	tcase_add_test(core, test_bot_clicks_do_not_use_up_max_clicks);
	tcase_add_test(core, test_max_clicks_set_again_after_lifting_counts_clicks_between);
	suite_add_tcase(s, core);
	tcase_set_timeout(load, 180);
	tcase_add_test(load, test_thousand_clicks_then_sigterm_are_all_written);
	tcase_add_test(load, test_max_clicks_exact_under_concurrent_clients);
	tcase_add_test(load, test_sigkill_mid_burst_loses_at_most_the_last_interval);
	suite_add_tcase(s, load);
	return s;
}
