/*
 * Unit tests of link_code.c: 7 characters of base62, every character of the
 * alphabet in use, distinct over many draws, and a draw that spells a
 * reserved word is thrown away (proven with a scripted random source
 * installed through libsodium's randombytes_set_implementation; each Check
 * test runs in its own process, so the script does not leak).
 */
#include <check.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "link.h"
#include "link_code.h"

#define DRAWS 20000

static const char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

START_TEST(test_seven_base62_chars)
{
	char buf[LINK_GEN_LEN + 1];

	for (int i = 0; i < 1000; i++) {
		memset(buf, 'Z', sizeof(buf));
		ck_assert_int_eq(link_code_generate(buf, sizeof(buf), NULL), 0);
		ck_assert_uint_eq(strlen(buf), LINK_GEN_LEN);
		ck_assert_uint_eq(strspn(buf, alphabet), LINK_GEN_LEN);
		ck_assert_int_eq(link_code_check(buf), LINK_CODE_OK);
	}
}
END_TEST

START_TEST(test_small_buffer_refused)
{
	char buf[LINK_GEN_LEN + 1] = "unused";

	ck_assert_int_eq(link_code_generate(buf, LINK_GEN_LEN, NULL), -1);
	ck_assert_int_eq(link_code_generate(buf, 0, NULL), -1);
	ck_assert_str_eq(buf, "unused");
}
END_TEST

static int cmp_code(const void *a, const void *b)
{
	return memcmp(a, b, LINK_GEN_LEN + 1);
}

/* 20,000 draws: all distinct (a collision in 62^7 has odds ~6e-5) and all 62
 * characters seen (each is expected ~2,258 times). */
START_TEST(test_distinct_and_uniform_alphabet)
{
	char(*codes)[LINK_GEN_LEN + 1] = calloc(DRAWS, sizeof(*codes));
	unsigned seen[256] = {0};

	ck_assert_ptr_nonnull(codes);
	for (int i = 0; i < DRAWS; i++) {
		ck_assert_int_eq(link_code_generate(codes[i], sizeof(codes[i]), NULL), 0);
		for (int k = 0; k < LINK_GEN_LEN; k++)
			seen[(unsigned char)codes[i][k]]++;
	}
	qsort(codes, DRAWS, sizeof(*codes), cmp_code);
	for (int i = 1; i < DRAWS; i++)
		ck_assert_msg(strcmp(codes[i - 1], codes[i]) != 0, "duplicate %s", codes[i]);
	for (const char *a = alphabet; *a != '\0'; a++)
		ck_assert_msg(seen[(unsigned char)*a] > 1000, "'%c' drawn %u times", *a, seen[(unsigned char)*a]);
	free(codes);
}
END_TEST

/* A scripted source: uniform() returns the alphabet indexes of the script. */
static const char *script;
static size_t script_pos;

static uint32_t scripted_uniform(const uint32_t upper_bound)
{
	const char *p;

	ck_assert_uint_eq(upper_bound, 62);
	ck_assert_msg(script[script_pos] != '\0', "script exhausted");
	p = strchr(alphabet, script[script_pos++]);
	return (uint32_t)(p - alphabet);
}

static uint32_t scripted_random(void)
{
	return scripted_uniform(62);
}

static void scripted_buf(void *const buf, const size_t size)
{
	memset(buf, 0, size);
}

static const char *scripted_name(void)
{
	return "scripted";
}

static struct randombytes_implementation scripted = {
    .implementation_name = scripted_name,
    .random = scripted_random,
    .stir = NULL,
    .uniform = scripted_uniform,
    .buf = scripted_buf,
    .close = NULL,
};

START_TEST(test_reserved_draws_are_redrawn)
{
	char buf[LINK_GEN_LEN + 1];

	script = "admin00"
	         "ADMIN99"
	         "AdMiNzz"
	         "abc1234"
	         "unused0";
	script_pos = 0;
	ck_assert_int_eq(randombytes_set_implementation(&scripted), 0);
	ck_assert_int_eq(link_code_generate(buf, sizeof(buf), NULL), 0);
	ck_assert_str_eq(buf, "abc1234");
	ck_assert_uint_eq(script_pos, 4 * LINK_GEN_LEN);
}
END_TEST

Suite *link_code_suite(void)
{
	Suite *s = suite_create("link_code");
	TCase *tc = tcase_create("codes");

	tcase_add_test(tc, test_seven_base62_chars);
	tcase_add_test(tc, test_small_buffer_refused);
	tcase_add_test(tc, test_distinct_and_uniform_alphabet);
	tcase_add_test(tc, test_reserved_draws_are_redrawn);
	suite_add_tcase(s, tc);
	return s;
}
