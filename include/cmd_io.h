/*
 * The commands that move links in and out: export and import. Both read
 * and write one link at a time (import reads its file twice: once to check
 * every row, once to write), so their memory does not grow with the number
 * of links, but for import's set of the codes it has seen (README: Import
 * and export). Exit statuses and errors as cmd_common.h says.
 */
#ifndef SHORTD_CMD_IO_H
#define SHORTD_CMD_IO_H

/* `shortd export [--format jsonl|csv]`: every link with its counts, on
 * stdout, by ascending id. */
int cmd_export_main(int argc, char **argv);

/* `shortd import FILE [--format jsonl|csv] [--on-conflict skip|fail|update]`:
 * checks every row, and writes nothing when one is bad; then writes them in
 * batches of one transaction each, reporting each row skipped. */
int cmd_import_main(int argc, char **argv);

#endif
