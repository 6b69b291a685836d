/*
 * The integration tests' harness: the real daemon as a child process, the
 * CLI and the curl command run with their output captured, an in-process
 * echo target (libmicrohttpd) and HTTP clients (libcurl, raw sockets).
 *
 * Every process started here is reaped here, and every buffer handed out is
 * freed by its *_free or *_cleanup function, so the harness stays clean under
 * AddressSanitizer. Children are started with execve on an environment built
 * before fork(), so nothing but async-signal-safe calls run in the child.
 * Proxy variables are dropped from every child's environment and libcurl is
 * told to use no proxy: all traffic stays on 127.0.0.1.
 */
#include <check.h>
#include <sqlite3.h>

#include "click_chunk.h"
#include "harness.h"
#include "link.h"
#include "pg_cluster.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define START_WAIT_MS 10000
#define STOP_WAIT_MS 15000
#define ECHO_BODY_MAX (64u * 1024 * 1024)

int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void pause_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static const char *shortd_bin(void)
{
	const char *bin = getenv("SHORTD_BIN");

	return bin != NULL && bin[0] != '\0' ? bin : "build/shortd";
}

/* ---- child processes ---- */

static bool is_proxy_var(const char *entry)
{
	static const char *const names[] = {
	    "http_proxy=", "https_proxy=", "all_proxy=", "HTTP_PROXY=", "HTTPS_PROXY=", "ALL_PROXY=", NULL};

	for (int i = 0; names[i] != NULL; i++) {
		if (strncmp(entry, names[i], strlen(names[i])) == 0)
			return true;
	}
	return false;
}

static bool same_name(const char *a, const char *b)
{
	size_t n = strcspn(b, "=");

	return strncmp(a, b, n) == 0 && a[n] == '=';
}

/* environ without proxy variables, with each "NAME=value" of extra added
 * or replacing the same name. The array is malloc'd; the strings are
 * borrowed. */
static char **child_env(const char *const *extra)
{
	size_t n = 0, m = 0, k = 0;
	char **env;

	while (environ[n] != NULL)
		n++;
	while (extra != NULL && extra[m] != NULL)
		m++;
	env = calloc(n + m + 1, sizeof(*env));
	if (env == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		bool replaced = false;
		for (size_t j = 0; j < m && !replaced; j++)
			replaced = same_name(environ[i], extra[j]);
		if (!replaced && !is_proxy_var(environ[i]))
			env[k++] = environ[i];
	}
	for (size_t j = 0; j < m; j++)
		env[k++] = (char *)extra[j];
	env[k] = NULL;
	return env;
}

/* Waits for pid up to ms; its exit status, -1 when it died by a signal,
 * -2 when it is still running. */
static int wait_exit(pid_t pid, int ms)
{
	int64_t deadline = now_ms() + ms;
	int st;

	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		if (r < 0 && errno != EINTR)
			return -1;
		if (now_ms() >= deadline)
			return -2;
		pause_ms(5);
	}
}

/* ---- the daemon ---- */

bool harness_uses_pg(void)
{
	const char *db = getenv("SHORTD_TEST_DB");

	return db != NULL && strcmp(db, "postgresql") == 0;
}

void harness_runner_start(void)
{
	if (harness_uses_pg())
		pg_cluster_start();
}

static bool is_pg_url(const char *db)
{
	return strncmp(db, "postgresql://", 13) == 0;
}

void daemon_prepare(struct daemon *d)
{
	char tmpl[] = "/tmp/shortd-test-XXXXXX";

	memset(d, 0, sizeof(*d));
	if (mkdtemp(tmpl) == NULL) {
		perror("mkdtemp");
		abort();
	}
	snprintf(d->dir, sizeof(d->dir), "%s", tmpl);
	snprintf(d->db, sizeof(d->db), "%s/shortd.db", d->dir);
	snprintf(d->log, sizeof(d->log), "%s/daemon.log", d->dir);
	if (harness_uses_pg())
		pg_db_make(d->db, sizeof(d->db));
}

/* Finds the port in the log's "listening on http://HOST:PORT" line. */
static int read_port(const char *log, unsigned *port, char *base, size_t basesize)
{
	char buf[8192];
	FILE *f = fopen(log, "r");
	int rc = -1;

	if (f == NULL)
		return -1;
	while (fgets(buf, sizeof(buf), f) != NULL) {
		const char *p = strstr(buf, "listening on http://");
		char *colon, *end;
		unsigned long v;

		if (p == NULL || strchr(p, '\n') == NULL)
			continue;
		p += strlen("listening on ");
		colon = strrchr(p, ':');
		if (colon == NULL)
			continue;
		v = strtoul(colon + 1, &end, 10);
		if (*end != '\n' || v == 0 || v > 65535)
			continue;
		*end = '\0';
		*port = (unsigned)v;
		snprintf(base, basesize, "%s", p);
		rc = 0;
		break;
	}
	fclose(f);
	return rc;
}

