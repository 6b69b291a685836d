/*
 * link_io.c: the export's lines in both formats, and the import's rows:
 * each column's values accepted and refused the same way from CSV and JSON
 * lines, the header's refusals, and the fields a row names.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link_io.h"

#define NOW 1800000000

static struct link sample(void)
{
	struct link l;

	link_init(&l);
	snprintf(l.code, sizeof(l.code), "ab-1");
	snprintf(l.url, sizeof(l.url), "https://t.example/p?a=1,2&q=%%22x%%22");
	l.status = 308;
	l.forward_query = true;
	l.created_at = 1700000000;
	l.updated_at = 1700000060;
	l.max_clicks = 9;
	l.clicks = 4;
	l.bot_clicks = 2;
	l.last_click_at = 1700000120;
	snprintf(l.title, sizeof(l.title), "A \"title\", with a comma");
	l.n_tags = 2;
	snprintf(l.tags[0], sizeof(l.tags[0]), "news");
	snprintf(l.tags[1], sizeof(l.tags[1]), "été");
	snprintf(l.created_by, sizeof(l.created_by), "ci");
	snprintf(l.updated_by, sizeof(l.updated_by), "cli");
	return l;
}

START_TEST(test_export_csv_line)
{
	struct link l = sample();
	struct link_io_buf b = {0};

	ck_assert_int_eq(link_io_export_header(LINK_IO_CSV, &b), 0);
	ck_assert_int_eq(link_io_export_link(LINK_IO_CSV, &l, "https://s.example", &b), 0);
	ck_assert_str_eq(b.data,
	                 "code,short_url,url,status,forward_query,created_at,updated_at,expires_at,max_clicks,"
	                 "clicks,disabled,title,tags,created_by,updated_by,bot_clicks,last_click_at\r\n"
	                 "ab-1,https://s.example/ab-1,\"https://t.example/p?a=1,2&q=%22x%22\",308,true,"
	                 "2023-11-14T22:13:20Z,2023-11-14T22:14:20Z,,9,4,false,\"A \"\"title\"\", with a comma\","
	                 "news|été,ci,cli,2,2023-11-14T22:15:20Z\r\n");
	link_io_buf_free(&b);
	link_io_buf_free(&b);
}
END_TEST

START_TEST(test_export_jsonl_line)
{
	struct link l = sample();
	struct link_io_buf b = {0};

	l.disabled = true;
	l.max_clicks = LINK_NO_LIMIT;
	l.title[0] = '\0';
	l.created_by[0] = '\0';
	ck_assert_int_eq(link_io_export_header(LINK_IO_JSONL, &b), 0);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_int_eq(link_io_export_link(LINK_IO_JSONL, &l, "https://s.example", &b), 0);
	ck_assert_str_eq(b.data,
	                 "{\"code\":\"ab-1\",\"short_url\":\"https://s.example/ab-1\","
	                 "\"url\":\"https://t.example/p?a=1,2&q=%22x%22\",\"status\":308,\"forward_query\":true,"
	                 "\"created_at\":\"2023-11-14T22:13:20Z\",\"updated_at\":\"2023-11-14T22:14:20Z\","
	                 "\"expires_at\":null,\"max_clicks\":null,\"clicks\":4,\"disabled\":true,\"title\":null,"
	                 "\"tags\":[\"news\",\"été\"],\"created_by\":null,\"updated_by\":\"cli\","
	                 "\"bot_clicks\":2,\"last_click_at\":\"2023-11-14T22:15:20Z\"}\n");
	link_io_buf_free(&b);
}
END_TEST

/* A link written by the export and read back by the import is the same
 * link, in either format, whatever its tags hold. */
static const char *const tag_sets[][3] = {
    {"news", "été", NULL},
    {"a|b", "c", NULL},  /* a '|': the CSV field is a JSON array */
    {"[x]", NULL, NULL}, /* a '[' first: the same */
    {"q\"uote", "back\\slash", NULL},
    {NULL, NULL, NULL},
};

