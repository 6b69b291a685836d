/*
 * A malloc-counting LD_PRELOAD for the benchmark: every malloc, calloc,
 * realloc and aligned allocation is counted and attributed to the first
 * caller on the stack that is not the C library itself (or this file), so a
 * strdup() called by libmicrohttpd counts for libmicrohttpd and one called
 * by shortd counts for shortd. Counting only; the memory comes from glibc.
 *
 * shortd's own allocations are split by thread: on libmicrohttpd's threads
 * (named "MHD-...": the request path) or on shortd's background threads
 * (the click flusher).
 *
 * SIGUSR1 appends one line of totals to $MALLOC_COUNT_OUT (or stderr):
 *   shortd=N shortd_background=N libmicrohttpd=N libsqlite3=N other=N
 * bench/run.sh takes one snapshot before and one after a fixed number of
 * requests and divides the difference by the requests.
 */
#include <dlfcn.h>
#include <execinfo.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void *__libc_memalign(size_t align, size_t size);

enum owner { OWNER_SHORTD, OWNER_SHORTD_BACKGROUND, OWNER_MHD, OWNER_SQLITE, OWNER_OTHER, OWNER_COUNT };

static const char *const owner_name[OWNER_COUNT] = {"shortd", "shortd_background", "libmicrohttpd", "libsqlite3",
						    "other"};
static _Atomic unsigned long counts[OWNER_COUNT];
static _Thread_local int busy; /* inside our own bookkeeping: do not recurse */
static int out_fd = 2;

static bool is_runtime(const char *file)
{
	return strstr(file, "/libc.so") != NULL || strstr(file, "/ld-linux") != NULL ||
	       strstr(file, "malloc_count") != NULL || strstr(file, "/libgcc_s") != NULL;
}

static enum owner owner_of(const char *file)
{
	if (strstr(file, "libmicrohttpd") != NULL)
		return OWNER_MHD;
	if (strstr(file, "libsqlite3") != NULL)
		return OWNER_SQLITE;
	if (strstr(file, ".so") != NULL)
		return OWNER_OTHER;
	return OWNER_SHORTD; /* the main executable: shortd links its own code statically */
}

static bool on_request_thread(void)
{
	char name[17] = "";

	prctl(PR_GET_NAME, name, 0, 0, 0);
	return strncmp(name, "MHD", 3) == 0;
}

static void count(void)
{
	void *frames[24];
	enum owner who = OWNER_OTHER;
	int n;

	if (busy)
		return;
	busy = 1;
	n = backtrace(frames, 24);
	for (int i = 1; i < n; i++) {
		Dl_info info;
		if (dladdr(frames[i], &info) == 0 || info.dli_fname == NULL)
			continue;
		if (is_runtime(info.dli_fname))
			continue;
		who = owner_of(info.dli_fname);
		if (who == OWNER_SHORTD && !on_request_thread())
			who = OWNER_SHORTD_BACKGROUND;
		break;
	}
	atomic_fetch_add_explicit(&counts[who], 1, memory_order_relaxed);
	busy = 0;
}

void *malloc(size_t size)
{
	count();
	return __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
	count();
	return __libc_calloc(n, size);
}

void *realloc(void *p, size_t size)
{
	count();
	return __libc_realloc(p, size);
}

void *memalign(size_t align, size_t size)
{
	count();
	return __libc_memalign(align, size);
}

void *aligned_alloc(size_t align, size_t size)
{
	count();
	return __libc_memalign(align, size);
}

int posix_memalign(void **out, size_t align, size_t size)
{
	void *p;

	count();
	p = __libc_memalign(align, size);
	if (p == NULL)
		return 12; /* ENOMEM */
	*out = p;
	return 0;
}

static void on_usr1(int sig)
{
	char line[256];
	size_t len = 0;

	(void)sig;
	for (int i = 0; i < OWNER_COUNT; i++) {
		unsigned long v = atomic_load(&counts[i]);
		char digits[24];
		int d = 0;
		do {
			digits[d++] = (char)('0' + v % 10);
			v /= 10;
		} while (v > 0);
		len += (size_t)snprintf(line + len, sizeof(line) - len, "%s%s=", i ? " " : "", owner_name[i]);
		while (d > 0)
			line[len++] = digits[--d];
	}
	line[len++] = '\n';
	if (write(out_fd, line, len) < 0)
		return;
}

__attribute__((constructor)) static void malloc_count_init(void)
{
	const char *path = getenv("MALLOC_COUNT_OUT");
	struct sigaction sa;
	void *warm[2];

	busy = 1;
	backtrace(warm, 2); /* loads the unwinder now, not inside a counted call */
	busy = 0;
	if (path != NULL) {
		int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (fd >= 0)
			out_fd = fd;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
}
