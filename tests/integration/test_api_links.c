/*
 * Links as their owners manage them, against the real daemon: labels
 * (title, tags, created_by, updated_by) on create, read and update; finding
 * links by url, q and tag with cursor paging; "reuse": true, also from
 * parallel clients; bulk create of up to 1,000 links, all or none; and the
 * CLI's side of each (add/edit --title/--tag, list --search/--tag/--url).
 * Refusals of bad input are rows in test_api_errors.c.
 */
#include <check.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_client.h"
#include "harness.h"

#define C "/api/v1/links"

static struct daemon d;

static void setup(void)
{
	client_daemon_start(&d, NULL);
}

static void teardown(void)
{
	fixture_stop(&d);
}

/* GET path with the admin token: asserts 200, returns the JSON. */
static json_t *get_json(const char *path)
{
	struct http_result r;
	json_t *j;

	ck_assert_msg(client_call(&d, API_TEST_TOKEN, "GET", path, NULL, &r) == 200, "%s: %ld %s", path, r.status,
	              r.body);
	j = client_json(&r);
	http_result_free(&r);
	return j;
}

/* The codes of a listing's items joined by ',', into out. */
static const char *codes_of(const json_t *list, char *out, size_t size)
{
	const json_t *items = json_object_get(list, "items");
	size_t i, n = 0;
	json_t *it;

	out[0] = '\0';
	json_array_foreach(items, i, it)
	{
		n += (size_t)snprintf(out + n, size - n, "%s%s", i > 0 ? "," : "", client_str(it, "code"));
		ck_assert_uint_lt(n, size);
	}
	return out;
}

/* The codes that GET path lists (one page), joined by ','. */
static const char *found(const char *path, char *out, size_t size)
{
	json_t *j = get_json(path);

	codes_of(j, out, size);
	json_decref(j);
	return out;
}

/* ---- labels ---- */

START_TEST(test_labels_are_set_on_create_and_read_back)
{
	json_t *l = client_create_link(&d, "{\"url\":\"https://t.example/a\",\"code\":\"lab\",\"title\":\"Caf\\u00e9 "
	                                   "<b>menu</b>\",\"tags\":[\"food\",\"paris\",\"food\",\"\\u00e9t\\u00e9\"]}");
	json_t *tags = json_object_get(l, "tags");

	ck_assert_uint_eq(json_object_size(l), 15);
	ck_assert_str_eq(client_str(l, "title"), "Caf\xc3\xa9 <b>menu</b>");
	ck_assert_uint_eq(json_array_size(tags), 3);
	ck_assert_str_eq(json_string_value(json_array_get(tags, 0)), "food");
	ck_assert_str_eq(json_string_value(json_array_get(tags, 1)), "paris");
	ck_assert_str_eq(json_string_value(json_array_get(tags, 2)), "\xc3\xa9t\xc3\xa9");
	ck_assert_str_eq(client_str(l, "created_by"), "SHORTD_ADMIN_TOKEN");
	ck_assert_str_eq(client_str(l, "updated_by"), "SHORTD_ADMIN_TOKEN");
	json_decref(l);

	l = get_json(C "/lab");
	ck_assert_str_eq(client_str(l, "title"), "Caf\xc3\xa9 <b>menu</b>");
	ck_assert_uint_eq(json_array_size(json_object_get(l, "tags")), 3);
	json_decref(l);

	/* Without labels: null title, no tags. */
	l = client_create_link(&d, "{\"url\":\"https://t.example/b\",\"code\":\"bare\",\"title\":null,\"tags\":null}");
	ck_assert(json_is_null(json_object_get(l, "title")));
	ck_assert_uint_eq(json_array_size(json_object_get(l, "tags")), 0);
	json_decref(l);
}
END_TEST

