/*
 * The schema migrations of sql/NNN_name.sql, embedded at build time by
 * tools/embed_sql.sh in version order.
 */
#ifndef SHORTD_MIGRATIONS_H
#define SHORTD_MIGRATIONS_H

struct migration {
	int version;      /* NNN of the file name */
	const char *name; /* NNN_name */
	const char *sql;
};

extern const struct migration migrations[];
extern const int migrations_count;

#endif
