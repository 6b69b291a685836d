/*
 * Target URL rules (SPEC.md "URL rules") and query merging. A valid target
 * is an absolute http or https URL with a host, at most LINK_URL_MAX bytes,
 * with no whitespace or control character, that does not point back at this
 * daemon: hosts are compared as the address they name (host_identify), so
 * "localhost", "127.1" and "[::1]" are one host. Normalising lower-cases
 * scheme and host and percent-encodes bytes a URI may not carry, so what is
 * stored can go into a Location header as is.
 */
#include "url.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "link.h"
#include "num.h"

struct url_parts {
	const char *scheme;
	size_t scheme_len;
	const char *host;
	size_t host_len;
	const char *port; /* digits, or NULL */
	size_t port_len;
	const char *rest; /* path, query and fragment */
};

/* "http://[" + a listen address (config.h's CONFIG_HOST_MAX) + "]:65535" */
#define LISTEN_ORIGIN_MAX 300

static const char hex[] = "0123456789ABCDEF";

/* Characters that may stand in a URI outside the authority as they are. */
static bool is_uri_char(unsigned char c)
{
	if (c <= 0x20 || c >= 0x7f)
		return false;
	return strchr("\"<>\\^`{|}", c) == NULL;
}

static bool is_host_char(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static enum url_error check_host(const char *h, size_t n)
{
	if (n == 0)
		return URL_NO_HOST;
	if (h[0] == '[') {
		char addr[INET6_ADDRSTRLEN];
		unsigned char bin[16];
		if (n < 4 || h[n - 1] != ']' || n - 2 >= sizeof(addr))
			return URL_BAD_HOST;
		memcpy(addr, h + 1, n - 2);
		addr[n - 2] = '\0';
		return inet_pton(AF_INET6, addr, bin) == 1 ? URL_OK : URL_BAD_HOST;
	}
	if (h[0] == '.')
		return URL_BAD_HOST;
	for (size_t i = 0; i < n; i++) {
		if (!is_host_char((unsigned char)h[i]))
			return URL_BAD_HOST;
		if (h[i] == '.' && i + 1 < n && h[i + 1] == '.')
			return URL_BAD_HOST;
	}
	return URL_OK;
}

static enum url_error split(const char *url, struct url_parts *p)
{
	const char *colon = strchr(url, ':');
	const char *auth, *end, *port = NULL;

	if (colon == NULL)
		return URL_BAD_SCHEME;
	p->scheme = url;
	p->scheme_len = (size_t)(colon - url);
	if (!((p->scheme_len == 4 && strncasecmp(url, "http", 4) == 0) ||
	      (p->scheme_len == 5 && strncasecmp(url, "https", 5) == 0)))
		return URL_BAD_SCHEME;
	if (strncmp(colon, "://", 3) != 0)
		return URL_NO_HOST;
	auth = colon + 3;
	end = auth + strcspn(auth, "/?#");
	if (memchr(auth, '@', (size_t)(end - auth)) != NULL)
		return URL_USERINFO;
	if (auth < end && auth[0] == '[') {
		const char *rb = memchr(auth, ']', (size_t)(end - auth));
		if (rb == NULL)
			return URL_BAD_HOST;
		if (rb + 1 < end) {
			if (rb[1] != ':')
				return URL_BAD_HOST;
			port = rb + 2;
		}
		p->host = auth;
		p->host_len = (size_t)(rb + 1 - auth);
	} else {
		const char *pc = memchr(auth, ':', (size_t)(end - auth));
		p->host = auth;
		p->host_len = (size_t)((pc != NULL ? pc : end) - auth);
		if (pc != NULL)
			port = pc + 1;
	}
	p->port = port;
	p->port_len = port != NULL ? (size_t)(end - port) : 0;
	p->rest = end;

	enum url_error e = check_host(p->host, p->host_len);
	if (e != URL_OK)
		return e;
	if (port != NULL) {
		uint64_t v;
		if (p->port_len > 5 || num_parse_span(port, p->port_len, 1, 65535, &v) != NUM_OK)
			return URL_BAD_PORT;
	}
	return URL_OK;
}

/* The port of a URL that split() accepted. */
static unsigned long effective_port(const struct url_parts *p)
{
	uint64_t v = 0;

	if (p->port == NULL)
		return p->scheme_len == 5 ? 443 : 80;
	(void)num_parse_span(p->port, p->port_len, 1, 65535, &v); /* checked when split */
	return (unsigned long)v;
}

/* What a host names, so that two spellings of one address compare equal. */
struct host_id {
	enum { HOST_NAME, HOST_THIS_MACHINE, HOST_V4, HOST_V6 } kind;
	uint32_t v4;
	unsigned char v6[16];
	const char *name; /* HOST_NAME: compared without case */
	size_t name_len;
};

/*
 * One label of a numeric IPv4 host as browsers and curl read it (WHATWG
 * URL's "IPv4 number"): 0x... hexadecimal, 0... octal, else decimal. Returns
 * false when the label is not a number; values past 2^32 are kept as 2^32.
 */
static bool ipv4_number(const char *s, size_t n, uint64_t *out)
{
	unsigned base = 10;
	uint64_t v = 0;

	if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		n -= 2;
	} else if (n >= 2 && s[0] == '0') {
		base = 8;
		s++;
		n--;
	} else if (n == 0) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned d;
		if (isdigit((unsigned char)s[i]))
			d = (unsigned)(s[i] - '0');
		else if (base == 16 && isxdigit((unsigned char)s[i]))
			d = (unsigned)(tolower((unsigned char)s[i]) - 'a' + 10);
		else
			return false;
		if (d >= base)
			return false;
		v = v * base + d;
		if (v > UINT32_MAX)
			v = (uint64_t)UINT32_MAX + 1;
	}
	*out = v;
	return true;
}

