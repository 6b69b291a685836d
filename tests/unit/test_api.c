/*
 * Unit tests of api.c through api_handle() on a struct http_request without
 * a socket, against a temporary store and a click counter: the gates in
 * their order (token 401, route 404, method 405, role 403, body size 413,
 * media type 415, JSON shape 400), each refusal leaving the store as it was;
 * the headers every answer carries; and a link's life through the API
 * (create 201, read, update, delete 204, then 404).
 */
#include <check.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "auth.h"
#include "harness.h"

#define NOW 1700006400
#define ADMIN_TOKEN "unit-admin-token-0123456789abcdefghijklmnop"
#define READER_TOKEN "unit-reader-token-0123456789abcdefghijklmno"
#define BASE_URL "https://s.example"
#define LINKS "/api/v1/links"

static char dir[256];
static char path[300];
static struct store *st;
static struct clicks *ck;
static struct config cfg;
static struct api *api;
static struct http_response resp;
static json_t *answer; /* resp's body as JSON, after call() */

static void fixture_setup(void)
{
	unsigned char hash[STORE_TOKEN_HASH_LEN];
	char e[256];

	tempdb_make("api", dir, sizeof(dir), path, sizeof(path));
	ck_assert_msg(store_open(path, &st, e, sizeof(e)) == STORE_OK, "%s", e);
	ck_assert_int_eq(clicks_start(st, 600000, &ck), 0);
	config_defaults(&cfg);
	ck_assert_int_eq(config_set_base_url(&cfg, BASE_URL), 0);
	auth_token_hash(READER_TOKEN, hash);
	ck_assert_int_eq(store_token_add(st, "reader", hash, STORE_ROLE_READ_ONLY, NOW), STORE_OK);
	ck_assert_int_eq(api_new(&cfg, st, ck, ADMIN_TOKEN, &api), 0);
	http_response_init(&resp);
	answer = NULL;
}

static void answer_free(void)
{
	free(resp.body_heap);
	json_decref(answer);
	http_response_init(&resp);
	answer = NULL;
}

static void fixture_teardown(void)
{
	answer_free();
	api_free(api);
	clicks_stop(ck);
	store_close(st);
	tempdb_remove(dir, path);
}

struct call {
	const char *method;
	const char *path;
	const char *query;
	const char *token; /* NULL: no Authorization */
	const char *content_type;
	const char *body; /* NULL: none */
	bool too_large;
};

/* Answers c with api_handle; answer holds the body as JSON (NULL when the
 * body is empty). Returns the status. */
static int call(const struct call *c)
{
	char auth[256];
	struct http_request req;
	const char *body;
	size_t len;

	answer_free();
	memset(&req, 0, sizeof(req));
	req.method = http_method_parse(c->method);
	req.method_name = c->method;
	req.path = c->path;
	req.query = c->query;
	if (c->token != NULL) {
		snprintf(auth, sizeof(auth), "Bearer %s", c->token);
		req.authorization = auth;
	}
	req.content_type = c->content_type;
	req.body = c->body;
	req.body_len = c->body != NULL ? strlen(c->body) : 0;
	req.body_too_large = c->too_large;
	req.now = NOW;
	api_handle(api, &req, &resp);
	body = resp.body_heap != NULL ? resp.body_heap : resp.body;
	len = resp.body_len;
	if (len > 0) {
		json_error_t err;
		ck_assert_ptr_nonnull(body);
		ck_assert_msg(body[len - 1] == '\n', "%s %s: no final newline", c->method, c->path);
		answer = json_loadb(body, len, 0, &err);
		ck_assert_msg(answer != NULL, "%s %s: not JSON (%s): %.*s", c->method, c->path, err.text, (int)len,
		              body);
	}
	return resp.status;
}

/* The headers every API answer carries. */
static void assert_api_headers(void)
{
	ck_assert_int_eq(resp.fixed, HTTP_FIXED_NONE);
	ck_assert_str_eq(resp.cache_control, "no-store");
	ck_assert(resp.nosniff);
}

