/*
 * The bounded integer parser. Digits are read by hand rather than with
 * strtoull(3), which skips spaces, takes a sign and depends on the locale.
 */
#include "num.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

enum num_error num_parse_span(const char *s, size_t len, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	bool overflow = false;

	if (s == NULL || len == 0)
		return NUM_INVALID;
	for (size_t i = 0; i < len; i++) {
		unsigned d = (unsigned)(s[i] - '0');
		if (s[i] < '0' || s[i] > '9')
			return NUM_INVALID;
		if (v > (UINT64_MAX - d) / 10)
			overflow = true; /* keep reading: a bad byte later is still NUM_INVALID */
		else
			v = v * 10 + d;
	}
	if (overflow || v > max)
		return NUM_TOO_LARGE;
	if (v < min)
		return NUM_TOO_SMALL;
	*out = v;
	return NUM_OK;
}

enum num_error num_parse(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	return num_parse_span(s, s != NULL ? strlen(s) : 0, min, max, out);
}

const char *num_error_message(enum num_error e)
{
	switch (e) {
	case NUM_OK:
		return "a valid number";
	case NUM_INVALID:
		return "not a whole number";
	case NUM_TOO_SMALL:
		return "too small";
	case NUM_TOO_LARGE:
		return "too large";
	}
	return "not a whole number";
}
