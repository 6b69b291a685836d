/*
 * Fuzzes url_merge_query(), which builds a forward_query redirect's Location
 * from a stored target and the request's raw query. Input: target, then a
 * 0xFF byte and the query. The target is normalised first, as every stored
 * target is. Invariants: the merged Location has no CR, LF, space, control or
 * non-ASCII byte; it starts with the target up to its fragment and ends with
 * the target's fragment; an empty query leaves the target as it is; a buffer
 * one byte too small is refused, never overrun.
 */
#include <stdint.h>

#include "fuzz.h"
#include "redirect.h"
#include "url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *raw, *query, *target = NULL, *out = NULL, *small = NULL;
	size_t tsize, frag_at, n;
	const char *frag;

	fuzz_split(data, size, &raw, &query);
	tsize = strlen(raw) * 3 + 1;
	target = malloc(tsize);
	out = malloc(REDIRECT_LOCATION_MAX);
	if (target == NULL || out == NULL)
		abort();
	if (url_normalize(raw, NULL, target, tsize) != URL_OK)
		goto done;
	if (url_merge_query(target, query, out, REDIRECT_LOCATION_MAX) != 0)
		goto done;
	n = strlen(out);
	FUZZ_CHECK(!fuzz_has_unsafe_byte(out));
	frag = strchr(target, '#');
	frag_at = frag != NULL ? (size_t)(frag - target) : strlen(target);
	FUZZ_CHECK(strncmp(out, target, frag_at) == 0);
	if (frag != NULL)
		FUZZ_CHECK(n >= strlen(frag) && strcmp(out + n - strlen(frag), frag) == 0);
	if (query[0] == '\0')
		FUZZ_CHECK(strcmp(out, target) == 0);
	else
		FUZZ_CHECK(memchr(out, '?', n - (frag != NULL ? strlen(frag) : 0)) != NULL);
	/* The exact size fits; one byte less must be refused inside the buffer. */
	small = malloc(n + 1);
	if (small == NULL)
		abort();
	FUZZ_CHECK(url_merge_query(target, query, small, n + 1) == 0 && strcmp(small, out) == 0);
	FUZZ_CHECK(url_merge_query(target, query, small, n) == -1);
done:
	free(small);
	free(out);
	free(target);
	free(query);
	free(raw);
	return 0;
}
