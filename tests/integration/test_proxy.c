/*
 * shortd behind the README's TLS proxies, run for real on loopback: Debian's
 * nginx with contrib/nginx.conf and Caddy with contrib/Caddyfile, each file
 * used as it stands with only its ports (and, for nginx, the certificate
 * paths; for Caddy, test-only global options) filled in. Each proxy runs
 * with a prefix and storage in a temporary directory.
 *
 * Through each: a POST of 2 MiB (more than nginx's default body limit) and
 * one of 5 MiB with "Expect: 100-continue" to a 307 link get their 307, not
 * 413 or 502; requests reuse the proxy's connections to shortd (HTTP/1.1
 * keep-alive upstream). Through nginx: 300 slow clients, each holding a
 * connection to shortd with a body it never finishes, do not lock out a
 * 301st, since shortd trusts the proxy (--trusted-proxy 127.0.0.1), while
 * nginx limits connections per client address (limit_conn).
 */
#include <check.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

extern char **environ;

#define HOOK_TARGET "https://t.example/hook"
#define SLOW_CLIENTS 300
#define SLOW_ADDRESSES 6 /* 50 each, under limit_conn's 64 */

/* A port free on 127.0.0.1 now (the proxy binds it a moment later). */
static unsigned free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	ck_assert(buf != NULL);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_msg(f != NULL, "cannot write %s", path);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

/* text with its one occurrence of from replaced by to; the old text is
 * freed. A template that lost the line the test fills in fails here. */
static char *replace(char *text, const char *from, const char *to)
{
	char *at = strstr(text, from), *out;
	size_t head, n;

	ck_assert_msg(at != NULL, "'%s' not in the configuration", from);
	ck_assert_msg(strstr(at + 1, from) == NULL, "'%s' twice in the configuration", from);
	head = (size_t)(at - text);
	n = strlen(text) - strlen(from) + strlen(to) + 1;
	out = malloc(n);
	ck_assert(out != NULL);
	snprintf(out, n, "%.*s%s%s", (int)head, text, to, at + strlen(from));
	free(text);
	return out;
}

/* Runs argv with stdout and stderr to log; returns the pid. */
static pid_t spawn(char *const *argv, const char *log)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	ck_assert_msg(posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) == 0, "cannot run %s", argv[0]);
	posix_spawn_file_actions_destroy(&fa);
	return pid;
}