START_TEST(test_patch_sets_and_clears_labels_and_records_who)
{
	static const char *const args[] = {"token", "create", "--name", "alice", NULL};
	char out[256], err[256], token[64];
	struct http_result r;
	json_t *l;

	ck_assert_int_eq(shortd_run(d.db, out, sizeof(out), err, sizeof(err), args), 0);
	ck_assert_uint_eq(strlen(out), 44);
	memcpy(token, out, 43);
	token[43] = '\0';
	json_decref(client_create_link(&d, "{\"url\":\"https://t.example/a\",\"code\":\"p\",\"title\":\"old\","
	                                   "\"tags\":[\"x\"]}"));

	ck_assert_int_eq(
	    client_call(&d, token, "PATCH", C "/p", "{\"title\":\"new\",\"tags\":[\"y\",\"z\",\"y\"]}", &r), 200);
	l = client_json(&r);
	http_result_free(&r);
	ck_assert_str_eq(client_str(l, "title"), "new");
	ck_assert_uint_eq(json_array_size(json_object_get(l, "tags")), 2);
	ck_assert_str_eq(client_str(l, "created_by"), "SHORTD_ADMIN_TOKEN");
	ck_assert_str_eq(client_str(l, "updated_by"), "alice");
	json_decref(l);

	/* A patch without labels keeps them. */
	ck_assert_int_eq(client_call(&d, token, "PATCH", C "/p", "{\"status\":301}", &r), 200);
	l = client_json(&r);
	http_result_free(&r);
	ck_assert_str_eq(client_str(l, "title"), "new");
	ck_assert_uint_eq(json_array_size(json_object_get(l, "tags")), 2);
	json_decref(l);

	client_patch_link(&d, "p", "{\"title\":null,\"tags\":[]}");
	l = get_json(C "/p");
	ck_assert(json_is_null(json_object_get(l, "title")));
	ck_assert_uint_eq(json_array_size(json_object_get(l, "tags")), 0);
	ck_assert_str_eq(client_str(l, "updated_by"), "SHORTD_ADMIN_TOKEN");
	json_decref(l);
	/* Tags cleared are no longer found. */
	ck_assert_str_eq(found(C "?tag=y", out, sizeof(out)), "");
}
END_TEST

/* ---- find ---- */

/* Six links: codes, URLs, titles and tags to find them by. */
static void add_findable(void)
{
	static const char *const bodies[] = {
	    ("{\"url\":\"https://docs.example/guide\",\"code\":\"g1\",\"title\":\"User "
	     "Guide\",\"tags\":[\"docs\",\"en\"]}"),
	    "{\"url\":\"https://docs.example/guide\",\"code\":\"g2\",\"tags\":[\"docs\",\"fr\"]}",
	    "{\"url\":\"https://shop.example/Cart\",\"code\":\"cart\",\"title\":\"Checkout\",\"tags\":[\"shop\"]}",
	    "{\"url\":\"https://docs.example/api\",\"code\":\"api-ref\",\"tags\":[\"docs\",\"en\",\"api\"]}",
	    "{\"url\":\"https://blog.example/100%25\",\"code\":\"pct\",\"title\":\"A 100% sure thing\"}",
	    "{\"url\":\"https://blog.example/x\",\"code\":\"Xyz\",\"tags\":[\"Big Sale\"]}",
	};
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
		json_decref(client_create_link(&d, bodies[i]));
}

START_TEST(test_find_by_url_in_its_normal_form)
{
	char out[256];

	add_findable();
	ck_assert_str_eq(found(C "?url=https%3A%2F%2Fdocs.example%2Fguide", out, sizeof(out)), "g1,g2");
	/* Compared after url_normalize(): scheme and host without case. */
	ck_assert_str_eq(found(C "?url=HTTPS://Docs.Example/guide", out, sizeof(out)), "g1,g2");
	/* The path's case is the target's own. */
	ck_assert_str_eq(found(C "?url=https://shop.example/cart", out, sizeof(out)), "");
	ck_assert_str_eq(found(C "?url=https://shop.example/Cart", out, sizeof(out)), "cart");
}
END_TEST

