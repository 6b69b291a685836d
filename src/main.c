/*
 * shortd's entry point: picks the subcommand and hands over argv, or prints
 * the usage of all commands (`shortd --help`) or of one (`shortd COMMAND
 * --help`). Besides that it only initialises libsodium (tokens and
 * generated codes come from its random bytes) before any command runs.
 */
#include <errno.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cmd_init.h"
#include "cmd_io.h"
#include "cmd_link.h"
#include "cmd_migrate.h"
#include "cmd_qr.h"
#include "cmd_serve.h"
#include "cmd_token.h"

#ifndef SHORTD_VERSION
#define SHORTD_VERSION "0.1.0"
#endif

static const struct {
	const char *name;
	int (*run)(int, char **);
	const char *usage; /* the lines `shortd --help` shows for it */
} commands[] = {
    {"serve", cmd_serve_main,
     "  serve  [--listen HOST:PORT] [--db PATH] [--base-url URL]\n"
     "         [--default-status 301|302|303|307|308] [--threads N]\n"
     "         [--access-log PATH|-] [--max-body BYTES] [--cache-max-age SECONDS]\n"
     "         [--flush-interval MS] [--max-connections N]\n"
     "         [--max-connections-per-ip N] [--timeout SECONDS] [--link-cache MB]\n"
     "         [--header-timeout SECONDS] [--body-min-rate BYTES]\n"
     "         [--trusted-proxy ADDRESS[/BITS]]\n"},
    {"init", cmd_init_main, "  init              creates (or migrates) the database; serve does too\n"},
    {"add", cmd_add_main,
     "  add URL [--code CODE] [--status N] [--expires RFC3339]\n"
     "          [--max-clicks N] [--forward-query] [--title TEXT] [--tag T]...\n"
     "                                                 prints the short URL\n"},
    {"get", cmd_get_main, "  get CODE          prints the link as JSON\n"},
    {"list", cmd_list_main,
     "  list [--limit N] [--search TEXT] [--tag T]... [--url URL]\n"
     "                    one link a line: code, status, clicks, url\n"},
    {"edit", cmd_edit_main,
     "  edit CODE [--url URL] [--status N] [--title TEXT] [--tag T]... [--no-tags]\n"
     "            [--disable|--enable]                prints the link as JSON\n"},
    {"rm", cmd_rm_main, "  rm CODE\n"},
    {"export", cmd_export_main,
     "  export [--format jsonl|csv]\n"
     "                    every link with its counts, to stdout\n"},
    {"import", cmd_import_main,
     "  import FILE [--format jsonl|csv] [--on-conflict skip|fail|update]\n"
     "                    links from our export, a CSV, Shlink's or YOURLS's\n"},
    {"migrate", cmd_migrate_main,
     "  migrate TARGET    copies the whole database (--db) into a new or empty\n"
     "                    one: SQLite <-> PostgreSQL\n"},
    {"qr", cmd_qr_main,
     "  qr CODE [--format svg|png] [--size N] [--margin M]\n"
     "                    writes the short URL as a QR code to stdout\n"},
    {"token", cmd_token_main,
     "  token create [--name NAME] [--read-only]       prints a new token once\n"
     "  token list | token revoke NAME\n"},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const char usage_tail[] = "\nEvery command takes --db PATH (default ./shortd.db, or $SHORTD_DB)\n"
                                 "and --base-url URL; COMMAND --help shows one command. Only serve\n"
                                 "and init create a database; the others exit 1 when there is none.\n";

static void print_usage(FILE *f, size_t only)
{
	fputs("usage: shortd <command> [options]\n\n", f);
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (only == NCOMMANDS || only == i)
			fputs(commands[i].usage, f);
	}
	if (only == NCOMMANDS)
		fputs("  --help | --version\n", f);
	fputs(usage_tail, f);
}

static bool is_help(const char *arg)
{
	return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

/* A command's exit status, or 1 when it succeeded but what it printed could
 * not all be written (a full disk, a closed pipe): output that was lost is
 * a failure. A command that failed has said why already. */
static int finish_output(int status)
{
	int e = fflush(stdout) != 0 ? errno : 0;

	if (status != 0 || (e == 0 && !ferror(stdout)))
		return status;
	fprintf(stderr, "shortd: cannot write to standard output%s%s\n", e != 0 ? ": " : "", e != 0 ? strerror(e) : "");
	return 1;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		print_usage(stderr, NCOMMANDS);
		return 2;
	}
	if (is_help(argv[1]) || strcmp(argv[1], "help") == 0) {
		print_usage(stdout, NCOMMANDS);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("shortd %s\n", SHORTD_VERSION);
		return 0;
	}
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (strcmp(argv[1], commands[i].name) != 0)
			continue;
		/* --help anywhere before "--" asks for this command's usage. */
		for (int a = 2; a < argc && strcmp(argv[a], "--") != 0; a++) {
			if (is_help(argv[a])) {
				print_usage(stdout, i);
				return 0;
			}
		}
		if (sodium_init() < 0) {
			fprintf(stderr, "shortd: cannot initialise libsodium\n");
			return 1;
		}
		return finish_output(commands[i].run(argc - 1, argv + 1));
	}
	fprintf(stderr, "shortd: unknown command '%s' (try shortd --help)\n", argv[1]);
	return 2;
}
