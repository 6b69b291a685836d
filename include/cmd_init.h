/*
 * `shortd init [--db PATH]`: creates and migrates the database (or migrates
 * an older one; a current one is left as it is). The only command besides
 * serve that creates a database. Returns the process exit status of
 * cmd_common.h.
 */
#ifndef SHORTD_CMD_INIT_H
#define SHORTD_CMD_INIT_H

int cmd_init_main(int argc, char **argv);

#endif
