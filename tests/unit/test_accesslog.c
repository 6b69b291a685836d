/*
 * The access log's remote address: X-Forwarded-For is believed from a
 * loopback peer or a --trusted-proxy range and from nobody else. The peers
 * here are socket addresses built in memory; nothing is sent.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accesslog.h"
#include "config.h"

static void peer4(struct sockaddr_in *sa, const char *addr)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	ck_assert_int_eq(inet_pton(AF_INET, addr, &sa->sin_addr), 1);
}

static void peer6(struct sockaddr_in6 *sa, const char *addr)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin6_family = AF_INET6;
	ck_assert_int_eq(inet_pton(AF_INET6, addr, &sa->sin6_addr), 1);
}

/* Logs one request from peer with xff through a log trusting cfg (NULL:
 * none) and returns the remote address field of the line written. */
static void logged_peer(const struct config *cfg, const struct sockaddr *peer, const char *xff, char *out, size_t size)
{
	char path[] = "/tmp/shortd-accesslog-XXXXXX";
	char err[256], line[1024];
	struct accesslog *log;
	struct accesslog_entry e = {
	    .peer = peer,
	    .forwarded_for = xff,
	    .when = 0,
	    .method = "GET",
	    .path = "/x",
	    .version = "HTTP/1.1",
	    .status = 404,
	};
	FILE *f;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(accesslog_open(path, cfg, ACCESSLOG_FLUSH_MS, &log, err, sizeof(err)), 0);
	accesslog_write(log, &e);
	accesslog_close(log);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
	fclose(f);
	unlink(path);
	line[strcspn(line, " ")] = '\0';
	ck_assert_uint_lt(strlen(line), size);
	memcpy(out, line, strlen(line) + 1);
}

START_TEST(test_forwarded_for_believed_from_loopback_only_by_default)
{
	struct sockaddr_in lo, far;
	char got[64];

	peer4(&lo, "127.0.0.1");
	peer4(&far, "192.0.2.10");
	logged_peer(NULL, (struct sockaddr *)&lo, "198.51.100.1, 203.0.113.9", got, sizeof(got));
	ck_assert_str_eq(got, "203.0.113.9");
	logged_peer(NULL, (struct sockaddr *)&far, "203.0.113.9", got, sizeof(got));
	ck_assert_str_eq(got, "192.0.2.10");
}
END_TEST

START_TEST(test_forwarded_for_believed_from_a_trusted_proxy)
{
	struct config cfg;
	struct sockaddr_in in_range, outside;
	struct sockaddr_in6 v6;
	char got[64];

	config_defaults(&cfg);
	ck_assert_int_eq(config_parse_cidr("192.0.2.0/24", &cfg.trusted_proxy[0]), 0);
	ck_assert_int_eq(config_parse_cidr("2001:db8::/32", &cfg.trusted_proxy[1]), 0);
	cfg.trusted_proxies = 2;
	peer4(&in_range, "192.0.2.10");
	peer4(&outside, "192.0.3.10");
	peer6(&v6, "2001:db8::5");
	logged_peer(&cfg, (struct sockaddr *)&in_range, "203.0.113.9", got, sizeof(got));
	ck_assert_str_eq(got, "203.0.113.9");
	logged_peer(&cfg, (struct sockaddr *)&v6, "2001:db8:ffff::1", got, sizeof(got));
	ck_assert_str_eq(got, "2001:db8:ffff::1");
	logged_peer(&cfg, (struct sockaddr *)&outside, "203.0.113.9", got, sizeof(got));
	ck_assert_str_eq(got, "192.0.3.10");
	/* A trusted proxy's header that names no address is not believed. */
	logged_peer(&cfg, (struct sockaddr *)&in_range, "evil host", got, sizeof(got));
	ck_assert_str_eq(got, "192.0.2.10");
}
END_TEST

Suite *accesslog_suite(void)
{
	Suite *s = suite_create("accesslog");
	TCase *tc = tcase_create("forwarded");

	tcase_add_test(tc, test_forwarded_for_believed_from_loopback_only_by_default);
	tcase_add_test(tc, test_forwarded_for_believed_from_a_trusted_proxy);
	suite_add_tcase(s, tc);
	return s;
}
