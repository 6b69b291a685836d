/*
 * /api/v1/tokens against the real daemon over libcurl: a token made over
 * the API works at once and its secret is shown only in the answer that
 * made it; the list shows every stored token and never a secret or a hash;
 * a token is revoked by its name (percent-decoded) and gets 401 from the
 * next request on; last_used_at follows the uses (at once over the API,
 * within a flush interval in the store and the CLI); the last admin token is kept unless a fixed admin token opens
 * the API. Refusals (bad JSON, names, roles, read-only tokens) are rows of
 * test_api_errors.c.
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_client.h"
#include "harness.h"

#define T "/api/v1/tokens"

static struct daemon d;

static void setup(void)
{
	/* --flush-interval 100: the CLI sees a use within 100 ms */
	static const char *const args[] = {"--flush-interval", "100", NULL};

	client_daemon_start(&d, args);
}

static void teardown(void)
{
	fixture_stop(&d);
}

/* POST /api/v1/tokens with token as caller; asserts 201 and returns the
 * answer (the caller decrefs it). */
static json_t *create_token(const char *caller, const char *name, const char *role)
{
	char body[256];
	struct http_result r;
	json_t *j;

	snprintf(body, sizeof(body), "{\"name\":\"%s\",\"role\":\"%s\"}", name, role);
	ck_assert_msg(client_call(&d, caller, "POST", T, body, &r) == 201, "create %s: %ld %s", name, r.status, r.body);
	client_assert_admin_headers(&r);
	j = client_json(&r);
	http_result_free(&r);
	return j;
}

static long call(const char *token, const char *method, const char *path, const char *json)
{
	struct http_result r;
	long status = client_call(&d, token, method, path, json, &r);

	http_result_free(&r);
	return status;
}

/* The list's raw text and its items; asserts 200. */
static json_t *list_tokens(const char *caller, char **text)
{
	struct http_result r;
	json_t *j, *items;

	ck_assert_msg(client_call(&d, caller, "GET", T, NULL, &r) == 200, "list: %ld %s", r.status, r.body);
	client_assert_admin_headers(&r);
	ck_assert_str_eq(client_header(&r, "Content-Type"), "application/json");
	j = client_json(&r);
	if (text != NULL)
		*text = strdup(r.body);
	http_result_free(&r);
	ck_assert_int_eq(json_object_size(j), 1);
	items = json_incref(json_object_get(j, "items"));
	ck_assert(json_is_array(items));
	json_decref(j);
	return items;
}

/* The listed token called name, or NULL. Borrowed from items. */
static json_t *listed(json_t *items, const char *name)
{
	size_t i;
	json_t *t;

	json_array_foreach(items, i, t)
	{
		if (strcmp(client_str(t, "name"), name) == 0)
			return t;
	}
	return NULL;
}

