/*
 * QR codes and the admin page's files, against the real daemon:
 * - GET /api/v1/links/{code}/qr as PNG and SVG, decoded back by zbarimg
 *   (Debian's zbar-tools) to the exact short URL; size and margin set the
 *   image's dimensions; a read-only token may read it; bad parameters get
 *   400 with the parameter's error code and the usual API gates apply;
 * - `shortd qr CODE` writes the same image, and refuses bad input with exit
 *   status 2 and an unknown code with 1;
 * - GET /admin and its files carry the security headers, other methods get
 *   405 and unknown files 404.
 * The page itself is driven in chromium by tests/browser/admin.test.js.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "harness.h"

#define TOKEN "qr-admin-token-0123456789abcdefghijklmnopq"
#define JSON "Content-Type: application/json"
#define LINK "{\"url\":\"https://t.example/page\",\"code\":\"qr-link\"}"
#define CSP "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'"

static const char *const token_env[] = {"SHORTD_ADMIN_TOKEN=" TOKEN, NULL};
static const char *const admin_headers[] = {"Authorization: Bearer " TOKEN, JSON, NULL};

static struct daemon d;

static void setup(void)
{
	struct http_result r;
	char url[128];

	daemon_prepare(&d);
	ck_assert_int_eq(daemon_start(&d, NULL, token_env), 0);
	snprintf(url, sizeof(url), "%s/api/v1/links", d.base);
	ck_assert_int_eq(http_do("POST", url, LINK, strlen(LINK), admin_headers, false, &r), 0);
	ck_assert_int_eq(r.status, 201);
	http_result_free(&r);
}

static void teardown(void)
{
	ck_assert_int_eq(daemon_stop(&d), 0);
	daemon_cleanup(&d);
}

static long get(const char *path, const char *const *headers, struct http_result *r)
{
	char url[512];

	snprintf(url, sizeof(url), "%s%s", d.base, path);
	ck_assert_int_eq(http_do("GET", url, NULL, 0, headers, false, r), 0);
	return r->status;
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

/* What zbarimg reads in the image file at path, without the final newline. */
static void zbar_decode(const char *path, char *out, size_t size)
{
	char cmd[600];
	FILE *p;
	size_t n;

	snprintf(cmd, sizeof(cmd), "zbarimg --quiet --raw '%s' 2>/dev/null", path);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	n = fread(out, 1, size - 1, p);
	ck_assert_int_eq(pclose(p), 0);
	while (n > 0 && out[n - 1] == '\n')
		n--;
	out[n] = '\0';
}

START_TEST(test_qr_png_decodes_to_the_short_url)
{
	struct http_result r;
	char type[64], cache[64], path[400], text[256], expected[128];

	ck_assert_int_eq(get("/api/v1/links/qr-link/qr?format=png&size=4&margin=4", admin_headers, &r), 200);
	ck_assert_int_eq(http_header(&r, "Content-Type", type, sizeof(type)), 0);
	ck_assert_str_eq(type, "image/png");
	ck_assert_int_eq(http_header(&r, "Cache-Control", cache, sizeof(cache)), 0);
	ck_assert_str_eq(cache, "no-store");
	ck_assert_uint_gt(r.body_len, 8);
	ck_assert_int_eq(memcmp(r.body, "\x89PNG\r\n\x1a\n", 8), 0);
	snprintf(path, sizeof(path), "%s/qr.png", d.dir);
	write_file(path, r.body, r.body_len);
	http_result_free(&r);
	zbar_decode(path, text, sizeof(text));
	snprintf(expected, sizeof(expected), "%s/qr-link", d.base);
	ck_assert_str_eq(text, expected);
}
END_TEST

/* Width and height in the SVG's header are (modules + 2 margin) * size. */
static int svg_side(const char *svg)
{
	int w = -1, h = -2;
	const char *p = strstr(svg, "<svg ");

	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(sscanf(strstr(p, "width=\""), "width=\"%d\"", &w), 1);
	ck_assert_int_eq(sscanf(strstr(p, "height=\""), "height=\"%d\"", &h), 1);
	ck_assert_int_eq(w, h);
	return w;
}