START_TEST(test_find_by_q_in_code_url_title_and_tags)
{
	char out[256];

	add_findable();
	ck_assert_str_eq(found(C "?q=GUIDE", out, sizeof(out)), "g1,g2");        /* url and title, any case */
	ck_assert_str_eq(found(C "?q=checkout", out, sizeof(out)), "cart");      /* title */
	ck_assert_str_eq(found(C "?q=api-r", out, sizeof(out)), "api-ref");      /* code */
	ck_assert_str_eq(found(C "?q=big+sale", out, sizeof(out)), "Xyz");       /* a tag, '+' a space */
	ck_assert_str_eq(found(C "?q=100%25", out, sizeof(out)), "pct");         /* '%' is text, not a wildcard */
	ck_assert_str_eq(found(C "?q=%25", out, sizeof(out)), "pct");            /* short: no index, same answer */
	ck_assert_str_eq(found(C "?q=xy", out, sizeof(out)), "Xyz");             /* two characters */
	ck_assert_str_eq(found(C "?q=_", out, sizeof(out)), "");                 /* '_' is text too */
	ck_assert_str_eq(found(C "?q=%22docs%22", out, sizeof(out)), "");        /* quotes are text */
	ck_assert_str_eq(found(C "?q=nothing+like+this", out, sizeof(out)), ""); /* none */
	ck_assert_str_eq(found(C "?q=", out, sizeof(out)), "g1,g2,cart,api-ref,pct,Xyz"); /* empty: all */
	/* Not across two tags: "docs" then "en" is not "docsen". */
	ck_assert_str_eq(found(C "?q=docsen", out, sizeof(out)), "");
}
END_TEST

START_TEST(test_find_by_tags_all_of_them)
{
	char out[256];

	add_findable();
	ck_assert_str_eq(found(C "?tag=docs", out, sizeof(out)), "g1,g2,api-ref");
	ck_assert_str_eq(found(C "?tag=docs&tag=en", out, sizeof(out)), "g1,api-ref");
	ck_assert_str_eq(found(C "?tag=en&tag=docs&tag=api", out, sizeof(out)), "api-ref");
	ck_assert_str_eq(found(C "?tag=docs&tag=shop", out, sizeof(out)), "");
	ck_assert_str_eq(found(C "?tag=Docs", out, sizeof(out)), ""); /* tags compare exactly */
	ck_assert_str_eq(found(C "?tag=Big%20Sale", out, sizeof(out)), "Xyz");
	/* Filters combine: every one must match. */
	ck_assert_str_eq(found(C "?tag=docs&url=https://docs.example/guide", out, sizeof(out)), "g1,g2");
	ck_assert_str_eq(found(C "?tag=en&url=https://docs.example/guide", out, sizeof(out)), "g1");
	ck_assert_str_eq(found(C "?tag=docs&q=api", out, sizeof(out)), "api-ref");
	ck_assert_str_eq(found(C "?q=guide&tag=fr", out, sizeof(out)), "g2");
	ck_assert_str_eq(found(C "?q=gu&tag=fr", out, sizeof(out)), "g2");
	ck_assert_str_eq(found(C "?q=user&url=https://docs.example/guide", out, sizeof(out)), "g1");
}
END_TEST