/*
 * A host of one to four numeric labels is an IPv4 address, as a client
 * resolves it: "127.1", "2130706433" and "0x7f.1" are all 127.0.0.1 (the
 * last label fills the bytes the others leave). False for anything else.
 */
static bool parse_ipv4(const char *h, size_t n, uint32_t *out)
{
	uint64_t part[4];
	size_t count = 0, start = 0;
	uint64_t v;

	for (size_t i = 0; i <= n; i++) {
		if (i < n && h[i] != '.')
			continue;
		if (count == 4 || !ipv4_number(h + start, i - start, &part[count]))
			return false;
		count++;
		start = i + 1;
	}
	for (size_t i = 0; i + 1 < count; i++) {
		if (part[i] > 255)
			return false;
	}
	if (part[count - 1] >= (uint64_t)1 << (8 * (5 - count)))
		return false;
	v = part[count - 1];
	for (size_t i = 0; i + 1 < count; i++)
		v |= part[i] << (8 * (3 - i));
	*out = (uint32_t)v;
	return true;
}

/* 127.0.0.0/8, and 0.0.0.0, which a connect() on Linux takes as this host. */
static bool ipv4_is_this_machine(uint32_t a)
{
	return (a >> 24) == 127 || a == 0;
}

/* Classifies a host as url_parts holds it (an IPv6 address in brackets). */
static void host_identify(const char *h, size_t n, struct host_id *id)
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const unsigned char any[16], loopback[16] = {[15] = 1};

	if (n > 1 && h[n - 1] == '.')
		n--; /* "s.example." is "s.example" */
	memset(id, 0, sizeof(*id));
	id->kind = HOST_NAME;
	id->name = h;
	id->name_len = n;
	if (n > 2 && h[0] == '[') {
		char addr[INET6_ADDRSTRLEN];
		if (n - 2 >= sizeof(addr))
			return;
		memcpy(addr, h + 1, n - 2);
		addr[n - 2] = '\0';
		if (inet_pton(AF_INET6, addr, id->v6) != 1)
			return;
		id->kind = HOST_V6;
		if (memcmp(id->v6, mapped, sizeof(mapped)) == 0) {
			id->kind = HOST_V4;
			id->v4 = (uint32_t)id->v6[12] << 24 | (uint32_t)id->v6[13] << 16 | (uint32_t)id->v6[14] << 8 |
			         id->v6[15];
		}
	} else if (parse_ipv4(h, n, &id->v4)) {
		id->kind = HOST_V4;
	} else if ((n == 9 && strncasecmp(h, "localhost", 9) == 0) ||
	           (n > 10 && strncasecmp(h + n - 10, ".localhost", 10) == 0)) {
		id->kind = HOST_THIS_MACHINE; /* RFC 6761 6.3 */
	}
	if ((id->kind == HOST_V4 && ipv4_is_this_machine(id->v4)) ||
	    (id->kind == HOST_V6 && (memcmp(id->v6, loopback, 16) == 0 || memcmp(id->v6, any, 16) == 0)))
		id->kind = HOST_THIS_MACHINE;
}

