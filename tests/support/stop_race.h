/*
 * The stop-under-traffic race shared by the redirect_life suite (a few
 * rounds) and the load suite (many): clients redirect through a link while
 * the daemon is told to stop. Stopping once raced libmicrohttpd's workers and
 * aborted about one stop in 200 (MHD_quiesce_daemon with epoll), hence the
 * rounds.
 */
#ifndef SHORTD_TEST_STOP_RACE_H
#define SHORTD_TEST_STOP_RACE_H

/* One round: rt_start, a 307 link c to STOP_RACE_TARGET, STOP_RACE_CLIENTS
 * clients (even ones keep one connection alive, odd ones POST a body on a
 * new connection each time) until STOP_RACE_WANTED redirects, then sig.
 * Asserts that the daemon exits 0, that every answer before the stop was the
 * redirect and that no transfer failed before the signal; then cleans up. */
void stop_race_round(int sig);

#define STOP_RACE_TARGET "https://t.example/p"
#define STOP_RACE_CLIENTS 4
#define STOP_RACE_WANTED 300

#endif