START_TEST(test_find_pages_by_cursor)
{
	char out[512], path[256];
	json_t *page;
	int seen = 0, pages = 0;

	for (int i = 0; i < 25; i++) {
		char body[160];
		snprintf(body, sizeof(body), "{\"url\":\"https://t.example/%d\",\"code\":\"c%02d\",\"tags\":[\"%s\"]}",
		         i, i, i % 2 == 0 ? "even" : "odd");
		json_decref(client_create_link(&d, body));
	}
	snprintf(path, sizeof(path), C "?tag=even&limit=5");
	for (;;) {
		const json_t *next;
		page = get_json(path);
		codes_of(page, out, sizeof(out));
		pages++;
		for (const char *p = out; *p != '\0'; p += strcspn(p, ",") + (p[strcspn(p, ",")] == ',')) {
			int k;
			ck_assert_int_eq(sscanf(p, "c%d", &k), 1);
			ck_assert_int_eq(k, 2 * seen);
			seen++;
		}
		next = json_object_get(page, "next_cursor");
		if (json_is_null(next)) {
			json_decref(page);
			break;
		}
		snprintf(path, sizeof(path), C "?limit=5&tag=even&cursor=%s", json_string_value(next));
		json_decref(page);
	}
	ck_assert_int_eq(seen, 13);
	ck_assert_int_eq(pages, 3);
	/* The same walk by q (the trigram index) and by url. */
	ck_assert_str_eq(found(C "?q=t.example%2F2&limit=3", out, sizeof(out)), "c02,c20,c21");
	page = get_json(C "?q=t.example%2F2&limit=3");
	snprintf(path, sizeof(path), C "?q=t.example%%2F2&limit=3&cursor=%s",
	         json_string_value(json_object_get(page, "next_cursor")));
	json_decref(page);
	ck_assert_str_eq(found(path, out, sizeof(out)), "c22,c23,c24");
}
END_TEST

/* ---- reuse ---- */

START_TEST(test_reuse_answers_the_identical_link)
{
	const char *same = "{\"url\":\"HTTPS://T.Example/r\",\"reuse\":true,\"status\":301}";
	struct http_result r;
	char code[72];
	json_t *l;

	ck_assert_int_eq(client_call(&d, API_TEST_TOKEN, "POST", C, same, &r), 201);
	l = client_json(&r);
	http_result_free(&r);
	snprintf(code, sizeof(code), "%s", client_str(l, "code"));
	json_decref(l);

	ck_assert_int_eq(client_call(&d, API_TEST_TOKEN, "POST", C, same, &r), 200);
	l = client_json(&r);
	http_result_free(&r);
	ck_assert_str_eq(client_str(l, "code"), code);
	json_decref(l);

	/* Other options, another link. */
	ck_assert_int_eq(client_call(&d, API_TEST_TOKEN, "POST", C,
	                             "{\"url\":\"https://t.example/r\",\"reuse\":true,\"status\":302}", &r),
	                 201);
	http_result_free(&r);
	ck_assert_int_eq(client_call(&d, API_TEST_TOKEN, "POST", C,
	                             "{\"url\":\"https://t.example/r\",\"reuse\":true,\"status\":301,\"max_clicks\":5}",
	                             &r),
	                 201);
	http_result_free(&r);
	/* Without reuse, a new link as before. */
	ck_assert_int_eq(
	    client_call(&d, API_TEST_TOKEN, "POST", C, "{\"url\":\"https://t.example/r\",\"status\":301}", &r), 201);
	http_result_free(&r);
	/* A code asked for is that code or nothing. */
	ck_assert_int_eq(
	    client_call(&d, API_TEST_TOKEN, "POST", C,
	                "{\"url\":\"https://t.example/r\",\"status\":301,\"reuse\":true,\"code\":\"mine\"}", &r),
	    201);
	http_result_free(&r);
	/* A disabled link is not handed out. */
	client_patch_link(&d, code, "{\"disabled\":true}");
	ck_assert_int_eq(client_call(&d, API_TEST_TOKEN, "POST", C, same, &r), 200);
	l = client_json(&r);
	http_result_free(&r);
	ck_assert_str_ne(client_str(l, "code"), code);
	json_decref(l);
}
END_TEST

#define REUSERS 8

struct reuser {
	char code[72];
	long status;
};

static void *reuse_once(void *arg)
{
	struct reuser *u = arg;
	struct http_result r;
	json_t *l;

	u->status =
	    client_call(&d, API_TEST_TOKEN, "POST", C, "{\"url\":\"https://t.example/race\",\"reuse\":true}", &r);
	if (u->status == 200 || u->status == 201) {
		l = client_json(&r);
		snprintf(u->code, sizeof(u->code), "%s", client_str(l, "code"));
		json_decref(l);
	}
	http_result_free(&r);
	return NULL;
}

