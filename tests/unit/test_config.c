/*
 * Unit tests of config.c: the defaults, every serve flag and its SHORTD_*
 * variable (flags win), every bad value refused with an error that names
 * the flag or variable, the --listen forms and the base URL derived from
 * the bound port. A checked fixture clears SHORTD_* so the caller's
 * environment cannot leak in; each test runs in its own process.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"

static const char *const all_vars[] = {
    "SHORTD_LISTEN",
    "SHORTD_DB",
    "SHORTD_BASE_URL",
    "SHORTD_DEFAULT_STATUS",
    "SHORTD_THREADS",
    "SHORTD_ACCESS_LOG",
    "SHORTD_MAX_BODY",
    "SHORTD_CACHE_MAX_AGE",
    "SHORTD_FLUSH_INTERVAL",
    "SHORTD_MAX_CONNECTIONS",
    "SHORTD_MAX_CONNECTIONS_PER_IP",
    "SHORTD_TIMEOUT",
    "SHORTD_ADMIN_TOKEN",
    "SHORTD_LINK_CACHE",
    "SHORTD_HEADER_TIMEOUT",
    "SHORTD_BODY_MIN_RATE",
    "SHORTD_TRUSTED_PROXY",
};

static struct config cfg;
static char err[512];

static void clear_env(void)
{
	for (size_t i = 0; i < sizeof(all_vars) / sizeof(all_vars[0]); i++)
		unsetenv(all_vars[i]);
	config_defaults(&cfg);
	err[0] = '\0';
}

/* Parses "serve" followed by up to six arguments (NULL-terminated). */
static int parse(const char *a0, const char *a1, const char *a2, const char *a3)
{
	char *argv[] = {"serve", (char *)a0, (char *)a1, (char *)a2, (char *)a3, NULL};
	int argc = 1;

	while (argc < 5 && argv[argc] != NULL)
		argc++;
	return config_parse_serve(&cfg, argc, argv, err, sizeof(err));
}

START_TEST(test_defaults)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	ck_assert_str_eq(cfg.listen_host, "127.0.0.1");
	ck_assert_uint_eq(cfg.listen_port, 8080);
	ck_assert_str_eq(cfg.db_path, "./shortd.db");
	ck_assert_str_eq(cfg.base_url, "");
	ck_assert_int_eq(cfg.default_status, 302);
	ck_assert_uint_eq(cfg.threads, cpus < 1 ? 2 : cpus > 64 ? 64 : (unsigned)cpus);
	ck_assert_ptr_null(cfg.access_log);
	ck_assert_uint_eq(cfg.max_body, 1024 * 1024);
	ck_assert_uint_eq(cfg.cache_max_age, 3600);
	ck_assert_uint_eq(cfg.flush_ms, 1000);
	ck_assert_uint_eq(cfg.max_connections, 1024);
	ck_assert_uint_eq(cfg.max_connections_per_ip, 256);
	ck_assert_uint_eq(cfg.timeout, 30);
	ck_assert_uint_eq(cfg.header_timeout, 20);
	ck_assert_uint_eq(cfg.body_min_rate, 1024);
	ck_assert_uint_eq(cfg.trusted_proxies, 0);
	ck_assert_ptr_null(cfg.admin_token);
	ck_assert_int_eq(parse(NULL, NULL, NULL, NULL), 0);
	ck_assert_str_eq(cfg.listen_host, "127.0.0.1");
	ck_assert_uint_eq(cfg.listen_port, 8080);
	ck_assert_ptr_null(cfg.admin_token);
}
END_TEST

/* One setting: its flag, its variable, two good values and what each gives. */
struct setting {
	const char *flag;
	const char *var;
	const char *env_value;
	const char *flag_value;
	void (*check)(const char *value);
};

static void check_listen(const char *v)
{
	char want[CONFIG_HOST_MAX + 16];

	snprintf(want, sizeof(want), "%s:%u", cfg.listen_host, cfg.listen_port);
	ck_assert_str_eq(want, v);
}

static void check_db(const char *v)
{
	ck_assert_str_eq(cfg.db_path, v);
}

static void check_base_url(const char *v)
{
	ck_assert_str_eq(cfg.base_url, v);
}

static void check_status(const char *v)
{
	ck_assert_int_eq(cfg.default_status, atoi(v));
}

