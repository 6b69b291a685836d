/*
 * Fuzzes http_accept_prefers_json(), which reads the client's Accept header to
 * choose a JSON or an HTML error page. Invariants: it never reads past the
 * header, the answer does not change between calls, and a header that does
 * not mention json (in any case) or names no media range never prefers JSON.
 */
#include <stdint.h>
#include <strings.h>

#include "fuzz.h"
#include "http_accept.h"

static int mentions_json(const char *s)
{
	for (; *s != '\0'; s++) {
		if (strncasecmp(s, "json", 4) == 0 || strncmp(s, "*/*", 3) == 0 || strncmp(s, "/*", 2) == 0)
			return 1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *accept = fuzz_cstr(data, size);
	bool json = http_accept_prefers_json(accept);

	FUZZ_CHECK(json == http_accept_prefers_json(accept));
	if (!mentions_json(accept))
		FUZZ_CHECK(!json);
	if (strchr(accept, '/') == NULL)
		FUZZ_CHECK(!json);
	free(accept);
	return 0;
}
