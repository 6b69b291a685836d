/*
 * Storage faults against the real daemon: a full disk, a read-only file, a
 * corrupt file, a database from a newer shortd, and a write lock held by
 * another process.
 *
 * The full disk is real: the database lives on a 2 MiB tmpfs mounted in a
 * mount namespace private to the test (unshare(CLONE_NEWNS), inherited by
 * the daemon it starts, gone when they exit), filled with a file until
 * ENOSPC. PRAGMA max_page_count would not do: it holds per connection, and
 * the daemon opens its own. That needs CAP_SYS_ADMIN (CI runs as root);
 * without it the test fails and says so. The read-only file is mode 0444,
 * and as root serve runs as nobody for it, since root ignores file modes.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <sched.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define TOKEN "faults-admin-token-0123456789abcdefghijklmnop"
#define TARGET "https://t.example/p"

static const char *const token_env[] = {"SHORTD_ADMIN_TOKEN=" TOKEN, NULL};

/* ---- helpers ---- */

static void private_mounts(void)
{
	ck_assert_msg(unshare(CLONE_NEWNS) == 0,
	              "unshare(CLONE_NEWNS): %s (the storage fault tests need root for a private tmpfs)",
	              strerror(errno));
	ck_assert_int_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
}

/* POST /api/v1/links {"url": TARGET, "code": code}; the status, with the
 * error code (or "") copied into err_code. */
static long post_link(const struct daemon *d, const char *code, char *err_code, size_t err_size)
{
	static const char *const headers[] = {"Authorization: Bearer " TOKEN, "Content-Type: application/json", NULL};
	char url[128], body[256], ctype[128];
	struct http_result r;
	json_t *j;
	long status;

	snprintf(url, sizeof(url), "%s/api/v1/links", d->base);
	snprintf(body, sizeof(body), "{\"url\":\"" TARGET "\",\"code\":\"%s\"}", code);
	ck_assert_int_eq(http_do("POST", url, body, strlen(body), headers, false, &r), 0);
	status = r.status;
	ck_assert_int_eq(http_header(&r, "Content-Type", ctype, sizeof(ctype)), 0);
	ck_assert_str_eq(ctype, "application/json");
	j = json_loadb(r.body, r.body_len, 0, NULL);
	ck_assert_msg(j != NULL, "not JSON: %s", r.body);
	ck_assert_msg(strstr(r.body, "SQLITE") == NULL && strstr(r.body, "sqlite") == NULL &&
	                  strstr(r.body, "locked") == NULL && strstr(r.body, "disk I/O") == NULL,
	              "a raw SQLite message reached the client: %s", r.body);
	snprintf(err_code, err_size, "%s",
	         status == 201 ? "" : json_string_value(json_object_get(json_object_get(j, "error"), "code")));
	if (status == 201)
		ck_assert_str_eq(json_string_value(json_object_get(j, "code")), code);
	else
		ck_assert(json_is_string(json_object_get(json_object_get(j, "error"), "message")));
	json_decref(j);
	http_result_free(&r);
	return status;
}

static long get_status(const struct daemon *d, const char *path, char *loc, size_t locsize)
{
	char url[128];
	struct http_result r;
	long status;

	snprintf(url, sizeof(url), "%s%s", d->base, path);
	ck_assert_int_eq(http_do("GET", url, NULL, 0, NULL, false, &r), 0);
	status = r.status;
	if (loc != NULL && http_header(&r, "Location", loc, locsize) != 0)
		loc[0] = '\0';
	http_result_free(&r);
	return status;
}

static void assert_serving(const struct daemon *d, const char *code)
{
	char path[96], loc[256];

	snprintf(path, sizeof(path), "/%s", code);
	ck_assert_int_eq(get_status(d, path, loc, sizeof(loc)), 302);
	ck_assert_str_eq(loc, TARGET);
	ck_assert_int_eq(get_status(d, "/healthz", NULL, 0), 200);
}

/* Fills the filesystem of path with a file until ENOSPC. */
static void fill_disk(const char *path)
{
	static char block[65536];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t size = sizeof(block);
	ssize_t n;

	ck_assert_int_ge(fd, 0);
	memset(block, 'f', sizeof(block));
	while (size > 0) {
		n = write(fd, block, size);
		if (n < 0) {
			ck_assert_int_eq(errno, ENOSPC);
			size /= 2;
		}
	}
	close(fd);
}

/* Runs `shortd serve` on db and expects it to refuse to start: exit status
 * 1 and one line on stderr that names the file and holds want. */
