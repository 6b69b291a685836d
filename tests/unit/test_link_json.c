/*
 * link_json_dumps writes what json_dumps writes, for documents of every
 * size (its buffer grows from 256 bytes) and with each flag shortd uses.
 * (What it does when memory runs out is make torture's to check.)
 */
#include <check.h>
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

Suite *link_json_suite(void)
{
	Suite *s = suite_create("link_json");
	TCase *tc = tcase_create("dumps");

	tcase_add_test(tc, test_dumps_matches_jansson);
	tcase_add_test(tc, test_dumps_scalars_and_empty_containers);
	suite_add_tcase(s, tc);
	return s;
}
