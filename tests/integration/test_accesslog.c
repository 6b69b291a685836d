/*
 * The access log against the real daemon: one combined-format line per
 * request once it has stopped, lines written within a second while it
 * runs, SIGHUP reopening the file after logrotate's rename, "-" for
 * standard output, and never a token.
 */
#include <check.h>
#include <jansson.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api_client.h"
#include "harness.h"

#define LINES_MAX 64

/* Reads the file's lines (without their newlines) into lines; returns how
 * many, or -1 when it cannot be read. Every line must end with '\n'. */
static int read_lines(const char *path, char lines[][2048], int max)
{
	FILE *f = fopen(path, "r");
	char buf[2048];
	int n = 0;

	if (f == NULL)
		return -1;
	while (fgets(buf, sizeof(buf), f) != NULL) {
		size_t len = strlen(buf);
		ck_assert_msg(len > 0 && buf[len - 1] == '\n', "%s: line %d is cut: %s", path, n + 1, buf);
		buf[len - 1] = '\0';
		ck_assert_int_lt(n, max);
		memcpy(lines[n++], buf, len);
	}
	fclose(f);
	return n;
}

/* Asserts line is in the combined log format and returns its parts. */
struct entry {
	char host[64];
	char request[512];
	int status;
	char bytes[32];
	char referer[512];
	char agent[512];
};

static void parse_combined(const char *line, struct entry *e)
{
	static const char pattern[] =
	    "^([0-9a-f.:]+) - - \\[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2} \\+0000\\] "
	    "\"([^\"]*)\" ([1-5][0-9]{2}) ([0-9]+|-) \"([^\"]*)\" \"([^\"]*)\"$";
	regex_t re;
	regmatch_t m[7];

	ck_assert_int_eq(regcomp(&re, pattern, REG_EXTENDED), 0);
	ck_assert_msg(regexec(&re, line, 7, m, 0) == 0, "not a combined log line: %s", line);
	regfree(&re);
#define PART(i, dst) snprintf(dst, sizeof(dst), "%.*s", (int)(m[i].rm_eo - m[i].rm_so), line + m[i].rm_so)
	PART(1, e->host);
	PART(2, e->request);
	char status[8];
	PART(3, status);
	e->status = atoi(status);
	PART(4, e->bytes);
	PART(5, e->referer);
	PART(6, e->agent);
#undef PART
}

static long request(const struct daemon *d, const char *method, const char *path, const char *const *headers,
                    size_t *body_len)
{
	struct http_result r;
	char url[256];
	long status;

	snprintf(url, sizeof(url), "%s%s", d->base, path);
	ck_assert_int_eq(http_do(method, url, NULL, 0, headers, false, &r), 0);
	status = r.status;
	if (body_len != NULL)
		*body_len = r.body_len;
	http_result_free(&r);
	return status;
}

/* Starts a daemon prepared with fixture_make_db (the log may live in its
 * directory, which daemon_cleanup removes) with the API test token. */
static void start_logged(struct daemon *d, const char *log)
{
	static const char *const env[] = {"SHORTD_ADMIN_TOKEN=" API_TEST_TOKEN, NULL};
	const char *args[] = {"--access-log", log, "--threads", "1", NULL};

	ck_assert_int_eq(daemon_start(d, args, env), 0);
}

