/*
 * Link -> JSON. Times are RFC 3339 UTC; absent options are null.
 */
#include "link_json.h"

#include <stdio.h>

#include "rfc3339.h"

json_t *link_json_time_or_null(int64_t t)
{
	char buf[RFC3339_LEN + 1];

	if (t == LINK_NO_TIME)
		return json_null();
	rfc3339_format(t, buf);
	return json_string(buf);
}

int link_json_short_url(const char *base_url, const char *code, char *out, size_t outsize)
{
	int n = snprintf(out, outsize, "%s/%s", base_url, code);
	return n < 0 || (size_t)n >= outsize ? -1 : 0;
}

json_t *link_json_encode(const struct link *l, const char *base_url, int64_t clicks)
{
	char short_url[1200];

	if (link_json_short_url(base_url, l->code, short_url, sizeof(short_url)) != 0)
		short_url[0] = '\0';
	return json_pack("{s:s, s:s, s:s, s:i, s:b, s:o, s:o, s:o, s:o, s:I, s:b}",
			 "code", l->code,
			 "short_url", short_url,
			 "url", l->url,
			 "status", l->status,
			 "forward_query", l->forward_query,
			 "created_at", link_json_time_or_null(l->created_at),
			 "updated_at", link_json_time_or_null(l->updated_at),
			 "expires_at", link_json_time_or_null(l->expires_at),
			 "max_clicks", l->max_clicks == LINK_NO_LIMIT ? json_null() : json_integer(l->max_clicks),
			 "clicks", (json_int_t)clicks,
			 "disabled", l->disabled);
}
