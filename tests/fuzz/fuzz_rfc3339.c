/*
 * Fuzzes rfc3339_parse() with rfc3339_format() as its inverse (expires_at
 * comes from clients as RFC 3339 text). Invariants: an accepted time formats
 * to "YYYY-MM-DDTHH:MM:SSZ" within years 0001-9999 and parses back to the
 * same second; any second of that range formats and parses back to itself.
 */
#include <stdint.h>

#include "fuzz.h"
#include "rfc3339.h"

/* 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z. */
#define T_MIN (-62135596800LL)
#define T_MAX (253402300799LL)

static void check_round_trip(int64_t t)
{
	char text[RFC3339_LEN + 1];
	int64_t back = 0;

	rfc3339_format(t, text);
	FUZZ_CHECK(strlen(text) == RFC3339_LEN);
	FUZZ_CHECK(text[4] == '-' && text[7] == '-' && text[10] == 'T' && text[13] == ':' && text[16] == ':' &&
	           text[19] == 'Z');
	FUZZ_CHECK(rfc3339_parse(text, &back) == 0);
	FUZZ_CHECK(back == t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	int64_t t = 0;
	uint64_t raw = 0;

	if (rfc3339_parse(s, &t) == 0) {
		FUZZ_CHECK(t >= T_MIN && t <= T_MAX);
		check_round_trip(t);
	}
	memcpy(&raw, data, size < sizeof(raw) ? size : sizeof(raw));
	check_round_trip(T_MIN + (int64_t)(raw % (uint64_t)(T_MAX - T_MIN + 1)));
	free(s);
	return 0;
}