START_TEST(test_export_reads_back_as_the_same_link)
{
	struct link l = sample();
	struct link_io_rules rules = {NULL, 302, NOW};
	struct store_import_row *row = calloc(1, sizeof(*row));
	struct link_io_buf b = {0};
	char err[320] = "";

	l.n_tags = 0;
	for (int i = 0; tag_sets[_i / 2][i] != NULL; i++)
		snprintf(l.tags[l.n_tags++], sizeof(l.tags[0]), "%s", tag_sets[_i / 2][i]);
	enum link_io_format fmt = _i % 2 == 0 ? LINK_IO_CSV : LINK_IO_JSONL;
	ck_assert_int_eq(link_io_export_header(fmt, &b), 0);
	ck_assert_int_eq(link_io_export_link(fmt, &l, "https://s.example", &b), 0);
	FILE *f = fmemopen(b.data, b.len, "r");
	struct link_io_reader *r;
	long line;
	ck_assert_int_eq(link_io_reader_new(f, fmt, &r, err, sizeof(err)), 0);
	ck_assert_msg(link_io_next(r, &rules, row, &line, err, sizeof(err)) == LINK_IO_ROW, "%s: %s", b.data, err);
	ck_assert_str_eq(row->link.code, l.code);
	ck_assert_str_eq(row->link.url, l.url);
	ck_assert_str_eq(row->link.title, l.title);
	ck_assert_int_eq(row->link.n_tags, l.n_tags);
	for (int i = 0; i < l.n_tags; i++)
		ck_assert_str_eq(row->link.tags[i], l.tags[i]);
	ck_assert_str_eq(row->link.created_by, l.created_by);
	ck_assert_str_eq(row->link.updated_by, l.updated_by);
	ck_assert_int_eq(row->link.status, l.status);
	ck_assert_int_eq(row->link.forward_query, l.forward_query);
	ck_assert_int_eq(row->link.created_at, l.created_at);
	ck_assert_int_eq(row->link.updated_at, l.updated_at);
	ck_assert_int_eq(row->link.max_clicks, l.max_clicks);
	ck_assert_int_eq(row->link.clicks, l.clicks);
	ck_assert_int_eq(row->link.bot_clicks, l.bot_clicks);
	ck_assert_int_eq(row->link.last_click_at, l.last_click_at);
	ck_assert_int_eq(link_io_next(r, &rules, row, &line, err, sizeof(err)), LINK_IO_END);
	link_io_reader_free(r);
	fclose(f);
	link_io_buf_free(&b);
	free(row);
}
END_TEST

START_TEST(test_format_names)
{
	enum link_io_format f = LINK_IO_CSV;

	ck_assert_int_eq(link_io_format_parse("jsonl", &f), 0);
	ck_assert_int_eq(f, LINK_IO_JSONL);
	ck_assert_int_eq(link_io_format_parse("csv", &f), 0);
	ck_assert_int_eq(f, LINK_IO_CSV);
	ck_assert_int_eq(link_io_format_parse("CSV", &f), -1);
	ck_assert_int_eq(link_io_format_parse("json", &f), -1);
}
END_TEST

/* Reads text in format fmt: the first row's result, link and error. */
static enum link_io_result read_one(enum link_io_format fmt, const char *text, struct store_import_row *row, long *line,
                                    char *err, size_t errlen)
{
	struct link_io_rules rules = {NULL, 302, NOW};
	struct link_io_reader *r;
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	enum link_io_result res;

	ck_assert_ptr_nonnull(f);
	if (link_io_reader_new(f, fmt, &r, err, errlen) != 0) {
		fclose(f);
		return LINK_IO_BAD_FILE;
	}
	res = link_io_next(r, &rules, row, line, err, errlen);
	link_io_reader_free(r);
	fclose(f);
	return res;
}

/* One row in CSV and the same in JSON lines, and what comes of it. */
/* A row refused with an error, in both formats. */
#define BAD(csv, json, error)                                                                                          \
	{                                                                                                              \
		csv, json, error, NULL, NULL, 0, 0, 0, 0, 0, 0, false                                                  \
	}

