/*
 * Token generation and hashing with libsodium. The secret text exists only
 * in the caller's buffer; what is kept is its SHA-256.
 */
#include "auth.h"

#include <sodium.h>
#include <string.h>

void auth_token_generate(char out[AUTH_TOKEN_LEN + 1], unsigned char hash[STORE_TOKEN_HASH_LEN])
{
	unsigned char raw[AUTH_TOKEN_BYTES];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(out, AUTH_TOKEN_LEN + 1, raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
	auth_token_hash(out, hash);
}

void auth_token_hash(const char *token, unsigned char hash[STORE_TOKEN_HASH_LEN])
{
	crypto_hash_sha256(hash, (const unsigned char *)token, strlen(token));
}
