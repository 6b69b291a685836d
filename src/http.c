/*
 * Small helpers shared by the handlers for struct http_request and
 * struct http_response, and the request-target parser http_server.c routes on.
 * The invariant: the path a handler acts on is the whole decoded path of the
 * target, never a C string cut short by a NUL.
 */
#include "http.h"

#include <string.h>
#include <strings.h>

int http_hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The end of an absolute-form target's scheme and authority
 * ("http://host:8080"), or NULL when raw does not start with one: the scheme
 * must be http or https and the host present, without userinfo. */
static const char *after_authority(const char *raw, const char *end)
{
	const char *p = raw, *host;

	if ((size_t)(end - p) >= 7 && strncasecmp(p, "http://", 7) == 0)
		p += 7;
	else if ((size_t)(end - p) >= 8 && strncasecmp(p, "https://", 8) == 0)
		p += 8;
	else
		return NULL;
	host = p;
	while (p < end && *p != '/' && *p != '?') {
		if (*p == '@')
			return NULL;
		p++;
	}
	return p > host ? p : NULL;
}

enum http_method http_method_parse(const char *name)
{
	static const struct {
		const char *name;
		enum http_method m;
	} methods[] = {
	    {"GET", HTTP_GET},     {"HEAD", HTTP_HEAD},     {"POST", HTTP_POST},       {"PUT", HTTP_PUT},
	    {"PATCH", HTTP_PATCH}, {"DELETE", HTTP_DELETE}, {"OPTIONS", HTTP_OPTIONS},
	};

	/* By first letter first: a GET is compared with one name. */
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		if (name[0] == methods[i].name[0] && strcmp(name, methods[i].name) == 0)
			return methods[i].m;
	}
	return HTTP_OTHER;
}

void http_response_init(struct http_response *r)
{
	r->status = 500;
	r->fixed = HTTP_FIXED_NONE;
	r->content_type = NULL;
	r->cache_control = NULL;
	r->allow = NULL;
	r->www_authenticate = NULL;
	r->nosniff = false;
	r->headers = NULL;
	r->location = NULL;
	r->body = NULL;
	r->body_len = 0;
	r->body_copy = false;
	r->body_heap = NULL;
	r->make_body = NULL;
	r->make_body_arg = NULL;
	r->stream = NULL;
	r->close = false;
}

static bool is_target_byte(char c)
{
	return (unsigned char)c > 0x20 && c != 0x7f;
}

enum http_target_result http_target_parse(const char *raw, size_t len, char *path_buf, size_t path_size,
                                          struct http_target *out)
{
	const char *end = raw + len, *p = raw, *s;
	size_t n = 0;
	bool fits = true;

	if (len == 0 || path_size < 2)
		return HTTP_TARGET_INVALID;
	if (raw[0] != '/') {
		p = after_authority(raw, end);
		if (p == NULL)
			return HTTP_TARGET_INVALID;
		for (s = raw; s < p; s++) {
			if (!is_target_byte(*s))
				return HTTP_TARGET_INVALID;
		}
		if (p == end || *p == '?') /* "http://host" names "/" */
			path_buf[n++] = '/';
	}
	/* One pass: the path decoded, each byte checked, to the query; a path
	 * that does not fit is still checked to its end, so a NUL past the
	 * buffer refuses it too. */
	for (s = p; s < end && *s != '?'; s++) {
		char c = *s;
		if (!is_target_byte(c))
			return HTTP_TARGET_INVALID;
		if (c == '%' && end - s >= 3 && http_hex_value(s[1]) >= 0 && http_hex_value(s[2]) >= 0) {
			c = (char)(http_hex_value(s[1]) * 16 + http_hex_value(s[2]));
			s += 2;
			if (c == '\0')
				return HTTP_TARGET_INVALID;
		}
		if (n + 1 >= path_size)
			fits = false;
		else
			path_buf[n++] = c;
	}
	path_buf[n] = '\0';
	out->path = path_buf;
	out->path_len = n;
	out->query = s < end ? s + 1 : NULL;
	out->query_len = s < end ? (size_t)(end - s - 1) : 0;
	for (s = out->query; s != NULL && s < end; s++) {
		if (!is_target_byte(*s))
			return HTTP_TARGET_INVALID;
	}
	return fits ? HTTP_TARGET_OK : HTTP_TARGET_TOO_LONG;
}

void http_response_fixed(struct http_response *r, int status, enum http_fixed which)
{
	r->status = status;
	r->fixed = which;
}

void http_response_error(struct http_response *r, int status, const char *text)
{
	r->status = status;
	r->fixed = HTTP_FIXED_NONE;
	r->content_type = "text/plain; charset=utf-8";
	r->cache_control = "no-store";
	r->body = text;
	r->body_len = strlen(text);
}

void http_response_uri_too_long(struct http_response *r)
{
	http_response_error(r, 414, "URI too long\n");
}

bool http_response_is_plain_redirect(const struct http_response *r)
{
	return r->fixed == HTTP_FIXED_NONE && r->location != NULL && r->make_body != NULL && r->body_heap == NULL &&
	       r->stream == NULL && !r->close && r->allow == NULL && r->www_authenticate == NULL && !r->nosniff &&
	       r->headers == NULL && r->content_type != NULL && r->cache_control != NULL;
}
