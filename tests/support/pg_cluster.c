/*
 * The tests' throw-away PostgreSQL cluster (see pg_cluster.h). The server
 * binaries are run as their own processes, as the cluster's owner (nobody
 * when the tests run as root); the tests talk to the server with libpq.
 */
#include "pg_cluster.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG_BIN_DEFAULT "/usr/lib/postgresql/15/bin"
#define PG_SUPERUSER "shortd"

static struct {
	pid_t owner; /* the process that started it; 0: not started */
	char dir[256];
	char data[300];
	char log[300];
	uid_t uid; /* who runs the server */
	gid_t gid;
	unsigned dbs; /* databases made by this process */
} cluster;

static const char *pg_bin(void)
{
	const char *b = getenv("SHORTD_PG_BIN");

	return b != NULL && b[0] != '\0' ? b : PG_BIN_DEFAULT;
}

/* Runs the server program prog with args as the cluster's owner, its output
 * appended to the cluster's log; the exit status, or -1. */
static int run_owner(const char *prog, const char *const *args)
{
	char path[512], *argv[16];
	int n = 0, status;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/%s", pg_bin(), prog);
	argv[n++] = path;
	for (; args[n - 1] != NULL && n < 15; n++)
		argv[n] = (char *)args[n - 1];
	argv[n] = NULL;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd;
		if (getuid() == 0 && (setgroups(0, NULL) != 0 || setgid(cluster.gid) != 0 || setuid(cluster.uid) != 0))
			_exit(126);
		/* Opened as the owner: pg_ctl appends the server's log to it. */
		fd = open(cluster.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		execv(path, argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void show_log(void)
{
	char line[512];
	FILE *f = fopen(cluster.log, "r");

	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL)
		fprintf(stderr, "  postgres: %s", line);
	fclose(f);
}

static int remove_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(p);
	return 0;
}

static int server_start(void)
{
	char opts[600];

	snprintf(opts, sizeof(opts),
	         "-k %s -c listen_addresses= -c fsync=off -c synchronous_commit=off -c full_page_writes=off "
	         "-c max_connections=300 -c shared_buffers=32MB",
	         cluster.dir);
	return run_owner("pg_ctl", (const char *const[]){"-D", cluster.data, "-o", opts, "-l", cluster.log, "-w", "-t",
	                                                 "30", "start", NULL});
}

/* Where the cluster goes: $SHORTD_TEST_PG_DIR, else /dev/shm where there is
 * one to write in (the cluster is thrown away and runs with fsync off: in
 * memory, clusters side by side never wait on the disk), else $TMPDIR, else
 * /tmp. */
static const char *cluster_parent(void)
{
	const char *dir = getenv("SHORTD_TEST_PG_DIR");

	if (dir != NULL && dir[0] != '\0')
		return dir;
	if (access("/dev/shm", W_OK | X_OK) == 0)
		return "/dev/shm";
	dir = getenv("TMPDIR");
	return dir != NULL && dir[0] != '\0' ? dir : "/tmp";
}

void pg_cluster_start(void)
{
	struct passwd *pw;

	if (cluster.owner != 0)
		return;
	cluster.uid = getuid();
	cluster.gid = getgid();
	if (getuid() == 0) {
		pw = getpwnam("nobody");
		if (pw == NULL) {
			fprintf(stderr, "pg_cluster: no user nobody to run PostgreSQL as (it refuses root)\n");
			exit(EXIT_FAILURE);
		}
		cluster.uid = pw->pw_uid;
		cluster.gid = pw->pw_gid;
	}
	snprintf(cluster.dir, sizeof(cluster.dir), "%s/shortd-pg-XXXXXX", cluster_parent());
	if (mkdtemp(cluster.dir) == NULL || chown(cluster.dir, cluster.uid, cluster.gid) != 0 ||
	    chmod(cluster.dir, 0755) != 0) {
		fprintf(stderr, "pg_cluster: cannot make %s: %s\n", cluster.dir, strerror(errno));
		exit(EXIT_FAILURE);
	}
	snprintf(cluster.data, sizeof(cluster.data), "%s/data", cluster.dir);
	snprintf(cluster.log, sizeof(cluster.log), "%s/server.log", cluster.dir);
	cluster.owner = getpid();
	atexit(pg_cluster_stop);
	if (run_owner("initdb", (const char *const[]){"-D", cluster.data, "-U", PG_SUPERUSER, "--auth=trust", "-E",
	                                              "UTF8", "--locale=C.UTF-8", "--no-sync", NULL}) != 0 ||
	    server_start() != 0) {
		fprintf(stderr, "pg_cluster: cannot start PostgreSQL from %s in %s:\n", pg_bin(), cluster.dir);
		show_log();
		exit(EXIT_FAILURE);
	}
}

void pg_cluster_stop(void)
{
	if (cluster.owner == 0 || cluster.owner != getpid())
		return;
	run_owner("pg_ctl", (const char *const[]){"-D", cluster.data, "-m", "fast", "-w", "stop", NULL});
	nftw(cluster.dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	cluster.owner = 0;
}

void pg_cluster_down(void)
{
	ck_assert_int_eq(
	    run_owner("pg_ctl", (const char *const[]){"-D", cluster.data, "-m", "fast", "-w", "stop", NULL}), 0);
}

void pg_cluster_up(void)
{
	int rc = server_start();

	if (rc != 0)
		show_log();
	ck_assert_int_eq(rc, 0);
}

const char *pg_cluster_dir(void)
{
	return cluster.dir;
}

/* A connection to url, or a failed test. */
static PGconn *connect_to(const char *url)
{
	PGconn *c = PQconnectdb(url);

	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "connect to %s: %s", url, PQerrorMessage(c));
	return c;
}

static void exec_on(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;

	ck_assert_msg(ok, "%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
}

/* A database's URL. connect_timeout overrides the daemon's 2 s: on a busy
 * shared machine a throw-away cluster has been seen to take longer than
 * that to answer, and the tests are not about its patience. */
static void url_of(const char *db, char *url, size_t size)
{
	ck_assert_int_lt(
	    snprintf(url, size, "postgresql:///%s?host=%s&user=" PG_SUPERUSER "&connect_timeout=15", db, cluster.dir),
	    (int)size);
}

void pg_db_make(char *url, size_t size)
{
	char name[64], sql[128], admin[512];
	PGconn *c;

	ck_assert_msg(cluster.owner != 0, "the PostgreSQL cluster is not started");
	snprintf(name, sizeof(name), "t_%ld_%u", (long)getpid(), cluster.dbs++);
	url_of("postgres", admin, sizeof(admin));
	c = connect_to(admin);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
	exec_on(c, sql);
	PQfinish(c);
	url_of(name, url, size);
}

static void quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

void pg_db_drop(const char *url)
{
	char admin[512], sql[160];
	const char *name = strstr(url, ":///");
	size_t n;
	PGconn *c;

	if (name == NULL)
		return;
	name += 4;
	n = strcspn(name, "?");
	url_of("postgres", admin, sizeof(admin));
	c = PQconnectdb(admin);
	PQsetNoticeProcessor(c, quiet, NULL); /* "does not exist, skipping" */
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %.*s WITH (FORCE)", (int)n, name);
	if (PQstatus(c) == CONNECTION_OK)
		PQclear(PQexec(c, sql));
	PQfinish(c);
}

void pg_sql_exec(const char *url, const char *sql)
{
	PGconn *c = connect_to(url);

	exec_on(c, sql);
	PQfinish(c);
}

int64_t pg_sql_int(const char *url, const char *sql)
{
	PGconn *c = connect_to(url);
	PGresult *r = PQexec(c, sql);
	int64_t v = -999;

	ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s: %s", sql, PQerrorMessage(c));
	if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
		v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	PQfinish(c);
	return v;
}
