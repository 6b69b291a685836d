/*
 * serve's configuration: defaults, then SHORTD_* environment variables, then
 * flags. Every value is checked here, so the rest of the daemon can trust
 * struct config; an error names the flag or variable it came from.
 */
#include "config.h"

#include <arpa/inet.h>
#include <getopt.h>
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

enum opt_id {
	OPT_LISTEN = 'l',
	OPT_DB = 'd',
	OPT_BASE_URL = 'b',
	OPT_DEFAULT_STATUS = 's',
	OPT_THREADS = 't',
	OPT_ACCESS_LOG = 'a',
	OPT_MAX_BODY = 'm',
	OPT_CACHE_MAX_AGE = 256,
	OPT_FLUSH_INTERVAL,
	OPT_MAX_CONNECTIONS,
	OPT_MAX_CONNECTIONS_PER_IP,
	OPT_TIMEOUT,
	OPT_LINK_CACHE,
	OPT_HEADER_TIMEOUT,
	OPT_BODY_MIN_RATE,
	OPT_TRUSTED_PROXY,
};

/* Applies one setting; name is "--flag" or "VARIABLE" for the message. */
static int apply(struct config *c, int id, const char *v, const char *name, char *err, size_t errlen)
{
	uint64_t n;

	switch (id) {
	case OPT_LISTEN:
		if (config_parse_listen(c, v) == 0)
			return 0;
		snprintf(err, errlen, "%s: expected HOST:PORT with a numeric IPv4 or [IPv6] address, got '%s'", name, v);
		return -1;
	case OPT_DB:
		if (v[0] != '\0') {
			c->db_path = v;
			return 0;
		}
		snprintf(err, errlen, "%s: must not be empty", name);
		return -1;
	case OPT_BASE_URL:
		if (config_set_base_url(c, v) == 0)
			return 0;
		snprintf(err, errlen, "%s: expected an http:// or https:// URL, got '%s'", name, v);
		return -1;
	case OPT_DEFAULT_STATUS:
		if (num_parse(v, 0, 999, &n) == 0 && link_status_is_valid((int)n)) {
			c->default_status = (int)n;
			return 0;
		}
		snprintf(err, errlen, "%s: expected 301, 302, 303, 307 or 308, got '%s'", name, v);
		return -1;
	case OPT_THREADS:
		if (num_parse(v, 1, 256, &n) == 0) {
			c->threads = (unsigned)n;
			return 0;
		}
		snprintf(err, errlen, "%s: expected a number from 1 to 256, got '%s'", name, v);
		return -1;
	case OPT_ACCESS_LOG:
		if (v[0] != '\0') {
			c->access_log = v;
			return 0;
		}
		snprintf(err, errlen, "%s: expected a file path or -", name);
		return -1;
	case OPT_MAX_BODY:
		if (num_parse(v, 0, 1ULL << 40, &n) == 0) {
			c->max_body = n;
			return 0;
		}
		snprintf(err, errlen, "%s: expected a number of bytes, got '%s'", name, v);
		return -1;
	case OPT_CACHE_MAX_AGE:
		if (num_parse(v, 0, 31536000, &n) == 0) {
			c->cache_max_age = (unsigned)n;
			return 0;
		}
		snprintf(err, errlen, "%s: expected seconds from 0 to 31536000, got '%s'", name, v);
		return -1;
	case OPT_FLUSH_INTERVAL:
		if (num_parse(v, 10, 60000, &n) == 0) {
			c->flush_ms = (unsigned)n;
			return 0;
		}
		snprintf(err, errlen, "%s: expected milliseconds from 10 to 60000, got '%s'", name, v);
		return -1;
	case OPT_MAX_CONNECTIONS:
		if (num_parse(v, 1, 1000000, &n) == 0) {
			c->max_connections = (unsigned)n;
			return 0;
		}
		snprintf(err, errlen, "%s: expected a number from 1 to 1000000, got '%s'", name, v);
		return -1;
	case OPT_MAX_CONNECTIONS_PER_IP:
		if (num_parse(v, 0, 1000000, &n) == 0) {
			c->max_connections_per_ip = (unsigned)n;
			return 0;
		}
		snprintf(err, errlen, "%s: expected a number (0 for no limit), got '%s'", name, v);
		return -1;
	case OPT_TIMEOUT:
		if (num_parse(v, 1, 86400, &n) == 0) {
			c->timeout = (unsigned)n;
			return 0;
		}
		snprintf(err, errlen, "%s: expected seconds from 1 to 86400, got '%s'", name, v);
		return -1;
	case OPT_HEADER_TIMEOUT:
		if (num_parse(v, 1, 3600, &n) == 0) {
			c->header_timeout = (unsigned)n;
			return 0;
		}
		snprintf(err, errlen, "%s: expected seconds from 1 to 3600, got '%s'", name, v);
		return -1;
	case OPT_BODY_MIN_RATE:
		if (num_parse(v, 0, 1000000000, &n) == 0) {
			c->body_min_rate = (unsigned)n;
			return 0;
		}
		snprintf(err, errlen, "%s: expected bytes per second (0 for no minimum), got '%s'", name, v);
		return -1;
	case OPT_TRUSTED_PROXY:
		if (add_trusted(c, v) == 0)
			return 0;
		snprintf(err, errlen, "%s: expected up to %d numeric ADDRESS[/BITS] ranges separated by commas, got '%s'",
			 name, CONFIG_TRUSTED_MAX, v);
		return -1;
	case OPT_LINK_CACHE:
		if (num_parse(v, 0, 4096, &n) == 0) {
			c->link_cache_mb = (unsigned)n;
			return 0;
		}
		snprintf(err, errlen, "%s: expected megabytes from 0 (off) to 4096, got '%s'", name, v);
		return -1;
	}
	snprintf(err, errlen, "%s: unknown setting", name);
	return -1;
}

