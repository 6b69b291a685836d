/*
 * Several nodes on one PostgreSQL database, each a real daemon on
 * 127.0.0.1:0 and the database in the tests' throw-away cluster
 * (pg_cluster.h): three nodes started at the same moment on an empty
 * database migrate it once; a link made on one node is followed by the
 * others, and a change on one reaches the others' caches within 1 s;
 * max_clicks 1,000 under 10,000 concurrent clicks spread over three nodes
 * gives exactly 1,000 redirects; PostgreSQL stopped and started while
 * nodes take clicks and creates loses no link or click they acknowledged.
 */
#include <check.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_client.h"
#include "harness.h"
#include "migrations.h"
#include "pg_cluster.h"

#define NODES 3

static char db_url[300];
static struct daemon nodes[NODES];

/* What the nodes are started with: the shared database, quick flushes. */
static const char *const node_args[] = {"--flush-interval", "100", NULL};

/* Nodes started at the same moment, one thread each. A node's thread
 * stays until the node has stopped: the harness starts a daemon with
 * PR_SET_PDEATHSIG, which follows the thread that forked it. */
static struct {
	pthread_t t[NODES];
	int started[NODES]; /* daemon_start's answer, once known; 1: not yet */
	int n;
	bool release;
	pthread_mutex_t lock;
	pthread_cond_t cond;
} starters = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static void *start_node(void *arg)
{
	int i = (int)(intptr_t)arg;
	int rc = daemon_start(&nodes[i], node_args, client_token_env);

	pthread_mutex_lock(&starters.lock);
	starters.started[i] = rc;
	pthread_cond_broadcast(&starters.cond);
	while (!starters.release)
		pthread_cond_wait(&starters.cond, &starters.lock);
	pthread_mutex_unlock(&starters.lock);
	return NULL;
}

/* n nodes on a fresh database, started one after the other or all at the
 * same moment. */
static void nodes_start(int n, bool at_once)
{
	pg_db_make(db_url, sizeof(db_url));
	for (int i = 0; i < n; i++) {
		daemon_prepare(&nodes[i]);
		snprintf(nodes[i].db, sizeof(nodes[i].db), "%s", db_url);
	}
	starters.n = 0;
	starters.release = false;
	for (int i = 0; i < n; i++) {
		if (!at_once) {
			ck_assert_int_eq(daemon_start(&nodes[i], node_args, client_token_env), 0);
			continue;
		}
		starters.started[i] = 1;
		ck_assert_int_eq(pthread_create(&starters.t[i], NULL, start_node, (void *)(intptr_t)i), 0);
		starters.n++;
	}
	pthread_mutex_lock(&starters.lock);
	for (int i = 0; i < starters.n; i++) {
		while (starters.started[i] == 1)
			pthread_cond_wait(&starters.cond, &starters.lock);
	}
	pthread_mutex_unlock(&starters.lock);
	for (int i = 0; i < starters.n; i++)
		ck_assert_msg(starters.started[i] == 0, "node %d did not start", i);
}

/* SIGTERM to each node, each exiting 0 (its pending clicks written). */
static void nodes_stop(int n)
{
	for (int i = 0; i < n; i++)
		ck_assert_int_eq(daemon_stop(&nodes[i]), 0);
	pthread_mutex_lock(&starters.lock);
	starters.release = true;
	pthread_cond_broadcast(&starters.cond);
	pthread_mutex_unlock(&starters.lock);
	for (int i = 0; i < starters.n; i++)
		pthread_join(starters.t[i], NULL);
	starters.n = 0;
}

/* Removes the nodes' folders and the database. */
static void nodes_cleanup(int n)
{
	for (int i = 0; i < n; i++)
		daemon_cleanup(&nodes[i]);
}

/* The status of GET /code on node d, and its Location into loc. */
static long get(const struct daemon *d, const char *code, char *loc, size_t size)
{
	char url[256];
	struct http_result r;
	long status;

	snprintf(url, sizeof(url), "%s/%s", d->base, code);
	ck_assert_int_eq(http_do("GET", url, NULL, 0, NULL, false, &r), 0);
	status = r.status;
	if (http_header(&r, "Location", loc, size) != 0)
		loc[0] = '\0';
	http_result_free(&r);
	return status;
}

