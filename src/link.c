/*
 * The link model's rules: which codes are valid, which statuses, and whether
 * a link still redirects at a given time. Pure functions, no I/O.
 */
#include "link.h"

#include <string.h>
#include <strings.h>

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

static bool is_code_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

bool link_code_is_reserved(const char *code, size_t len)
{
	if (len >= 5 && strncasecmp(code, "admin", 5) == 0)
		return true;
	for (size_t i = 0; i < sizeof(reserved_words) / sizeof(reserved_words[0]); i++) {
		if (reserved_words[i].len == len && strncasecmp(code, reserved_words[i].word, len) == 0)
			return true;
	}
	return false;
}

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
