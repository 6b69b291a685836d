/*
 * Links in and out of files: the lines of an export (JSON lines or CSV) and
 * the rows of an import, both through one table of columns in link_io.c, so
 * that a field of a link is one row there. Shared by `shortd export`,
 * `shortd import` and the API's export.
 *
 * An export line holds every field of a link with its counts; an import row
 * may name any of them, or the columns of Shlink's and YOURLS's exports
 * (README: Import and export), and goes through link_admin_check(), the
 * API's rules. Reading goes one row at a time: a file of any length is read
 * in the memory of its longest row.
 */
#ifndef SHORTD_LINK_IO_H
#define SHORTD_LINK_IO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "link.h"
#include "store.h"
#include "url.h"

enum link_io_format { LINK_IO_JSONL, LINK_IO_CSV };

/* Who an imported link was made and changed by, unless the row says. */
#define LINK_IO_BY "cli"

/* "jsonl" or "csv" into *out; 0, or -1 for anything else. */
int link_io_format_parse(const char *s, enum link_io_format *out);

/* A growing buffer of text; link_io_buf_free() accepts an empty one. */
struct link_io_buf {
	char *data;
	size_t len, cap;
};

void link_io_buf_free(struct link_io_buf *b);

/* Appends what an export starts with (CSV: its header line; JSON lines:
 * nothing) to b; 0, or -1 when out of memory. */
int link_io_export_header(enum link_io_format f, struct link_io_buf *b);

/* Appends l as one line, with its short URL under base_url, to b; 0, or -1
 * when out of memory (b then holds what it held before). */
int link_io_export_link(enum link_io_format f, const struct link *l, const char *base_url, struct link_io_buf *b);

/* What an imported row is checked against. */
struct link_io_rules {
	const struct url_self *self; /* this daemon's origins; NULL: none */
	int default_status;          /* for a row without a status */
	int64_t now;                 /* created_at and updated_at of a row without them */
};

enum link_io_result {
	LINK_IO_ROW = 1,
	LINK_IO_END = 0,
	LINK_IO_BAD_ROW = -1,  /* this row is refused; the next may be read */
	LINK_IO_BAD_FILE = -2, /* the file cannot be read on (syntax, I/O, header) */
};

struct link_io_reader;

/* A reader of f (the caller's) in format fmt. For CSV the header is read
 * now: an unknown or repeated column, or no url column, is -1 with err set
 * (err names the column); 0 with *out set, or -1 (also when out of memory). */
int link_io_reader_new(FILE *f, enum link_io_format fmt, struct link_io_reader **out, char *err, size_t errlen);

/* Accepts NULL. */
void link_io_reader_free(struct link_io_reader *r);

/*
 * Reads the next row into *row, checked by rules: its link as it is to be
 * stored (an empty code when the row names none) and the PATCH_* fields it
 * names. *line is the line the row starts on. LINK_IO_ROW, LINK_IO_END,
 * LINK_IO_BAD_ROW with "CODE: reason" in err (CODE one of the API's error
 * codes, or invalid_row), or LINK_IO_BAD_FILE with the reason in err.
 */
enum link_io_result link_io_next(struct link_io_reader *r, const struct link_io_rules *rules,
                                 struct store_import_row *row, long *line, char *err, size_t errlen);

#endif