static void assert_serve_refuses(const char *db, const char *want)
{
	char out[256], err[1024];
	int status = shortd_run(db, out, sizeof(out), err, sizeof(err),
	                        (const char *const[]){"serve", "--listen", "127.0.0.1:0", "--db", db, NULL});
	char *nl = strchr(err, '\n');

	ck_assert_msg(status == 1, "exit status %d, stderr: %s", status, err);
	ck_assert_msg(nl != NULL && nl[1] == '\0', "not one line: %s", err);
	ck_assert_msg(strncmp(err, "shortd: ", 8) == 0 && strstr(err, db) != NULL && strstr(err, want) != NULL,
	              "stderr: %s (want '%s')", err, want);
	ck_assert_ptr_null(strstr(err, "listening on"));
}

/* A database made by the daemon itself, with links a, b and c. */
static void make_database(struct daemon *d)
{
	char code[2] = "a", ec[64];

	daemon_prepare(d);
	ck_assert_int_eq(daemon_start(d, NULL, token_env), 0);
	for (; code[0] <= 'c'; code[0]++)
		ck_assert_int_eq(post_link(d, code, ec, sizeof(ec)), 201);
	ck_assert_int_eq(daemon_stop(d), 0);
}

/* ---- full disk ---- */

START_TEST(test_full_disk_refuses_creation_and_keeps_serving)
{
	struct daemon d;
	char filler[320], out[512], err[512], ec[64];

	private_mounts();
	daemon_prepare(&d);
	ck_assert_int_eq(mount("tmpfs", d.dir, "tmpfs", MS_NOSUID | MS_NODEV, "size=2m,mode=0700"), 0);
	ck_assert_int_eq(daemon_start(&d, (const char *const[]){"--flush-interval", "50", NULL}, token_env), 0);
	ck_assert_int_eq(post_link(&d, "before", ec, sizeof(ec)), 201);

	snprintf(filler, sizeof(filler), "%s/filler", d.dir);
	fill_disk(filler);
	for (int i = 0; i < 3; i++) {
		char code[16];
		snprintf(code, sizeof(code), "full%d", i);
		ck_assert_int_eq(post_link(&d, code, ec, sizeof(ec)), 503);
		ck_assert_str_eq(ec, "storage_full");
	}
	/* The CLI says so too, with exit status 1. */
	ck_assert_int_eq(shortd_run(d.db, out, sizeof(out), err, sizeof(err),
	                            (const char *const[]){"add", TARGET, "--code", "clifull", NULL}),
	                 1);
	ck_assert_msg(strstr(err, "shortd: the database is full") != NULL, "stderr: %s", err);
	/* Redirects (and their clicks, kept in memory) and /healthz go on. */
	for (int i = 0; i < 20; i++)
		assert_serving(&d, "before");

	ck_assert_int_eq(unlink(filler), 0);
	ck_assert_int_eq(post_link(&d, "after", ec, sizeof(ec)), 201);
	assert_serving(&d, "after");
	ck_assert_int_eq(get_status(&d, "/full0", NULL, 0), 404);
	ck_assert_int_eq(daemon_stop(&d), 0);
	ck_assert_int_eq(sqlfile_int(d.db, "SELECT count(*) FROM links"), 2);
	ck_assert_int_eq(sqlfile_int(d.db, "SELECT clicks FROM links WHERE code = 'before'"), 20);
	ck_assert_int_eq(umount2(d.dir, MNT_DETACH), 0);
	daemon_cleanup(&d);
}
END_TEST

/* ---- files that cannot be served ---- */

/* Copies the shortd binary into dir, so an unprivileged user can run it
 * wherever the build tree lives (/root is not open to others). */
static void copy_binary(const char *dir, char *out, size_t outsize)
{
	const char *src = getenv("SHORTD_BIN");
	char buf[65536];
	int in, dst;
	ssize_t n;

	snprintf(out, outsize, "%s/shortd", dir);
	in = open(src != NULL && src[0] != '\0' ? src : "build/shortd", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(in, 0);
	dst = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	ck_assert_int_ge(dst, 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		ck_assert_int_eq(write(dst, buf, (size_t)n), n);
	ck_assert_int_eq(n, 0);
	close(in);
	ck_assert_int_eq(close(dst), 0);
}

START_TEST(test_read_only_database_is_refused_at_start)
{
	struct daemon d;
	bool root = geteuid() == 0;
	char bin[320];

	make_database(&d);
	ck_assert_int_eq(chmod(d.db, 0444), 0);
	/* Root ignores file modes: serve runs as nobody for this check. */
	if (root) {
		copy_binary(d.dir, bin, sizeof(bin));
		ck_assert_int_eq(setenv("SHORTD_BIN", bin, 1), 0);
		ck_assert_int_eq(chmod(d.dir, 0755), 0);
		ck_assert_int_eq(setresgid(65534, 65534, 0), 0);
		ck_assert_int_eq(setresuid(65534, 65534, 0), 0);
	}
	assert_serve_refuses(d.db, "read-only");
	if (root) {
		ck_assert_int_eq(setresuid(0, 0, 0), 0);
		ck_assert_int_eq(setresgid(0, 0, 0), 0);
	}
	daemon_cleanup(&d);
}
END_TEST

START_TEST(test_random_bytes_are_refused_at_start)
{
	struct daemon d;
	unsigned char junk[16384];
	FILE *f;

	daemon_prepare(&d);
	srand(6);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)rand();
	f = fopen(d.db, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(junk, 1, sizeof(junk), f), sizeof(junk));
	fclose(f);
	assert_serve_refuses(d.db, "not a database");
	daemon_cleanup(&d);
}
END_TEST

START_TEST(test_damaged_page_is_refused_at_start)
{
	struct daemon d;
	int page_size, root;
	unsigned char junk[64];
	int fd;

	make_database(&d);
	page_size = sqlfile_int(d.db, "PRAGMA page_size");
	root = sqlfile_int(d.db, "SELECT rootpage FROM sqlite_schema WHERE name = 'links'");
	ck_assert_int_gt(root, 1);
	/* Overwrite the head of the links table's root page (its b-tree header). */
	memset(junk, 0xA5, sizeof(junk));
	fd = open(d.db, O_WRONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, junk, sizeof(junk), (off_t)(root - 1) * page_size), (ssize_t)sizeof(junk));
	close(fd);
	assert_serve_refuses(d.db, "corrupt");
	daemon_cleanup(&d);
}
END_TEST

