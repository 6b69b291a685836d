/*
 * The admin CLI (add, get, list, rm, token) run as a process on the database
 * the daemon is serving at the same time: each subcommand's output and exit
 * status (0; 1 when not found, taken or failed; 2 on bad input with a
 * one-line error), and that the daemon sees what the CLI did and the other
 * way round; every COMMAND --help; which variables each command reads
 * (flags win, a bad value exits 2); and when serve makes its first admin
 * token.
 * Only serve and init create a database: every other command on
 * a path with none exits 1 naming it and leaves no file behind.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api_client.h"
#include "harness.h"
#include "migrations.h"

static struct daemon d;
static char out[65536], err[4096];

/* Variables some tests set for the CLI; cleared so that none leaks into
 * another test when Check runs them in one process (CK_FORK=no). */
static const char *const cli_vars[] = {"SHORTD_DEFAULT_STATUS", "SHORTD_LISTEN", "SHORTD_BASE_URL",
                                       "SHORTD_ADMIN_TOKEN"};

static void setup(void)
{
	for (size_t i = 0; i < sizeof(cli_vars) / sizeof(cli_vars[0]); i++)
		unsetenv(cli_vars[i]);
	client_daemon_start(&d, NULL);
}

static void teardown(void)
{
	fixture_stop(&d);
}

/* Runs shortd with args against the daemon's database. */
static int run(const char *const *args)
{
	return shortd_run(d.db, out, sizeof(out), err, sizeof(err), args);
}

/* Asserts a usage or runtime failure: status, nothing on stdout, and one
 * line on stderr starting "shortd: " that contains needle. */
static void assert_failed(int status, int expected, const char *needle)
{
	ck_assert_msg(status == expected, "exit %d, expected %d (stderr: %s)", status, expected, err);
	ck_assert_str_eq(out, "");
	ck_assert_msg(strncmp(err, "shortd: ", 8) == 0, "stderr: %s", err);
	ck_assert_msg(strchr(err, '\n') == err + strlen(err) - 1, "not one line: %s", err);
	ck_assert_msg(strstr(err, needle) != NULL, "'%s' not in: %s", needle, err);
}

static long api_status(const char *method, const char *path)
{
	struct http_result r;
	long status = client_call(&d, API_TEST_TOKEN, method, path, NULL, &r);

	http_result_free(&r);
	return status;
}

START_TEST(test_add_prints_the_short_url)
{
	const char *args[] = {"add",
	                      "https://t.example/cli",
	                      "--code",
	                      "fromcli",
	                      "--status",
	                      "308",
	                      "--expires",
	                      "2030-01-31T12:00:00Z",
	                      "--max-clicks",
	                      "9",
	                      "--forward-query",
	                      "--base-url",
	                      d.base,
	                      NULL};
	char expected[128];
	struct http_result r;
	json_t *l;

	ck_assert_int_eq(run(args), 0);
	snprintf(expected, sizeof(expected), "%s/fromcli\n", d.base);
	ck_assert_str_eq(out, expected);
	/* The daemon serves the link at once, with every option. */
	ck_assert_int_eq(client_call(&d, API_TEST_TOKEN, "GET", "/api/v1/links/fromcli", NULL, &r), 200);
	l = client_json(&r);
	http_result_free(&r);
	ck_assert_str_eq(client_str(l, "url"), "https://t.example/cli");
	ck_assert_int_eq(client_int(l, "status"), 308);
	ck_assert_str_eq(client_str(l, "expires_at"), "2030-01-31T12:00:00Z");
	ck_assert_int_eq(client_int(l, "max_clicks"), 9);
	ck_assert(json_is_true(json_object_get(l, "forward_query")));
	json_decref(l);
	snprintf(expected, sizeof(expected), "%s/fromcli", d.base);
	ck_assert_int_eq(http_do("GET", expected, NULL, 0, NULL, false, &r), 0);
	ck_assert_int_eq(r.status, 308);
	http_result_free(&r);
}
END_TEST

START_TEST(test_add_generates_a_code)
{
	const char *args[] = {"add", "https://t.example/gen", "--base-url", d.base, NULL};
	char path[128];
	size_t n = strlen(d.base);

	ck_assert_int_eq(run(args), 0);
	ck_assert(strncmp(out, d.base, n) == 0 && out[n] == '/');
	ck_assert_uint_eq(strlen(out + n + 1), 8); /* 7 characters and a newline */
	snprintf(path, sizeof(path), "/api/v1/links/%.7s", out + n + 1);
	ck_assert_int_eq(api_status("GET", path), 200);
}
END_TEST

struct bad_add {
	const char *args[8];
	int status;
	const char *needle;
};