/* How many of the node logs hold text. */
static int logs_with(int n, const char *text)
{
	int found = 0;

	for (int i = 0; i < n; i++) {
		char buf[65536];
		FILE *f = fopen(nodes[i].log, "r");
		size_t len;
		ck_assert_ptr_nonnull(f);
		len = fread(buf, 1, sizeof(buf) - 1, f);
		buf[len] = '\0';
		fclose(f);
		found += strstr(buf, text) != NULL;
	}
	return found;
}

START_TEST(test_three_nodes_started_at_once_migrate_once)
{
	int latest = postgres_migrations[postgres_migrations_count - 1].version;

	nodes_start(NODES, true);
	ck_assert_int_eq(logs_with(NODES, "schema migrated from version 0"), 1);
	ck_assert_int_eq(sqlfile_int(db_url, "SELECT count(*) FROM shortd_schema"), 1);
	ck_assert_int_eq(sqlfile_int(db_url, "SELECT version FROM shortd_schema"), latest);
	for (int i = 0; i < NODES; i++) {
		struct http_result r;
		ck_assert_int_eq(client_call(&nodes[i], NULL, "GET", "/healthz", NULL, &r), 200);
		http_result_free(&r);
	}
	nodes_stop(NODES);
	nodes_cleanup(NODES);
}
END_TEST

/* Polls GET /code on d until it answers want_status (and want_loc, when
 * given); the milliseconds it took, or -1 past 1 s. */
static int64_t seen_within_1s(const struct daemon *d, const char *code, long want_status, const char *want_loc)
{
	int64_t t0 = now_ms();
	char loc[512];

	for (;;) {
		long st = get(d, code, loc, sizeof(loc));
		if (st == want_status && (want_loc == NULL || strcmp(loc, want_loc) == 0))
			return now_ms() - t0;
		if (now_ms() - t0 > 1000)
			return -1;
		pause_ms(5);
	}
}

START_TEST(test_a_change_on_one_node_reaches_the_others_within_1s)
{
	char loc[512];
	json_t *l;
	struct http_result r;
	int64_t ms;

	nodes_start(NODES, false);
	l = client_create_link(&nodes[0], "{\"url\":\"https://first.example/\",\"code\":\"n1\"}");
	json_decref(l);
	/* Made on A: B and C follow it at once (a miss is never remembered). */
	for (int i = 0; i < NODES; i++) {
		for (int k = 0; k < 3; k++) {
			ck_assert_int_eq(get(&nodes[i], "n1", loc, sizeof(loc)), 302);
			ck_assert_str_eq(loc, "https://first.example/");
		}
	}
	/* Every node has it cached now. A PATCH on C reaches A and B. */
	client_patch_link(&nodes[2], "n1", "{\"url\":\"https://second.example/\"}");
	for (int i = 0; i < NODES; i++) {
		ms = seen_within_1s(&nodes[i], "n1", 302, "https://second.example/");
		ck_assert_msg(ms >= 0, "node %d still answers the old URL after 1 s", i);
	}
	/* A DELETE on B reaches A and C. */
	ck_assert_int_eq(client_call(&nodes[1], API_TEST_TOKEN, "DELETE", "/api/v1/links/n1", NULL, &r), 204);
	http_result_free(&r);
	for (int i = 0; i < NODES; i++)
		ck_assert_msg(seen_within_1s(&nodes[i], "n1", 404, NULL) >= 0, "node %d still redirects after 1 s", i);
	/* And a change made in psql, behind every node's back. */
	l = client_create_link(&nodes[0], "{\"url\":\"https://third.example/\",\"code\":\"n2\"}");
	json_decref(l);
	for (int i = 0; i < NODES; i++)
		ck_assert_int_eq(get(&nodes[i], "n2", loc, sizeof(loc)), 302);
	sqlfile_exec(db_url, "UPDATE links SET disabled = 1 WHERE code = 'n2'");
	for (int i = 0; i < NODES; i++)
		ck_assert_msg(seen_within_1s(&nodes[i], "n2", 410, NULL) >= 0, "node %d still redirects after 1 s", i);
	nodes_stop(NODES);
	nodes_cleanup(NODES);
}
END_TEST

/* ---- load: clients hammering the nodes ---- */

#define CLICKERS 24
#define CLICKS_TOTAL 10000

