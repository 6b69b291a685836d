/*
 * A streaming reader of RFC 4180 CSV: comma-separated fields, a field in
 * double quotes may hold commas, line breaks and "" for a quote; records end
 * with CRLF or LF (the last one may end with the file). It reads one record
 * at a time, so a file of any length is read in the memory of its longest
 * record, and says on which line each record starts, for reports.
 *
 * Stricter than many writers, so that no byte is read two ways: a quote in
 * an unquoted field, text after a closing quote, a carriage return that
 * does not end a line, a NUL byte, a quoted field left open at the end of
 * the file, a record over CSV_RECORD_MAX bytes (its fields with a NUL each)
 * or CSV_FIELDS_MAX fields are errors, after which the reader stops. Blank
 * lines between records are skipped, and a UTF-8 byte order mark at the
 * start is dropped.
 *
 * Hand-rolled rather than Debian's libcsv: libcsv does not tell the line a
 * record starts on without being fed a byte at a time. Fuzzed by
 * tests/fuzz/fuzz_csv.c.
 */
#ifndef SHORTD_CSV_H
#define SHORTD_CSV_H

#include <stddef.h>
#include <stdio.h>

#define CSV_FIELDS_MAX 64
#define CSV_RECORD_MAX (64 * 1024)

struct csv_record {
	size_t n;                          /* fields, at least 1 */
	const char *field[CSV_FIELDS_MAX]; /* NUL-terminated, borrowed until the next csv_next() */
	size_t len[CSV_FIELDS_MAX];
	long line; /* the line the record starts on, from 1 */
};

enum csv_result {
	CSV_RECORD = 1,
	CSV_END = 0,
	CSV_ERROR = -1, /* err says why and on which line; the reader stops there */
};

struct csv;

/* A reader of f, which stays the caller's; NULL when out of memory. */
struct csv *csv_new(FILE *f);

/* Accepts NULL. */
void csv_free(struct csv *c);

/* Reads the next record into *rec (owned by c, valid until the next call).
 * CSV_RECORD, CSV_END at the end of the file, or CSV_ERROR with a one-line
 * reason in err (an I/O error of f among them); after CSV_ERROR or CSV_END
 * every call answers the same. */
enum csv_result csv_next(struct csv *c, struct csv_record **rec, char *err, size_t errlen);

#endif