static const struct bad_add bad_adds[] = {
    {{"add", NULL}, 2, "expected exactly one URL"},
    {{"add", "https://a.example", "https://b.example", NULL}, 2, "expected exactly one URL"},
    {{"add", "ftp://t.example", NULL}, 2, "invalid_url"},
    {{"add", "not a url", NULL}, 2, "invalid_url"},
    {{"add", "https://t.example", "--code", "api", NULL}, 2, "invalid_code"},
    {{"add", "https://t.example", "--code", "a/b", NULL}, 2, "invalid_code"},
    {{"add", "https://t.example", "--status", "200", NULL}, 2, "--status"},
    {{"add", "https://t.example", "--expires", "tomorrow", NULL}, 2, "--expires"},
    {{"add", "https://t.example", "--max-clicks", "-1", NULL}, 2, "--max-clicks"},
    /* the one integer rule of num.h: digits only, no sign, no spaces */
    {{"add", "https://t.example", "--max-clicks", "+5", NULL}, 2, "--max-clicks"},
    {{"add", "https://t.example", "--max-clicks", " 5", NULL}, 2, "--max-clicks"},
    {{"add", "https://t.example", "--max-clicks", "-0", NULL}, 2, "--max-clicks"},
    {{"add", "https://t.example", "--status", "+302", NULL}, 2, "--status"},
    {{"add", "https://t.example", "--colour", "red", NULL}, 2, "--colour"},
    {{"add", "https://t.example", "--code", NULL}, 2, "--code"},
    {{"add", "https://t.example", "--code", "taken", NULL}, 1, "code_taken"},
    {{"add", "https://t.example", "--base-url", "ftp://s.example", NULL}, 2, "--base-url"},
    {{"add", "https://t.example", "--base-url", "https://s.example/?q=1", NULL}, 2, "--base-url"},
    /* links to the daemon: serve's default listen address, the base URL */
    {{"add", "http://localhost:8080/x", NULL}, 2, "must not point at this shortener"},
    {{"add", "http://127.1:8080/x", "--base-url", "https://s.example", NULL}, 2, "must not point at this shortener"},
    {{"add", "https://S.EXAMPLE./x", "--base-url", "https://s.example", NULL}, 2, "must not point at this shortener"},
    {{"add", "http://[::1]:9000/x", "--base-url", "http://localhost:9000", NULL},
     2,
     "must not point at this shortener"},
};

START_TEST(test_add_refuses_bad_input)
{
	const struct bad_add *c = &bad_adds[_i];
	char *before, *after;

	unsetenv("SHORTD_LISTEN"); /* the rows assume serve's defaults */
	unsetenv("SHORTD_BASE_URL");
	json_decref(client_create_link(&d, "{\"url\":\"https://t.example/kept\",\"code\":\"taken\"}"));
	before = client_list_text(&d);
	assert_failed(run(c->args), c->status, c->needle);
	after = client_list_text(&d);
	ck_assert_str_eq(before, after);
	free(before);
	free(after);
}
END_TEST

/* The CLI cannot ask the daemon its address: it takes SHORTD_LISTEN, as
 * serve would, and refuses a link to any spelling of it. */
START_TEST(test_add_refuses_the_daemons_listen_address)
{
	char listen[64], self[96], other[96];
	const char *refused[] = {"add", self, "--base-url", "https://s.example", NULL};
	const char *accepted[] = {"add", other, "--base-url", "https://s.example", "--code", "nearby", NULL};

	snprintf(listen, sizeof(listen), "127.0.0.1:%u", d.port);
	ck_assert_int_eq(setenv("SHORTD_LISTEN", listen, 1), 0);
	unsetenv("SHORTD_BASE_URL");
	snprintf(self, sizeof(self), "http://LocalHost.:%u/x", d.port);
	assert_failed(run(refused), 2, "must not point at this shortener");
	snprintf(self, sizeof(self), "http://0x7f.1:%u/x", d.port);
	assert_failed(run(refused), 2, "must not point at this shortener");
	ck_assert_int_eq(api_status("GET", "/api/v1/links?limit=1000"), 200);
	snprintf(other, sizeof(other), "http://localhost:%u/x", d.port == 65535 ? 1 : d.port + 1);
	ck_assert_int_eq(run(accepted), 0);
	ck_assert_str_eq(out, "https://s.example/nearby\n");
}
END_TEST

START_TEST(test_get_prints_the_link_json)
{
	static const char *const args[] = {"get", "shown", NULL};
	json_error_t jerr;
	json_t *l;

	json_decref(client_create_link(&d, "{\"url\":\"https://t.example/get\",\"code\":\"shown\",\"max_clicks\":4}"));
	ck_assert_int_eq(run(args), 0);
	ck_assert_str_eq(err, "");
	l = json_loads(out, 0, &jerr);
	ck_assert_msg(l != NULL, "not JSON: %s", out);
	ck_assert_uint_eq(json_object_size(l), 15);
	ck_assert_str_eq(client_str(l, "code"), "shown");
	ck_assert_str_eq(client_str(l, "url"), "https://t.example/get");
	ck_assert_int_eq(client_int(l, "max_clicks"), 4);
	ck_assert(json_is_null(json_object_get(l, "expires_at")));
	json_decref(l);
}
END_TEST

START_TEST(test_get_missing_is_1_and_bad_code_is_2)
{
	static const char *const missing[] = {"get", "nope", NULL};
	static const char *const bad[] = {"get", "a b", NULL};
	static const char *const none[] = {"get", NULL};

	assert_failed(run(missing), 1, "no such link");
	assert_failed(run(bad), 2, "invalid code");
	assert_failed(run(none), 2, "expected exactly one CODE");
}
END_TEST

