/*
 * link_json_dumps writes what json_dumps writes, for documents of every
 * size (its buffer grows from 256 bytes) and with each flag shortd uses.
 * link_json_write writes what Jansson writes of link_json_encode's object.
 * (What they do when memory runs out is make torture's to check.)
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link_json.h"

START_TEST(test_dumps_matches_jansson)
{
	static const size_t flags[] = {JSON_COMPACT, JSON_INDENT(2) | JSON_PRESERVE_ORDER, 0};
	static const size_t sizes[] = {0, 1, 200, 255, 256, 257, 5000, 70000};

	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		char *big = malloc(sizes[s] + 1);
		json_t *j;

		ck_assert_ptr_nonnull(big);
		memset(big, 'x', sizes[s]);
		big[sizes[s]] = '\0';
		j = json_pack("{s:s, s:I, s:[s, {s:n}], s:b, s:s}", "code", "abc", "clicks", (json_int_t)42, "list",
		              "\"quoted\"\n", "k\xc3\xa9y", "flag", 1, "big", big);
		ck_assert_ptr_nonnull(j);
		for (size_t f = 0; f < sizeof(flags) / sizeof(flags[0]); f++) {
			char *want = json_dumps(j, flags[f]), *got = link_json_dumps(j, flags[f]);

			ck_assert_ptr_nonnull(want);
			ck_assert_ptr_nonnull(got);
			ck_assert_str_eq(got, want);
			free(want);
			free(got);
		}
		json_decref(j);
		free(big);
	}
}
END_TEST

START_TEST(test_dumps_scalars_and_empty_containers)
{
	json_t *docs[] = {json_object(), json_array(), json_string(""), json_integer(-1)};

	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		char *want = json_dumps(docs[i], JSON_COMPACT | JSON_ENCODE_ANY);
		char *got = link_json_dumps(docs[i], JSON_COMPACT | JSON_ENCODE_ANY);

		ck_assert_ptr_nonnull(got);
		ck_assert_str_eq(got, want);
		free(want);
		free(got);
		json_decref(docs[i]);
	}
}
END_TEST

/* What link_json_write appends for l, next to what Jansson writes of
 * link_json_encode's object; both NULL when either fails. */
static void write_both(const struct link *l, const char *base_url, int64_t clicks, char **got, char **want)
{
	struct link_json_text t = {NULL, 0, 0, false};
	json_t *j = link_json_encode(l, base_url, clicks);

	*want = j != NULL ? link_json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	ck_assert_int_eq(link_json_text_put(&t, "[", 1), 0);
	if (link_json_write(&t, l, base_url, clicks) != 0) {
		ck_assert(t.failed);
		ck_assert_int_eq(link_json_text_put(&t, "]", 1), -1);
		free(t.data);
		*got = NULL;
		return;
	}
	ck_assert(!t.failed);
	ck_assert_uint_eq(t.len, strlen(t.data));
	*got = strdup(t.data + 1);
	free(t.data);
}

static void init_link(struct link *l)
{
	memset(l, 0, sizeof(*l));
	l->id = 7;
	snprintf(l->code, sizeof(l->code), "abc1234");
	snprintf(l->url, sizeof(l->url), "https://example.com/a?b=c&d=%%2F#frag");
	l->status = 302;
	l->created_at = 1700000000;
	l->updated_at = 1700000001;
	l->expires_at = LINK_NO_TIME;
	l->max_clicks = LINK_NO_LIMIT;
	l->last_click_at = LINK_NO_TIME;
}

/* Text fields that need each kind of escape, and UTF-8 of 2 to 4 bytes,
 * are written as Jansson writes them. */
static const char *const texts[] = {
    "",
    "plain",
    "\"quoted\" and back\\slash",
    "\b\f\n\r\t",
    "\x01\x02\x1f\x7f end",
    "slash / stays",
    "caf\xc3\xa9 \xe2\x80\xa8 \xf0\x9f\x98\x80",
    "\xef\xbf\xbf\xf4\x8f\xbf\xbf",
    "tail\\",
};

