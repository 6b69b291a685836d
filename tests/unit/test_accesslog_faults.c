/*
 * The access log's failures and edges, without a daemon: a path that
 * cannot be opened, a disk that takes nothing (/dev/full), a reopen after
 * logrotate moved the file and one whose directory is gone, a buffer that
 * fills before the writer comes, and the fields that come out as "-".
 * The full buffer's own tests open the log without a writer (flush_ms 0),
 * so that only a thread finding its buffer full writes before close.
 */
#include <arpa/inet.h>
#include <check.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
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

	ck_assert_int_eq(
	    accesslog_open("/nonexistent-shortd-dir/access.log", NULL, ACCESSLOG_FLUSH_MS, &log, err, sizeof(err)), -1);
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
	ck_assert_int_eq(accesslog_open("/dev/full", NULL, ACCESSLOG_FLUSH_MS, &log, err, sizeof(err)), 0);
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
	ck_assert_int_eq(accesslog_open(l.path, NULL, ACCESSLOG_FLUSH_MS, &log, err, sizeof(err)), 0);
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
	ck_assert_int_eq(accesslog_open("-", NULL, ACCESSLOG_FLUSH_MS, &log, err, sizeof(err)), 0);
	ck_assert_int_eq(accesslog_reopen(log, err, sizeof(err)), 0);
	ck_assert_str_eq(err, "");
	accesslog_close(log);
	accesslog_close(NULL);
}
END_TEST

/* Lines of the longest kind, more than a buffer holds, written faster than
 * the writer's round: whether the writer takes the buffer at half full or
 * the thread finds it full first, not a line is lost or cut. */
START_TEST(test_longest_lines_are_cut_and_none_lost_with_the_writer_running)
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
	ck_assert_int_eq(accesslog_open(l.path, NULL, ACCESSLOG_FLUSH_MS, &log, err, sizeof(err)), 0);
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

/* X-Forwarded-For counts only from a loopback proxy (an IPv4 one too, seen
 * through an IPv6 socket), and only when its last element is a bare
 * address; otherwise the peer itself, or "-". */
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
	    /* IPv4 through a socket listening on [::]: loopback is loopback */
	    {AF_INET6, "::ffff:127.0.0.1", "203.0.113.11", "203.0.113.11 - - "},
	    {AF_INET6, "::ffff:127.9.8.7", "203.0.113.12", "203.0.113.12 - - "},
	    {AF_INET6, "::ffff:128.0.0.1", "203.0.113.7", "::ffff:128.0.0.1 - - "},
	    {AF_INET6, "::ffff:192.0.2.1", "203.0.113.7", "::ffff:192.0.2.1 - - "},
	    {AF_INET6, "::127.0.0.1", "203.0.113.7", "::127.0.0.1 - - "},
	    {AF_UNIX, NULL, NULL, "- - - "},
	    {0, NULL, "203.0.113.7", "- - - "},
	};
	struct logdir l;
	struct accesslog *log;
	char err[256], buf[8192], *line;

	logdir_make(&l);
	ck_assert_int_eq(accesslog_open(l.path, NULL, ACCESSLOG_FLUSH_MS, &log, err, sizeof(err)), 0);
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
	ck_assert_int_eq(accesslog_open(l.path, NULL, ACCESSLOG_FLUSH_MS, &log, err, sizeof(err)), 0);
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
	ck_assert_int_eq(accesslog_open(l.path, NULL, ACCESSLOG_FLUSH_MS, &log, err, sizeof(err)), 0);
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

enum { AGENT_MAX = 2000 }; /* under the log's 2 KiB cap on a User-Agent */

/* A line numbered i of thread t: an entry whose User-Agent's length varies
 * from line to line, and the line the log must write for it. Called by the
 * writing threads too, so it asserts nothing. */
struct numbered {
	char path[32];
	char agent[AGENT_MAX];
	struct accesslog_entry e;
	char want[AGENT_MAX + 128];
	size_t len;
};

static void numbered_line(struct numbered *n, int t, int i)
{
	size_t agent_len = (size_t)(i * 397 + t * 101) % sizeof(n->agent);

	snprintf(n->path, sizeof(n->path), "/t%d/%d", t, i);
	memset(n->agent, 'a' + t, agent_len);
	n->agent[agent_len] = '\0';
	n->e = entry(n->path);
	n->e.user_agent = n->agent;
	n->len = (size_t)snprintf(n->want, sizeof(n->want),
	                          "- - - [28/Nov/2025:00:00:00 +0000] \"GET %s HTTP/1.1\" 302 - \"-\" \"%s\"\n",
	                          n->path, n->agent);
}

/* With no writer, nothing reaches the file until a line finds the thread's
 * buffer full: then every line before it is written at once, in order, and
 * that line is not. Over 1 MiB of lines that is at least three times; a
 * reopen writes the rest, and close has nothing left to write. */
