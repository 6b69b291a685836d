/*
 * The export's lines and the import's rows; see link_io.h. Every field goes
 * through the table columns[]: its name in a header or a JSON key, the
 * field it fills, the kind of text it holds and whether the export writes
 * it. The names of other shorteners' exports are rows of the same table.
 *
 * Invariant: a row's values are read into struct row_values first, as text,
 * whatever the format, and decoded in one place (decode_row), so CSV and
 * JSON lines accept exactly the same values.
 */
#include "link_io.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "csv.h"
#include "link_admin.h"
#include "link_json.h"
#include "num.h"
#include "rfc3339.h"

#define LINE_MAX_BYTES CSV_RECORD_MAX
/* A field's text in an export: a URL, or the tags as a JSON array (32 of 256
 * bytes, each byte escaped at most to two). */
#define TEXT_MAX (LINK_TAGS_MAX * (2 * LINK_TAG_MAX + 3) + 3)
#define NAME_MAX_BYTES 32

enum field {
	F_CODE,
	F_SHORT_URL,
	F_URL,
	F_STATUS,
	F_FORWARD_QUERY,
	F_CREATED_AT,
	F_UPDATED_AT,
	F_EXPIRES_AT,
	F_MAX_CLICKS,
	F_CLICKS,
	F_DISABLED,
	F_TITLE,
	F_TAGS,
	F_CREATED_BY,
	F_UPDATED_BY,
	F_BOT_CLICKS,
	F_LAST_CLICK_AT,
	F_IGNORED, /* read and dropped: another shortener's column with no field here */
	F_COUNT,
};

enum kind {
	K_TEXT,
	K_STATUS,
	K_BOOL,
	K_TIME,     /* RFC 3339, or empty / null for none */
	K_SQL_TIME, /* "YYYY-MM-DD HH:MM:SS" in UTC, as MySQL writes a DATETIME */
	K_COUNT,    /* a whole number >= 0, or empty / null for none */
	K_TAGS,     /* JSON: an array of strings; CSV: tags|joined|so, or a JSON array */
	K_ANY,
};

/*
 * The columns. name is matched without regard to case or spaces ("Long URL"
 * is longurl). Rows with export set are written by an export, in this
 * order, under this name (the Link JSON's keys, then the counts).
 */
static const struct column {
	const char *name;
	enum field field;
	enum kind kind;
	bool export;
} columns[] = {
    {"code", F_CODE, K_TEXT, true},
    {"short_url", F_SHORT_URL, K_ANY, true},
    {"url", F_URL, K_TEXT, true},
    {"status", F_STATUS, K_STATUS, true},
    {"forward_query", F_FORWARD_QUERY, K_BOOL, true},
    {"created_at", F_CREATED_AT, K_TIME, true},
    {"updated_at", F_UPDATED_AT, K_TIME, true},
    {"expires_at", F_EXPIRES_AT, K_TIME, true},
    {"max_clicks", F_MAX_CLICKS, K_COUNT, true},
    {"clicks", F_CLICKS, K_COUNT, true},
    {"disabled", F_DISABLED, K_BOOL, true},
    {"title", F_TITLE, K_TEXT, true},
    {"tags", F_TAGS, K_TAGS, true},
    {"created_by", F_CREATED_BY, K_TEXT, true},
    {"updated_by", F_UPDATED_BY, K_TEXT, true},
    {"bot_clicks", F_BOT_CLICKS, K_COUNT, true},
    {"last_click_at", F_LAST_CLICK_AT, K_TIME, true},
    /* Shlink's CSV import: Long URL, Short code, Domain, Title, Tags. */
    {"longurl", F_URL, K_TEXT, false},
    {"shortcode", F_CODE, K_TEXT, false},
    {"domain", F_IGNORED, K_ANY, false},
    /* YOURLS's yourls_url table: keyword, url, title, timestamp, ip, clicks. */
    {"keyword", F_CODE, K_TEXT, false},
    {"timestamp", F_CREATED_AT, K_SQL_TIME, false},
    {"ip", F_IGNORED, K_ANY, false},
};

#define NCOLUMNS (sizeof(columns) / sizeof(columns[0]))

int link_io_format_parse(const char *s, enum link_io_format *out)
{
	if (strcmp(s, "jsonl") == 0)
		*out = LINK_IO_JSONL;
	else if (strcmp(s, "csv") == 0)
		*out = LINK_IO_CSV;
	else
		return -1;
	return 0;
}

