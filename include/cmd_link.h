/*
 * The link commands: add, get, list and rm. Each opens the store itself
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

/* `shortd list [--limit N]`: one link a line (code, status, clicks, url). */
int cmd_list_main(int argc, char **argv);

/* `shortd rm CODE`: deletes the link. */
int cmd_rm_main(int argc, char **argv);

#endif
