/*
 * The bounded integer parser. Digits are read by hand rather than with
 * strtoull(3), which skips spaces, takes a sign and depends on the locale.
 */
#include "num.h"

#include <stdbool.h>
#include <stddef.h>

enum num_error num_parse(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	bool overflow = false;
	size_t i;

	if (s == NULL || s[0] == '\0')
		return NUM_INVALID;
	for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			overflow = true; /* keep reading: a bad byte later is still NUM_INVALID */
		else
			v = v * 10 + d;
	}
	if (s[i] != '\0')
		return NUM_INVALID;
	if (overflow || v > max)
		return NUM_TOO_LARGE;
	if (v < min)
		return NUM_TOO_SMALL;
	*out = v;
	return NUM_OK;
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
