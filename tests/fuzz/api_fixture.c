/*
 * The API drivers' fixture (see api_fixture.h).
 */
#include "api_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

struct api_fixture fx;

static void fixture_cleanup(void)
{
	char path[128];

	api_free(fx.api);
	store_close(fx.store);
	free(fx.resp);
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s%s", fx.db, (const char *[]){"", "-wal", "-shm"}[i]);
		unlink(path);
	}
	rmdir(fx.dir);
}

void fixture_init(void)
{
	char err[256];

	snprintf(fx.dir, sizeof(fx.dir), "%s",
	         access("/dev/shm", W_OK) == 0 ? "/dev/shm/shortd-fuzz-XXXXXX" : "/tmp/shortd-fuzz-XXXXXX");
	if (mkdtemp(fx.dir) == NULL)
		abort();
	snprintf(fx.db, sizeof(fx.db), "%s/fuzz.db", fx.dir);
	config_defaults(&fx.cfg);
	snprintf(fx.cfg.base_url, sizeof(fx.cfg.base_url), "http://127.0.0.1:8080");
	fx.cfg.db_path = fx.db;
	if (store_open(fx.db, &fx.store, err, sizeof(err)) != STORE_OK) {
		fprintf(stderr, "fuzz: %s\n", err);
		abort();
	}
	if (api_new(&fx.cfg, fx.store, NULL, FIXTURE_TOKEN, &fx.api) != 0)
		abort();
	fx.resp = malloc(sizeof(*fx.resp));
	if (fx.resp == NULL)
		abort();
	atexit(fixture_cleanup);
}

json_t *api_call(const char *method, const char *path, const char *query, const char *body, size_t body_len,
                 int *status)
{
	struct http_request req = {0};
	struct http_response *resp = fx.resp;
	json_t *j = NULL, *err;
	const char *text;

	req.method_name = method;
	req.method = http_method_parse(method);
	req.path = path;
	req.query = query;
	req.authorization = "Bearer " FIXTURE_TOKEN;
	req.content_type = "application/json";
	req.body = body;
	req.body_len = body_len;
	req.now = 1764000000;
	http_response_init(resp);
	api_handle(fx.api, &req, resp);
	*status = resp->status;
	FUZZ_CHECK(resp->status >= 200 && resp->status <= 599);
	FUZZ_CHECK(resp->cache_control != NULL && strcmp(resp->cache_control, "no-store") == 0);
	FUZZ_CHECK(resp->nosniff);
	text = resp->body_heap != NULL ? resp->body_heap : resp->body;
	if (resp->status == 204) {
		FUZZ_CHECK(resp->body_len == 0);
	} else {
		json_error_t jerr;
		FUZZ_CHECK(text != NULL && resp->body_len > 0 && text[resp->body_len - 1] == '\n');
		FUZZ_CHECK(strcmp(resp->content_type, "application/json") == 0);
		j = json_loadb(text, resp->body_len, 0, &jerr);
		/* An object, or the array of Links of a bulk create. */
		FUZZ_CHECK(json_is_object(j) || (json_is_array(j) && resp->status == 201));
		/* The token is never echoed, unless the client put it in a link's
		 * url or in this request's body or query itself. */
		if ((body == NULL || memmem(body, body_len, FIXTURE_TOKEN, strlen(FIXTURE_TOKEN)) == NULL) &&
		    (query == NULL || strstr(query, FIXTURE_TOKEN) == NULL) &&
		    memmem(text, resp->body_len, FIXTURE_TOKEN, strlen(FIXTURE_TOKEN)) != NULL) {
			const char *url = json_string_value(json_object_get(j, "url"));
			FUZZ_CHECK(resp->status < 300 && url != NULL && strstr(url, FIXTURE_TOKEN) != NULL);
		}
		if (resp->status >= 400) {
			err = json_object_get(j, "error");
			/* code and message, and for a bulk create the index of the
			 * link refused. */
			FUZZ_CHECK(json_is_object(err) &&
			           (json_object_size(err) == 2 ||
			            (json_object_size(err) == 3 && json_is_integer(json_object_get(err, "index")))));
			FUZZ_CHECK(json_is_string(json_object_get(err, "code")));
			FUZZ_CHECK(json_is_string(json_object_get(err, "message")));
		}
	}
	free(resp->body_heap);
	resp->body_heap = NULL;
	return j;
}
