/*
 * Fuzzes the API's pagination cursor decoding (api.h exposes no decoder of
 * its own, so the driver goes through GET /api/v1/links with a real store
 * holding five links). Input: the raw query string. Invariants: the answer is
 * 200 with an items array of at most limit links in ascending order and a
 * next_cursor that is null or a cursor the server then accepts, or 400 with
 * invalid_cursor, invalid_limit or invalid_parameter (an unknown parameter, or
 * a url, q or tag filter breaking its rule).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_fixture.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fixture_init();
	for (int i = 0; i < 5; i++) {
		char body[96];
		int status,
		    n = snprintf(body, sizeof(body), "{\"url\":\"https://fuzz.example/%d\",\"code\":\"c%d\"}", i, i);
		json_decref(api_call("POST", "/api/v1/links", NULL, body, (size_t)n, &status));
		FUZZ_CHECK(status == 201);
	}
	return 0;
}

static void check_page(json_t *j)
{
	json_t *items = json_object_get(j, "items");
	json_t *next = json_object_get(j, "next_cursor");
	const char *prev = "";

	FUZZ_CHECK(json_is_array(items) && json_array_size(items) <= 5);
	FUZZ_CHECK(json_is_null(next) || json_is_string(next));
	for (size_t i = 0; i < json_array_size(items); i++) {
		const char *code = json_string_value(json_object_get(json_array_get(items, i), "code"));
		FUZZ_CHECK(code != NULL && strcmp(prev, code) < 0);
		prev = code;
	}
	if (json_is_string(next)) {
		char query[160];
		int status;
		FUZZ_CHECK(json_string_length(next) < 100);
		FUZZ_CHECK(strspn(json_string_value(next),
		                  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
		           json_string_length(next));
		snprintf(query, sizeof(query), "cursor=%s", json_string_value(next));
		json_decref(api_call("GET", "/api/v1/links", query, NULL, 0, &status));
		FUZZ_CHECK(status == 200);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *query = fuzz_cstr(data, size);
	int status;
	json_t *j = api_call("GET", "/api/v1/links", query, NULL, 0, &status);

	if (status == 200) {
		check_page(j);
	} else {
		const char *code = json_string_value(json_object_get(json_object_get(j, "error"), "code"));
		FUZZ_CHECK(status == 400);
		FUZZ_CHECK(strcmp(code, "invalid_cursor") == 0 || strcmp(code, "invalid_limit") == 0 ||
		           strcmp(code, "invalid_parameter") == 0);
	}
	json_decref(j);
	free(query);
	return 0;
}
