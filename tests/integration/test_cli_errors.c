/*
 * The admin CLI's refusals, one row each: a command given a flag it does not
 * take, an argument too many, an empty --db, a name or code that is not
 * there, a write while another process holds the database locked. Each
 * exits with its status (2: bad input, 1: not found or failed)
 * and one line on stderr that names what was wrong (after the store's own
 * line, for the locked database), prints nothing on
 * stdout, and leaves the database as it was (its links and tokens).
 */
#include <check.h>
#include <fcntl.h>
#include <poll.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static struct daemon d;
static char out[65536], err[4096];

static const struct fixture_link links[] = {
    {"https://t.example/one", "one", 0, NULL},
    {NULL, NULL, 0, NULL},
};

static void setup(void)
{
	static const char *const token[] = {"token", "create", "--name", "kept", NULL};

	unsetenv("SHORTD_BASE_URL");
	unsetenv("SHORTD_LISTEN");
	fixture_make_db(&d, links);
	ck_assert_int_eq(shortd_run(d.db, out, sizeof(out), err, sizeof(err), token), 0);
}

static void teardown(void)
{
	daemon_cleanup(&d);
}

/* What the rows must not change: every link and every token, as rows. */
static char *db_state(void)
{
	static const char *const list[] = {"list", NULL};
	static const char *const tokens[] = {"token", "list", NULL};
	char *state = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&state, &len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(shortd_run(d.db, out, sizeof(out), err, sizeof(err), list), 0);
	fputs(out, f);
	ck_assert_int_eq(shortd_run(d.db, out, sizeof(out), err, sizeof(err), tokens), 0);
	fputs(out, f);
	ck_assert_int_eq(fclose(f), 0);
	return state;
}

struct bad_command {
	const char *args[8];
	int status;
	const char *message; /* the whole line on stderr, without "shortd: " */
};

static const struct bad_command bad_commands[] = {
    /* options every command shares */
    {{"get", "one", "--colour", "red", NULL}, 2, "--colour: unknown option"},
    {{"get", "one", "--db", "", NULL}, 2, "--db: must not be empty"},
    {{"rm", "one", "--db", "", NULL}, 2, "--db: must not be empty"},
    {{"rm", "one", "--colour", "red", NULL}, 2, "--colour: unknown option"},
    {{"get", "nope", NULL}, 1, "nope: no such link"},
    {{"rm", "nope", NULL}, 1, "nope: no such link"},
    /* list */
    {{"list", "--colour", NULL}, 2, "--colour: unknown option"},
    {{"list", "--db", "", NULL}, 2, "--db: must not be empty"},
    {{"list", "extra", NULL}, 2, "extra: unexpected argument for list"},
    /* edit */
    {{"edit", "one", "--title", "x", "--db", "", NULL}, 2, "--db: must not be empty"},
    {{"edit", "one", "--tag", "", NULL}, 2, "--tag '': tags[0]: a tag must not be empty"},
    {{"edit", "one", "--tag", "ok", "--tag", "a\tb", NULL}, 2, "--tag 'a\tb': tags[1]: contains a control character"},
    /* init */
    {{"init", "--colour", NULL}, 2, "--colour: unknown option"},
    {{"init", "--db", "", NULL}, 2, "--db: must not be empty"},
    /* token */
    {{"token", "create", "extra", NULL}, 2, "extra: unexpected argument for token create"},
    {{"token", "list", "extra", NULL}, 2, "extra: unexpected argument for token list"},
    {{"token", "create", "--name", "", NULL},
     2,
     "--name: expected 1 to 64 printable characters without spaces, got ''"},
    {{"token", "revoke", "nobody", NULL}, 1, "token 'nobody': no such token"},
    {{"token", "create", "--name", "kept", NULL}, 1, "token 'kept': a token with this name exists"},
    /* qr */
    {{"qr", "nope", NULL}, 1, "nope: no such link"},
    {{"qr", "one", "--db", "", NULL}, 2, "--db: must not be empty"},
    {{"qr", "one", "--colour", "red", NULL}, 2, "--colour: unknown option"},
};

START_TEST(test_bad_command_exits_with_one_line_and_changes_nothing)
{
	const struct bad_command *c = &bad_commands[_i];
	char *before = db_state(), *after, want[512];
	int status = shortd_run(d.db, out, sizeof(out), err, sizeof(err), c->args);

	ck_assert_msg(status == c->status, "%s: exit %d, expected %d (stderr: %s)", c->args[0], status, c->status, err);
	ck_assert_str_eq(out, "");
	snprintf(want, sizeof(want), "shortd: %s\n", c->message);
	ck_assert_str_eq(err, want);
	after = db_state();
	ck_assert_str_eq(before, after);
	free(before);
	free(after);
}
END_TEST