START_TEST(test_newer_schema_is_refused_at_start)
{
	struct daemon d;

	make_database(&d);
	sqlfile_exec(d.db, "PRAGMA user_version = 999");
	assert_serve_refuses(d.db, "999");
	/* Refused, not touched: the version is still the newer one. */
	ck_assert_int_eq(sqlfile_int(d.db, "PRAGMA user_version"), 999);
	daemon_cleanup(&d);
}
END_TEST

/* ---- a write lock held elsewhere ---- */

struct busy_client {
	const struct daemon *d;
	int id;
	int created;
	int unavailable;
	int redirects;
};

static void *busy_client_run(void *arg)
{
	struct busy_client *c = arg;
	char code[32], ec[64];

	for (int i = 0; i < 3; i++) {
		long status;
		snprintf(code, sizeof(code), "busy%d_%d", c->id, i);
		status = post_link(c->d, code, ec, sizeof(ec));
		ck_assert_msg(status == 201 || (status == 503 && strcmp(ec, "unavailable") == 0),
		              "create under a lock: %ld %s", status, ec);
		if (status == 201)
			c->created++;
		else
			c->unavailable++;
		for (int k = 0; k < 5; k++) {
			char loc[256];
			ck_assert_int_eq(get_status(c->d, "/a", loc, sizeof(loc)), 302);
			ck_assert_str_eq(loc, TARGET);
			c->redirects++;
		}
	}
	return NULL;
}

START_TEST(test_busy_database_never_reaches_a_client)
{
	struct daemon d;
	struct busy_client clients[4];
	pthread_t threads[4];
	sqlite3 *h = NULL;
	int created = 0;

	make_database(&d);
	ck_assert_int_eq(daemon_start(&d, NULL, token_env), 0);
	ck_assert_int_eq(sqlite3_open(d.db, &h), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(h, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
	for (int i = 0; i < 4; i++) {
		clients[i] = (struct busy_client){&d, i, 0, 0, 0};
		ck_assert_int_eq(pthread_create(&threads[i], NULL, busy_client_run, &clients[i]), 0);
	}
	pause_ms(2000);
	ck_assert_int_eq(sqlite3_exec(h, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_close(h), SQLITE_OK);
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(pthread_join(threads[i], NULL), 0);
		ck_assert_int_eq(clients[i].created + clients[i].unavailable, 3);
		ck_assert_int_eq(clients[i].redirects, 15);
		created += clients[i].created;
	}
	/* The lock was held for 2 s, less than the store's busy timeout: every
	 * creation waited and went through. */
	ck_assert_int_eq(created, 12);
	ck_assert_int_eq(daemon_stop(&d), 0);
	ck_assert_int_eq(sqlfile_int(d.db, "SELECT count(*) FROM links WHERE code LIKE 'busy%'"), 12);
	daemon_cleanup(&d);
}
END_TEST

Suite *faults_suite(void)
{
	Suite *s = suite_create("faults");
	TCase *tc;

	tc = tcase_create("full");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_full_disk_refuses_creation_and_keeps_serving);
	suite_add_tcase(s, tc);

	tc = tcase_create("start");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_read_only_database_is_refused_at_start);
	tcase_add_test(tc, test_random_bytes_are_refused_at_start);
	tcase_add_test(tc, test_damaged_page_is_refused_at_start);
	tcase_add_test(tc, test_newer_schema_is_refused_at_start);
	suite_add_tcase(s, tc);

	tc = tcase_create("busy");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_busy_database_never_reaches_a_client);
	suite_add_tcase(s, tc);
	return s;
}