START_TEST(test_parallel_identical_reuse_makes_one_link)
{
	for (int round = 0; round < 5; round++) {
		struct reuser u[REUSERS];
		pthread_t t[REUSERS];
		char out[256], path[128];
		int created = 0;

		memset(u, 0, sizeof(u));
		snprintf(path, sizeof(path), "%s", C "?url=https://t.example/race");
		for (int i = 0; i < REUSERS; i++)
			ck_assert_int_eq(pthread_create(&t[i], NULL, reuse_once, &u[i]), 0);
		for (int i = 0; i < REUSERS; i++)
			pthread_join(t[i], NULL);
		for (int i = 0; i < REUSERS; i++) {
			ck_assert_msg(u[i].status == 200 || u[i].status == 201, "status %ld", u[i].status);
			ck_assert_str_eq(u[i].code, u[0].code);
			created += u[i].status == 201;
		}
		ck_assert_int_eq(created, round == 0 ? 1 : 0);
		ck_assert_str_eq(found(path, out, sizeof(out)), u[0].code);
	}
}
END_TEST

/* ---- bulk ---- */

START_TEST(test_bulk_creates_a_thousand_links)
{
	size_t cap = 1000 * 96 + 16, n = 0;
	char *body = malloc(cap);
	struct http_result r;
	json_t *items, *all;
	int pages;

	ck_assert_ptr_nonnull(body);
	n += (size_t)snprintf(body + n, cap - n, "[");
	for (int i = 0; i < 1000; i++)
		n += (size_t)snprintf(body + n, cap - n, "%s{\"url\":\"https://t.example/b/%d\",\"tags\":[\"bulk\"]%s}",
		                      i > 0 ? "," : "", i, i == 7 ? ",\"code\":\"seventh\"" : "");
	snprintf(body + n, cap - n, "]");
	ck_assert_int_eq(client_call(&d, API_TEST_TOKEN, "POST", C, body, &r), 201);
	items = client_json(&r);
	http_result_free(&r);
	ck_assert(json_is_array(items));
	ck_assert_uint_eq(json_array_size(items), 1000);
	ck_assert_str_eq(client_str(json_array_get(items, 7), "code"), "seventh");
	ck_assert_str_eq(client_str(json_array_get(items, 999), "url"), "https://t.example/b/999");
	ck_assert_str_eq(client_str(json_array_get(items, 0), "created_by"), "SHORTD_ADMIN_TOKEN");
	json_decref(items);
	all = client_list_all(&d, 1000, &pages);
	ck_assert_uint_eq(json_array_size(all), 1000);
	json_decref(all);
	free(body);
}
END_TEST

START_TEST(test_bulk_error_names_the_first_bad_item_and_creates_none)
{
	struct http_result r;
	json_t *e, *all;
	int pages;

	json_decref(client_create_link(&d, "{\"url\":\"https://t.example/kept\",\"code\":\"taken\"}"));
	ck_assert_int_eq(client_call(&d, API_TEST_TOKEN, "POST", C,
	                             "[{\"url\":\"https://t.example/0\"},{\"url\":\"https://t.example/1\"},"
	                             "{\"url\":\"https://t.example/2\",\"title\":5},{\"url\":\"nope\"}]",
	                             &r),
	                 400);
	client_assert_error(&r, 400, "invalid_type");
	e = client_json(&r);
	ck_assert_int_eq(client_int(json_object_get(e, "error"), "index"), 2);
	ck_assert_ptr_nonnull(strstr(client_str(json_object_get(e, "error"), "message"), "links[2]"));
	json_decref(e);
	http_result_free(&r);

	/* A code taken is found by the store, at its index. */
	ck_assert_int_eq(
	    client_call(&d, API_TEST_TOKEN, "POST", C,
	                "[{\"url\":\"https://t.example/0\"},{\"url\":\"https://t.example/1\",\"code\":\"taken\"}]", &r),
	    409);
	client_assert_error(&r, 409, "code_taken");
	e = client_json(&r);
	ck_assert_int_eq(client_int(json_object_get(e, "error"), "index"), 1);
	json_decref(e);
	http_result_free(&r);

	all = client_list_all(&d, 100, &pages);
	ck_assert_uint_eq(json_array_size(all), 1);
	json_decref(all);
}
END_TEST

