/*
 * Initialisers for a table of 256 bools that marks a set of bytes, one
 * load a byte where a hot path checks every byte of its input (a Host
 * value, a link's code). Standard designators only:
 *
 *   static const bool code_byte[256] = {BYTE_SET_LETTERS, BYTE_SET_DIGITS, ['_'] = true};
 */
#ifndef SHORTD_BYTE_SET_H
#define SHORTD_BYTE_SET_H

#include <stdbool.h>

/* The runs of 2, 6, 10 and 26 bytes from c. */
#define BYTE_SET_RUN2(c) [(c)] = true, [(c) + 1] = true
#define BYTE_SET_RUN6(c) BYTE_SET_RUN2(c), BYTE_SET_RUN2((c) + 2), BYTE_SET_RUN2((c) + 4)
#define BYTE_SET_RUN10(c) BYTE_SET_RUN6(c), BYTE_SET_RUN2((c) + 6), BYTE_SET_RUN2((c) + 8)
#define BYTE_SET_RUN26(c) BYTE_SET_RUN10(c), BYTE_SET_RUN10((c) + 10), BYTE_SET_RUN6((c) + 20)

/* A-Z and a-z; 0-9. */
#define BYTE_SET_LETTERS BYTE_SET_RUN26('a'), BYTE_SET_RUN26('A')
#define BYTE_SET_DIGITS BYTE_SET_RUN10('0')

#endif