START_TEST(test_list_prints_one_line_per_link)
{
	static const char *const all[] = {"list", NULL};
	static const char *const one[] = {"list", "--limit", "1", NULL};
	static const char *const zero[] = {"list", "--limit", "0", NULL};
	static const char *const plus[] = {"list", "--limit", "+1", NULL};
	static const char *const extra[] = {"list", "x", NULL};

	ck_assert_int_eq(run(all), 0);
	ck_assert_str_eq(out, "");
	json_decref(client_create_link(&d, "{\"url\":\"https://t.example/1\",\"code\":\"one\",\"status\":301}"));
	json_decref(client_create_link(&d, "{\"url\":\"https://t.example/2\",\"code\":\"two\"}"));
	ck_assert_int_eq(run(all), 0);
	ck_assert_str_eq(out, "one\t301\t0\thttps://t.example/1\ntwo\t302\t0\thttps://t.example/2\n");
	ck_assert_int_eq(run(one), 0);
	ck_assert_str_eq(out, "one\t301\t0\thttps://t.example/1\n");
	assert_failed(run(zero), 2, "--limit");
	assert_failed(run(plus), 2, "--limit");
	assert_failed(run(extra), 2, "unexpected argument");
}
END_TEST

START_TEST(test_rm_deletes_and_missing_is_1)
{
	static const char *const rm[] = {"rm", "bye", NULL};

	json_decref(client_create_link(&d, "{\"url\":\"https://t.example/rm\",\"code\":\"bye\"}"));
	ck_assert_int_eq(run(rm), 0);
	ck_assert_str_eq(out, "");
	ck_assert_str_eq(err, "");
	ck_assert_int_eq(api_status("GET", "/api/v1/links/bye"), 404);
	ck_assert_int_eq(api_status("GET", "/bye"), 404);
	assert_failed(run(rm), 1, "no such link");
}
END_TEST

/* The end of a token line's last column, at p: "never\n" or an RFC 3339
 * time and "\n"; NULL when it is neither. */
static const char *last_use_end(const char *p)
{
	int y, mo, da, h, mi, s, n = 0;

	if (strncmp(p, "never\n", 6) == 0)
		return p + 6;
	if (sscanf(p, "%4d-%2d-%2dT%2d:%2d:%2dZ\n%n", &y, &mo, &da, &h, &mi, &s, &n) == 6 && n == 21)
		return p + 21;
	return NULL;
}

START_TEST(test_token_create_list_revoke)
{
	static const char *const create[] = {"token", "create", "--name", "deploy", NULL};
	static const char *const create_ro[] = {"token", "create", "--name", "viewer", "--read-only", NULL};
	static const char *const list[] = {"token", "list", NULL};
	static const char *const revoke[] = {"token", "revoke", "deploy", NULL};
	char admin[64], viewer[64];
	struct http_result r;
	int y, mo, da, h, mi, s;

	ck_assert_int_eq(run(create), 0);
	ck_assert_uint_eq(strlen(out), 44);
	memcpy(admin, out, 43);
	admin[43] = '\0';
	ck_assert_ptr_nonnull(strstr(err, "shown only this once"));
	ck_assert_int_eq(run(create_ro), 0);
	memcpy(viewer, out, 43);
	viewer[43] = '\0';
	ck_assert_str_ne(admin, viewer);

	/* The running daemon accepts both at once, each with its role. */
	ck_assert_int_eq(client_call(&d, admin, "POST", "/api/v1/links", "{\"url\":\"https://t.example/t\"}", &r), 201);
	http_result_free(&r);
	ck_assert_int_eq(client_call(&d, viewer, "GET", "/api/v1/links", NULL, &r), 200);
	http_result_free(&r);
	ck_assert_int_eq(client_call(&d, viewer, "DELETE", "/api/v1/links/x", NULL, &r), 403);
	http_result_free(&r);

	ck_assert_int_eq(run(list), 0);
	ck_assert_ptr_null(strstr(out, admin));
	ck_assert_ptr_null(strstr(out, viewer));
	/* name, role, created, last use: "never", or a time once the daemon
	 * has written the uses above (within its flush interval) */
	ck_assert_int_eq(sscanf(out, "deploy\tadmin\t%4d-%2d-%2dT%2d:%2d:%2dZ\t", &y, &mo, &da, &h, &mi, &s), 6);
	const char *next = last_use_end(out + 34);
	ck_assert_msg(next != NULL, "token list: %s", out);
	ck_assert_int_eq(sscanf(next, "viewer\tread-only\t%4d-%2d-%2dT%2d:%2d:%2dZ\t", &y, &mo, &da, &h, &mi, &s), 6);
	next = last_use_end(next + 38);
	ck_assert_msg(next != NULL && *next == '\0', "token list: %s", out);

	ck_assert_int_eq(run(revoke), 0);
	ck_assert_int_eq(client_call(&d, admin, "GET", "/api/v1/links", NULL, &r), 401);
	http_result_free(&r);
	ck_assert_int_eq(run(list), 0);
	ck_assert(strncmp(out, "viewer\tread-only\t", 17) == 0);
	assert_failed(run(revoke), 1, "no such token");
}
END_TEST