static bool same_host(const struct host_id *a, const struct host_id *b)
{
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case HOST_NAME:
		return a->name_len == b->name_len && strncasecmp(a->name, b->name, a->name_len) == 0;
	case HOST_V4:
		return a->v4 == b->v4;
	case HOST_V6:
		return memcmp(a->v6, b->v6, 16) == 0;
	case HOST_THIS_MACHINE:
		return true;
	}
	return false;
}

static bool same_origin(const struct url_parts *a, const struct url_parts *b)
{
	struct host_id ha, hb;

	if (a->scheme_len != b->scheme_len || strncasecmp(a->scheme, b->scheme, a->scheme_len) != 0 ||
	    effective_port(a) != effective_port(b))
		return false;
	host_identify(a->host, a->host_len, &ha);
	host_identify(b->host, b->host_len, &hb);
	return same_host(&ha, &hb);
}

/* True when u is one of this daemon's own origins (see url.h). */
static bool is_self(const struct url_parts *u, const struct url_self *self)
{
	struct url_parts b;

	if (self == NULL)
		return false;
	if (self->base_url != NULL && self->base_url[0] != '\0' && split(self->base_url, &b) == URL_OK &&
	    same_origin(u, &b))
		return true;
	if (self->listen_host != NULL && self->listen_host[0] != '\0' && self->listen_port != 0) {
		char origin[LISTEN_ORIGIN_MAX];
		bool v6 = strchr(self->listen_host, ':') != NULL;
		int len = snprintf(origin, sizeof(origin), "http://%s%s%s:%u", v6 ? "[" : "", self->listen_host,
		                   v6 ? "]" : "", self->listen_port);
		if (len > 0 && (size_t)len < sizeof(origin) && split(origin, &b) == URL_OK && same_origin(u, &b))
			return true;
	}
	return false;
}

enum url_error url_normalize(const char *url, const struct url_self *self, char *out, size_t outsize)
{
	struct url_parts p;
	size_t len, n = 0;
	enum url_error e;

