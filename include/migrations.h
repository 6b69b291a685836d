/*
 * The schema migrations, one table per SQL dialect: sql/DIALECT/NNN_name.sql
 * embedded at build time by tools/embed_sql.sh in version order.
 */
#ifndef SHORTD_MIGRATIONS_H
#define SHORTD_MIGRATIONS_H

struct migration {
	int version;      /* NNN of the file name */
	const char *name; /* NNN_name */
	const char *sql;
};

/* sql/sqlite: the SQLite backend's schema, tracked with PRAGMA user_version. */
extern const struct migration sqlite_migrations[];
extern const int sqlite_migrations_count;

/* sql/postgres: the PostgreSQL backend's, tracked in its table shortd_schema. */
extern const struct migration postgres_migrations[];
extern const int postgres_migrations_count;

#endif