static void show_log(const struct daemon *d)
{
	char buf[4096];
	FILE *f = fopen(d->log, "r");
	size_t n;

	if (f == NULL)
		return;
	fprintf(stderr, "--- %s ---\n", d->log);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, stderr);
	fclose(f);
}

int daemon_start(struct daemon *d, const char *const *args, const char *const *env)
{
	const char *fixed[] = {shortd_bin(), "serve", "--listen", "127.0.0.1:0", "--db", d->db};
	size_t nfixed = sizeof(fixed) / sizeof(fixed[0]), nargs = 0;
	char **argv = NULL, **envp = NULL;
	int64_t deadline;
	pid_t pid;
	int logfd = -1, rc = -1;

	while (args != NULL && args[nargs] != NULL)
		nargs++;
	argv = calloc(nfixed + nargs + 1, sizeof(*argv));
	envp = child_env(env);
	logfd = open(d->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (argv == NULL || envp == NULL || logfd < 0)
		goto out;
	for (size_t i = 0; i < nfixed; i++)
		argv[i] = (char *)fixed[i];
	for (size_t i = 0; i < nargs; i++)
		argv[nfixed + i] = (char *)args[i];
	pid = fork();
	if (pid < 0)
		goto out;
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(logfd, 1);
		dup2(logfd, 2);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	d->pid = pid;
	deadline = now_ms() + START_WAIT_MS;
	while (read_port(d->log, &d->port, d->base, sizeof(d->base)) != 0) {
		if (wait_exit(pid, 0) != -2) {
			d->pid = 0;
			fprintf(stderr, "daemon_start: %s exited before listening\n", argv[0]);
			show_log(d);
			goto out;
		}
		if (now_ms() >= deadline) {
			fprintf(stderr, "daemon_start: no 'listening on' line within %d ms\n", START_WAIT_MS);
			show_log(d);
			daemon_kill(d);
			goto out;
		}
		pause_ms(10);
	}
	rc = 0;
out:
	if (logfd >= 0)
		close(logfd);
	free(envp);
	free(argv);
	return rc;
}

int daemon_stop(struct daemon *d)
{
	return daemon_stop_with(d, SIGTERM);
}

int daemon_stop_with(struct daemon *d, int sig)
{
	int rc;

	if (d->pid <= 0)
		return -1;
	kill(d->pid, sig);
	rc = wait_exit(d->pid, STOP_WAIT_MS);
	if (rc == -2) {
		fprintf(stderr, "daemon_stop: pid %d did not exit within %d ms\n", (int)d->pid, STOP_WAIT_MS);
		daemon_kill(d);
		return -1;
	}
	if (rc != 0)
		show_log(d);
	d->pid = 0;
	return rc;
}

void daemon_kill(struct daemon *d)
{
	if (d->pid <= 0)
		return;
	kill(d->pid, SIGKILL);
	while (waitpid(d->pid, NULL, 0) < 0 && errno == EINTR)
		;
	d->pid = 0;
}

bool daemon_is_running(const struct daemon *d)
{
	return d->pid > 0 && waitpid(d->pid, NULL, WNOHANG) == 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void daemon_cleanup(struct daemon *d)
{
	daemon_kill(d);
	if (d->dir[0] != '\0')
		nftw(d->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	d->dir[0] = '\0';
	if (is_pg_url(d->db))
		pg_db_drop(d->db);
}

/* ---- commands with captured output ---- */

struct sink {
	char *buf;
	size_t size; /* capacity including the NUL; 0: discard */
	size_t len;
};

static void sink_add(struct sink *s, const char *data, size_t n)
{
	if (s->size == 0)
		return;
	if (n > s->size - 1 - s->len)
		n = s->size - 1 - s->len;
	memcpy(s->buf + s->len, data, n);
	s->len += n;
	s->buf[s->len] = '\0';
}

/* Runs file (searched in PATH) with argv and envp; the child's stdout and
 * stderr go to out and err (NULL: err is inherited). Exit status or -1. */
static int run_captured(const char *file, char *const *argv, char *const *envp, struct sink *out, struct sink *err)
{
	int po[2] = {-1, -1}, pe[2] = {-1, -1};
	struct pollfd fds[2];
	pid_t pid;
	int st, open_fds;

	if (pipe2(po, O_CLOEXEC) != 0 || (err != NULL && pipe2(pe, O_CLOEXEC) != 0))
		goto fail;
	pid = fork();
	if (pid < 0)
		goto fail;
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(po[1], 1);
		if (err != NULL)
			dup2(pe[1], 2);
		execvpe(file, argv, envp);
		_exit(127);
	}
	close(po[1]);
	po[1] = -1;
	if (err != NULL) {
		close(pe[1]);
		pe[1] = -1;
	}
	fds[0] = (struct pollfd){po[0], POLLIN, 0};
	fds[1] = (struct pollfd){pe[0], POLLIN, 0};
	open_fds = err != NULL ? 2 : 1;
	while (open_fds > 0) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			char buf[65536];
			ssize_t n;

			if (fds[i].fd < 0 || fds[i].revents == 0)
				continue;
			n = read(fds[i].fd, buf, sizeof(buf));
			if (n > 0) {
				sink_add(i == 0 ? out : err, buf, (size_t)n);
			} else if (n == 0 || errno != EINTR) {
				close(fds[i].fd);
				fds[i].fd = -1;
				open_fds--;
			}
		}
	}
	for (int i = 0; i < 2; i++) {
		if (fds[i].fd >= 0)
			close(fds[i].fd);
	}
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
fail:
	for (int i = 0; i < 2; i++) {
		if (po[i] >= 0)
			close(po[i]);
		if (pe[i] >= 0)
			close(pe[i]);
	}
	return -1;
}

