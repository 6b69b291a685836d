/*
 * Connection-holding attacks at full scale, on a daemon with its default
 * limits (--max-connections 1024, --max-connections-per-ip 256,
 * --header-timeout 20, --timeout 30): 1,100 connections from six loopback
 * addresses (127.0.0.2 ... 127.0.0.7, 184 or 183 each, under the
 * per-address limit) each send one more header byte every 5 s, never
 * finishing their headers, and reconnect when closed. Meanwhile a client on
 * 127.0.0.9 must get 50 of 50 redirects, each on a new connection, each in
 * under a second; the attack goes on for the whole 25 s, past the first
 * header deadline, so both eviction (a new connection pushes out the oldest
 * waiting one when every slot is taken) and the deadline sweep are crossed.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define TARGET "https://t.example/p"
#define ATTACKERS 1100
#define ATTACK_ADDRESSES 6
#define TRICKLE_ROUND_MS 5000
#define CLIENT_REQUESTS 50
#define CLIENT_PAUSE_MS 500

/* A connection to 127.0.0.1:port from source, or -1. */
static int connect_from(const char *source, unsigned port)
{
	struct sockaddr_in src, dst;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	memset(&src, 0, sizeof(src));
	src.sin_family = AF_INET;
	inet_pton(AF_INET, source, &src.sin_addr);
	memset(&dst, 0, sizeof(dst));
	dst.sin_family = AF_INET;
	dst.sin_port = htons((uint16_t)port);
	dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&src, sizeof(src)) != 0 ||
	    connect(fd, (struct sockaddr *)&dst, sizeof(dst)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

struct attack {
	unsigned port;
	atomic_bool stop;
	int fds[ATTACKERS];
	long reconnects;
	long connect_failures;
};

/* Opens attacker i and sends the start of a request that never ends. */
static void attacker_open(struct attack *a, int i)
{
	static const char start[] = "GET /abc HTTP/1.1\r\nHost: x\r\nX-Slow: ";
	char source[16];

	snprintf(source, sizeof(source), "127.0.0.%d", 2 + i % ATTACK_ADDRESSES);
	a->fds[i] = connect_from(source, a->port);
	if (a->fds[i] < 0) {
		a->connect_failures++;
		return;
	}
	if (send(a->fds[i], start, sizeof(start) - 1, MSG_NOSIGNAL) < 0) {
		close(a->fds[i]);
		a->fds[i] = -1;
	}
}

/* True when the daemon closed fd (it never answers an attacker). */
static bool attacker_closed(int fd)
{
	char buf[256];
	struct pollfd p = {fd, POLLIN, 0};

	return poll(&p, 1, 0) > 0 && recv(fd, buf, sizeof(buf), MSG_DONTWAIT) <= 0;
}

/* Every TRICKLE_ROUND_MS, spread over the round: one more byte on each
 * attacker's connection, and a new connection for each one closed. */
static void *attack_loop(void *arg)
{
	struct attack *a = arg;

	while (!atomic_load(&a->stop)) {
		int64_t round = now_ms();
		for (int i = 0; i < ATTACKERS && !atomic_load(&a->stop); i++) {
			if (a->fds[i] >= 0 &&
			    (attacker_closed(a->fds[i]) || send(a->fds[i], "a", 1, MSG_NOSIGNAL) < 0)) {
				close(a->fds[i]);
				a->fds[i] = -1;
			}
			if (a->fds[i] < 0) {
				attacker_open(a, i);
				a->reconnects++;
			}
			if (i % 100 == 99) {
				int64_t due = round + (int64_t)TRICKLE_ROUND_MS * (i + 1) / ATTACKERS;
				if (due > now_ms())
					pause_ms((long)(due - now_ms()));
			}
		}
	}
	return NULL;
}

/* One GET /abc on a new connection from 127.0.0.9: its status (0: closed
 * unanswered) and how long it took. */
static int client_request(unsigned port, int64_t *took_ms)
{
	static const char req[] = "GET /abc HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	char resp[2048];
	int64_t t0 = now_ms();
	int fd = connect_from("127.0.0.9", port), status = 0;

	if (fd >= 0) {
		if (raw_send(fd, req, sizeof(req) - 1) == 0 && raw_read_response(fd, resp, sizeof(resp), 5000) > 12 &&
		    strncmp(resp, "HTTP/1.1 ", 9) == 0)
			status = atoi(resp + 9);
		close(fd);
	}
	*took_ms = now_ms() - t0;
	return status;
}

START_TEST(test_trickling_connections_do_not_lock_out_a_client)
{
	static struct attack a;
	struct daemon d;
	pthread_t attacker;
	int held = 0, served = 0;
	int64_t worst = 0;

	raise_nofile(8192);
	fixture_start(&d, (const struct fixture_link[]){{TARGET, "abc", 0, NULL}, {NULL, NULL, 0, NULL}}, NULL, NULL);
	a.port = d.port;
	atomic_store(&a.stop, false);
	for (int i = 0; i < ATTACKERS; i++)
		attacker_open(&a, i);
	for (int i = 0; i < ATTACKERS; i++)
		held += a.fds[i] >= 0;
	ck_assert_msg(held == ATTACKERS, "only %d attackers connected", held);
	ck_assert_int_eq(pthread_create(&attacker, NULL, attack_loop, &a), 0);

	for (int i = 0; i < CLIENT_REQUESTS; i++) {
		int64_t took;
		int status = client_request(d.port, &took);
		ck_assert_msg(status == 302, "request %d: status %d after %lld ms (%d served before)", i, status,
		              (long long)took, served);
		ck_assert_msg(took < 1000, "request %d took %lld ms", i, (long long)took);
		served++;
		if (took > worst)
			worst = took;
		pause_ms(CLIENT_PAUSE_MS);
	}
	atomic_store(&a.stop, true);
	pthread_join(attacker, NULL);
	/* The attack kept the daemon full: attackers were pushed out and
	 * came back. */
	ck_assert_msg(a.reconnects > ATTACKERS - 1024, "only %ld reconnects", a.reconnects);
	fprintf(stderr, "slow_clients: %d of %d redirects, slowest %lld ms; %ld attacker reconnects\n", served,
	        CLIENT_REQUESTS, (long long)worst, a.reconnects);
	for (int i = 0; i < ATTACKERS; i++) {
		if (a.fds[i] >= 0)
			close(a.fds[i]);
	}
	ck_assert(daemon_is_running(&d));
	ck_assert_int_eq(daemon_stop(&d), 0);
	daemon_cleanup(&d);
}
END_TEST

Suite *slow_clients_suite(void)
{
	Suite *s = suite_create("slow_clients");
	TCase *tc = tcase_create("trickle");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_trickling_connections_do_not_lock_out_a_client);
	suite_add_tcase(s, tc);
	return s;
}
