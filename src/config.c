/*
 * serve's configuration: defaults, overridden by SHORTD_* environment
 * variables, overridden by flags (a variable whose flag was given is not
 * read). One table, settings[], gives each setting's flag, variable, rule,
 * range and message. Every value is checked here, so the rest of the daemon
 * can trust struct config; an error names the flag or variable it came from.
 */
#include "config.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "link.h"
#include "num.h"
#include "url.h"

void config_defaults(struct config *c)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	memset(c, 0, sizeof(*c));
	snprintf(c->listen_host, sizeof(c->listen_host), "127.0.0.1");
	c->listen_port = 8080;
	c->db_path = "./shortd.db";
	c->default_status = 302;
	c->threads = cpus < 1 ? 2 : cpus > 64 ? 64 : (unsigned)cpus; /* one per CPU, at most 64 */
	c->max_body = 1024 * 1024;
	c->cache_max_age = 3600;
	c->flush_ms = 1000;
	c->max_connections = 1024;
	c->max_connections_per_ip = 256;
	c->timeout = 30;
	c->header_timeout = 20;
	c->body_min_rate = 1024;
	c->link_cache_mb = 8;
}

int config_parse_listen(struct config *c, const char *value)
{
	const char *colon;
	char host[CONFIG_HOST_MAX + 1];
	uint64_t port;
	unsigned char addr[16];
	size_t hlen;

	if (value == NULL)
		return -1;
	if (value[0] == '[') {
		const char *rb = strchr(value, ']');
		if (rb == NULL || rb[1] != ':')
			return -1;
		hlen = (size_t)(rb - value - 1);
		if (hlen == 0 || hlen > CONFIG_HOST_MAX)
			return -1;
		memcpy(host, value + 1, hlen);
		host[hlen] = '\0';
		colon = rb + 1;
		if (inet_pton(AF_INET6, host, addr) != 1)
			return -1;
	} else {
		colon = strrchr(value, ':');
		if (colon == NULL)
			return -1;
		hlen = (size_t)(colon - value);
		if (hlen == 0 || hlen > CONFIG_HOST_MAX)
			return -1;
		memcpy(host, value, hlen);
		host[hlen] = '\0';
		if (strcmp(host, "localhost") == 0)
			snprintf(host, sizeof(host), "127.0.0.1");
		if (inet_pton(AF_INET, host, addr) != 1)
			return -1;
	}
	if (num_parse(colon + 1, 0, 65535, &port) != 0)
		return -1;
	memcpy(c->listen_host, host, strlen(host) + 1);
	c->listen_port = (unsigned)port;
	return 0;
}

int config_set_base_url(struct config *c, const char *v)
{
	char url[CONFIG_BASE_URL_MAX + 1], norm[3 * CONFIG_BASE_URL_MAX + 1];
	size_t n = strlen(v);

	while (n > 0 && v[n - 1] == '/')
		n--;
	if (n == 0 || n > CONFIG_BASE_URL_MAX || (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0))
		return -1;
	memcpy(url, v, n);
	url[n] = '\0';
	if (url_normalize(url, NULL, norm, sizeof(norm)) != URL_OK || strpbrk(url, "?#") != NULL)
		return -1;
	memcpy(c->base_url, url, n + 1);
	return 0;
}

int config_parse_cidr(const char *value, struct config_cidr *out)
{
	char host[INET6_ADDRSTRLEN];
	const char *slash = strchr(value, '/');
	size_t hlen = slash != NULL ? (size_t)(slash - value) : strlen(value);
	uint64_t bits;
	struct config_cidr c;
	unsigned max;

	if (hlen == 0 || hlen >= sizeof(host))
		return -1;
	memcpy(host, value, hlen);
	host[hlen] = '\0';
	memset(&c, 0, sizeof(c));
	if (inet_pton(AF_INET, host, c.addr + 12) == 1) {
		c.addr[10] = c.addr[11] = 0xff;
		max = 32;
	} else if (inet_pton(AF_INET6, host, c.addr) == 1) {
		max = 128;
	} else {
		return -1;
	}
	bits = max;
	if (slash != NULL && num_parse(slash + 1, 0, max, &bits) != 0)
		return -1;
	c.bits = (unsigned)bits + 128 - max;
	for (unsigned i = c.bits; i < 128; i++)
		c.addr[i / 8] &= (unsigned char)~(0x80u >> (i % 8));
	*out = c;
	return 0;
}

