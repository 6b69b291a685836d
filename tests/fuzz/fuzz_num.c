/*
 * Fuzzes num_parse() and num_parse_span(), the one integer parser for flags,
 * variables, query parameters and header values, against a plain model: a
 * string is accepted exactly when it is one or more ASCII digits whose value
 * fits in 64 bits and lies in [min, max]; the two entry points agree.
 */
#include <stdbool.h>
#include <stdint.h>

#include "fuzz.h"
#include "num.h"

/* The model: digits only, value by 128-bit arithmetic. */
static enum num_error model(const char *s, size_t len, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned __int128 v = 0;
	bool big = false;

	if (len == 0)
		return NUM_INVALID;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return NUM_INVALID;
		v = v * 10 + (unsigned)(s[i] - '0');
		if (v > UINT64_MAX)
			big = true, v = (unsigned __int128)UINT64_MAX + 1;
	}
	if (big || v > max)
		return NUM_TOO_LARGE;
	if (v < min)
		return NUM_TOO_SMALL;
	*out = (uint64_t)v;
	return NUM_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t min = 0, max = UINT64_MAX, got = 7, want = 7, span = 7, span_want = 7;
	enum num_error e, m;
	char *s;

	/* The first byte picks the bounds: none, or small ones near the input. */
	if (size > 0) {
		if (data[0] & 1)
			min = data[0] >> 1;
		if (data[0] & 2)
			max = (uint64_t)data[0] * 1000;
		data++;
		size--;
	}
	s = fuzz_cstr(data, size);
	e = num_parse(s, min, max, &got);
	m = model(s, strlen(s), min, max, &want);
	FUZZ_CHECK(e == m);
	FUZZ_CHECK(got == want); /* the value when accepted, else untouched */
	/* The span form reads all size bytes, a NUL among them being a bad byte. */
	e = num_parse_span((const char *)data, size, min, max, &span);
	m = model((const char *)data, size, min, max, &span_want);
	FUZZ_CHECK(e == m);
	FUZZ_CHECK(span == span_want);
	free(s);
	return 0;
}
