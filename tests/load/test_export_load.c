/*
 * The export in constant memory: `shortd export` of 100,000 links peaks at
 * the same resident size as an export of 20,000 (within 2 MiB; both fill
 * SQLite's page caches, so what is left to differ is what grows with the
 * links), in both formats, and writes every link; GET /api/v1/links/export
 * of the same 100,000 links (some 40 MB of text) streams them all while the
 * daemon's peak resident size grows by less than 8 MiB. The CLI's
 * databases are made by `shortd import` of a generated file, as a user
 * would; the daemon's is written straight through store_links_import().
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api_client.h"
#include "harness.h"
#include "link_code.h"
#include "store.h"

#define SMALL 20000
#define BIG 100000
#define BATCH 500

/* Fills the database at path (made when there is none) with n links. */
static void fill(const char *path, int n)
{
	struct store_import_row *rows = calloc(BATCH, sizeof(*rows));
	struct store *s;
	char err[512];
	size_t conflict;

	ck_assert_ptr_nonnull(rows);
	ck_assert_msg(store_open(path, &s, err, sizeof(err)) == STORE_OK, "%s", err);
	for (int done = 0; done < n;) {
		int k = n - done < BATCH ? n - done : BATCH;
		for (int i = 0; i < k; i++) {
			struct link *l = &rows[i].link;
			link_init(l);
			snprintf(l->code, sizeof(l->code), "x%d", done + i);
			snprintf(l->url, sizeof(l->url), "https://load.example/a/fairly/long/path/%d?utm_source=load",
			         done + i);
			snprintf(l->title, sizeof(l->title), "Link number %d", done + i);
			l->n_tags = 2;
			snprintf(l->tags[0], sizeof(l->tags[0]), "load");
			snprintf(l->tags[1], sizeof(l->tags[1]), "t%d", (done + i) % 100);
			snprintf(l->created_by, sizeof(l->created_by), "cli");
			snprintf(l->updated_by, sizeof(l->updated_by), "cli");
			l->status = 302;
			l->created_at = l->updated_at = 1700000000 + done + i;
			l->clicks = done + i;
		}
		ck_assert_int_eq(store_links_import(s, rows, (size_t)k, STORE_IMPORT_FAIL, 1700000000,
		                                    link_code_generate, NULL, &conflict),
		                 STORE_OK);
		done += k;
	}
	store_close(s);
	free(rows);
}

/* Makes the database at path with n links by `shortd init` and `shortd
 * import` of a JSON lines file written beside it. */
static void import_links(const char *dir, const char *path, int n)
{
	const char *init[] = {"init", NULL};
	char file[400], out[512], err[4096];
	const char *import[] = {"import", file, NULL};
	FILE *f;

	snprintf(file, sizeof(file), "%s/links.jsonl", dir);
	f = fopen(file, "w");
	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < n; i++)
		fprintf(f,
		        "{\"code\":\"x%d\",\"url\":\"https://load.example/a/fairly/long/path/%d?utm_source=load\","
		        "\"title\":\"Link number %d\",\"tags\":[\"load\",\"t%d\"],\"clicks\":%d}\n",
		        i, i, i, i % 100, i);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_msg(shortd_run(path, out, sizeof(out), err, sizeof(err), init) == 0, "init: %s", err);
	ck_assert_msg(shortd_run(path, out, sizeof(out), err, sizeof(err), import) == 0, "import: %s", err);
	unlink(file);
}

/* Runs shortd export on db; returns its peak resident size in KiB, and the
 * lines it wrote in *lines. */
static long export_rss(const char *db, const char *format, long *lines)
{
	const char *bin = getenv("SHORTD_BIN");
	int fds[2], status;
	struct rusage ru;
	char buf[65536];
	ssize_t n;
	pid_t pid;

	ck_assert_ptr_nonnull(bin);
	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execl(bin, bin, "export", "--db", db, "--format", format, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	*lines = 0;
	while ((n = read(fds[0], buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++)
			*lines += buf[i] == '\n';
	}
	close(fds[0]);
	ck_assert_int_eq(wait4(pid, &status, 0, &ru), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "export exited %d", status);
	return ru.ru_maxrss;
}

static const char *const formats[] = {"jsonl", "csv"};

START_TEST(test_cli_export_memory_does_not_grow_with_the_links)
{
	char dir[256], small[300], big[300];
	long lines_small, lines_big, rss_small, rss_big;
	long header = strcmp(formats[_i], "csv") == 0;

	tempdb_make("export-small", dir, sizeof(dir), small, sizeof(small));
	import_links(dir, small, SMALL);
	rss_small = export_rss(small, formats[_i], &lines_small);
	tempdb_remove(dir, small);
	tempdb_make("export-big", dir, sizeof(dir), big, sizeof(big));
	import_links(dir, big, BIG);
	rss_big = export_rss(big, formats[_i], &lines_big);
	tempdb_remove(dir, big);
	fprintf(stderr, "export --format %s: max RSS %ld KiB at %d links, %ld KiB at %d links\n", formats[_i],
	        rss_small, SMALL, rss_big, BIG);
	ck_assert_int_eq(lines_small, SMALL + header);
	ck_assert_int_eq(lines_big, BIG + header);
	ck_assert_msg(rss_big <= rss_small + 2048, "%ld KiB at %d links, %ld KiB at %d", rss_big, BIG, rss_small,
	              SMALL);
}
END_TEST

/* The daemon's peak resident size (VmHWM) in KiB. */
static long peak_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
			break;
	}
	fclose(f);
	ck_assert_int_gt(kib, 0);
	return kib;
}

START_TEST(test_http_export_streams_in_constant_memory)
{
	struct daemon d;
	struct http_result r;
	long before, after, lines = 0;

	daemon_prepare(&d);
	fill(d.db, BIG);
	ck_assert_int_eq(daemon_start(&d, NULL, client_token_env), 0);
	/* One small answer first, so the start-up's own peak is in. */
	ck_assert_int_eq(client_call(&d, API_TEST_TOKEN, "GET", "/api/v1/links?limit=1000", NULL, &r), 200);
	http_result_free(&r);
	before = peak_kib(d.pid);
	ck_assert_int_eq(client_call(&d, API_TEST_TOKEN, "GET", "/api/v1/links/export", NULL, &r), 200);
	after = peak_kib(d.pid);
	for (size_t i = 0; i < r.body_len; i++)
		lines += r.body[i] == '\n';
	fprintf(stderr, "GET /api/v1/links/export: %zu bytes, daemon peak RSS %ld -> %ld KiB\n", r.body_len, before,
	        after);
	ck_assert_int_eq(lines, BIG);
	ck_assert_msg(after - before < 8192, "peak RSS %ld -> %ld KiB over a %zu-byte export", before, after,
	              r.body_len);
	http_result_free(&r);
	ck_assert_int_eq(daemon_stop(&d), 0);
	daemon_cleanup(&d);
}
END_TEST

Suite *export_load_suite(void)
{
	Suite *s = suite_create("export_load");
	TCase *tc = tcase_create("memory");

	tcase_set_timeout(tc, 600);
	tcase_add_loop_test(tc, test_cli_export_memory_does_not_grow_with_the_links, 0, 2);
	tcase_add_test(tc, test_http_export_streams_in_constant_memory);
	suite_add_tcase(s, tc);
	return s;
}