START_TEST(test_token_create_without_a_name_makes_distinct_names)
{
	static const char *const create[] = {"token", "create", NULL};
	static const char *const list[] = {"token", "list", NULL};
	long long t1, t2;
	unsigned r1, r2;
	char role1[16], role2[16];

	ck_assert_int_eq(run(create), 0);
	ck_assert_int_eq(run(create), 0);
	ck_assert_int_eq(run(list), 0);
	ck_assert_msg(sscanf(out, "token-%lld-%4x\t%15s\t%*s\t%*s\ntoken-%lld-%4x\t%15s\t", &t1, &r1, role1, &t2, &r2,
	                     role2) == 6,
	              "token list: %s", out);
	ck_assert_str_eq(role1, "admin");
	ck_assert_str_eq(role2, "admin");
	ck_assert(t1 != t2 || r1 != r2);
}
END_TEST

START_TEST(test_token_refuses_bad_input)
{
	static const char *const dup[] = {"token", "create", "--name", "twice", NULL};
	static const char *const bad_name[] = {"token", "create", "--name", "has space", NULL};
	static const char *const no_sub[] = {"token", NULL};
	static const char *const bad_sub[] = {"token", "rotate", NULL};
	static const char *const revoke_none[] = {"token", "revoke", NULL};
	static const char *const list_ro[] = {"token", "list", "--read-only", NULL};

	ck_assert_int_eq(run(dup), 0);
	assert_failed(run(dup), 1, "exists");
	assert_failed(run(bad_name), 2, "--name");
	assert_failed(run(no_sub), 2, "expected create, list or revoke");
	assert_failed(run(bad_sub), 2, "expected create, list or revoke");
	assert_failed(run(revoke_none), 2, "expected exactly one NAME");
	assert_failed(run(list_ro), 2, "--read-only");
}
END_TEST

START_TEST(test_api_links_show_in_cli)
{
	static const char *const list[] = {"list", NULL};
	static const char *const get[] = {"get", "viaapi", NULL};

	json_decref(client_create_link(&d, "{\"url\":\"https://t.example/api\",\"code\":\"viaapi\",\"status\":303}"));
	ck_assert_int_eq(run(list), 0);
	ck_assert_str_eq(out, "viaapi\t303\t0\thttps://t.example/api\n");
	ck_assert_int_eq(run(get), 0);
	ck_assert_ptr_nonnull(strstr(out, "\"code\": \"viaapi\""));
}
END_TEST

/* Every command's --help (or -h, anywhere before "--") prints that
 * command's usage on stdout and exits 0, as shortd --help does. */
static const struct {
	const char *args[4];
	const char *needle;
} helps[] = {
    {{"serve", "--help", NULL}, "serve  [--listen HOST:PORT]"},
    {{"serve", "--listen", "127.0.0.1:0", "-h"}, "[--link-cache MB]"},
    {{"add", "--help", NULL}, "add URL [--code CODE]"},
    {{"add", "https://t.example/", "-h", NULL}, "add URL [--code CODE]"},
    {{"get", "--help", NULL}, "get CODE"},
    {{"list", "--help", NULL}, "list [--limit N]"},
    {{"rm", "--help", NULL}, "rm CODE"},
    {{"token", "--help", NULL}, "token create [--name NAME]"},
    {{"token", "create", "--help", NULL}, "token create [--name NAME]"},
    {{"token", "revoke", "-h", NULL}, "token list | token revoke NAME"},
};

START_TEST(test_command_help_prints_its_usage)
{
	const char *args[5] = {NULL};

	memcpy(args, helps[_i].args, sizeof(helps[_i].args));
	ck_assert_int_eq(run(args), 0);
	ck_assert_str_eq(err, "");
	ck_assert_msg(strncmp(out, "usage:", 6) == 0, "stdout: %s", out);
	ck_assert_msg(strstr(out, helps[_i].needle) != NULL, "'%s' not in: %s", helps[_i].needle, out);
	/* One command's usage, not the whole list. */
	if (strcmp(helps[_i].args[0], "token") != 0)
		ck_assert_ptr_null(strstr(out, "token create"));
}
END_TEST

/* shortd add uses $SHORTD_DEFAULT_STATUS when --status is not given (a bad
 * one exits 2 and creates nothing), and does not read it when it is. */
START_TEST(test_add_default_status_comes_from_the_environment)
{
	static const char *const plain[] = {"add", "https://t.example/d", "--code", "envstatus", NULL};
	static const char *const flagged[] = {"add", "https://t.example/d", "--code", "flagged", "--status", "301",
	                                      NULL};
	static const char *const get[] = {"get", "envstatus", NULL};
	char *before, *after;

	setenv("SHORTD_DEFAULT_STATUS", "999", 1);
	before = client_list_text(&d);
	assert_failed(run(plain), 2, "SHORTD_DEFAULT_STATUS");
	after = client_list_text(&d);
	ck_assert_str_eq(before, after);
	free(before);
	free(after);
	ck_assert_int_eq(run(flagged), 0);
	ck_assert_int_eq(api_status("GET", "/api/v1/links/flagged"), 200);

	setenv("SHORTD_DEFAULT_STATUS", "307", 1);
	ck_assert_int_eq(run(plain), 0);
	ck_assert_int_eq(run(get), 0);
	ck_assert_ptr_nonnull(strstr(out, "\"status\": 307"));
}
END_TEST

/* A bad $SHORTD_LISTEN is an error where the CLI uses it (the short URL of
 * add and get) and is not read when --base-url or $SHORTD_BASE_URL is set. */
