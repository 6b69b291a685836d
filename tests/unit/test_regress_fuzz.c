/*
 * Inputs the libFuzzer drivers of tests/fuzz/ found breaking an invariant,
 * one row each, kept so the bug cannot come back. Each row names the driver
 * and the input as it was found.
 */
#include <check.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "config.h"
#include "http.h"
#include "rfc3339.h"
#include "store.h"

/* fuzz_rfc3339: an offset carried a time out of years 0001-9999; it parsed,
 * but rfc3339_format could not write it back (it clamps the year), so the
 * round trip failed. Such times are now refused as out of range. */
static const struct {
	const char *text;
	int ok;
	int64_t t;
} rfc3339_rows[] = {
    {"0001-01-01T00:00:00+00:01", 0, 0},         {"0001-01-01T00:00:00+23:59", 0, 0},
    {"9999-12-31T23:59:59-00:01", 0, 0},         {"9999-12-31T23:00:00-23:59", 0, 0},
    {"0001-01-01T00:00:00Z", 1, -62135596800LL}, {"0001-01-01T00:00:00-00:01", 1, -62135596740LL},
    {"9999-12-31T23:59:59Z", 1, 253402300799LL}, {"9999-12-31T23:59:59+00:01", 1, 253402300739LL},
};

START_TEST(test_rfc3339_offset_out_of_range_is_refused)
{
	int64_t t = 42, back = 0;
	char text[RFC3339_LEN + 1];
	int rc = rfc3339_parse(rfc3339_rows[_i].text, &t);

	if (!rfc3339_rows[_i].ok) {
		ck_assert_int_eq(rc, -1);
		ck_assert_int_eq(t, 42);
		return;
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(t, rfc3339_rows[_i].t);
	rfc3339_format(t, text);
	ck_assert_int_eq(rfc3339_parse(text, &back), 0);
	ck_assert_int_eq(back, t);
}
END_TEST

/* fuzz_api_link_body: an unknown field name is quoted in the error cut at
 * 64 bytes; cut inside a UTF-8 character, the message was no longer UTF-8,
 * Jansson refused to pack it and the API answered 500 "out of memory"
 * instead of 400. Error messages are now repaired to valid UTF-8. */
static const struct {
	const char *method;
	const char *body;
	const char *message_start;
} api_rows[] = {
    {"POST",
     "{\"url\":\"https://t.example/\",\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\xc4\x86y\":1}",
     "unknown field 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx?'"},
    {"PATCH", "{\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\xe2\x82\xac\":1}",
     "unknown field 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx?\?'"},
    {"POST", "{\"\xc4\x86\xc4\x86\":1}", "unknown field '\xc4\x86\xc4\x86'"},
};

START_TEST(test_api_error_quoting_cut_utf8_stays_400)
{
	char dir[] = "/tmp/shortd-regress-XXXXXX", db[64], err[256], path[96];
	struct config cfg;
	struct store *store = NULL;
	struct api *api = NULL;
	struct http_request req = {0};
	struct http_response *resp = malloc(sizeof(*resp));
	static const char create[] = "{\"url\":\"https://t.example/\",\"code\":\"fz\"}";
	json_t *j;
	const char *message;

	ck_assert_ptr_nonnull(resp);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/t.db", dir);
	config_defaults(&cfg);
	snprintf(cfg.base_url, sizeof(cfg.base_url), "http://127.0.0.1:8080");
	ck_assert_int_eq(store_open(db, &store, err, sizeof(err)), STORE_OK);
	ck_assert_int_eq(api_new(&cfg, store, NULL, "regress-token", &api), 0);
	req.authorization = "Bearer regress-token";
	req.content_type = "application/json";
	req.now = 1764000000;

	/* The link the PATCH row changes. */
	req.method_name = "POST";
	req.method = HTTP_POST;
	req.path = "/api/v1/links";
	req.body = create;
	req.body_len = strlen(create);
	http_response_init(resp);
	api_handle(api, &req, resp);
	ck_assert_int_eq(resp->status, 201);
	free(resp->body_heap);

	req.method_name = api_rows[_i].method;
	req.method = http_method_parse(api_rows[_i].method);
	req.path = req.method == HTTP_PATCH ? "/api/v1/links/fz" : "/api/v1/links";
	req.body = api_rows[_i].body;
	req.body_len = strlen(api_rows[_i].body);
	http_response_init(resp);
	api_handle(api, &req, resp);
	ck_assert_int_eq(resp->status, 400);
	ck_assert_ptr_nonnull(resp->body_heap);
	j = json_loadb(resp->body_heap, resp->body_len, 0, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "error"), "code")), "unknown_field");
	message = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
	ck_assert_ptr_nonnull(message);
	ck_assert_msg(strncmp(message, api_rows[_i].message_start, strlen(api_rows[_i].message_start)) == 0,
	              "message: %s", message);
	json_decref(j);
	free(resp->body_heap);
	free(resp);
	api_free(api);
	store_close(store);
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s%s", db, (const char *[]){"", "-wal", "-shm"}[i]);
		unlink(path);
	}
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

Suite *regress_fuzz_suite(void)
{
	Suite *s = suite_create("regress_fuzz");
	TCase *tc = tcase_create("rfc3339");

	tcase_add_loop_test(tc, test_rfc3339_offset_out_of_range_is_refused, 0,
	                    (int)(sizeof(rfc3339_rows) / sizeof(rfc3339_rows[0])));
	suite_add_tcase(s, tc);
	tc = tcase_create("api");
	tcase_add_loop_test(tc, test_api_error_quoting_cut_utf8_stays_400, 0,
	                    (int)(sizeof(api_rows) / sizeof(api_rows[0])));
	suite_add_tcase(s, tc);
	return s;
}
