/*
 * Fuzzes the API's token requests through api_handle() with a real store.
 * Input: a mode byte (even: POST /api/v1/tokens with the rest as the body;
 * odd: DELETE /api/v1/tokens/ with the rest, up to a NUL, as the id).
 * Invariants: a create is 201 with exactly id, name, role, created_at,
 * last_used_at (null) and the 43-character secret, a name that
 * auth_token_name_ok() takes and a role of admin or read, or a JSON error
 * with 400 or 409; a revoke is 204 or 404 (the fixed admin token keeps the
 * last-admin rule out of the way), never 5xx. A created token is revoked
 * again so the store stays small.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_fixture.h"
#include "auth.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fixture_init();
	return 0;
}

static void check_new_token(const json_t *t)
{
	const char *name = json_string_value(json_object_get(t, "name"));
	const char *role = json_string_value(json_object_get(t, "role"));
	const char *secret = json_string_value(json_object_get(t, "token"));

	FUZZ_CHECK(json_object_size(t) == 6);
	FUZZ_CHECK(json_integer_value(json_object_get(t, "id")) >= 1);
	FUZZ_CHECK(name != NULL && auth_token_name_ok(name));
	FUZZ_CHECK(role != NULL && (strcmp(role, "admin") == 0 || strcmp(role, "read") == 0));
	FUZZ_CHECK(json_is_string(json_object_get(t, "created_at")));
	FUZZ_CHECK(json_is_null(json_object_get(t, "last_used_at")));
	FUZZ_CHECK(secret != NULL && strlen(secret) == AUTH_TOKEN_LEN);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int status, del_status;
	char path[128];
	json_t *j;
	char *body;

	if (size == 0)
		return 0;
	if (data[0] & 1) {
		size_t n = strnlen((const char *)data + 1, size - 1);
		if (n > 100)
			n = 100;
		snprintf(path, sizeof(path), "/api/v1/tokens/%.*s", (int)n, (const char *)data + 1);
		json_decref(api_call("DELETE", path, NULL, NULL, 0, &status));
		FUZZ_CHECK(status == 204 || status == 404);
		return 0;
	}
	/* A heap copy of exactly the body, so a read past it is caught. */
	body = malloc(size - 1 > 0 ? size - 1 : 1);
	if (body == NULL)
		abort();
	memcpy(body, data + 1, size - 1);
	j = api_call("POST", "/api/v1/tokens", NULL, body, size - 1, &status);
	FUZZ_CHECK(status == 201 || status == 400 || status == 409);
	if (status == 201) {
		check_new_token(j);
		snprintf(path, sizeof(path), "/api/v1/tokens/%lld",
		         (long long)json_integer_value(json_object_get(j, "id")));
		json_decref(api_call("DELETE", path, NULL, NULL, 0, &del_status));
		FUZZ_CHECK(del_status == 204);
	}
	json_decref(j);
	free(body);
	return 0;
}
