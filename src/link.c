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
