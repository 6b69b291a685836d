/*
 * Small helpers shared by the handlers for struct http_request and
 * struct http_response.
 */
#include "http.h"

#include <string.h>
#include <strings.h>

enum http_method http_method_parse(const char *name)
{
	static const struct {
		const char *name;
		enum http_method m;
	} methods[] = {
		{"GET", HTTP_GET},     {"HEAD", HTTP_HEAD},     {"POST", HTTP_POST},
		{"PUT", HTTP_PUT},     {"PATCH", HTTP_PATCH},   {"DELETE", HTTP_DELETE},
		{"OPTIONS", HTTP_OPTIONS},
	};

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		if (strcmp(name, methods[i].name) == 0)
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
	r->body_heap = NULL;
	r->close = false;
	r->page_pending = false;
	r->location_buf[0] = '\0';
	r->body_buf[0] = '\0';
	r->cache_buf[0] = '\0';
}