static const struct option serve_options[] = {
	{"listen", required_argument, NULL, OPT_LISTEN},
	{"db", required_argument, NULL, OPT_DB},
	{"base-url", required_argument, NULL, OPT_BASE_URL},
	{"default-status", required_argument, NULL, OPT_DEFAULT_STATUS},
	{"threads", required_argument, NULL, OPT_THREADS},
	{"access-log", required_argument, NULL, OPT_ACCESS_LOG},
	{"max-body", required_argument, NULL, OPT_MAX_BODY},
	{"cache-max-age", required_argument, NULL, OPT_CACHE_MAX_AGE},
	{"flush-interval", required_argument, NULL, OPT_FLUSH_INTERVAL},
	{"max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS},
	{"max-connections-per-ip", required_argument, NULL, OPT_MAX_CONNECTIONS_PER_IP},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"link-cache", required_argument, NULL, OPT_LINK_CACHE},
	{"header-timeout", required_argument, NULL, OPT_HEADER_TIMEOUT},
	{"body-min-rate", required_argument, NULL, OPT_BODY_MIN_RATE},
	{"trusted-proxy", required_argument, NULL, OPT_TRUSTED_PROXY},
	{NULL, 0, NULL, 0},
};

static const struct {
	const char *var;
	int id;
} serve_env[] = {
	{"SHORTD_LISTEN", OPT_LISTEN},
	{"SHORTD_DB", OPT_DB},
	{"SHORTD_BASE_URL", OPT_BASE_URL},
	{"SHORTD_DEFAULT_STATUS", OPT_DEFAULT_STATUS},
	{"SHORTD_THREADS", OPT_THREADS},
	{"SHORTD_ACCESS_LOG", OPT_ACCESS_LOG},
	{"SHORTD_MAX_BODY", OPT_MAX_BODY},
	{"SHORTD_CACHE_MAX_AGE", OPT_CACHE_MAX_AGE},
	{"SHORTD_FLUSH_INTERVAL", OPT_FLUSH_INTERVAL},
	{"SHORTD_MAX_CONNECTIONS", OPT_MAX_CONNECTIONS},
	{"SHORTD_MAX_CONNECTIONS_PER_IP", OPT_MAX_CONNECTIONS_PER_IP},
	{"SHORTD_TIMEOUT", OPT_TIMEOUT},
	{"SHORTD_LINK_CACHE", OPT_LINK_CACHE},
	{"SHORTD_HEADER_TIMEOUT", OPT_HEADER_TIMEOUT},
	{"SHORTD_BODY_MIN_RATE", OPT_BODY_MIN_RATE},
	{"SHORTD_TRUSTED_PROXY", OPT_TRUSTED_PROXY},
};

int config_read_variable(struct config *c, const char *var, char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof(serve_env) / sizeof(serve_env[0]); i++) {
		if (strcmp(serve_env[i].var, var) == 0) {
			const char *v = getenv(var);
			/* An empty variable counts as unset, for serve and the CLI. */
			if (v == NULL || v[0] == '\0')
				return 0;
			return apply(c, serve_env[i].id, v, var, err, errlen);
		}
	}
	snprintf(err, errlen, "%s: not a shortd setting", var);
	return -1;
}

/* The index in serve_options of the flag with this id, or -1. */
static int option_index(int id)
{
	for (int i = 0; serve_options[i].name != NULL; i++) {
		if (serve_options[i].val == id)
			return i;
	}
	return -1;
}

int config_parse_serve(struct config *c, int argc, char **argv, char *err, size_t errlen)
{
	bool given[sizeof(serve_options) / sizeof(serve_options[0])] = {false};
	int opt, idx;
	bool trusted_by_flag = false;

	/* Flags first: a variable that a flag replaces is never read, so a bad
	 * one in the environment cannot stop a command line that overrides it. */
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", serve_options, &idx)) != -1) {
		if (opt == '?' || opt == ':') {
			const char *bad = argv[optind - 1];
			if (opt == ':')
				snprintf(err, errlen, "%s: missing value", bad);
			else
				snprintf(err, errlen, "%s: unknown flag for serve", bad);
			return -1;
		}
		char name[64];
		snprintf(name, sizeof(name), "--%s", serve_options[idx].name);
		/* --trusted-proxy adds up over its flags, and replaces the
		 * variable's list rather than adding to it. */
		if (opt == OPT_TRUSTED_PROXY && !trusted_by_flag) {
			c->trusted_proxies = 0;
			trusted_by_flag = true;
		}
		if (apply(c, opt, optarg, name, err, errlen) != 0)
			return -1;
		given[idx] = true;
	}
	if (optind < argc) {
		snprintf(err, errlen, "%s: unexpected argument for serve", argv[optind]);
		return -1;
	}
	for (size_t i = 0; i < sizeof(serve_env) / sizeof(serve_env[0]); i++) {
		int flag = option_index(serve_env[i].id);
		if ((flag < 0 || !given[flag]) && config_read_variable(c, serve_env[i].var, err, errlen) != 0)
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

void config_cli_daemon(struct config *c, const char *base_url)
{
	const char *listen = getenv("SHORTD_LISTEN");

	config_defaults(c);
	if (listen == NULL || config_parse_listen(c, listen) != 0)
		config_parse_listen(c, "127.0.0.1:8080");
	snprintf(c->base_url, sizeof(c->base_url), "%s", base_url);
}