START_TEST(test_bulk_reuses_within_and_across)
{
	struct http_result r;
	json_t *items;

	json_decref(client_create_link(&d, "{\"url\":\"https://t.example/old\",\"code\":\"old\"}"));
	ck_assert_int_eq(client_call(&d, API_TEST_TOKEN, "POST", C,
	                             "[{\"url\":\"https://t.example/old\",\"reuse\":true},"
	                             "{\"url\":\"https://t.example/n\",\"reuse\":true},"
	                             "{\"url\":\"https://t.example/n\",\"reuse\":true}]",
	                             &r),
	                 201);
	items = client_json(&r);
	http_result_free(&r);
	ck_assert_str_eq(client_str(json_array_get(items, 0), "code"), "old");
	ck_assert_str_eq(client_str(json_array_get(items, 1), "code"), client_str(json_array_get(items, 2), "code"));
	json_decref(items);
}
END_TEST

/* ---- the CLI ---- */

START_TEST(test_cli_labels_and_filters)
{
	static const char *const add[] = {"add",     "https://t.example/cli",
	                                  "--code",  "cl",
	                                  "--title", "From the shell",
	                                  "--tag",   "ops",
	                                  "--tag",   "ops",
	                                  "--tag",   "eu",
	                                  NULL};
	static const char *const add2[] = {"add", "https://t.example/other", "--code", "c2", "--tag", "ops", NULL};
	static const char *const edit[] = {"edit", "cl", "--title", "Renamed", "--tag", "us", NULL};
	static const char *const by_search[] = {"list", "--search", "RENAMED", NULL};
	static const char *const by_tag[] = {"list", "--tag", "ops", NULL};
	static const char *const by_two_tags[] = {"list", "--tag", "ops", "--tag", "us", NULL};
	static const char *const by_url[] = {"list", "--url", "HTTPS://t.example/other", NULL};
	static const char *const bad_tag[] = {"add", "https://t.example/x", "--tag", "a\tb", NULL};
	static const char *const bad_title[] = {"edit", "cl", "--title", "a\nb", NULL};
	static const char *const bad_url[] = {"list", "--url", "ftp://x", NULL};
	static const char *const bad_search[] = {"list", "--search", "a\x01", NULL};
	static const char *const nothing[] = {"edit", "cl", NULL};
	static const char *const missing[] = {"edit", "nope", "--title", "x", NULL};
	char out[4096], err[512];
	json_t *l;

	ck_assert_int_eq(shortd_run(d.db, out, sizeof(out), err, sizeof(err), add), 0);
	ck_assert_int_eq(shortd_run(d.db, out, sizeof(out), err, sizeof(err), add2), 0);
	l = get_json(C "/cl");
	ck_assert_str_eq(client_str(l, "title"), "From the shell");
	ck_assert_uint_eq(json_array_size(json_object_get(l, "tags")), 2);
	ck_assert_str_eq(client_str(l, "created_by"), "cli");
	json_decref(l);

	ck_assert_int_eq(shortd_run(d.db, out, sizeof(out), err, sizeof(err), edit), 0);
	ck_assert_ptr_nonnull(strstr(out, "\"title\": \"Renamed\""));
	l = get_json(C "/cl");
	ck_assert_str_eq(client_str(l, "title"), "Renamed");
	ck_assert_uint_eq(json_array_size(json_object_get(l, "tags")), 1);
	ck_assert_str_eq(client_str(l, "updated_by"), "cli");
	json_decref(l);

	ck_assert_int_eq(shortd_run(d.db, out, sizeof(out), err, sizeof(err), by_search), 0);
	ck_assert_str_eq(out, "cl\t302\t0\thttps://t.example/cli\n");
	ck_assert_int_eq(shortd_run(d.db, out, sizeof(out), err, sizeof(err), by_tag), 0);
	ck_assert_str_eq(out, "c2\t302\t0\thttps://t.example/other\n");
	ck_assert_int_eq(shortd_run(d.db, out, sizeof(out), err, sizeof(err), by_two_tags), 0);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(shortd_run(d.db, out, sizeof(out), err, sizeof(err), by_url), 0);
	ck_assert_str_eq(out, "c2\t302\t0\thttps://t.example/other\n");

	ck_assert_int_eq(shortd_run(d.db, out, sizeof(out), err, sizeof(err), bad_tag), 2);
	ck_assert_ptr_nonnull(strstr(err, "control character"));
	ck_assert_int_eq(shortd_run(d.db, out, sizeof(out), err, sizeof(err), bad_title), 2);
	ck_assert_ptr_nonnull(strstr(err, "--title"));
	ck_assert_int_eq(shortd_run(d.db, out, sizeof(out), err, sizeof(err), bad_url), 2);
	ck_assert_ptr_nonnull(strstr(err, "--url"));
	ck_assert_int_eq(shortd_run(d.db, out, sizeof(out), err, sizeof(err), bad_search), 2);
	ck_assert_ptr_nonnull(strstr(err, "--search"));
	ck_assert_int_eq(shortd_run(d.db, out, sizeof(out), err, sizeof(err), nothing), 2);
	ck_assert_int_eq(shortd_run(d.db, out, sizeof(out), err, sizeof(err), missing), 1);
	ck_assert_ptr_nonnull(strstr(err, "not_found"));
	/* Nothing refused changed the link. */
	l = get_json(C "/cl");
	ck_assert_str_eq(client_str(l, "title"), "Renamed");
	json_decref(l);
}
END_TEST

