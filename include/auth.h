/*
 * API tokens: 32 random bytes from the OS's CSPRNG, shown once as base64url
 * text, stored only as their SHA-256, compared in constant time.
 */
#ifndef SHORTD_AUTH_H
#define SHORTD_AUTH_H

#include "store.h"

#define AUTH_TOKEN_BYTES 32
#define AUTH_TOKEN_LEN 43 /* base64url of 32 bytes, no padding */

/* Writes a new token's text to out and its hash to hash. */
void auth_token_generate(char out[AUTH_TOKEN_LEN + 1], unsigned char hash[STORE_TOKEN_HASH_LEN]);

/* The SHA-256 of a token's text. */
void auth_token_hash(const char *token, unsigned char hash[STORE_TOKEN_HASH_LEN]);

#endif