START_TEST(test_qr_svg_by_default_sized_by_size_and_margin)
{
	struct http_result r;
	char type[64];
	int plain, wide, big;

	ck_assert_int_eq(get("/api/v1/links/qr-link/qr?size=1&margin=0", admin_headers, &r), 200);
	ck_assert_int_eq(http_header(&r, "Content-Type", type, sizeof(type)), 0);
	ck_assert_str_eq(type, "image/svg+xml");
	ck_assert_ptr_nonnull(strstr(r.body, "<path "));
	plain = svg_side(r.body);
	http_result_free(&r);
	/* The smallest QR code has 21 modules a side, growing by 4 a version. */
	ck_assert_int_ge(plain, 21);
	ck_assert_int_eq((plain - 21) % 4, 0);
	ck_assert_int_eq(get("/api/v1/links/qr-link/qr?format=svg&size=1&margin=16", admin_headers, &r), 200);
	wide = svg_side(r.body);
	http_result_free(&r);
	ck_assert_int_eq(wide, plain + 32);
	ck_assert_int_eq(get("/api/v1/links/qr-link/qr?format=svg&size=32&margin=0", admin_headers, &r), 200);
	big = svg_side(r.body);
	http_result_free(&r);
	ck_assert_int_eq(big, plain * 32);
}
END_TEST

START_TEST(test_qr_read_only_token_may_read)
{
	char out[256], err[256];
	const char *const args[] = {"token", "create", "--name", "viewer", "--read-only", NULL};
	char auth[300];
	struct http_result r;

	ck_assert_int_eq(shortd_run(d.db, out, sizeof(out), err, sizeof(err), args), 0);
	out[strcspn(out, "\n")] = '\0';
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", out);
	const char *const headers[] = {auth, NULL};
	ck_assert_int_eq(get("/api/v1/links/qr-link/qr?format=png", headers, &r), 200);
	http_result_free(&r);
}
END_TEST

static const struct {
	const char *query;
	long status;
	const char *code; /* the error's code */
} bad_rows[] = {
    {"/api/v1/links/qr-link/qr?format=gif", 400, "invalid_format"},
    {"/api/v1/links/qr-link/qr?format=", 400, "invalid_format"},
    {"/api/v1/links/qr-link/qr?format=SVG", 400, "invalid_format"},
    {"/api/v1/links/qr-link/qr?format=%ZZ", 400, "invalid_format"},
    {"/api/v1/links/qr-link/qr?size=0", 400, "invalid_size"},
    {"/api/v1/links/qr-link/qr?size=33", 400, "invalid_size"},
    {"/api/v1/links/qr-link/qr?size=-1", 400, "invalid_size"},
    {"/api/v1/links/qr-link/qr?size=8px", 400, "invalid_size"},
    {"/api/v1/links/qr-link/qr?size=", 400, "invalid_size"},
    {"/api/v1/links/qr-link/qr?size=99999999999999999999", 400, "invalid_size"},
    {"/api/v1/links/qr-link/qr?margin=17", 400, "invalid_margin"},
    {"/api/v1/links/qr-link/qr?margin=-1", 400, "invalid_margin"},
    {"/api/v1/links/qr-link/qr?margin=%204", 400, "invalid_margin"},
    {"/api/v1/links/no-such-link/qr", 404, "not_found"},
    {"/api/v1/links/no-such-link/qr?size=0", 400, "invalid_size"},
    {"/api/v1/links/qr-link/qr/", 404, "not_found"},
    {"/api/v1/links/qr-link/qrcode", 404, "not_found"},
};

START_TEST(test_qr_bad_parameters_are_refused)
{
	struct http_result r;
	char needle[80];

	ck_assert_int_eq(get(bad_rows[_i].query, admin_headers, &r), bad_rows[_i].status);
	snprintf(needle, sizeof(needle), "\"code\":\"%s\"", bad_rows[_i].code);
	ck_assert_msg(strstr(r.body, needle) != NULL, "%s: %s", bad_rows[_i].query, r.body);
	http_result_free(&r);
}
END_TEST

