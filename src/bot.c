/*
 * Crawler and link-preview detection by User-Agent substring. The list is
 * the agents that fetch links people paste into chats and social sites, and
 * the big search crawlers; matching ignores case.
 */
#include "bot.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

static const char *const bot_markers[] = {
	"bot", /* matched by contains_bot(): Googlebot, bingbot, Slackbot, Twitterbot, LinkedInBot, Discordbot, ... */
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

static bool contains_nocase(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	/* The markers are lower case: c | 0x20 lowers a letter, so only a
	 * position whose first letter matches pays for strncasecmp. */
	for (; *hay != '\0'; hay++) {
		if ((*hay | 0x20) == needle[0] && strncasecmp(hay, needle, n) == 0)
			return true;
	}
	return false;
}

/* "bot" anywhere but in "CUBOT", a phone maker whose model names appear in
 * real browsers' agents ("Android 10; CUBOT_X30"). */
static bool contains_bot(const char *ua)
{
	for (const char *p = ua; *p != '\0'; p++) {
		if ((*p | 0x20) == 'b' && strncasecmp(p, "bot", 3) == 0 &&
		    !(p - ua >= 2 && strncasecmp(p - 2, "cu", 2) == 0))
			return true;
	}
	return false;
}

bool bot_is_bot(const char *user_agent)
{
	if (user_agent == NULL || user_agent[0] == '\0')
		return false;
	if (contains_bot(user_agent))
		return true;
	for (size_t i = 1; i < sizeof(bot_markers) / sizeof(bot_markers[0]); i++) {
		if (contains_nocase(user_agent, bot_markers[i]))
			return true;
	}
	return false;
}