static int wait_status(pid_t pid)
{
	int st;

	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Waits until 127.0.0.1:port accepts connections. */
static void wait_listening(unsigned port, const char *what, const char *log)
{
	for (int i = 0; i < 200; i++) {
		int fd = raw_connect(port);
		if (fd >= 0) {
			close(fd);
			return;
		}
		pause_ms(50);
	}
	{
		char *text = read_file(log);
		ck_abort_msg("%s never listened on %u: %s", what, port, text);
	}
}

/* ---- the proxies ---- */

struct proxy {
	pid_t pid;
	unsigned port; /* TLS, for https://sho.rt:PORT */
	char dir[300];
	char log[340];
};

/* A self-signed certificate for sho.rt in dir. */
static void make_cert(const char *dir)
{
	char key[340], crt[340], log[340];
	char *argv[] = {"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",     "-keyout", key,
	                "-out",    crt,   "-days", "2",       "-subj",    "/CN=sho.rt", NULL};

	snprintf(key, sizeof(key), "%s/key.pem", dir);
	snprintf(crt, sizeof(crt), "%s/cert.pem", dir);
	snprintf(log, sizeof(log), "%s/openssl.log", dir);
	ck_assert_int_eq(wait_status(spawn(argv, log)), 0);
}

static void nginx_start(struct proxy *p, const struct daemon *d)
{
	char path[400], to[400], *conf;
	char *argv[] = {"nginx", "-p", p->dir, "-c", path, NULL};

	snprintf(p->dir, sizeof(p->dir), "%s/nginx", d->dir);
	ck_assert_int_eq(mkdir(p->dir, 0755), 0);
	snprintf(p->log, sizeof(p->log), "%s/error.log", p->dir);
	make_cert(p->dir);
	p->port = free_port();

	conf = read_file("contrib/nginx.conf");
	snprintf(to, sizeof(to), "listen 127.0.0.1:%u ssl;", p->port);
	conf = replace(conf, "listen 443 ssl;", to);
	snprintf(to, sizeof(to), "server 127.0.0.1:%u;", d->port);
	conf = replace(conf, "server 127.0.0.1:8080;", to);
	snprintf(to, sizeof(to), "%s/cert.pem;", p->dir);
	conf = replace(conf, "/etc/ssl/sho.rt/fullchain.pem;", to);
	snprintf(to, sizeof(to), "%s/key.pem;", p->dir);
	conf = replace(conf, "/etc/ssl/sho.rt/privkey.pem;", to);
	snprintf(path, sizeof(path), "%s/shortd.conf", p->dir);
	write_file(path, conf);
	free(conf);

	/* What /etc/nginx/nginx.conf would hold, kept in the prefix. */
	{
		char main_conf[4096];
		snprintf(main_conf, sizeof(main_conf),
		         "daemon off;\nmaster_process on;\nworker_processes 1;\npid %s/nginx.pid;\n"
		         "error_log %s warn;\nevents { worker_connections 4096; }\n"
		         "http {\n  access_log off;\n  client_body_temp_path %s/body;\n  proxy_temp_path %s/proxy;\n"
		         "  fastcgi_temp_path %s/fastcgi;\n  uwsgi_temp_path %s/uwsgi;\n  scgi_temp_path %s/scgi;\n"
		         "  include %s;\n}\n",
		         p->dir, p->log, p->dir, p->dir, p->dir, p->dir, p->dir, path);
		snprintf(path, sizeof(path), "%s/nginx.conf", p->dir);
		write_file(path, main_conf);
	}
	p->pid = spawn(argv, p->log);
	wait_listening(p->port, "nginx", p->log);
}

static CURL *client_new(const struct proxy *p, const char *path, struct curl_slist **hosts, const char *source);

/* Caddy listens before its own CA has issued the site's certificate (it
 * does so in the background, slowly on a busy machine): wait until a TLS
 * handshake and a request through it succeed, 30 s at most. */
static void wait_tls_ready(const struct proxy *p)
{
	CURLcode rc = CURLE_COULDNT_CONNECT;

	for (int i = 0; i < 300 && rc != CURLE_OK; i++) {
		struct curl_slist *hosts;
		CURL *c = client_new(p, "/healthz", &hosts, NULL);

		rc = curl_easy_perform(c);
		curl_easy_cleanup(c);
		curl_slist_free_all(hosts);
		if (rc != CURLE_OK)
			pause_ms(100);
	}
	if (rc != CURLE_OK) {
		char *text = read_file(p->log);
		ck_abort_msg("caddy never served TLS on %u: %s", p->port, text);
	}
}

static void caddy_start(struct proxy *p, const struct daemon *d)
{
	char path[400], to[600], *conf, env_home[340], env_data[340], env_config[340];
	char *argv[] = {"caddy", "run", "--config", path, "--adapter", "caddyfile", NULL};

	snprintf(p->dir, sizeof(p->dir), "%s/caddy", d->dir);
	ck_assert_int_eq(mkdir(p->dir, 0755), 0);
	snprintf(p->log, sizeof(p->log), "%s/caddy.log", p->dir);
	p->port = free_port();

	conf = read_file("contrib/Caddyfile");
	snprintf(to, sizeof(to), "sho.rt:%u {", p->port);
	conf = replace(conf, "sho.rt {", to);
	snprintf(to, sizeof(to), "reverse_proxy 127.0.0.1:%u {", d->port);
	conf = replace(conf, "reverse_proxy 127.0.0.1:8080 {", to);
	/* Test-only: no admin endpoint, certificates from a CA of its own
	 * kept in the temporary directory, no other port. */
	snprintf(to, sizeof(to),
	         "{\n\tadmin off\n\tlocal_certs\n\tskip_install_trust\n\tstorage file_system %s/data\n"
	         "\thttp_port %u\n\thttps_port %u\n\tservers {",
	         p->dir, free_port(), p->port);
	conf = replace(conf, "{\n\tservers {", to);
	snprintf(path, sizeof(path), "%s/Caddyfile", p->dir);
	write_file(path, conf);
	free(conf);

	snprintf(env_home, sizeof(env_home), "%s", p->dir);
	snprintf(env_data, sizeof(env_data), "%s/xdg-data", p->dir);
	snprintf(env_config, sizeof(env_config), "%s/xdg-config", p->dir);
	setenv("HOME", env_home, 1);
	setenv("XDG_DATA_HOME", env_data, 1);
	setenv("XDG_CONFIG_HOME", env_config, 1);
	p->pid = spawn(argv, p->log);
	wait_listening(p->port, "caddy", p->log);
	wait_tls_ready(p);
}

static void proxy_stop(struct proxy *p)
{
	ck_assert_int_eq(kill(p->pid, SIGTERM), 0);
	wait_status(p->pid);
}

/* ---- clients ---- */

struct reply {
	long status;
	curl_off_t uploaded;
};

static size_t discard(char *data, size_t size, size_t n, void *arg)
{
	(void)data;
	(void)arg;
	return size * n;
}

static CURL *client_new(const struct proxy *p, const char *path, struct curl_slist **hosts, const char *source)
{
	char resolve[64], url[128];
	CURL *c = curl_easy_init();

	ck_assert_ptr_nonnull(c);
	snprintf(resolve, sizeof(resolve), "sho.rt:%u:127.0.0.1", p->port);
	*hosts = curl_slist_append(NULL, resolve);
	snprintf(url, sizeof(url), "https://sho.rt:%u%s", p->port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_RESOLVE, *hosts);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
	if (source != NULL) {
		char iface[32];
		snprintf(iface, sizeof(iface), "host!%s", source);
		curl_easy_setopt(c, CURLOPT_INTERFACE, iface);
	}
	return c;
}

/* One request through the proxy from source (NULL: any); body may be
 * NULL; expect: send "Expect: 100-continue" with the body. */
static struct reply request(const struct proxy *p, const char *path, const char *source, const char *body, size_t len,
                            bool expect)
{
	struct curl_slist *hosts, *headers = curl_slist_append(NULL, expect ? "Expect: 100-continue" : "Expect:");
	CURL *c = client_new(p, path, &hosts, source);
	struct reply r = {0, 0};
	CURLcode rc;

	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	if (body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		/* Wait for the answer as long as it takes, not curl's 1 s. */
		curl_easy_setopt(c, CURLOPT_EXPECT_100_TIMEOUT_MS, 10000L);
	}
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
	curl_easy_getinfo(c, CURLINFO_SIZE_UPLOAD_T, &r.uploaded);
	ck_assert_msg(rc == CURLE_OK, "%s through the proxy: %s (status %ld, %lld bytes sent, expect %d)", path,
	              curl_easy_strerror(rc), r.status, (long long)r.uploaded, expect);
	curl_easy_cleanup(c);
	curl_slist_free_all(hosts);
	curl_slist_free_all(headers);
	return r;
}

/* A value from shortd's own /metrics (asked directly, not through the proxy). */
static long metric(const struct daemon *d, const char *name)
{
	long v = metric_value(NULL, d->base, name);

	ck_assert_msg(v >= 0, "no %s in /metrics", name);
	return v;
}

static void start_shortd(struct daemon *d)
{
	static const struct fixture_link links[] = {
	    {HOOK_TARGET, "hook", 307, NULL},
	    {"https://t.example/p", "abc", 0, NULL},
	    {NULL, NULL, 0, NULL},
	};

	fixture_start(d, links, (const char *const[]){"--trusted-proxy", "127.0.0.1", NULL}, NULL);
}

static void stop_shortd(struct daemon *d)
{
	ck_assert(daemon_is_running(d));
	ck_assert_int_eq(daemon_stop(d), 0);
	daemon_cleanup(d);
}

/* Row 0: nginx, row 1: Caddy. */
START_TEST(test_post_through_307_passes_the_proxy)
{
	size_t big = 2u * 1024 * 1024, huge = 5u * 1024 * 1024;
	char *body = calloc(1, huge);
	struct daemon d;
	struct proxy p;
	struct reply r;
	long before;

	ck_assert_ptr_nonnull(body);
	start_shortd(&d);
	if (_i == 0)
		nginx_start(&p, &d);
	else
		caddy_start(&p, &d);

	/* Over nginx's default 1 MiB, under --max-body: read and dropped. */
	r = request(&p, "/hook", NULL, body, big, false);
	ck_assert_int_eq(r.status, 307);
	/* Over --max-body, with Expect: shortd answers from the headers and
	 * closes; the proxy still gets the 307 to its client. */
	for (int i = 0; i < 5; i++) {
		r = request(&p, "/hook", NULL, body, huge, true);
		ck_assert_msg(r.status == 307, "try %d: %ld after %lld bytes", i, r.status, (long long)r.uploaded);
		/* Caddy passes Expect on and waits for shortd, so the body
		 * is never sent; nginx answers "100 Continue" itself, and the
		 * client sends until the 307 reaches it. */
		if (_i == 1)
			ck_assert_msg(r.uploaded == 0, "try %d: %lld bytes sent through Caddy", i,
			              (long long)r.uploaded);
	}
	r = request(&p, "/hook", NULL, body, huge, false);
	ck_assert_int_eq(r.status, 307);

	/* Keep-alive upstream: ten more requests, on ten client connections,
	 * take at most one new connection to shortd. */
	before = metric(&d, "shortd_connections_total");
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(request(&p, "/abc", NULL, NULL, 0, false).status, 302);
	ck_assert_int_le(metric(&d, "shortd_connections_total") - before, 2); /* the scrapes' own */

	proxy_stop(&p);
	free(body);
	stop_shortd(&d);
}
END_TEST

/* ---- slow clients through nginx ---- */

struct slow {
	const struct proxy *p;
	atomic_bool stop;
	int running;
};

static size_t one_byte_then_stall(char *buf, size_t size, size_t n, void *arg)
{
	bool *sent = arg;

	if (size * n == 0)
		return 0;
	if (*sent)
		return CURL_READFUNC_PAUSE;
	*sent = true;
	buf[0] = 'b';
	return 1;
}

/* SLOW_CLIENTS POSTs of 1,000 bytes that send one byte and stall, from
 * SLOW_ADDRESSES loopback addresses; runs them until stop. */
static void *slow_clients(void *arg)
{
	struct slow *s = arg;
	static bool sent[SLOW_CLIENTS];
	struct curl_slist *hosts[SLOW_CLIENTS], *headers = curl_slist_append(NULL, "Expect:");
	CURL *c[SLOW_CLIENTS];
	CURLM *m = curl_multi_init();

	for (int i = 0; i < SLOW_CLIENTS; i++) {
		char source[16];
		snprintf(source, sizeof(source), "127.0.0.%d", 2 + i % SLOW_ADDRESSES);
		c[i] = client_new(s->p, "/hook", &hosts[i], source);
		sent[i] = false;
		curl_easy_setopt(c[i], CURLOPT_POST, 1L);
		curl_easy_setopt(c[i], CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)1000);
		curl_easy_setopt(c[i], CURLOPT_READFUNCTION, one_byte_then_stall);
		curl_easy_setopt(c[i], CURLOPT_READDATA, &sent[i]);
		curl_easy_setopt(c[i], CURLOPT_HTTPHEADER, headers);
		curl_easy_setopt(c[i], CURLOPT_TIMEOUT, 0L);
		curl_multi_add_handle(m, c[i]);
	}
	while (!atomic_load(&s->stop)) {
		curl_multi_perform(m, &s->running);
		curl_multi_poll(m, NULL, 0, 50, NULL);
	}
	for (int i = 0; i < SLOW_CLIENTS; i++) {
		curl_multi_remove_handle(m, c[i]);
		curl_easy_cleanup(c[i]);
		curl_slist_free_all(hosts[i]);
	}
	curl_multi_cleanup(m);
	curl_slist_free_all(headers);
	return NULL;
}