/* Asserts the answer is the error {"error":{"code":code,"message":...}}. */
static void assert_error(int status, const char *code)
{
	json_t *e = json_object_get(answer, "error");

	ck_assert_msg(resp.status == status, "status %d, expected %d", resp.status, status);
	ck_assert_ptr_nonnull(answer);
	ck_assert_uint_eq(json_object_size(answer), 1);
	ck_assert_str_eq(json_string_value(json_object_get(e, "code")), code);
	ck_assert_uint_gt(strlen(json_string_value(json_object_get(e, "message"))), 0);
	ck_assert_str_eq(resp.content_type, "application/json");
	assert_api_headers();
}

static const char *str_of(const char *key)
{
	const char *s = json_string_value(json_object_get(answer, key));

	ck_assert_msg(s != NULL, "%s is not a string", key);
	return s;
}

/* ---- the gates, in order ---- */

#define J "application/json"
#define NEW "{\"url\":\"https://t.example/x\",\"code\":\"refused\"}"
#define NEW_WITH(field) "{\"url\":\"https://t.example/x\",\"code\":\"refused\"," field "}"
#define A64 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static const struct {
	const char *name;
	struct call c;
	int status;
	const char *code;
	const char *allow;            /* Allow, or NULL when absent */
	const char *www_authenticate; /* WWW-Authenticate, or NULL when absent */
} refused[] = {
    {"no token", {"POST", LINKS, NULL, NULL, J, NEW, false}, 401, "unauthorized", NULL, "Bearer realm=\"shortd\""},
    {"wrong token",
     {"POST", LINKS, NULL, "not-the-token", J, NEW, false},
     401,
     "unauthorized",
     NULL,
     "Bearer realm=\"shortd\", error=\"invalid_token\""},
    {"the token before the route",
     {"GET", "/api/v1/nothing", NULL, NULL, NULL, NULL, false},
     401,
     "unauthorized",
     NULL,
     "Bearer realm=\"shortd\""},
    {"no such endpoint",
     {"GET", "/api/v1/nothing", NULL, ADMIN_TOKEN, NULL, NULL, false},
     404,
     "not_found",
     NULL,
     NULL},
    {"empty code", {"GET", LINKS "/", NULL, ADMIN_TOKEN, NULL, NULL, false}, 404, "not_found", NULL, NULL},
    {"the route before the method",
     {"PUT", "/api/v1/nothing", NULL, ADMIN_TOKEN, J, NEW, false},
     404,
     "not_found",
     NULL,
     NULL},
    {"PUT on the collection",
     {"PUT", LINKS, NULL, ADMIN_TOKEN, J, NEW, false},
     405,
     "method_not_allowed",
     "GET, HEAD, POST",
     NULL},
    {"POST on a link",
     {"POST", LINKS "/refused", NULL, ADMIN_TOKEN, J, NEW, false},
     405,
     "method_not_allowed",
     "GET, HEAD, PATCH, DELETE",
     NULL},
    {"a read-only token writes", {"POST", LINKS, NULL, READER_TOKEN, J, NEW, false}, 403, "forbidden", NULL, NULL},
    {"the method before the role",
     {"PUT", LINKS, NULL, READER_TOKEN, J, NEW, false},
     405,
     "method_not_allowed",
     "GET, HEAD, POST",
     NULL},
    {"body over the limit", {"POST", LINKS, NULL, ADMIN_TOKEN, J, NULL, true}, 413, "payload_too_large", NULL, NULL},
    {"the role before the body size", {"POST", LINKS, NULL, READER_TOKEN, J, NULL, true}, 403, "forbidden", NULL, NULL},
    {"not JSON's media type",
     {"POST", LINKS, NULL, ADMIN_TOKEN, "text/plain", NEW, false},
     415,
     "unsupported_media_type",
     NULL,
     NULL},
    {"no media type", {"POST", LINKS, NULL, ADMIN_TOKEN, NULL, NEW, false}, 415, "unsupported_media_type", NULL, NULL},
    {"body not JSON", {"POST", LINKS, NULL, ADMIN_TOKEN, J, "{\"url\":", false}, 400, "invalid_json", NULL, NULL},
    {"body neither an object nor an array",
     {"POST", LINKS, NULL, ADMIN_TOKEN, J, "\"https://t.example/x\"", false},
     400,
     "invalid_json",
     NULL,
     NULL},
    {"unknown field",
     {"POST", LINKS, NULL, ADMIN_TOKEN, J, "{\"url\":\"https://t.example/x\",\"code\":\"refused\",\"x\":1}", false},
     400,
     "unknown_field",
     NULL,
     NULL},
    {"no url", {"POST", LINKS, NULL, ADMIN_TOKEN, J, "{\"code\":\"refused\"}", false}, 400, "invalid_url", NULL, NULL},
    {"bad limit", {"GET", LINKS, "limit=0", ADMIN_TOKEN, NULL, NULL, false}, 400, "invalid_limit", NULL, NULL},
    {"unknown list parameter",
     {"GET", LINKS, "limit=5&colour=red", ADMIN_TOKEN, NULL, NULL, false},
     400,
     "invalid_parameter",
     NULL,
     NULL},
    {"q with a control character",
     {"GET", LINKS, "q=a%01b", ADMIN_TOKEN, NULL, NULL, false},
     400,
     "invalid_parameter",
     NULL,
     NULL},
    {"url filter not a URL",
     {"GET", LINKS, "url=ftp://x", ADMIN_TOKEN, NULL, NULL, false},
     400,
     "invalid_parameter",
     NULL,
     NULL},
    {"empty tag filter", {"GET", LINKS, "tag=", ADMIN_TOKEN, NULL, NULL, false}, 400, "invalid_parameter", NULL, NULL},
    {"bulk with one bad item",
     {"POST", LINKS, NULL, ADMIN_TOKEN, J, "[" NEW ",{\"url\":\"ftp://x\"}]", false},
     400,
     "invalid_url",
     NULL,
     NULL},
    {"bulk with a code twice",
     {"POST", LINKS, NULL, ADMIN_TOKEN, J, "[" NEW "," NEW "]", false},
     409,
     "code_taken",
     NULL,
     NULL},
    {"bulk of nothing", {"POST", LINKS, NULL, ADMIN_TOKEN, J, "[]", false}, 400, "invalid_json", NULL, NULL},
    {"bulk item not an object",
     {"POST", LINKS, NULL, ADMIN_TOKEN, J, "[" NEW ",5]", false},
     400,
     "invalid_json",
     NULL,
     NULL},
    {"title of 513 bytes",
     {"POST", LINKS, NULL, ADMIN_TOKEN, J, NEW_WITH("\"title\":\"" A64 A64 A64 A64 A64 A64 A64 A64 "a\""), false},
     400,
     "invalid_title",
     NULL,
     NULL},
    {"title with a NUL",
     {"POST", LINKS, NULL, ADMIN_TOKEN, J, NEW_WITH("\"title\":\"a\\u0000\""), false},
     400,
     "invalid_json",
     NULL,
     NULL},
    {"title a number",
     {"POST", LINKS, NULL, ADMIN_TOKEN, J, NEW_WITH("\"title\":5"), false},
     400,
     "invalid_type",
     NULL,
     NULL},
    {"tag with a control character",
     {"POST", LINKS, NULL, ADMIN_TOKEN, J, NEW_WITH("\"tags\":[\"ok\",\"a\\u0007b\"]"), false},
     400,
     "invalid_tags",
     NULL,
     NULL},
    {"tag of 65 characters",
     {"POST", LINKS, NULL, ADMIN_TOKEN, J, NEW_WITH("\"tags\":[\"" A64 "a\"]"), false},
     400,
     "invalid_tags",
     NULL,
     NULL},
    {"empty tag",
     {"POST", LINKS, NULL, ADMIN_TOKEN, J, NEW_WITH("\"tags\":[\"\"]"), false},
     400,
     "invalid_tags",
     NULL,
     NULL},
    {"tags a string",
     {"POST", LINKS, NULL, ADMIN_TOKEN, J, NEW_WITH("\"tags\":\"a\""), false},
     400,
     "invalid_type",
     NULL,
     NULL},
    {"a tag a number",
     {"POST", LINKS, NULL, ADMIN_TOKEN, J, NEW_WITH("\"tags\":[1]"), false},
     400,
     "invalid_type",
     NULL,
     NULL},
    {"reuse a string",
     {"POST", LINKS, NULL, ADMIN_TOKEN, J, NEW_WITH("\"reuse\":\"yes\""), false},
     400,
     "invalid_type",
     NULL,
     NULL},
    {"bad cursor", {"GET", LINKS, "cursor=zz", ADMIN_TOKEN, NULL, NULL, false}, 400, "invalid_cursor", NULL, NULL},
    {"missing link", {"GET", LINKS "/refused", NULL, ADMIN_TOKEN, NULL, NULL, false}, 404, "not_found", NULL, NULL},
};

