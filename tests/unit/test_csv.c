/*
 * csv.c, RFC 4180 one record at a time: a table of inputs, each with the
 * records it reads as (fields joined by '|', each record prefixed with the
 * line it starts on) or the error it stops with.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"

static const struct csv_case {
	const char *name;
	const char *input;
	size_t len;          /* 0: strlen(input) */
	const char *records; /* "LINE:f1|f2;LINE:..." */
	const char *error;   /* NULL: reads to the end */
} cases[] = {
    {"plain LF", "a,b\nc,d\n", 0, "1:a|b;2:c|d;", NULL},
    {"CRLF", "a,b\r\nc,d\r\n", 0, "1:a|b;2:c|d;", NULL},
    {"no final line break", "a,b\nc,d", 0, "1:a|b;2:c|d;", NULL},
    {"empty fields", ",\n,,x\n", 0, "1:|;2:||x;", NULL},
    {"quoted comma and quotes", "\"a,b\",\"say \"\"hi\"\"\"\n", 0, "1:a,b|say \"hi\";", NULL},
    {"embedded line breaks", "\"one\ntwo\",x\r\nnext,y\n", 0, "1:one\ntwo|x;3:next|y;", NULL},
    {"embedded CRLF kept", "\"a\r\nb\"\n", 0, "1:a\r\nb;", NULL},
    {"empty quoted field", "\"\",x\n", 0, "1:|x;", NULL},
    {"blank lines skipped", "\n\na\r\n\r\nb\n\n", 0, "3:a;5:b;", NULL},
    {"byte order mark dropped",
     "\xEF\xBB\xBF"
     "code,url\n",
     0, "1:code|url;", NULL},
    {"empty file", "", 0, "", NULL},
    {"quote inside a field", "ab\"c\n", 0, "", "line 1: a quote inside an unquoted field"},
    {"text after a closing quote", "\"ab\"c\n", 0, "", "line 1: text after the closing quote"},
    {"quoted field left open", "ok\n\"abc\ndef\n", 0, "1:ok;", "line 2: a quoted field is not closed"},
    {"lone carriage return", "a\rb\n", 0, "", "line 1: a carriage return that does not end a line"},
    {"lone carriage return between records", "a\n\rb\n", 0, "1:a;", "line 2: a carriage return"},
    {"NUL byte", "a\0b\n", 4, "", "line 1: a NUL byte"},
    {"NUL byte quoted", "\"a\0b\"\n", 6, "", "line 1: a NUL byte"},
    {"NUL byte after a quote", "\"a\"\0\n", 5, "", "line 1: a NUL byte"},
    {"broken byte order mark",
     "\xEF\xBB"
     "a\n",
     0, "", "line 1: a broken UTF-8 byte order mark"},
    {"error after good records", "a\nb\nc\"\n", 0, "1:a;2:b;", "line 3: a quote inside"},
};

START_TEST(test_reads_records_or_stops_at_the_error)
{
	const struct csv_case *t = &cases[_i];
	size_t len = t->len != 0 ? t->len : strlen(t->input);
	FILE *f = fmemopen((void *)t->input, len != 0 ? len : 1, "r");
	struct csv *c;
	struct csv_record *rec;
	char got[1024] = "", err[200] = "";
	enum csv_result res;

	ck_assert_ptr_nonnull(f);
	if (len == 0)
		fgetc(f); /* fmemopen needs a size of 1: read it away */
	c = csv_new(f);
	ck_assert_ptr_nonnull(c);
	while ((res = csv_next(c, &rec, err, sizeof(err))) == CSV_RECORD) {
		size_t n = strlen(got);
		n += (size_t)snprintf(got + n, sizeof(got) - n, "%ld:", rec->line);
		for (size_t i = 0; i < rec->n; i++) {
			ck_assert_uint_eq(rec->len[i], strlen(rec->field[i]));
			n += (size_t)snprintf(got + n, sizeof(got) - n, "%s%s", i > 0 ? "|" : "", rec->field[i]);
		}
		snprintf(got + n, sizeof(got) - n, ";");
	}
	ck_assert_msg(strcmp(got, t->records) == 0, "%s: read '%s', expected '%s'", t->name, got, t->records);
	if (t->error == NULL) {
		ck_assert_msg(res == CSV_END, "%s: %s", t->name, err);
	} else {
		ck_assert_int_eq(res, CSV_ERROR);
		ck_assert_msg(strstr(err, t->error) != NULL, "%s: '%s' not in '%s'", t->name, t->error, err);
		/* It stays stopped, with the same reason. */
		err[0] = '\0';
		ck_assert_int_eq(csv_next(c, &rec, err, sizeof(err)), CSV_ERROR);
		ck_assert_msg(strstr(err, t->error) != NULL, "%s: again: '%s'", t->name, err);
	}
	if (res == CSV_END)
		ck_assert_int_eq(csv_next(c, &rec, err, sizeof(err)), CSV_END);
	csv_free(c);
	fclose(f);
}
END_TEST

