/*
 * Generated codes: base62 characters drawn by rejection sampling from
 * libsodium's CSPRNG (getrandom(2) on Linux), so every character is equally
 * likely. A code that spells a reserved word is drawn again.
 */
#include "link_code.h"

#include <sodium.h>

#include "link.h"

static const char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* Random bytes fetched at once: one getrandom(2) a code, not one a
 * character (randombytes_uniform's), which was most of a bulk create's
 * system time. A byte below RANDOM_LIMIT (4 x 62) gives a character by its
 * remainder; one above is dropped, so every character stays equally
 * likely. */
#define RANDOM_BYTES 32
#define RANDOM_LIMIT 248

int link_code_generate(char *buf, size_t size, void *ctx)
{
	unsigned char raw[RANDOM_BYTES];
	size_t used = sizeof(raw);

	(void)ctx;
	if (size <= LINK_GEN_LEN)
		return -1;
	do {
		for (int i = 0; i < LINK_GEN_LEN;) {
			if (used == sizeof(raw)) {
				randombytes_buf(raw, sizeof(raw));
				used = 0;
			}
			if (raw[used] < RANDOM_LIMIT)
				buf[i++] = alphabet[raw[used] % 62];
			used++;
		}
		buf[LINK_GEN_LEN] = '\0';
	} while (link_code_is_reserved(buf, LINK_GEN_LEN));
	sodium_memzero(raw, sizeof(raw));
	return 0;
}
