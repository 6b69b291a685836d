/*
 * Crash safety under load, shared by the crash suite (a few rounds) and the
 * load suite (many).
 */
#ifndef SHORTD_TEST_CRASH_ROUNDS_H
#define SHORTD_TEST_CRASH_ROUNDS_H

/* rounds times: SIGKILL the daemon while three clients create links through
 * the API and click them, restart it on the same database, and assert that
 * it starts, that the database passes PRAGMA integrity_check and holds every
 * link whose creation was answered 201 so far, and that redirects work. Then
 * asserts the load did run (more links made and clicked than rounds) and
 * that the daemon stops with exit 0 leaving the same database. */
void crash_rounds(int rounds);

#endif