static const struct row_case {
	const char *csv;   /* header and row */
	const char *json;  /* the same row, or NULL for CSV only */
	const char *error; /* NULL: accepted */
	const char *code, *url;
	int status;
	unsigned fields;
	int64_t created_at, expires_at, max_clicks, clicks;
	bool disabled;
} rows[] = {
    {"url\nhttps://t.example/\n", "{\"url\":\"https://t.example/\"}", NULL, "", "https://t.example/", 302, PATCH_URL,
     NOW, LINK_NO_TIME, LINK_NO_LIMIT, 0, false},
    {"code,url,status,max_clicks,disabled\nc1,HTTPS://T.example,301,0,true\n",
     "{\"code\":\"c1\",\"url\":\"HTTPS://T.example\",\"status\":301,\"max_clicks\":0,\"disabled\":true}", NULL, "c1",
     "https://t.example", 301, PATCH_URL | PATCH_STATUS | PATCH_MAX_CLICKS | PATCH_DISABLED, NOW, LINK_NO_TIME, 0, 0,
     true},
    /* An expiry in the past is kept: the link ended elsewhere already. */
    {"url,expires_at,created_at\nhttps://t.example/,2001-01-01T00:00:00Z,2000-01-01T00:00:00Z\n",
     "{\"url\":\"https://t.example/\",\"expires_at\":\"2001-01-01T00:00:00Z\",\"created_at\":\"2000-01-01T00:00:00Z\"}",
     NULL, "", "https://t.example/", 302, PATCH_URL | PATCH_EXPIRES_AT, 946684800, 978307200, LINK_NO_LIMIT, 0, false},
    /* An empty status names none: the default, and an update keeps it. */
    {"url,status,clicks\nhttps://t.example/,,12\n", "{\"url\":\"https://t.example/\",\"status\":null,\"clicks\":12}",
     NULL, "", "https://t.example/", 302, PATCH_URL, NOW, LINK_NO_TIME, LINK_NO_LIMIT, 12, false},
    {"keyword,url,timestamp,ip\nyo,https://t.example/,2015-06-01 10:20:30,::1\n", NULL, NULL, "yo",
     "https://t.example/", 302, PATCH_URL, 1433154030, LINK_NO_TIME, LINK_NO_LIMIT, 0, false},
    {"Short Code,LONG URL,domain,title,tags\nsh,https://t.example/,d.example,T,a|b\n", NULL, NULL, "sh",
     "https://t.example/", 302, PATCH_URL | PATCH_TITLE | PATCH_TAGS, NOW, LINK_NO_TIME, LINK_NO_LIMIT, 0, false},
    {"url,forward_query\nhttps://t.example/,1\n", "{\"url\":\"https://t.example/\",\"forward_query\":true}", NULL, "",
     "https://t.example/", 302, PATCH_URL | PATCH_FORWARD_QUERY, NOW, LINK_NO_TIME, LINK_NO_LIMIT, 0, false},
    /* false, 0 and an empty field are all false */
    {"url,disabled,forward_query\nhttps://t.example/,false,0\n", NULL, NULL, "", "https://t.example/", 302,
     PATCH_URL | PATCH_DISABLED | PATCH_FORWARD_QUERY, NOW, LINK_NO_TIME, LINK_NO_LIMIT, 0, false},
    {"url,disabled\nhttps://t.example/,\n", NULL, NULL, "", "https://t.example/", 302, PATCH_URL | PATCH_DISABLED, NOW,
     LINK_NO_TIME, LINK_NO_LIMIT, 0, false},
    {"url,disabled\nhttps://t.example/,1\n", NULL, NULL, "", "https://t.example/", 302, PATCH_URL | PATCH_DISABLED, NOW,
     LINK_NO_TIME, LINK_NO_LIMIT, 0, true},
    /* Refusals, the same from either format. */
    BAD("code,url\nc1,\n", "{\"code\":\"c1\",\"url\":null}", "invalid_url: url is required"),
    BAD("url\nftp://t.example/\n", "{\"url\":\"ftp://t.example/\"}", "invalid_url: "),
    BAD("code,url\napi,https://t.example/\n", "{\"code\":\"api\",\"url\":\"https://t.example/\"}", "invalid_code: "),
    BAD("url,status\nhttps://t.example/,200\n", "{\"url\":\"https://t.example/\",\"status\":200}", "invalid_status: "),
    BAD("url,status\nhttps://t.example/,3o1\n", "{\"url\":\"https://t.example/\",\"status\":\"301\"}", "invalid_"),
    BAD("url,max_clicks\nhttps://t.example/,-1\n", "{\"url\":\"https://t.example/\",\"max_clicks\":-1}",
        "invalid_max_clicks: "),
    BAD("url,clicks\nhttps://t.example/,x\n", "{\"url\":\"https://t.example/\",\"clicks\":1.5}", "clicks"),
    BAD("url,bot_clicks\nhttps://t.example/,-3\n", "{\"url\":\"https://t.example/\",\"bot_clicks\":-3}",
        "invalid_bot_clicks: "),
    BAD("url,disabled\nhttps://t.example/,yes\n", "{\"url\":\"https://t.example/\",\"disabled\":\"yes\"}",
        "disabled must be true or false"),
    BAD("url,forward_query\nhttps://t.example/,no\n", "{\"url\":\"https://t.example/\",\"forward_query\":1}",
        "forward_query must be true or false"),
    BAD("url,expires_at\nhttps://t.example/,tomorrow\n", "{\"url\":\"https://t.example/\",\"expires_at\":\"tomorrow\"}",
        "invalid_expires_at: "),
    BAD("url,created_at\nhttps://t.example/,2020-01-01\n", "{\"url\":\"https://t.example/\",\"created_at\":5}",
        "created_at"),
    BAD("url,updated_at\nhttps://t.example/,x\n", "{\"url\":\"https://t.example/\",\"updated_at\":\"x\"}",
        "invalid_updated_at: "),
    BAD("url,last_click_at\nhttps://t.example/,x\n", "{\"url\":\"https://t.example/\",\"last_click_at\":\"x\"}",
        "invalid_last_click_at: "),
    BAD("url,timestamp\nhttps://t.example/,2015-06-01T10:20:30Z\n", "{\"url\":\"https://t.example/\",\"timestamp\":1}",
        "timestamp"),
    BAD("url,tags\nhttps://t.example/,a||b\n", "{\"url\":\"https://t.example/\",\"tags\":[\"a\",\"\"]}",
        "invalid_tags: tags[1]: "),
    BAD("url,tags\nhttps://t.example/,[1]\n", "{\"url\":\"https://t.example/\",\"tags\":[1]}",
        "invalid_tags: tags[0] must be a string"),
    BAD("url,tags\nhttps://t.example/,[1\n", "{\"url\":\"https://t.example/\",\"tags\":\"a\"}", "tags"),
    BAD("url,title\nhttps://t.example/,\"a\x01\"\n", "{\"url\":\"https://t.example/\",\"title\":\"a\\u0001\"}",
        "invalid_title: "),
    BAD("url,created_by\nhttps://t.example/,\"a\x01\"\n",
        "{\"url\":\"https://t.example/\",\"created_by\":\"a\\u0001\"}", "invalid_created_by: "),
    BAD("url,updated_by\nhttps://t.example/,\"\x7f\"\n", "{\"url\":\"https://t.example/\",\"updated_by\":3}",
        "updated_by"),
    BAD("url,timestamp\nhttps://t.example/,2015-06-01 25:20:30\n", NULL, "a time like 2024-01-31 12:00:00"),
    BAD("url,timestamp\nhttps://t.example/,2015-06-01 10:20\n", NULL, "a time like 2024-01-31 12:00:00"),
    BAD("url,timestamp\nhttps://t.example/,2015-06-01_10:20:30\n", NULL, "a time like 2024-01-31 12:00:00"),
    BAD("code,url\nc1\n", NULL, "invalid_row: 1 fields where the header has 2"),
};

