/*
 * Generated short codes: LINK_GEN_LEN characters of base62 drawn from the
 * OS's CSPRNG (libsodium's randombytes, getrandom on Linux) without modulo
 * bias, never a reserved word.
 */
#ifndef SHORTD_LINK_CODE_H
#define SHORTD_LINK_CODE_H

#include <stddef.h>

/* Fills buf (size > LINK_GEN_LEN) with a new code; returns 0 or -1. The
 * signature matches store_codegen_fn; ctx is unused. */
int link_code_generate(char *buf, size_t size, void *ctx);

#endif
