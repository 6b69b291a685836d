/*
 * shortd serve's own life, around the server: the address it announces
 * (an IPv6 one in brackets, as a URL spells it) and a SIGHUP whose access
 * log cannot be opened again, which is reported and changes nothing else:
 * the daemon goes on serving and logging to the file it had.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"

static int get(const struct daemon *d, const char *path)
{
	struct http_result r;
	char url[512];
	int status;

	snprintf(url, sizeof(url), "%s%s", d->base, path);
	if (http_do("GET", url, NULL, 0, NULL, false, &r) != 0)
		return -1;
	status = (int)r.status;
	http_result_free(&r);
	return status;
}

/* The whole of a small file, NUL-terminated, in buf. */
static void read_file(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n;

	ck_assert_msg(f != NULL, "%s", path);
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
}

START_TEST(test_ipv6_listen_address_is_announced_in_brackets)
{
	static const char *const args[] = {"--listen", "[::1]:0", NULL};
	struct daemon d;
	char want[64];

	fixture_start(&d, NULL, args, NULL);
	snprintf(want, sizeof(want), "http://[::1]:%u", d.port);
	ck_assert_str_eq(d.base, want);
	ck_assert_int_eq(get(&d, "/healthz"), 200);
	fixture_stop(&d);
}
END_TEST

START_TEST(test_sighup_that_cannot_reopen_the_log_keeps_the_old_one)
{
	struct daemon d;
	char logdir[400], moved[420], log[420], kept[440], text[16384], want[600];
	const char *args[] = {"--access-log", log, "--threads", "1", NULL};

	fixture_make_db(&d, NULL);
	snprintf(logdir, sizeof(logdir), "%s/logs", d.dir);
	snprintf(moved, sizeof(moved), "%s.gone", logdir);
	snprintf(log, sizeof(log), "%s/access.log", logdir);
	snprintf(kept, sizeof(kept), "%s/access.log", moved);
	ck_assert_int_eq(mkdir(logdir, 0700), 0);
	ck_assert_int_eq(daemon_start(&d, args, NULL), 0);
	ck_assert_int_eq(get(&d, "/before"), 404);

	/* The log's directory goes away: the file cannot be made again. */
	ck_assert_int_eq(rename(logdir, moved), 0);
	ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
	for (int waited = 0; waited < 10000; waited += 10) {
		read_file(d.log, text, sizeof(text));
		if (strstr(text, "--access-log: cannot open") != NULL)
			break;
		pause_ms(10);
	}
	snprintf(want, sizeof(want), "shortd: --access-log: cannot open %s: No such file or directory\n", log);
	ck_assert_msg(strstr(text, want) != NULL, "daemon's stderr: %s", text);
	ck_assert(daemon_is_running(&d));
	ck_assert_int_eq(get(&d, "/after"), 404);
	ck_assert_int_eq(daemon_stop(&d), 0);

	read_file(kept, text, sizeof(text));
	ck_assert_msg(strstr(text, "\"GET /before HTTP/1.1\" 404") != NULL, "log: %s", text);
	ck_assert_msg(strstr(text, "\"GET /after HTTP/1.1\" 404") != NULL, "log: %s", text);
	daemon_cleanup(&d);
}
END_TEST

Suite *serve_suite(void)
{
	Suite *s = suite_create("serve");
	TCase *tc = tcase_create("life");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_ipv6_listen_address_is_announced_in_brackets);
	tcase_add_test(tc, test_sighup_that_cannot_reopen_the_log_keeps_the_old_one);
	suite_add_tcase(s, tc);
	return s;
}
