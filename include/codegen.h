/*
 * Generated short codes: LINK_GEN_LEN characters of base62 drawn from the
 * OS's CSPRNG (libsodium's randombytes, getrandom on Linux) without modulo
 * bias, never a reserved word.
 */
#ifndef SHORTD_CODEGEN_H
#define SHORTD_CODEGEN_H

#include <stddef.h>

/* Fills buf (size > LINK_GEN_LEN) with a new code; returns 0 or -1. The
 * signature matches store_codegen_fn; ctx is unused. */
int codegen_code(char *buf, size_t size, void *ctx);

#endif