START_TEST(test_one_combined_line_per_request_after_shutdown)
{
	static char lines[LINES_MAX][2048];
	static const char *const browser[] = {
	    "Referer: https://news.example.com/item?id=1",
	    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) \"quoted\"",
	    NULL,
	};
	static const char *const proxied[] = {"X-Forwarded-For: 203.0.113.9, 2001:db8::7", NULL};
	static const char *const forged[] = {"X-Forwarded-For: 203.0.113.9, evil\\\"host", NULL};
	struct daemon d;
	struct entry e;
	char log[400], body[128], bytes[32];
	size_t redirect_len;
	struct http_result r;

	fixture_make_db(&d, NULL);
	snprintf(log, sizeof(log), "%s/access.log", d.dir);
	{
		static const char *const env[] = {"SHORTD_ADMIN_TOKEN=" API_TEST_TOKEN, NULL};
		const char *args[] = {"--access-log", log, "--threads", "1", NULL};
		ck_assert_int_eq(daemon_start(&d, args, env), 0);
	}
	snprintf(body, sizeof(body), "{\"url\":\"https://target.example/p\",\"code\":\"lg\"}");
	ck_assert_int_eq(client_call(&d, API_TEST_TOKEN, "POST", "/api/v1/links", body, &r), 201);
	http_result_free(&r);
	ck_assert_int_eq(request(&d, "GET", "/lg?utm=a%20b", browser, &redirect_len), 302);
	ck_assert_int_eq(request(&d, "HEAD", "/lg", NULL, NULL), 302);
	ck_assert_int_eq(request(&d, "GET", "/missing", NULL, NULL), 404);
	ck_assert_int_eq(request(&d, "GET", "/healthz", NULL, NULL), 200);
	ck_assert_int_eq(request(&d, "GET", "/via-proxy", proxied, NULL), 404);
	ck_assert_int_eq(request(&d, "GET", "/via-proxy", forged, NULL), 404);
	ck_assert_int_eq(daemon_stop(&d), 0);

	ck_assert_int_eq(read_lines(log, lines, LINES_MAX), 7);
	for (int i = 0; i < 7; i++) {
		ck_assert_msg(strstr(lines[i], API_TEST_TOKEN) == NULL, "token logged: %s", lines[i]);
		ck_assert_msg(strstr(lines[i], "Bearer") == NULL, "Authorization logged: %s", lines[i]);
	}
	parse_combined(lines[0], &e);
	ck_assert_str_eq(e.host, "127.0.0.1");
	ck_assert_str_eq(e.request, "POST /api/v1/links HTTP/1.1");
	ck_assert_int_eq(e.status, 201);
	ck_assert_str_eq(e.referer, "-");

	parse_combined(lines[1], &e);
	ck_assert_str_eq(e.request, "GET /lg?utm=a%20b HTTP/1.1");
	ck_assert_int_eq(e.status, 302);
	snprintf(bytes, sizeof(bytes), "%zu", redirect_len);
	ck_assert_str_eq(e.bytes, bytes);
	ck_assert_str_eq(e.referer, "https://news.example.com/item?id=1");
	ck_assert_str_eq(e.agent, "Mozilla/5.0 (X11; Linux x86_64) \\x22quoted\\x22");

	parse_combined(lines[2], &e);
	ck_assert_str_eq(e.request, "HEAD /lg HTTP/1.1");
	ck_assert_int_eq(e.status, 302);
	ck_assert_str_eq(e.bytes, "-");

	parse_combined(lines[3], &e);
	ck_assert_str_eq(e.request, "GET /missing HTTP/1.1");
	ck_assert_int_eq(e.status, 404);

	parse_combined(lines[4], &e);
	ck_assert_str_eq(e.request, "GET /healthz HTTP/1.1");
	ck_assert_int_eq(e.status, 200);
	ck_assert_str_eq(e.bytes, "3");

	/* From a proxy on loopback: the address it appended last. */
	parse_combined(lines[5], &e);
	ck_assert_str_eq(e.host, "2001:db8::7");
	ck_assert_str_eq(e.request, "GET /via-proxy HTTP/1.1");
	parse_combined(lines[6], &e);
	ck_assert_str_eq(e.host, "127.0.0.1"); /* not an address: the socket's */
	daemon_cleanup(&d);
}
END_TEST

/* Waits up to 10 s for path to hold want lines; returns how many it has. */
static int wait_lines(const char *path, char lines[][2048], int want)
{
	int n = -1;

	for (int waited = 0; waited < 10000; waited += 20) {
		n = read_lines(path, lines, LINES_MAX);
		if (n >= want)
			break;
		pause_ms(20);
	}
	return n;
}

