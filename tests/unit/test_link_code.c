/*
 * Unit tests of link_code.c: 7 characters of base62, every character of the
 * alphabet in use, distinct over many draws, and a draw that spells a
 * reserved word is thrown away, and one fetch of random bytes serves a
 * whole code (proven with a scripted random source
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

/* 20,000 draws: at most one pair alike (one pair in 62^7 has odds ~6e-5,
 * which a CI run meets now and then; two have odds ~2e-9) and all 62
 * characters seen (each is expected ~2,258 times). */
START_TEST(test_distinct_and_uniform_alphabet)
{
	char(*codes)[LINK_GEN_LEN + 1] = calloc(DRAWS, sizeof(*codes));
	unsigned seen[256] = {0};
	int alike = 0;

	ck_assert_ptr_nonnull(codes);
	for (int i = 0; i < DRAWS; i++) {
		ck_assert_int_eq(link_code_generate(codes[i], sizeof(codes[i]), NULL), 0);
		for (int k = 0; k < LINK_GEN_LEN; k++)
			seen[(unsigned char)codes[i][k]]++;
	}
	qsort(codes, DRAWS, sizeof(*codes), cmp_code);
	for (int i = 1; i < DRAWS; i++)
		alike += strcmp(codes[i - 1], codes[i]) == 0;
	ck_assert_msg(alike <= 1, "%d pairs alike", alike);
	for (const char *a = alphabet; *a != '\0'; a++)
		ck_assert_msg(seen[(unsigned char)*a] > 1000, "'%c' drawn %u times", *a, seen[(unsigned char)*a]);
	free(codes);
}
END_TEST

/* A scripted source: buf() hands out the bytes of the script in order. */
static unsigned char script[256];
static size_t script_len, script_pos, script_calls;

static void scripted_buf(void *const buf, const size_t size)
{
	ck_assert_msg(script_pos + size <= script_len, "script exhausted");
	memcpy(buf, script + script_pos, size);
	script_pos += size;
	script_calls++;
}

static uint32_t scripted_uniform(const uint32_t upper_bound)
{
	ck_abort_msg("uniform(%u) called: codes are drawn from buf", (unsigned)upper_bound);
	return 0;
}

static uint32_t scripted_random(void)
{
	ck_abort_msg("random() called: codes are drawn from buf");
	return 0;
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

/* Appends one fetch of 32 bytes: code's alphabet indexes, then bytes that
 * are always dropped (255). */
static void script_fetch(const char *code)
{
	size_t start = script_len;

	for (; *code != '\0'; code++)
		script[script_len++] = (unsigned char)(strchr(alphabet, *code) - alphabet);
	while (script_len < start + 32)
		script[script_len++] = 255;
}

START_TEST(test_reserved_draws_are_redrawn)
{
	char buf[LINK_GEN_LEN + 1];

	script_len = script_pos = script_calls = 0;
	script_fetch("admin00");
	script_fetch("ADMIN99");
	script_fetch("AdMiNzz");
	script_fetch("abc1234");
	script_fetch("unused0");
	ck_assert_int_eq(randombytes_set_implementation(&scripted), 0);
	ck_assert_int_eq(link_code_generate(buf, sizeof(buf), NULL), 0);
	ck_assert_str_eq(buf, "abc1234");
	ck_assert_uint_eq(script_pos, 4 * 32);
}
END_TEST

/* One fetch a code, not one a character; a byte of 248 or more is dropped
 * (248 = 4 x 62), one below gives the character of its remainder. */
START_TEST(test_bytes_to_characters)
{
	static const unsigned char bytes[] = {248, 255, 247, 62, 61, 0, 123, 186, 200, 1, 2};
	char buf[LINK_GEN_LEN + 1];

	script_len = script_pos = script_calls = 0;
	memcpy(script, bytes, sizeof(bytes));
	memset(script + sizeof(bytes), 255, 32 - sizeof(bytes));
	script_len = 32;
	ck_assert_int_eq(randombytes_set_implementation(&scripted), 0);
	ck_assert_int_eq(link_code_generate(buf, sizeof(buf), NULL), 0);
	ck_assert_str_eq(buf, "z0z0z0E");
	ck_assert_uint_eq(script_calls, 1);
}
END_TEST

/* Dropped bytes that use up a fetch before the code is whole: the code
 * goes on in the next fetch. */
START_TEST(test_code_spans_fetches)
{
	char buf[LINK_GEN_LEN + 1];

	script_len = script_pos = script_calls = 0;
	memset(script, 255, 28);
	memcpy(script + 28, "\x0a\x0b\x0c\x0d", 4);
	script_len = 32;
	script_fetch("xyz");
	ck_assert_int_eq(randombytes_set_implementation(&scripted), 0);
	ck_assert_int_eq(link_code_generate(buf, sizeof(buf), NULL), 0);
	ck_assert_str_eq(buf, "ABCDxyz");
	ck_assert_uint_eq(script_calls, 2);
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
	tcase_add_test(tc, test_bytes_to_characters);
	tcase_add_test(tc, test_code_spans_fetches);
	suite_add_tcase(s, tc);
	return s;
}