START_TEST(test_bad_listen_env_is_refused_where_used)
{
	static const char *const plain[] = {"add", "https://t.example/l", "--code", "listen1", NULL};
	const char *with_base[] = {"add", "https://t.example/l", "--code", "listen2", "--base-url", d.base, NULL};
	static const char *const list[] = {"list", NULL};
	char expected[128];

	setenv("SHORTD_LISTEN", "nowhere", 1);
	assert_failed(run(plain), 2, "SHORTD_LISTEN");
	ck_assert_int_eq(api_status("GET", "/api/v1/links/listen1"), 404);
	ck_assert_int_eq(run(with_base), 0);
	snprintf(expected, sizeof(expected), "%s/listen2\n", d.base);
	ck_assert_str_eq(out, expected);
	ck_assert_int_eq(run(list), 0);

	setenv("SHORTD_LISTEN", "127.0.0.1:9", 1);
	ck_assert_int_eq(run(plain), 0);
	ck_assert_str_eq(out, "http://127.0.0.1:9/listen1\n");
	setenv("SHORTD_BASE_URL", "https://sho.rt", 1);
	setenv("SHORTD_LISTEN", "nowhere", 1);
	static const char *const get[] = {"get", "listen1", NULL};
	ck_assert_int_eq(run(get), 0);
	ck_assert_ptr_nonnull(strstr(out, "\"short_url\": \"https://sho.rt/listen1\""));
}
END_TEST

/* The token commands take --base-url like every command (checked, unused). */
START_TEST(test_token_commands_take_base_url)
{
	const char *create[] = {"token", "create", "--name", "b", "--base-url", d.base, NULL};
	const char *list[] = {"token", "list", "--base-url", d.base, NULL};
	const char *revoke[] = {"token", "revoke", "b", "--base-url", d.base, NULL};
	static const char *const bad[] = {"token", "list", "--base-url", "ftp://x", NULL};

	ck_assert_int_eq(run(create), 0);
	ck_assert_int_eq(run(list), 0);
	ck_assert(strncmp(out, "b\tadmin\t", 8) == 0);
	ck_assert_int_eq(run(revoke), 0);
	assert_failed(run(bad), 2, "--base-url");
}
END_TEST

/* With stdout and stderr on one pipe, the token comes before the note. */
START_TEST(test_token_create_prints_the_token_first_into_a_pipe)
{
	char cmd[1024], line1[256] = "", line2[256] = "";
	FILE *p;

	snprintf(cmd, sizeof(cmd), "SHORTD_DB='%s' '%s' token create --name piped 2>&1 | cat", d.db,
	         getenv("SHORTD_BIN") != NULL ? getenv("SHORTD_BIN") : "build/shortd");
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(fgets(line1, sizeof(line1), p));
	ck_assert_ptr_nonnull(fgets(line2, sizeof(line2), p));
	ck_assert_int_eq(pclose(p), 0);
	ck_assert_msg(strlen(line1) == 44 && strncmp(line1, "shortd:", 7) != 0, "first line: %s", line1);
	ck_assert_msg(strncmp(line2, "shortd: token 'piped' (admin) created", 37) == 0, "second line: %s", line2);
}
END_TEST

/* A token that cannot be written out is not kept: no one could use it, and
 * it would stay an admin credential in the database. */
START_TEST(test_token_create_into_a_full_stdout_keeps_no_token)
{
	static const char *const list[] = {"token", "list", NULL};
	char cmd[1024], line[512] = "";
	FILE *p;

	snprintf(cmd, sizeof(cmd), "SHORTD_DB='%s' '%s' token create --name lost 2>&1 >/dev/full", d.db,
	         getenv("SHORTD_BIN") != NULL ? getenv("SHORTD_BIN") : "build/shortd");
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), p));
	ck_assert_int_eq(WEXITSTATUS(pclose(p)), 1);
	ck_assert_str_eq(line, "shortd: token 'lost': cannot write it to standard output; it was not kept\n");
	ck_assert_int_eq(run(list), 0);
	ck_assert_msg(strstr(out, "lost\t") == NULL, "token list: %s", out);
}
END_TEST

/* Output that cannot be written is a failure: list and get into a full
 * disk exit 1 with one line on stderr, not 0 with nothing shown. */
START_TEST(test_output_into_a_full_stdout_fails)
{
	static const char *const cmds[] = {"list", "get one", "add https://t.example/f --code f"};
	const char *bin = getenv("SHORTD_BIN") != NULL ? getenv("SHORTD_BIN") : "build/shortd";

	json_decref(client_create_link(&d, "{\"url\":\"https://t.example/1\",\"code\":\"one\"}"));
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		char cmd[1024], line[512] = "";
		FILE *p;

		snprintf(cmd, sizeof(cmd), "SHORTD_DB='%s' '%s' %s 2>&1 >/dev/full", d.db, bin, cmds[i]);
		p = popen(cmd, "r");
		ck_assert_ptr_nonnull(p);
		ck_assert_ptr_nonnull(fgets(line, sizeof(line), p));
		ck_assert_msg(fgetc(p) == EOF, "%s: more than one line", cmds[i]);
		ck_assert_msg(WEXITSTATUS(pclose(p)) == 1, "%s: exit status", cmds[i]);
		ck_assert_str_eq(line, "shortd: cannot write to standard output: No space left on device\n");
	}
}
END_TEST

