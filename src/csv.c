/*
 * RFC 4180 CSV, one record at a time; see csv.h. The record's fields are
 * kept back to back, each NUL-terminated, in one buffer of CSV_RECORD_MAX
 * bytes made once, and the record points into it.
 *
 * Invariant: c->line is the line of the next byte to read, so a record's
 * line is the value it had when the record's first byte was read.
 */
#include "csv.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum csv_state {
	ST_OK,
	ST_END,
	ST_ERROR,
};

struct csv {
	FILE *f;
	char *buf; /* CSV_RECORD_MAX bytes: the fields of the record */
	size_t used;
	long line;
	bool started; /* the first byte (and a BOM) has been looked at */
	enum csv_state state;
	char err[160];
	struct csv_record rec;
};

struct csv *csv_new(FILE *f)
{
	struct csv *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->buf = malloc(CSV_RECORD_MAX);
	if (c->buf == NULL) {
		free(c);
		return NULL;
	}
	c->f = f;
	c->line = 1;
	return c;
}

void csv_free(struct csv *c)
{
	if (c == NULL)
		return;
	free(c->buf);
	free(c);
}

static enum csv_result fail_at(struct csv *c, long line, char *err, size_t errlen, const char *what)
{
	c->state = ST_ERROR;
	snprintf(c->err, sizeof(c->err), "line %ld: %s", line, what);
	snprintf(err, errlen, "%s", c->err);
	return CSV_ERROR;
}

static enum csv_result fail(struct csv *c, char *err, size_t errlen, const char *what)
{
	return fail_at(c, c->line, err, errlen, what);
}

static int next_byte(struct csv *c)
{
	int ch = getc(c->f);

	if (ch == '\n')
		c->line++;
	return ch;
}

static bool put_byte(struct csv *c, char ch)
{
	if (c->used >= CSV_RECORD_MAX - 1) /* room for the field's NUL */
		return false;
	c->buf[c->used++] = ch;
	return true;
}

/* Ends the field being read: 0, -1 when the record has too many fields, -2
 * when there is no room for the field's NUL. */
static int end_field(struct csv *c, size_t start)
{
	if (c->rec.n >= CSV_FIELDS_MAX)
		return -1;
	if (c->used >= CSV_RECORD_MAX)
		return -2;
	c->buf[c->used++] = '\0';
	c->rec.len[c->rec.n] = c->used - 1 - start;
	c->rec.field[c->rec.n++] = c->buf + start;
	return 0;
}

/* Drops a UTF-8 byte order mark at the start of the file. */
static int skip_bom(struct csv *c)
{
	int ch = next_byte(c);

	if (ch != 0xEF)
		return ch;
	if (next_byte(c) != 0xBB || next_byte(c) != 0xBF)
		return -2; /* a broken mark: refused rather than guessed */
	return next_byte(c);
}

enum csv_result csv_next(struct csv *c, struct csv_record **rec, char *err, size_t errlen)
{
	size_t start = 0;
	bool quoted = false, after_quote = false;
	long quote_line = 0;
	int ch;

	if (c->state == ST_ERROR) {
		snprintf(err, errlen, "%s", c->err);
		return CSV_ERROR;
	}
	if (c->state == ST_END)
		return CSV_END;
	c->used = 0;
	c->rec.n = 0;
	if (!c->started) {
		c->started = true;
		ch = skip_bom(c);
		if (ch == -2)
			return fail(c, err, errlen, "a broken UTF-8 byte order mark");
	} else {
		ch = next_byte(c);
	}
	/* Blank lines between records are not records. */
	for (;;) {
		if (ch == '\n') {
			ch = next_byte(c);
		} else if (ch == '\r') {
			if ((ch = next_byte(c)) != '\n')
				return fail(c, err, errlen, "a carriage return that does not end a line");
			ch = next_byte(c);
		} else {
			break;
		}
	}
	if (ch == EOF) {
		if (ferror(c->f))
			return fail(c, err, errlen, "the file could not be read");
		c->state = ST_END;
		return CSV_END;
	}
	c->rec.line = c->line;
	for (;; ch = next_byte(c)) {
		if (ch == 0)
			return fail(c, err, errlen, "a NUL byte");
		if (quoted) {
			if (ch == EOF && ferror(c->f))
				return fail(c, err, errlen, "the file could not be read");
			if (ch == EOF)
				return fail_at(c, quote_line, err, errlen, "a quoted field is not closed");
			if (ch == '"') {
				int peek = next_byte(c);
				if (peek != '"') {
					quoted = false;
					after_quote = true;
					ch = peek;
					goto unquoted;
				}
			}
			if (!put_byte(c, (char)ch))
				goto too_long;
			continue;
		}
	unquoted:
		if (ch == ',' || ch == '\n' || ch == '\r' || ch == EOF) {
			if (ch == '\r' && next_byte(c) != '\n')
				return fail(c, err, errlen, "a carriage return that does not end a line");
			if (ch == EOF && ferror(c->f))
				return fail(c, err, errlen, "the file could not be read");
			int ended = end_field(c, start);
			if (ended == -1)
				return fail(c, err, errlen, "more than 64 fields in a record");
			if (ended != 0)
				goto too_long;
			if (ch != ',') {
				*rec = &c->rec;
				return CSV_RECORD;
			}
			start = c->used;
			after_quote = false;
			continue;
		}
		if (ch == 0)
			return fail(c, err, errlen, "a NUL byte");
		if (after_quote)
			return fail(c, err, errlen, "text after the closing quote of a field");
		if (ch == '"') {
			if (c->used != start)
				return fail(c, err, errlen,
				            "a quote inside an unquoted field (quote the field and write \"\")");
			quoted = true;
			quote_line = c->line;
			continue;
		}
		if (!put_byte(c, (char)ch))
			goto too_long;
	}
too_long:
	return fail(c, err, errlen, "a record over 65536 bytes");
}