START_TEST(test_qr_gates_token_and_method)
{
	struct http_result r;
	char url[256], allow[64];

	ck_assert_int_eq(get("/api/v1/links/qr-link/qr", NULL, &r), 401);
	http_result_free(&r);
	snprintf(url, sizeof(url), "%s/api/v1/links/qr-link/qr", d.base);
	ck_assert_int_eq(http_do("POST", url, "{}", 2, admin_headers, false, &r), 0);
	ck_assert_int_eq(r.status, 405);
	ck_assert_int_eq(http_header(&r, "Allow", allow, sizeof(allow)), 0);
	ck_assert_str_eq(allow, "GET, HEAD");
	http_result_free(&r);
}
END_TEST

/* Runs `shortd qr ARGS > dir/name` through the shell; the exit status. */
static int cli_qr(const char *args, const char *name)
{
	char cmd[1200];
	int st;

	snprintf(cmd, sizeof(cmd), "SHORTD_DB='%s' '%s' qr %s >'%s/%s' 2>'%s/%s.err'", d.db, getenv("SHORTD_BIN"), args,
	         d.dir, name, d.dir, name);
	st = system(cmd);
	ck_assert(WIFEXITED(st));
	return WEXITSTATUS(st);
}

START_TEST(test_cli_qr_png_decodes_to_the_short_url)
{
	char args[256], path[400], text[256], expected[128];

	snprintf(args, sizeof(args), "qr-link --format png --base-url %s", d.base);
	ck_assert_int_eq(cli_qr(args, "cli.png"), 0);
	snprintf(path, sizeof(path), "%s/cli.png", d.dir);
	zbar_decode(path, text, sizeof(text));
	snprintf(expected, sizeof(expected), "%s/qr-link", d.base);
	ck_assert_str_eq(text, expected);
}
END_TEST

START_TEST(test_cli_qr_svg_is_the_apis)
{
	char args[256], path[400], *cli;
	struct http_result r;
	FILE *f;
	long n;

	snprintf(args, sizeof(args), "qr-link --base-url %s --size 3 --margin 2", d.base);
	ck_assert_int_eq(cli_qr(args, "cli.svg"), 0);
	snprintf(path, sizeof(path), "%s/cli.svg", d.dir);
	f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	cli = malloc((size_t)n + 1);
	ck_assert_int_eq(fread(cli, 1, (size_t)n, f), n);
	fclose(f);
	cli[n] = '\0';
	ck_assert_int_eq(get("/api/v1/links/qr-link/qr?size=3&margin=2", admin_headers, &r), 200);
	ck_assert_str_eq(cli, r.body);
	http_result_free(&r);
	free(cli);
}
END_TEST

static const struct {
	const char *args;
	int status;
	const char *message; /* in stderr */
} cli_bad_rows[] = {
    {"no-such-link", 1, "no such link"},    {"qr-link --format gif", 2, "--format"},
    {"qr-link --size 0", 2, "--size"},      {"qr-link --size 33", 2, "--size"},
    {"qr-link --margin 17", 2, "--margin"}, {"qr-link --margin x", 2, "--margin"},
    {"", 2, "expected exactly one CODE"},   {"qr-link other", 2, "expected exactly one CODE"},
    {"'bad code'", 2, "invalid code"},      {"qr-link --colour red", 2, "unknown option"},
};

START_TEST(test_cli_qr_refuses_bad_input)
{
	char path[400], err[512] = "";
	FILE *f;
	size_t n;

	ck_assert_int_eq(cli_qr(cli_bad_rows[_i].args, "bad.out"), cli_bad_rows[_i].status);
	snprintf(path, sizeof(path), "%s/bad.out.err", d.dir);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(err, 1, sizeof(err) - 1, f);
	fclose(f);
	err[n] = '\0';
	ck_assert_msg(strstr(err, cli_bad_rows[_i].message) != NULL, "%s: %s", cli_bad_rows[_i].args, err);
	snprintf(path, sizeof(path), "%s/bad.out", d.dir);
	f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fgetc(f), EOF); /* nothing on stdout */
	fclose(f);
}
END_TEST

/* ---- the admin page's files ---- */