bool config_cidr_contains(const struct config_cidr *c, const unsigned char addr[16])
{
	unsigned whole = c->bits / 8, rest = c->bits % 8;

	if (memcmp(c->addr, addr, whole) != 0)
		return false;
	return rest == 0 || ((c->addr[whole] ^ addr[whole]) & (0xffu << (8 - rest))) == 0;
}

bool config_addr_key(const struct sockaddr *addr, socklen_t len, unsigned char key[16])
{
	if (addr != NULL && addr->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		memset(key, 0, 10);
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &((const struct sockaddr_in *)addr)->sin_addr, 4);
		return true;
	}
	if (addr != NULL && addr->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		memcpy(key, &((const struct sockaddr_in6 *)addr)->sin6_addr, 16);
		return true;
	}
	return false;
}

bool config_is_trusted_proxy(const struct config *c, const unsigned char key[16])
{
	for (unsigned i = 0; i < c->trusted_proxies; i++) {
		if (config_cidr_contains(&c->trusted_proxy[i], key))
			return true;
	}
	return false;
}

/* Adds each of value's comma-separated ranges to the trusted proxies. */
static int add_trusted(struct config *c, const char *value)
{
	struct config_cidr list[CONFIG_TRUSTED_MAX];
	unsigned n = c->trusted_proxies;
	const char *p = value;

	memcpy(list, c->trusted_proxy, sizeof(list));
	for (;;) {
		char one[INET6_ADDRSTRLEN + 8];
		size_t len = strcspn(p, ",");
		if (len == 0 || len >= sizeof(one) || n == CONFIG_TRUSTED_MAX)
			return -1;
		memcpy(one, p, len);
		one[len] = '\0';
		if (config_parse_cidr(one, &list[n]) != 0)
			return -1;
		n++;
		if (p[len] == '\0')
			break;
		p += len + 1;
	}
	memcpy(c->trusted_proxy, list, sizeof(list));
	c->trusted_proxies = n;
	return 0;
}

#define STR(x) #x
#define XSTR(x) STR(x)

enum setting_kind {
	SET_UINT,     /* an unsigned field, by num_parse within [min, max] */
	SET_U64,      /* a uint64_t field, the same way */
	SET_STATUS,   /* default_status: one of link.h's five statuses */
	SET_TEXT,     /* a borrowed const char * that must not be empty */
	SET_LISTEN,   /* listen_host and listen_port */
	SET_BASE_URL, /* base_url */
	SET_TRUSTED,  /* trusted_proxy and trusted_proxies */
};

/*
 * serve's settings: each one's flag, variable, rule and message in one row.
 * expect is what the message says was expected; for SET_UINT and SET_U64 it
 * is a format given min and max (a row that does not show them uses neither).
 * For SET_TEXT it is the whole message after the name.
 */
struct setting {
	const char *flag; /* without the leading "--" */
	const char *var;
	enum setting_kind kind;
	uint64_t min, max;
	size_t offset; /* of the field in struct config, for SET_UINT, SET_U64 and SET_TEXT */
	const char *expect;
};

/* The offset of field f, which must have the kind's type (checked when
 * compiled: _Generic has no other branch). */
#define FIELD_OF(f, type) (offsetof(struct config, f) + 0 * sizeof(_Generic(((struct config *)0)->f, type : 1)))
#define FIELD_UINT(f) FIELD_OF(f, unsigned)
#define FIELD_U64(f) FIELD_OF(f, uint64_t)
#define FIELD_TEXT(f) FIELD_OF(f, const char *)
#define RANGE "from %" PRIu64 " to %" PRIu64

