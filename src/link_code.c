/*
 * Generated codes: base62 characters drawn by rejection sampling from
 * libsodium's CSPRNG (getrandom(2) on Linux), so every character is equally
 * likely. A code that spells a reserved word is drawn again.
 */
#include "link_code.h"

#include <sodium.h>

#include "link.h"

static const char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

int link_code_generate(char *buf, size_t size, void *ctx)
{
	(void)ctx;
	if (size <= LINK_GEN_LEN)
		return -1;
	do {
		for (int i = 0; i < LINK_GEN_LEN; i++)
			buf[i] = alphabet[randombytes_uniform(62)];
		buf[LINK_GEN_LEN] = '\0';
	} while (link_code_is_reserved(buf, LINK_GEN_LEN));
	return 0;
}