START_TEST(test_create_list_use_and_revoke)
{
	json_t *ops = create_token(API_TEST_TOKEN, "ops", "admin");
	json_t *viewer = create_token(API_TEST_TOKEN, "viewer", "read");
	char ops_secret[64], viewer_secret[64], *text;
	json_t *items, *t;

	/* the answer: the token's fields and its secret, 43 base64url characters */
	ck_assert_int_eq(json_object_size(ops), 6);
	ck_assert_str_eq(client_str(ops, "name"), "ops");
	ck_assert_str_eq(client_str(ops, "role"), "admin");
	ck_assert_int_gt(client_int(ops, "id"), 0);
	ck_assert_uint_eq(strlen(client_str(ops, "created_at")), 20);
	ck_assert(json_is_null(json_object_get(ops, "last_used_at")));
	ck_assert_uint_eq(strlen(client_str(ops, "token")), 43);
	ck_assert_uint_eq(
	    strspn(client_str(ops, "token"), "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), 43);
	ck_assert_str_eq(client_str(viewer, "role"), "read");
	ck_assert_int_gt(client_int(viewer, "id"), client_int(ops, "id"));
	snprintf(ops_secret, sizeof(ops_secret), "%s", client_str(ops, "token"));
	snprintf(viewer_secret, sizeof(viewer_secret), "%s", client_str(viewer, "token"));

	/* each works at once, with its role */
	ck_assert_int_eq(call(ops_secret, "GET", "/api/v1/links", NULL), 200);
	ck_assert_int_eq(call(viewer_secret, "GET", "/api/v1/links", NULL), 200);
	ck_assert_int_eq(call(viewer_secret, "POST", "/api/v1/links", "{\"url\":\"https://t.example/\"}"), 403);
	ck_assert_int_eq(call(viewer_secret, "GET", T, NULL), 403);

	/* the list: every stored token, never a secret or a hash */
	items = list_tokens(ops_secret, &text);
	ck_assert_int_eq(json_array_size(items), 2);
	ck_assert_ptr_null(strstr(text, ops_secret));
	ck_assert_ptr_null(strstr(text, viewer_secret));
	ck_assert_ptr_null(strstr(text, "\"token\""));
	ck_assert_ptr_null(strstr(text, "hash"));
	t = listed(items, "ops");
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(json_object_size(t), 5);
	ck_assert_int_eq(client_int(t, "id"), client_int(ops, "id"));
	ck_assert_str_eq(client_str(t, "created_at"), client_str(ops, "created_at"));
	/* this very request and the ones before are uses */
	ck_assert_uint_eq(strlen(client_str(t, "last_used_at")), 20);
	t = listed(items, "viewer");
	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(client_str(t, "role"), "read");
	ck_assert_uint_eq(strlen(client_str(t, "last_used_at")), 20);
	json_decref(items);
	free(text);

	/* revoked by name: 401 from the next request on, and gone from the list */
	ck_assert_int_eq(call(ops_secret, "DELETE", T "/viewer", NULL), 204);
	ck_assert_int_eq(call(viewer_secret, "GET", "/api/v1/links", NULL), 401);
	ck_assert_int_eq(call(ops_secret, "DELETE", T "/viewer", NULL), 404);
	items = list_tokens(API_TEST_TOKEN, NULL);
	ck_assert_int_eq(json_array_size(items), 1);
	ck_assert_ptr_null(listed(items, "viewer"));
	json_decref(items);

	/* a name is free again once its token is revoked; the id is new */
	json_t *again = create_token(ops_secret, "viewer", "read");
	ck_assert_int_gt(client_int(again, "id"), client_int(viewer, "id"));
	json_decref(again);
	json_decref(ops);
	json_decref(viewer);
}
END_TEST

/* The secret is in the answer to the POST and nowhere after: not in the
 * list, not in the CLI's list, not in the database, not in the log. */
START_TEST(test_secret_is_shown_once)
{
	static const char *const list[] = {"token", "list", NULL};
	json_t *made = create_token(API_TEST_TOKEN, "once", "admin");
	char secret[64], out[2048], err[256], *text, *logtext;
	json_t *items;
	FILE *f;
	long n;

	snprintf(secret, sizeof(secret), "%s", client_str(made, "token"));
	ck_assert_int_eq(call(secret, "GET", "/api/v1/links", NULL), 200);
	items = list_tokens(secret, &text);
	ck_assert_ptr_null(strstr(text, secret));
	json_decref(items);
	free(text);
	ck_assert_int_eq(shortd_run(d.db, out, sizeof(out), err, sizeof(err), list), 0);
	ck_assert_ptr_null(strstr(out, secret));
	ck_assert_int_eq(daemon_stop(&d), 0);
	if (harness_uses_pg()) {
		/* No column of any token's row holds it. */
		char sql[256];
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM tokens t WHERE strpos(t::text, '%s') > 0", secret);
		ck_assert_int_eq(sqlfile_int(d.db, sql), 0);
		ck_assert_int_eq(sqlfile_int(d.db, "SELECT count(*) FROM tokens WHERE name = 'once'"), 1);
	} else {
		f = fopen(d.db, "rb");
		ck_assert_ptr_nonnull(f);
		fseek(f, 0, SEEK_END);
		n = ftell(f);
		rewind(f);
		text = malloc((size_t)n + 1);
		ck_assert_ptr_nonnull(text);
		ck_assert_int_eq((long)fread(text, 1, (size_t)n, f), n);
		fclose(f);
		ck_assert_ptr_null(memmem(text, (size_t)n, secret, strlen(secret)));
		free(text);
	}
	f = fopen(d.log, "r");
	ck_assert_ptr_nonnull(f);
	logtext = calloc(1, 65536);
	ck_assert_ptr_nonnull(logtext);
	n = (long)fread(logtext, 1, 65535, f);
	fclose(f);
	ck_assert_ptr_null(strstr(logtext, secret));
	free(logtext);
	json_decref(made);
	ck_assert_int_eq(daemon_start(&d, (const char *const[]){"--flush-interval", "100", NULL}, client_token_env), 0);
}
END_TEST

/* The CLI reads last_used_at from the store, where the flusher writes it
 * within one --flush-interval of the use. */
START_TEST(test_cli_shows_last_use)
{
	static const char *const list[] = {"token", "list", NULL};
	json_t *made = create_token(API_TEST_TOKEN, "ci", "read");
	char secret[64], out[2048], err[256];
	const char *line;

	snprintf(secret, sizeof(secret), "%s", client_str(made, "token"));
	ck_assert_int_eq(shortd_run(d.db, out, sizeof(out), err, sizeof(err), list), 0);
	line = strstr(out, "ci\tread-only\t");
	ck_assert_msg(line != NULL && strncmp(line + 13 + 21, "never\n", 6) == 0, "token list: %s", out);
	ck_assert_int_eq(call(secret, "GET", "/api/v1/links", NULL), 200);
	for (int i = 0; i < 100; i++) {
		ck_assert_int_eq(shortd_run(d.db, out, sizeof(out), err, sizeof(err), list), 0);
		line = strstr(out, "ci\tread-only\t");
		if (line != NULL && strncmp(line + 13 + 21, "never", 5) != 0)
			break;
		pause_ms(50);
	}
	ck_assert_msg(line != NULL && line[13 + 21 + 4] == '-' && line[13 + 21 + 19] == 'Z', "token list: %s", out);
	json_decref(made);
}
END_TEST

/* Without SHORTD_ADMIN_TOKEN the last admin token of the store is all that
 * opens the API: revoking it is refused (409) and changes nothing; another
 * admin token made first lets it go. */
START_TEST(test_last_admin_token_is_kept)
{
	static const char *const root[] = {"token", "create", "--name", "root", NULL};
	static const char *const reader[] = {"token", "create", "--name", "reader", "--read-only", NULL};
	char out[256], err[256], root_secret[64];
	struct http_result r;
	json_t *items, *second;

	fixture_stop(&d);
	unsetenv("SHORTD_ADMIN_TOKEN");
	fixture_make_db(&d, NULL);
	ck_assert_int_eq(shortd_run(d.db, out, sizeof(out), err, sizeof(err), root), 0);
	snprintf(root_secret, sizeof(root_secret), "%.43s", out);
	ck_assert_int_eq(shortd_run(d.db, out, sizeof(out), err, sizeof(err), reader), 0);
	ck_assert_int_eq(daemon_start(&d, NULL, NULL), 0);

	ck_assert_int_eq(client_call(&d, root_secret, "DELETE", T "/root", NULL, &r), 409);
	client_assert_error(&r, 409, "last_admin_token");
	http_result_free(&r);
	ck_assert_int_eq(call(root_secret, "GET", "/api/v1/links", NULL), 200);

	/* a read-only token is no admin: it goes, and root stays the last */
	ck_assert_int_eq(call(root_secret, "DELETE", T "/reader", NULL), 204);

	second = create_token(root_secret, "second", "admin");
	ck_assert_int_eq(call(root_secret, "DELETE", T "/root", NULL), 204);
	ck_assert_int_eq(call(root_secret, "GET", "/api/v1/links", NULL), 401);
	ck_assert_int_eq(call(client_str(second, "token"), "DELETE", T "/second", NULL), 409);
	items = list_tokens(client_str(second, "token"), NULL);
	ck_assert_int_eq(json_array_size(items), 1);
	json_decref(items);
	json_decref(second);
}
END_TEST

/* With SHORTD_ADMIN_TOKEN the fixed token still opens the API, so the
 * store's last admin token may go (the fixed one is in no list). */
START_TEST(test_fixed_admin_token_lets_the_last_stored_one_go)
{
	json_t *only = create_token(API_TEST_TOKEN, "only", "admin");
	json_t *items;

	ck_assert_int_eq(call(client_str(only, "token"), "DELETE", T "/only", NULL), 204);
	items = list_tokens(API_TEST_TOKEN, NULL);
	ck_assert_int_eq(json_array_size(items), 0);
	json_decref(items);
	json_decref(only);
}
END_TEST

/* The name in the path is percent-decoded as a path segment: a name with
 * '/', '%', '?' or '#' is reached with them encoded ('/' also as it is). A
 * name is unique while its token lives: a DELETE sent after the name was
 * given again revokes the token that has it now, whatever its id. */
START_TEST(test_revoke_by_name_encoded_and_reused)
{
	json_t *odd = create_token(API_TEST_TOKEN, "ci/deploy%1?#x", "read");
	json_t *slash = create_token(API_TEST_TOKEN, "a/b", "read");
	json_t *first = create_token(API_TEST_TOKEN, "bot", "read"), *second;
	char odd_secret[64], first_secret[64];
	json_t *items;

	snprintf(odd_secret, sizeof(odd_secret), "%s", client_str(odd, "token"));
	ck_assert_int_eq(call(API_TEST_TOKEN, "DELETE", T "/ci%2Fdeploy%251%3F%23x", NULL), 204);
	ck_assert_int_eq(call(odd_secret, "GET", "/api/v1/links", NULL), 401);
	ck_assert_int_eq(call(API_TEST_TOKEN, "DELETE", T "/a/b", NULL), 204);
	ck_assert_int_eq(call(API_TEST_TOKEN, "DELETE", T "/a%2Fb", NULL), 404);

	snprintf(first_secret, sizeof(first_secret), "%s", client_str(first, "token"));
	ck_assert_int_eq(call(API_TEST_TOKEN, "DELETE", T "/bot", NULL), 204);
	second = create_token(API_TEST_TOKEN, "bot", "read");
	ck_assert_int_gt(client_int(second, "id"), client_int(first, "id"));
	ck_assert_int_eq(call(client_str(second, "token"), "GET", "/api/v1/links", NULL), 200);
	/* a late second DELETE for the first "bot": the new one goes */
	ck_assert_int_eq(call(API_TEST_TOKEN, "DELETE", T "/bot", NULL), 204);
	ck_assert_int_eq(call(client_str(second, "token"), "GET", "/api/v1/links", NULL), 401);
	ck_assert_int_eq(call(first_secret, "GET", "/api/v1/links", NULL), 401);
	items = list_tokens(API_TEST_TOKEN, NULL);
	ck_assert_int_eq(json_array_size(items), 0);
	json_decref(items);
	json_decref(odd);
	json_decref(slash);
	json_decref(first);
	json_decref(second);
}
END_TEST

/* The OpenAPI document: no token needed, the same bytes as doc/openapi.json. */
START_TEST(test_openapi_document_served_without_a_token)
{
	struct http_result r, head;
	json_t *doc;
	FILE *f;
	char *file;
	long n;

	ck_assert_int_eq(client_call(&d, NULL, "GET", "/api/v1/openapi.json", NULL, &r), 200);
	ck_assert_str_eq(client_header(&r, "Content-Type"), "application/json");
	ck_assert_str_eq(client_header(&r, "X-Content-Type-Options"), "nosniff");
	doc = client_json(&r);
	ck_assert_str_eq(client_str(doc, "openapi"), "3.1.0");
	json_decref(doc);
	f = fopen("doc/openapi.json", "rb");
	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	file = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(file);
	ck_assert_int_eq((long)fread(file, 1, (size_t)n, f), n);
	fclose(f);
	ck_assert_int_eq((long)r.body_len, n);
	ck_assert_mem_eq(r.body, file, (size_t)n);
	free(file);
	/* a wrong token does not matter either */
	ck_assert_int_eq(client_call(&d, "not-a-token", "HEAD", "/api/v1/openapi.json", NULL, &head), 200);
	http_result_free(&head);
	http_result_free(&r);
}
END_TEST

Suite *api_tokens_suite(void)
{
	Suite *s = suite_create("api_tokens");
	TCase *tc = tcase_create("tokens");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_create_list_use_and_revoke);
	tcase_add_test(tc, test_secret_is_shown_once);
	tcase_add_test(tc, test_cli_shows_last_use);
	tcase_add_test(tc, test_last_admin_token_is_kept);
	tcase_add_test(tc, test_fixed_admin_token_lets_the_last_stored_one_go);
	tcase_add_test(tc, test_revoke_by_name_encoded_and_reused);
	tcase_add_test(tc, test_openapi_document_served_without_a_token);
	suite_add_tcase(s, tc);
	return s;
}
