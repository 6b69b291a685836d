/*
 * Fuzzes the API's JSON link body decoding (api.h exposes no decoder of its
 * own, so the driver goes through api_handle() with a real store). Input: a
 * mode byte (even: POST /api/v1/links, odd: PATCH /api/v1/links/fz), then
 * the body. Invariants: the answer is 200/201 with a Link (or, for a bulk
 * create, 201 with an array of them), or a JSON error with 400, 404 or 409;
 * a Link's url is printable ASCII that normalises to itself, its code passes
 * link_code_check(), its status is a redirect status, its title and tags
 * pass link.h's rules. A created link is deleted again so the store stays
 * small.
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
	const char *title = json_string_value(json_object_get(l, "title"));
	const json_t *tags = json_object_get(l, "tags");
	char again[LINK_URL_MAX * 3 + 1];
	size_t i;
	json_t *t;

	FUZZ_CHECK(url != NULL && code != NULL);
	FUZZ_CHECK(!fuzz_has_unsafe_byte(url));
	FUZZ_CHECK(url_normalize(url, NULL, again, sizeof(again)) == URL_OK && strcmp(again, url) == 0);
	FUZZ_CHECK(link_code_check(code) == LINK_CODE_OK);
	FUZZ_CHECK(link_status_is_valid((int)st));
	FUZZ_CHECK(title == NULL || link_title_check(title, strlen(title)) == LINK_LABEL_OK);
	FUZZ_CHECK(json_is_array(tags) && json_array_size(tags) <= LINK_TAGS_MAX);
	json_array_foreach(tags, i, t)
	{
		const char *tag = json_string_value(t);
		FUZZ_CHECK(tag != NULL && link_tag_check(tag, strlen(tag)) == LINK_LABEL_OK);
	}
}

/* Deletes a link the call created; "fz", which PATCH needs, stays (a bulk
 * item with "reuse" may answer with it). */
static void delete_created(const json_t *l)
{
	char path[LINK_CODE_MAX + 32];
	int del_status;

	if (strcmp(json_string_value(json_object_get(l, "code")), "fz") == 0)
		return;
	snprintf(path, sizeof(path), "/api/v1/links/%s", json_string_value(json_object_get(l, "code")));
	json_decref(api_call("DELETE", path, NULL, NULL, 0, &del_status));
	FUZZ_CHECK(del_status == 204 || del_status == 404); /* a bulk may reuse one link twice */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool patch;
	int status;
	json_t *j, *l;
	char *body;
	size_t i;

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
		FUZZ_CHECK(status == 200 || status == 201 || status == 400 || status == 409);
	}
	if (json_is_array(j)) {
		FUZZ_CHECK(!patch && status == 201 && json_array_size(j) >= 1 && json_array_size(j) <= 1000);
		json_array_foreach(j, i, l) check_link(l);
		json_array_foreach(j, i, l) delete_created(l);
	} else if (status == 200 || status == 201) {
		check_link(j);
		if (status == 201)
			delete_created(j);
	}
	json_decref(j);
	free(body);
	return 0;
}