START_TEST(test_write_matches_encode)
{
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct link l;
		char *got, *want;

		init_link(&l);
		snprintf(l.title, sizeof(l.title), "%s", texts[i]);
		snprintf(l.created_by, sizeof(l.created_by), "%s", texts[i]);
		snprintf(l.updated_by, sizeof(l.updated_by), "%s", texts[(i + 1) % 9]);
		snprintf(l.code, sizeof(l.code), "%s", texts[(i + 2) % 9]);
		snprintf(l.url, sizeof(l.url), "%s", texts[(i + 3) % 9]);
		l.n_tags = (int)(i % 4);
		for (int k = 0; k < l.n_tags; k++)
			snprintf(l.tags[k], sizeof(l.tags[k]), "%s", texts[(i + (size_t)k) % 9]);
		l.forward_query = i % 2 == 0;
		l.disabled = i % 3 == 0;
		l.status = i % 2 == 0 ? 301 : 308;
		l.expires_at = i % 2 == 0 ? LINK_NO_TIME : 4102444799;
		l.max_clicks = i % 3 == 0 ? LINK_NO_LIMIT : (int64_t)i * 1000;
		l.created_at = i % 4 == 0 ? LINK_NO_TIME : 0;
		write_both(&l, i % 2 == 0 ? "https://s.example" : "http://127.0.0.1:8080", (int64_t)i * 12345, &got,
		           &want);
		ck_assert_ptr_nonnull(want);
		ck_assert_ptr_nonnull(got);
		ck_assert_str_eq(got, want);
		free(got);
		free(want);
	}
}
END_TEST

/* The extremes: clicks of 0 and INT64_MAX, a short_url too long for the
 * buffer (written "" by both), every tag of the longest size. */
START_TEST(test_write_extremes)
{
	static const int64_t clicks[] = {0, -1, INT64_MAX, INT64_MIN};
	char base[1300];
	struct link l;
	char *got, *want;

	init_link(&l);
	memset(base, 'b', sizeof(base) - 1);
	base[sizeof(base) - 1] = '\0';
	l.n_tags = LINK_TAGS_MAX;
	for (int k = 0; k < LINK_TAGS_MAX; k++) {
		memset(l.tags[k], 'a' + k % 26, LINK_TAG_MAX);
		l.tags[k][LINK_TAG_MAX] = '\0';
	}
	memset(l.title, 'T', LINK_TITLE_MAX);
	l.title[LINK_TITLE_MAX] = '\0';
	for (size_t i = 0; i < sizeof(clicks) / sizeof(clicks[0]); i++) {
		write_both(&l, i % 2 == 0 ? base : "https://s.example", clicks[i], &got, &want);
		ck_assert_ptr_nonnull(want);
		ck_assert_ptr_nonnull(got);
		/* Not ck_assert_str_eq: these texts are longer than a Check
		 * message may be. */
		ck_assert_msg(strcmp(got, want) == 0, "row %zu: the writer and Jansson differ", i);
		free(got);
		free(want);
	}
}
END_TEST

/* A field that is not UTF-8 fails both ways (the API answers 500 rather
 * than text that is not JSON): a stray continuation byte, a cut sequence,
 * an overlong form, a surrogate, a code point past U+10FFFF, 0xff. */
START_TEST(test_write_refuses_bad_utf8)
{
	static const char *const bad[] = {"a\x80",        "cut \xe2\x82",     "\xc0\xaf",
	                                  "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xff",
	                                  "\xe0\x80\xaf", "\xf0\x80\x80\xaf", "\xc3("};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		for (int field = 0; field < 3; field++) {
			struct link l;
			char *got, *want;

			init_link(&l);
			if (field == 0)
				snprintf(l.title, sizeof(l.title), "%s", bad[i]);
			else if (field == 1)
				snprintf(l.url, sizeof(l.url), "%s", bad[i]);
			else {
				l.n_tags = 2;
				snprintf(l.tags[0], sizeof(l.tags[0]), "ok");
				snprintf(l.tags[1], sizeof(l.tags[1]), "%s", bad[i]);
			}
			write_both(&l, "https://s.example", 1, &got, &want);
			ck_assert_msg(got == NULL && want == NULL, "bad[%zu] field %d", i, field);
		}
	}
}
END_TEST

/* A text that failed stays failed, and puts nothing more. */
START_TEST(test_text_failed_stays)
{
	struct link_json_text t = {NULL, 0, 0, false};
	json_t *j = json_object();
	struct link l;

	ck_assert_ptr_nonnull(j);
	init_link(&l);
	ck_assert_int_eq(link_json_text_put(&t, "x", 1), 0);
	t.failed = true;
	ck_assert_int_eq(link_json_write(&t, &l, "https://s.example", 0), -1);
	ck_assert_int_eq(link_json_text_dump(&t, j, JSON_COMPACT), -1);
	ck_assert_str_eq(t.data, "x");
	json_decref(j);
	free(t.data);
}
END_TEST

Suite *link_json_suite(void)
{
	Suite *s = suite_create("link_json");
	TCase *tc = tcase_create("dumps");

	tcase_add_test(tc, test_dumps_matches_jansson);
	tcase_add_test(tc, test_dumps_scalars_and_empty_containers);
	suite_add_tcase(s, tc);
	tc = tcase_create("write");
	tcase_add_test(tc, test_write_matches_encode);
	tcase_add_test(tc, test_write_extremes);
	tcase_add_test(tc, test_write_refuses_bad_utf8);
	tcase_add_test(tc, test_text_failed_stays);
	suite_add_tcase(s, tc);
	return s;
}