/* ---- the buffer ---- */

void link_io_buf_free(struct link_io_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

static int buf_add(struct link_io_buf *b, const char *s, size_t n)
{
	if (n >= b->cap - b->len || b->data == NULL) {
		size_t cap = b->cap != 0 ? b->cap : 1024;
		char *grown;
		while (n >= cap - b->len)
			cap *= 2;
		grown = realloc(b->data, cap);
		if (grown == NULL)
			return -1;
		b->data = grown;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

static int buf_str(struct link_io_buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

/* ---- export ---- */

static json_t *tags_json(const struct link *l)
{
	json_t *a = json_array();

	for (int i = 0; a != NULL && i < l->n_tags; i++) {
		if (json_array_append_new(a, json_string(l->tags[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* The tags as a CSV field: joined by '|' (as Shlink writes them), or as a
 * JSON array when a tag holds a '|' or starts with '[', so that every list
 * reads back the same. */
static void tags_text(const struct link *l, char *out, size_t size)
{
	size_t n = 0;
	bool plain = true;

	for (int i = 0; i < l->n_tags; i++)
		plain = plain && strchr(l->tags[i], '|') == NULL && l->tags[i][0] != '[';
	out[0] = '\0';
	if (!plain) {
		json_t *a = tags_json(l);
		char *text = a != NULL ? link_json_dumps(a, JSON_COMPACT) : NULL;
		snprintf(out, size, "%s", text != NULL ? text : "");
		free(text);
		json_decref(a);
		return;
	}
	for (int i = 0; i < l->n_tags && n < size; i++)
		n += (size_t)snprintf(out + n, size - n, "%s%s", i > 0 ? "|" : "", l->tags[i]);
}

/* The field's value as text: "" for none (null in JSON, *is_null set). */
static void field_text(enum field f, const struct link *l, const char *base_url, char *out, size_t size, bool *is_null)
{
	int64_t t = LINK_NO_TIME, n = -1;

	*is_null = false;
	out[0] = '\0';
	switch (f) {
	case F_CODE:
		snprintf(out, size, "%s", l->code);
		return;
	case F_SHORT_URL:
		if (link_json_short_url(base_url, l->code, out, size) != 0)
			out[0] = '\0';
		return;
	case F_URL:
		snprintf(out, size, "%s", l->url);
		return;
	case F_STATUS:
		snprintf(out, size, "%d", l->status);
		return;
	case F_FORWARD_QUERY:
		snprintf(out, size, "%s", l->forward_query ? "true" : "false");
		return;
	case F_DISABLED:
		snprintf(out, size, "%s", l->disabled ? "true" : "false");
		return;
	case F_TITLE:
	case F_CREATED_BY:
	case F_UPDATED_BY:
		snprintf(out, size, "%s", f == F_TITLE ? l->title : f == F_CREATED_BY ? l->created_by : l->updated_by);
		*is_null = out[0] == '\0';
		return;
	case F_TAGS:
		tags_text(l, out, size);
		return;
	case F_CREATED_AT:
		t = l->created_at;
		break;
	case F_UPDATED_AT:
		t = l->updated_at;
		break;
	case F_EXPIRES_AT:
		t = l->expires_at;
		break;
	case F_LAST_CLICK_AT:
		t = l->last_click_at;
		break;
	case F_MAX_CLICKS:
		n = l->max_clicks;
		break;
	case F_CLICKS:
		n = l->clicks;
		break;
	case F_BOT_CLICKS:
		n = l->bot_clicks;
		break;
	default:
		return;
	}
	if (f == F_MAX_CLICKS || f == F_CLICKS || f == F_BOT_CLICKS) {
		*is_null = n < 0;
		if (n >= 0)
			snprintf(out, size, "%" PRId64, n);
	} else {
		*is_null = t == LINK_NO_TIME;
		if (t != LINK_NO_TIME)
			rfc3339_format(t, out);
	}
}

static json_t *field_json(const struct column *c, const char *text, bool is_null)
{
	if (is_null)
		return json_null();
	switch (c->kind) {
	case K_STATUS:
	case K_COUNT:
		return json_integer((json_int_t)strtoll(text, NULL, 10));
	case K_BOOL:
		return json_boolean(text[0] == 't');
	default:
		return json_string(text);
	}
}

/* Appends s as one CSV field, quoted when it holds a comma, a quote or a
 * line break. */
static int csv_field(struct link_io_buf *b, const char *s)
{
	if (strpbrk(s, ",\"\r\n") == NULL)
		return buf_str(b, s);
	if (buf_add(b, "\"", 1) != 0)
		return -1;
	for (const char *q; (q = strchr(s, '"')) != NULL; s = q + 1) {
		if (buf_add(b, s, (size_t)(q - s)) != 0 || buf_add(b, "\"\"", 2) != 0)
			return -1;
	}
	return buf_str(b, s) != 0 || buf_add(b, "\"", 1) != 0 ? -1 : 0;
}

int link_io_export_header(enum link_io_format f, struct link_io_buf *b)
{
	size_t before = b->len;
	bool first = true;

	if (f == LINK_IO_JSONL)
		return buf_add(b, "", 0);
	for (size_t i = 0; i < NCOLUMNS; i++) {
		if (!columns[i].export)
			continue;
		if ((!first && buf_add(b, ",", 1) != 0) || buf_str(b, columns[i].name) != 0)
			goto fail;
		first = false;
	}
	if (buf_add(b, "\r\n", 2) == 0)
		return 0;
fail:
	b->len = before;
	return -1;
}

int link_io_export_link(enum link_io_format f, const struct link *l, const char *base_url, struct link_io_buf *b)
{
	char text[TEXT_MAX > LINK_URL_MAX + 1 ? TEXT_MAX : LINK_URL_MAX + 1];
	size_t before = b->len;
	json_t *obj = NULL;
	char *dumped = NULL;
	bool first = true, is_null;

	if (f == LINK_IO_JSONL && (obj = json_object()) == NULL)
		return -1;
	for (size_t i = 0; i < NCOLUMNS; i++) {
		if (!columns[i].export)
			continue;
		field_text(columns[i].field, l, base_url, text, sizeof(text), &is_null);
		if (f == LINK_IO_JSONL) {
			json_t *v = columns[i].kind == K_TAGS ? tags_json(l) : field_json(&columns[i], text, is_null);
			if (json_object_set_new(obj, columns[i].name, v) != 0)
				goto fail;
		} else {
			if ((!first && buf_add(b, ",", 1) != 0) || csv_field(b, text) != 0)
				goto fail;
		}
		first = false;
	}
	if (f == LINK_IO_JSONL) {
		dumped = link_json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (dumped == NULL || buf_str(b, dumped) != 0 || buf_add(b, "\n", 1) != 0)
			goto fail;
	} else if (buf_add(b, "\r\n", 2) != 0) {
		goto fail;
	}
	free(dumped);
	json_decref(obj);
	return 0;
fail:
	free(dumped);
	json_decref(obj);
	b->len = before;
	if (b->data != NULL)
		b->data[before] = '\0';
	return -1;
}

/* ---- import ---- */

struct link_io_reader {
	enum link_io_format format;
	FILE *f;
	struct csv *csv;
	const struct column *by_index[CSV_FIELDS_MAX]; /* CSV: the header's columns */
	size_t ncols;
	long line; /* JSON lines: the line last read */
	char *text;
	size_t text_cap;
	bool done;
};

/* A row's values as text, whatever the format. */
struct row_values {
	const char *text[F_COUNT]; /* NULL: the row does not name the field */
	const struct column *from[F_COUNT];
	char number[F_COUNT][24]; /* JSON numbers and booleans written as text */
	json_t *tags;             /* JSON lines: the tags array (borrowed), or NULL */
};

static const struct column *column_named(const char *name, size_t len)
{
	char norm[NAME_MAX_BYTES + 1];
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		if (name[i] == ' ')
			continue;
		if (n == NAME_MAX_BYTES)
			return NULL;
		norm[n++] = name[i];
	}
	norm[n] = '\0';
	for (size_t i = 0; i < NCOLUMNS; i++) {
		if (strcasecmp(columns[i].name, norm) == 0)
			return &columns[i];
	}
	return NULL;
}

static int refuse(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int refuse(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Reads the CSV header into r->by_index. */
static int read_header(struct link_io_reader *r, char *err, size_t errlen)
{
	struct csv_record *rec;
	bool has_url = false;
	char why[200];

	switch (csv_next(r->csv, &rec, why, sizeof(why))) {
	case CSV_END:
		r->done = true;
		return 0;
	case CSV_ERROR:
		return refuse(err, errlen, "%s", why);
	default:
		break;
	}
	for (size_t i = 0; i < rec->n; i++) {
		const struct column *c = column_named(rec->field[i], rec->len[i]);
		if (c == NULL)
			return refuse(err, errlen,
			              "line %ld: unknown column '%.64s' (README: Import and export lists the columns)",
			              rec->line, rec->field[i]);
		for (size_t j = 0; j < i; j++) {
			if (r->by_index[j]->field == c->field && c->field != F_IGNORED)
				return refuse(err, errlen, "line %ld: columns '%.64s' and '%.64s' name the same field",
				              rec->line, r->by_index[j]->name, rec->field[i]);
		}
		r->by_index[i] = c;
		has_url = has_url || c->field == F_URL;
	}
	r->ncols = rec->n;
	if (!has_url)
		return refuse(err, errlen, "line %ld: the header has no url column (url, or Long URL)", rec->line);
	return 0;
}

int link_io_reader_new(FILE *f, enum link_io_format fmt, struct link_io_reader **out, char *err, size_t errlen)
{
	struct link_io_reader *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (r == NULL)
		return refuse(err, errlen, "out of memory");
	r->format = fmt;
	r->f = f;
	if (fmt == LINK_IO_CSV) {
		if ((r->csv = csv_new(f)) == NULL) {
			free(r);
			return refuse(err, errlen, "out of memory");
		}
		if (read_header(r, err, errlen) != 0) {
			link_io_reader_free(r);
			return -1;
		}
	}
	*out = r;
	return 0;
}

void link_io_reader_free(struct link_io_reader *r)
{
	if (r == NULL)
		return;
	csv_free(r->csv);
	free(r->text);
	free(r);
}

/* One JSON value into v as text, by the kind its column expects. */
static int json_value(const struct column *c, json_t *j, struct row_values *v, char *err, size_t errlen)
{
	char *num = v->number[c->field];
	bool ok;

	switch (c->kind) {
	case K_STATUS:
	case K_COUNT:
		ok = json_is_integer(j) || json_is_null(j);
		if (json_is_integer(j))
			snprintf(num, sizeof(v->number[0]), "%" JSON_INTEGER_FORMAT, json_integer_value(j));
		break;
	case K_BOOL:
		ok = json_is_boolean(j);
		snprintf(num, sizeof(v->number[0]), "%s", json_is_true(j) ? "true" : "false");
		break;
	case K_TAGS:
		ok = json_is_array(j) || json_is_null(j);
		v->tags = json_is_array(j) ? j : NULL;
		break;
	case K_TEXT:
	case K_TIME:
	case K_SQL_TIME:
		/* Without JSON_ALLOW_NUL Jansson refuses "\u0000": each
		 * string is a whole C string. */
		ok = json_is_string(j) || json_is_null(j);
		break;
	default:
		ok = true;
		break;
	}
	if (!ok)
		return refuse(err, errlen, "invalid_type: %s must be %s", c->name,
		              c->kind == K_TAGS     ? "an array of strings or null"
		              : c->kind == K_BOOL   ? "true or false"
		              : c->kind == K_STATUS ? "an integer or null"
		              : c->kind == K_COUNT  ? "a whole number or null"
		                                    : "a string or null");
	v->from[c->field] = c;
	if (json_is_null(j) || c->kind == K_TAGS)
		v->text[c->field] = "";
	else if (json_is_string(j))
		v->text[c->field] = json_string_value(j);
	else
		v->text[c->field] = num;
	return 0;
}

static int json_row(json_t *obj, struct row_values *v, char *err, size_t errlen)
{
	const char *key;
	json_t *j;

	if (!json_is_object(obj))
		return refuse(err, errlen, "invalid_json: a line must hold one JSON object");
	json_object_foreach(obj, key, j)
	{
		const struct column *c = column_named(key, strlen(key));
		if (c == NULL)
			return refuse(err, errlen, "unknown_field: unknown field '%.64s'", key);
		if (v->text[c->field] != NULL && c->field != F_IGNORED)
			return refuse(err, errlen, "invalid_row: '%.64s' names a field named before", key);
		if (json_value(c, j, v, err, errlen) != 0)
			return -1;
	}
	return 0;
}

static int parse_bool(const char *s, bool *out)
{
	if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0)
		*out = true;
	else if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0 || s[0] == '\0')
		*out = false;
	else
		return -1;
	return 0;
}

/* "YYYY-MM-DD HH:MM:SS" (MySQL's DATETIME) read as UTC. */
static int parse_sql_time(const char *s, int64_t *out)
{
	char iso[RFC3339_LEN + 1];

	if (strlen(s) != 19 || s[10] != ' ')
		return -1;
	memcpy(iso, s, 10);
	iso[10] = 'T';
	memcpy(iso + 11, s + 11, 8);
	iso[19] = 'Z';
	iso[20] = '\0';
	return rfc3339_parse(iso, out);
}

/* A time field: *out stays LINK_NO_TIME when absent or empty. */
static int time_of(const struct row_values *v, enum field f, int64_t *out, char *err, size_t errlen)
{
	const char *s = v->text[f];

	if (s == NULL || s[0] == '\0')
		return 0;
	if (v->from[f]->kind == K_SQL_TIME ? parse_sql_time(s, out) != 0 : rfc3339_parse(s, out) != 0)
		return refuse(err, errlen, "invalid_%s: %s must be %s, got '%.40s'", v->from[f]->name, v->from[f]->name,
		              v->from[f]->kind == K_SQL_TIME ? "a time like 2024-01-31 12:00:00"
		                                             : "an RFC 3339 time like 2030-01-31T12:00:00Z",
		              s);
	return 0;
}

/* A count: *out stays as it is when absent or empty. */
static int count_of(const struct row_values *v, enum field f, int64_t *out, char *err, size_t errlen)
{
	const char *s = v->text[f];
	uint64_t n;

	if (s == NULL || s[0] == '\0')
		return 0;
	if (num_parse(s, 0, INT64_MAX, &n) != NUM_OK)
		return refuse(err, errlen, "invalid_%s: %s must be a whole number >= 0, got '%.40s'", v->from[f]->name,
		              v->from[f]->name, s);
	*out = (int64_t)n;
	return 0;
}

/* The tags a row names into in: a JSON array (from JSON lines, or a CSV
 * field that starts with '['), or a CSV field split at each '|'. *held is
 * what in's tags point into; the caller frees it (and in->tags). */
static int tags_of(const struct row_values *v, struct link_input *in, json_t **held, char **split, char *err,
                   size_t errlen)
{
	const char *text = v->text[F_TAGS];
	json_t *a = v->tags;
	const char **tags;
	size_t *lens, n = 0, cap;

	if (text == NULL)
		return 0;
	if (a == NULL && text[0] == '[') {
		if ((a = *held = json_loads(text, JSON_REJECT_DUPLICATES, NULL)) == NULL || !json_is_array(a))
			return refuse(err, errlen, "invalid_tags: tags must be name|name or a JSON array of strings");
	}
	cap = a != NULL ? json_array_size(a) : 1 + strlen(text) / 2 + 1;
	if (a == NULL && (*split = strdup(text)) == NULL)
		return refuse(err, errlen, "unavailable: out of memory");
	tags = calloc(cap + 1, sizeof(*tags));
	lens = calloc(cap + 1, sizeof(*lens));
	in->tags = tags;
	in->tag_lens = lens;
	if (tags == NULL || lens == NULL)
		return refuse(err, errlen, "unavailable: out of memory");
	if (a != NULL) {
		for (size_t i = 0; i < json_array_size(a); i++) {
			json_t *t = json_array_get(a, i);
			if (!json_is_string(t))
				return refuse(err, errlen, "invalid_tags: tags[%zu] must be a string", i);
			tags[n] = json_string_value(t);
			lens[n++] = json_string_length(t);
		}
	} else if (text[0] != '\0') {
		for (char *p = *split, *bar; p != NULL; p = bar != NULL ? bar + 1 : NULL) {
			if ((bar = strchr(p, '|')) != NULL)
				*bar = '\0';
			tags[n] = p;
			lens[n++] = strlen(p);
		}
	}
	in->n_tags = n;
	return 0;
}

/* A created_by or updated_by of the row: as a tag is, 1..64 characters
 * without control characters. */
static int who_of(const struct row_values *v, enum field f, char *out, size_t size, char *err, size_t errlen)
{
	const char *s = v->text[f];

	if (s == NULL || s[0] == '\0')
		return 0;
	if (strlen(s) >= size || link_tag_check(s, strlen(s)) != LINK_LABEL_OK)
		return refuse(err, errlen, "invalid_%s: %s must be 1 to 64 characters without control characters",
		              v->from[f]->name, v->from[f]->name);
	snprintf(out, size, "%s", s);
	return 0;
}

static const unsigned patch_of[F_COUNT] = {
    [F_URL] = PATCH_URL,
    [F_STATUS] = PATCH_STATUS,
    [F_FORWARD_QUERY] = PATCH_FORWARD_QUERY,
    [F_EXPIRES_AT] = PATCH_EXPIRES_AT,
    [F_MAX_CLICKS] = PATCH_MAX_CLICKS,
    [F_DISABLED] = PATCH_DISABLED,
    [F_TITLE] = PATCH_TITLE,
    [F_TAGS] = PATCH_TAGS,
};

static int decode_row(const struct row_values *v, const struct link_io_rules *rules, struct store_import_row *row,
                      char *err, size_t errlen)
{
	struct link_input in = {
	    .url = v->text[F_URL],
	    .code = v->text[F_CODE],
	    .expires_at = LINK_NO_TIME,
	    .max_clicks = LINK_NO_LIMIT,
	    .by = LINK_IO_BY,
	};
	int64_t created = LINK_NO_TIME, updated = LINK_NO_TIME;
	struct link_admin_error aerr;
	struct link *l = &row->link;
	json_t *held = NULL;
	char *split = NULL;
	bool disabled = false;
	int rc = -1;
	uint64_t n;

	if (in.url == NULL || in.url[0] == '\0') {
		refuse(err, errlen, "invalid_url: url is required");
		goto out;
	}
	if (v->text[F_STATUS] != NULL && v->text[F_STATUS][0] != '\0') {
		if (num_parse(v->text[F_STATUS], 0, 999, &n) != NUM_OK || !link_status_is_valid((int)n)) {
			refuse(err, errlen, "invalid_status: status must be 301, 302, 303, 307 or 308");
			goto out;
		}
		in.status = (int)n;
	}
	if (v->text[F_FORWARD_QUERY] != NULL && parse_bool(v->text[F_FORWARD_QUERY], &in.forward_query) != 0) {
		refuse(err, errlen, "invalid_forward_query: forward_query must be true or false");
		goto out;
	}
	if (v->text[F_DISABLED] != NULL && parse_bool(v->text[F_DISABLED], &disabled) != 0) {
		refuse(err, errlen, "invalid_disabled: disabled must be true or false");
		goto out;
	}
	if (v->text[F_TITLE] != NULL && v->text[F_TITLE][0] != '\0') {
		in.title = v->text[F_TITLE];
		in.title_len = strlen(in.title);
	}
	if (time_of(v, F_EXPIRES_AT, &in.expires_at, err, errlen) != 0 ||
	    count_of(v, F_MAX_CLICKS, &in.max_clicks, err, errlen) != 0 ||
	    time_of(v, F_CREATED_AT, &created, err, errlen) != 0 ||
	    time_of(v, F_UPDATED_AT, &updated, err, errlen) != 0 || tags_of(v, &in, &held, &split, err, errlen) != 0)
		goto out;
	if (link_admin_check(rules->self, rules->default_status, rules->now, &in, true, l, &aerr) != 0) {
		refuse(err, errlen, "%s: %s", aerr.code, aerr.message);
		goto out;
	}
	l->disabled = disabled;
	l->clicks = 0;
	l->bot_clicks = 0;
	if (count_of(v, F_CLICKS, &l->clicks, err, errlen) != 0 ||
	    count_of(v, F_BOT_CLICKS, &l->bot_clicks, err, errlen) != 0 ||
	    time_of(v, F_LAST_CLICK_AT, &l->last_click_at, err, errlen) != 0 ||
	    who_of(v, F_CREATED_BY, l->created_by, sizeof(l->created_by), err, errlen) != 0 ||
	    who_of(v, F_UPDATED_BY, l->updated_by, sizeof(l->updated_by), err, errlen) != 0)
		goto out;
	if (created != LINK_NO_TIME)
		l->created_at = created;
	l->updated_at = updated != LINK_NO_TIME ? updated : l->created_at;
	row->fields = 0;
	for (int f = 0; f < F_COUNT; f++) {
		if (v->text[f] != NULL)
			row->fields |= patch_of[f];
	}
	/* A status left empty names no status: an update keeps the link's. */
	if (v->text[F_STATUS] != NULL && v->text[F_STATUS][0] == '\0')
		row->fields &= ~(unsigned)PATCH_STATUS;
	rc = 0;
out:
	free((void *)in.tags);
	free((void *)in.tag_lens);
	free(split);
	json_decref(held);
	return rc;
}

/* The next non-blank line of a JSON lines file into r->text. 1, 0 at the
 * end, -1 on a read error, -2 for a line over LINE_MAX_BYTES. */
static int next_line(struct link_io_reader *r)
{
	ssize_t n;

	for (;;) {
		n = getline(&r->text, &r->text_cap, r->f);
		if (n < 0)
			return ferror(r->f) ? -1 : 0;
		r->line++;
		if ((size_t)n > LINE_MAX_BYTES)
			return -2;
		if (strspn(r->text, " \t\r\n") != (size_t)n)
			return 1;
	}
}

static enum link_io_result next_jsonl(struct link_io_reader *r, struct row_values *v, json_t **obj, long *line,
                                      char *err, size_t errlen)
{
	json_error_t jerr;
	int got = next_line(r);

	*line = r->line;
	if (got == 0)
		return LINK_IO_END;
	if (got == -1) {
		/* The line that could not be read is the one after the last read. */
		refuse(err, errlen, "line %ld: the file could not be read", r->line + 1);
		return LINK_IO_BAD_FILE;
	}
	if (got == -2) {
		refuse(err, errlen, "invalid_row: the line is over %d bytes", LINE_MAX_BYTES);
		return LINK_IO_BAD_ROW;
	}
	*obj = json_loads(r->text, JSON_REJECT_DUPLICATES, &jerr);
	if (*obj == NULL) {
		refuse(err, errlen, "invalid_json: %s at column %d", jerr.text, jerr.column);
		return LINK_IO_BAD_ROW;
	}
	return json_row(*obj, v, err, errlen) == 0 ? LINK_IO_ROW : LINK_IO_BAD_ROW;
}

static enum link_io_result next_csv(struct link_io_reader *r, struct row_values *v, long *line, char *err,
                                    size_t errlen)
{
	struct csv_record *rec;
	char why[200];

	switch (csv_next(r->csv, &rec, why, sizeof(why))) {
	case CSV_END:
		return LINK_IO_END;
	case CSV_ERROR:
		refuse(err, errlen, "%s", why);
		return LINK_IO_BAD_FILE;
	default:
		break;
	}
	*line = rec->line;
	if (rec->n != r->ncols) {
		refuse(err, errlen, "invalid_row: %zu fields where the header has %zu", rec->n, r->ncols);
		return LINK_IO_BAD_ROW;
	}
	/* csv.c refuses NUL bytes: each field is a whole C string. */
	for (size_t i = 0; i < rec->n; i++) {
		v->text[r->by_index[i]->field] = rec->field[i];
		v->from[r->by_index[i]->field] = r->by_index[i];
	}
	return LINK_IO_ROW;
}

enum link_io_result link_io_next(struct link_io_reader *r, const struct link_io_rules *rules,
                                 struct store_import_row *row, long *line, char *err, size_t errlen)
{
	struct row_values *v;
	json_t *obj = NULL;
	enum link_io_result res;

	*line = r->format == LINK_IO_JSONL ? r->line : 0;
	if (r->done)
		return LINK_IO_END;
	v = calloc(1, sizeof(*v));
	if (v == NULL) {
		refuse(err, errlen, "out of memory");
		return LINK_IO_BAD_FILE;
	}
	res =
	    r->format == LINK_IO_JSONL ? next_jsonl(r, v, &obj, line, err, errlen) : next_csv(r, v, line, err, errlen);
	if (res == LINK_IO_ROW && decode_row(v, rules, row, err, errlen) != 0)
		res = LINK_IO_BAD_ROW;
	if (res == LINK_IO_END || res == LINK_IO_BAD_FILE)
		r->done = true;
	json_decref(obj);
	free(v);
	return res;
}
