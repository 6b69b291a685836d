/*
 * Fuzzes csv.c, the reader of the CSV files `shortd import` takes: every
 * input ends (a record or an error at a time), every field is a whole C
 * string of the length it says, a record has 1..CSV_FIELDS_MAX fields, lines
 * never go back; and what was read, written again with every field quoted
 * (as RFC 4180 says), reads back as the same records.
 */
#include <stdbool.h>
#include <stdint.h>

#include "csv.h"
#include "fuzz.h"

#define RECORDS_MAX 64

/* Appends the record, every field quoted and quotes doubled. */
static size_t write_record(const struct csv_record *rec, char *out, size_t at)
{
	for (size_t i = 0; i < rec->n; i++) {
		out[at++] = '"';
		for (size_t k = 0; k < rec->len[i]; k++) {
			if (rec->field[i][k] == '"')
				out[at++] = '"';
			out[at++] = rec->field[i][k];
		}
		out[at++] = '"';
		out[at++] = i + 1 < rec->n ? ',' : '\n';
	}
	return at;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Every byte at most doubled, plus quotes and separators. */
	char *again = malloc(size * 4 + 16), err[200];
	size_t again_len = 0, records = 0, checked = 0;
	struct csv_record *rec;
	enum csv_result res;
	long last_line = 0;
	FILE *f, *g;
	struct csv *c, *d;

	if (again == NULL || size == 0) {
		free(again);
		return 0;
	}
	f = fmemopen((void *)data, size, "r");
	FUZZ_CHECK(f != NULL);
	c = csv_new(f);
	FUZZ_CHECK(c != NULL);
	while ((res = csv_next(c, &rec, err, sizeof(err))) == CSV_RECORD) {
		FUZZ_CHECK(rec->n >= 1 && rec->n <= CSV_FIELDS_MAX);
		FUZZ_CHECK(rec->line > last_line);
		last_line = rec->line;
		for (size_t i = 0; i < rec->n; i++)
			FUZZ_CHECK(strlen(rec->field[i]) == rec->len[i]);
		/* A record of one empty field is a blank line when written again. */
		if (records < RECORDS_MAX && !(rec->n == 1 && rec->len[0] == 0)) {
			again_len = write_record(rec, again, again_len);
			records++;
		}
	}
	FUZZ_CHECK(res == CSV_END || res == CSV_ERROR);
	FUZZ_CHECK(csv_next(c, &rec, err, sizeof(err)) == res);
	csv_free(c);
	fclose(f);

	/* The records written again read back the same. */
	if (again_len > 0) {
		f = fmemopen((void *)data, size, "r");
		g = fmemopen(again, again_len, "r");
		FUZZ_CHECK(f != NULL && g != NULL);
		c = csv_new(f);
		d = csv_new(g);
		FUZZ_CHECK(c != NULL && d != NULL);
		while (checked < records && csv_next(c, &rec, err, sizeof(err)) == CSV_RECORD) {
			struct csv_record *back;
			size_t n = rec->n;
			char *fields[CSV_FIELDS_MAX];
			if (n == 1 && rec->len[0] == 0)
				continue;
			for (size_t i = 0; i < n; i++) {
				fields[i] = strdup(rec->field[i]);
				FUZZ_CHECK(fields[i] != NULL);
			}
			FUZZ_CHECK(csv_next(d, &back, err, sizeof(err)) == CSV_RECORD);
			FUZZ_CHECK(back->n == n);
			for (size_t i = 0; i < n; i++) {
				FUZZ_CHECK(strcmp(back->field[i], fields[i]) == 0);
				free(fields[i]);
			}
			checked++;
		}
		FUZZ_CHECK(checked == records);
		csv_free(c);
		csv_free(d);
		fclose(f);
		fclose(g);
	}
	free(again);
	return 0;
}
