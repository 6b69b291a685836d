/*
 * A small deterministic generator for tests that make their inputs:
 * xorshift32 (Marsaglia's 13, 17, 5), so a failure names a case that the
 * next run makes again. Not for anything but tests.
 */
#ifndef SHORTD_TEST_RANDOM_H
#define SHORTD_TEST_RANDOM_H

#include <stdint.h>

/* Advances *state (never 0) and returns it. */
static inline uint32_t test_random(uint32_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 17;
	*state ^= *state << 5;
	return *state;
}

#endif
