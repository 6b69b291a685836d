/*
 * `shortd serve`: reads its configuration, opens the store, starts the click
 * flusher, the access log and the HTTP server, and runs until SIGTERM or
 * SIGINT, then stops them in reverse order, writing every pending click.
 */
#ifndef SHORTD_CMD_SERVE_H
#define SHORTD_CMD_SERVE_H

/* Runs the daemon; returns the process exit status: 0 after a graceful
 * stop, 1 when it cannot start or loses clicks, 2 for bad usage. */
int cmd_serve_main(int argc, char **argv);

#endif