static const struct setting settings[] = {
    {"listen", "SHORTD_LISTEN", SET_LISTEN, 0, 0, 0, "HOST:PORT with a numeric IPv4 or [IPv6] address"},
    {"db", "SHORTD_DB", SET_TEXT, 0, 0, FIELD_TEXT(db_path), "must not be empty"},
    {"base-url", "SHORTD_BASE_URL", SET_BASE_URL, 0, 0, 0, "an http:// or https:// URL"},
    {"default-status", "SHORTD_DEFAULT_STATUS", SET_STATUS, 0, 999, 0, "301, 302, 303, 307 or 308"},
    {"threads", "SHORTD_THREADS", SET_UINT, 1, 256, FIELD_UINT(threads), "a number " RANGE},
    {"access-log", "SHORTD_ACCESS_LOG", SET_TEXT, 0, 0, FIELD_TEXT(access_log), "expected a file path or -"},
    {"max-body", "SHORTD_MAX_BODY", SET_U64, 0, 1ULL << 40, FIELD_U64(max_body), "a number of bytes"},
    {"cache-max-age", "SHORTD_CACHE_MAX_AGE", SET_UINT, 0, 31536000, FIELD_UINT(cache_max_age), "seconds " RANGE},
    {"flush-interval", "SHORTD_FLUSH_INTERVAL", SET_UINT, 10, 60000, FIELD_UINT(flush_ms), "milliseconds " RANGE},
    {"max-connections", "SHORTD_MAX_CONNECTIONS", SET_UINT, 1, 1000000, FIELD_UINT(max_connections), "a number " RANGE},
    {"max-connections-per-ip", "SHORTD_MAX_CONNECTIONS_PER_IP", SET_UINT, 0, 1000000,
     FIELD_UINT(max_connections_per_ip), "a number (0 for no limit)"},
    {"timeout", "SHORTD_TIMEOUT", SET_UINT, 1, 86400, FIELD_UINT(timeout), "seconds " RANGE},
    {"link-cache", "SHORTD_LINK_CACHE", SET_UINT, 0, 4096, FIELD_UINT(link_cache_mb),
     "megabytes from %" PRIu64 " (off) to %" PRIu64},
    {"header-timeout", "SHORTD_HEADER_TIMEOUT", SET_UINT, 1, 3600, FIELD_UINT(header_timeout), "seconds " RANGE},
    {"body-min-rate", "SHORTD_BODY_MIN_RATE", SET_UINT, 0, 1000000000, FIELD_UINT(body_min_rate),
     "bytes per second (0 for no minimum)"},
    {"trusted-proxy", "SHORTD_TRUSTED_PROXY", SET_TRUSTED, 0, 0, 0,
     "up to " XSTR(CONFIG_TRUSTED_MAX) " numeric ADDRESS[/BITS] ranges separated by commas"},
};

#define SETTINGS (sizeof(settings) / sizeof(settings[0]))
#define OPT_BASE 256 /* getopt_long's value for settings[i] is OPT_BASE + i */

/* Applies one setting's value v to c; 0, or -1 leaving c unchanged. */
static int apply_value(struct config *c, const struct setting *s, const char *v)
{
	char *field = (char *)c + s->offset;
	uint64_t n;

	switch (s->kind) {
	case SET_UINT:
		if (num_parse(v, s->min, s->max, &n) != NUM_OK)
			return -1;
		*(unsigned *)(void *)field = (unsigned)n;
		return 0;
	case SET_U64:
		if (num_parse(v, s->min, s->max, &n) != NUM_OK)
			return -1;
		*(uint64_t *)(void *)field = n;
		return 0;
	case SET_STATUS:
		if (num_parse(v, s->min, s->max, &n) != NUM_OK || !link_status_is_valid((int)n))
			return -1;
		c->default_status = (int)n;
		return 0;
	case SET_TEXT:
		if (v[0] == '\0')
			return -1;
		*(const char **)(void *)field = v;
		return 0;
	case SET_LISTEN:
		return config_parse_listen(c, v);
	case SET_BASE_URL:
		return config_set_base_url(c, v);
	case SET_TRUSTED:
		return add_trusted(c, v);
	}
	return -1;
}

/* Applies one setting; name is "--flag" or "VARIABLE" for the message. */
static int apply(struct config *c, const struct setting *s, const char *v, const char *name, char *err, size_t errlen)
{
	char expect[160];

	if (apply_value(c, s, v) == 0)
		return 0;
	if (s->kind == SET_TEXT) {
		snprintf(err, errlen, "%s: %s", name, s->expect);
		return -1;
	}
	snprintf(expect, sizeof(expect), s->expect, s->min, s->max);
	snprintf(err, errlen, "%s: expected %s, got '%s'", name, expect, v);
	return -1;
}

