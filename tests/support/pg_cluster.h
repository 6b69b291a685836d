/*
 * A throw-away PostgreSQL cluster for the tests: Debian's server binaries
 * (/usr/lib/postgresql/15/bin, or $SHORTD_PG_BIN) run initdb in a fresh
 * temporary folder, and the server listens only on a Unix socket in that
 * folder (no TCP port), with trust authentication for its superuser
 * "shortd". PostgreSQL refuses to run as root, so as root the server runs
 * as nobody, in a folder nobody owns. The process that started it stops it
 * and removes the folder at exit.
 *
 * Each test takes a database of its own (pg_db_make), named after its
 * process, so tests forked by Check never share one.
 */
#ifndef SHORTD_TEST_PG_CLUSTER_H
#define SHORTD_TEST_PG_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

/* Starts the cluster once per process (later calls return at once); the
 * children Check forks for its tests inherit it. Exits the process with a
 * message when it cannot start: a test that needs it cannot run. A Check
 * unchecked fixture, run in the runner itself. */
void pg_cluster_start(void);

/* Stops the server (fast shutdown) and removes its folder; only in the
 * process that started it, so a forked test's exit leaves it running. */
void pg_cluster_stop(void);

/* Stops the server, waiting for it to be down (the socket gone), and starts
 * it again on the same folder and socket: what a node sees when
 * PostgreSQL is restarted. pg_cluster_down() and pg_cluster_up() are the
 * two halves, for a server away a while. Fail the test when they fail. */
void pg_cluster_down(void);
void pg_cluster_up(void);

/* The folder that holds the server's socket. */
const char *pg_cluster_dir(void);

/* Creates a fresh, empty database and writes the URL that names it (a
 * postgresql:// URL over the socket, user shortd) to url; fails the test
 * when it cannot. */
void pg_db_make(char *url, size_t size);

/* Drops the database that url names (closing any connection to it). */
void pg_db_drop(const char *url);

/* Runs sql on url's database on a connection of its own; fails the test
 * with the server's message when it fails. */
void pg_sql_exec(const char *url, const char *sql);

/* The first column of the first row of sql as an integer; -999 when there
 * is no row; fails the test when the statement fails. */
int64_t pg_sql_int(const char *url, const char *sql);

#endif
