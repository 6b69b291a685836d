/*
 * Fuzzes url_normalize(), the gate every target URL passes before it is
 * stored and later sent as a Location header. Input: URL, then optionally a
 * 0xFF byte and a string used as both the daemon's base URL and its listen
 * host (port 8080), so the self-link rule parses hosts from both sides. Invariants of an accepted URL: its normal form
 * is printable ASCII without spaces, at most LINK_URL_MAX bytes, keeps a host url_host() can read, and normalises again
 * to itself.
 */
#include <stdint.h>

#include "fuzz.h"
#include "link.h"
#include "url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *url, *base, *out, *again;
	size_t outsize;
	enum url_error e;
	char host[256];
	struct url_self self;

	fuzz_split(data, size, &url, &base);
	outsize = strlen(url) * 3 + 1;
	out = malloc(outsize);
	again = malloc(outsize);
	if (out == NULL || again == NULL)
		abort();
	self = (struct url_self){base, base, 8080};
	e = url_normalize(url, base[0] != '\0' ? &self : NULL, out, outsize);
	FUZZ_CHECK(url_error_message(e) != NULL);
	if (e == URL_OK) {
		size_t n = strlen(out);
		FUZZ_CHECK(n > 0 && n <= LINK_URL_MAX);
		FUZZ_CHECK(!fuzz_has_unsafe_byte(out));
		FUZZ_CHECK(strncmp(out, "http://", 7) == 0 || strncmp(out, "https://", 8) == 0);
		FUZZ_CHECK(url_host(out, host, sizeof(host)) == 0 || n > 255);
		FUZZ_CHECK(url_normalize(out, base[0] != '\0' ? &self : NULL, again, outsize) == URL_OK);
		FUZZ_CHECK(strcmp(out, again) == 0);
	}
	free(again);
	free(out);
	free(base);
	free(url);
	return 0;
}
