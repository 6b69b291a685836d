/*
 * Token generation, hashing and checking with libsodium. The secret text
 * exists only in the caller's buffer; what is kept is its SHA-256. Nothing
 * here logs or copies a token.
 */
#include "auth.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

void auth_token_generate(char out[AUTH_TOKEN_LEN + 1], unsigned char hash[STORE_TOKEN_HASH_LEN])
{
	unsigned char raw[AUTH_TOKEN_BYTES];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(out, AUTH_TOKEN_LEN + 1, raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
	auth_token_hash(out, hash);
}

bool auth_token_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > STORE_TOKEN_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)name[i];
		if (ch <= 0x20 || ch >= 0x7f)
			return false;
	}
	return true;
}

void auth_token_hash(const char *token, unsigned char hash[STORE_TOKEN_HASH_LEN])
{
	crypto_hash_sha256(hash, (const unsigned char *)token, strlen(token));
}

enum auth_result auth_check(struct store *s, const unsigned char *fixed_hash, const char *authorization,
                            enum store_role *role, char name[STORE_TOKEN_NAME_MAX + 1], int64_t *token_id)
{
	unsigned char hash[STORE_TOKEN_HASH_LEN];
	struct store_token t;
	const char *p = authorization;
	size_t n;
	int rc;

	if (p == NULL || strncasecmp(p, "Bearer", 6) != 0 || (p[6] != ' ' && p[6] != '\t'))
		return AUTH_MISSING;
	p += 6;
	while (*p == ' ' || *p == '\t')
		p++;
	n = strlen(p);
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (n == 0)
		return AUTH_MISSING;
	crypto_hash_sha256(hash, (const unsigned char *)p, n);
	if (fixed_hash != NULL && sodium_memcmp(hash, fixed_hash, STORE_TOKEN_HASH_LEN) == 0) {
		*role = STORE_ROLE_ADMIN;
		if (name != NULL)
			snprintf(name, STORE_TOKEN_NAME_MAX + 1, "%s", AUTH_FIXED_TOKEN_NAME);
		if (token_id != NULL)
			*token_id = 0;
		return AUTH_OK;
	}
	/* The store's index finds the row by the SHA-256 (its timing reveals
	 * nothing a preimage-resistant hash does not); the match itself is
	 * decided by a constant-time comparison of the stored hash. */
	rc = store_token_find(s, hash, &t);
	if (rc == STORE_OK && sodium_memcmp(t.hash, hash, STORE_TOKEN_HASH_LEN) != 0)
		rc = STORE_NOT_FOUND;
	sodium_memzero(hash, sizeof(hash));
	sodium_memzero(t.hash, sizeof(t.hash));
	if (rc == STORE_NOT_FOUND)
		return AUTH_INVALID;
	if (rc != STORE_OK)
		return AUTH_UNAVAILABLE;
	*role = t.role;
	if (name != NULL)
		memcpy(name, t.name, sizeof(t.name));
	if (token_id != NULL)
		*token_id = t.id;
	return AUTH_OK;
}

int auth_bootstrap(struct store *s, int64_t now, char secret[AUTH_TOKEN_LEN + 1], bool *created)
{
	unsigned char hash[STORE_TOKEN_HASH_LEN];
	int64_t count;
	int rc;

	*created = false;
	rc = store_token_count(s, &count);
	if (rc != STORE_OK || count > 0)
		return rc;
	auth_token_generate(secret, hash);
	rc = store_token_add(s, "admin", hash, STORE_ROLE_ADMIN, now);
	if (rc == STORE_OK)
		*created = true;
	/* Another process made the first token in between: that one stands. */
	return rc == STORE_CONFLICT ? STORE_OK : rc;
}