/* argv with first prepended to the NULL-terminated args (malloc'd array). */
static char **make_argv(const char *first, const char *const *args)
{
	size_t n = 0;
	char **argv;

	while (args != NULL && args[n] != NULL)
		n++;
	argv = calloc(n + 2, sizeof(*argv));
	if (argv == NULL)
		return NULL;
	argv[0] = (char *)first;
	for (size_t i = 0; i < n; i++)
		argv[i + 1] = (char *)args[i];
	return argv;
}

int shortd_run(const char *db, char *out, size_t outsize, char *err, size_t errsize, const char *const *args)
{
	char dbvar[512];
	const char *extra[] = {dbvar, NULL};
	struct sink so = {out, outsize, 0}, se = {err, errsize, 0};
	char **argv = make_argv(shortd_bin(), args);
	char **envp;
	int rc = -1;

	snprintf(dbvar, sizeof(dbvar), "SHORTD_DB=%s", db != NULL ? db : "");
	envp = child_env(db != NULL ? extra : NULL);
	if (outsize > 0)
		out[0] = '\0';
	if (errsize > 0)
		err[0] = '\0';
	if (argv != NULL && envp != NULL)
		rc = run_captured(argv[0], argv, envp, &so, &se);
	free(envp);
	free(argv);
	return rc;
}

int curl_run_capture(char *out, size_t outsize, size_t *out_len, const char *const *args)
{
	struct sink so = {out, outsize, 0};
	char **argv = make_argv("curl", args);
	char **envp = child_env(NULL);
	int rc = -1;

	if (outsize > 0)
		out[0] = '\0';
	if (argv != NULL && envp != NULL)
		rc = run_captured("curl", argv, envp, &so, NULL);
	if (out_len != NULL)
		*out_len = so.len;
	free(envp);
	free(argv);
	return rc;
}

int curl_run(char *out, size_t outsize, const char *const *args)
{
	return curl_run_capture(out, outsize, NULL, args);
}

/* ---- the echo target ---- */

struct echo_req {
	char *buf;
	size_t len;
	size_t cap;
	bool too_big;
	bool started;
	char *uri; /* raw request target, query included */
};

static bool echo_append(struct echo_req *r, const char *data, size_t n)
{
	if (r->len + n > ECHO_BODY_MAX) {
		r->too_big = true;
		return true;
	}
	if (r->len + n > r->cap) {
		size_t cap = r->cap ? r->cap : 4096;
		char *nb;
		while (cap < r->len + n)
			cap *= 2;
		nb = realloc(r->buf, cap);
		if (nb == NULL)
			return false;
		r->buf = nb;
		r->cap = cap;
	}
	memcpy(r->buf + r->len, data, n);
	r->len += n;
	return true;
}

static void *echo_on_uri(void *cls, const char *uri, struct MHD_Connection *con)
{
	struct echo_req *r = calloc(1, sizeof(*r));

	(void)cls;
	(void)con;
	if (r != NULL)
		r->uri = strdup(uri);
	return r;
}

static void echo_on_completed(void *cls, struct MHD_Connection *con, void **req_cls,
                              enum MHD_RequestTerminationCode toe)
{
	struct echo_req *r = *req_cls;

	(void)cls;
	(void)con;
	(void)toe;
	if (r == NULL)
		return;
	free(r->buf);
	free(r->uri);
	free(r);
	*req_cls = NULL;
}