int config_read_variable(struct config *c, const char *var, char *err, size_t errlen)
{
	for (size_t i = 0; i < SETTINGS; i++) {
		if (strcmp(settings[i].var, var) == 0) {
			const char *v = getenv(var);
			/* An empty variable counts as unset, for serve and the CLI. */
			if (v == NULL || v[0] == '\0')
				return 0;
			return apply(c, &settings[i], v, var, err, errlen);
		}
	}
	snprintf(err, errlen, "%s: not a shortd setting", var);
	return -1;
}

int config_parse_serve(struct config *c, int argc, char **argv, char *err, size_t errlen)
{
	struct option opts[SETTINGS + 1];
	bool given[SETTINGS] = {false};
	bool trusted_by_flag = false;
	int opt;

	for (size_t i = 0; i < SETTINGS; i++)
		opts[i] = (struct option){settings[i].flag, required_argument, NULL, OPT_BASE + (int)i};
	opts[SETTINGS] = (struct option){NULL, 0, NULL, 0};

	/* Flags first: a variable that a flag replaces is never read, so a bad
	 * one in the environment cannot stop a command line that overrides it. */
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (opt == '?' || opt == ':') {
			const char *bad = argv[optind - 1];
			if (opt == ':')
				snprintf(err, errlen, "%s: missing value", bad);
			else
				snprintf(err, errlen, "%s: unknown flag for serve", bad);
			return -1;
		}
		const struct setting *st = &settings[opt - OPT_BASE];
		char name[64];
		snprintf(name, sizeof(name), "--%s", st->flag);
		/* --trusted-proxy adds up over its flags, and replaces the
		 * variable's list rather than adding to it. */
		if (st->kind == SET_TRUSTED && !trusted_by_flag) {
			c->trusted_proxies = 0;
			trusted_by_flag = true;
		}
		if (apply(c, st, optarg, name, err, errlen) != 0)
			return -1;
		given[opt - OPT_BASE] = true;
	}
	if (optind < argc) {
		snprintf(err, errlen, "%s: unexpected argument for serve", argv[optind]);
		return -1;
	}
	for (size_t i = 0; i < SETTINGS; i++) {
		if (!given[i] && config_read_variable(c, settings[i].var, err, errlen) != 0)
			return -1;
	}
	c->admin_token = getenv("SHORTD_ADMIN_TOKEN");
	if (c->admin_token != NULL && c->admin_token[0] == '\0')
		c->admin_token = NULL;
	if (c->admin_token != NULL && strlen(c->admin_token) < CONFIG_ADMIN_TOKEN_MIN) {
		snprintf(err, errlen,
		         "SHORTD_ADMIN_TOKEN: expected at least %d characters (as long as the tokens shortd makes), "
		         "got %zu; a short token can be guessed",
		         CONFIG_ADMIN_TOKEN_MIN, strlen(c->admin_token));
		return -1;
	}
	return 0;
}

void config_finish_base_url(struct config *c, unsigned bound_port)
{
	const char *host = c->listen_host;

	c->listen_port = bound_port;
	if (c->base_url[0] != '\0')
		return;
	if (strcmp(host, "0.0.0.0") == 0)
		host = "127.0.0.1";
	if (strchr(host, ':') != NULL)
		snprintf(c->base_url, sizeof(c->base_url), "http://[%s]:%u", strcmp(host, "::") == 0 ? "::1" : host,
		         bound_port);
	else
		snprintf(c->base_url, sizeof(c->base_url), "http://%s:%u", host, bound_port);
}

void config_url_self(const struct config *c, struct url_self *out)
{
	out->base_url = c->base_url;
	out->listen_host = c->listen_host;
	out->listen_port = c->listen_port;
}

void config_command_daemon(struct config *c, const char *base_url)
{
	const char *listen = getenv("SHORTD_LISTEN");

	config_defaults(c);
	if (listen == NULL || config_parse_listen(c, listen) != 0)
		config_parse_listen(c, "127.0.0.1:8080");
	snprintf(c->base_url, sizeof(c->base_url), "%s", base_url);
}