	if (url == NULL || url[0] == '\0')
		return URL_EMPTY;
	len = strlen(url);
	if (len > LINK_URL_MAX)
		return URL_TOO_LONG;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)url[i];
		if (c <= 0x20 || c == 0x7f)
			return URL_BAD_CHAR;
	}
	e = split(url, &p);
	if (e != URL_OK)
		return e;
	if (is_self(&p, self))
		return URL_SELF;

	/* scheme://host[:port] in lower case, then the rest with bytes encoded. */
	if (p.scheme_len + 3 + p.host_len + (p.port != NULL ? 1 + p.port_len : 0) + 1 > outsize)
		return URL_TOO_LONG;
	for (size_t i = 0; i < p.scheme_len; i++)
		out[n++] = (char)tolower((unsigned char)p.scheme[i]);
	memcpy(out + n, "://", 3);
	n += 3;
	for (size_t i = 0; i < p.host_len; i++)
		out[n++] = (char)tolower((unsigned char)p.host[i]);
	if (p.port != NULL) {
		out[n++] = ':';
		memcpy(out + n, p.port, p.port_len);
		n += p.port_len;
	}
	for (const char *s = p.rest; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		size_t need = is_uri_char(c) ? 1 : 3;
		if (n + need > LINK_URL_MAX || n + need + 1 > outsize)
			return URL_TOO_LONG;
		if (need == 1) {
			out[n++] = (char)c;
		} else {
			out[n++] = '%';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	if (n > LINK_URL_MAX)
		return URL_TOO_LONG;
	out[n] = '\0';
	return URL_OK;
}

const char *url_error_message(enum url_error e)
{
	switch (e) {
	case URL_OK:
		return "valid URL";
	case URL_EMPTY:
		return "url must not be empty";
	case URL_TOO_LONG:
		return "url must be at most 8192 bytes";
	case URL_BAD_CHAR:
		return "url must not contain whitespace or control characters";
	case URL_BAD_SCHEME:
		return "url must be an absolute http or https URL";
	case URL_NO_HOST:
		return "url must have a host";
	case URL_BAD_HOST:
		return "url has an invalid host (non-ASCII hosts must be given in punycode)";
	case URL_BAD_PORT:
		return "url has an invalid port";
	case URL_USERINFO:
		return "url must not contain a user name or password";
	case URL_SELF:
		return "url must not point at this shortener";
	}
	return "invalid url";
}

int url_merge_query(const char *target, const char *query, char *out, size_t outsize)
{
	const char *frag = strchr(target, '#');
	size_t base_len = frag != NULL ? (size_t)(frag - target) : strlen(target);
	size_t n = base_len;

	if (base_len + 1 > outsize)
		return -1;
	memcpy(out, target, base_len);
	if (query != NULL && query[0] != '\0') {
		const char *q = memchr(target, '?', base_len);
		char sep = '?';
		if (q != NULL)
			sep = (out[n - 1] == '?' || out[n - 1] == '&') ? '\0' : '&';
		if (sep != '\0') {
			if (n + 2 > outsize)
				return -1;
			out[n++] = sep;
		}
		for (const char *s = query; *s != '\0'; s++) {
			unsigned char c = (unsigned char)*s;
			bool plain = is_uri_char(c) && c != '#';
			if (n + (plain ? 1 : 3) + 1 > outsize)
				return -1;
			if (plain) {
				out[n++] = (char)c;
			} else {
				out[n++] = '%';
				out[n++] = hex[c >> 4];
				out[n++] = hex[c & 15];
			}
		}
	}
	if (frag != NULL) {
		size_t fl = strlen(frag);
		if (n + fl + 1 > outsize)
			return -1;
		memcpy(out + n, frag, fl);
		n += fl;
	}
	out[n] = '\0';
	return 0;
}

static bool is_scheme_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' || c == '-' ||
	       c == '.';
}

/* Every click with a Referer comes here: one pass to the end of the
 * authority, not strstr() for "://" through a long Referer and strcspn()
 * after it, and ASCII case by hand (the daemon never sets a locale). */
int url_host(const char *url, char *out, size_t outsize)
{
	const char *s, *end, *h, *he;

	if (url == NULL)
		return -1;
	for (s = url; is_scheme_char(*s); s++)
		;
	if (s[0] != ':' || s[1] != '/' || s[2] != '/')
		return -1;
	s += 3;
	h = s;
	for (end = s; *end != '\0' && *end != '/' && *end != '?' && *end != '#'; end++) {
		if (*end == '@')
			h = end + 1;
	}
	if (h < end && *h == '[') {
		he = memchr(h, ']', (size_t)(end - h));
		if (he == NULL)
			return -1;
		he++;
	} else {
		he = memchr(h, ':', (size_t)(end - h));
		if (he == NULL)
			he = end;
	}
	if (he == h || (size_t)(he - h) + 1 > outsize)
		return -1;
	for (size_t i = 0; h + i < he; i++) {
		char c = h[i];
		if ((unsigned char)c <= 0x20 || (unsigned char)c >= 0x7f)
			return -1;
		out[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	out[he - h] = '\0';
	return 0;
}