Suite *api_links_suite(void)
{
	Suite *s = suite_create("api_links");
	TCase *labels = tcase_create("labels");
	TCase *find = tcase_create("find");
	TCase *reuse = tcase_create("reuse");
	TCase *bulk = tcase_create("bulk");
	TCase *cli = tcase_create("cli");

	tcase_add_checked_fixture(labels, setup, teardown);
	tcase_set_timeout(labels, 60);
	tcase_add_test(labels, test_labels_are_set_on_create_and_read_back);
	tcase_add_test(labels, test_patch_sets_and_clears_labels_and_records_who);
	suite_add_tcase(s, labels);

	tcase_add_checked_fixture(find, setup, teardown);
	tcase_set_timeout(find, 60);
	tcase_add_test(find, test_find_by_url_in_its_normal_form);
	tcase_add_test(find, test_find_by_q_in_code_url_title_and_tags);
	tcase_add_test(find, test_find_by_tags_all_of_them);
	tcase_add_test(find, test_find_pages_by_cursor);
	suite_add_tcase(s, find);

	tcase_add_checked_fixture(reuse, setup, teardown);
	tcase_set_timeout(reuse, 60);
	tcase_add_test(reuse, test_reuse_answers_the_identical_link);
	tcase_add_test(reuse, test_parallel_identical_reuse_makes_one_link);
	suite_add_tcase(s, reuse);

	tcase_add_checked_fixture(bulk, setup, teardown);
	tcase_set_timeout(bulk, 60);
	tcase_add_test(bulk, test_bulk_creates_a_thousand_links);
	tcase_add_test(bulk, test_bulk_error_names_the_first_bad_item_and_creates_none);
	tcase_add_test(bulk, test_bulk_reuses_within_and_across);
	suite_add_tcase(s, bulk);

	tcase_add_checked_fixture(cli, setup, teardown);
	tcase_set_timeout(cli, 60);
	tcase_add_test(cli, test_cli_labels_and_filters);
	suite_add_tcase(s, cli);
	return s;
}