static const struct {
	const char *path;
	long status;
	const char *type;
} page_rows[] = {
    {"/admin", 200, "text/html; charset=utf-8"},
    {"/admin/", 200, "text/html; charset=utf-8"},
    {"/admin/admin.js", 200, "text/javascript; charset=utf-8"},
    {"/admin/admin.css", 200, "text/css; charset=utf-8"},
    {"/admin/admin.html", 404, "text/html; charset=utf-8"},
    {"/admin/nope.js", 404, "text/html; charset=utf-8"},
    {"/admin/admin.js/", 404, "text/html; charset=utf-8"},
    {"/administrator", 404, "text/html; charset=utf-8"},
};

START_TEST(test_admin_page_files_and_headers)
{
	struct http_result r;
	char v[256];

	ck_assert_int_eq(get(page_rows[_i].path, NULL, &r), page_rows[_i].status);
	ck_assert_int_eq(http_header(&r, "Content-Type", v, sizeof(v)), 0);
	ck_assert_str_eq(v, page_rows[_i].type);
	ck_assert_int_eq(http_header(&r, "X-Content-Type-Options", v, sizeof(v)), 0);
	ck_assert_str_eq(v, "nosniff");
	if (page_rows[_i].status == 200) {
		ck_assert_int_eq(http_header(&r, "Content-Security-Policy", v, sizeof(v)), 0);
		ck_assert_str_eq(v, CSP);
		ck_assert_int_eq(http_header(&r, "X-Frame-Options", v, sizeof(v)), 0);
		ck_assert_str_eq(v, "DENY");
		ck_assert_int_eq(http_header(&r, "Referrer-Policy", v, sizeof(v)), 0);
		ck_assert_str_eq(v, "no-referrer");
		ck_assert_uint_gt(r.body_len, 100);
		/* No inline script: every <script carries a src. */
		for (const char *p = strstr(r.body, "<script"); p != NULL; p = strstr(p + 1, "<script"))
			ck_assert_ptr_nonnull(strstr(p, " src=\"/admin/"));
	}
	http_result_free(&r);
}
END_TEST

START_TEST(test_admin_page_other_methods_405)
{
	struct http_result r;
	char url[256], v[256];

	snprintf(url, sizeof(url), "%s/admin", d.base);
	ck_assert_int_eq(http_do("POST", url, "x=1", 3, NULL, false, &r), 0);
	ck_assert_int_eq(r.status, 405);
	ck_assert_int_eq(http_header(&r, "Allow", v, sizeof(v)), 0);
	ck_assert_str_eq(v, "GET, HEAD");
	ck_assert_int_eq(http_header(&r, "Content-Security-Policy", v, sizeof(v)), 0);
	ck_assert_str_eq(v, CSP);
	http_result_free(&r);
	ck_assert_int_eq(http_do("HEAD", url, NULL, 0, NULL, false, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(r.body_len, 0);
	ck_assert_int_eq(http_header(&r, "X-Frame-Options", v, sizeof(v)), 0);
	http_result_free(&r);
}
END_TEST

Suite *qr_suite(void)
{
	Suite *s = suite_create("qr");
	TCase *tc = tcase_create("qr");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_qr_png_decodes_to_the_short_url);
	tcase_add_test(tc, test_qr_svg_by_default_sized_by_size_and_margin);
	tcase_add_test(tc, test_qr_read_only_token_may_read);
	tcase_add_loop_test(tc, test_qr_bad_parameters_are_refused, 0, sizeof(bad_rows) / sizeof(bad_rows[0]));
	tcase_add_test(tc, test_qr_gates_token_and_method);
	tcase_add_test(tc, test_cli_qr_png_decodes_to_the_short_url);
	tcase_add_test(tc, test_cli_qr_svg_is_the_apis);
	tcase_add_loop_test(tc, test_cli_qr_refuses_bad_input, 0, sizeof(cli_bad_rows) / sizeof(cli_bad_rows[0]));
	suite_add_tcase(s, tc);

	tc = tcase_create("admin_page");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_admin_page_files_and_headers, 0, sizeof(page_rows) / sizeof(page_rows[0]));
	tcase_add_test(tc, test_admin_page_other_methods_405);
	suite_add_tcase(s, tc);
	return s;
}
