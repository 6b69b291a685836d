/*
 * `shortd export` and `shortd import`; see cmd_io.h. The formats and the
 * rules of a row are link_io.c's; this file holds the passes over the file,
 * the batches and the report.
 *
 * Invariant: import writes nothing until every row of the file has been
 * read and found good (with --on-conflict fail, also that no code is
 * taken), so a bad file changes nothing.
 */
#include "cmd_io.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd_common.h"
#include "config.h"
#include "link_code.h"
#include "link_io.h"
#include "store.h"

#define EXPORT_PAGE 1000
#define IMPORT_BATCH 500
#define ERR_MAX 320

enum {
	OPT_FORMAT = CMD_OPT_OWN,
	OPT_ON_CONFLICT,
};

/* ---- export ---- */

struct export_page {
	enum link_io_format format;
	const char *base_url;
	struct link_io_buf buf;
	int64_t last;
	bool failed;
};

static int export_link(const struct link *l, void *ctx)
{
	struct export_page *p = ctx;

	p->last = l->id;
	p->buf.len = 0;
	if (link_io_export_link(p->format, l, p->base_url, &p->buf) != 0 ||
	    fwrite(p->buf.data, 1, p->buf.len, stdout) != p->buf.len) {
		p->failed = true;
		return 1;
	}
	return 0;
}

int cmd_export_main(int argc, char **argv)
{
	static const struct option opts[] = {
	    CMD_COMMON_OPTIONS,
	    {"format", required_argument, NULL, OPT_FORMAT},
	    {NULL, 0, NULL, 0},
	};
	struct export_page p = {.format = LINK_IO_JSONL};
	struct cmd_common c;
	struct store *s;
	int64_t after = 0;
	int opt, rc;

	cmd_common_init(&c);
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (cmd_common_opt(&c, opt, optarg))
			continue;
		if (opt != OPT_FORMAT)
			return cmd_bad_option(opt, argv);
		if (link_io_format_parse(optarg, &p.format) != 0)
			return cmd_usage_error("--format: expected jsonl or csv, got '%s'", optarg);
	}
	if (optind != argc)
		return cmd_usage_error("%s: unexpected argument for export", argv[optind]);
	if ((rc = cmd_common_finish(&c, true)) != 0)
		return rc;
	if ((rc = cmd_open_store(&c, &s)) != 0)
		return rc;
	p.base_url = c.base_url;
	if (link_io_export_header(p.format, &p.buf) != 0 || fwrite(p.buf.data, 1, p.buf.len, stdout) != p.buf.len)
		p.failed = true;
	/* Pages by id, so no read is held open for the whole export. */
	while (!p.failed) {
		p.last = after;
		rc = store_link_list(s, after, EXPORT_PAGE, export_link, &p);
		if (rc != STORE_OK) {
			fprintf(stderr, "shortd: export: %s\n", store_status_message(rc));
			break;
		}
		if (p.last == after)
			break;
		after = p.last;
	}
	if (p.failed)
		fprintf(stderr, "shortd: export: cannot write to standard output\n");
	store_close(s);
	link_io_buf_free(&p.buf);
	return p.failed || rc != STORE_OK ? CMD_EXIT_FAIL : 0;
}

/* ---- import ---- */

/* The codes seen so far in the file and the line of each: a file that names
 * a code twice is refused. Open addressing, kept at most half full. */
struct code_set {
	char **code;
	long *line;
	size_t cap, n;
};