/* An expiry in the past is refused on create (CLI and API alike, and the
 * link is not made); an update may set one, which ends the link. */
START_TEST(test_past_expiry_is_refused_on_create_not_on_update)
{
	static const char *const past[] = {"add",       "https://t.example/p",  "--code", "late",
	                                   "--expires", "2020-01-01T00:00:00Z", NULL};
	struct http_result r;
	char url[128];

	assert_failed(run(past), 2, "invalid_expires_at");
	ck_assert_int_eq(
	    client_call(&d, API_TEST_TOKEN, "POST", "/api/v1/links",
	                "{\"url\":\"https://t.example/p\",\"code\":\"late\",\"expires_at\":\"2020-01-01T00:00:00Z\"}",
	                &r),
	    400);
	ck_assert_ptr_nonnull(strstr(r.body, "\"invalid_expires_at\""));
	http_result_free(&r);
	ck_assert_int_eq(api_status("GET", "/api/v1/links/late"), 404);

	json_decref(client_create_link(&d, "{\"url\":\"https://t.example/p\",\"code\":\"late\"}"));
	ck_assert_int_eq(client_call(&d, API_TEST_TOKEN, "PATCH", "/api/v1/links/late",
	                             "{\"expires_at\":\"2020-01-01T00:00:00Z\"}", &r),
	                 200);
	http_result_free(&r);
	snprintf(url, sizeof(url), "%s/late", d.base);
	ck_assert_int_eq(http_do("GET", url, NULL, 0, NULL, false, &r), 0);
	ck_assert_int_eq(r.status, 410);
	http_result_free(&r);
}
END_TEST

static int run_in(const char *db, const char *const *args)
{
	return shortd_run(db, out, sizeof(out), err, sizeof(err), args);
}

/* A start that fails after the database opened (port taken, access log
 * unwritable) creates no admin token and prints none; the first start
 * that listens does. */
START_TEST(test_admin_token_is_made_only_by_a_start_that_listens)
{
	struct daemon fresh;
	char taken[64], log[400], text[8192];
	const char *busy[] = {"serve", "--listen", taken, NULL};
	const char *nolog[] = {"serve", "--listen", "127.0.0.1:0", "--access-log", log, NULL};
	FILE *f;
	size_t n;

	unsetenv("SHORTD_ADMIN_TOKEN");
	daemon_prepare(&fresh);
	snprintf(taken, sizeof(taken), "127.0.0.1:%u", d.port);
	snprintf(log, sizeof(log), "%s/no/such/dir/access.log", fresh.dir);
	ck_assert_int_eq(run_in(fresh.db, busy), 1);
	ck_assert_ptr_null(strstr(err, "admin token"));
	ck_assert_int_eq(run_in(fresh.db, nolog), 1);
	ck_assert_ptr_null(strstr(err, "admin token"));
	ck_assert_int_eq(sqlfile_int(fresh.db, "SELECT count(*) FROM tokens"), 0);

	ck_assert_int_eq(daemon_start(&fresh, NULL, NULL), 0);
	f = fopen(fresh.log, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	ck_assert_msg(strncmp(text, "admin token (shown once): ", 26) == 0 && strstr(text, "\nlistening on ") != NULL,
	              "serve printed: %s", text);
	ck_assert_int_eq(sqlfile_int(fresh.db, "SELECT count(*) FROM tokens"), 1);
	ck_assert_int_eq(daemon_stop(&fresh), 0);
	daemon_cleanup(&fresh);
}
END_TEST

/* serve: a variable that a flag replaces is not read; a fixed admin token
 * shorter than 32 characters is refused with exit 2. */
START_TEST(test_serve_flag_replaces_a_bad_variable)
{
	struct daemon other;
	static const char *const threads[] = {"--threads", "2", NULL};
	static const char *const bad_env[] = {"SHORTD_THREADS=0", NULL};
	static const char *const serve[] = {"serve", "--listen", "127.0.0.1:0", NULL};

	fixture_start(&other, NULL, threads, bad_env);
	fixture_stop(&other);

	setenv("SHORTD_ADMIN_TOKEN", "x", 1);
	assert_failed(run_in(d.db, serve), 2, "SHORTD_ADMIN_TOKEN: expected at least 32 characters");
}
END_TEST

/* ---- the database must exist ---- */

/* Every command but serve and init, with --db given as a mistyped flag. */
static const char *const db_commands[][6] = {
    {"add", "https://t.example/x", "--db", NULL},
    {"add", "https://t.example/x", "--code", "x", "--db", NULL},
    {"get", "x", "--db", NULL},
    {"list", "--db", NULL},
    {"rm", "x", "--db", NULL},
    {"token", "create", "--name", "n", "--db", NULL},
    {"token", "list", "--db", NULL},
    {"token", "revoke", "n", "--db", NULL},
};

/* Runs db_commands[i] on path (as --db and as SHORTD_DB). */
static int run_on(int i, const char *path)
{
	const char *args[8];
	int n = 0;

	while (db_commands[i][n] != NULL) {
		args[n] = db_commands[i][n];
		n++;
	}
	args[n++] = path;
	args[n] = NULL;
	return shortd_run(path, out, sizeof(out), err, sizeof(err), args);
}

/* The names in dir other than . and .., joined with spaces. */
static void dir_entries(const char *dir, char *names, size_t size)
{
	DIR *dp = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	ck_assert_ptr_nonnull(dp);
	names[0] = '\0';
	while ((e = readdir(dp)) != NULL) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n += (size_t)snprintf(names + n, n < size ? size - n : 0, "%s ", e->d_name);
	}
	closedir(dp);
}

