/*
 * GET /metrics and /healthz against the real daemon: the metrics page parses
 * as Prometheus text format 0.0.4 (a small parser here checks every line),
 * its counters move with traffic, and /healthz answers 503 while the
 * database file is gone, counted as a store error.
 */
#include <check.h>
#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_client.h"
#include "harness.h"

#define SERIES_MAX 512
#define FAMILIES_MAX 64

struct series {
	char key[256]; /* name{labels} exactly as written */
	double value;
};

struct family {
	char name[128];
	char type[16];
	bool has_help;
	bool seen_sample;
};

struct scrape {
	struct series s[SERIES_MAX];
	int n;
	struct family f[FAMILIES_MAX];
	int nf;
};

static bool is_name_start(int c)
{
	return isalpha(c) || c == '_' || c == ':';
}

static bool is_name_char(int c)
{
	return isalnum(c) || c == '_' || c == ':';
}

static struct family *family_find(struct scrape *sc, const char *name, size_t len)
{
	for (int i = 0; i < sc->nf; i++) {
		if (strlen(sc->f[i].name) == len && strncmp(sc->f[i].name, name, len) == 0)
			return &sc->f[i];
	}
	return NULL;
}

static struct family *family_add(struct scrape *sc, const char *name, size_t len)
{
	struct family *f = family_find(sc, name, len);

	if (f != NULL)
		return f;
	ck_assert_int_lt(sc->nf, FAMILIES_MAX);
	f = &sc->f[sc->nf++];
	memset(f, 0, sizeof(*f));
	ck_assert_uint_lt(len, sizeof(f->name));
	memcpy(f->name, name, len);
	return f;
}

/* The family a sample belongs to: its own name, or for histogram and
 * summary families the name without _bucket, _sum or _count. */
static struct family *family_of(struct scrape *sc, const char *name, size_t len)
{
	static const char *const suffixes[] = {"_bucket", "_sum", "_count"};
	struct family *f = family_find(sc, name, len);

	if (f != NULL)
		return f;
	for (size_t i = 0; i < 3; i++) {
		size_t sl = strlen(suffixes[i]);
		if (len > sl && strncmp(name + len - sl, suffixes[i], sl) == 0) {
			f = family_find(sc, name, len - sl);
			if (f != NULL && (strcmp(f->type, "histogram") == 0 || strcmp(f->type, "summary") == 0))
				return f;
		}
	}
	return NULL;
}

/* A comment line: "# HELP name text", "# TYPE name type" or any "# text". */
static void parse_comment(struct scrape *sc, const char *line, int lineno)
{
	const char *p = line + 1;
	bool help, type;

	if (*p != ' ')
		return;
	p++;
	help = strncmp(p, "HELP ", 5) == 0;
	type = strncmp(p, "TYPE ", 5) == 0;
	if (!help && !type)
		return;
	p += 5;
	const char *name = p;
	ck_assert_msg(is_name_start((unsigned char)*p), "line %d: bad metric name: %s", lineno, line);
	while (is_name_char((unsigned char)*p))
		p++;
	struct family *f = family_add(sc, name, (size_t)(p - name));
	ck_assert_msg(*p == ' ', "line %d: nothing after the name: %s", lineno, line);
	p++;
	if (help) {
		ck_assert_msg(!f->has_help, "line %d: second HELP for %s", lineno, f->name);
		f->has_help = true;
		return;
	}
	ck_assert_msg(f->type[0] == '\0', "line %d: second TYPE for %s", lineno, f->name);
	ck_assert_msg(!f->seen_sample, "line %d: TYPE after samples of %s", lineno, f->name);
	ck_assert_msg(strcmp(p, "counter") == 0 || strcmp(p, "gauge") == 0 || strcmp(p, "histogram") == 0 ||
	                  strcmp(p, "summary") == 0 || strcmp(p, "untyped") == 0,
	              "line %d: unknown type '%s'", lineno, p);
	snprintf(f->type, sizeof(f->type), "%s", p);
}

/* A sample: name, optional {label="value",...}, a space, a float, and an
 * optional integer timestamp. */
