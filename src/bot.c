/*
 * Crawler and link-preview detection by User-Agent substring. The list is
 * the agents that fetch links people paste into chats and social sites, and
 * the big search crawlers; matching ignores case.
 */
#include "bot.h"

#include <stddef.h>

/* Lower case; begins_marker() lists their first letters. */
static const char *const bot_markers[] = {
	"bot", /* matched by is_bot_at(): Googlebot, bingbot, Slackbot, Twitterbot, LinkedInBot, Discordbot, ... */
	"crawler",
	"spider",
	"facebookexternalhit",
	"facebookcatalog",
	"slack-imgproxy",
	"whatsapp",
	"skypeuripreview",
	"embedly",
	"quora link preview",
	"pinterest",
	"vkshare",
	"preview",
};

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c;
}

/* True when the text at p starts with the lower-case marker m, letters in
 * any case. A NUL never matches, so it stops at the text's end. */
static bool starts_nocase(const char *p, const char *m)
{
	for (; *m != '\0'; p++, m++) {
		if (lower(*p) != *m)
			return false;
	}
	return true;
}

/* "bot" anywhere but in "CUBOT", a phone maker whose model names appear in
 * real browsers' agents ("Android 10; CUBOT_X30"). */
static bool is_bot_at(const char *ua, const char *p)
{
	return starts_nocase(p, "bot") && !(p - ua >= 2 && starts_nocase(p - 2, "cu"));
}

/* True for the lower-case letters that begin a marker. */
static bool begins_marker(char c)
{
	switch (c) {
	case 'b': case 'c': case 'e': case 'f': case 'p': case 'q': case 's': case 'v': case 'w':
		return true;
	default:
		return false;
	}
}

/* One pass over the agent: only a position whose letter begins a marker
 * compares further. */
bool bot_is_bot(const char *user_agent)
{
	if (user_agent == NULL)
		return false;
	for (const char *p = user_agent; *p != '\0'; p++) {
		char c = lower(*p);
		if (!begins_marker(c))
			continue;
		if (c == 'b') {
			if (is_bot_at(user_agent, p))
				return true;
			continue;
		}
		for (size_t i = 1; i < sizeof(bot_markers) / sizeof(bot_markers[0]); i++) {
			if (bot_markers[i][0] == c && starts_nocase(p, bot_markers[i]))
				return true;
		}
	}
	return false;
}
