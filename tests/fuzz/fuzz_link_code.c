/*
 * Fuzzes link_code_check(), the rule for custom short codes. Invariant: an
 * accepted code is 1..LINK_CODE_MAX characters of [A-Za-z0-9_-] and not a
 * reserved word; every verdict has a message.
 */
#include <stdint.h>

#include "fuzz.h"
#include "link.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *code = fuzz_cstr(data, size);
	enum link_code_error e = link_code_check(code);
	size_t n = strlen(code);

	FUZZ_CHECK(link_code_error_message(e) != NULL);
	if (e == LINK_CODE_OK) {
		FUZZ_CHECK(n >= 1 && n <= LINK_CODE_MAX);
		FUZZ_CHECK(strspn(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == n);
		FUZZ_CHECK(!link_code_is_reserved(code, n));
	} else if (n == 0) {
		FUZZ_CHECK(e == LINK_CODE_EMPTY);
	}
	free(code);
	return 0;
}
