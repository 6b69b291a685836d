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

/* Whether a Link (or a bulk answer's Links) holds the token in what a
 * client stores: its url, title or a tag. */
static bool stored_token(const json_t *j)
{
	const char *url, *title;
	const json_t *tag;
	size_t i;

	if (json_is_array(j)) {
		json_array_foreach(j, i, tag)
		{
			if (stored_token(tag))
				return true;
		}
		return false;
	}
	url = json_string_value(json_object_get(j, "url"));
	title = json_string_value(json_object_get(j, "title"));
	if ((url != NULL && strstr(url, FIXTURE_TOKEN) != NULL) ||
	    (title != NULL && strstr(title, FIXTURE_TOKEN) != NULL))
		return true;
	json_array_foreach(json_object_get(j, "tags"), i, tag)
	{
		if (json_string_value(tag) != NULL && strstr(json_string_value(tag), FIXTURE_TOKEN) != NULL)
			return true;
	}
	return false;
}

/* Whether any string in an answer, as a client decodes it, holds the token
 * (the raw text is not enough: JSON writes a form feed before "uzz-admin-"
 * as "\fuzz-admin-", echoing a query that never held the token). */
static bool holds_token(const json_t *j)
{
	const char *key;
	const json_t *v;
	size_t i;

	if (json_is_string(j))
		return memmem(json_string_value(j), json_string_length(j), FIXTURE_TOKEN, strlen(FIXTURE_TOKEN)) !=
		       NULL;
	if (json_is_array(j)) {
		json_array_foreach(j, i, v)
		{
			if (holds_token(v))
				return true;
		}
		return false;
	}
	json_object_foreach((json_t *)j, key, v)
	{
		if (strstr(key, FIXTURE_TOKEN) != NULL || holds_token(v))
			return true;
	}
	return false;
}

/* The one streamed answer, the export (JSON Lines by default): read
 * through and each line checked to be a Link object, then freed. */
static void read_export(struct http_response *resp)
{
	struct http_stream *st = resp->stream;
	char buf[4096], line[65536];
	size_t len = 0;
	ssize_t n;

	FUZZ_CHECK(resp->status == 200);
	FUZZ_CHECK(strcmp(resp->content_type, "application/jsonl") == 0);
	while ((n = st->read(st, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			json_t *j;

			FUZZ_CHECK(len < sizeof(line));
			line[len++] = buf[i];
			if (buf[i] != '\n')
				continue;
			j = json_loadb(line, len, 0, NULL);
			FUZZ_CHECK(json_is_object(j) && json_is_string(json_object_get(j, "code")));
			json_decref(j);
			len = 0;
		}
	}
	FUZZ_CHECK(n == 0 && len == 0);
	st->free(st);
	resp->stream = NULL;
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
	if (resp->stream != NULL) {
		read_export(resp);
		return NULL;
	}
	text = resp->body_heap != NULL ? resp->body_heap : resp->body;
	if (resp->status == 200 && strncmp(resp->content_type, "image/", 6) == 0) {
		/* A link's QR code: SVG or PNG, never JSON. */
		FUZZ_CHECK(resp->body_heap != NULL && resp->body_len > 0);
		FUZZ_CHECK(strcmp(resp->content_type, "image/svg+xml") == 0 ||
		           strcmp(resp->content_type, "image/png") == 0);
		free(resp->body_heap);
		resp->body_heap = NULL;
		return NULL;
	}
	if (resp->status == 204) {
		FUZZ_CHECK(resp->body_len == 0);
	} else {
		json_error_t jerr;
		FUZZ_CHECK(text != NULL && resp->body_len > 0 && text[resp->body_len - 1] == '\n');
		FUZZ_CHECK(strcmp(resp->content_type, "application/json") == 0);
		j = json_loadb(text, resp->body_len, 0, &jerr);
		/* An object, or the array of Links of a bulk create. */
		FUZZ_CHECK(json_is_object(j) || (json_is_array(j) && resp->status == 201));
		/* The token is never echoed, unless the client put it in this
		 * request's body or query, or stored it earlier in a link's url,
		 * title or tags (the PATCHed link keeps what earlier inputs set). */
		if ((body == NULL || memmem(body, body_len, FIXTURE_TOKEN, strlen(FIXTURE_TOKEN)) == NULL) &&
		    (query == NULL || strstr(query, FIXTURE_TOKEN) == NULL) && holds_token(j))
			FUZZ_CHECK(resp->status < 300 && stored_token(j));
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