static void parse_sample(struct scrape *sc, const char *line, int lineno)
{
	const char *p = line, *name = line, *key_end;
	struct family *f;
	char *end;
	double v;

	ck_assert_msg(is_name_start((unsigned char)*p), "line %d: not a sample: %s", lineno, line);
	while (is_name_char((unsigned char)*p))
		p++;
	f = family_of(sc, name, (size_t)(p - name));
	ck_assert_msg(f != NULL && f->type[0] != '\0', "line %d: sample without a TYPE: %s", lineno, line);
	f->seen_sample = true;
	if (*p == '{') {
		p++;
		while (*p != '}') {
			ck_assert_msg(isalpha((unsigned char)*p) || *p == '_', "line %d: bad label name: %s", lineno,
			              line);
			while (isalnum((unsigned char)*p) || *p == '_')
				p++;
			ck_assert_msg(p[0] == '=' && p[1] == '"', "line %d: label without =\"value\": %s", lineno,
			              line);
			p += 2;
			while (*p != '"') {
				ck_assert_msg(*p != '\0' && *p != '\n', "line %d: unterminated label value", lineno);
				if (*p == '\\') {
					ck_assert_msg(p[1] == '\\' || p[1] == '"' || p[1] == 'n',
					              "line %d: bad escape in label value", lineno);
					p++;
				}
				p++;
			}
			p++;
			if (*p == ',')
				p++;
			else
				ck_assert_msg(*p == '}', "line %d: expected , or } after a label: %s", lineno, line);
		}
		p++;
	}
	key_end = p;
	ck_assert_msg(*p == ' ', "line %d: no space before the value: %s", lineno, line);
	p++;
	if (strcmp(p, "+Inf") == 0 || strcmp(p, "-Inf") == 0 || strcmp(p, "NaN") == 0) {
		v = strcmp(p, "NaN") == 0 ? NAN : (p[0] == '-' ? -INFINITY : INFINITY);
	} else {
		v = strtod(p, &end);
		ck_assert_msg(end != p, "line %d: bad value: %s", lineno, line);
		if (*end == ' ') {
			const char *ts = end + 1;
			strtoll(ts, &end, 10);
			ck_assert_msg(end != ts, "line %d: bad timestamp: %s", lineno, line);
		}
		ck_assert_msg(*end == '\0', "line %d: junk after the value: %s", lineno, line);
	}
	ck_assert_int_lt(sc->n, SERIES_MAX);
	ck_assert_uint_lt((size_t)(key_end - line), sizeof(sc->s[0].key));
	for (int i = 0; i < sc->n; i++)
		ck_assert_msg(strncmp(sc->s[i].key, line, (size_t)(key_end - line)) != 0 ||
		                  sc->s[i].key[key_end - line] != '\0',
		              "line %d: duplicate series: %s", lineno, line);
	memcpy(sc->s[sc->n].key, line, (size_t)(key_end - line));
	sc->s[sc->n].key[key_end - line] = '\0';
	sc->s[sc->n].value = v;
	sc->n++;
}

/* Parses a whole page; every line must be a comment or a valid sample. */
static void parse_page(struct scrape *sc, const char *text, size_t len)
{
	char line[1024];
	int lineno = 0;
	size_t i = 0;

	memset(sc, 0, sizeof(*sc));
	ck_assert_msg(len > 0 && text[len - 1] == '\n', "the page does not end with a newline");
	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t n = (size_t)(nl - (text + i));
		lineno++;
		ck_assert_msg(n > 0, "line %d is empty", lineno);
		ck_assert_uint_lt(n, sizeof(line));
		memcpy(line, text + i, n);
		line[n] = '\0';
		if (line[0] == '#')
			parse_comment(sc, line, lineno);
		else
			parse_sample(sc, line, lineno);
		i += n + 1;
	}
}

