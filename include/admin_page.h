/*
 * GET /admin: the admin page, its HTML, CSS and JavaScript embedded in the
 * binary at build time (web/, by tools/embed_web.sh). The page speaks only
 * the public JSON API with the token the user signs in with, so it can do
 * nothing that the API cannot; this module only hands out the files, with
 * headers that keep the page from being framed, sniffed or fed with script
 * from anywhere else.
 */
#ifndef SHORTD_ADMIN_PAGE_H
#define SHORTD_ADMIN_PAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "http.h"

/* One embedded file, as tools/embed_web.sh writes the table. */
struct admin_asset {
	const char *path; /* "/admin" for the page, "/admin/NAME" for the rest */
	const char *content_type;
	const unsigned char *data;
	size_t len;
};

extern const struct admin_asset admin_assets[];
extern const size_t admin_assets_count;

/* The Content-Security-Policy every answer of the page carries. */
#define ADMIN_PAGE_CSP                                                                                                 \
	"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'"

/*
 * Answers a request for req->path when it is the page ("/admin" or
 * "/admin/") or one of its files: 200 for GET and HEAD, 405 with Allow for
 * any other method, each with the security headers above. Returns false,
 * leaving resp untouched, for any other path (the caller answers 404).
 * The body is static; nothing is allocated.
 */
bool admin_page_handle(const struct http_request *req, struct http_response *resp);

#endif