static uint64_t code_hash(const char *s)
{
	uint64_t h = 14695981039346656037u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

static int code_set_grow(struct code_set *set)
{
	size_t cap = set->cap != 0 ? set->cap * 2 : 1024;
	char **code = calloc(cap, sizeof(*code));
	long *line = calloc(cap, sizeof(*line));

	if (code == NULL || line == NULL) {
		free(code);
		free(line);
		return -1;
	}
	for (size_t i = 0; i < set->cap; i++) {
		size_t k;
		if (set->code[i] == NULL)
			continue;
		for (k = code_hash(set->code[i]) & (cap - 1); code[k] != NULL; k = (k + 1) & (cap - 1))
			;
		code[k] = set->code[i];
		line[k] = set->line[i];
	}
	free(set->code);
	free(set->line);
	set->code = code;
	set->line = line;
	set->cap = cap;
	return 0;
}

/* Adds code seen on line: 0, or the line it was seen on before (> 0), or
 * -1 when out of memory. */
static long code_set_add(struct code_set *set, const char *code, long line)
{
	size_t k;

	if (2 * (set->n + 1) > set->cap && code_set_grow(set) != 0)
		return -1;
	for (k = code_hash(code) & (set->cap - 1); set->code[k] != NULL; k = (k + 1) & (set->cap - 1)) {
		if (strcmp(set->code[k], code) == 0)
			return set->line[k];
	}
	if ((set->code[k] = strdup(code)) == NULL)
		return -1;
	set->line[k] = line;
	set->n++;
	return 0;
}

static void code_set_free(struct code_set *set)
{
	for (size_t i = 0; i < set->cap; i++)
		free(set->code[i]);
	free(set->code);
	free(set->line);
}

struct import {
	const char *path;
	FILE *f;
	enum link_io_format format;
	enum store_import_mode mode;
	struct link_io_rules rules;
	struct store *s;
	struct store_import_row *rows; /* IMPORT_BATCH */
	long lines[IMPORT_BATCH];
	size_t n;
	long created, updated, skipped;
};

/* Opens a reader at the start of the file; 0, or -1 with the error said. */
static int open_reader(struct import *im, struct link_io_reader **r)
{
	char err[ERR_MAX];

	/* open_import_file() gave a file that seeks back to its start. */
	if (fseek(im->f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "shortd: import: %s: cannot read the file from its start: %m\n", im->path);
		return -1;
	}
	clearerr(im->f);
	if (link_io_reader_new(im->f, im->format, r, err, sizeof(err)) != 0) {
		fprintf(stderr, "shortd: import: %s: %s\n", im->path, err);
		return -1;
	}
	return 0;
}

/* The first pass: every row read and checked, nothing written. Returns
 * the number of bad rows, each reported, or -1 when the file cannot be
 * read on. */
static long check_file(struct import *im)
{
	struct code_set seen = {0};
	struct link_io_reader *r;
	struct link *existing = malloc(sizeof(*existing));
	char err[ERR_MAX];
	long bad = 0, line, before;
	enum link_io_result res;

	if (existing == NULL || open_reader(im, &r) != 0) {
		free(existing);
		return -1;
	}
	while ((res = link_io_next(r, &im->rules, &im->rows[0], &line, err, sizeof(err))) != LINK_IO_END) {
		const char *code = im->rows[0].link.code;
		if (res == LINK_IO_BAD_FILE) {
			fprintf(stderr, "shortd: import: %s: %s\n", im->path, err);
			bad = -1;
			break;
		}
		if (res == LINK_IO_ROW && code[0] != '\0') {
			before = code_set_add(&seen, code, line);
			if (before < 0) {
				fprintf(stderr, "shortd: import: out of memory\n");
				bad = -1;
				break;
			}
			if (before > 0) {
				snprintf(err, sizeof(err), "invalid_row: code '%s' is on line %ld too", code, before);
				res = LINK_IO_BAD_ROW;
			} else if (im->mode == STORE_IMPORT_FAIL &&
			           store_link_lookup(im->s, code, existing) == STORE_OK) {
				snprintf(err, sizeof(err),
				         "code_taken: a link with code '%s' exists (--on-conflict skip or update "
				         "imports past it)",
				         code);
				res = LINK_IO_BAD_ROW;
			}
		}
		if (res == LINK_IO_BAD_ROW) {
			fprintf(stderr, "shortd: import: %s:%ld: %s\n", im->path, line, err);
			bad++;
		}
	}
	link_io_reader_free(r);
	code_set_free(&seen);
	free(existing);
	return bad;
}

/* Writes the rows batched so far in one transaction and reports them. */
static int write_batch(struct import *im)
{
	size_t conflict = 0;
	int rc;

	if (im->n == 0)
		return 0;
	rc = store_links_import(im->s, im->rows, im->n, im->mode, im->rules.now, link_code_generate, NULL, &conflict);
	if (rc != STORE_OK) {
		if (rc == STORE_CONFLICT && !im->rows[conflict].code_drawn)
			fprintf(stderr,
			        "shortd: import: %s:%ld: code_taken: a link with code '%s' was made meanwhile\n",
			        im->path, im->lines[conflict], im->rows[conflict].link.code);
		else
			fprintf(stderr, "shortd: import: %s: lines %ld-%ld: %s\n", im->path, im->lines[0],
			        im->lines[im->n - 1], store_status_message(rc));
		return -1;
	}
	for (size_t i = 0; i < im->n; i++) {
		if (im->rows[i].result == STORE_IMPORT_SKIPPED)
			printf("%s:%ld: skipped: a link with code '%s' exists\n", im->path, im->lines[i],
			       im->rows[i].link.code);
		im->created += im->rows[i].result == STORE_IMPORT_CREATED;
		im->updated += im->rows[i].result == STORE_IMPORT_UPDATED;
		im->skipped += im->rows[i].result == STORE_IMPORT_SKIPPED;
	}
	im->n = 0;
	return 0;
}

/* The second pass: the rows again, written IMPORT_BATCH at a time. */
static int write_file(struct import *im)
{
	struct link_io_reader *r;
	char err[ERR_MAX];
	enum link_io_result res;
	int rc = 0;

	if (open_reader(im, &r) != 0)
		return -1;
	while ((res = link_io_next(r, &im->rules, &im->rows[im->n], &im->lines[im->n], err, sizeof(err))) ==
	       LINK_IO_ROW) {
		if (++im->n == IMPORT_BATCH && (rc = write_batch(im)) != 0)
			break;
	}
	if (rc == 0 && res != LINK_IO_END) {
		/* The file changed since it was checked. */
		fprintf(stderr, "shortd: import: %s:%ld: %s\n", im->path, im->lines[im->n], err);
		rc = -1;
	}
	if (rc == 0)
		rc = write_batch(im);
	link_io_reader_free(r);
	return rc;
}

static int parse_mode(const char *s, enum store_import_mode *out)
{
	if (strcmp(s, "skip") == 0)
		*out = STORE_IMPORT_SKIP;
	else if (strcmp(s, "fail") == 0)
		*out = STORE_IMPORT_FAIL;
	else if (strcmp(s, "update") == 0)
		*out = STORE_IMPORT_UPDATE;
	else
		return -1;
	return 0;
}

/*
 * The file the two passes read: FILE itself when it can be read again from
 * its start (a file; stdin too when it is one); otherwise (a pipe, a FIFO,
 * a socket, `-` for such a stdin) its whole content copied first into an
 * unlinked temporary file (tmpfile(3): glibc makes it in /tmp), which the
 * passes read twice and which goes when it is closed.
 * The copy is bounded by that file system's free space: a failed write is
 * an error and nothing is imported. NULL, with the reason said, on failure.
 */
static FILE *open_import_file(const char *path, const char *name)
{
	FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	FILE *spool = NULL;
	char buf[65536];
	size_t n;

	if (in == NULL) {
		fprintf(stderr, "shortd: import: cannot open %s: %m\n", path);
		return NULL;
	}
	if (fseek(in, 0, SEEK_CUR) == 0)
		return in;
	if ((spool = tmpfile()) == NULL) {
		fprintf(stderr, "shortd: import: %s: cannot make a temporary file to read it into: %m\n", name);
		goto fail;
	}
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0) {
		if (fwrite(buf, 1, n, spool) != n)
			break;
	}
	if (ferror(in)) {
		fprintf(stderr, "shortd: import: cannot read %s: %m\n", name);
		goto fail;
	}
	if (n > 0 || fflush(spool) != 0) {
		fprintf(stderr, "shortd: import: %s: cannot copy it into a temporary file: %m\n", name);
		goto fail;
	}
	fclose(in);
	return spool;
fail:
	if (spool != NULL)
		fclose(spool);
	fclose(in);
	return NULL;
}

