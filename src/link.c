/*
 * The link model's rules: which codes are valid, which statuses, and whether
 * a link still redirects at a given time. Pure functions, no I/O.
 */
#include "link.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "byte_set.h"

/* Codes a link may not take (besides "admin..."). A word added here whose
 * first letter is new must add it to RESERVED_FIRSTS, below, too. */
#define WORD(s)                                                                                                        \
	{                                                                                                              \
		s, sizeof(s) - 1                                                                                       \
	}
static const struct {
	const char *word;
	size_t len;
} reserved_words[] = {WORD("api"), WORD("healthz"), WORD("metrics"), WORD("robots.txt"), WORD("favicon.ico")};
#undef WORD

void link_init(struct link *l)
{
	l->id = 0;
	l->code[0] = '\0';
	l->url[0] = '\0';
	l->status = 0;
	l->forward_query = false;
	l->disabled = false;
	l->created_at = 0;
	l->updated_at = 0;
	l->expires_at = LINK_NO_TIME;
	l->max_clicks = LINK_NO_LIMIT;
	l->clicks = 0;
	l->bot_clicks = 0;
	l->last_click_at = LINK_NO_TIME;
	l->title[0] = '\0';
	l->n_tags = 0;
	l->created_by[0] = '\0';
	l->updated_by[0] = '\0';
}

/* Counts the characters of s[0..len) into *chars: -1 when s is not valid
 * UTF-8 (RFC 3629: no overlong forms, surrogates or values past U+10FFFF)
 * or holds a control character. */
static enum link_label_error label_text(const char *s, size_t len, size_t *chars)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n = 0;

	while (i < len) {
		unsigned c = p[i], v, k, need;
		need = c < 0x80                 ? 1
		       : c >= 0xC2 && c <= 0xDF ? 2
		       : c >= 0xE0 && c <= 0xEF ? 3
		       : c >= 0xF0 && c <= 0xF4 ? 4
		                                : 0;
		if (need == 0 || len - i < need)
			return LINK_LABEL_BAD_UTF8;
		v = need == 1 ? c : need == 2 ? c & 0x1F : need == 3 ? c & 0x0F : c & 0x07;
		for (k = 1; k < need; k++) {
			if ((p[i + k] & 0xC0) != 0x80)
				return LINK_LABEL_BAD_UTF8;
			v = (v << 6) | (p[i + k] & 0x3F);
		}
		if ((need == 3 && v < 0x800) || (need == 4 && v < 0x10000) || v > 0x10FFFF ||
		    (v >= 0xD800 && v <= 0xDFFF))
			return LINK_LABEL_BAD_UTF8;
		if (v < 0x20 || (v >= 0x7F && v <= 0x9F))
			return LINK_LABEL_CONTROL;
		i += need;
		n++;
	}
	*chars = n;
	return LINK_LABEL_OK;
}

enum link_label_error link_title_check(const char *title, size_t len)
{
	size_t chars;

	if (len > LINK_TITLE_MAX)
		return LINK_LABEL_TOO_LONG;
	return label_text(title, len, &chars);
}

enum link_label_error link_tag_check(const char *tag, size_t len)
{
	size_t chars = 0;
	enum link_label_error e;

	if (len == 0)
		return LINK_LABEL_EMPTY;
	if (len > LINK_TAG_MAX)
		return LINK_LABEL_TOO_LONG;
	e = label_text(tag, len, &chars);
	if (e != LINK_LABEL_OK)
		return e;
	return chars > LINK_TAG_CHARS_MAX ? LINK_LABEL_TOO_LONG : LINK_LABEL_OK;
}

enum link_label_error link_tag_add(char tags[][LINK_TAG_MAX + 1], int *n, const char *tag, size_t len)
{
	enum link_label_error e = link_tag_check(tag, len);

	if (e != LINK_LABEL_OK)
		return e;
	for (int i = 0; i < *n; i++) {
		if (strlen(tags[i]) == len && memcmp(tags[i], tag, len) == 0)
			return LINK_LABEL_OK;
	}
	if (*n >= LINK_TAGS_MAX)
		return LINK_LABEL_TOO_MANY;
	memcpy(tags[*n], tag, len);
	tags[*n][len] = '\0';
	(*n)++;
	return LINK_LABEL_OK;
}

