/*
 * Fuzzes url_host(), which reads the host of a client's Referer header for
 * referrer counting. Input: the header value. Invariants: a host found is
 * non-empty, lower case, printable ASCII without spaces, and fits the
 * caller's buffer, including the small one the redirect path uses.
 */
#include <stdint.h>

#include "clicks.h"
#include "fuzz.h"
#include "url.h"

static void check_host(const char *url, size_t outsize)
{
	char *out = malloc(outsize);

	if (out == NULL)
		abort();
	if (url_host(url, out, outsize) == 0) {
		size_t n = strlen(out);
		FUZZ_CHECK(n > 0 && n < outsize);
		FUZZ_CHECK(!fuzz_has_unsafe_byte(out));
		for (size_t i = 0; i < n; i++)
			FUZZ_CHECK(out[i] < 'A' || out[i] > 'Z');
	}
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *url = fuzz_cstr(data, size);

	check_host(url, CLICKS_REFERRER_MAX + 1);
	check_host(url, 8);
	check_host(url, 1);
	free(url);
	return 0;
}
