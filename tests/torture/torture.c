/*
 * Fault injection for make torture, linked into the torture builds of the
 * unit tests and the daemon (build/torture, build/torture-asan) and into
 * nothing else.
 *
 * Allocations: in the library of shortd's own objects (libshortd.a) each
 * call of malloc, calloc, realloc, strdup and aligned_alloc is renamed to
 * torture_malloc and so on (objcopy --redefine-sym, TORTURE_SYMS in the
 * Makefile), so it comes here while the tests' and Check's own do not; Jansson's and SQLite's come here too, through
 * their own hooks (json_set_alloc_funcs, sqlite3_config(SQLITE_CONFIG_MALLOC)), set before main. SHORTD_TORTURE_ALLOC=N
 * fails the Nth of them (once: the later ones succeed, so that what follows the failure, the recovery, runs too).
 *
 * Storage: SHORTD_TORTURE_IO=N makes a VFS around the default one (unix)
 * the default, and fails its Nth read, write, sync, truncate or lock with
 * the error SQLite would get from the kernel (SQLITE_IOERR_READ, _WRITE,
 * _FSYNC, _TRUNCATE; SQLITE_BUSY for a lock held elsewhere).
 *
 * The counts start again in the child of a fork (Check runs each test in
 * one), so N counts from the start of a test or of a daemon. With
 * SHORTD_TORTURE_LOG=PATH each process appends one line at exit:
 * "alloc A io I injected 0|1", the calls it counted and whether it failed
 * one, and one more when it fails one (without the C library allocating);
 * make torture learns from it how far N has to go. SHORTD_TORTURE_TRACE=1
 * prints the stack of the call that fails (ASan builds).
 */
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void *torture_malloc(size_t size);
void *torture_calloc(size_t n, size_t size);
void *torture_realloc(void *p, size_t size);
void *torture_aligned_alloc(size_t align, size_t size);
char *torture_strdup(const char *s);

struct torture {
	unsigned long alloc_at; /* fail this allocation (1-based); 0: none */
	unsigned long io_at;    /* fail this storage call; 0: none */
	unsigned long allocs;   /* allocations counted */
	unsigned long ios;      /* storage calls counted */
	int injected;           /* a failure was injected */
	int trace;              /* print the stack of the failed call */
	const char *log;
	sqlite3_mem_methods sqlite_mem;
	sqlite3_vfs *base_vfs;
	sqlite3_vfs vfs;
	sqlite3_io_methods io_v1, io_v2, io_v3;
};

/* The one global of the test support: what the hooks, called from anywhere
 * in the process, count against. */
static struct torture t;

static void write_log(void);

/* ASan's, when the build has it: SHORTD_TORTURE_TRACE=1 shows where the
 * failed call was made. */
void __sanitizer_print_stack_trace(void) __attribute__((weak));

static int fail_now(unsigned long *counter, unsigned long at)
{
	unsigned long n = __atomic_add_fetch(counter, 1, __ATOMIC_RELAXED);

	if (at == 0 || n != at)
		return 0;
	__atomic_store_n(&t.injected, 1, __ATOMIC_RELAXED);
	/* Now, too: a test that fails an assertion over it ends in _exit. */
	write_log();
	if (t.trace && __sanitizer_print_stack_trace != NULL) {
		fprintf(stderr, "torture: this call fails:\n");
		__sanitizer_print_stack_trace();
	}
	return 1;
}

static int alloc_fails(void)
{
	return fail_now(&t.allocs, t.alloc_at);
}

void *torture_malloc(size_t size)
{
	return alloc_fails() ? NULL : malloc(size);
}

void *torture_calloc(size_t n, size_t size)
{
	return alloc_fails() ? NULL : calloc(n, size);
}

void *torture_realloc(void *p, size_t size)
{
	return alloc_fails() ? NULL : realloc(p, size);
}

void *torture_aligned_alloc(size_t align, size_t size)
{
	return alloc_fails() ? NULL : aligned_alloc(align, size);
}

char *torture_strdup(const char *s)
{
	return alloc_fails() ? NULL : strdup(s);
}

static void *json_alloc(size_t size)
{
	return alloc_fails() ? NULL : malloc(size);
}

static void *sqlite_malloc(int size)
{
	return alloc_fails() ? NULL : t.sqlite_mem.xMalloc(size);
}

static void *sqlite_realloc(void *p, int size)
{
	return alloc_fails() ? NULL : t.sqlite_mem.xRealloc(p, size);
}

/* ---- the VFS ---- */

struct tfile {
	sqlite3_file base; /* pMethods: one of t.io_v1..3 */
	sqlite3_file real; /* the base VFS's file, szOsFile bytes from here */
};

