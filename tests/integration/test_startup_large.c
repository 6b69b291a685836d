/*
 * Start-up on a database past the full-check size: serve checks a database
 * of more than 4 MiB with a probe of every table's root path instead of
 * PRAGMA quick_check (which reads the whole file: 0.7 s at a million links).
 * These tests pin that the probe lets a healthy large database serve and
 * still refuses one whose links table has a damaged root page. No timing is
 * asserted: the start-up figure lives in bench/RESULTS.md.
 */
#include <check.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define LINKS 60000 /* about 5 MiB: past the 4 MiB full check */

/* A database made by shortd (schema and migrations), then filled with LINKS
 * links "c1".."cN" to https://example.com/N, checkpointed into the file. */
static void make_large_database(struct daemon *d)
{
	char sql[512];

	fixture_make_db(d, NULL);
	snprintf(sql, sizeof(sql),
	         "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d) "
	         "INSERT INTO links (code, url, status, created_at, updated_at) "
	         "SELECT 'c' || i, 'https://example.com/' || i, 302, 1700000000, 1700000000 FROM n; "
	         "PRAGMA wal_checkpoint(TRUNCATE);",
	         LINKS);
	sqlfile_exec(d->db, sql);
	ck_assert_int_gt(sqlfile_int(d->db, "PRAGMA page_count") * sqlfile_int(d->db, "PRAGMA page_size"),
	                 4 * 1024 * 1024);
}

START_TEST(test_large_database_starts_and_redirects)
{
	struct daemon d;
	struct http_result r;
	char url[128], loc[128];
	static const char *const env[] = {"SHORTD_ADMIN_TOKEN=startup-large-token-0123456789abcdef", NULL};

	make_large_database(&d);
	ck_assert_int_eq(daemon_start(&d, NULL, env), 0);
	snprintf(url, sizeof(url), "%s/c%d", d.base, LINKS - 7);
	ck_assert_int_eq(http_do("GET", url, NULL, 0, NULL, false, &r), 0);
	ck_assert_int_eq(r.status, 302);
	ck_assert_int_eq(http_header(&r, "Location", loc, sizeof(loc)), 0);
	ck_assert_str_eq(loc, "https://example.com/59993");
	http_result_free(&r);
	ck_assert_int_eq(daemon_stop(&d), 0);
	daemon_cleanup(&d);
}
END_TEST

START_TEST(test_large_database_with_damaged_root_is_refused)
{
	struct daemon d;
	unsigned char junk[64];
	char out[256], err[1024];
	int page_size, root, fd, status;

	make_large_database(&d);
	page_size = sqlfile_int(d.db, "PRAGMA page_size");
	root = sqlfile_int(d.db, "SELECT rootpage FROM sqlite_schema WHERE name = 'links'");
	ck_assert_int_gt(root, 1);
	memset(junk, 0xA5, sizeof(junk));
	fd = open(d.db, O_WRONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, junk, sizeof(junk), (off_t)(root - 1) * page_size), (ssize_t)sizeof(junk));
	close(fd);

	status = shortd_run(d.db, out, sizeof(out), err, sizeof(err),
	                    (const char *const[]){"serve", "--listen", "127.0.0.1:0", "--db", d.db, NULL});
	ck_assert_msg(status == 1, "exit status %d, stderr: %s", status, err);
	ck_assert_msg(strstr(err, "corrupt") != NULL && strstr(err, d.db) != NULL, "stderr: %s", err);
	ck_assert_ptr_null(strstr(err, "listening on"));
	daemon_cleanup(&d);
}
END_TEST

Suite *startup_large_suite(void)
{
	Suite *s = suite_create("startup_large");
	TCase *tc = tcase_create("probe");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_large_database_starts_and_redirects);
	tcase_add_test(tc, test_large_database_with_damaged_root_is_refused);
	suite_add_tcase(s, tc);
	return s;
}