const char *link_label_error_message(enum link_label_error e)
{
	switch (e) {
	case LINK_LABEL_OK:
		return "valid";
	case LINK_LABEL_EMPTY:
		return "a tag must not be empty";
	case LINK_LABEL_TOO_LONG:
		return "too long (a title is at most 512 bytes, a tag at most 64 characters)";
	case LINK_LABEL_BAD_UTF8:
		return "not valid UTF-8";
	case LINK_LABEL_CONTROL:
		return "contains a control character";
	case LINK_LABEL_TOO_MANY:
		return "a link has at most 32 tags";
	}
	return "invalid label";
}

/* A code's bytes: A-Z, a-z, 0-9, '_' and '-'. Every redirect checks its
 * code: one load a byte. */
static const bool code_char[256] = {BYTE_SET_LETTERS, BYTE_SET_DIGITS, ['_'] = true, ['-'] = true};

static bool is_code_char(unsigned char c)
{
	return code_char[c];
}

/* The lower-case first letters of "admin..." and the reserved words: a bit
 * each, so most codes are passed after one test. */
#define FIRST(c) (1u << ((c) - 'a'))
#define RESERVED_FIRSTS (FIRST('a') | FIRST('f') | FIRST('h') | FIRST('m') | FIRST('r'))

/* Every redirect asks: a word is compared only when the code's first
 * letter, in either case, is the word's (code[0] | 0x20 equals a lower-case
 * letter only for that letter in either case). */
bool link_code_is_reserved(const char *code, size_t len)
{
	unsigned char first = (unsigned char)code[0] | 0x20;

	if (first < 'a' || first > 'z' || !(RESERVED_FIRSTS & FIRST(first)))
		return false;
	if (len >= 5 && first == 'a' && strncasecmp(code, "admin", 5) == 0)
		return true;
	for (size_t i = 0; i < sizeof(reserved_words) / sizeof(reserved_words[0]); i++) {
		if (reserved_words[i].len == len && first == (unsigned char)reserved_words[i].word[0] &&
		    strncasecmp(code, reserved_words[i].word, len) == 0)
			return true;
	}
	return false;
}
#undef RESERVED_FIRSTS
#undef FIRST

bool link_code_is_kept_by_api(const char *code)
{
	return strcmp(code, "export") == 0;
}

enum link_code_error link_code_syntax(const char *code, size_t *len)
{
	size_t n = 0;

	if (code == NULL || code[0] == '\0')
		return LINK_CODE_EMPTY;
	for (; code[n] != '\0'; n++) {
		if (n >= LINK_CODE_MAX)
			return LINK_CODE_TOO_LONG;
		if (!is_code_char((unsigned char)code[n]))
			return LINK_CODE_BAD_CHAR;
	}
	*len = n;
	return LINK_CODE_OK;
}

enum link_code_error link_code_check(const char *code)
{
	size_t len;
	enum link_code_error e = link_code_syntax(code, &len);

	if (e != LINK_CODE_OK)
		return e;
	if (link_code_is_reserved(code, len))
		return LINK_CODE_RESERVED;
	return LINK_CODE_OK;
}

const char *link_code_error_message(enum link_code_error e)
{
	switch (e) {
	case LINK_CODE_OK:
		return "valid code";
	case LINK_CODE_EMPTY:
		return "code must not be empty";
	case LINK_CODE_TOO_LONG:
		return "code must be at most 64 characters";
	case LINK_CODE_BAD_CHAR:
		return "code may contain only A-Z, a-z, 0-9, '_' and '-'";
	case LINK_CODE_RESERVED:
		return "code is reserved (api, admin..., healthz, metrics)";
	}
	return "invalid code";
}

