/*
 * Unit tests of link.c: the code rules (length, characters, reserved words
 * regardless of case), the five statuses and a link's state at a time.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link.h"
#include "link_json.h"

START_TEST(test_code_one_and_64_chars_ok)
{
	char code[LINK_CODE_MAX + 2];

	ck_assert_int_eq(link_code_check("a"), LINK_CODE_OK);
	ck_assert_int_eq(link_code_check("Z"), LINK_CODE_OK);
	ck_assert_int_eq(link_code_check("7"), LINK_CODE_OK);
	ck_assert_int_eq(link_code_check("_"), LINK_CODE_OK);
	ck_assert_int_eq(link_code_check("-"), LINK_CODE_OK);
	ck_assert_int_eq(link_code_check("Ab_9-x"), LINK_CODE_OK);
	memset(code, 'x', LINK_CODE_MAX);
	code[LINK_CODE_MAX] = '\0';
	ck_assert_int_eq(link_code_check(code), LINK_CODE_OK);
}
END_TEST

START_TEST(test_code_65_chars_too_long)
{
	char code[1001];

	memset(code, 'x', LINK_CODE_MAX + 1);
	code[LINK_CODE_MAX + 1] = '\0';
	ck_assert_int_eq(link_code_check(code), LINK_CODE_TOO_LONG);
	memset(code, 'x', 1000);
	code[1000] = '\0';
	ck_assert_int_eq(link_code_check(code), LINK_CODE_TOO_LONG);
}
END_TEST

START_TEST(test_code_empty)
{
	ck_assert_int_eq(link_code_check(""), LINK_CODE_EMPTY);
	ck_assert_int_eq(link_code_check(NULL), LINK_CODE_EMPTY);
}
END_TEST

/* Every byte 1..255 alone, and in the middle and at the end of a code. */
START_TEST(test_code_every_byte)
{
	unsigned char c = (unsigned char)_i;
	bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
	enum link_code_error want = ok ? LINK_CODE_OK : LINK_CODE_BAD_CHAR;
	char one[2] = {(char)c, '\0'};
	char mid[8] = {'a', 'b', (char)c, 'd', '\0'};
	char end[8] = {'a', 'b', 'c', (char)c, '\0'};

	ck_assert_msg(link_code_check(one) == want, "byte 0x%02x alone", c);
	ck_assert_msg(link_code_check(mid) == want, "byte 0x%02x inside", c);
	ck_assert_msg(link_code_check(end) == want, "byte 0x%02x at the end", c);
}
END_TEST

static const char *const reserved_codes[] = {
    "api",     "API",   "Api",   "aPi",   "healthz", "HEALTHZ", "HealthZ",     "metrics",       "METRICS",
    "Metrics", "admin", "ADMIN", "Admin", "admin1",  "admin_x", "admin-panel", "administrator", "AdminStuff",
};

START_TEST(test_code_reserved)
{
	const char *code = reserved_codes[_i];

	ck_assert_msg(link_code_check(code) == LINK_CODE_RESERVED, "%s not reserved", code);
	ck_assert(link_code_is_reserved(code, strlen(code)));
}
END_TEST

static const char *const free_codes[] = {
    "ap",
    "apis",
    "api-v2",
    "api_",
    "xapi",
    "healthz2",
    "health",
    "metric",
    "metricsx",
    "adm",
    "admi",
    "xadmin",
    "my-admin",
    "robots",
    "favicon",
    /* a reserved word's first letter, in either case, and then not it */
    "apj",
    "Aqi",
    "admjn",
    "hEalthy",
    "Metricz",
    "mxtrics",
};

START_TEST(test_code_not_reserved)
{
	const char *code = free_codes[_i];

	ck_assert_msg(link_code_check(code) == LINK_CODE_OK, "%s refused", code);
	ck_assert(!link_code_is_reserved(code, strlen(code)));
}
END_TEST

/* "export" is kept from new links by the API's rules, not as a path: a
 * link of that name made before redirects and is named by the CLI. */
START_TEST(test_export_is_kept_from_new_links_only)
{
	ck_assert(link_code_is_kept_by_api("export"));
	ck_assert(!link_code_is_kept_by_api("Export"));
	ck_assert(!link_code_is_kept_by_api("exports"));
	ck_assert(!link_code_is_kept_by_api("expor"));
	ck_assert_int_eq(link_code_check("export"), LINK_CODE_OK);
	ck_assert(!link_code_is_reserved("export", 6));
}
END_TEST

