/*
 * Well-known crawlers and link-preview bots, by User-Agent. Their clicks
 * are counted apart and never count toward max_clicks.
 */
#ifndef SHORTD_HTTP_USERAGENT_H
#define SHORTD_HTTP_USERAGENT_H

#include <stdbool.h>

/* True when user_agent names a crawler or preview bot; NULL is not a bot. */
bool http_useragent_is_bot(const char *user_agent);

#endif
