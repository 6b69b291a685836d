/*
 * The link commands: add, get, list, edit and rm. Each opens the store itself
 * (safe beside a running serve: SQLite in WAL mode with a busy timeout),
 * validates through the same link_admin functions as the API, and returns
 * the process exit status of cmd_common.h, with a one-line error on stderr
 * starting with "shortd: ".
 */
#ifndef SHORTD_CMD_LINK_H
#define SHORTD_CMD_LINK_H

/* `shortd add URL [options]`: creates a link and prints its short URL. */
int cmd_add_main(int argc, char **argv);

/* `shortd get CODE`: prints the link as the API's JSON. */
int cmd_get_main(int argc, char **argv);

/* `shortd list [--limit N] [--search TEXT] [--tag T]... [--url URL]`: one
 * link a line (code, status, clicks, url), those that match every filter. */
int cmd_list_main(int argc, char **argv);

/* `shortd edit CODE [--url URL] [--status N] [--title TEXT] [--tag T]...
 * [--no-tags] [--disable|--enable]`: changes the link (tags given replace
 * its tags) and prints it as JSON; updated_by is "cli". */
int cmd_edit_main(int argc, char **argv);

/* `shortd rm CODE`: deletes the link. */
int cmd_rm_main(int argc, char **argv);

#endif
