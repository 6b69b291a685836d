/*
 * Request framing and the refusal table (include/http_framing.h).
 *
 * Request smuggling: libmicrohttpd reads a body framed by the first of two
 * Content-Lengths, and before 1.0 also one framed by both Content-Length
 * and Transfer-Encoding (it takes the chunks). A proxy in front may read
 * the same bytes otherwise, so such requests are refused here, before any
 * route sees them.
 */
#include "http_framing.h"

#include <string.h>
#include <strings.h>

#include "byte_set.h"
#include "num.h"

void http_framing_init(struct http_framing *f)
{
	memset(f, 0, sizeof(*f));
}

/* Keeps the first value of a field seen twice, as lookups by name do. */
static void keep_first(const char **slot, const char *value)
{
	if (*slot == NULL)
		*slot = value;
}

/* Names compare without case; the first byte (a letter in every name read
 * here) by hand, so that a name of the same length but another start
 * (Sec-Fetch-Mode beside Content-Length) costs no call. */
static bool is_name(const char *name, size_t name_len, const char *want)
{
	return name_len == strlen(want) && (name[0] | 0x20) == (want[0] | 0x20) &&
	       strncasecmp(name + 1, want + 1, name_len - 1) == 0;
}

void http_framing_field(struct http_framing *f, const char *name, size_t name_len, const char *value)
{
	/* By length first: most of a browser's fields (Accept-Language,
	 * Sec-Fetch-Mode, Cookie) compare with no name at all. */
	switch (name_len) {
	case 4:
		if (is_name(name, name_len, "Host")) {
			f->host++;
			keep_first(&f->host_value, value);
		}
		break;
	case 6:
		if (is_name(name, name_len, "Accept"))
			keep_first(&f->accept, value);
		else if (is_name(name, name_len, "Expect"))
			keep_first(&f->expect, value);
		break;
	case 7:
		if (is_name(name, name_len, "Referer"))
			keep_first(&f->referer, value);
		break;
	case 10:
		if (is_name(name, name_len, "User-Agent"))
			keep_first(&f->user_agent, value);
		break;
	case 14:
		if (is_name(name, name_len, "Content-Length")) {
			f->content_length++;
			keep_first(&f->length_value, value);
		}
		break;
	case 17:
		if (is_name(name, name_len, "Transfer-Encoding")) {
			f->transfer_encoding++;
			f->chunked = value != NULL && strcasecmp(value, "chunked") == 0;
			keep_first(&f->te_value, value);
		}
		break;
	default:
		break;
	}
	if (memchr(name, ' ', name_len) != NULL || memchr(name, '\t', name_len) != NULL)
		f->malformed = true;
}

bool http_framing_length(const struct http_framing *f, uint64_t *out)
{
	uint64_t n;

	if (f->length_value == NULL) /* most requests: no call */
		return false;
	switch (num_parse(f->length_value, 0, UINT64_MAX, &n)) {
	case NUM_OK:
		*out = n;
		return true;
	case NUM_TOO_LARGE: /* past 2^64-1: over any limit */
		*out = UINT64_MAX;
		return true;
	default:
		return false;
	}
}

/* The bytes of a uri-host or port: letters, digits, unreserved, sub-delims,
 * ':', the brackets of an IP literal and '%' of its escapes (RFC 3986
 * 3.2.2). Every request has a Host: one load a byte. */
static const bool host_char[256] = {
    BYTE_SET_LETTERS, BYTE_SET_DIGITS, ['-'] = true,  ['.'] = true, ['_'] = true, ['~'] = true, ['!'] = true,
    ['$'] = true,     ['&'] = true,    ['\''] = true, ['('] = true, [')'] = true, ['*'] = true, ['+'] = true,
    [','] = true,     [';'] = true,    ['='] = true,  [':'] = true, ['['] = true, [']'] = true, ['%'] = true,
};

/* A Host value is a uri-host and an optional port (RFC 9112 3.2, RFC 3986
 * 3.2.2), maybe empty; trailing whitespace is not part of it. Every request
 * has one: a byte at a time, not strspn(), which builds its table of 83
 * bytes on each call, nor strchr() for each dot of an address. */
static bool is_host_value(const char *v)
{
	while (host_char[(unsigned char)*v])
		v++;
	while (*v == ' ' || *v == '\t')
		v++;
	return *v == '\0';
}

/* Methods are case-sensitive (RFC 9110 9.1) and every registered one is
 * spelled in upper case: a name with another byte is no method shortd
 * implements. */
static bool is_method_name(const char *m)
{
	for (; *m != '\0'; m++) {
		if (!((*m >= 'A' && *m <= 'Z') || *m == '-' || *m == '_'))
			return false;
	}
	return true;
}

int http_framing_refusal(const struct http_framing *f, bool http_1_0, const char *method, bool link_route,
                         const char **why)
{
	*why = NULL;
	if (f->malformed || f->content_length > 1 || f->transfer_encoding > 1 ||
	    (f->content_length > 0 && f->transfer_encoding > 0))
		*why = HTTP_FRAMING_MALFORMED;
	/* RFC 9112 3.2: exactly one valid Host, which HTTP/1.0 may leave out. */
	else if (f->host > 1 || (f->host == 0 && !http_1_0) || (f->host_value != NULL && !is_host_value(f->host_value)))
		*why = HTTP_FRAMING_MALFORMED;
	if (*why != NULL)
		return 400;
	if (f->transfer_encoding == 1 && !f->chunked) {
		*why = HTTP_FRAMING_NO_CODING;
		return 501;
	}
	if (!is_method_name(method)) {
		*why = HTTP_FRAMING_NO_METHOD;
		return 501;
	}
	/* A short link answers any method but TRACE (it would echo the
	 * request, cookies included) and CONNECT (a tunnel, not a resource). */
	if (link_route && ((method[0] == 'T' && strcmp(method, "TRACE") == 0) ||
	                   (method[0] == 'C' && strcmp(method, "CONNECT") == 0))) {
		*why = HTTP_FRAMING_NOT_ALLOWED;
		return 405;
	}
	return 0;
}
