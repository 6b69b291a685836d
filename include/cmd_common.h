/*
 * What the admin commands (init, add, get, list, rm, qr, token) share: their
 * exit statuses, the --db and --base-url options every one takes, how the
 * database path and base URL are settled, opening the store, and the
 * one-line usage error. Each command group lives in its own cmd_*.c.
 */
#ifndef SHORTD_CMD_COMMON_H
#define SHORTD_CMD_COMMON_H

#include <stdbool.h>

#include "config.h"
#include "store.h"

/* Exit statuses: 0 success, CMD_EXIT_FAIL for not found, taken or a store
 * failure, CMD_EXIT_USAGE for bad usage or a bad value. */
#define CMD_EXIT_FAIL 1
#define CMD_EXIT_USAGE 2

/* getopt_long values of the options every command takes; a command's own
 * options start at CMD_OPT_OWN. */
enum {
	CMD_OPT_DB = 256,
	CMD_OPT_BASE_URL,
	CMD_OPT_OWN,
};

/* The rows of a getopt_long table for the options every command takes. */
#define CMD_COMMON_OPTIONS                                                                                             \
	{"db", required_argument, NULL, CMD_OPT_DB},                                                                   \
	{                                                                                                              \
		"base-url", required_argument, NULL, CMD_OPT_BASE_URL                                                  \
	}

struct cmd_common {
	const char *db;       /* --db, then $SHORTD_DB, then ./shortd.db */
	const char *base_arg; /* --base-url as given, or NULL */
	char base_url[CONFIG_BASE_URL_MAX + 1];
};

/* Prints "shortd: " and the message on stderr; returns CMD_EXIT_USAGE. */
int cmd_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Empties c before a command reads its flags. */
void cmd_common_init(struct cmd_common *c);

/* Takes --db or --base-url (opt from getopt_long) into c; true when opt was
 * one of them. */
bool cmd_common_opt(struct cmd_common *c, int opt, const char *arg);

/* The usage error for getopt_long's '?' or ':' at argv[optind - 1]. */
int cmd_bad_option(int opt, char **argv);

/* Reads one SHORTD_* variable into cfg by serve's rules; 0, or
 * CMD_EXIT_USAGE with serve's one-line message naming it on stderr. */
int cmd_read_variable(struct config *cfg, const char *var);

/*
 * Settles the database path and the base URL once the flags are parsed.
 * Flags win and a variable that a flag replaces is not read. The base URL
 * comes from --base-url, else $SHORTD_BASE_URL, else http:// and
 * $SHORTD_LISTEN, else http://127.0.0.1:8080; a given --base-url is checked
 * by serve's rules whether or not this command prints short URLs (it is
 * settled only when needs_base or given). Returns 0, or CMD_EXIT_USAGE with
 * a one-line message naming the flag or variable.
 */
int cmd_common_finish(struct cmd_common *c, bool needs_base);

/* Opens the command's existing database: only init (and serve) create one.
 * 0, or the exit status with the store's message on stderr: CMD_EXIT_USAGE
 * for a --db this shortd cannot use (a PostgreSQL URL), else CMD_EXIT_FAIL. */
int cmd_open_store(const struct cmd_common *c, struct store **s);

/* Parses [--db] [--base-url] and exactly one valid CODE for the command cmd
 * ("get", "rm"); needs_base: the command prints short URLs. Returns 0 with
 * *code borrowed from argv, or an exit status with the message printed. */
int cmd_code_args(int argc, char **argv, struct cmd_common *c, const char **code, const char *cmd, bool needs_base);

#endif