START_TEST(test_refused_request_changes_nothing)
{
	struct link *l = malloc(sizeof(*l));

	ck_assert_ptr_nonnull(l);
	call(&refused[_i].c);
	assert_error(refused[_i].status, refused[_i].code);
	if (refused[_i].allow != NULL)
		ck_assert_str_eq(resp.allow, refused[_i].allow);
	else
		ck_assert_ptr_null(resp.allow);
	if (refused[_i].www_authenticate != NULL)
		ck_assert_str_eq(resp.www_authenticate, refused[_i].www_authenticate);
	else
		ck_assert_ptr_null(resp.www_authenticate);
	ck_assert_msg(store_link_lookup(st, "refused", l) == STORE_NOT_FOUND, "%s: the link was stored",
	              refused[_i].name);
	free(l);
}
END_TEST

/* ---- a link's life ---- */

START_TEST(test_create_read_update_delete)
{
	const struct call create = {
	    "POST", LINKS, NULL, ADMIN_TOKEN, J, "{\"url\":\"https://t.example/a\",\"code\":\"life\",\"status\":307}",
	    false};
	const struct call read = {"GET", LINKS "/life", NULL, READER_TOKEN, NULL, NULL, false};
	const struct call update = {"PATCH",
	                            LINKS "/life",
	                            NULL,
	                            ADMIN_TOKEN,
	                            "application/json; charset=utf-8",
	                            "{\"url\":\"https://t.example/b\"}",
	                            false};
	const struct call del = {"DELETE", LINKS "/life", NULL, ADMIN_TOKEN, NULL, NULL, false};
	struct link *l = malloc(sizeof(*l));

	ck_assert_ptr_nonnull(l);
	ck_assert_int_eq(call(&create), 201);
	assert_api_headers();
	ck_assert_str_eq(resp.content_type, "application/json");
	ck_assert_str_eq(str_of("code"), "life");
	ck_assert_str_eq(str_of("url"), "https://t.example/a");
	ck_assert_str_eq(str_of("short_url"), BASE_URL "/life");
	ck_assert_int_eq(json_integer_value(json_object_get(answer, "status")), 307);
	ck_assert_int_eq(store_link_lookup(st, "life", l), STORE_OK);
	ck_assert_str_eq(l->url, "https://t.example/a");
	ck_assert_int_eq(l->created_at, NOW);

	ck_assert_int_eq(call(&create), 409);
	assert_error(409, "code_taken");

	ck_assert_int_eq(call(&read), 200);
	assert_api_headers();
	ck_assert_str_eq(str_of("url"), "https://t.example/a");

	ck_assert_int_eq(call(&update), 200);
	assert_api_headers();
	ck_assert_str_eq(str_of("url"), "https://t.example/b");
	ck_assert_int_eq(store_link_lookup(st, "life", l), STORE_OK);
	ck_assert_str_eq(l->url, "https://t.example/b");

	ck_assert_int_eq(call(&del), 204);
	assert_api_headers();
	ck_assert_uint_eq(resp.body_len, 0);
	ck_assert_ptr_null(answer);
	ck_assert_int_eq(store_link_lookup(st, "life", l), STORE_NOT_FOUND);

	ck_assert_int_eq(call(&read), 404);
	assert_error(404, "not_found");
	free(l);
}
END_TEST

