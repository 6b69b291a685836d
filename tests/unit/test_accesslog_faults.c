/*
 * The access log's failures and edges, without a daemon: a path that
 * cannot be opened, a disk that takes nothing (/dev/full), a reopen after
 * logrotate moved the file and one whose directory is gone, a buffer that
 * fills before the writer comes, and the fields that come out as "-".
 */
#include <arpa/inet.h>
#include <check.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "accesslog.h"

struct logdir {
	char dir[64];
	char path[128];
};

static void logdir_make(struct logdir *l)
{
	snprintf(l->dir, sizeof(l->dir), "/tmp/shortd-alog-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(l->dir));
	snprintf(l->path, sizeof(l->path), "%s/access.log", l->dir);
}

static void logdir_remove(struct logdir *l)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", l->dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* The whole file (at most size - 1 bytes) into buf. */
static size_t slurp(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t n = 0;
	ssize_t r;

	ck_assert_int_ge(fd, 0);
	while (n + 1 < size && (r = read(fd, buf + n, size - 1 - n)) > 0)
		n += (size_t)r;
	close(fd);
	buf[n] = '\0';
	return n;
}

static struct accesslog_entry entry(const char *path)
{
	return (struct accesslog_entry){.when = 1764288000, /* 2025-11-28 00:00:00 UTC */
	                                .method = "GET",
	                                .path = path,
	                                .version = "HTTP/1.1",
	                                .status = 302};
}

/* stderr goes to a file for the rest of the test (each runs in a child). */
static void capture_stderr(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	ck_assert_int_ge(fd, 0);
	fflush(stderr);
	ck_assert_int_eq(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	close(fd);
}

START_TEST(test_open_refuses_a_path_it_cannot_create)
{
	struct accesslog *log = (struct accesslog *)&log;
	char err[256];

	ck_assert_int_eq(accesslog_open("/nonexistent-shortd-dir/access.log", NULL, &log, err, sizeof(err)), -1);
	ck_assert_ptr_null(log);
	ck_assert_str_eq(err,
	                 "--access-log: cannot open /nonexistent-shortd-dir/access.log: No such file or directory");
}
END_TEST

START_TEST(test_full_disk_is_reported_once_and_lines_are_dropped)
{
	struct logdir l;
	struct accesslog *log;
	char err[256], errpath[160], out[4096];
	struct accesslog_entry e = entry("/full");
	const char *msg = "shortd: access log: write failed: No space left on device; lines are dropped\n";

	logdir_make(&l);
	snprintf(errpath, sizeof(errpath), "%s/stderr", l.dir);
	capture_stderr(errpath);
	ck_assert_int_eq(accesslog_open("/dev/full", NULL, &log, err, sizeof(err)), 0);
	accesslog_write(log, &e);
	/* A reopen clears the warning: the next failure is reported again. */
	ck_assert_int_eq(accesslog_reopen(log, err, sizeof(err)), 0);
	accesslog_write(log, &e);
	accesslog_write(log, &e);
	accesslog_close(log);
	slurp(errpath, out, sizeof(out));
	ck_assert_ptr_nonnull(strstr(out, msg));
	ck_assert_ptr_nonnull(strstr(strstr(out, msg) + strlen(msg), msg));
	ck_assert_ptr_null(strstr(strstr(strstr(out, msg) + strlen(msg), msg) + strlen(msg), msg));
	logdir_remove(&l);
}
END_TEST

START_TEST(test_reopen_follows_logrotate_and_survives_a_missing_directory)
{
	struct logdir l;
	struct accesslog *log;
	char err[256], moved[160], gone[160], buf[4096];
	struct accesslog_entry e = entry("/one");

	logdir_make(&l);
	snprintf(moved, sizeof(moved), "%s.1", l.path);
	snprintf(gone, sizeof(gone), "%s-gone", l.dir);
	ck_assert_int_eq(accesslog_open(l.path, NULL, &log, err, sizeof(err)), 0);
	accesslog_write(log, &e);
	/* logrotate moves the file, then asks for a reopen: the line written
	 * before goes to the moved file, the next ones to a new one. */
	ck_assert_int_eq(rename(l.path, moved), 0);
	ck_assert_int_eq(accesslog_reopen(log, err, sizeof(err)), 0);
	e.path = "/two";
	accesslog_write(log, &e);
	/* The directory gone: reopen fails, says why, and keeps the file it
	 * had, so /three lands next to /two. */
	ck_assert_int_eq(rename(l.dir, gone), 0);
	ck_assert_int_eq(accesslog_reopen(log, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "--access-log: cannot open "));
	ck_assert_ptr_nonnull(strstr(err, ": No such file or directory"));
	e.path = "/three";
	accesslog_write(log, &e);
	accesslog_close(log);
	ck_assert_int_eq(rename(gone, l.dir), 0);
	slurp(moved, buf, sizeof(buf));
	ck_assert_str_eq(buf, "- - - [28/Nov/2025:00:00:00 +0000] \"GET /one HTTP/1.1\" 302 - \"-\" \"-\"\n");
	slurp(l.path, buf, sizeof(buf));
	ck_assert_str_eq(buf, "- - - [28/Nov/2025:00:00:00 +0000] \"GET /two HTTP/1.1\" 302 - \"-\" \"-\"\n"
	                      "- - - [28/Nov/2025:00:00:00 +0000] \"GET /three HTTP/1.1\" 302 - \"-\" \"-\"\n");
	logdir_remove(&l);
}
END_TEST

START_TEST(test_reopen_of_stdout_or_nothing_is_a_no_op)
{
	struct accesslog *log;
	char err[64] = "";

	ck_assert_int_eq(accesslog_reopen(NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(accesslog_open("-", NULL, &log, err, sizeof(err)), 0);
	ck_assert_int_eq(accesslog_reopen(log, err, sizeof(err)), 0);
	ck_assert_str_eq(err, "");
	accesslog_close(log);
	accesslog_close(NULL);
}
END_TEST

/* Lines of the longest kind, more than a buffer holds, written faster than
 * the writer's round: the thread writes its own full buffer out, and not a
 * line is lost or cut. */
START_TEST(test_a_full_buffer_is_written_by_its_thread_whole)
{
	struct logdir l;
	struct accesslog *log;
	static char path[20000], agent[3000], buf[1 << 21];
	char err[256];
	struct accesslog_entry e;
	size_t n, lines = 0;

	logdir_make(&l);
	memset(path, 'p', sizeof(path) - 1);
	path[0] = '/';
	memset(agent, 'a', sizeof(agent) - 1);
	e = entry(path);
	e.user_agent = agent;
	ck_assert_int_eq(accesslog_open(l.path, NULL, &log, err, sizeof(err)), 0);
	for (int i = 0; i < 60; i++)
		accesslog_write(log, &e);
	accesslog_close(log);
	n = slurp(l.path, buf, sizeof(buf));
	for (size_t i = 0; i < n; i++)
		lines += buf[i] == '\n';
	ck_assert_uint_eq(lines, 60);
	/* The target is cut at 16 KiB, the agent at 2 KiB. */
	ck_assert_ptr_nonnull(strstr(buf, "pp HTTP/1.1\" 302 - \"-\" \"aaa"));
	ck_assert_uint_lt(strlen(strtok(buf, "\n")), 16384 + 2048 + 200);
	logdir_remove(&l);
}
END_TEST

/* X-Forwarded-For counts only from a loopback proxy, and only when its last
 * element is a bare address; otherwise the peer itself, or "-". */
START_TEST(test_peer_names)
{
	static const struct {
		int family;
		const char *addr;
		const char *xff;
		const char *want;
	} rows[] = {
	    {AF_INET, "127.0.0.1", "203.0.113.7", "203.0.113.7 - - "},
	    {AF_INET, "127.0.0.1", "10.0.0.1, 203.0.113.8 ", "203.0.113.8 - - "},
	    {AF_INET, "127.0.0.1", "10.0.0.1,\t2001:db8::1", "2001:db8::1 - - "},
	    {AF_INET, "127.0.0.1", "203.0.113.9 junk", "127.0.0.1 - - "},
	    {AF_INET, "127.0.0.1", "not-an-address", "127.0.0.1 - - "},
	    {AF_INET, "127.0.0.1", "", "127.0.0.1 - - "},
	    {AF_INET, "192.0.2.1", "203.0.113.7", "192.0.2.1 - - "},
	    {AF_INET6, "::1", "203.0.113.10", "203.0.113.10 - - "},
	    {AF_INET6, "2001:db8::2", "203.0.113.7", "2001:db8::2 - - "},
	    {AF_UNIX, NULL, NULL, "- - - "},
	    {0, NULL, "203.0.113.7", "- - - "},
	};
	struct logdir l;
	struct accesslog *log;
	char err[256], buf[8192], *line;

	logdir_make(&l);
	ck_assert_int_eq(accesslog_open(l.path, NULL, &log, err, sizeof(err)), 0);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct sockaddr_in in4 = {.sin_family = AF_INET};
		struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};
		struct sockaddr unix_sa = {.sa_family = AF_UNIX};
		struct accesslog_entry e = entry("/p");

		if (rows[i].family == AF_INET) {
			ck_assert_int_eq(inet_pton(AF_INET, rows[i].addr, &in4.sin_addr), 1);
			e.peer = (const struct sockaddr *)&in4;
		} else if (rows[i].family == AF_INET6) {
			ck_assert_int_eq(inet_pton(AF_INET6, rows[i].addr, &in6.sin6_addr), 1);
			e.peer = (const struct sockaddr *)&in6;
		} else if (rows[i].family == AF_UNIX) {
			e.peer = &unix_sa;
		}
		e.forwarded_for = rows[i].xff;
		accesslog_write(log, &e);
	}
	accesslog_close(log);
	slurp(l.path, buf, sizeof(buf));
	line = strtok(buf, "\n");
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++, line = strtok(NULL, "\n")) {
		ck_assert_ptr_nonnull(line);
		ck_assert_msg(strncmp(line, rows[i].want, strlen(rows[i].want)) == 0, "row %zu: %s", i, line);
	}
	ck_assert_ptr_null(line);
	logdir_remove(&l);
}
END_TEST

/* Absent fields are "-", bytes are counted, control and quote bytes are
 * \xHH, and a space in the target too (not in the agent). */
START_TEST(test_fields_and_escapes)
{
	struct logdir l;
	struct accesslog *log;
	char err[256], buf[4096];
	struct accesslog_entry e = entry("/a b\"c");

	logdir_make(&l);
	ck_assert_int_eq(accesslog_open(l.path, NULL, &log, err, sizeof(err)), 0);
	e.query = "q=1\x01";
	e.bytes = 1234;
	e.referer = "https://r.example/";
	e.user_agent = "agent 1.0 \"x\"\\\x7f\xc3\xa9";
	accesslog_write(log, &e);
	e = entry("/n");
	e.method = NULL;
	e.version = NULL;
	accesslog_write(log, &e);
	accesslog_close(log);
	slurp(l.path, buf, sizeof(buf));
	ck_assert_str_eq(buf, "- - - [28/Nov/2025:00:00:00 +0000] \"GET /a\\x20b\\x22c?q=1\\x01 HTTP/1.1\" 302 1234 "
	                      "\"https://r.example/\" \"agent 1.0 \\x22x\\x22\\x5C\\x7F\\xC3\\xA9\"\n"
	                      "- - - [28/Nov/2025:00:00:00 +0000] \"- /n -\" 302 - \"-\" \"-\"\n");
	logdir_remove(&l);
}
END_TEST

/* A field longer than its room is cut at a whole character: an escape is
 * never left in half (the User-Agent's room is 2,048 bytes: "a" and 511
 * escapes of 4, not a 512th that would need 2,049). */
START_TEST(test_long_field_is_cut_between_escapes)
{
	struct logdir l;
	struct accesslog *log;
	char err[256], agent[1002], buf[8192], want[4096];
	struct accesslog_entry e = entry("/c");
	size_t n;

	logdir_make(&l);
	ck_assert_int_eq(accesslog_open(l.path, NULL, &log, err, sizeof(err)), 0);
	agent[0] = 'a';
	memset(agent + 1, '"', sizeof(agent) - 2);
	agent[sizeof(agent) - 1] = '\0';
	e.user_agent = agent;
	accesslog_write(log, &e);
	accesslog_close(log);
	slurp(l.path, buf, sizeof(buf));
	n = (size_t)snprintf(want, sizeof(want),
	                     "- - - [28/Nov/2025:00:00:00 +0000] \"GET /c HTTP/1.1\" 302 - \"-\" \"a");
	for (int i = 0; i < 511; i++)
		n += (size_t)snprintf(want + n, sizeof(want) - n, "\\x22");
	snprintf(want + n, sizeof(want) - n, "\"\n");
	ck_assert_str_eq(buf, want);
	logdir_remove(&l);
}
END_TEST

Suite *accesslog_faults_suite(void)
{
	Suite *s = suite_create("accesslog_faults");
	TCase *tc = tcase_create("faults");

	tcase_add_test(tc, test_open_refuses_a_path_it_cannot_create);
	tcase_add_test(tc, test_full_disk_is_reported_once_and_lines_are_dropped);
	tcase_add_test(tc, test_reopen_follows_logrotate_and_survives_a_missing_directory);
	tcase_add_test(tc, test_reopen_of_stdout_or_nothing_is_a_no_op);
	tcase_add_test(tc, test_a_full_buffer_is_written_by_its_thread_whole);
	tcase_add_test(tc, test_peer_names);
	tcase_add_test(tc, test_fields_and_escapes);
	tcase_add_test(tc, test_long_field_is_cut_between_escapes);
	suite_add_tcase(s, tc);
	return s;
}
