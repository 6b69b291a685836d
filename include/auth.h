/*
 * API tokens: 32 random bytes from the OS's CSPRNG, shown once as base64url
 * text, stored only as their SHA-256, compared in constant time.
 */
#ifndef SHORTD_AUTH_H
#define SHORTD_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

#define AUTH_TOKEN_BYTES 32
#define AUTH_TOKEN_LEN 43 /* base64url of 32 bytes, no padding */

/* Writes a new token's text to out and its hash to hash. */
void auth_token_generate(char out[AUTH_TOKEN_LEN + 1], unsigned char hash[STORE_TOKEN_HASH_LEN]);

/* Whether name may name a token: 1 to STORE_TOKEN_NAME_MAX printable
 * ASCII characters, no space (the CLI's and the API's one rule). */
bool auth_token_name_ok(const char *name);

/* The SHA-256 of a token's text. */
void auth_token_hash(const char *token, unsigned char hash[STORE_TOKEN_HASH_LEN]);

enum auth_result {
	AUTH_OK = 0,
	AUTH_MISSING = -1,     /* no Authorization header, or not a Bearer one */
	AUTH_INVALID = -2,     /* a Bearer token no one holds (wrong or revoked) */
	AUTH_UNAVAILABLE = -3, /* the store could not be asked */
};

/* The name a link's created_by and updated_by give the fixed admin token. */
#define AUTH_FIXED_TOKEN_NAME "SHORTD_ADMIN_TOKEN"

/*
 * Checks an Authorization header value ("Bearer TOKEN", the scheme in any
 * case). fixed_hash, when not NULL, is the hash of SHORTD_ADMIN_TOKEN and is
 * compared in constant time; otherwise the token's hash is looked up in the
 * store (revoked tokens are gone from it). On AUTH_OK *role is set, the
 * token's name is written to name unless it is NULL (AUTH_FIXED_TOKEN_NAME
 * for the fixed token), and *token_id to the store's id of the token (0 for
 * the fixed one) unless it is NULL. The token is never copied or logged.
 */
enum auth_result auth_check(struct store *s, const unsigned char *fixed_hash, const char *authorization,
                            enum store_role *role, char name[STORE_TOKEN_NAME_MAX + 1], int64_t *token_id);

/*
 * For a database without any token: makes an admin token named "admin",
 * writes its text to secret and sets *created. With tokens present (or one
 * made by another process meanwhile) nothing happens and *created is false.
 * Returns a store status.
 */
int auth_bootstrap(struct store *s, int64_t now, char secret[AUTH_TOKEN_LEN + 1], bool *created);

#endif