/* A listing page: the items, newest last, and no next cursor on the last
 * page; a read-only token may list. */
START_TEST(test_list_pages)
{
	char body[128], cursor[128];
	struct call c = {"POST", LINKS, NULL, ADMIN_TOKEN, J, body, false};
	const struct call first = {"GET", LINKS, "limit=2", READER_TOKEN, NULL, NULL, false};
	struct call next = {"GET", LINKS, cursor, READER_TOKEN, NULL, NULL, false};
	json_t *items;

	for (int i = 0; i < 3; i++) {
		snprintf(body, sizeof(body), "{\"url\":\"https://t.example/%d\",\"code\":\"l%d\"}", i, i);
		ck_assert_int_eq(call(&c), 201);
	}
	ck_assert_int_eq(call(&first), 200);
	assert_api_headers();
	items = json_object_get(answer, "items");
	ck_assert_uint_eq(json_array_size(items), 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(items, 0), "code")), "l0");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(items, 1), "code")), "l1");
	snprintf(cursor, sizeof(cursor), "limit=2&cursor=%s", str_of("next_cursor"));
	ck_assert_int_eq(call(&next), 200);
	items = json_object_get(answer, "items");
	ck_assert_uint_eq(json_array_size(items), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(items, 0), "code")), "l2");
	ck_assert(json_is_null(json_object_get(answer, "next_cursor")));
}
END_TEST

