/*
 * Loads libpq with dlopen(3) at the first PostgreSQL database, so that only
 * a daemon on PostgreSQL pays for it (see store_pg_lib.h). It does nothing
 * else: connections and statements are store_pg.c's.
 *
 * Invariant: a struct pq_lib is filled whole or not at all; the process's
 * one table is written once, under pthread_once, and only read after.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "store_pg_lib.h"

/* Each function of struct pq_lib: its name, and where its pointer goes. */
static const struct {
	const char *name;
	size_t offset;
} functions[] = {
#define STORE_PG_LIB_ENTRY(name) {#name, offsetof(struct pq_lib, name)},
    STORE_PG_LIB_FUNCTIONS(STORE_PG_LIB_ENTRY)
#undef STORE_PG_LIB_ENTRY
};

int store_pg_lib_open(const char *soname, struct pq_lib *out, char *err, size_t errlen)
{
	struct pq_lib lib;
	void *handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL);

	if (handle == NULL) {
		snprintf(err, errlen, "cannot load %s, which the PostgreSQL backend needs (Debian's libpq5): %s",
		         soname, dlerror());
		return -1;
	}
	for (size_t i = 0; i < sizeof(functions) / sizeof(functions[0]); i++) {
		void *sym = dlsym(handle, functions[i].name);

		if (sym == NULL) {
			snprintf(
			    err, errlen,
			    "%s has no function %s: not libpq, or a libpq older than shortd needs (Debian's libpq5)",
			    soname, functions[i].name);
			dlclose(handle);
			return -1;
		}
		memcpy((char *)&lib + functions[i].offset, &sym, sizeof(sym));
	}
	*out = lib;
	return 0;
}

/* The process's libpq: loaded once, never unloaded. */
static struct {
	pthread_once_t once;
	struct pq_lib lib;
	int status;
	char err[512];
} process_lib = {.once = PTHREAD_ONCE_INIT};

static void load_process_lib(void)
{
	process_lib.status =
	    store_pg_lib_open(STORE_PG_LIB_SONAME, &process_lib.lib, process_lib.err, sizeof(process_lib.err));
}

const struct pq_lib *store_pg_lib(char *err, size_t errlen)
{
	pthread_once(&process_lib.once, load_process_lib);
	if (process_lib.status != 0) {
		snprintf(err, errlen, "%s", process_lib.err);
		return NULL;
	}
	return &process_lib.lib;
}