static void check_row(const struct row_case *t, enum link_io_result res, const struct store_import_row *row,
                      const char *err, const char *where)
{
	if (t->error != NULL) {
		ck_assert_msg(res == LINK_IO_BAD_ROW, "%s: %d for %s", where, res, t->csv);
		ck_assert_msg(strstr(err, t->error) != NULL, "%s: '%s' not in '%s'", where, t->error, err);
		return;
	}
	ck_assert_msg(res == LINK_IO_ROW, "%s: %s: %s", where, t->csv, err);
	ck_assert_str_eq(row->link.code, t->code);
	ck_assert_str_eq(row->link.url, t->url);
	ck_assert_int_eq(row->link.status, t->status);
	ck_assert_uint_eq(row->fields, t->fields);
	ck_assert_int_eq(row->link.created_at, t->created_at);
	ck_assert_int_eq(row->link.updated_at, t->created_at);
	ck_assert_int_eq(row->link.expires_at, t->expires_at);
	ck_assert_int_eq(row->link.max_clicks, t->max_clicks);
	ck_assert_int_eq(row->link.clicks, t->clicks);
	ck_assert_int_eq(row->link.disabled, t->disabled);
}

START_TEST(test_row_from_csv_and_json)
{
	const struct row_case *t = &rows[_i];
	struct store_import_row *row = calloc(1, sizeof(*row));
	char err[320] = "";
	enum link_io_result res;
	long line = 0;

	res = read_one(LINK_IO_CSV, t->csv, row, &line, err, sizeof(err));
	check_row(t, res, row, err, "csv");
	ck_assert_int_eq(line, 2);
	if (t->json != NULL) {
		res = read_one(LINK_IO_JSONL, t->json, row, &line, err, sizeof(err));
		check_row(t, res, row, err, "jsonl");
		ck_assert_int_eq(line, 1);
	}
	free(row);
}
END_TEST

