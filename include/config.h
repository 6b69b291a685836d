/*
 * The daemon's one configuration: serve's flags and their environment
 * variables, parsed and validated into struct config by one table in
 * config.c (flag, variable, rule and message per setting). Only config.c
 * reads the SHORTD_* variables; the CLI commands read the ones they share
 * with serve through config_read_variable(), and parse their own flags.
 */
#ifndef SHORTD_CONFIG_H
#define SHORTD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "url.h"

#define CONFIG_HOST_MAX 255
#define CONFIG_BASE_URL_MAX 1024
#define CONFIG_ADMIN_TOKEN_MIN 32 /* a fixed admin token's least length */
#define CONFIG_TRUSTED_MAX 16

/* An address range: IPv4 is kept mapped into IPv6 (::ffff:a.b.c.d), with
 * bits counted so (96 + the IPv4 prefix length). */
struct config_cidr {
	unsigned char addr[16]; /* bits past the prefix are zero */
	unsigned bits;          /* 0..128 */
};

struct config {
	char listen_host[CONFIG_HOST_MAX + 1];  /* numeric IPv4 or IPv6 address */
	unsigned listen_port;                   /* 0 picks a free port */
	const char *db_path;                    /* borrowed from argv or environ */
	char base_url[CONFIG_BASE_URL_MAX + 1]; /* without a trailing slash; "" = from listen */
	int default_status;
	unsigned threads;
	const char *access_log; /* NULL: off; "-": stdout */
	uint64_t max_body;      /* redirect request bodies drained up to this */
	unsigned cache_max_age; /* seconds, for 301/308 */
	unsigned flush_ms;      /* click flush interval */
	unsigned max_connections;
	unsigned max_connections_per_ip;
	unsigned timeout;        /* idle connection timeout, seconds */
	unsigned header_timeout; /* a request's line and headers, in all, seconds */
	unsigned body_min_rate;  /* bytes/s a body must average after header_timeout; 0: none */
	struct config_cidr trusted_proxy[CONFIG_TRUSTED_MAX]; /* exempt from the per-address limit */
	unsigned trusted_proxies;
	unsigned link_cache_mb;  /* the redirect path's link cache, all threads together; 0: off */
	const char *admin_token; /* SHORTD_ADMIN_TOKEN, borrowed; NULL when unset */
};

/* Fills c with the defaults of SPEC.md. */
void config_defaults(struct config *c);

/*
 * Reads argv and then the environment (SHORTD_*) into c: flags win, and a
 * variable whose flag was given is not read at all. argv starts after the
 * subcommand. SHORTD_ADMIN_TOKEN, when set, must have at least
 * CONFIG_ADMIN_TOKEN_MIN characters. Returns 0, or -1 with a one-line
 * message naming the flag or variable in err.
 */
int config_parse_serve(struct config *c, int argc, char **argv, char *err, size_t errlen);

/* Applies the environment variable var (one of serve's SHORTD_* settings)
 * to c by the rules of its flag, when it is set and not empty; the CLI reads
 * the variables it needs through this. Returns 0 (also when unset), or -1
 * with a one-line message naming the variable in err. */
int config_read_variable(struct config *c, const char *var, char *err, size_t errlen);

/* Sets c->base_url from v without its trailing slashes: an http(s) URL by
 * url.h's rules (host, port, no userinfo) with no query or fragment, since
 * codes are appended to it. Returns 0, or -1 leaving c unchanged. */
int config_set_base_url(struct config *c, const char *v);

/* Parses "HOST:PORT" or "[V6]:PORT" into c's listen fields; 0 or -1. */
int config_parse_listen(struct config *c, const char *value);

/* Parses one "ADDRESS[/BITS]" (numeric IPv4 or IPv6; no BITS: the one
 * address) into out. The address may have bits past the prefix set; they
 * are cleared. 0, or -1 leaving out unchanged. */
int config_parse_cidr(const char *value, struct config_cidr *out);

/* Whether the 16-byte address (IPv4 mapped into IPv6) is in range c. */
bool config_cidr_contains(const struct config_cidr *c, const unsigned char addr[16]);

/* addr as 16 bytes, IPv4 mapped into IPv6; false for other families or a
 * len too short for addr's family. */
bool config_addr_key(const struct sockaddr *addr, socklen_t len, unsigned char key[16]);

/* Whether the 16-byte address is in one of c's --trusted-proxy ranges. */
bool config_is_trusted_proxy(const struct config *c, const unsigned char key[16]);

/* Records the real port in listen_port once it is known (listen_port 0
 * picks one), and sets base_url from the listen address when none was
 * given. */
void config_finish_base_url(struct config *c, unsigned bound_port);

/* This daemon's own origins for the self-link rule (url.h): c's base URL
 * and listen address, borrowed from c. */
void config_url_self(const struct config *c, struct url_self *out);

/*
 * The daemon that a CLI command stands in for, which it cannot ask: serve's
 * defaults, its listen address from SHORTD_LISTEN (the default when unset or
 * invalid) and base_url as the command resolved it (--base-url,
 * SHORTD_BASE_URL, or from that listen address).
 */
void config_command_daemon(struct config *c, const char *base_url);

#endif
