/*
 * Target URLs: validation with normalisation, and merging a request's query
 * string into a target (forward_query). Pure functions on caller buffers:
 * no allocation, so the redirect path can call them.
 */
#ifndef SHORTD_URL_H
#define SHORTD_URL_H

#include <stddef.h>

enum url_error {
	URL_OK = 0,
	URL_EMPTY = -1,
	URL_TOO_LONG = -2,
	URL_BAD_CHAR = -3,   /* whitespace or a control character */
	URL_BAD_SCHEME = -4, /* not http or https */
	URL_NO_HOST = -5,
	URL_BAD_HOST = -6,
	URL_BAD_PORT = -7,
	URL_USERINFO = -8, /* user:password@ is refused: it disguises the host */
	URL_SELF = -9,     /* points at this daemon's own base URL */
};

/*
 * This daemon's own origins, for refusing a link to itself (a redirect
 * loop): its base URL, and http:// on the address it listens on. Either may
 * be absent (NULL, "" or port 0). The strings are borrowed.
 */
struct url_self {
	const char *base_url;
	const char *listen_host; /* numeric IPv4 or IPv6, as config.h's listen_host */
	unsigned listen_port;
};

/*
 * Validates url and writes its normal form to out (outsize >= strlen(url)*3+1
 * is always enough): scheme and host in lower case, bytes outside ASCII
 * percent-encoded. A target with the scheme, port and host of one of self's
 * origins is URL_SELF (self may be NULL). Hosts compare as what they name:
 * names without case or a trailing dot; IPv4 in any numeric spelling a
 * client accepts (127.1, 2130706433, 0x7f.1, ::ffff:127.0.0.1); and
 * localhost, *.localhost, 127.0.0.0/8, 0.0.0.0, ::1 and :: as one host, this
 * machine. The normal form is at most LINK_URL_MAX bytes or URL_TOO_LONG.
 */
enum url_error url_normalize(const char *url, const struct url_self *self, char *out, size_t outsize);

/* A human sentence for the error, never NULL. */
const char *url_error_message(enum url_error e);

/*
 * Writes target with query appended to its query string (before any
 * fragment) into out. Bytes of query that may not stand in a URI are
 * percent-encoded, so the result never carries CR, LF or a space. An empty
 * or NULL query leaves target as it is. Returns 0, or -1 when out is too small.
 */
int url_merge_query(const char *target, const char *query, char *out, size_t outsize);

/* Copies the lower-cased host of an absolute http(s) URL into out; returns 0,
 * or -1 when there is none or it does not fit. For referrer counting. */
int url_host(const char *url, char *out, size_t outsize);

#endif