static sqlite3_file *real_file(sqlite3_file *f)
{
	return &((struct tfile *)f)->real;
}

static int io_fails(void)
{
	return fail_now(&t.ios, t.io_at);
}

static int t_close(sqlite3_file *f)
{
	sqlite3_file *r = real_file(f);

	return r->pMethods != NULL ? r->pMethods->xClose(r) : SQLITE_OK;
}

static int t_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
	sqlite3_file *r = real_file(f);

	return io_fails() ? SQLITE_IOERR_READ : r->pMethods->xRead(r, buf, n, off);
}

static int t_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
	sqlite3_file *r = real_file(f);

	return io_fails() ? SQLITE_IOERR_WRITE : r->pMethods->xWrite(r, buf, n, off);
}

static int t_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	sqlite3_file *r = real_file(f);

	return io_fails() ? SQLITE_IOERR_TRUNCATE : r->pMethods->xTruncate(r, size);
}

static int t_sync(sqlite3_file *f, int flags)
{
	sqlite3_file *r = real_file(f);

	return io_fails() ? SQLITE_IOERR_FSYNC : r->pMethods->xSync(r, flags);
}

static int t_size(sqlite3_file *f, sqlite3_int64 *size)
{
	sqlite3_file *r = real_file(f);

	return r->pMethods->xFileSize(r, size);
}

static int t_lock(sqlite3_file *f, int level)
{
	sqlite3_file *r = real_file(f);

	return io_fails() ? SQLITE_BUSY : r->pMethods->xLock(r, level);
}

static int t_unlock(sqlite3_file *f, int level)
{
	sqlite3_file *r = real_file(f);

	return r->pMethods->xUnlock(r, level);
}

static int t_check_reserved(sqlite3_file *f, int *out)
{
	sqlite3_file *r = real_file(f);

	return r->pMethods->xCheckReservedLock(r, out);
}

static int t_control(sqlite3_file *f, int op, void *arg)
{
	sqlite3_file *r = real_file(f);

	return r->pMethods->xFileControl(r, op, arg);
}

static int t_sector(sqlite3_file *f)
{
	sqlite3_file *r = real_file(f);

	return r->pMethods->xSectorSize(r);
}

static int t_chars(sqlite3_file *f)
{
	sqlite3_file *r = real_file(f);

	return r->pMethods->xDeviceCharacteristics(r);
}

static int t_shm_map(sqlite3_file *f, int page, int size, int extend, void volatile **out)
{
	sqlite3_file *r = real_file(f);

	return r->pMethods->xShmMap(r, page, size, extend, out);
}

static int t_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
	sqlite3_file *r = real_file(f);

	/* A WAL lock held elsewhere: only the exclusive ones, as another
	 * connection's checkpoint or recovery would hold them. */
	if ((flags & SQLITE_SHM_LOCK) && (flags & SQLITE_SHM_EXCLUSIVE) && io_fails())
		return SQLITE_BUSY;
	return r->pMethods->xShmLock(r, offset, n, flags);
}

static void t_shm_barrier(sqlite3_file *f)
{
	sqlite3_file *r = real_file(f);

	r->pMethods->xShmBarrier(r);
}

static int t_shm_unmap(sqlite3_file *f, int del)
{
	sqlite3_file *r = real_file(f);

	return r->pMethods->xShmUnmap(r, del);
}

static int t_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **out)
{
	sqlite3_file *r = real_file(f);

	return r->pMethods->xFetch(r, off, n, out);
}

static int t_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
	sqlite3_file *r = real_file(f);

	return r->pMethods->xUnfetch(r, off, p);
}

static void fill_io_methods(sqlite3_io_methods *m, int version)
{
	*m = (sqlite3_io_methods){
	    .iVersion = version,
	    .xClose = t_close,
	    .xRead = t_read,
	    .xWrite = t_write,
	    .xTruncate = t_truncate,
	    .xSync = t_sync,
	    .xFileSize = t_size,
	    .xLock = t_lock,
	    .xUnlock = t_unlock,
	    .xCheckReservedLock = t_check_reserved,
	    .xFileControl = t_control,
	    .xSectorSize = t_sector,
	    .xDeviceCharacteristics = t_chars,
	};
	if (version >= 2) {
		m->xShmMap = t_shm_map;
		m->xShmLock = t_shm_lock;
		m->xShmBarrier = t_shm_barrier;
		m->xShmUnmap = t_shm_unmap;
	}
	if (version >= 3) {
		m->xFetch = t_fetch;
		m->xUnfetch = t_unfetch;
	}
}

