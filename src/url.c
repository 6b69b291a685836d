/*
 * Target URL rules (SPEC.md "URL rules") and query merging. A valid target
 * is an absolute http or https URL with a host, at most LINK_URL_MAX bytes,
 * with no whitespace or control character, that does not point back at this
 * daemon. Normalising lower-cases scheme and host and percent-encodes bytes a
 * URI may not carry, so what is stored can go into a Location header as is.
 */
#include "url.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "link.h"

struct url_parts {
	const char *scheme;
	size_t scheme_len;
	const char *host;
	size_t host_len;
	const char *port; /* digits, or NULL */
	size_t port_len;
	const char *rest; /* path, query and fragment */
};

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
		unsigned long v = 0;
		if (p->port_len == 0 || p->port_len > 5)
			return URL_BAD_PORT;
		for (size_t i = 0; i < p->port_len; i++) {
			if (!isdigit((unsigned char)port[i]))
				return URL_BAD_PORT;
			v = v * 10 + (unsigned long)(port[i] - '0');
		}
		if (v == 0 || v > 65535)
			return URL_BAD_PORT;
	}
	return URL_OK;
}

static unsigned long effective_port(const struct url_parts *p)
{
	unsigned long v = 0;

	if (p->port == NULL)
		return p->scheme_len == 5 ? 443 : 80;
	for (size_t i = 0; i < p->port_len; i++)
		v = v * 10 + (unsigned long)(p->port[i] - '0');
	return v;
}

/* A host's length without the one trailing dot a fully qualified name may
 * carry ("s.example." is "s.example"). */
static size_t host_len_undotted(const struct url_parts *p)
{
	return p->host_len > 1 && p->host[p->host_len - 1] == '.' ? p->host_len - 1 : p->host_len;
}

static bool same_origin(const struct url_parts *a, const struct url_parts *b)
{
	size_t alen = host_len_undotted(a), blen = host_len_undotted(b);

	return a->scheme_len == b->scheme_len && strncasecmp(a->scheme, b->scheme, a->scheme_len) == 0 &&
	       alen == blen && strncasecmp(a->host, b->host, alen) == 0 && effective_port(a) == effective_port(b);
}

enum url_error url_normalize(const char *url, const char *base_url, char *out, size_t outsize)
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
	if (base_url != NULL && base_url[0] != '\0') {
		struct url_parts b;
		if (split(base_url, &b) == URL_OK && same_origin(&p, &b))
			return URL_SELF;
	}

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

int url_host(const char *url, char *out, size_t outsize)
{
	const char *s, *end, *at, *h, *he;

	if (url == NULL || (s = strstr(url, "://")) == NULL)
		return -1;
	for (const char *c = url; c < s; c++) {
		if (!isalnum((unsigned char)*c) && *c != '+' && *c != '-' && *c != '.')
			return -1;
	}
	s += 3;
	end = s + strcspn(s, "/?#");
	h = s;
	for (at = s; at < end; at++) {
		if (*at == '@')
			h = at + 1;
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
		unsigned char c = (unsigned char)h[i];
		if (c <= 0x20 || c >= 0x7f)
			return -1;
		out[i] = (char)tolower(c);
	}
	out[he - h] = '\0';
	return 0;
}