struct clicker {
	const struct daemon *d;
	const char *code;
	int n; /* clicks to make; 0: until stop */
	atomic_int *stop;
	int redirects; /* 302 */
	int gone;      /* 410 */
	int unavailable;
	int other;
	long gap_ms; /* a pause after each request; 0: none */
};

static void *click_loop(void *arg)
{
	struct clicker *c = arg;
	struct http_client hc;
	char url[256];

	snprintf(url, sizeof(url), "%s/%s", c->d->base, c->code);
	ck_assert_int_eq(http_client_init(&hc), 0);
	for (int i = 0; c->n > 0 ? i < c->n : !atomic_load(c->stop); i++) {
		struct http_result r;
		if (http_client_do(&hc, "GET", url, NULL, 0, (const char *const[]){"User-Agent: Mozilla/5.0", NULL},
		                   false, &r) != 0) {
			c->other++;
			continue;
		}
		if (r.status == 302)
			c->redirects++;
		else if (r.status == 410)
			c->gone++;
		else if (r.status == 503)
			c->unavailable++;
		else
			c->other++;
		http_result_free(&r);
		if (c->gap_ms > 0)
			pause_ms(c->gap_ms);
	}
	http_client_cleanup(&hc);
	return NULL;
}

START_TEST(test_max_clicks_1000_exact_under_10000_clicks_over_three_nodes)
{
	static struct clicker c[CLICKERS];
	pthread_t t[CLICKERS];
	int redirects = 0, gone = 0, other = 0;
	json_t *l;

	nodes_start(NODES, false);
	l = client_create_link(&nodes[0],
	                       "{\"url\":\"https://limited.example/\",\"code\":\"lim\",\"max_clicks\":1000}");
	json_decref(l);
	for (int i = 0; i < CLICKERS; i++) {
		c[i] = (struct clicker){.d = &nodes[i % NODES],
		                        .code = "lim",
		                        .n = CLICKS_TOTAL / CLICKERS + (i < CLICKS_TOTAL % CLICKERS)};
		ck_assert_int_eq(pthread_create(&t[i], NULL, click_loop, &c[i]), 0);
	}
	for (int i = 0; i < CLICKERS; i++) {
		pthread_join(t[i], NULL);
		redirects += c[i].redirects;
		gone += c[i].gone;
		other += c[i].other + c[i].unavailable;
	}
	ck_assert_int_eq(other, 0);
	ck_assert_int_eq(redirects, 1000);
	ck_assert_int_eq(gone, CLICKS_TOTAL - 1000);
	nodes_stop(NODES);
	ck_assert_int_eq(sqlfile_int(db_url, "SELECT clicks FROM links WHERE code = 'lim'"), 1000);
	ck_assert_int_eq(sqlfile_int(db_url, "SELECT sum(clicks) FROM clicks_daily"), 1000);
	nodes_cleanup(NODES);
}
END_TEST

struct creator {
	const struct daemon *d;
	atomic_int *stop;
	int made;
	char codes[4096][8];
	int refused; /* 503 */
	int other;
	int64_t slowest_refusal_ms;
};

static void *create_loop(void *arg)
{
	struct creator *c = arg;

	for (int i = 0; !atomic_load(c->stop) && c->made < 4096; i++) {
		struct http_result r;
		char body[128];
		int64_t t0 = now_ms();
		long st;

		snprintf(body, sizeof(body), "{\"url\":\"https://made.example/%d\"}", i);
		st = client_call(c->d, API_TEST_TOKEN, "POST", "/api/v1/links", body, &r);
		if (st == 201) {
			json_t *j = client_json(&r);
			snprintf(c->codes[c->made++], sizeof(c->codes[0]), "%s", client_str(j, "code"));
			json_decref(j);
		} else if (st == 503) {
			c->refused++;
			if (now_ms() - t0 > c->slowest_refusal_ms)
				c->slowest_refusal_ms = now_ms() - t0;
			pause_ms(20);
		} else {
			c->other++;
		}
		http_result_free(&r);
	}
	return NULL;
}