static int t_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out_flags)
{
	sqlite3_file *r = real_file(f);
	int rc;

	(void)vfs;
	f->pMethods = NULL;
	r->pMethods = NULL;
	rc = t.base_vfs->xOpen(t.base_vfs, name, r, flags, out_flags);
	if (r->pMethods == NULL)
		return rc;
	/* Even a failed open may leave methods that xClose must see. */
	f->pMethods = r->pMethods->iVersion >= 3 ? &t.io_v3 : r->pMethods->iVersion == 2 ? &t.io_v2 : &t.io_v1;
	return rc;
}

static int t_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
	(void)vfs;
	return t.base_vfs->xDelete(t.base_vfs, name, sync_dir);
}

static int t_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	(void)vfs;
	return t.base_vfs->xAccess(t.base_vfs, name, flags, out);
}

static int t_full_path(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	(void)vfs;
	return t.base_vfs->xFullPathname(t.base_vfs, name, n, out);
}

static int t_randomness(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return t.base_vfs->xRandomness(t.base_vfs, n, out);
}

static int t_sleep(sqlite3_vfs *vfs, int us)
{
	(void)vfs;
	return t.base_vfs->xSleep(t.base_vfs, us);
}

static int t_current_time(sqlite3_vfs *vfs, double *out)
{
	(void)vfs;
	return t.base_vfs->xCurrentTime(t.base_vfs, out);
}

static int t_last_error(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return t.base_vfs->xGetLastError(t.base_vfs, n, out);
}

static int t_current_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
	(void)vfs;
	return t.base_vfs->xCurrentTimeInt64(t.base_vfs, out);
}

static void install_vfs(void)
{
	t.base_vfs = sqlite3_vfs_find(NULL);
	if (t.base_vfs == NULL)
		return;
	fill_io_methods(&t.io_v1, 1);
	fill_io_methods(&t.io_v2, 2);
	fill_io_methods(&t.io_v3, 3);
	t.vfs = (sqlite3_vfs){
	    .iVersion = 2,
	    .szOsFile = (int)offsetof(struct tfile, real) + t.base_vfs->szOsFile,
	    .mxPathname = t.base_vfs->mxPathname,
	    .zName = "torture",
	    .xOpen = t_open,
	    .xDelete = t_delete,
	    .xAccess = t_access,
	    .xFullPathname = t_full_path,
	    .xRandomness = t_randomness,
	    .xSleep = t_sleep,
	    .xCurrentTime = t_current_time,
	    .xGetLastError = t_last_error,
	    .xCurrentTimeInt64 = t_current_time64,
	};
	sqlite3_vfs_register(&t.vfs, 1);
}

/* ---- set-up and the log ---- */

static unsigned long env_count(const char *name)
{
	const char *v = getenv(name);

	return v != NULL ? strtoul(v, NULL, 10) : 0;
}

static void restart_counts(void)
{
	t.allocs = 0;
	t.ios = 0;
	t.injected = 0;
}

static void write_log(void)
{
	char line[128];
	int fd, n;

	if (t.log == NULL)
		return;
	n = snprintf(line, sizeof(line), "alloc %lu io %lu injected %d\n", __atomic_load_n(&t.allocs, __ATOMIC_RELAXED),
	             __atomic_load_n(&t.ios, __ATOMIC_RELAXED), __atomic_load_n(&t.injected, __ATOMIC_RELAXED));
	fd = open(t.log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
	if (fd < 0)
		return;
	if (write(fd, line, (size_t)n) != n)
		fputs("torture: cannot write the log\n", stderr);
	close(fd);
}

__attribute__((constructor)) static void torture_init(void)
{
	sqlite3_mem_methods mine;

	t.alloc_at = env_count("SHORTD_TORTURE_ALLOC");
	t.io_at = env_count("SHORTD_TORTURE_IO");
	t.log = getenv("SHORTD_TORTURE_LOG");
	t.trace = getenv("SHORTD_TORTURE_TRACE") != NULL;
	if (sqlite3_config(SQLITE_CONFIG_GETMALLOC, &t.sqlite_mem) == SQLITE_OK) {
		mine = t.sqlite_mem;
		mine.xMalloc = sqlite_malloc;
		mine.xRealloc = sqlite_realloc;
		if (sqlite3_config(SQLITE_CONFIG_MALLOC, &mine) != SQLITE_OK)
			fputs("torture: SQLite's allocator cannot be replaced\n", stderr);
	}
	json_set_alloc_funcs(json_alloc, free);
	if (t.io_at != 0 || t.log != NULL)
		install_vfs();
	pthread_atfork(NULL, NULL, restart_counts);
	atexit(write_log);
}