/* ---- tokens ---- */

#define TOKENS "/api/v1/tokens"

/* A request the store opened records its token's use in memory (for the
 * flusher), the fixed admin token none; the list counts the pending use. */
START_TEST(test_token_use_recorded_and_listed)
{
	unsigned char hash[STORE_TOKEN_HASH_LEN];
	struct store_token t;
	json_t *reader;

	auth_token_hash(READER_TOKEN, hash);
	ck_assert_int_eq(store_token_find(st, hash, &t), STORE_OK);
	ck_assert_int_eq(clicks_token_pending(ck, t.id), LINK_NO_TIME);
	ck_assert_int_eq(call(&(struct call){"GET", TOKENS, NULL, READER_TOKEN, NULL, NULL, false}), 403);
	ck_assert_int_eq(clicks_token_pending(ck, t.id), NOW);
	ck_assert_int_eq(call(&(struct call){"GET", TOKENS, NULL, ADMIN_TOKEN, NULL, NULL, false}), 200);
	ck_assert_int_eq(clicks_token_pending(ck, 0), LINK_NO_TIME);
	reader = json_array_get(json_object_get(answer, "items"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(reader, "name")), "reader");
	ck_assert_str_eq(json_string_value(json_object_get(reader, "last_used_at")), "2023-11-15T00:00:00Z");
	/* stored: the store's value, then pending ones only when later */
	ck_assert_int_eq(clicks_flush(ck), 0);
	ck_assert_int_eq(store_token_find(st, hash, &t), STORE_OK);
	ck_assert_int_eq(t.last_used_at, NOW);
}
END_TEST

/* Without a click counter (a daemon that counts none) the list shows what
 * is stored. */