static void check_threads(const char *v)
{
	ck_assert_uint_eq(cfg.threads, strtoul(v, NULL, 10));
}

static void check_access_log(const char *v)
{
	ck_assert_str_eq(cfg.access_log, v);
}

static void check_max_body(const char *v)
{
	ck_assert_uint_eq(cfg.max_body, strtoull(v, NULL, 10));
}

static void check_cache(const char *v)
{
	ck_assert_uint_eq(cfg.cache_max_age, strtoul(v, NULL, 10));
}

static void check_flush(const char *v)
{
	ck_assert_uint_eq(cfg.flush_ms, strtoul(v, NULL, 10));
}

static void check_maxconn(const char *v)
{
	ck_assert_uint_eq(cfg.max_connections, strtoul(v, NULL, 10));
}

static void check_perip(const char *v)
{
	ck_assert_uint_eq(cfg.max_connections_per_ip, strtoul(v, NULL, 10));
}

static void check_timeout(const char *v)
{
	ck_assert_uint_eq(cfg.timeout, strtoul(v, NULL, 10));
}

static void check_link_cache(const char *v)
{
	ck_assert_uint_eq(cfg.link_cache_mb, strtoul(v, NULL, 10));
}

static void check_header_timeout(const char *v)
{
	ck_assert_uint_eq(cfg.header_timeout, strtoul(v, NULL, 10));
}

static void check_body_min_rate(const char *v)
{
	ck_assert_uint_eq(cfg.body_min_rate, strtoul(v, NULL, 10));
}