static enum MHD_Result echo_on_request(void *cls, struct MHD_Connection *con, const char *url, const char *method,
                                       const char *version, const char *upload_data, size_t *upload_data_size,
                                       void **req_cls)
{
	struct echo_req *r = *req_cls;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char *text;
	size_t head;

	(void)cls;
	(void)url;
	(void)version;
	if (r == NULL || r->uri == NULL)
		return MHD_NO;
	if (!r->started) {
		r->started = true;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		if (!echo_append(r, upload_data, *upload_data_size))
			return MHD_NO;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (r->too_big)
		return MHD_NO;
	head = strlen(method) + 1 + strlen(r->uri) + 1;
	text = malloc(head + r->len + 1);
	if (text == NULL)
		return MHD_NO;
	snprintf(text, head + 1, "%s %s\n", method, r->uri);
	if (r->len > 0)
		memcpy(text + head, r->buf, r->len);
	resp = MHD_create_response_from_buffer(head + r->len, text, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream");
	ret = MHD_queue_response(con, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

int echo_start(struct echo *e)
{
	struct sockaddr_in addr;
	const union MHD_DaemonInfo *info;
	struct MHD_Daemon *d;

	memset(e, 0, sizeof(*e));
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = 0;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, echo_on_request, NULL,
	                     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_CONNECTION_TIMEOUT,
	                     (unsigned int)30, MHD_OPTION_URI_LOG_CALLBACK, echo_on_uri, NULL,
	                     MHD_OPTION_NOTIFY_COMPLETED, echo_on_completed, NULL, MHD_OPTION_END);
	if (d == NULL)
		return -1;
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	if (info == NULL || info->port == 0) {
		MHD_stop_daemon(d);
		return -1;
	}
	e->daemon = d;
	e->port = info->port;
	snprintf(e->url, sizeof(e->url), "http://127.0.0.1:%u", e->port);
	return 0;
}

void echo_stop(struct echo *e)
{
	if (e->daemon != NULL)
		MHD_stop_daemon(e->daemon);
	e->daemon = NULL;
}

/* ---- libcurl ---- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct growbuf {
	char *data;
	size_t len;
	size_t cap;
	bool failed;
};

static void grow_add(struct growbuf *g, const char *data, size_t n)
{
	if (g->failed)
		return;
	if (g->len + n + 1 > g->cap) {
		size_t cap = g->cap ? g->cap : 1024;
		char *nd;
		while (cap < g->len + n + 1)
			cap *= 2;
		nd = realloc(g->data, cap);
		if (nd == NULL) {
			g->failed = true;
			return;
		}
		g->data = nd;
		g->cap = cap;
	}
	memcpy(g->data + g->len, data, n);
	g->len += n;
	g->data[g->len] = '\0';
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
	grow_add(userdata, data, size * nmemb);
	return size * nmemb;
}

/* Keeps only the last response's header block: a status line starts anew. */
static size_t on_header(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct growbuf *g = userdata;
	size_t n = size * nmemb;

	if (n >= 5 && strncmp(data, "HTTP/", 5) == 0)
		g->len = 0;
	grow_add(g, data, n);
	return n;
}

int http_client_init(struct http_client *c)
{
	pthread_once(&curl_once, curl_init_once);
	c->curl = curl_easy_init();
	return c->curl != NULL ? 0 : -1;
}

void http_client_cleanup(struct http_client *c)
{
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	c->curl = NULL;
}

int http_client_do(struct http_client *c, const char *method, const char *url, const void *body, size_t body_len,
                   const char *const *headers, bool follow, struct http_result *out)
{
	CURL *h = c->curl;
	struct curl_slist *list = NULL;
	struct growbuf hb = {0}, bb = {0};
	curl_off_t up = 0;
	CURLcode cc;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	curl_easy_reset(h);
	for (int i = 0; headers != NULL && headers[i] != NULL; i++) {
		struct curl_slist *n = curl_slist_append(list, headers[i]);
		if (n == NULL)
			goto out;
		list = n;
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROXY, "");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &bb);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &hb);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, follow ? 1L : 0L);
	curl_easy_setopt(h, CURLOPT_POSTREDIR, 0L);
	if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (body != NULL) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		if (strcmp(method, "POST") != 0)
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	} else if (strcmp(method, "GET") != 0) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	}
	cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
	curl_easy_getinfo(h, CURLINFO_SIZE_UPLOAD_T, &up);
	curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &out->connects);
	out->uploaded = (double)up;
	if (cc != CURLE_OK) {
		fprintf(stderr, "http_do %s %s: %s\n", method, url, curl_easy_strerror(cc));
		goto out;
	}
	if (hb.failed || bb.failed)
		goto out;
	if (hb.data == NULL)
		grow_add(&hb, "", 0);
	if (bb.data == NULL)
		grow_add(&bb, "", 0);
	if (hb.failed || bb.failed)
		goto out;
	out->headers = hb.data;
	out->body = bb.data;
	out->body_len = bb.len;
	hb.data = NULL;
	bb.data = NULL;
	rc = 0;
out:
	/* Leave no pointer to this call's buffers in the reused handle. */
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
	curl_slist_free_all(list);
	free(hb.data);
	free(bb.data);
	return rc;
}

int http_do(const char *method, const char *url, const void *body, size_t body_len, const char *const *headers,
            bool follow, struct http_result *out)
{
	struct http_client c;
	int rc;

	memset(out, 0, sizeof(*out));
	if (http_client_init(&c) != 0)
		return -1;
	rc = http_client_do(&c, method, url, body, body_len, headers, follow, out);
	http_client_cleanup(&c);
	return rc;
}

void http_result_free(struct http_result *r)
{
	if (r == NULL)
		return;
	free(r->headers);
	free(r->body);
	r->headers = NULL;
	r->body = NULL;
	r->body_len = 0;
}