/* A write while another process holds the database's write lock past the
 * busy timeout: exit 1, the store's line and then the command's, and
 * nothing changed. */
static const struct bad_command locked_commands[] = {
    {{"rm", "one", NULL}, 1, "one: database error"},
    {{"edit", "one", "--title", "x", NULL}, 1, "one: the database is unavailable: database error (unavailable)"},
    {{"token", "revoke", "kept", NULL}, 1, "token 'kept': database error"},
    {{"token", "create", "--name", "new", NULL}, 1, "token 'new': database error"},
};

START_TEST(test_write_into_a_locked_database_changes_nothing)
{
	const struct bad_command *c = &locked_commands[_i];
	char *before = db_state(), *after, want[512];
	sqlite3 *holder;
	int status;

	ck_assert_int_eq(sqlite3_open(d.db, &holder), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(holder, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	status = shortd_run(d.db, out, sizeof(out), err, sizeof(err), c->args);
	ck_assert_int_eq(sqlite3_exec(holder, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_close(holder), SQLITE_OK);
	ck_assert_msg(status == c->status, "%s: exit %d (stderr: %s)", c->args[0], status, err);
	ck_assert_str_eq(out, "");
	snprintf(want, sizeof(want), ": database is locked\nshortd: %s\n", c->message);
	ck_assert_msg(strlen(err) > strlen(want) && strcmp(err + strlen(err) - strlen(want), want) == 0,
	              "stderr does not end in '%s': %s", want, err);
	ck_assert_msg(strncmp(err, "shortd: store: ", 15) == 0, "%s", err);
	after = db_state();
	ck_assert_str_eq(before, after);
	free(before);
	free(after);
}
END_TEST

/* An image that cannot be written is a failure, named as such, not exit 0
 * with half a PNG. */
START_TEST(test_qr_into_a_full_stdout_fails)
{
	const char *bin = getenv("SHORTD_BIN") != NULL ? getenv("SHORTD_BIN") : "build/shortd";
	char cmd[1024], line[512] = "";
	FILE *p;

	snprintf(cmd, sizeof(cmd), "SHORTD_DB='%s' '%s' qr one --format png 2>&1 >/dev/full", d.db, bin);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), p));
	ck_assert_msg(fgetc(p) == EOF, "more than one line after: %s", line);
	ck_assert_int_eq(WEXITSTATUS(pclose(p)), 1);
	ck_assert_str_eq(line, "shortd: qr: cannot write the image: No space left on device\n");
}
END_TEST

/* A PNG is binary: into a terminal it is refused, and the terminal gets
 * nothing. */
START_TEST(test_qr_png_into_a_terminal_is_refused)
{
	const char *bin = getenv("SHORTD_BIN") != NULL ? getenv("SHORTD_BIN") : "build/shortd";
	int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	char cmd[1024], line[512] = "", got[64];
	struct pollfd pfd;
	FILE *p;

	ck_assert_int_ge(master, 0);
	ck_assert_int_eq(grantpt(master), 0);
	ck_assert_int_eq(unlockpt(master), 0);
	snprintf(cmd, sizeof(cmd), "SHORTD_DB='%s' '%s' qr one --format png 2>&1 >'%s'", d.db, bin, ptsname(master));
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), p));
	ck_assert_msg(fgetc(p) == EOF, "more than one line after: %s", line);
	ck_assert_int_eq(WEXITSTATUS(pclose(p)), 2);
	ck_assert_str_eq(line, "shortd: qr: a PNG is binary; send it to a file (shortd qr CODE --format png >FILE)\n");
	pfd = (struct pollfd){master, POLLIN, 0};
	ck_assert_msg(poll(&pfd, 1, 100) == 0 || read(master, got, sizeof(got)) <= 0, "the terminal got output");
	close(master);
}
END_TEST

Suite *cli_errors_suite(void)
{
	Suite *s = suite_create("cli_errors");
	TCase *tc = tcase_create("refusals");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_bad_command_exits_with_one_line_and_changes_nothing, 0,
	                    (int)(sizeof(bad_commands) / sizeof(bad_commands[0])));
	tcase_add_loop_test(tc, test_write_into_a_locked_database_changes_nothing, 0,
	                    (int)(sizeof(locked_commands) / sizeof(locked_commands[0])));
	tcase_add_test(tc, test_qr_into_a_full_stdout_fails);
	tcase_add_test(tc, test_qr_png_into_a_terminal_is_refused);
	suite_add_tcase(s, tc);
	return s;
}
