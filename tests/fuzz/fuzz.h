/*
 * Helpers shared by the libFuzzer drivers: a NUL-terminated heap copy of the
 * input (so AddressSanitizer sees any read past its end) and a check that
 * aborts with the broken invariant's text, which libFuzzer reports as a crash.
 */
#ifndef SHORTD_FUZZ_H
#define SHORTD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond)                                                                                               \
	do {                                                                                                           \
		if (!(cond)) {                                                                                         \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond);                   \
			abort();                                                                                       \
		}                                                                                                      \
	} while (0)

/* A malloc'd copy of data[0..size) with a NUL after it; stops at an inner
 * NUL as a C string would. Aborts when out of memory. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Splits the input at its first 0xFF byte into two strings (the second is
 * "" when there is none); both are malloc'd. */
static inline void fuzz_split(const uint8_t *data, size_t size, char **a, char **b)
{
	const uint8_t *sep = memchr(data, 0xff, size);
	size_t n = sep != NULL ? (size_t)(sep - data) : size;

	*a = fuzz_cstr(data, n);
	*b = sep != NULL ? fuzz_cstr(sep + 1, size - n - 1) : fuzz_cstr(data, 0);
}

/* True when s has a byte that may not stand in a header value or a URI as
 * it is: a control character, a space, DEL or a byte outside ASCII. */
static inline int fuzz_has_unsafe_byte(const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c <= 0x20 || c >= 0x7f)
			return 1;
	}
	return 0;
}

#endif