static void scrape(const struct daemon *d, struct scrape *sc)
{
	struct http_result r;
	char url[128], type[128];

	snprintf(url, sizeof(url), "%s/metrics", d->base);
	ck_assert_int_eq(http_do("GET", url, NULL, 0, NULL, false, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(http_header(&r, "Content-Type", type, sizeof(type)), 0);
	ck_assert_str_eq(type, "text/plain; version=0.0.4; charset=utf-8");
	parse_page(sc, r.body, r.body_len);
	http_result_free(&r);
}

/* The value of a series (0 when absent: counters not yet seen). */
static double value(const struct scrape *sc, const char *key)
{
	for (int i = 0; i < sc->n; i++) {
		if (strcmp(sc->s[i].key, key) == 0)
			return sc->s[i].value;
	}
	return 0;
}

static bool present(const struct scrape *sc, const char *key)
{
	for (int i = 0; i < sc->n; i++) {
		if (strcmp(sc->s[i].key, key) == 0)
			return true;
	}
	return false;
}

static const char *type_of(struct scrape *sc, const char *name)
{
	struct family *f = family_find(sc, name, strlen(name));
	return f != NULL ? f->type : "";
}

static long get(const struct daemon *d, const char *method, const char *path, const char *const *headers)
{
	struct http_result r;
	char url[256];
	long status;

	snprintf(url, sizeof(url), "%s%s", d->base, path);
	ck_assert_int_eq(http_do(method, url, NULL, 0, headers, false, &r), 0);
	status = r.status;
	http_result_free(&r);
	return status;
}

START_TEST(test_metrics_page_parses_as_prometheus_text)
{
	static struct scrape sc;
	struct daemon d;
	double prev = -1;
	char key[128];

	client_daemon_start(&d, NULL);
	json_decref(client_create_link(&d, "{\"url\":\"https://target.example/\",\"code\":\"m\"}"));
	ck_assert_int_eq(get(&d, "GET", "/m", NULL), 302);
	scrape(&d, &sc);
	ck_assert_str_eq(type_of(&sc, "shortd_http_requests_total"), "counter");
	ck_assert_str_eq(type_of(&sc, "shortd_redirects_total"), "counter");
	ck_assert_str_eq(type_of(&sc, "shortd_redirect_duration_seconds"), "histogram");
	ck_assert_str_eq(type_of(&sc, "shortd_clicks_flushed_total"), "counter");
	ck_assert_str_eq(type_of(&sc, "shortd_click_flush_batches_total"), "counter");
	ck_assert_str_eq(type_of(&sc, "shortd_click_flush_seconds_total"), "counter");
	ck_assert_str_eq(type_of(&sc, "shortd_click_flush_errors_total"), "counter");
	ck_assert_str_eq(type_of(&sc, "shortd_clicks_waiting"), "gauge");
	ck_assert_str_eq(type_of(&sc, "shortd_store_errors_total"), "counter");
	ck_assert_str_eq(type_of(&sc, "shortd_open_connections"), "gauge");
	ck_assert(present(&sc, "shortd_redirects_total{code=\"307\"}"));
	ck_assert(present(&sc, "shortd_store_errors_total{source=\"click_flush\"}"));
	ck_assert(value(&sc, "shortd_open_connections") >= 1); /* this scrape's own */
	/* The histogram: cumulative buckets, +Inf equal to the count. */
	static const char *const les[] = {"0.00005", "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01",
	                                  "0.025",   "0.05",   "0.1",     "0.25",   "0.5",   "1",      "2.5",   "+Inf"};
	for (size_t i = 0; i < sizeof(les) / sizeof(les[0]); i++) {
		snprintf(key, sizeof(key), "shortd_redirect_duration_seconds_bucket{le=\"%s\"}", les[i]);
		ck_assert_msg(present(&sc, key), "%s missing", key);
		ck_assert(value(&sc, key) >= prev);
		prev = value(&sc, key);
	}
	ck_assert(prev == 1);
	ck_assert(value(&sc, "shortd_redirect_duration_seconds_count") == 1);
	ck_assert(value(&sc, "shortd_redirect_duration_seconds_sum") > 0);
	ck_assert_int_eq(get(&d, "POST", "/metrics", NULL), 405);
	fixture_stop(&d);
}
END_TEST

START_TEST(test_metrics_counters_move_with_traffic)
{
	static const char *const args[] = {"--flush-interval", "100", NULL};
	static struct scrape before, after;
	struct daemon d;

	client_daemon_start(&d, args);
	json_decref(client_create_link(&d, "{\"url\":\"https://target.example/\",\"code\":\"go\"}"));
	json_decref(client_create_link(&d, "{\"url\":\"https://target.example/\",\"code\":\"p\",\"status\":308}"));
	json_decref(client_create_link(&d, "{\"url\":\"https://target.example/\",\"code\":\"none\",\"max_clicks\":0}"));
	scrape(&d, &before);
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(get(&d, "GET", "/go", NULL), 302);
	ck_assert_int_eq(get(&d, "POST", "/p", NULL), 308);
	ck_assert_int_eq(get(&d, "GET", "/nothing-here", NULL), 404);
	ck_assert_int_eq(get(&d, "GET", "/nothing-here", NULL), 404);
	ck_assert_int_eq(get(&d, "GET", "/none", NULL), 410);
	ck_assert_int_eq(get(&d, "GET", "/healthz", NULL), 200);
	/* Wait (up to 10 s) for the flusher to write the six clicks. */
	for (int waited = 0; waited < 10000; waited += 50) {
		scrape(&d, &after);
		if (value(&after, "shortd_clicks_flushed_total") - value(&before, "shortd_clicks_flushed_total") >= 6)
			break;
		pause_ms(50);
	}
#define DELTA(key) (value(&after, key) - value(&before, key))
	ck_assert(DELTA("shortd_http_requests_total{route=\"redirect\",code=\"302\"}") == 5);
	ck_assert(DELTA("shortd_http_requests_total{route=\"redirect\",code=\"308\"}") == 1);
	ck_assert(DELTA("shortd_http_requests_total{route=\"redirect\",code=\"404\"}") == 2);
	ck_assert(DELTA("shortd_http_requests_total{route=\"redirect\",code=\"410\"}") == 1);
	ck_assert(DELTA("shortd_http_requests_total{route=\"healthz\",code=\"200\"}") == 1);
	ck_assert(DELTA("shortd_http_requests_total{route=\"api\",code=\"201\"}") == 0);
	ck_assert(value(&before, "shortd_http_requests_total{route=\"api\",code=\"201\"}") == 3);
	ck_assert(DELTA("shortd_http_requests_total{route=\"metrics\",code=\"200\"}") >= 1);
	ck_assert(DELTA("shortd_redirects_total{code=\"302\"}") == 5);
	ck_assert(DELTA("shortd_redirects_total{code=\"308\"}") == 1);
	ck_assert(DELTA("shortd_redirects_total{code=\"301\"}") == 0);
	ck_assert(DELTA("shortd_redirect_duration_seconds_count") == 9);
	ck_assert(DELTA("shortd_redirect_duration_seconds_bucket{le=\"+Inf\"}") == 9);
	ck_assert(DELTA("shortd_redirect_duration_seconds_sum") > 0);
	ck_assert(DELTA("shortd_clicks_flushed_total") == 6);
	ck_assert(DELTA("shortd_click_flush_batches_total") >= 1);
	ck_assert(DELTA("shortd_connections_total") >= 10);
	ck_assert(value(&after, "shortd_click_flush_errors_total") == 0);
	ck_assert(value(&after, "shortd_store_errors_total{source=\"redirect\"}") == 0);
#undef DELTA
	fixture_stop(&d);
}
END_TEST

START_TEST(test_healthz_answers_503_while_the_database_is_gone)
{
	static struct scrape sc;
	struct daemon d;
	struct http_result r;
	char moved[400], url[128];

	client_daemon_start(&d, NULL);
	snprintf(url, sizeof(url), "%s/healthz", d.base);
	ck_assert_int_eq(http_do("GET", url, NULL, 0, NULL, false, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, "ok\n");
	http_result_free(&r);

	/* The daemon's open connections would go on reading the renamed file;
	 * health is about the database at its path. */
	snprintf(moved, sizeof(moved), "%s.moved", d.db);
	ck_assert_int_eq(rename(d.db, moved), 0);
	ck_assert_int_eq(http_do("GET", url, NULL, 0, NULL, false, &r), 0);
	ck_assert_int_eq(r.status, 503);
	assert_health_gone_body(r.body);
	http_result_free(&r);
	ck_assert_int_eq(get(&d, "HEAD", "/healthz", NULL), 503);
	scrape(&d, &sc);
	ck_assert(value(&sc, "shortd_store_errors_total{source=\"healthz\"}") == 2);
	ck_assert(value(&sc, "shortd_http_requests_total{route=\"healthz\",code=\"503\"}") == 2);

	ck_assert_int_eq(rename(moved, d.db), 0);
	ck_assert_int_eq(get(&d, "GET", "/healthz", NULL), 200);
	fixture_stop(&d);
}
END_TEST

Suite *metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *core = tcase_create("core");

	tcase_set_timeout(core, 60);
	tcase_add_test(core, test_metrics_page_parses_as_prometheus_text);
	tcase_add_test(core, test_metrics_counters_move_with_traffic);
	tcase_add_test(core, test_healthz_answers_503_while_the_database_is_gone);
	suite_add_tcase(s, core);
	return s;
}