/* The value's ranges, each written back as ADDRESS/BITS. */
static void check_trusted(const char *v)
{
	char want[256], got[256] = "";
	size_t n = 0;

	snprintf(want, sizeof(want), "%s", v);
	for (unsigned i = 0; i < cfg.trusted_proxies; i++) {
		const struct config_cidr *c = &cfg.trusted_proxy[i];
		bool v4 = c->bits >= 96 && memcmp(c->addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0;
		char a[64];
		inet_ntop(v4 ? AF_INET : AF_INET6, v4 ? c->addr + 12 : c->addr, a, sizeof(a));
		n += (size_t)snprintf(got + n, sizeof(got) - n, "%s%s/%u", i > 0 ? "," : "", a,
		                      v4 ? c->bits - 96 : c->bits);
	}
	ck_assert_str_eq(got, want);
}

static const struct setting settings[] = {
    {"--listen", "SHORTD_LISTEN", "127.0.0.2:9000", "0.0.0.0:0", check_listen},
    {"--db", "SHORTD_DB", "/tmp/env.db", "/tmp/flag.db", check_db},
    {"--base-url", "SHORTD_BASE_URL", "https://env.example", "https://flag.example/s", check_base_url},
    {"--default-status", "SHORTD_DEFAULT_STATUS", "308", "307", check_status},
    {"--threads", "SHORTD_THREADS", "3", "256", check_threads},
    {"--access-log", "SHORTD_ACCESS_LOG", "/tmp/access.log", "-", check_access_log},
    {"--max-body", "SHORTD_MAX_BODY", "0", "5242880", check_max_body},
    {"--cache-max-age", "SHORTD_CACHE_MAX_AGE", "0", "31536000", check_cache},
    {"--flush-interval", "SHORTD_FLUSH_INTERVAL", "10", "60000", check_flush},
    {"--max-connections", "SHORTD_MAX_CONNECTIONS", "1", "1000000", check_maxconn},
    {"--max-connections-per-ip", "SHORTD_MAX_CONNECTIONS_PER_IP", "0", "1000000", check_perip},
    {"--timeout", "SHORTD_TIMEOUT", "1", "86400", check_timeout},
    {"--link-cache", "SHORTD_LINK_CACHE", "0", "4096", check_link_cache},
    {"--link-cache", "SHORTD_LINK_CACHE", "4096", "0", check_link_cache},
    {"--header-timeout", "SHORTD_HEADER_TIMEOUT", "1", "3600", check_header_timeout},
    {"--body-min-rate", "SHORTD_BODY_MIN_RATE", "0", "1000000000", check_body_min_rate},
    {"--trusted-proxy", "SHORTD_TRUSTED_PROXY", "10.0.0.0/8,192.168.1.7/32", "2001:db8::/32", check_trusted},
    {"--trusted-proxy", "SHORTD_TRUSTED_PROXY", "::/0", "127.0.0.1/32", check_trusted},
};

#define NSETTINGS ((int)(sizeof(settings) / sizeof(settings[0])))

START_TEST(test_flag_separate_value)
{
	const struct setting *s = &settings[_i];

	ck_assert_msg(parse(s->flag, s->flag_value, NULL, NULL) == 0, "%s", err);
	s->check(s->flag_value);
}
END_TEST

START_TEST(test_flag_equals_value)
{
	const struct setting *s = &settings[_i];
	char arg[128];

	snprintf(arg, sizeof(arg), "%s=%s", s->flag, s->flag_value);
	ck_assert_msg(parse(arg, NULL, NULL, NULL) == 0, "%s", err);
	s->check(s->flag_value);
}
END_TEST

START_TEST(test_env_value)
{
	const struct setting *s = &settings[_i];

	setenv(s->var, s->env_value, 1);
	ck_assert_msg(parse(NULL, NULL, NULL, NULL) == 0, "%s", err);
	s->check(s->env_value);
}
END_TEST

START_TEST(test_flag_wins_over_env)
{
	const struct setting *s = &settings[_i];

	setenv(s->var, s->env_value, 1);
	ck_assert_msg(parse(s->flag, s->flag_value, NULL, NULL) == 0, "%s", err);
	s->check(s->flag_value);
}
END_TEST

/* Flags win, so a variable that a flag replaces is not read: a bad one
 * does not stop serve. Another bad variable still does. */
START_TEST(test_env_replaced_by_a_flag_is_not_read)
{
	setenv("SHORTD_THREADS", "0", 1);
	setenv("SHORTD_LISTEN", "nowhere", 1);
	ck_assert_msg(parse("--threads", "2", "--listen", "127.0.0.1:9") == 0, "%s", err);
	ck_assert_uint_eq(cfg.threads, 2);
	ck_assert_uint_eq(cfg.listen_port, 9);
	ck_assert_int_eq(parse("--threads", "2", NULL, NULL), -1);
	ck_assert_ptr_nonnull(strstr(err, "SHORTD_LISTEN"));
}
END_TEST

/* An empty variable counts as unset, as the CLI treats SHORTD_DB. */
START_TEST(test_empty_env_is_unset)
{
	setenv("SHORTD_DB", "", 1);
	setenv("SHORTD_THREADS", "", 1);
	ck_assert_int_eq(parse(NULL, NULL, NULL, NULL), 0);
	ck_assert_str_eq(cfg.db_path, "./shortd.db");
}
END_TEST

/* The link cache is 8 MB unless told otherwise; 12 given is 12. */
START_TEST(test_link_cache_default)
{
	ck_assert_uint_eq(cfg.link_cache_mb, 8);
	ck_assert_int_eq(parse(NULL, NULL, NULL, NULL), 0);
	ck_assert_uint_eq(cfg.link_cache_mb, 8);
	ck_assert_int_eq(parse("--link-cache", "0", NULL, NULL), 0);
	ck_assert_uint_eq(cfg.link_cache_mb, 0);
	ck_assert_int_eq(parse("--link-cache", "12", NULL, NULL), 0);
	ck_assert_uint_eq(cfg.link_cache_mb, 12);
}
END_TEST

/* An empty SHORTD_LINK_CACHE is unset: the default stays, a flag still
 * applies. */
START_TEST(test_empty_link_cache_env_is_unset)
{
	setenv("SHORTD_LINK_CACHE", "", 1);
	ck_assert_msg(parse(NULL, NULL, NULL, NULL) == 0, "%s", err);
	ck_assert_uint_eq(cfg.link_cache_mb, 8);
	ck_assert_msg(parse("--link-cache", "7", NULL, NULL) == 0, "%s", err);
	ck_assert_uint_eq(cfg.link_cache_mb, 7);
}
END_TEST

START_TEST(test_admin_token_env)
{
	setenv("SHORTD_ADMIN_TOKEN", "s3cret-token-0123456789abcdefghij", 1);
	ck_assert_int_eq(parse(NULL, NULL, NULL, NULL), 0);
	ck_assert_str_eq(cfg.admin_token, "s3cret-token-0123456789abcdefghij");
	config_defaults(&cfg);
	setenv("SHORTD_ADMIN_TOKEN", "", 1);
	ck_assert_int_eq(parse(NULL, NULL, NULL, NULL), 0);
	ck_assert_ptr_null(cfg.admin_token);
}
END_TEST

/* A fixed admin token shorter than the ones shortd makes (32 characters)
 * is refused, naming the variable and never echoing the value. */
START_TEST(test_short_admin_token_refused)
{
	setenv("SHORTD_ADMIN_TOKEN", "x", 1);
	ck_assert_int_eq(parse(NULL, NULL, NULL, NULL), -1);
	ck_assert_ptr_nonnull(strstr(err, "SHORTD_ADMIN_TOKEN"));
	ck_assert_ptr_nonnull(strstr(err, "at least 32"));
	setenv("SHORTD_ADMIN_TOKEN", "0123456789abcdef0123456789abcde", 1);
	ck_assert_int_eq(parse(NULL, NULL, NULL, NULL), -1);
	ck_assert_ptr_null(strstr(err, "0123456789abcdef"));
	setenv("SHORTD_ADMIN_TOKEN", "0123456789abcdef0123456789abcdef", 1);
	ck_assert_msg(parse(NULL, NULL, NULL, NULL) == 0, "%s", err);
}
END_TEST

START_TEST(test_base_url_trailing_slashes_dropped)
{
	ck_assert_int_eq(parse("--base-url", "https://s.example///", NULL, NULL), 0);
	ck_assert_str_eq(cfg.base_url, "https://s.example");
	ck_assert_int_eq(parse("--base-url", "http://127.0.0.1:8080/go/", NULL, NULL), 0);
	ck_assert_str_eq(cfg.base_url, "http://127.0.0.1:8080/go");
}
END_TEST

START_TEST(test_parse_twice_in_one_process)
{
	ck_assert_int_eq(parse("--threads", "4", "--timeout", "9"), 0);
	ck_assert_uint_eq(cfg.threads, 4);
	ck_assert_int_eq(parse("--threads=5", NULL, NULL, NULL), 0);
	ck_assert_uint_eq(cfg.threads, 5);
	ck_assert_uint_eq(cfg.timeout, 9);
}
END_TEST

struct bad {
	const char *flag;
	const char *var;
	const char *value;
};

static const struct bad bads[] = {
    {"--listen", "SHORTD_LISTEN", "127.0.0.1"},
    {"--listen", "SHORTD_LISTEN", "127.0.0.1:"},
    {"--listen", "SHORTD_LISTEN", "127.0.0.1:65536"},
    {"--listen", "SHORTD_LISTEN", "127.0.0.1:-1"},
    {"--listen", "SHORTD_LISTEN", "127.0.0.1:80x"},
    {"--listen", "SHORTD_LISTEN", "127.0.0.1: 80"},
    {"--listen", "SHORTD_LISTEN", "example.com:80"},
    {"--listen", "SHORTD_LISTEN", ":8080"},
    {"--listen", "SHORTD_LISTEN", "256.0.0.1:80"},
    {"--listen", "SHORTD_LISTEN", "::1:8080"},
    {"--listen", "SHORTD_LISTEN", "[::1]"},
    {"--listen", "SHORTD_LISTEN", "[::1]8080"},
    {"--listen", "SHORTD_LISTEN", "[::1]:"},
    {"--listen", "SHORTD_LISTEN", "[]:80"},
    {"--listen", "SHORTD_LISTEN", "[zz::1]:80"},
    {"--listen", "SHORTD_LISTEN", "[127.0.0.1]:80"},
    {"--listen", "SHORTD_LISTEN", ""},
    {"--db", "SHORTD_DB", ""},
    {"--base-url", "SHORTD_BASE_URL", ""},
    {"--base-url", "SHORTD_BASE_URL", "/"},
    {"--base-url", "SHORTD_BASE_URL", "example.com"},
    {"--base-url", "SHORTD_BASE_URL", "ftp://example.com"},
    {"--base-url", "SHORTD_BASE_URL", "http://"},
    {"--base-url", "SHORTD_BASE_URL", "https:///"},
    {"--base-url", "SHORTD_BASE_URL", "http://:8080"},
    {"--base-url", "SHORTD_BASE_URL", "http://exa mple.com"},
    {"--base-url", "SHORTD_BASE_URL", "http://example.com/\x01"},
    {"--base-url", "SHORTD_BASE_URL", "http://example.com:0"},
    {"--base-url", "SHORTD_BASE_URL", "http://example.com:99999"},
    {"--base-url", "SHORTD_BASE_URL", "http://user:pw@example.com"},
    {"--base-url", "SHORTD_BASE_URL", "http://example.com/?x=1"},
    {"--base-url", "SHORTD_BASE_URL", "http://example.com/#top"},
    {"--default-status", "SHORTD_DEFAULT_STATUS", "200"},
    {"--default-status", "SHORTD_DEFAULT_STATUS", "300"},
    {"--default-status", "SHORTD_DEFAULT_STATUS", "304"},
    {"--default-status", "SHORTD_DEFAULT_STATUS", "306"},
    {"--default-status", "SHORTD_DEFAULT_STATUS", "-302"},
    {"--default-status", "SHORTD_DEFAULT_STATUS", "302x"},
    {"--default-status", "SHORTD_DEFAULT_STATUS", " 302"},
    {"--default-status", "SHORTD_DEFAULT_STATUS", "found"},
    {"--default-status", "SHORTD_DEFAULT_STATUS", ""},
    {"--threads", "SHORTD_THREADS", "0"},
    {"--threads", "SHORTD_THREADS", "257"},
    {"--threads", "SHORTD_THREADS", "-1"},
    {"--threads", "SHORTD_THREADS", "1.5"},
    {"--threads", "SHORTD_THREADS", "+4"},
    {"--threads", "SHORTD_THREADS", " 4"},
    {"--max-body", "SHORTD_MAX_BODY", "+5"},
    {"--cache-max-age", "SHORTD_CACHE_MAX_AGE", "-0"},
    {"--threads", "SHORTD_THREADS", "99999999999999999999999"},
    {"--threads", "SHORTD_THREADS", ""},
    {"--access-log", "SHORTD_ACCESS_LOG", ""},
    {"--max-body", "SHORTD_MAX_BODY", "-1"},
    {"--max-body", "SHORTD_MAX_BODY", "1e6"},
    {"--max-body", "SHORTD_MAX_BODY", "1099511627777"},
    {"--max-body", "SHORTD_MAX_BODY", "18446744073709551616"},
    {"--max-body", "SHORTD_MAX_BODY", ""},
    {"--cache-max-age", "SHORTD_CACHE_MAX_AGE", "-1"},
    {"--cache-max-age", "SHORTD_CACHE_MAX_AGE", "31536001"},
    {"--cache-max-age", "SHORTD_CACHE_MAX_AGE", "1h"},
    {"--flush-interval", "SHORTD_FLUSH_INTERVAL", "9"},
    {"--flush-interval", "SHORTD_FLUSH_INTERVAL", "60001"},
    {"--flush-interval", "SHORTD_FLUSH_INTERVAL", "fast"},
    {"--max-connections", "SHORTD_MAX_CONNECTIONS", "0"},
    {"--max-connections", "SHORTD_MAX_CONNECTIONS", "1000001"},
    {"--max-connections-per-ip", "SHORTD_MAX_CONNECTIONS_PER_IP", "-1"},
    {"--max-connections-per-ip", "SHORTD_MAX_CONNECTIONS_PER_IP", "1000001"},
    {"--timeout", "SHORTD_TIMEOUT", "0"},
    {"--timeout", "SHORTD_TIMEOUT", "86401"},
    {"--timeout", "SHORTD_TIMEOUT", "30s"},
    {"--link-cache", "SHORTD_LINK_CACHE", "-1"},
    {"--link-cache", "SHORTD_LINK_CACHE", "4097"},
    {"--link-cache", "SHORTD_LINK_CACHE", "abc"},
    {"--link-cache", "SHORTD_LINK_CACHE", ""},
    {"--header-timeout", "SHORTD_HEADER_TIMEOUT", "0"},
    {"--header-timeout", "SHORTD_HEADER_TIMEOUT", "3601"},
    {"--header-timeout", "SHORTD_HEADER_TIMEOUT", "10s"},
    {"--header-timeout", "SHORTD_HEADER_TIMEOUT", ""},
    {"--body-min-rate", "SHORTD_BODY_MIN_RATE", "-1"},
    {"--body-min-rate", "SHORTD_BODY_MIN_RATE", "1000000001"},
    {"--body-min-rate", "SHORTD_BODY_MIN_RATE", "1k"},
    {"--trusted-proxy", "SHORTD_TRUSTED_PROXY", ""},
    {"--trusted-proxy", "SHORTD_TRUSTED_PROXY", "localhost"},
    {"--trusted-proxy", "SHORTD_TRUSTED_PROXY", "10.0.0.0/33"},
    {"--trusted-proxy", "SHORTD_TRUSTED_PROXY", "::1/129"},
    {"--trusted-proxy", "SHORTD_TRUSTED_PROXY", "10.0.0.0/"},
    {"--trusted-proxy", "SHORTD_TRUSTED_PROXY", "10.0.0.0/-8"},
    {"--trusted-proxy", "SHORTD_TRUSTED_PROXY", "/8"},
    {"--trusted-proxy", "SHORTD_TRUSTED_PROXY", "10.0.0.1,"},
    {"--trusted-proxy", "SHORTD_TRUSTED_PROXY", ",10.0.0.1"},
    {"--trusted-proxy", "SHORTD_TRUSTED_PROXY", "10.0.0.1 10.0.0.2"},
    {"--trusted-proxy", "SHORTD_TRUSTED_PROXY", "[::1]"},
    {"--trusted-proxy", "SHORTD_TRUSTED_PROXY",
     "1.0.0.1,1.0.0.2,1.0.0.3,1.0.0.4,1.0.0.5,1.0.0.6,1.0.0.7,1.0.0.8,1.0.0.9,1.0.0.10,1.0.0.11,1.0.0.12,"
     "1.0.0.13,1.0.0.14,1.0.0.15,1.0.0.16,1.0.0.17"},
};

#define NBADS ((int)(sizeof(bads) / sizeof(bads[0])))

/* err starts with the flag's name followed by ':' */
static void assert_names(const char *name, const char *value)
{
	size_t n = strlen(name);

	ck_assert_msg(strncmp(err, name, n) == 0 && err[n] == ':', "%s '%s': error \"%s\" does not name it", name,
	              value, err);
	ck_assert_ptr_null(strchr(err, '\n'));
}

START_TEST(test_bad_flag_value)
{
	const struct bad *b = &bads[_i];

	ck_assert_msg(parse(b->flag, b->value, NULL, NULL) == -1, "%s '%s' accepted", b->flag, b->value);
	assert_names(b->flag, b->value);
}
END_TEST

START_TEST(test_bad_flag_equals_value)
{
	const struct bad *b = &bads[_i];
	char arg[128];

	snprintf(arg, sizeof(arg), "%s=%s", b->flag, b->value);
	ck_assert_msg(parse(arg, NULL, NULL, NULL) == -1, "%s accepted", arg);
	assert_names(b->flag, b->value);
}
END_TEST

START_TEST(test_bad_env_value)
{
	const struct bad *b = &bads[_i];

	setenv(b->var, b->value, 1);
	if (b->value[0] == '\0') { /* an empty variable counts as unset */
		ck_assert_msg(parse(NULL, NULL, NULL, NULL) == 0, "%s='' refused: %s", b->var, err);
		return;
	}
	ck_assert_msg(parse(NULL, NULL, NULL, NULL) == -1, "%s='%s' accepted", b->var, b->value);
	assert_names(b->var, b->value);
}
END_TEST

START_TEST(test_unknown_flag)
{
	ck_assert_int_eq(parse("--bogus", "1", NULL, NULL), -1);
	ck_assert_str_eq(err, "--bogus: unknown flag for serve");
	ck_assert_int_eq(parse("--threads", "2", "--port=80", NULL), -1);
	ck_assert_str_eq(err, "--port=80: unknown flag for serve");
}
END_TEST

START_TEST(test_missing_value)
{
	ck_assert_int_eq(parse("--threads", NULL, NULL, NULL), -1);
	ck_assert_str_eq(err, "--threads: missing value");
	ck_assert_int_eq(parse("--db", "x.db", "--listen", NULL), -1);
	ck_assert_str_eq(err, "--listen: missing value");
}
END_TEST

START_TEST(test_unexpected_argument)
{
	ck_assert_int_eq(parse("extra", NULL, NULL, NULL), -1);
	ck_assert_str_eq(err, "extra: unexpected argument for serve");
}
END_TEST

struct listen_case {
	const char *value;
	const char *host;
	unsigned port;
};

static const struct listen_case listens[] = {
    {"127.0.0.1:0", "127.0.0.1", 0},
    {"127.0.0.1:8080", "127.0.0.1", 8080},
    {"0.0.0.0:65535", "0.0.0.0", 65535},
    {"localhost:9000", "127.0.0.1", 9000},
    {"[::1]:0", "::1", 0},
    {"[::1]:8443", "::1", 8443},
    {"[::]:80", "::", 80},
    {"[fe80::1:2]:1", "fe80::1:2", 1},
    {"10.1.2.3:00080", "10.1.2.3", 80},
};

START_TEST(test_listen_forms)
{
	const struct listen_case *l = &listens[_i];

	ck_assert_int_eq(config_parse_listen(&cfg, l->value), 0);
	ck_assert_str_eq(cfg.listen_host, l->host);
	ck_assert_uint_eq(cfg.listen_port, l->port);
}
END_TEST

START_TEST(test_listen_bad_keeps_config)
{
	ck_assert_int_eq(config_parse_listen(&cfg, "[::1]:0"), 0);
	ck_assert_int_eq(config_parse_listen(&cfg, "127.0.0.1:99999"), -1);
	ck_assert_int_eq(config_parse_listen(&cfg, NULL), -1);
	ck_assert_str_eq(cfg.listen_host, "::1");
	ck_assert_uint_eq(cfg.listen_port, 0);
}
END_TEST

/* Repeated flags add up; a bare address is one address; bits past the
 * prefix are dropped; an address is in a range by its prefix only. */
START_TEST(test_trusted_proxy_ranges)
{
	static const unsigned char v4_in[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 2, 3};
	static const unsigned char v4_out[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 11, 1, 2, 3};
	static const unsigned char v6_in[16] = {0x20, 0x01, 0x0d, 0xb8, 0xff};
	static const unsigned char v6_out[16] = {0x20, 0x01, 0x0d, 0xb9};
	static const unsigned char one[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 7};
	static const unsigned char next[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 8};

	setenv("SHORTD_TRUSTED_PROXY", "172.16.0.0/12", 1);
	ck_assert_msg(parse("--trusted-proxy", "10.9.9.9/8", "--trusted-proxy", "2001:db8::1/32,192.0.2.7") == 0, "%s",
	              err);
	ck_assert_uint_eq(cfg.trusted_proxies, 3);
	ck_assert(config_cidr_contains(&cfg.trusted_proxy[0], v4_in));
	ck_assert(!config_cidr_contains(&cfg.trusted_proxy[0], v4_out));
	ck_assert(config_cidr_contains(&cfg.trusted_proxy[1], v6_in));
	ck_assert(!config_cidr_contains(&cfg.trusted_proxy[1], v6_out));
	ck_assert(!config_cidr_contains(&cfg.trusted_proxy[1], v4_in));
	ck_assert(config_cidr_contains(&cfg.trusted_proxy[2], one));
	ck_assert(!config_cidr_contains(&cfg.trusted_proxy[2], next));
	ck_assert_uint_eq(cfg.trusted_proxy[0].addr[13], 0);
}
END_TEST

START_TEST(test_finish_base_url)
{
	config_parse_listen(&cfg, "127.0.0.1:0");
	config_finish_base_url(&cfg, 43210);
	ck_assert_str_eq(cfg.base_url, "http://127.0.0.1:43210");

	config_defaults(&cfg);
	config_parse_listen(&cfg, "[::1]:0");
	config_finish_base_url(&cfg, 5000);
	ck_assert_str_eq(cfg.base_url, "http://[::1]:5000");

	config_defaults(&cfg);
	config_parse_listen(&cfg, "0.0.0.0:8080");
	config_finish_base_url(&cfg, 8080);
	ck_assert_str_eq(cfg.base_url, "http://127.0.0.1:8080");

	config_defaults(&cfg);
	config_parse_listen(&cfg, "[::]:0");
	config_finish_base_url(&cfg, 1234);
	ck_assert_str_eq(cfg.base_url, "http://[::1]:1234");

	config_defaults(&cfg);
	ck_assert_int_eq(parse("--base-url", "https://s.example/", "--listen", "127.0.0.1:0"), 0);
	config_finish_base_url(&cfg, 40000);
	ck_assert_str_eq(cfg.base_url, "https://s.example");
}
END_TEST

/* The self-link rule needs the port really bound, also when a base URL was
 * given (listen port 0 picks one). */
START_TEST(test_url_self_has_the_bound_port)
{
	struct url_self self;

	ck_assert_int_eq(parse("--base-url", "https://s.example", "--listen", "127.0.0.1:0"), 0);
	config_finish_base_url(&cfg, 40000);
	config_url_self(&cfg, &self);
	ck_assert_str_eq(self.base_url, "https://s.example");
	ck_assert_str_eq(self.listen_host, "127.0.0.1");
	ck_assert_uint_eq(self.listen_port, 40000);
}
END_TEST

/* A name that is no setting is refused by name: a caller's slip, not the
 * user's. */
START_TEST(test_read_variable_refuses_an_unknown_name)
{
	config_defaults(&cfg);
	setenv("SHORTD_NO_SUCH", "1", 1);
	ck_assert_int_eq(config_read_variable(&cfg, "SHORTD_NO_SUCH", err, sizeof(err)), -1);
	unsetenv("SHORTD_NO_SUCH");
	ck_assert_str_eq(err, "SHORTD_NO_SUCH: not a shortd setting");
}
END_TEST

/* Peers are keyed as IPv6 (IPv4 mapped); anything else, or an address cut
 * short, has no key. */
START_TEST(test_addr_key_of_each_family)
{
	struct sockaddr_in in4 = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
	struct sockaddr_in6 in6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	static const unsigned char mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1};
	static const unsigned char loopback6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	unsigned char key[16];

	ck_assert(config_addr_key((struct sockaddr *)&in4, sizeof(in4), key));
	ck_assert_int_eq(memcmp(key, mapped, 16), 0);
	ck_assert(config_addr_key((struct sockaddr *)&in6, sizeof(in6), key));
	ck_assert_int_eq(memcmp(key, loopback6, 16), 0);
	ck_assert(!config_addr_key((struct sockaddr *)&un, sizeof(un), key));
	ck_assert(!config_addr_key((struct sockaddr *)&in4, sizeof(in4) - 1, key));
	ck_assert(!config_addr_key((struct sockaddr *)&in6, sizeof(in6) - 1, key));
	ck_assert(!config_addr_key(NULL, 0, key));
}
END_TEST

Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc;

	tc = tcase_create("settings");
	tcase_add_checked_fixture(tc, clear_env, NULL);
	tcase_add_test(tc, test_defaults);
	tcase_add_loop_test(tc, test_flag_separate_value, 0, NSETTINGS);
	tcase_add_loop_test(tc, test_flag_equals_value, 0, NSETTINGS);
	tcase_add_loop_test(tc, test_env_value, 0, NSETTINGS);
	tcase_add_loop_test(tc, test_flag_wins_over_env, 0, NSETTINGS);
	tcase_add_test(tc, test_env_replaced_by_a_flag_is_not_read);
	tcase_add_test(tc, test_short_admin_token_refused);
	tcase_add_test(tc, test_admin_token_env);
	tcase_add_test(tc, test_empty_env_is_unset);
	tcase_add_test(tc, test_link_cache_default);
	tcase_add_test(tc, test_empty_link_cache_env_is_unset);
	tcase_add_test(tc, test_base_url_trailing_slashes_dropped);
	tcase_add_test(tc, test_parse_twice_in_one_process);
	tcase_add_test(tc, test_trusted_proxy_ranges);
	tcase_add_test(tc, test_read_variable_refuses_an_unknown_name);
	tcase_add_test(tc, test_addr_key_of_each_family);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, clear_env, NULL);
	tcase_add_loop_test(tc, test_bad_flag_value, 0, NBADS);
	tcase_add_loop_test(tc, test_bad_flag_equals_value, 0, NBADS);
	tcase_add_loop_test(tc, test_bad_env_value, 0, NBADS);
	tcase_add_test(tc, test_unknown_flag);
	tcase_add_test(tc, test_missing_value);
	tcase_add_test(tc, test_unexpected_argument);
	suite_add_tcase(s, tc);

	tc = tcase_create("listen");
	tcase_add_checked_fixture(tc, clear_env, NULL);
	tcase_add_loop_test(tc, test_listen_forms, 0, (int)(sizeof(listens) / sizeof(listens[0])));
	tcase_add_test(tc, test_listen_bad_keeps_config);
	tcase_add_test(tc, test_finish_base_url);
	tcase_add_test(tc, test_url_self_has_the_bound_port);
	suite_add_tcase(s, tc);
	return s;
}