/* Without --format: csv for a name ending in .csv, else jsonl. */
static enum link_io_format format_of_name(const char *path)
{
	size_t n = strlen(path);

	return n >= 4 && strcmp(path + n - 4, ".csv") == 0 ? LINK_IO_CSV : LINK_IO_JSONL;
}

int cmd_import_main(int argc, char **argv)
{
	static const struct option opts[] = {
	    CMD_COMMON_OPTIONS,
	    {"format", required_argument, NULL, OPT_FORMAT},
	    {"on-conflict", required_argument, NULL, OPT_ON_CONFLICT},
	    {NULL, 0, NULL, 0},
	};
	struct import im = {.mode = STORE_IMPORT_FAIL};
	bool has_format = false;
	struct cmd_common c;
	struct config cfg, daemon;
	struct url_self self;
	long bad;
	int opt, rc;

	cmd_common_init(&c);
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (cmd_common_opt(&c, opt, optarg))
			continue;
		if (opt == OPT_FORMAT) {
			if (link_io_format_parse(optarg, &im.format) != 0)
				return cmd_usage_error("--format: expected jsonl or csv, got '%s'", optarg);
			has_format = true;
		} else if (opt == OPT_ON_CONFLICT) {
			if (parse_mode(optarg, &im.mode) != 0)
				return cmd_usage_error("--on-conflict: expected skip, fail or update, got '%s'",
				                       optarg);
		} else {
			return cmd_bad_option(opt, argv);
		}
	}
	if (optind + 1 != argc)
		return cmd_usage_error("import: expected exactly one FILE (shortd import FILE [options])");
	/* `-` is stdin, named so in what import says. */
	im.path = strcmp(argv[optind], "-") == 0 ? "stdin" : argv[optind];
	if (!has_format)
		im.format = format_of_name(im.path);
	if ((rc = cmd_common_finish(&c, true)) != 0)
		return rc;
	config_defaults(&cfg);
	if ((rc = cmd_read_variable(&cfg, "SHORTD_DEFAULT_STATUS")) != 0)
		return rc;
	config_command_daemon(&daemon, c.base_url);
	config_url_self(&daemon, &self);
	im.rules = (struct link_io_rules){&self, cfg.default_status, (int64_t)time(NULL)};

	if ((im.f = open_import_file(argv[optind], im.path)) == NULL)
		return CMD_EXIT_FAIL;
	if ((im.rows = malloc(IMPORT_BATCH * sizeof(*im.rows))) == NULL) {
		fclose(im.f);
		return CMD_EXIT_FAIL;
	}
	if ((rc = cmd_open_store(&c, &im.s)) != 0)
		goto out;
	rc = CMD_EXIT_FAIL;
	bad = check_file(&im);
	if (bad != 0) {
		if (bad > 0)
			fprintf(stderr, "shortd: import: %s: %ld bad row%s; nothing was imported\n", im.path, bad,
			        bad == 1 ? "" : "s");
		else
			fprintf(stderr, "shortd: import: %s: nothing was imported\n", im.path);
		goto out;
	}
	if (write_file(&im) == 0)
		rc = 0;
	else if (im.created + im.updated + im.skipped > 0)
		fprintf(stderr, "shortd: import: %s: the batches before this one were written\n", im.path);
	printf("%s: %ld created, %ld updated, %ld skipped\n", im.path, im.created, im.updated, im.skipped);
out:
	store_close(im.s);
	free(im.rows);
	fclose(im.f);
	return rc;
}
