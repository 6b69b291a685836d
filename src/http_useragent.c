/*
 * Crawler and link-preview detection by User-Agent substring. The list is
 * the agents that fetch links people paste into chats and social sites, and
 * the big search crawlers; matching ignores case.
 */
#include "http_useragent.h"

#include <stddef.h>

/* Lower case, by first letter: markers_at() picks the ones a letter can
 * begin, and stops[] below must hold that letter. Each is two letters at
 * least (the scan compares from the second). "bot" is matched by
 * is_bot_at(): Googlebot, bingbot, Slackbot, Twitterbot, LinkedInBot,
 * Discordbot, ... */
static const char *const markers_c[] = {"crawler", NULL};
static const char *const markers_e[] = {"embedly", NULL};
static const char *const markers_f[] = {"facebookexternalhit", "facebookcatalog", NULL};
static const char *const markers_p[] = {"pinterest", "preview", NULL};
static const char *const markers_q[] = {"quora link preview", NULL};
static const char *const markers_s[] = {"spider", "slack-imgproxy", "skypeuripreview", NULL};
static const char *const markers_v[] = {"vkshare", NULL};
static const char *const markers_w[] = {"whatsapp", NULL};

static const char *const *markers_at(char c)
{
	switch (c) {
	case 'c':
		return markers_c;
	case 'e':
		return markers_e;
	case 'f':
		return markers_f;
	case 'p':
		return markers_p;
	case 'q':
		return markers_q;
	case 's':
		return markers_s;
	case 'v':
		return markers_v;
	case 'w':
		return markers_w;
	default:
		return NULL;
	}
}

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

/* The bytes a scan stops at: NUL (the end) and the first letters of the
 * markers in either case, each as its lower-case letter. Every other byte
 * is passed over by one load and one test, which is most of a browser's
 * agent. */
#define STOP_END 1
#define LETTER(c) [c] = c, [c - 'a' + 'A'] = c
static const unsigned char stops[256] = {
    [0] = STOP_END, LETTER('b'), LETTER('c'), LETTER('e'), LETTER('f'),
    LETTER('p'),    LETTER('q'), LETTER('s'), LETTER('v'), LETTER('w'),
};
#undef LETTER

/* The next byte at or after p that stops a scan: four bytes a turn. A NUL
 * is one, so nothing past the agent's end is read. */
static const char *next_stop(const char *p)
{
	for (;; p += 4) {
		if (stops[(unsigned char)p[0]] != 0)
			return p;
		if (stops[(unsigned char)p[1]] != 0)
			return p + 1;
		if (stops[(unsigned char)p[2]] != 0)
			return p + 2;
		if (stops[(unsigned char)p[3]] != 0)
			return p + 3;
	}
}

/* One pass over the agent: only a position whose letter begins a marker
 * compares further, and only with the markers that letter begins, each
 * from its second letter (most of a browser's stops fail there). */
bool http_useragent_is_bot(const char *user_agent)
{
	if (user_agent == NULL)
		return false;
	for (const char *p = next_stop(user_agent);; p = next_stop(p + 1)) {
		unsigned char c = stops[(unsigned char)*p];

		if (c == STOP_END)
			return false;
		if (c == 'b') {
			if (is_bot_at(user_agent, p))
				return true;
			continue;
		}
		for (const char *const *m = markers_at((char)c); m != NULL && *m != NULL; m++) {
			if (lower(p[1]) == (*m)[1] && starts_nocase(p + 2, *m + 2))
				return true;
		}
	}
}