bool link_status_is_valid(int status)
{
	return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

enum link_state link_state_at(const struct link *l, int64_t now, int64_t clicks)
{
	if (l->disabled)
		return LINK_DISABLED;
	if (l->expires_at != LINK_NO_TIME && now >= l->expires_at)
		return LINK_EXPIRED;
	if (l->max_clicks != LINK_NO_LIMIT && clicks >= l->max_clicks)
		return LINK_EXHAUSTED;
	return LINK_ACTIVE;
}

/* ---- tags as stored: a JSON array of strings ---- */

/* The four hex digits at p as a number; -1 when they are not. */
static long hex4(const char *p)
{
	long v = 0;

	for (int i = 0; i < 4; i++) {
		char c = p[i];
		int d = c >= '0' && c <= '9'   ? c - '0'
		        : c >= 'a' && c <= 'f' ? c - 'a' + 10
		        : c >= 'A' && c <= 'F' ? c - 'A' + 10
		                               : -1;
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/* Appends code point v to out[*n] as UTF-8 while it fits in size. */
static bool put_utf8(char *out, size_t size, size_t *n, unsigned long v)
{
	unsigned char b[4];
	size_t k = v < 0x80 ? 1 : v < 0x800 ? 2 : v < 0x10000 ? 3 : 4;

	if (k == 1) {
		b[0] = (unsigned char)v;
	} else {
		for (size_t i = k - 1; i > 0; i--, v >>= 6)
			b[i] = (unsigned char)(0x80 | (v & 0x3F));
		b[0] = (unsigned char)((k == 2 ? 0xC0 : k == 3 ? 0xE0 : 0xF0) | v);
	}
	if (*n + k >= size)
		return false;
	memcpy(out + *n, b, k);
	*n += k;
	return true;
}

void link_tags_from_json(const char *s, struct link *l)
{
	l->n_tags = 0;
	if (s == NULL || *s++ != '[')
		return;
	while (l->n_tags < LINK_TAGS_MAX) {
		char *out = l->tags[l->n_tags];
		size_t n = 0;

		while (*s == ' ' || *s == ',' || *s == '\n' || *s == '\t' || *s == '\r')
			s++;
		if (*s++ != '"')
			return;
		for (; *s != '"'; s++) {
			unsigned long v = (unsigned char)*s;
			if (*s == '\0')
				return;
			if (*s == '\\') {
				static const char named[] = "\"\\/bfnrt", plain[] = "\"\\/\b\f\n\r\t";
				const char *esc;
				long hi, lo;
				s++;
				if (*s == 'u' && (hi = hex4(s + 1)) >= 0) {
					s += 4;
					v = (unsigned long)hi;
					if (hi >= 0xD800 && hi <= 0xDBFF && s[1] == '\\' && s[2] == 'u' &&
					    (lo = hex4(s + 3)) >= 0xDC00 && lo <= 0xDFFF) {
						v = 0x10000 + (((unsigned long)hi - 0xD800) << 10) +
						    ((unsigned long)lo - 0xDC00);
						s += 6;
					}
					if (!put_utf8(out, LINK_TAG_MAX + 1, &n, v))
						return;
					continue;
				}
				esc = *s != '\0' ? strchr(named, *s) : NULL;
				if (esc == NULL)
					return;
				v = (unsigned char)plain[esc - named];
			}
			if (n + 1 >= LINK_TAG_MAX + 1)
				return;
			out[n++] = (char)v;
		}
		s++;
		out[n] = '\0';
		l->n_tags++;
	}
}

char *link_tags_to_json(const struct link *l)
{
	size_t size = 3, n = 0;
	char *out;

	for (int i = 0; i < l->n_tags; i++)
		size += 6 * strlen(l->tags[i]) + 3;
	out = malloc(size);
	if (out == NULL)
		return NULL;
	out[n++] = '[';
	for (int i = 0; i < l->n_tags; i++) {
		if (i > 0)
			out[n++] = ',';
		out[n++] = '"';
		for (const unsigned char *p = (const unsigned char *)l->tags[i]; *p != '\0'; p++) {
			if (*p == '"' || *p == '\\') {
				out[n++] = '\\';
				out[n++] = (char)*p;
			} else if (*p < 0x20) {
				n += (size_t)snprintf(out + n, size - n, "\\u%04x", *p);
			} else {
				out[n++] = (char)*p;
			}
		}
		out[n++] = '"';
	}
	out[n++] = ']';
	out[n] = '\0';
	return out;
}
