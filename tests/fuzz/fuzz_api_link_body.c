/*
 * Fuzzes the API's JSON link body decoding (api.h exposes no decoder of its
 * own, so the driver goes through api_handle() with a real store). Input: a
 * mode byte (even: POST /api/v1/links, odd: PATCH /api/v1/links/fz), then
 * the body. Invariants: the answer is 200/201 with a Link, or a JSON error
 * with 400, 404 or 409; a Link's url is printable ASCII that normalises to
 * itself, its code passes link_code_check(), its status is a redirect
 * status. A created link is deleted again so the store stays small.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_fixture.h"
#include "fuzz.h"
#include "link.h"
#include "url.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int status;
	static const char fz[] = "{\"url\":\"https://fuzz.example/\",\"code\":\"fz\"}";

	(void)argc;
	(void)argv;
	fixture_init();
	json_decref(api_call("POST", "/api/v1/links", NULL, fz, sizeof(fz) - 1, &status));
	FUZZ_CHECK(status == 201);
	return 0;
}

static void check_link(const json_t *l)
{
	const char *url = json_string_value(json_object_get(l, "url"));
	const char *code = json_string_value(json_object_get(l, "code"));
	json_int_t st = json_integer_value(json_object_get(l, "status"));
	char again[LINK_URL_MAX * 3 + 1];

	FUZZ_CHECK(url != NULL && code != NULL);
	FUZZ_CHECK(!fuzz_has_unsafe_byte(url));
	FUZZ_CHECK(url_normalize(url, NULL, again, sizeof(again)) == URL_OK && strcmp(again, url) == 0);
	FUZZ_CHECK(link_code_check(code) == LINK_CODE_OK);
	FUZZ_CHECK(link_status_is_valid((int)st));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool patch;
	int status, del_status;
	json_t *j;
	char *body, path[LINK_CODE_MAX + 32];

	if (size == 0)
		return 0;
	patch = data[0] & 1;
	/* A heap copy of exactly the body, so a read past it is caught. */
	body = malloc(size - 1 > 0 ? size - 1 : 1);
	if (body == NULL)
		abort();
	memcpy(body, data + 1, size - 1);
	if (patch) {
		j = api_call("PATCH", "/api/v1/links/fz", NULL, body, size - 1, &status);
		FUZZ_CHECK(status == 200 || status == 400);
	} else {
		j = api_call("POST", "/api/v1/links", NULL, body, size - 1, &status);
		FUZZ_CHECK(status == 201 || status == 400 || status == 409);
	}
	if (status == 200 || status == 201)
		check_link(j);
	if (status == 201) {
		snprintf(path, sizeof(path), "/api/v1/links/%s", json_string_value(json_object_get(j, "code")));
		json_decref(api_call("DELETE", path, NULL, NULL, 0, &del_status));
		FUZZ_CHECK(del_status == 204);
	}
	json_decref(j);
	free(body);
	return 0;
}
