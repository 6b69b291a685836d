/*
 * `shortd migrate --db SOURCE TARGET`: copies a whole shortd database, of
 * either kind, into a new or empty one of either kind (SQLite <->
 * PostgreSQL, or the same kind), then reads the copy back and compares.
 * Returns the process exit status of cmd_common.h.
 */
#ifndef SHORTD_CMD_MIGRATE_H
#define SHORTD_CMD_MIGRATE_H

/*
 * Reads SOURCE (--db, else $SHORTD_DB) as one snapshot and writes every
 * link (all its fields, times and counts), its click history row for row,
 * and every token (its hash, so its secret keeps working) into TARGET in
 * one transaction: all or none. TARGET must hold no link and no token; a
 * SQLite file is created, and removed again when the copy fails. Then
 * TARGET is read back and compared with what was read, link by link:
 * counts and fields, a mismatch exits 1. Prints one summary line.
 */
int cmd_migrate_main(int argc, char **argv);

#endif
