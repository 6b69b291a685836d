/*
 * shortd's entry point: picks the subcommand and hands over argv. Nothing
 * else happens here.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#ifndef SHORTD_VERSION
#define SHORTD_VERSION "0.1.0"
#endif

static const char usage[] =
	"usage: shortd <command> [options]\n"
	"\n"
	"  serve  [--listen HOST:PORT] [--db PATH] [--base-url URL]\n"
	"         [--default-status 301|302|303|307|308] [--threads N]\n"
	"         [--access-log PATH|-] [--max-body BYTES] [--cache-max-age SECONDS]\n"
	"         [--flush-interval MS] [--max-connections N]\n"
	"         [--max-connections-per-ip N] [--timeout SECONDS] [--link-cache MB]\n"
	"  init              creates (or migrates) the database; serve does too\n"
	"  add URL [--code CODE] [--status N] [--expires RFC3339]\n"
	"          [--max-clicks N] [--forward-query]      prints the short URL\n"
	"  get CODE          prints the link as JSON\n"
	"  list [--limit N]  one link a line: code, status, clicks, url\n"
	"  rm CODE\n"
	"  token create [--name NAME] [--read-only]       prints a new token once\n"
	"  token list | token revoke NAME\n"
	"  --help | --version\n"
	"\n"
	"Every command takes --db PATH (default ./shortd.db, or $SHORTD_DB). Only serve\n"
	"and init create a database; the others exit 1 when there is none at PATH.\n";

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(int, char **);
	} commands[] = {
		{"serve", serve_main}, {"init", cli_init}, {"add", cli_add},     {"get", cli_get},
		{"list", cli_list},    {"rm", cli_rm},     {"token", cli_token},
	};

	if (argc < 2) {
		fputs(usage, stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("shortd %s\n", SHORTD_VERSION);
		return 0;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "shortd: cannot initialise libsodium\n");
		return 1;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	}
	fprintf(stderr, "shortd: unknown command '%s' (try shortd --help)\n", argv[1]);
	return 2;
}
