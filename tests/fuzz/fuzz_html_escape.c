/*
 * Fuzzes html_escape_append(), which every HTML page uses to echo a URL.
 * Input: a prefix length byte, then the text. Invariants: the escaped text
 * holds no raw < > " ' and every & starts an entity; a text that does not fit
 * leaves the buffer terminated at its old length; nothing is written past
 * the buffer.
 */
#include <stdint.h>

#include "fuzz.h"
#include "html.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, *out;
	size_t outsize, len, start;

	if (size == 0)
		return 0;
	text = fuzz_cstr(data + 1, size - 1);
	outsize = (size_t)data[0] % 64 + strlen(text) * 6 / (data[0] % 3 + 1) + 1;
	out = malloc(outsize);
	if (out == NULL)
		abort();
	start = (size_t)data[0] % 4 < outsize ? (size_t)data[0] % 4 : 0;
	memset(out, 'x', start);
	out[start] = '\0';
	len = start;
	if (html_escape_append(out, outsize, &len, text) == 0) {
		FUZZ_CHECK(len < outsize && strlen(out) == len);
		for (size_t i = start; i < len; i++) {
			FUZZ_CHECK(strchr("<>\"'", out[i]) == NULL);
			if (out[i] == '&')
				FUZZ_CHECK(strncmp(out + i, "&amp;", 5) == 0 || strncmp(out + i, "&lt;", 4) == 0 ||
				           strncmp(out + i, "&gt;", 4) == 0 || strncmp(out + i, "&quot;", 6) == 0 ||
				           strncmp(out + i, "&#39;", 5) == 0);
		}
	} else {
		FUZZ_CHECK(len == start && strlen(out) == start);
	}
	free(out);
	free(text);
	return 0;
}
