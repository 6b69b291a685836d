/*
 * The admin subcommands: init, add, get, list, rm, qr and token. They open the store
 * directly (safe while serve runs on the same file) and validate with the
 * same functions as the API. Each returns the process exit status: 0, 1 for
 * a runtime failure, 2 for bad input with a one-line error on stderr.
 */
#ifndef SHORTD_CLI_H
#define SHORTD_CLI_H

int cli_add(int argc, char **argv);
int cli_get(int argc, char **argv);
int cli_list(int argc, char **argv);
int cli_rm(int argc, char **argv);
int cli_token(int argc, char **argv);

/* `shortd init [--db PATH]`: creates and migrates the database (or migrates
 * an older one; a current one is left as it is). The only command besides
 * serve that creates a database. */
int cli_init(int argc, char **argv);

/* `shortd qr CODE [--format svg|png] [--size N] [--margin M]`: the link's
 * short URL as a QR code on stdout (qr.c draws it). */
int cli_qr(int argc, char **argv);

#endif