START_TEST(test_command_on_a_missing_database_exits_1_and_creates_nothing)
{
	char dir[256], path[300], needle[400], names[256];

	tempdb_make("nodb", dir, sizeof(dir), path, sizeof(path));
	snprintf(needle, sizeof(needle), "no database at %s", path);
	assert_failed(run_on(_i, path), 1, needle);
	dir_entries(dir, names, sizeof(names));
	ck_assert_msg(names[0] == '\0', "left behind: %s", names);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

START_TEST(test_command_on_an_empty_file_exits_1_and_leaves_it)
{
	char dir[256], path[300], needle[400], names[256];
	struct stat sb;
	FILE *f;

	tempdb_make("emptydb", dir, sizeof(dir), path, sizeof(path));
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	snprintf(needle, sizeof(needle), "no database at %s: the file is empty", path);
	assert_failed(run_on(_i, path), 1, needle);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(sb.st_size, 0);
	dir_entries(dir, names, sizeof(names));
	ck_assert_str_eq(names, "test.db ");
	tempdb_remove(dir, path);
}
END_TEST

START_TEST(test_command_on_a_bad_file_keeps_its_error)
{
	static const char *const list[] = {"list", NULL};
	char dir[256], path[300], names[256];
	FILE *f;

	tempdb_make("baddb", dir, sizeof(dir), path, sizeof(path));
	ck_assert_int_eq(mkdir(path, 0700), 0);
	assert_failed(shortd_run(path, out, sizeof(out), err, sizeof(err), list), 1, "cannot open database");
	ck_assert_int_eq(rmdir(path), 0);

	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < 200; i++)
		fputs("this is a text file, not an SQLite database\n", f);
	fclose(f);
	assert_failed(shortd_run(path, out, sizeof(out), err, sizeof(err), list), 1, "not a database");
	dir_entries(dir, names, sizeof(names));
	ck_assert_str_eq(names, "test.db ");
	ck_assert_int_eq(unlink(path), 0);

	sqlfile_exec(path, "CREATE TABLE future (x INTEGER); PRAGMA user_version = 999;");
	assert_failed(shortd_run(path, out, sizeof(out), err, sizeof(err), list), 1, "newer");
	ck_assert_int_eq(sqlfile_int(path, "PRAGMA user_version"), 999);
	tempdb_remove(dir, path);
}
END_TEST

START_TEST(test_init_creates_then_finds_a_current_database)
{
	static const char *const init[] = {"init", NULL};
	static const char *const list[] = {"list", NULL};
	char dir[256], path[300], want[400];
	int version;

	tempdb_make("init", dir, sizeof(dir), path, sizeof(path));
	ck_assert_int_eq(shortd_run(path, out, sizeof(out), err, sizeof(err), init), 0);
	ck_assert_str_eq(out, "");
	version = sqlfile_int(path, "PRAGMA user_version");
	ck_assert_int_gt(version, 0);
	snprintf(want, sizeof(want), "shortd: created %s (schema version %d)\n", path, version);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(sqlfile_int(path, "SELECT count(*) FROM links"), 0);
	ck_assert_int_eq(shortd_run(path, out, sizeof(out), err, sizeof(err), list), 0);

	ck_assert_int_eq(shortd_run(path, out, sizeof(out), err, sizeof(err), init), 0);
	snprintf(want, sizeof(want), "shortd: %s is already a shortd database (schema version %d); nothing to do\n",
	         path, version);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(sqlfile_int(path, "PRAGMA user_version"), version);
	tempdb_remove(dir, path);
}
END_TEST

START_TEST(test_init_migrates_an_older_database)
{
	static const char *const init[] = {"init", NULL};
	static const char *const get[] = {"get", "old", NULL};
	char dir[256], path[300], want[400];
	int latest = sqlite_migrations[sqlite_migrations_count - 1].version;

	tempdb_make("initold", dir, sizeof(dir), path, sizeof(path));
	sqlfile_exec(path, sqlite_migrations[0].sql);
	sqlfile_exec(path, "PRAGMA user_version = 1; INSERT INTO links (code, url, status, forward_query, disabled, "
	                   "created_at, updated_at) VALUES ('old', 'https://old.example/', 302, 0, 0, 1600000000, "
	                   "1600000000)");
	ck_assert_int_eq(shortd_run(path, out, sizeof(out), err, sizeof(err), init), 0);
	snprintf(want, sizeof(want), "shortd: %s migrated from schema version 1 to %d\n", path, latest);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(sqlfile_int(path, "PRAGMA user_version"), latest);
	ck_assert_int_eq(shortd_run(path, out, sizeof(out), err, sizeof(err), get), 0);
	ck_assert_ptr_nonnull(strstr(out, "\"url\": \"https://old.example/\""));
	tempdb_remove(dir, path);
}
END_TEST

