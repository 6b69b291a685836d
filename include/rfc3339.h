/*
 * RFC 3339 timestamps: parsing any offset, formatting in UTC with a Z.
 * Times are unix seconds; fractions of a second are dropped.
 */
#ifndef SHORTD_RFC3339_H
#define SHORTD_RFC3339_H

#include <stdint.h>

#define RFC3339_LEN 20 /* "YYYY-MM-DDTHH:MM:SSZ" */

/* Parses s (the whole string) into *out; returns 0, or -1 when malformed or
 * out of range (years 0001-9999). */
int rfc3339_parse(const char *s, int64_t *out);

/* Writes t as "YYYY-MM-DDTHH:MM:SSZ" into out (at least RFC3339_LEN + 1). */
void rfc3339_format(int64_t t, char out[RFC3339_LEN + 1]);

/* Writes the UTC date of t as "YYYY-MM-DD" into out (at least 11 bytes). */
void rfc3339_date(int64_t t, char out[11]);

/* The day of unix time t, in days since 1970-01-01, rounded down (so the
 * second before the epoch is day -1). */
int64_t rfc3339_day_of(int64_t t);

/* Days since 1970-01-01 of a proleptic Gregorian date. */
int64_t rfc3339_days_from_civil(int64_t y, unsigned m, unsigned d);

#endif
