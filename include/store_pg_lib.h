/*
 * libpq, loaded when the first PostgreSQL database is opened rather than
 * linked: a daemon on SQLite never maps libpq and what it brings (OpenSSL,
 * Kerberos, LDAP: about 2.7 MB of resident pages), and a machine without
 * libpq5 runs shortd on SQLite. store_pg.c calls libpq only through the
 * table below, whose members have libpq's own names and types.
 *
 * The library, once loaded, stays for the life of the process (OpenSSL's
 * exit handlers live in it): there is no unload.
 */
#ifndef SHORTD_STORE_PG_LIB_H
#define SHORTD_STORE_PG_LIB_H

#include <libpq-fe.h>
#include <stddef.h>

/* The soname that Debian's libpq5 (and every libpq since 8.x) installs. */
#define STORE_PG_LIB_SONAME "libpq.so.5"

/* Every libpq function that shortd calls. */
#define STORE_PG_LIB_FUNCTIONS(X)                                                                                      \
	X(PQclear)                                                                                                     \
	X(PQcmdTuples)                                                                                                 \
	X(PQconnectdbParams)                                                                                           \
	X(PQconsumeInput)                                                                                              \
	X(PQerrorMessage)                                                                                              \
	X(PQexec)                                                                                                      \
	X(PQexecParams)                                                                                                \
	X(PQexecPrepared)                                                                                              \
	X(PQfinish)                                                                                                    \
	X(PQfreemem)                                                                                                   \
	X(PQgetisnull)                                                                                                 \
	X(PQgetvalue)                                                                                                  \
	X(PQisnonblocking)                                                                                             \
	X(PQnfields)                                                                                                   \
	X(PQnotifies)                                                                                                  \
	X(PQntuples)                                                                                                   \
	X(PQprepare)                                                                                                   \
	X(PQresultErrorField)                                                                                          \
	X(PQresultStatus)                                                                                              \
	X(PQsetNoticeProcessor)                                                                                        \
	X(PQsetnonblocking)                                                                                            \
	X(PQsocket)                                                                                                    \
	X(PQstatus)

/* libpq's functions, each with the type that libpq-fe.h declares. */
struct pq_lib {
#define STORE_PG_LIB_MEMBER(name) __typeof__(name) *name;
	STORE_PG_LIB_FUNCTIONS(STORE_PG_LIB_MEMBER)
#undef STORE_PG_LIB_MEMBER
};

/*
 * Loads the shared library soname and finds every function of struct
 * pq_lib in it. Returns 0 with *out filled (the library is then never
 * unloaded), or -1 with the reason in err (the library is not there, or
 * lacks a function, named) and nothing loaded.
 */
int store_pg_lib_open(const char *soname, struct pq_lib *out, char *err, size_t errlen);

/*
 * libpq for the process: STORE_PG_LIB_SONAME, loaded by the first call from
 * any thread. Returns the table, which lives as long as the process, or
 * NULL with the reason in err; every later call gives the same answer.
 */
const struct pq_lib *store_pg_lib(char *err, size_t errlen);

#endif