START_TEST(test_postgres_restarted_mid_load_loses_nothing_acknowledged)
{
	static struct clicker c[6];
	static struct creator cr[2];
	pthread_t tc[6], tr[2];
	atomic_int stop = 0;
	int redirects = 0, made = 0, refused = 0;
	struct http_result r;
	char sql[128];
	json_t *l;

	nodes_start(2, false);
	l = client_create_link(&nodes[0], "{\"url\":\"https://busy.example/\",\"code\":\"busy\"}");
	json_decref(l);
	/* Each client pauses 1 ms between requests. Six of them flat out kept
	 * a 2-CPU machine's CPUs busy, and Linux (6.18) then gave the restarted
	 * postmaster, a new process in a session of its own, a few ms of CPU a
	 * second: it had not started when pg_ctl stopped waiting 30 s later. */
	for (int i = 0; i < 6; i++) {
		c[i] = (struct clicker){.d = &nodes[i % 2], .code = "busy", .stop = &stop, .gap_ms = 1};
		ck_assert_int_eq(pthread_create(&tc[i], NULL, click_loop, &c[i]), 0);
	}
	for (int i = 0; i < 2; i++) {
		memset(&cr[i], 0, sizeof(cr[i]));
		cr[i].d = &nodes[i];
		cr[i].stop = &stop;
		ck_assert_int_eq(pthread_create(&tr[i], NULL, create_loop, &cr[i]), 0);
	}
	pause_ms(1000);
	pg_cluster_down();
	pause_ms(500);
	/* /healthz says the store is away while it is, what the node still
	 * does, and that the clicks it redirected meanwhile wait in memory. */
	ck_assert_int_eq(client_call(&nodes[0], NULL, "GET", "/healthz", NULL, &r), 503);
	{
		static const char head[] =
		    "store unavailable: the database server cannot be reached\n"
		    "redirects: links this node has cached answer as they were; others answer 503\n"
		    "writes: answer 503\n"
		    "clicks: ";
		long long waiting = -1;
		ck_assert_msg(strncmp(r.body, head, sizeof(head) - 1) == 0, "healthz: %s", r.body);
		ck_assert_int_eq(sscanf(r.body + sizeof(head) - 1, "%lld wait in memory", &waiting), 1);
		ck_assert_int_gt(waiting, 0);
	}
	http_result_free(&r);
	pause_ms(1000);
	pg_cluster_up();
	pause_ms(2500);
	atomic_store(&stop, 1);
	for (int i = 0; i < 6; i++) {
		pthread_join(tc[i], NULL);
		redirects += c[i].redirects;
		ck_assert_int_eq(c[i].other, 0);
		ck_assert_int_eq(c[i].gone, 0);
	}
	for (int i = 0; i < 2; i++) {
		pthread_join(tr[i], NULL);
		made += cr[i].made;
		refused += cr[i].refused;
		ck_assert_int_eq(cr[i].other, 0);
		ck_assert_msg(cr[i].slowest_refusal_ms < 3000, "a refused create took %lld ms",
		              (long long)cr[i].slowest_refusal_ms);
	}
	ck_assert_int_gt(refused, 0); /* the outage was seen */
	ck_assert_int_gt(redirects, 0);
	nodes_stop(2);
	/* Every click answered with a redirect was written, once; every link
	 * answered 201 is there. */
	ck_assert_int_eq(sqlfile_int(db_url, "SELECT clicks FROM links WHERE code = 'busy'"), redirects);
	ck_assert_int_eq(sqlfile_int(db_url, "SELECT count(*) FROM links"), made + 1);
	for (int i = 0; i < 2; i++) {
		for (int k = 0; k < cr[i].made; k++) {
			snprintf(sql, sizeof(sql), "SELECT count(*) FROM links WHERE code = '%s'", cr[i].codes[k]);
			ck_assert_int_eq(sqlfile_int(db_url, sql), 1);
		}
	}
	nodes_cleanup(2);
}
END_TEST

Suite *nodes_suite(void)
{
	Suite *s = suite_create("nodes");
	TCase *tc = tcase_create("pg");

	tcase_add_unchecked_fixture(tc, pg_cluster_start, NULL);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_three_nodes_started_at_once_migrate_once);
	tcase_add_test(tc, test_a_change_on_one_node_reaches_the_others_within_1s);
	tcase_add_test(tc, test_max_clicks_1000_exact_under_10000_clicks_over_three_nodes);
	tcase_add_test(tc, test_postgres_restarted_mid_load_loses_nothing_acknowledged);
	suite_add_tcase(s, tc);
	return s;
}