/* Whole files: the results of each row in turn ("R" a row, "B" a bad row,
 * "F" a bad file, "E" the end, each with its line), and an error. */
static const struct file_case {
	enum link_io_format fmt;
	const char *text;
	const char *results;
	const char *error; /* in the last error seen */
} files[] = {
    {LINK_IO_CSV, "", "E0", NULL},
    {LINK_IO_CSV, "url\n", "E0", NULL},
    {LINK_IO_CSV, "url,colour\nhttps://t.example/,red\n", "F", "line 1: unknown column 'colour'"},
    {LINK_IO_CSV, "url,longurl\nhttps://t.example/,x\n", "F", "columns 'url' and 'longurl' name the same field"},
    {LINK_IO_CSV, "code,title\nc1,T\n", "F", "the header has no url column"},
    {LINK_IO_CSV, "url,a very long column name that is long\n", "F", "unknown column"},
    {LINK_IO_CSV, "url,\"ti\"tle\"\n", "F", "line 1: text after the closing quote"},
    {LINK_IO_CSV, "url\nhttps://t.example/1\n\nftp://x/\nhttps://t.example/\"3\n", "R2B4F", "line 5: a quote"},
    {LINK_IO_CSV, "url,ip,ip\n\"https://t.example/\",\"a\nb\",c\nhttps://t.example/2,,\n", "R2R4E0", NULL},
    {LINK_IO_CSV, "url,title,title\nhttps://t.example/,a,b\n", "F", "columns 'title' and 'title' name the same field"},
    {LINK_IO_JSONL, "", "E0", NULL},
    {LINK_IO_JSONL, "\n{\"url\":\"https://t.example/\"}\n  \n[1]\n{\"url\":\"https://t.example/2\"}", "R2B4R5E5",
     "invalid_json: a line must hold one JSON object"},
    {LINK_IO_JSONL, "{\"url\":\"https://t.example/\",\"url\":\"https://t.example/\"}\n", "B1",
     "invalid_json: duplicate object key"},
    {LINK_IO_JSONL, "{\"url\":\"https://t.example/\",\"keyword\":\"k\",\"code\":\"c\"}\n", "B1",
     "'code' names a field named before"},
    {LINK_IO_JSONL, "{\"url\":\"https://t.example/\",\"colour\":1}\n", "B1", "unknown_field: unknown field 'colour'"},
    {LINK_IO_JSONL, "{\"url\":\"https://t.example/\",\"short_url\":7,\"ip\":[1]}\n", "R1E1", NULL},
    {LINK_IO_JSONL, "{\"url\":\"https://t.example/\"\n", "B1", "invalid_json: "},
};