START_TEST(test_init_takes_db_and_refuses_what_serve_refuses)
{
	char dir[256], path[300], wal[320], other[320], names[256];
	const char *init_db[] = {"init", "--db", other, NULL};
	static const char *const init[] = {"init", NULL};
	static const char *const extra[] = {"init", "x", NULL};
	FILE *f;

	tempdb_make("initbad", dir, sizeof(dir), path, sizeof(path));
	/* --db wins over SHORTD_DB. */
	snprintf(other, sizeof(other), "%s/other.db", dir);
	ck_assert_int_eq(shortd_run(path, out, sizeof(out), err, sizeof(err), init_db), 0);
	ck_assert_int_gt(sqlfile_int(other, "PRAGMA user_version"), 0);
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_int_eq(unlink(other), 0);
	assert_failed(shortd_run(path, out, sizeof(out), err, sizeof(err), extra), 2, "unexpected argument");

	/* A newer database: refused as serve refuses it, untouched. */
	sqlfile_exec(path, "CREATE TABLE future (x INTEGER); PRAGMA user_version = 999;");
	assert_failed(shortd_run(path, out, sizeof(out), err, sizeof(err), init), 1, "999");
	ck_assert_int_eq(sqlfile_int(path, "PRAGMA user_version"), 999);
	ck_assert_int_eq(unlink(path), 0);

	/* A -wal with data and no database beside it may be all that is left of
	 * one: init (like serve) leaves it alone instead of starting afresh. */
	snprintf(wal, sizeof(wal), "%s-wal", path);
	f = fopen(wal, "w");
	ck_assert_ptr_nonnull(f);
	fputs("committed frames", f);
	fclose(f);
	assert_failed(shortd_run(path, out, sizeof(out), err, sizeof(err), init), 1, "holds data");
	dir_entries(dir, names, sizeof(names));
	ck_assert_str_eq(names, "test.db-wal ");
	ck_assert_int_eq(unlink(wal), 0);

	/* A directory at the path keeps its clear error. */
	ck_assert_int_eq(mkdir(path, 0700), 0);
	assert_failed(shortd_run(path, out, sizeof(out), err, sizeof(err), init), 1, "cannot open database");
	ck_assert_int_eq(rmdir(path), 0);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

START_TEST(test_serve_still_creates_the_database)
{
	struct daemon fresh;

	client_daemon_start(&fresh, NULL);
	ck_assert_int_gt(sqlfile_int(fresh.db, "PRAGMA user_version"), 0);
	fixture_stop(&fresh);
}
END_TEST

Suite *cli_suite(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("commands");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_add_prints_the_short_url);
	tcase_add_test(tc, test_add_generates_a_code);
	tcase_add_loop_test(tc, test_add_refuses_bad_input, 0, (int)(sizeof(bad_adds) / sizeof(bad_adds[0])));
	tcase_add_test(tc, test_add_refuses_the_daemons_listen_address);
	tcase_add_test(tc, test_get_prints_the_link_json);
	tcase_add_test(tc, test_get_missing_is_1_and_bad_code_is_2);
	tcase_add_test(tc, test_list_prints_one_line_per_link);
	tcase_add_test(tc, test_rm_deletes_and_missing_is_1);
	tcase_add_test(tc, test_token_create_list_revoke);
	tcase_add_test(tc, test_token_create_without_a_name_makes_distinct_names);
	tcase_add_test(tc, test_token_refuses_bad_input);
	tcase_add_test(tc, test_api_links_show_in_cli);
	tcase_add_loop_test(tc, test_command_help_prints_its_usage, 0, (int)(sizeof(helps) / sizeof(helps[0])));
	tcase_add_test(tc, test_add_default_status_comes_from_the_environment);
	tcase_add_test(tc, test_bad_listen_env_is_refused_where_used);
	tcase_add_test(tc, test_token_commands_take_base_url);
	tcase_add_test(tc, test_token_create_prints_the_token_first_into_a_pipe);
	tcase_add_test(tc, test_token_create_into_a_full_stdout_keeps_no_token);
	tcase_add_test(tc, test_output_into_a_full_stdout_fails);
	tcase_add_test(tc, test_past_expiry_is_refused_on_create_not_on_update);
	tcase_add_test(tc, test_admin_token_is_made_only_by_a_start_that_listens);
	tcase_add_test(tc, test_serve_flag_replaces_a_bad_variable);
	suite_add_tcase(s, tc);

	tc = tcase_create("database");
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_command_on_a_missing_database_exits_1_and_creates_nothing, 0,
	                    (int)(sizeof(db_commands) / sizeof(db_commands[0])));
	tcase_add_loop_test(tc, test_command_on_an_empty_file_exits_1_and_leaves_it, 0,
	                    (int)(sizeof(db_commands) / sizeof(db_commands[0])));
	tcase_add_test(tc, test_command_on_a_bad_file_keeps_its_error);
	tcase_add_test(tc, test_init_creates_then_finds_a_current_database);
	tcase_add_test(tc, test_init_migrates_an_older_database);
	tcase_add_test(tc, test_init_takes_db_and_refuses_what_serve_refuses);
	tcase_add_test(tc, test_serve_still_creates_the_database);
	suite_add_tcase(s, tc);
	return s;
}
