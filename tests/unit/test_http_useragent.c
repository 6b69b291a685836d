/*
 * Unit tests of http_useragent.c: the User-Agents of well-known crawlers and link
 * preview bots are bots; those of real browsers and plain HTTP clients are
 * not (their clicks count toward max_clicks).
 */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "http_useragent.h"
#include "test_random.h"

static const char *const bots[] = {
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Googlebot/2.1; +http://www.google.com/bot.html) "
    "Chrome/120.0.6099.129 Safari/537.36",
    "Googlebot-Image/1.0",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Slack-ImgProxy (+https://api.slack.com/robots)",
    "Twitterbot/1.0",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "facebookcatalog/1.0",
    "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "TelegramBot (like TwitterBot)",
    "WhatsApp/2.23.20.0 A",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 "
    "Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)",
    "DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)",
    "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
    "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
    "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5",
    "Pinterest/0.2 (+https://www.pinterest.com/bot.html)",
    "Mozilla/5.0 (compatible; Pinterestbot/1.0; +https://www.pinterest.com/bot.html)",
    "Mozilla/5.0 (compatible; redditbot/1.0; +http://www.reddit.com/feedback)",
    "Mozilla/5.0 (compatible; Embedly/0.2; +http://support.embed.ly/)",
    "Quora Link Preview/1.0",
    "Mozilla/5.0 (compatible; vkShare; +http://vk.com/dev/Share)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
    "Mozilla/5.0 (compatible; Bytespider; spider-feedback@bytedance.com)",
    "Mozilla/5.0 (compatible; MJ12bot/v1.4.8; http://mj12bot.com/)",
    "Mozilla/5.0 (compatible; Yahoo! Slurp; http://help.yahoo.com/help/us/ysearch/slurp) crawler",
    "GOOGLEBOT",
};

static const char *const browsers[] = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
    "Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 "
    "Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.2 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 "
    "Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
    "Safari/537.36 Edg/120.0.2210.91",
    "Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
    "Safari/537.36 OPR/106.0.0.0",
    "Mozilla/5.0 (iPad; CPU OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 "
    "Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 10; CUBOT_X30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
    "Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 11; CUBOT KINGKONG 7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/119.0.0.0 Mobile Safari/537.36",
    "curl/8.5.0",
    "Wget/1.21.3",
    "python-requests/2.31.0",
};

START_TEST(test_bot_agents)
{
	ck_assert_msg(http_useragent_is_bot(bots[_i]), "not a bot: %s", bots[_i]);
}
END_TEST

START_TEST(test_browser_agents)
{
	ck_assert_msg(!http_useragent_is_bot(browsers[_i]), "a bot: %s", browsers[_i]);
}
END_TEST

START_TEST(test_missing_agent_is_not_a_bot)
{
	ck_assert(!http_useragent_is_bot(NULL));
	ck_assert(!http_useragent_is_bot(""));
}
END_TEST

/* The rule, spelled out slowly: the agent in lower case, searched for each
 * marker; "bot" counts anywhere but after "cu". */
static bool reference_is_bot(const char *ua)
{
	static const char *const markers[] = {
	    "crawler",
	    "embedly",
	    "facebookexternalhit",
	    "facebookcatalog",
	    "pinterest",
	    "preview",
	    "quora link preview",
	    "spider",
	    "slack-imgproxy",
	    "skypeuripreview",
	    "vkshare",
	    "whatsapp",
	};
	char low[512];
	size_t n = strlen(ua);

	for (size_t i = 0; i <= n; i++)
		low[i] = ua[i] >= 'A' && ua[i] <= 'Z' ? (char)(ua[i] - 'A' + 'a') : ua[i];
	for (size_t i = 0; i < sizeof(markers) / sizeof(markers[0]); i++) {
		if (strstr(low, markers[i]) != NULL)
			return true;
	}
	for (const char *b = strstr(low, "bot"); b != NULL; b = strstr(b + 1, "bot")) {
		if (!(b - low >= 2 && b[-2] == 'c' && b[-1] == 'u'))
			return true;
	}
	return false;
}

/* Agents made of the markers' pieces, whole or cut short, in either case,
 * after "cu" or not, among bytes of every class: the one-pass scan gives
 * the answer of the slow rule on each. */
START_TEST(test_agents_match_the_rule)
{
	static const char *const pieces[] = {
	    "bot",
	    "BoT",
	    "cu",
	    "CU",
	    "cubot",
	    "crawler",
	    "crawle",
	    "embedly",
	    "facebookexternalhit",
	    "facebookcatalog",
	    "facebook",
	    "pinterest",
	    "preview",
	    "PREVIEW",
	    "quora link preview",
	    "quora link",
	    "spider",
	    "slack-imgproxy",
	    "slack-",
	    "skypeuripreview",
	    "skype",
	    "vkshare",
	    "vk",
	    "whatsapp",
	    "whats",
	    "Mozilla/5.0 (",
	    "; ",
	    ") ",
	    "b",
	    "c",
	    "e",
	    "f",
	    "p",
	    "q",
	    "s",
	    "v",
	    "w",
	    "\x7f",
	    "\xc3\xa9",
	    "\xff",
	    "/",
	    " ",
	};
	uint32_t state = 2463534242u;
	char ua[400];

	for (int round = 0; round < 50000; round++) {
		size_t len = 0;
		int n = (int)(test_random(&state) % 12);

		for (int k = 0; k < n; k++) {
			const char *piece = pieces[test_random(&state) % (sizeof(pieces) / sizeof(pieces[0]))];
			size_t plen = strlen(piece);
			if (test_random(&state) % 4 == 0 && plen > 1)
				plen = 1 + test_random(&state) % (plen - 1); /* cut short */
			memcpy(ua + len, piece, plen);
			for (size_t i = len; i < len + plen; i++) {
				if (test_random(&state) % 3 == 0 && ua[i] >= 'a' && ua[i] <= 'z')
					ua[i] = (char)(ua[i] - 'a' + 'A');
			}
			len += plen;
		}
		ua[len] = '\0';
		ck_assert_msg(http_useragent_is_bot(ua) == reference_is_bot(ua), "\"%s\": %d", ua,
		              (int)http_useragent_is_bot(ua));
	}
}
END_TEST

Suite *http_useragent_suite(void)
{
	Suite *s = suite_create("http_useragent");
	TCase *tc = tcase_create("agents");

	tcase_add_loop_test(tc, test_bot_agents, 0, (int)(sizeof(bots) / sizeof(bots[0])));
	tcase_add_loop_test(tc, test_browser_agents, 0, (int)(sizeof(browsers) / sizeof(browsers[0])));
	tcase_add_test(tc, test_missing_agent_is_not_a_bot);
	tcase_add_test(tc, test_agents_match_the_rule);
	suite_add_tcase(s, tc);
	return s;
}