START_TEST(test_rows_of_a_file)
{
	const struct file_case *t = &files[_i];
	struct link_io_rules rules = {NULL, 302, NOW};
	struct store_import_row *row = calloc(1, sizeof(*row));
	FILE *f;
	struct link_io_reader *r = NULL;
	char got[64] = "", err[320] = "";
	enum link_io_result res;
	long line;

	/* fmemopen cannot open 0 bytes: 1, read away at once. */
	f = fmemopen((void *)t->text, strlen(t->text) > 0 ? strlen(t->text) : 1, "r");
	ck_assert_ptr_nonnull(f);
	if (strlen(t->text) == 0)
		fgetc(f);
	if (link_io_reader_new(f, t->fmt, &r, err, sizeof(err)) != 0) {
		snprintf(got, sizeof(got), "F");
	} else {
		do {
			res = link_io_next(r, &rules, row, &line, err, sizeof(err));
			size_t n = strlen(got);
			if (res == LINK_IO_BAD_FILE)
				snprintf(got + n, sizeof(got) - n, "F");
			else
				snprintf(got + n, sizeof(got) - n, "%c%ld",
				         res == LINK_IO_ROW   ? 'R'
				         : res == LINK_IO_END ? 'E'
				                              : 'B',
				         line);
		} while (res == LINK_IO_ROW || res == LINK_IO_BAD_ROW);
		/* After the end, the end again. */
		ck_assert_int_eq(link_io_next(r, &rules, row, &line, err, sizeof(err)), LINK_IO_END);
	}
	ck_assert_msg(strncmp(got, t->results, strlen(t->results)) == 0, "%s: got %s, expected %s", t->text, got,
	              t->results);
	if (t->error != NULL)
		ck_assert_msg(strstr(err, t->error) != NULL, "'%s' not in '%s'", t->error, err);
	link_io_reader_free(r);
	link_io_reader_free(NULL);
	fclose(f);
	free(row);
}
END_TEST

START_TEST(test_a_line_over_the_limit_is_a_bad_row)
{
	size_t big = 70000;
	char *text = malloc(big + 64);
	struct link_io_rules rules = {NULL, 302, NOW};
	struct store_import_row *row = calloc(1, sizeof(*row));
	struct link_io_reader *r;
	char err[320];
	long line;
	FILE *f;

	memset(text, ' ', big);
	text[big] = '\0';
	text[0] = '{';
	strcat(text, "}\n{\"url\":\"https://t.example/\"}\n");
	f = fmemopen(text, strlen(text), "r");
	ck_assert_int_eq(link_io_reader_new(f, LINK_IO_JSONL, &r, err, sizeof(err)), 0);
	ck_assert_int_eq(link_io_next(r, &rules, row, &line, err, sizeof(err)), LINK_IO_BAD_ROW);
	ck_assert_msg(strstr(err, "invalid_row: the line is over 65536 bytes") != NULL, "%s", err);
	ck_assert_int_eq(line, 1);
	ck_assert_int_eq(link_io_next(r, &rules, row, &line, err, sizeof(err)), LINK_IO_ROW);
	ck_assert_int_eq(line, 2);
	link_io_reader_free(r);
	fclose(f);
	free(row);
	free(text);
}
END_TEST

Suite *link_io_suite(void)
{
	Suite *s = suite_create("link_io");
	TCase *tc = tcase_create("export");

	tcase_add_test(tc, test_export_csv_line);
	tcase_add_test(tc, test_export_jsonl_line);
	tcase_add_test(tc, test_format_names);
	tcase_add_loop_test(tc, test_export_reads_back_as_the_same_link, 0,
	                    2 * (int)(sizeof(tag_sets) / sizeof(tag_sets[0])));
	suite_add_tcase(s, tc);
	tc = tcase_create("import");
	tcase_add_loop_test(tc, test_row_from_csv_and_json, 0, (int)(sizeof(rows) / sizeof(rows[0])));
	tcase_add_loop_test(tc, test_rows_of_a_file, 0, (int)(sizeof(files) / sizeof(files[0])));
	tcase_add_test(tc, test_a_line_over_the_limit_is_a_bad_row);
	suite_add_tcase(s, tc);
	return s;
}