/* Writes a record of n fields of width bytes each to a memory file. */
static FILE *wide_record(size_t n, size_t width, char **buf)
{
	size_t size = n * (width + 1) + 1;
	char *p = malloc(size);

	ck_assert_ptr_nonnull(p);
	for (size_t i = 0; i < n; i++) {
		memset(p + i * (width + 1), 'x', width);
		p[i * (width + 1) + width] = i + 1 < n ? ',' : '\n';
	}
	*buf = p;
	return fmemopen(p, size - 1, "r");
}

static const struct limit_case {
	size_t fields, width;
	const char *error; /* NULL: read */
} limits[] = {
    {CSV_FIELDS_MAX, 1, NULL},
    {CSV_FIELDS_MAX + 1, 1, "more than 64 fields"},
    /* The fields' bytes and a NUL each fit in CSV_RECORD_MAX. */
    {1, CSV_RECORD_MAX - 1, NULL},
    {1, CSV_RECORD_MAX, "a record over 65536 bytes"},
    {2, CSV_RECORD_MAX / 2 - 1, NULL},
    {2, CSV_RECORD_MAX / 2, "a record over 65536 bytes"},
    {CSV_FIELDS_MAX, CSV_RECORD_MAX / CSV_FIELDS_MAX, "a record over 65536 bytes"},
    {CSV_FIELDS_MAX, 0, NULL},
};

START_TEST(test_limits_of_a_record)
{
	const struct limit_case *t = &limits[_i];
	char *buf, err[200] = "";
	FILE *f = wide_record(t->fields, t->width, &buf);
	struct csv *c = csv_new(f);
	struct csv_record *rec;
	enum csv_result res;

	ck_assert_ptr_nonnull(c);
	res = csv_next(c, &rec, err, sizeof(err));

	if (t->error == NULL) {
		ck_assert_msg(res == CSV_RECORD, "%zu x %zu: %s", t->fields, t->width, err);
		ck_assert_uint_eq(rec->n, t->fields);
		ck_assert_uint_eq(rec->len[t->fields - 1], t->width);
	} else {
		ck_assert_int_eq(res, CSV_ERROR);
		ck_assert_msg(strstr(err, t->error) != NULL, "%zu x %zu: %s", t->fields, t->width, err);
	}
	csv_free(c);
	fclose(f);
	free(buf);
}
END_TEST

START_TEST(test_a_read_error_is_an_error)
{
	FILE *f = fopen("/", "r"); /* a directory: reading it fails with EISDIR */
	struct csv *c;
	struct csv_record *rec;
	char err[200] = "";

	ck_assert_ptr_nonnull(f);
	c = csv_new(f);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(csv_next(c, &rec, err, sizeof(err)), CSV_ERROR);
	ck_assert_msg(strstr(err, "could not be read") != NULL, "%s", err);
	csv_free(c);
	fclose(f);
	csv_free(NULL);
}
END_TEST

Suite *csv_suite(void)
{
	Suite *s = suite_create("csv");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_reads_records_or_stops_at_the_error, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_loop_test(tc, test_limits_of_a_record, 0, (int)(sizeof(limits) / sizeof(limits[0])));
	tcase_add_test(tc, test_a_read_error_is_an_error);
	suite_add_tcase(s, tc);
	return s;
}