START_TEST(test_lines_are_written_while_the_daemon_runs)
{
	static char lines[LINES_MAX][2048];
	struct daemon d;
	struct entry e;
	char log[400];

	fixture_make_db(&d, NULL);
	snprintf(log, sizeof(log), "%s/access.log", d.dir);
	start_logged(&d, log);
	ck_assert_int_eq(request(&d, "GET", "/robots.txt", NULL, NULL), 200);
	/* No request, no signal: the writer's own cadence puts it in the file. */
	ck_assert_int_eq(wait_lines(log, lines, 1), 1);
	parse_combined(lines[0], &e);
	ck_assert_str_eq(e.request, "GET /robots.txt HTTP/1.1");
	fixture_stop(&d);
}
END_TEST

START_TEST(test_sighup_reopens_the_log_after_a_rename)
{
	static char lines[LINES_MAX][2048];
	struct daemon d;
	struct entry e;
	char log[400], rotated[420];
	struct stat sb;

	fixture_make_db(&d, NULL);
	snprintf(log, sizeof(log), "%s/access.log", d.dir);
	snprintf(rotated, sizeof(rotated), "%s.1", log);
	start_logged(&d, log);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(request(&d, "GET", "/before", NULL, NULL), 404);
	ck_assert_int_eq(rename(log, rotated), 0);
	ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
	for (int waited = 0; stat(log, &sb) != 0 && waited < 10000; waited += 10) {
		pause_ms(10);
	}
	ck_assert_int_eq(stat(log, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0640);
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(request(&d, "GET", "/after", NULL, NULL), 404);
	ck_assert(daemon_is_running(&d));
	ck_assert_int_eq(daemon_stop(&d), 0);

	ck_assert_int_eq(read_lines(rotated, lines, LINES_MAX), 3);
	for (int i = 0; i < 3; i++) {
		parse_combined(lines[i], &e);
		ck_assert_str_eq(e.request, "GET /before HTTP/1.1");
	}
	ck_assert_int_eq(read_lines(log, lines, LINES_MAX), 2);
	for (int i = 0; i < 2; i++) {
		parse_combined(lines[i], &e);
		ck_assert_str_eq(e.request, "GET /after HTTP/1.1");
	}
	daemon_cleanup(&d);
}
END_TEST

START_TEST(test_dash_logs_to_standard_output)
{
	static char lines[LINES_MAX][2048];
	struct daemon d;
	struct entry e;
	int n, found = 0;

	fixture_make_db(&d, NULL);
	start_logged(&d, "-");
	ck_assert_int_eq(request(&d, "GET", "/stdout-check", NULL, NULL), 404);
	ck_assert_int_eq(kill(d.pid, SIGHUP), 0); /* a no-op for stdout */
	ck_assert_int_eq(daemon_stop(&d), 0);
	/* The harness sends the daemon's stdout and stderr to d.log. */
	n = read_lines(d.log, lines, LINES_MAX);
	for (int i = 0; i < n; i++) {
		if (strstr(lines[i], "\"GET /stdout-check HTTP/1.1\"") != NULL) {
			parse_combined(lines[i], &e);
			ck_assert_int_eq(e.status, 404);
			found++;
		}
	}
	ck_assert_int_eq(found, 1);
	daemon_cleanup(&d);
}
END_TEST

START_TEST(test_unwritable_log_path_fails_at_start)
{
	struct daemon d;
	char out[256], err[1024];
	const char *argv[] = {"serve", "--listen", "127.0.0.1:0", "--access-log", "/nonexistent-dir/access.log", NULL};

	daemon_prepare(&d);
	ck_assert_int_eq(shortd_run(d.db, out, sizeof(out), err, sizeof(err), argv), 1);
	ck_assert_msg(strstr(err, "--access-log: cannot open /nonexistent-dir/access.log") != NULL, "stderr: %s", err);
	daemon_cleanup(&d);
}
END_TEST

Suite *accesslog_suite(void)
{
	Suite *s = suite_create("accesslog");
	TCase *core = tcase_create("core");

	tcase_set_timeout(core, 60);
	tcase_add_test(core, test_one_combined_line_per_request_after_shutdown);
	tcase_add_test(core, test_lines_are_written_while_the_daemon_runs);
	tcase_add_test(core, test_sighup_reopens_the_log_after_a_rename);
	tcase_add_test(core, test_dash_logs_to_standard_output);
	tcase_add_test(core, test_unwritable_log_path_fails_at_start);
	suite_add_tcase(s, core);
	return s;
}