START_TEST(test_reserved_paths_and_prefix_lengths)
{
	ck_assert(link_code_is_reserved("robots.txt", 10));
	ck_assert(link_code_is_reserved("ROBOTS.TXT", 10));
	ck_assert(link_code_is_reserved("favicon.ico", 11));
	ck_assert(link_code_is_reserved("apixyz", 3));
	ck_assert(!link_code_is_reserved("apixyz", 4));
	ck_assert(!link_code_is_reserved("admin", 4));
	ck_assert(link_code_is_reserved("admin", 5));
	ck_assert(!link_code_is_reserved("", 0));
}
END_TEST

START_TEST(test_code_error_messages)
{
	static const enum link_code_error all[] = {LINK_CODE_OK, LINK_CODE_EMPTY, LINK_CODE_TOO_LONG,
	                                           LINK_CODE_BAD_CHAR, LINK_CODE_RESERVED};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		ck_assert_ptr_nonnull(link_code_error_message(all[i]));
		ck_assert_uint_gt(strlen(link_code_error_message(all[i])), 0);
	}
	ck_assert_str_eq(link_code_error_message(LINK_CODE_TOO_LONG), "code must be at most 64 characters");
}
END_TEST

START_TEST(test_statuses)
{
	for (int s = -1; s < 1000; s++) {
		bool want = s == 301 || s == 302 || s == 303 || s == 307 || s == 308;
		ck_assert_msg(link_status_is_valid(s) == want, "status %d", s);
	}
}
END_TEST

START_TEST(test_init_is_absent)
{
	struct link l;

	memset(&l, 0x5a, sizeof(l));
	link_init(&l);
	ck_assert_int_eq(l.id, 0);
	ck_assert_str_eq(l.code, "");
	ck_assert_str_eq(l.url, "");
	ck_assert_int_eq(l.status, 0);
	ck_assert(!l.forward_query);
	ck_assert(!l.disabled);
	ck_assert(l.expires_at == LINK_NO_TIME);
	ck_assert(l.max_clicks == LINK_NO_LIMIT);
	ck_assert(l.last_click_at == LINK_NO_TIME);
	ck_assert_int_eq(l.clicks, 0);
	ck_assert_int_eq(l.bot_clicks, 0);
	ck_assert_str_eq(l.title, "");
	ck_assert_int_eq(l.n_tags, 0);
	ck_assert_str_eq(l.created_by, "");
	ck_assert_str_eq(l.updated_by, "");
}
END_TEST