START_TEST(test_a_full_buffer_is_written_by_its_thread_before_the_next_line)
{
	static char want[(1 << 20) + 4096], got[sizeof(want)];
	struct logdir l;
	struct accesslog *log;
	struct numbered n;
	struct stat st;
	char err[256];
	size_t wanted = 0, on_disk = 0, writes = 0;

	logdir_make(&l);
	ck_assert_int_eq(accesslog_open(l.path, NULL, 0, &log, err, sizeof(err)), 0);
	for (int i = 0; wanted < 1 << 20; i++) {
		numbered_line(&n, 0, i);
		accesslog_write(log, &n.e);
		ck_assert_int_eq(stat(l.path, &st), 0);
		if ((size_t)st.st_size != on_disk) {
			ck_assert_uint_eq((size_t)st.st_size, wanted);
			ck_assert_uint_le(wanted - on_disk, ACCESSLOG_BUFFER_BYTES);
			ck_assert_uint_eq(slurp(l.path, got, sizeof(got)), wanted);
			ck_assert_int_eq(memcmp(got, want, wanted), 0);
			on_disk = wanted;
			writes++;
		}
		memcpy(want + wanted, n.want, n.len);
		wanted += n.len;
	}
	ck_assert_uint_ge(writes, 3);
	ck_assert_int_eq(accesslog_reopen(log, err, sizeof(err)), 0);
	ck_assert_uint_eq(slurp(l.path, got, sizeof(got)), wanted);
	ck_assert_int_eq(memcmp(got, want, wanted), 0);
	accesslog_close(log);
	ck_assert_uint_eq(slurp(l.path, got, sizeof(got)), wanted);
	ck_assert_int_eq(memcmp(got, want, wanted), 0);
	logdir_remove(&l);
}
END_TEST

enum { FULL_THREADS = 4, FULL_LINES = 1000 };

struct numbered_writer {
	struct accesslog *log;
	int t;
};

static void *write_numbered_lines(void *arg)
{
	const struct numbered_writer *w = arg;
	struct numbered n;

	for (int i = 0; i < FULL_LINES; i++) {
		numbered_line(&n, w->t, i);
		accesslog_write(w->log, &n.e);
	}
	return NULL;
}

/* Four threads at once, each with over 1 MiB of lines: each writes its own
 * full buffers, and before close the file already holds all but at most a
 * buffer of each thread's. After close it holds every line exactly once,
 * each thread's in the order written, and nothing else. */
START_TEST(test_full_buffers_of_several_threads_lose_and_repeat_no_line)
{
	struct logdir l;
	struct accesslog *log;
	struct numbered_writer w[FULL_THREADS];
	pthread_t tid[FULL_THREADS];
	struct numbered n;
	struct stat st;
	char err[256], *line = NULL;
	size_t cap = 0, total = 0, read_bytes = 0;
	int next[FULL_THREADS] = {0};
	ssize_t len;
	FILE *f;

	logdir_make(&l);
	ck_assert_int_eq(accesslog_open(l.path, NULL, 0, &log, err, sizeof(err)), 0);
	for (int t = 0; t < FULL_THREADS; t++) {
		w[t] = (struct numbered_writer){log, t};
		ck_assert_int_eq(pthread_create(&tid[t], NULL, write_numbered_lines, &w[t]), 0);
	}
	for (int t = 0; t < FULL_THREADS; t++)
		ck_assert_int_eq(pthread_join(tid[t], NULL), 0);
	for (int t = 0; t < FULL_THREADS; t++) {
		for (int i = 0; i < FULL_LINES; i++) {
			numbered_line(&n, t, i);
			total += n.len;
		}
	}
	ck_assert_int_eq(stat(l.path, &st), 0);
	ck_assert_uint_ge((size_t)st.st_size, total - FULL_THREADS * ACCESSLOG_BUFFER_BYTES);
	accesslog_close(log);
	f = fopen(l.path, "r");
	ck_assert_ptr_nonnull(f);
	while ((len = getline(&line, &cap, f)) > 0) {
		int t, i;

		ck_assert_msg(sscanf(line, "- - - [28/Nov/2025:00:00:00 +0000] \"GET /t%d/%d ", &t, &i) == 2,
		              "line: %.80s", line);
		ck_assert(t >= 0 && t < FULL_THREADS);
		ck_assert_int_eq(i, next[t]);
		numbered_line(&n, t, i);
		ck_assert_uint_eq((size_t)len, n.len);
		ck_assert_int_eq(memcmp(line, n.want, n.len), 0);
		next[t]++;
		read_bytes += (size_t)len;
	}
	free(line);
	fclose(f);
	for (int t = 0; t < FULL_THREADS; t++)
		ck_assert_int_eq(next[t], FULL_LINES);
	ck_assert_uint_eq(read_bytes, total);
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
	tcase_add_test(tc, test_longest_lines_are_cut_and_none_lost_with_the_writer_running);
	tcase_add_test(tc, test_peer_names);
	tcase_add_test(tc, test_fields_and_escapes);
	tcase_add_test(tc, test_long_field_is_cut_between_escapes);
	suite_add_tcase(s, tc);
	tc = tcase_create("full");
	tcase_add_test(tc, test_a_full_buffer_is_written_by_its_thread_before_the_next_line);
	tcase_add_test(tc, test_full_buffers_of_several_threads_lose_and_repeat_no_line);
	suite_add_tcase(s, tc);
	return s;
}