START_TEST(test_slow_clients_behind_nginx_do_not_lock_out_others)
{
	static struct slow s;
	struct daemon d;
	struct proxy p;
	pthread_t t;
	long open = 0;

	raise_nofile(8192);
	start_shortd(&d);
	nginx_start(&p, &d);
	s.p = &p;
	atomic_store(&s.stop, false);
	ck_assert_int_eq(pthread_create(&t, NULL, slow_clients, &s), 0);
	/* Until nginx holds a connection to shortd for each (--max-connections-
	 * per-ip is 256, and every one of them comes from 127.0.0.1). */
	for (int i = 0; i < 100 && open <= SLOW_CLIENTS; i++) {
		pause_ms(50);
		open = metric(&d, "shortd_open_connections");
	}
	ck_assert_msg(open > SLOW_CLIENTS, "only %ld connections to shortd", open);
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(request(&p, "/abc", "127.0.0.9", NULL, 0, false).status, 302);
	/* A slow client's own address is not shut out either. */
	ck_assert_int_eq(request(&p, "/abc", "127.0.0.2", NULL, 0, false).status, 302);
	atomic_store(&s.stop, true);
	pthread_join(t, NULL);
	proxy_stop(&p);
	stop_shortd(&d);
}
END_TEST

/* The configurations tested here are the ones README.md shows. */
START_TEST(test_readme_shows_the_tested_configurations)
{
	static const char *const files[][2] = {{"contrib/nginx.conf", "```nginx\n"}, {"contrib/Caddyfile", "```\n"}};
	char *readme = read_file("README.md");

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char *conf = read_file(files[i][0]);
		size_t n = strlen(files[i][1]) + strlen(conf) + 4;
		char *block = malloc(n);
		ck_assert_ptr_nonnull(block);
		snprintf(block, n, "%s%s```", files[i][1], conf);
		ck_assert_msg(strstr(readme, block) != NULL, "README.md does not show %s as it is", files[i][0]);
		free(block);
		free(conf);
	}
	free(readme);
}
END_TEST

Suite *proxy_suite(void)
{
	Suite *s = suite_create("proxy");
	TCase *tc = tcase_create("proxies");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_post_through_307_passes_the_proxy, 0, 2);
	tcase_add_test(tc, test_slow_clients_behind_nginx_do_not_lock_out_others);
	suite_add_tcase(s, tc);

	tc = tcase_create("docs");
	tcase_add_test(tc, test_readme_shows_the_tested_configurations);
	suite_add_tcase(s, tc);
	return s;
}
