/*
 * The one integer parser for text from outside: flags, environment
 * variables, query parameters and header values. Like OpenBSD's strtonum(3)
 * but stricter: decimal digits only (no sign, no '+', no spaces, no base
 * prefix), the whole string, within [min, max]. Leading zeros are allowed.
 */
#ifndef SHORTD_NUM_H
#define SHORTD_NUM_H

#include <stdint.h>

enum num_error {
	NUM_OK = 0,
	NUM_INVALID = -1,   /* empty, or a byte that is not a decimal digit */
	NUM_TOO_SMALL = -2, /* a number below min */
	NUM_TOO_LARGE = -3, /* a number above max, or past UINT64_MAX */
};

/* Parses s (NUL-terminated) into *out. Returns NUM_OK, or an error leaving
 * *out unchanged. A NULL s is NUM_INVALID. */
enum num_error num_parse(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* A short phrase for e ("not a whole number", "too small", "too large"),
 * never NULL. */
const char *num_error_message(enum num_error e);

#endif
