/*
 * The framing and smuggling checks, free of libmicrohttpd: the server feeds
 * each header field of a request to http_framing_field() and asks
 * http_framing_refusal() whether the request may go on. Testable and
 * fuzzable (tests/fuzz/fuzz_framing.c) on name/value pairs alone.
 */
#ifndef SHORTD_HTTP_FRAMING_H
#define SHORTD_HTTP_FRAMING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What one pass over a request's header fields finds: the framing to check,
 * and the first value given for each field a request needs later (a field
 * without a value is passed over; pointers to the values handed in, which
 * must outlive the struct). */
struct http_framing {
	unsigned content_length; /* fields seen, of each name */
	unsigned transfer_encoding;
	unsigned host;
	bool chunked;   /* the last Transfer-Encoding is exactly "chunked" */
	bool malformed; /* a name with a space or a tab in it, or the caller's own finding */
	const char *length_value;
	const char *te_value;
	const char *host_value;
	const char *expect;
	const char *accept;
	const char *user_agent;
	const char *referer;
};

/* The refusals' one-line texts. */
#define HTTP_FRAMING_MALFORMED "malformed or ambiguous request\n"
#define HTTP_FRAMING_NO_CODING "transfer coding not supported\n"
#define HTTP_FRAMING_NO_METHOD "method not supported\n"
#define HTTP_FRAMING_NOT_ALLOWED "method not allowed\n"

/* Empties f, for a new request. */
void http_framing_init(struct http_framing *f);

/* Notes one header field: name[0..name_len) and value, a C string (NULL for
 * a field without one). Names compare without case, as RFC 9110 5.1 says. */
void http_framing_field(struct http_framing *f, const char *name, size_t name_len, const char *value);

/* The request's first Content-Length when it is a number (digits only; one
 * past 2^64-1 reads as 2^64-1, over any limit): true and *out; false
 * otherwise. */
bool http_framing_length(const struct http_framing *f, uint64_t *out);

/*
 * Whether a request may go on to its route: 0, or the status that refuses
 * it (RFC 9112 2.2, 3.2, 5.1, 6.1, 6.3; RFC 9110 9.1) with its text in *why:
 * - 400: a malformed field, two Content-Lengths or Transfer-Encodings, both
 *   at once, a Host missing (HTTP/1.1), doubled or not a uri-host[:port];
 * - 501: a transfer coding other than chunked, a method name with a byte
 *   other than upper-case letters, '-' and '_';
 * - 405: TRACE or CONNECT to a short link (link_route).
 * http_1_0: the request's version is HTTP/1.0, which may leave Host out.
 */
int http_framing_refusal(const struct http_framing *f, bool http_1_0, const char *method, bool link_route,
                         const char **why);

#endif