/* Titles and tags: text of valid UTF-8 without control characters. */
static const struct {
	const char *text;
	enum link_label_error title, tag;
} labels[] = {
    {"", LINK_LABEL_OK, LINK_LABEL_EMPTY},
    {"plain words", LINK_LABEL_OK, LINK_LABEL_OK},
    {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", LINK_LABEL_OK, LINK_LABEL_OK},
    {"<b>&amp;</b> \"q\" \\", LINK_LABEL_OK, LINK_LABEL_OK},
    {"tab\there", LINK_LABEL_CONTROL, LINK_LABEL_CONTROL},
    {"new\nline", LINK_LABEL_CONTROL, LINK_LABEL_CONTROL},
    {"esc\x1b", LINK_LABEL_CONTROL, LINK_LABEL_CONTROL},
    {"del\x7f", LINK_LABEL_CONTROL, LINK_LABEL_CONTROL},
    {"c1 \xc2\x85", LINK_LABEL_CONTROL, LINK_LABEL_CONTROL},
    {"c1 \xc2\x9f", LINK_LABEL_CONTROL, LINK_LABEL_CONTROL},
    {"nbsp \xc2\xa0", LINK_LABEL_OK, LINK_LABEL_OK},
    {"lone \x80", LINK_LABEL_BAD_UTF8, LINK_LABEL_BAD_UTF8},
    {"overlong \xc0\xaf", LINK_LABEL_BAD_UTF8, LINK_LABEL_BAD_UTF8},
    {"overlong \xe0\x80\xaf", LINK_LABEL_BAD_UTF8, LINK_LABEL_BAD_UTF8},
    {"overlong \xf0\x80\x80\xaf", LINK_LABEL_BAD_UTF8, LINK_LABEL_BAD_UTF8},
    {"surrogate \xed\xa0\x80", LINK_LABEL_BAD_UTF8, LINK_LABEL_BAD_UTF8},
    {"past U+10FFFF \xf4\x90\x80\x80", LINK_LABEL_BAD_UTF8, LINK_LABEL_BAD_UTF8},
    {"\xf5\x80\x80\x80", LINK_LABEL_BAD_UTF8, LINK_LABEL_BAD_UTF8},
    {"cut \xe2\x82", LINK_LABEL_BAD_UTF8, LINK_LABEL_BAD_UTF8},
    {"bad continuation \xe2\x28\xac", LINK_LABEL_BAD_UTF8, LINK_LABEL_BAD_UTF8},
};

START_TEST(test_label_text_rules)
{
	const char *t = labels[_i].text;

	ck_assert_msg(link_title_check(t, strlen(t)) == labels[_i].title, "title '%s'", t);
	ck_assert_msg(link_tag_check(t, strlen(t)) == labels[_i].tag, "tag '%s'", t);
}
END_TEST

START_TEST(test_label_lengths)
{
	char text[600];

	memset(text, 'a', sizeof(text));
	ck_assert_int_eq(link_title_check(text, LINK_TITLE_MAX), LINK_LABEL_OK);
	ck_assert_int_eq(link_title_check(text, LINK_TITLE_MAX + 1), LINK_LABEL_TOO_LONG);
	ck_assert_int_eq(link_tag_check(text, 64), LINK_LABEL_OK);
	ck_assert_int_eq(link_tag_check(text, 65), LINK_LABEL_TOO_LONG);
	/* A tag counts characters: 64 of four bytes each is 256 bytes. */
	for (int i = 0; i < 65; i++)
		memcpy(text + 4 * i, "\xf0\x9f\x98\x80", 4);
	ck_assert_int_eq(link_tag_check(text, 256), LINK_LABEL_OK);
	ck_assert_int_eq(link_tag_check(text, 260), LINK_LABEL_TOO_LONG);
}
END_TEST

START_TEST(test_tags_fold_duplicates_up_to_32)
{
	struct link l;
	char tag[8];

	link_init(&l);
	ck_assert_int_eq(link_tag_add(l.tags, &l.n_tags, "a", 1), LINK_LABEL_OK);
	ck_assert_int_eq(link_tag_add(l.tags, &l.n_tags, "ab", 1), LINK_LABEL_OK); /* "a" again */
	ck_assert_int_eq(link_tag_add(l.tags, &l.n_tags, "A", 1), LINK_LABEL_OK);  /* case counts */
	ck_assert_int_eq(l.n_tags, 2);
	ck_assert_int_eq(link_tag_add(l.tags, &l.n_tags, "", 0), LINK_LABEL_EMPTY);
	for (int i = 2; i < LINK_TAGS_MAX; i++) {
		snprintf(tag, sizeof(tag), "t%d", i);
		ck_assert_int_eq(link_tag_add(l.tags, &l.n_tags, tag, strlen(tag)), LINK_LABEL_OK);
	}
	ck_assert_int_eq(l.n_tags, LINK_TAGS_MAX);
	ck_assert_int_eq(link_tag_add(l.tags, &l.n_tags, "t2", 2), LINK_LABEL_OK); /* a duplicate still folds */
	ck_assert_int_eq(link_tag_add(l.tags, &l.n_tags, "one more", 8), LINK_LABEL_TOO_MANY);
	ck_assert_int_eq(l.n_tags, LINK_TAGS_MAX);
	ck_assert_str_eq(l.tags[0], "a");
	ck_assert_str_eq(l.tags[1], "A");
}
END_TEST

/* Tags as stored (a JSON array of strings): what shortd writes reads back
 * the same, and what another writer may store (the sqlite3 shell's json(),
 * escapes in either case, a surrogate pair, spaces between items) reads
 * as JSON means it; a malformed escape ends the list there. */
START_TEST(test_tags_json_round_trip_and_escapes)
{
	struct link l, back;
	char *json;

	link_init(&l);
	snprintf(l.tags[0], sizeof(l.tags[0]), "%s", "a\"b\\c\x01");
	snprintf(l.tags[1], sizeof(l.tags[1]), "%s", "caf\xc3\xa9");
	l.n_tags = 2;
	json = link_tags_to_json(&l);
	ck_assert_ptr_nonnull(json);
	ck_assert_str_eq(json, "[\"a\\\"b\\\\c\\u0001\",\"caf\xc3\xa9\"]");
	link_tags_from_json(json, &back);
	free(json);
	ck_assert_int_eq(back.n_tags, 2);
	ck_assert_str_eq(back.tags[0], l.tags[0]);
	ck_assert_str_eq(back.tags[1], l.tags[1]);

	link_tags_from_json("[ \"\\u00e9\\u00C9\",\n\t\r\"\\ud83d\\ude00\\/\\n\" ]", &back);
	ck_assert_int_eq(back.n_tags, 2);
	ck_assert_str_eq(back.tags[0], "\xc3\xa9\xc3\x89");
	ck_assert_str_eq(back.tags[1], "\xf0\x9f\x98\x80/\n");
	/* a high surrogate alone is written as its own three bytes */
	link_tags_from_json("[\"\\uD800x\"]", &back);
	ck_assert_int_eq(back.n_tags, 1);
	ck_assert_str_eq(back.tags[0], "\xed\xa0\x80x");
	link_tags_from_json("[\"\\ud83d\\u0041\"]", &back); /* not a pair: two code points */
	ck_assert_int_eq(back.n_tags, 1);
	ck_assert_str_eq(back.tags[0], "\xed\xa0\xbd\x41"); /* U+D83D, then A */
	{
		/* 33 tags: the first 32 are read; a tag over LINK_TAG_MAX bytes ends the list */
		char many[33 * 4 + 3] = "[", long_tag[LINK_TAG_MAX + 10];
		for (int i = 0; i < 33; i++)
			strcat(many, i > 0 ? ",\"t\"" : "\"t\"");
		strcat(many, "]");
		link_tags_from_json(many, &back);
		ck_assert_int_eq(back.n_tags, LINK_TAGS_MAX);
		memset(long_tag, 'a', sizeof(long_tag));
		memcpy(long_tag, "[\"", 2);
		memcpy(long_tag + sizeof(long_tag) - 3, "\"]", 3);
		link_tags_from_json(long_tag, &back);
		ck_assert_int_eq(back.n_tags, 0);
		/* 255 bytes and a 2-byte character: one byte over */
		memcpy(long_tag + 2 + 255, "\\u00e9\"]", 9);
		link_tags_from_json(long_tag, &back);
		ck_assert_int_eq(back.n_tags, 0);
	}
	link_tags_from_json("[\"ok\",\"\\u12G4\"]", &back);
	ck_assert_int_eq(back.n_tags, 1);
	link_tags_from_json("[\"ok\",\"\\q\"]", &back);
	ck_assert_int_eq(back.n_tags, 1);
	link_tags_from_json("[\"open", &back);
	ck_assert_int_eq(back.n_tags, 0);
	link_tags_from_json("{}", &back);
	ck_assert_int_eq(back.n_tags, 0);
	link_tags_from_json(NULL, &back);
	ck_assert_int_eq(back.n_tags, 0);
}
END_TEST

START_TEST(test_label_error_messages)
{
	static const enum link_label_error all[] = {LINK_LABEL_OK,       LINK_LABEL_EMPTY,   LINK_LABEL_TOO_LONG,
	                                            LINK_LABEL_BAD_UTF8, LINK_LABEL_CONTROL, LINK_LABEL_TOO_MANY};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		ck_assert_uint_gt(strlen(link_label_error_message(all[i])), 4);
	ck_assert_str_eq(link_label_error_message((enum link_label_error)99), "invalid label");
	ck_assert_str_eq(link_label_error_message(LINK_LABEL_CONTROL), "contains a control character");
}
END_TEST

START_TEST(test_state_active_and_disabled)
{
	struct link l;

	link_init(&l);
	ck_assert_int_eq(link_state_at(&l, 1700000000, 0), LINK_ACTIVE);
	ck_assert_int_eq(link_state_at(&l, 1700000000, INT64_MAX), LINK_ACTIVE);
	l.disabled = true;
	ck_assert_int_eq(link_state_at(&l, 1700000000, 0), LINK_DISABLED);
	/* disabled is reported before expired and exhausted */
	l.expires_at = 10;
	l.max_clicks = 0;
	ck_assert_int_eq(link_state_at(&l, 1700000000, 5), LINK_DISABLED);
}
END_TEST

START_TEST(test_state_expiry_boundary)
{
	struct link l;

	link_init(&l);
	l.expires_at = 1700000000;
	ck_assert_int_eq(link_state_at(&l, 1699999999, 0), LINK_ACTIVE);
	ck_assert_int_eq(link_state_at(&l, 1700000000, 0), LINK_EXPIRED);
	ck_assert_int_eq(link_state_at(&l, 1700000001, 0), LINK_EXPIRED);
	l.expires_at = -86400; /* 1969-12-31 */
	ck_assert_int_eq(link_state_at(&l, -86401, 0), LINK_ACTIVE);
	ck_assert_int_eq(link_state_at(&l, 0, 0), LINK_EXPIRED);
	l.max_clicks = 1;
	ck_assert_int_eq(link_state_at(&l, 0, 1), LINK_EXPIRED);
}
END_TEST

START_TEST(test_state_max_clicks)
{
	struct link l;

	link_init(&l);
	l.max_clicks = 3;
	ck_assert_int_eq(link_state_at(&l, 0, 0), LINK_ACTIVE);
	ck_assert_int_eq(link_state_at(&l, 0, 2), LINK_ACTIVE);
	ck_assert_int_eq(link_state_at(&l, 0, 3), LINK_EXHAUSTED);
	ck_assert_int_eq(link_state_at(&l, 0, 4), LINK_EXHAUSTED);
	l.max_clicks = 0;
	ck_assert_int_eq(link_state_at(&l, 0, 0), LINK_EXHAUSTED);
}
END_TEST

START_TEST(test_code_syntax_ignores_reserved_words)
{
	char code[LINK_CODE_MAX + 2];
	size_t len = 99;

	ck_assert_int_eq(link_code_syntax("api", &len), LINK_CODE_OK);
	ck_assert_uint_eq(len, 3);
	ck_assert_int_eq(link_code_check("api"), LINK_CODE_RESERVED);
	ck_assert_int_eq(link_code_syntax("Ab_9-x", &len), LINK_CODE_OK);
	ck_assert_uint_eq(len, 6);
	len = 99;
	ck_assert_int_eq(link_code_syntax("", &len), LINK_CODE_EMPTY);
	ck_assert_int_eq(link_code_syntax(NULL, &len), LINK_CODE_EMPTY);
	ck_assert_int_eq(link_code_syntax("a.b", &len), LINK_CODE_BAD_CHAR);
	memset(code, 'x', LINK_CODE_MAX + 1);
	code[LINK_CODE_MAX + 1] = '\0';
	ck_assert_int_eq(link_code_syntax(code, &len), LINK_CODE_TOO_LONG);
	ck_assert_uint_eq(len, 99); /* untouched on an error */
	code[LINK_CODE_MAX] = '\0';
	ck_assert_int_eq(link_code_syntax(code, &len), LINK_CODE_OK);
	ck_assert_uint_eq(len, LINK_CODE_MAX);
}
END_TEST

START_TEST(test_time_or_null)
{
	json_t *t = link_json_time_or_null(1704067200);
	json_t *n = link_json_time_or_null(LINK_NO_TIME);

	ck_assert(json_is_string(t));
	ck_assert_str_eq(json_string_value(t), "2024-01-01T00:00:00Z");
	ck_assert(json_is_null(n));
	json_decref(t);
	json_decref(n);
}
END_TEST

Suite *link_suite(void)
{
	Suite *s = suite_create("link");
	TCase *tc;

	tc = tcase_create("codes");
	tcase_add_test(tc, test_code_one_and_64_chars_ok);
	tcase_add_test(tc, test_code_65_chars_too_long);
	tcase_add_test(tc, test_code_empty);
	tcase_add_loop_test(tc, test_code_every_byte, 1, 256);
	tcase_add_loop_test(tc, test_code_reserved, 0, (int)(sizeof(reserved_codes) / sizeof(reserved_codes[0])));
	tcase_add_loop_test(tc, test_code_not_reserved, 0, (int)(sizeof(free_codes) / sizeof(free_codes[0])));
	tcase_add_test(tc, test_reserved_paths_and_prefix_lengths);
	tcase_add_test(tc, test_export_is_kept_from_new_links_only);
	tcase_add_test(tc, test_code_error_messages);
	tcase_add_test(tc, test_code_syntax_ignores_reserved_words);
	tcase_add_test(tc, test_time_or_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("labels");
	tcase_add_loop_test(tc, test_label_text_rules, 0, (int)(sizeof(labels) / sizeof(labels[0])));
	tcase_add_test(tc, test_label_lengths);
	tcase_add_test(tc, test_tags_fold_duplicates_up_to_32);
	tcase_add_test(tc, test_tags_json_round_trip_and_escapes);
	tcase_add_test(tc, test_label_error_messages);
	suite_add_tcase(s, tc);

	tc = tcase_create("statuses");
	tcase_add_test(tc, test_statuses);
	suite_add_tcase(s, tc);

	tc = tcase_create("state");
	tcase_add_test(tc, test_init_is_absent);
	tcase_add_test(tc, test_state_active_and_disabled);
	tcase_add_test(tc, test_state_expiry_boundary);
	tcase_add_test(tc, test_state_max_clicks);
	suite_add_tcase(s, tc);
	return s;
}