START_TEST(test_tokens_without_clicks)
{
	struct api *plain;
	struct http_request req = {.method = HTTP_GET, .method_name = "GET", .path = TOKENS, .now = NOW};
	json_t *j;

	ck_assert_int_eq(store_token_uses_write(st, &(struct store_token_use){1, NOW - 60}, 1), STORE_OK);
	ck_assert_int_eq(api_new(&cfg, st, NULL, ADMIN_TOKEN, &plain), 0);
	req.authorization = "Bearer " ADMIN_TOKEN;
	answer_free();
	api_handle(plain, &req, &resp);
	ck_assert_int_eq(resp.status, 200);
	j = json_loadb(resp.body_heap, resp.body_len, 0, NULL);
	ck_assert_str_eq(
	    json_string_value(json_object_get(json_array_get(json_object_get(j, "items"), 0), "last_used_at")),
	    "2023-11-14T23:59:00Z");
	json_decref(j);
	/* the reader's request is no use written anywhere: there is no counter */
	req.authorization = "Bearer " READER_TOKEN;
	req.path = LINKS;
	answer_free();
	api_handle(plain, &req, &resp);
	ck_assert_int_eq(resp.status, 200);
	api_free(plain);
}
END_TEST

/* The tokens table gone from under the store: every token operation is 503
 * for the fixed admin token (which the store need not know), nothing else. */
START_TEST(test_tokens_store_failure_is_503)
{
	sqlite3 *db;

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "DROP TABLE tokens", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	ck_assert_int_eq(call(&(struct call){"GET", TOKENS, NULL, ADMIN_TOKEN, NULL, NULL, false}), 503);
	assert_error(503, "unavailable");
	ck_assert_int_eq(
	    call(&(struct call){"POST", TOKENS, NULL, ADMIN_TOKEN, J, "{\"name\":\"x\",\"role\":\"read\"}", false}),
	    503);
	assert_error(503, "unavailable");
	ck_assert_int_eq(call(&(struct call){"DELETE", TOKENS "/1", NULL, ADMIN_TOKEN, NULL, NULL, false}), 503);
	assert_error(503, "unavailable");
}
END_TEST

/* The document needs no token, answers GET and HEAD, and is the built-in
 * bytes with no copy. */
START_TEST(test_openapi_document)
{
	ck_assert_int_eq(call(&(struct call){"GET", "/api/v1/openapi.json", NULL, NULL, NULL, NULL, false}), 200);
	ck_assert_ptr_eq(resp.body, api_openapi_json);
	ck_assert_ptr_null(resp.body_heap);
	ck_assert_uint_eq(resp.body_len, api_openapi_json_len);
	ck_assert_uint_eq(strlen(api_openapi_json), api_openapi_json_len);
	ck_assert_str_eq(resp.content_type, "application/json");
	ck_assert_str_eq(resp.cache_control, "no-cache");
	ck_assert(resp.nosniff);
	ck_assert_str_eq(str_of("openapi"), "3.1.0");
	ck_assert_int_eq(call(&(struct call){"HEAD", "/api/v1/openapi.json", NULL, "wrong", NULL, NULL, false}), 200);
	ck_assert_int_eq(call(&(struct call){"PUT", "/api/v1/openapi.json", NULL, ADMIN_TOKEN, J, "{}", false}), 405);
	assert_error(405, "method_not_allowed");
	ck_assert_str_eq(resp.allow, "GET, HEAD");
	/* only the exact path: anything below or beside it is a route behind the token */
	ck_assert_int_eq(call(&(struct call){"GET", "/api/v1/openapi.json/x", NULL, NULL, NULL, NULL, false}), 401);
	ck_assert_int_eq(call(&(struct call){"GET", "/api/v1/openapi.jso", NULL, NULL, NULL, NULL, false}), 401);
}
END_TEST

Suite *api_suite(void)
{
	Suite *s = suite_create("api_unit");
	TCase *tc = tcase_create("handle");

	tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
	tcase_add_loop_test(tc, test_refused_request_changes_nothing, 0, (int)(sizeof(refused) / sizeof(refused[0])));
	tcase_add_test(tc, test_create_read_update_delete);
	tcase_add_test(tc, test_list_pages);
	tcase_add_test(tc, test_token_use_recorded_and_listed);
	tcase_add_test(tc, test_tokens_without_clicks);
	tcase_add_test(tc, test_tokens_store_failure_is_503);
	tcase_add_test(tc, test_openapi_document);
	suite_add_tcase(s, tc);
	return s;
}