long metric_value(struct http_client *c, const char *base, const char *name)
{
	size_t nlen = strlen(name);
	struct http_result r;
	char url[256];
	long v = -1;

	snprintf(url, sizeof(url), "%s/metrics", base);
	if ((c != NULL ? http_client_do(c, "GET", url, NULL, 0, NULL, false, &r)
	               : http_do("GET", url, NULL, 0, NULL, false, &r)) != 0)
		return -1;
	for (const char *line = r.body; line != NULL && *line != '\0';) {
		const char *eol = strchr(line, '\n');
		if (strncmp(line, name, nlen) == 0 && line[nlen] == ' ')
			v = strtol(line + nlen + 1, NULL, 10);
		line = eol != NULL ? eol + 1 : NULL;
	}
	http_result_free(&r);
	return v;
}

int http_header(const struct http_result *r, const char *name, char *out, size_t outsize)
{
	size_t nlen = strlen(name);
	const char *p = r->headers;

	if (p == NULL)
		return -1;
	while (*p != '\0') {
		const char *eol = strchr(p, '\n');
		size_t linelen = eol != NULL ? (size_t)(eol - p) : strlen(p);

		if (linelen > nlen && strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
			const char *v = p + nlen + 1;
			const char *end = p + linelen;
			size_t n;
			while (v < end && (*v == ' ' || *v == '\t'))
				v++;
			while (end > v && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
				end--;
			n = (size_t)(end - v);
			if (outsize == 0)
				return 0;
			if (n >= outsize)
				n = outsize - 1;
			memcpy(out, v, n);
			out[n] = '\0';
			return 0;
		}
		if (eol == NULL)
			break;
		p = eol + 1;
	}
	return -1;
}

void assert_redirects_to(const struct daemon *d, const char *code, const char *location)
{
	char url[256], loc[1024];
	struct http_result r;

	snprintf(url, sizeof(url), "%s/%s", d->base, code);
	ck_assert_int_eq(http_do("GET", url, NULL, 0, NULL, false, &r), 0);
	ck_assert_int_eq(r.status, 302);
	ck_assert_int_eq(http_header(&r, "Location", loc, sizeof(loc)), 0);
	ck_assert_str_eq(loc, location);
	http_result_free(&r);
}

/* ---- raw sockets ---- */

int raw_connect(unsigned port)
{
	struct sockaddr_in addr;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int raw_send(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads into resp[*len..] until done(resp) says a whole answer is there, the
 * peer closes, the deadline passes or resp is full. 1 when the peer closed
 * (or reset), 0 otherwise. */
static int read_until(int fd, char *resp, size_t respsize, size_t *len, int64_t deadline,
                      bool (*done)(const char *, size_t))
{
	while (*len + 1 < respsize) {
		struct pollfd p = {fd, POLLIN, 0};
		int64_t left = deadline - now_ms();
		ssize_t n;

		if (done != NULL && done(resp, *len))
			return 0;
		if (left <= 0)
			return 0;
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		n = recv(fd, resp + *len, respsize - 1 - *len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 1;
		*len += (size_t)n;
		resp[*len] = '\0';
	}
	return 0;
}

long raw_request_ex(unsigned port, const void *req, size_t len, char *resp, size_t respsize, int timeout_ms,
                    bool *peer_closed)
{
	int64_t deadline = now_ms() + timeout_ms;
	size_t got = 0;
	int fd = raw_connect(port);
	int closed;

	if (respsize > 0)
		resp[0] = '\0';
	if (peer_closed != NULL)
		*peer_closed = false;
	if (fd < 0)
		return -1;
	/* A peer that answers early and closes may refuse the rest: read anyway. */
	raw_send(fd, req, len);
	closed = read_until(fd, resp, respsize, &got, deadline, NULL);
	if (peer_closed != NULL)
		*peer_closed = closed == 1;
	close(fd);
	return (long)got;
}

long raw_request(unsigned port, const void *req, size_t len, char *resp, size_t respsize, int timeout_ms)
{
	return raw_request_ex(port, req, len, resp, respsize, timeout_ms, NULL);
}

/* A whole response is there: headers, then Content-Length bytes of body
 * (none when the length is absent, as for the daemon's answers to HEAD). */
static bool response_complete(const char *resp, size_t len)
{
	const char *end = memmem(resp, len, "\r\n\r\n", 4);
	const char *cl;
	size_t head;

	if (end == NULL)
		return false;
	head = (size_t)(end - resp) + 4;
	cl = strcasestr(resp, "\r\ncontent-length:");
	if (cl == NULL || cl > end)
		return true;
	return len >= head + strtoul(cl + 17, NULL, 10);
}

long raw_read_response(int fd, char *resp, size_t respsize, int timeout_ms)
{
	size_t got = 0;

	if (respsize > 0)
		resp[0] = '\0';
	read_until(fd, resp, respsize, &got, now_ms() + timeout_ms, response_complete);
	return (long)got;
}

void sqlfile_exec(const char *db, const char *sql)
{
	sqlite3 *h = NULL;

	if (is_pg_url(db)) {
		pg_sql_exec(db, sql);
		return;
	}
	ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
	ck_assert_msg(sqlite3_exec(h, sql, NULL, NULL, NULL) == SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(h));
	ck_assert_int_eq(sqlite3_close(h), SQLITE_OK);
}

/* count(data, id or slot, field) of a blob of kind (user data); field -1:
 * 1 when the slot has a record. NULL for an absent time. */
static void counts_field(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const struct click_chunk_kind *kind = sqlite3_user_data(ctx);
	const unsigned char *b = sqlite3_value_blob(argv[0]);
	size_t len = (size_t)sqlite3_value_bytes(argv[0]), pos = 0;
	int64_t slot = sqlite3_value_int64(argv[1]) & (CLICK_CHUNK_LINKS - 1), v[CLICK_CHUNK_FIELDS_MAX];
	int field = sqlite3_value_int(argv[2]);
	unsigned s;

	(void)argc;
	if (field < 0) {
		bool have = false;
		if (!click_chunk_is_valid(kind, b, len)) {
			sqlite3_result_error(ctx, "corrupt click counts", -1);
			return;
		}
		while (!have && click_chunk_next(kind, b, len, &pos, &s, v))
			have = s == (unsigned)slot;
		sqlite3_result_int(ctx, have);
		return;
	}
	if (field >= kind->fields || click_chunk_get(kind, b, len, (unsigned)slot, v) != CLICK_CHUNK_OK) {
		sqlite3_result_error(ctx, "corrupt click counts or no such field", -1);
		return;
	}
	if (v[field] == LINK_NO_TIME)
		sqlite3_result_null(ctx);
	else
		sqlite3_result_int64(ctx, v[field]);
}

int sqlite_counts_open(const char *path, int flags, sqlite3 **db)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_open_v2(path, db, flags, NULL);
	bool packed = false;

	if (rc != SQLITE_OK)
		return rc;
	sqlite3_busy_timeout(*db, 5000);
	if (sqlite3_prepare_v2(*db, "SELECT 1 FROM main.sqlite_schema WHERE name = 'click_totals'", -1, &st, NULL) ==
	    SQLITE_OK)
		packed = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	if (!packed)
		return SQLITE_OK;
	sqlite3_create_function(*db, "test_totals", 3, SQLITE_UTF8, (void *)&click_chunk_totals, counts_field, NULL,
	                        NULL);
	sqlite3_create_function(*db, "test_day", 3, SQLITE_UTF8, (void *)&click_chunk_day, counts_field, NULL, NULL);
	return sqlite3_exec(*db,
	                    "CREATE TEMP VIEW links AS SELECT l.*, "
	                    "coalesce(test_totals(t.data, l.id, 0), 0) AS clicks, "
	                    "coalesce(test_totals(t.data, l.id, 1), 0) AS bot_clicks, "
	                    "test_totals(t.data, l.id, 2) AS last_click_at "
	                    "FROM main.links AS l LEFT JOIN main.click_totals AS t ON t.chunk = l.id >> 7;"
	                    "CREATE TEMP VIEW clicks_daily AS "
	                    "WITH RECURSIVE s(slot) AS (SELECT 0 UNION ALL SELECT slot + 1 FROM s WHERE slot < 127) "
	                    "SELECT (d.key >> 20 << 7) + s.slot AS link_id, d.key & 1048575 AS day, "
	                    "test_day(d.data, s.slot, 0) AS clicks, test_day(d.data, s.slot, 1) AS bot_clicks "
	                    "FROM main.click_days AS d, s WHERE test_day(d.data, s.slot, -1) = 1;",
	                    NULL, NULL, NULL);
}

/* Applies c to the row key of table (click_totals or click_days, whose
 * key column is named) on h, as the daemon writes it. */
static void packed_apply(sqlite3 *h, const char *table, const char *key_col, const struct click_chunk_kind *kind,
                         const struct click_chunk_change *c, bool set)
{
	char sql[160];
	sqlite3_stmt *st = NULL;
	const unsigned char *old;
	size_t old_len, len = 0;
	unsigned char out[CLICK_CHUNK_MAX];

	snprintf(sql, sizeof(sql), "SELECT data FROM %s WHERE %s = ?1", table, key_col);
	ck_assert_int_eq(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_int64(st, 1, c->key);
	old = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_blob(st, 0) : NULL;
	old_len = old != NULL ? (size_t)sqlite3_column_bytes(st, 0) : 0;
	ck_assert_int_eq(click_chunk_apply(kind, old, old_len, c, 1, set, out, &len), CLICK_CHUNK_OK);
	sqlite3_finalize(st);
	if (len > 0)
		snprintf(sql, sizeof(sql), "INSERT OR REPLACE INTO %s (%s, data) VALUES (?1, ?2)", table, key_col);
	else
		snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE %s = ?1", table, key_col);
	ck_assert_int_eq(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_int64(st, 1, c->key);
	if (len > 0)
		sqlite3_bind_blob(st, 2, out, (int)len, SQLITE_STATIC);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

/* Opens the SQLite file db in a write transaction, with the id of the link
 * with code. */
static sqlite3 *packed_begin(const char *db, const char *code, int64_t *id)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;

	ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
	sqlite3_busy_timeout(h, 5000);
	ck_assert_int_eq(sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(h, "SELECT id FROM links WHERE code = ?1", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
	ck_assert_msg(sqlite3_step(st) == SQLITE_ROW, "no link %s in %s", code, db);
	*id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return h;
}

static void packed_commit(sqlite3 *h)
{
	ck_assert_int_eq(sqlite3_exec(h, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_close(h), SQLITE_OK);
}

void sqlfile_set_clicks(const char *db, const char *code, int64_t clicks)
{
	char sql[256];
	sqlite3 *h;
	sqlite3_stmt *st = NULL;
	int64_t id;
	struct click_chunk_change c = {0};

	if (is_pg_url(db)) {
		snprintf(sql, sizeof(sql), "UPDATE links SET clicks = %lld WHERE code = '%s'", (long long)clicks, code);
		pg_sql_exec(db, sql);
		return;
	}
	h = packed_begin(db, code, &id);
	c.key = id >> CLICK_CHUNK_SHIFT;
	c.slot = (unsigned)(id & (CLICK_CHUNK_LINKS - 1));
	ck_assert_int_eq(sqlite3_prepare_v2(h, "SELECT data FROM click_totals WHERE chunk = ?1", -1, &st, NULL),
	                 SQLITE_OK);
	sqlite3_bind_int64(st, 1, c.key);
	if (sqlite3_step(st) == SQLITE_ROW)
		ck_assert_int_eq(click_chunk_get(&click_chunk_totals, sqlite3_column_blob(st, 0),
		                                 (size_t)sqlite3_column_bytes(st, 0), c.slot, c.v),
		                 CLICK_CHUNK_OK);
	else
		memcpy(c.v, click_chunk_totals.empty, sizeof(c.v));
	sqlite3_finalize(st);
	c.v[0] = clicks;
	packed_apply(h, "click_totals", "chunk", &click_chunk_totals, &c, true);
	packed_commit(h);
}

void sqlfile_add_clicks(const char *db, const char *code, int64_t day, int64_t clicks, int64_t bot_clicks)
{
	char sql[512];
	sqlite3 *h;
	int64_t id;
	struct click_chunk_change c = {0};

	if (is_pg_url(db)) {
		snprintf(
		    sql, sizeof(sql),
		    "INSERT INTO clicks_daily (link_id, day, clicks, bot_clicks) SELECT id, %lld, %lld, %lld FROM "
		    "links WHERE code = '%s' ON CONFLICT (link_id, day) DO UPDATE SET clicks = clicks_daily.clicks + "
		    "excluded.clicks, bot_clicks = clicks_daily.bot_clicks + excluded.bot_clicks;"
		    "UPDATE links SET clicks = clicks + %lld, bot_clicks = bot_clicks + %lld WHERE code = '%s'",
		    (long long)day, (long long)clicks, (long long)bot_clicks, code, (long long)clicks,
		    (long long)bot_clicks, code);
		pg_sql_exec(db, sql);
		return;
	}
	ck_assert_msg(day >= 0 && day < 1 << 20, "day %lld is out of the packed rows' range", (long long)day);
	h = packed_begin(db, code, &id);
	c.key = id >> CLICK_CHUNK_SHIFT;
	c.slot = (unsigned)(id & (CLICK_CHUNK_LINKS - 1));
	c.v[0] = clicks;
	c.v[1] = bot_clicks;
	c.v[2] = LINK_NO_TIME;
	packed_apply(h, "click_totals", "chunk", &click_chunk_totals, &c, false);
	c.key = (id >> CLICK_CHUNK_SHIFT) << 20 | day;
	packed_apply(h, "click_days", "key", &click_chunk_day, &c, false);
	packed_commit(h);
}

int sqlfile_int(const char *db, const char *sql)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	int v;

	if (is_pg_url(db)) {
		int64_t n = pg_sql_int(db, sql);
		ck_assert_msg(n != -999, "%s: no row", sql);
		return (int)n;
	}
	ck_assert_int_eq(sqlite_counts_open(db, SQLITE_OPEN_READWRITE, &h), SQLITE_OK);
	ck_assert_msg(sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(h));
	ck_assert_msg(sqlite3_step(st) == SQLITE_ROW, "%s: no row", sql);
	v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return v;
}

void tempdb_make(const char *tag, char *dir, size_t dirsize, char *path, size_t pathsize)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, dirsize, "%s/shortd-%s-XXXXXX", tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp", tag);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_lt(snprintf(path, pathsize, "%s/test.db", dir), (int)pathsize);
}

void tempdb_remove(const char *dir, const char *path)
{
	static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
	char p[1100];

	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", path, suffixes[i]);
		unlink(p);
	}
	rmdir(dir);
}

void raise_nofile(unsigned long want)
{
	struct rlimit rl;

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur >= want)
		return;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want)
		rl.rlim_max = want;
	rl.rlim_cur = want;
	ck_assert_msg(setrlimit(RLIMIT_NOFILE, &rl) == 0, "cannot raise RLIMIT_NOFILE to %lu: %s", want,
	              strerror(errno));
}

/* ---- the daemon-plus-links fixture ---- */

void create_link(const struct daemon *d, const char *url, const char *code, int status, const char *const *extra)
{
	const char *args[32];
	char st[16], out[1024], err[1024], want[512];
	int n = 0, rc;

	args[n++] = "add";
	args[n++] = url;
	args[n++] = "--code";
	args[n++] = code;
	if (d->base[0] != '\0') {
		args[n++] = "--base-url";
		args[n++] = d->base;
	}
	if (status != 0) {
		snprintf(st, sizeof(st), "%d", status);
		args[n++] = "--status";
		args[n++] = st;
	}
	for (int i = 0; extra != NULL && extra[i] != NULL; i++) {
		ck_assert_int_lt(n, 31);
		args[n++] = extra[i];
	}
	args[n] = NULL;
	rc = shortd_run(d->db, out, sizeof(out), err, sizeof(err), args);
	ck_assert_msg(rc == 0, "shortd add %s --code %s: exit %d: %s", url, code, rc, err);
	if (d->base[0] != '\0') {
		snprintf(want, sizeof(want), "%s/%s\n", d->base, code);
		ck_assert_str_eq(out, want);
	}
}

/* Copies the file from to to (made with mode); 0 or -1. */
static int copy_file(const char *from, const char *to, mode_t mode)
{
	char buf[65536];
	int in = open(from, O_RDONLY | O_CLOEXEC), out = -1, rc = -1;
	ssize_t n;

	if (in < 0)
		return -1;
	out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (out < 0)
		goto done;
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		if (write(out, buf, (size_t)n) != n)
			goto done;
	}
	rc = n == 0 ? 0 : -1;
done:
	if (out >= 0 && close(out) != 0)
		rc = -1;
	close(in);
	if (rc != 0)
		unlink(to);
	return rc;
}

/*
 * Makes db as shortd init does, from a copy of the database that shortd init
 * made for this binary (fixture-init.db beside it, made again when the
 * binary is newer): init's writes and fsyncs cost more than a copy, once
 * per test. init writes nothing that differs between two databases. 0, or -1
 * when there is no such copy (the caller runs init itself).
 */
static int init_from_template(const char *db)
{
	char tpl[512], tmp[540], out[512], err[1024];
	const char *bin = shortd_bin(), *slash = strrchr(bin, '/');
	struct stat sb, st;

	if (stat(bin, &sb) != 0)
		return -1;
	if (slash != NULL)
		snprintf(tpl, sizeof(tpl), "%.*s/fixture-init.db", (int)(slash - bin), bin);
	else
		snprintf(tpl, sizeof(tpl), "fixture-init.db");
	if (stat(tpl, &st) != 0 || st.st_mtim.tv_sec < sb.st_mtim.tv_sec ||
	    (st.st_mtim.tv_sec == sb.st_mtim.tv_sec && st.st_mtim.tv_nsec <= sb.st_mtim.tv_nsec)) {
		snprintf(tmp, sizeof(tmp), "%s.%d", tpl, (int)getpid());
		unlink(tmp);
		if (shortd_run(tmp, out, sizeof(out), err, sizeof(err), (const char *const[]){"init", NULL}) != 0 ||
		    rename(tmp, tpl) != 0 || stat(tpl, &st) != 0) {
			unlink(tmp);
			return -1;
		}
	}
	return copy_file(tpl, db, st.st_mode & 0777);
}

void fixture_make_db(struct daemon *d, const struct fixture_link *links)
{
	char out[512], err[1024];
	int rc;

	daemon_prepare(d);
	if (is_pg_url(d->db) || init_from_template(d->db) != 0) {
		rc = shortd_run(d->db, out, sizeof(out), err, sizeof(err), (const char *const[]){"init", NULL});
		ck_assert_msg(rc == 0, "shortd init: exit %d: %s", rc, err);
	}
	for (size_t i = 0; links != NULL && links[i].url != NULL; i++)
		create_link(d, links[i].url, links[i].code, links[i].status, links[i].extra);
}

void fixture_start(struct daemon *d, const struct fixture_link *links, const char *const *args, const char *const *env)
{
	fixture_make_db(d, links);
	ck_assert_int_eq(daemon_start(d, args, env), 0);
}

void fixture_stop(struct daemon *d)
{
	ck_assert_int_eq(daemon_stop(d), 0);
	daemon_cleanup(d);
}

void assert_health_gone_body(const char *body)
{
	static const char head[] = "store unavailable: the database file was moved, deleted or replaced\n"
	                           "redirects: links this node has cached answer as they were; others answer 503\n"
	                           "writes: answer 503\n"
	                           "clicks: ";
	static const char tail[] = " wait in memory, written when the store is back\n";
	const char *p = body + sizeof(head) - 1;

	ck_assert_msg(strncmp(body, head, sizeof(head) - 1) == 0, "healthz: %s", body);
	ck_assert_msg(*p >= '0' && *p <= '9', "healthz: %s", body);
	while (*p >= '0' && *p <= '9')
		p++;
	ck_assert_str_eq(p, tail);
}
