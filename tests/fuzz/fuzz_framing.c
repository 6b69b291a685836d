/*
 * Fuzzes the framing and refusal checks (src/http_framing.c) on the header
 * fields libmicrohttpd would hand the server, against a reference model
 * written here apart from the code under test.
 *
 * Input: one flags byte (bit 0: the request is HTTP/1.0; bit 1: its route is
 * a short link), the method up to the first '\n', then one field a line:
 * the name up to the line's first ':' (a line without one is a field
 * without a value), the value after it. Each name and value is its own
 * heap copy, so AddressSanitizer sees a read past either.
 *
 * Invariants: the status is the model's (400, 501, 405 or 0) and a text
 * comes with every refusal and only then; the Content-Length read is the
 * model's (digits only, saturating at 2^64-1); the Expect, Accept,
 * User-Agent and Referer kept are the first value given under their name.
 */
#include <ctype.h>
#include <stdbool.h>

#include "fuzz.h"
#include "http_framing.h"

#define FIELDS_MAX 64

struct field {
	char *name;
	size_t name_len;
	char *value; /* NULL: the line had no ':' */
};

static bool same_name(const struct field *f, const char *want)
{
	size_t n = strlen(want);

	if (f->name_len != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (tolower((unsigned char)f->name[i]) != tolower((unsigned char)want[i]))
			return false;
	}
	return true;
}

/* The first value of the fields named want (a field without one is passed
 * over), and in *count how many fields have that name. */
static const char *first_value(const struct field *fs, size_t n, const char *want, unsigned *count)
{
	const char *v = NULL;

	*count = 0;
	for (size_t i = 0; i < n; i++) {
		if (same_name(&fs[i], want)) {
			if (v == NULL)
				v = fs[i].value;
			(*count)++;
		}
	}
	return v;
}

static bool model_host_ok(const char *v)
{
	static const char allowed[] = "-._~!$&'()*+,;=:[]%";
	size_t i = 0;

	while (v[i] != '\0' && (isalnum((unsigned char)v[i]) || strchr(allowed, v[i]) != NULL))
		i++;
	while (v[i] == ' ' || v[i] == '\t')
		i++;
	return v[i] == '\0';
}

static bool model_method_ok(const char *m)
{
	for (size_t i = 0; m[i] != '\0'; i++) {
		if (!(isupper((unsigned char)m[i]) || m[i] == '-' || m[i] == '_'))
			return false;
	}
	return true;
}

static int model_status(const struct field *fs, size_t n, bool http_1_0, const char *method, bool link_route)
{
	unsigned cl, te, host;
	const char *host_value, *last_te = NULL;

	first_value(fs, n, "Content-Length", &cl);
	first_value(fs, n, "Transfer-Encoding", &te);
	host_value = first_value(fs, n, "Host", &host);
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < fs[i].name_len; k++) {
			if (fs[i].name[k] == ' ' || fs[i].name[k] == '\t')
				return 400;
		}
		if (same_name(&fs[i], "Transfer-Encoding"))
			last_te = fs[i].value;
	}
	if (cl > 1 || te > 1 || (cl > 0 && te > 0))
		return 400;
	if (host > 1 || (host == 0 && !http_1_0) || (host_value != NULL && !model_host_ok(host_value)))
		return 400;
	if (te == 1 && (last_te == NULL || strcasecmp(last_te, "chunked") != 0))
		return 501;
	if (!model_method_ok(method))
		return 501;
	if (link_route && (strcmp(method, "TRACE") == 0 || strcmp(method, "CONNECT") == 0))
		return 405;
	return 0;
}

static bool model_length(const char *v, uint64_t *out)
{
	uint64_t n = 0;

	if (v == NULL || v[0] == '\0')
		return false;
	for (size_t i = 0; v[i] != '\0'; i++) {
		unsigned d;
		if (!isdigit((unsigned char)v[i]))
			return false;
		d = (unsigned)(v[i] - '0');
		if (n > UINT64_MAX / 10 || n * 10 > UINT64_MAX - d)
			n = UINT64_MAX;
		else
			n = n * 10 + d;
	}
	*out = n;
	return true;
}

static char *copy(const uint8_t *p, size_t n)
{
	return fuzz_cstr(p, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct field fs[FIELDS_MAX];
	struct http_framing f;
	size_t nf = 0, at, eol;
	const uint8_t *nl;
	bool http_1_0, link_route;
	char *method;
	const char *why, *kept;
	uint64_t got = 0, want = 0;
	unsigned count;
	int status;

	if (size < 1)
		return 0;
	http_1_0 = (data[0] & 1) != 0;
	link_route = (data[0] & 2) != 0;
	at = 1;
	nl = memchr(data + at, '\n', size - at);
	eol = nl != NULL ? (size_t)(nl - data) : size;
	method = copy(data + at, eol - at);
	at = eol < size ? eol + 1 : size;
	while (at < size && nf < FIELDS_MAX) {
		const uint8_t *colon;
		nl = memchr(data + at, '\n', size - at);
		eol = nl != NULL ? (size_t)(nl - data) : size;
		colon = memchr(data + at, ':', eol - at);
		if (colon != NULL) {
			size_t c = (size_t)(colon - data);
			fs[nf].name = copy(data + at, c - at);
			fs[nf].name_len = c - at;
			fs[nf].value = copy(data + c + 1, eol - c - 1);
		} else {
			fs[nf].name = copy(data + at, eol - at);
			fs[nf].name_len = eol - at;
			fs[nf].value = NULL;
		}
		nf++;
		at = eol + 1;
	}

	http_framing_init(&f);
	for (size_t i = 0; i < nf; i++)
		http_framing_field(&f, fs[i].name, fs[i].name_len, fs[i].value);
	status = http_framing_refusal(&f, http_1_0, method, link_route, &why);
	FUZZ_CHECK(status == model_status(fs, nf, http_1_0, method, link_route));
	FUZZ_CHECK((status == 0) == (why == NULL));

	kept = first_value(fs, nf, "Content-Length", &count);
	FUZZ_CHECK(http_framing_length(&f, &got) == model_length(kept, &want));
	FUZZ_CHECK(got == want);
	FUZZ_CHECK(f.expect == first_value(fs, nf, "Expect", &count));
	FUZZ_CHECK(f.accept == first_value(fs, nf, "Accept", &count));
	FUZZ_CHECK(f.user_agent == first_value(fs, nf, "User-Agent", &count));
	FUZZ_CHECK(f.referer == first_value(fs, nf, "Referer", &count));

	for (size_t i = 0; i < nf; i++) {
		free(fs[i].name);
		free(fs[i].value);
	}
	free(method);
	return 0;
}
