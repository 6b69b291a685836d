/*
 * The admin page's files, served from the table tools/embed_web.sh builds
 * out of web/. Every answer, errors included, carries the same security
 * headers: the policy allows script and style only from this origin (the
 * page has no inline script or style), images from here and data: URLs (the
 * QR codes the page fetches with its token), and no framing.
 */
#include "admin_page.h"

#include <string.h>

static const char *const security_headers[] = {
    "Content-Security-Policy", ADMIN_PAGE_CSP, "X-Frame-Options", "DENY", "Referrer-Policy", "no-referrer", NULL,
};

static const struct admin_asset *asset_of(const char *path)
{
	if (strcmp(path, "/admin/") == 0)
		path = "/admin";
	for (size_t i = 0; i < admin_assets_count; i++) {
		if (strcmp(admin_assets[i].path, path) == 0)
			return &admin_assets[i];
	}
	return NULL;
}

bool admin_page_handle(const struct http_request *req, struct http_response *resp)
{
	const struct admin_asset *a = asset_of(req->path);

	if (a == NULL)
		return false;
	resp->fixed = HTTP_FIXED_NONE;
	resp->nosniff = true;
	resp->headers = security_headers;
	/* Revalidated on every load, so an upgraded daemon serves its own page. */
	resp->cache_control = "no-cache";
	if (req->method != HTTP_GET && req->method != HTTP_HEAD) {
		resp->status = 405;
		resp->allow = "GET, HEAD";
		resp->content_type = "text/plain; charset=utf-8";
		resp->body = "method not allowed\n";
		resp->body_len = strlen(resp->body);
		return true;
	}
	resp->status = 200;
	resp->content_type = a->content_type;
	resp->body = (const char *)a->data;
	resp->body_len = a->len;
	return true;
}
