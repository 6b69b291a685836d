/*
 * Every refusal of the admin API as data: one row per bad request with the
 * status and machine code it must get, run against the real daemon. Each
 * row also proves that a refused request changes nothing: the full listing
 * is the same text before and after it.
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_client.h"
#include "harness.h"

enum who { ADMIN, NOBODY, WRONG, READ_ONLY };

struct error_case {
	const char *name;
	enum who who;
	const char *method;
	const char *path;
	const char *content_type; /* NULL: application/json when there is a body */
	const char *body;         /* "%BASE%" becomes the daemon's base URL, "%PORT%" its port; NULL: none */
	long status;
	const char *code;
	const char *allow; /* expected Allow on 405 */
};

#define C "/api/v1/links"
#define U "\"url\":\"https://t.example/p\""
#define T "/api/v1/tokens"
#define N "\"name\":\"new\""
#define R "\"role\":\"admin\""

static const struct error_case cases[] = {
    /* JSON itself */
    {"not JSON", ADMIN, "POST", C, NULL, "{", 400, "invalid_json", NULL},
    {"trailing garbage", ADMIN, "POST", C, NULL, "{" U "} x", 400, "invalid_json", NULL},
    {"an array of numbers", ADMIN, "POST", C, NULL, "[1,2]", 400, "invalid_json", NULL},
    {"a string", ADMIN, "POST", C, NULL, "\"https://t.example\"", 400, "invalid_json", NULL},
    {"empty body", ADMIN, "POST", C, NULL, "", 400, "invalid_json", NULL},
    {"duplicate key", ADMIN, "POST", C, NULL, "{" U "," U "}", 400, "invalid_json", NULL},
    {"NUL in a string", ADMIN, "POST", C, NULL, "{\"url\":\"https://t.example/\\u0000x\"}", 400, "invalid_json", NULL},
    /* wrong JSON types */
    {"url a number", ADMIN, "POST", C, NULL, "{\"url\":5}", 400, "invalid_type", NULL},
    {"url null", ADMIN, "POST", C, NULL, "{\"url\":null}", 400, "invalid_type", NULL},
    {"code a number", ADMIN, "POST", C, NULL, "{" U ",\"code\":5}", 400, "invalid_type", NULL},
    {"status a string", ADMIN, "POST", C, NULL, "{" U ",\"status\":\"301\"}", 400, "invalid_type", NULL},
    {"status a real", ADMIN, "POST", C, NULL, "{" U ",\"status\":301.0}", 400, "invalid_type", NULL},
    {"forward_query a string", ADMIN, "POST", C, NULL, "{" U ",\"forward_query\":\"yes\"}", 400, "invalid_type", NULL},
    {"max_clicks a string", ADMIN, "POST", C, NULL, "{" U ",\"max_clicks\":\"5\"}", 400, "invalid_type", NULL},
    {"max_clicks a real", ADMIN, "POST", C, NULL, "{" U ",\"max_clicks\":1.5}", 400, "invalid_type", NULL},
    {"expires_at a number", ADMIN, "POST", C, NULL, "{" U ",\"expires_at\":1893456000}", 400, "invalid_type", NULL},
    /* unknown fields */
    {"unknown field", ADMIN, "POST", C, NULL, "{" U ",\"colour\":\"red\"}", 400, "unknown_field", NULL},
    {"disabled on create", ADMIN, "POST", C, NULL, "{" U ",\"disabled\":true}", 400, "unknown_field", NULL},
    {"clicks on create", ADMIN, "POST", C, NULL, "{" U ",\"clicks\":5}", 400, "unknown_field", NULL},
    /* labels */
    {"title over 512 bytes", ADMIN, "POST", C, NULL, "LONGTITLE", 400, "invalid_title", NULL},
    {"title with a C1 control", ADMIN, "POST", C, NULL, "{" U ",\"title\":\"a\\u0085b\"}", 400, "invalid_title", NULL},
    {"title with a newline", ADMIN, "POST", C, NULL, "{" U ",\"title\":\"a\\nb\"}", 400, "invalid_title", NULL},
    {"title an array", ADMIN, "POST", C, NULL, "{" U ",\"title\":[\"a\"]}", 400, "invalid_type", NULL},
    {"tag with a control character", ADMIN, "POST", C, NULL, "{" U ",\"tags\":[\"a\\u001bb\"]}", 400, "invalid_tags",
     NULL},
    {"tag with DEL", ADMIN, "POST", C, NULL, "{" U ",\"tags\":[\"a\\u007f\"]}", 400, "invalid_tags", NULL},
    {"tag empty", ADMIN, "POST", C, NULL, "{" U ",\"tags\":[\"\"]}", 400, "invalid_tags", NULL},
    {"10,000 tags", ADMIN, "POST", C, NULL, "MANYTAGS", 400, "invalid_tags", NULL},
    {"33 tags", ADMIN, "POST", C, NULL, "TAGS33", 400, "invalid_tags", NULL},
    {"tags an object", ADMIN, "POST", C, NULL, "{" U ",\"tags\":{\"a\":1}}", 400, "invalid_type", NULL},
    {"a tag null", ADMIN, "POST", C, NULL, "{" U ",\"tags\":[null]}", 400, "invalid_type", NULL},
    {"reuse a number", ADMIN, "POST", C, NULL, "{" U ",\"reuse\":1}", 400, "invalid_type", NULL},
    {"patch title over 512 bytes", ADMIN, "PATCH", C "/taken", NULL, "LONGTITLE", 400, "invalid_title", NULL},
    {"patch tag with a control character", ADMIN, "PATCH", C "/taken", NULL, "{\"tags\":[\"\\t\"]}", 400,
     "invalid_tags", NULL},
    {"patch 10,000 tags", ADMIN, "PATCH", C "/taken", NULL, "MANYTAGS", 400, "invalid_tags", NULL},
    {"patch an array", ADMIN, "PATCH", C "/taken", NULL, "[{\"disabled\":true}]", 400, "invalid_json", NULL},
    {"patch title a number", ADMIN, "PATCH", C "/taken", NULL, "{\"title\":5}", 400, "invalid_type", NULL},
    {"patch a tag a number", ADMIN, "PATCH", C "/taken", NULL, "{\"tags\":[\"a\",5]}", 400, "invalid_type", NULL},
    {"patch tags a string", ADMIN, "PATCH", C "/taken", NULL, "{\"tags\":\"a\"}", 400, "invalid_type", NULL},
    {"patch title then a bad tag", ADMIN, "PATCH", C "/taken", NULL, "{\"title\":\"new\",\"tags\":[\"\"]}", 400,
     "invalid_tags", NULL},
    /* bulk create: all or none */
    {"bulk with a bad url at 2", ADMIN, "POST", C, NULL,
     "[{\"url\":\"https://t.example/1\",\"code\":\"b1\"},{\"url\":\"https://t.example/2\"},{\"url\":\"ftp://x\"}]", 400,
     "invalid_url", NULL},
    {"bulk with a bad tag at 1", ADMIN, "POST", C, NULL,
     "[{\"url\":\"https://t.example/1\",\"code\":\"b1\"},{\"url\":\"https://t.example/2\",\"tags\":[\"\\u0001\"]}]",
     400, "invalid_tags", NULL},
    {"bulk with a taken code at 1", ADMIN, "POST", C, NULL,
     "[{\"url\":\"https://t.example/1\",\"code\":\"b1\"},{\"url\":\"https://t.example/2\",\"code\":\"taken\"}]", 409,
     "code_taken", NULL},
    {"bulk with one code twice", ADMIN, "POST", C, NULL,
     "[{\"url\":\"https://t.example/1\",\"code\":\"b1\"},{\"url\":\"https://t.example/2\",\"code\":\"b1\"}]", 409,
     "code_taken", NULL},
    {"bulk with an unknown field", ADMIN, "POST", C, NULL, "[{" U "},{" U ",\"colour\":1}]", 400, "unknown_field",
     NULL},
    {"bulk of nothing", ADMIN, "POST", C, NULL, "[]", 400, "invalid_json", NULL},
    {"bulk of 1001", ADMIN, "POST", C, NULL, "BULK1001", 400, "invalid_json", NULL},
    {"bulk of arrays", ADMIN, "POST", C, NULL,
     "[["
     "{" U "}"
     "]]",
     400, "invalid_json", NULL},
    {"bulk read-only", READ_ONLY, "POST", C, NULL, "[{" U "}]", 403, "forbidden", NULL},
    /* URL rules */
    {"url missing", ADMIN, "POST", C, NULL, "{\"code\":\"abc\"}", 400, "invalid_url", NULL},
    {"url empty", ADMIN, "POST", C, NULL, "{\"url\":\"\"}", 400, "invalid_url", NULL},
    {"url relative", ADMIN, "POST", C, NULL, "{\"url\":\"/p\"}", 400, "invalid_url", NULL},
    {"url ftp", ADMIN, "POST", C, NULL, "{\"url\":\"ftp://t.example/f\"}", 400, "invalid_url", NULL},
    {"url javascript", ADMIN, "POST", C, NULL, "{\"url\":\"javascript:alert(1)\"}", 400, "invalid_url", NULL},
    {"url without host", ADMIN, "POST", C, NULL, "{\"url\":\"https:///p\"}", 400, "invalid_url", NULL},
    {"url with a space", ADMIN, "POST", C, NULL, "{\"url\":\"https://t.example/a b\"}", 400, "invalid_url", NULL},
    {"url with a tab", ADMIN, "POST", C, NULL, "{\"url\":\"https://t.example/a\\tb\"}", 400, "invalid_url", NULL},
    {"url with CR LF", ADMIN, "POST", C, NULL, "{\"url\":\"https://t.example/\\r\\nSet-Cookie: x=1\"}", 400,
     "invalid_url", NULL},
    {"url with a control byte", ADMIN, "POST", C, NULL, "{\"url\":\"https://t.example/\\u0001\"}", 400, "invalid_url",
     NULL},
    {"url to this daemon", ADMIN, "POST", C, NULL, "{\"url\":\"%BASE%/other\"}", 400, "invalid_url", NULL},
    {"url to this daemon as localhost", ADMIN, "POST", C, NULL, "{\"url\":\"http://LOCALHOST.:%PORT%/x\"}", 400,
     "invalid_url", NULL},
    {"url to this daemon as 127.1", ADMIN, "POST", C, NULL, "{\"url\":\"http://127.1:%PORT%/x\"}", 400, "invalid_url",
     NULL},
    {"url to this daemon as 2130706433", ADMIN, "POST", C, NULL, "{\"url\":\"http://2130706433:%PORT%/x\"}", 400,
     "invalid_url", NULL},
    {"url to this daemon as [::1]", ADMIN, "POST", C, NULL, "{\"url\":\"http://[::1]:%PORT%/x\"}", 400, "invalid_url",
     NULL},
    {"patch url to this daemon as localhost", ADMIN, "PATCH", C "/taken", NULL,
     "{\"url\":\"http://localhost:%PORT%/x\"}", 400, "invalid_url", NULL},
    {"url too long", ADMIN, "POST", C, NULL, "LONGURL", 400, "invalid_url", NULL},
    /* code rules */
    {"code empty", ADMIN, "POST", C, NULL, "{" U ",\"code\":\"\"}", 400, "invalid_code", NULL},
    {"code with a slash", ADMIN, "POST", C, NULL, "{" U ",\"code\":\"a/b\"}", 400, "invalid_code", NULL},
    {"code with a space", ADMIN, "POST", C, NULL, "{" U ",\"code\":\"a b\"}", 400, "invalid_code", NULL},
    {"code with a dot", ADMIN, "POST", C, NULL, "{" U ",\"code\":\"a.b\"}", 400, "invalid_code", NULL},
    {"code not ASCII", ADMIN, "POST", C, NULL, "{" U ",\"code\":\"caf\\u00e9\"}", 400, "invalid_code", NULL},
    {"code of 65", ADMIN, "POST", C, NULL, "LONGCODE", 400, "invalid_code", NULL},
    {"code api", ADMIN, "POST", C, NULL, "{" U ",\"code\":\"api\"}", 400, "invalid_code", NULL},
    {"code healthz", ADMIN, "POST", C, NULL, "{" U ",\"code\":\"healthz\"}", 400, "invalid_code", NULL},
    {"code metrics", ADMIN, "POST", C, NULL, "{" U ",\"code\":\"metrics\"}", 400, "invalid_code", NULL},
    {"code admin-x", ADMIN, "POST", C, NULL, "{" U ",\"code\":\"Admin-x\"}", 400, "invalid_code", NULL},
    {"code taken", ADMIN, "POST", C, NULL, "{" U ",\"code\":\"taken\"}", 409, "code_taken", NULL},
    /* values */
    {"status 300", ADMIN, "POST", C, NULL, "{" U ",\"status\":300}", 400, "invalid_status", NULL},
    {"status 200", ADMIN, "POST", C, NULL, "{" U ",\"status\":200}", 400, "invalid_status", NULL},
    {"status 0", ADMIN, "POST", C, NULL, "{" U ",\"status\":0}", 400, "invalid_status", NULL},
    {"status huge", ADMIN, "POST", C, NULL, "{" U ",\"status\":4294967597}", 400, "invalid_status", NULL},
    {"expires_at words", ADMIN, "POST", C, NULL, "{" U ",\"expires_at\":\"tomorrow\"}", 400, "invalid_expires_at",
     NULL},
    {"expires_at month 13", ADMIN, "POST", C, NULL, "{" U ",\"expires_at\":\"2030-13-01T00:00:00Z\"}", 400,
     "invalid_expires_at", NULL},
    {"expires_at no zone", ADMIN, "POST", C, NULL, "{" U ",\"expires_at\":\"2030-01-01T00:00:00\"}", 400,
     "invalid_expires_at", NULL},
    {"max_clicks -1", ADMIN, "POST", C, NULL, "{" U ",\"max_clicks\":-1}", 400, "invalid_max_clicks", NULL},
    {"max_clicks -7", ADMIN, "POST", C, NULL, "{" U ",\"max_clicks\":-7}", 400, "invalid_max_clicks", NULL},
    /* updates */
    {"patch bad url", ADMIN, "PATCH", C "/taken", NULL, "{\"url\":\"ftp://x\"}", 400, "invalid_url", NULL},
    {"patch url null", ADMIN, "PATCH", C "/taken", NULL, "{\"url\":null}", 400, "invalid_type", NULL},
    {"patch status 999", ADMIN, "PATCH", C "/taken", NULL, "{\"status\":999}", 400, "invalid_status", NULL},
    {"patch status null", ADMIN, "PATCH", C "/taken", NULL, "{\"status\":null}", 400, "invalid_type", NULL},
    {"patch max_clicks -1", ADMIN, "PATCH", C "/taken", NULL, "{\"max_clicks\":-1}", 400, "invalid_max_clicks", NULL},
    {"patch expires_at bad", ADMIN, "PATCH", C "/taken", NULL, "{\"expires_at\":\"2030-02-30T00:00:00Z\"}", 400,
     "invalid_expires_at", NULL},
    {"patch disabled a string", ADMIN, "PATCH", C "/taken", NULL, "{\"disabled\":\"no\"}", 400, "invalid_type", NULL},
    {"patch code", ADMIN, "PATCH", C "/taken", NULL, "{\"code\":\"other\"}", 400, "unknown_field", NULL},
    {"patch good then bad", ADMIN, "PATCH", C "/taken", NULL, "{\"disabled\":true,\"status\":1}", 400, "invalid_status",
     NULL},
    {"patch not JSON", ADMIN, "PATCH", C "/taken", NULL, "status=301", 400, "invalid_json", NULL},
    {"patch url too long", ADMIN, "PATCH", C "/taken", NULL, "LONGURL", 400, "invalid_url", NULL},
    {"patch max_clicks a string", ADMIN, "PATCH", C "/taken", NULL, "{\"max_clicks\":\"5\"}", 400, "invalid_type",
     NULL},
    {"patch missing link", ADMIN, "PATCH", C "/nope", NULL, "{\"disabled\":true}", 404, "not_found", NULL},
    /* listing and stats parameters */
    {"limit 0", ADMIN, "GET", C "?limit=0", NULL, NULL, 400, "invalid_limit", NULL},
    {"limit 1001", ADMIN, "GET", C "?limit=1001", NULL, NULL, 400, "invalid_limit", NULL},
    {"limit words", ADMIN, "GET", C "?limit=ten", NULL, NULL, 400, "invalid_limit", NULL},
    {"limit empty", ADMIN, "GET", C "?limit=", NULL, NULL, 400, "invalid_limit", NULL},
    {"limit negative", ADMIN, "GET", C "?limit=-5", NULL, NULL, 400, "invalid_limit", NULL},
    {"cursor garbage", ADMIN, "GET", C "?cursor=!!!", NULL, NULL, 400, "invalid_cursor", NULL},
    {"cursor plain id", ADMIN, "GET", C "?cursor=5", NULL, NULL, 400, "invalid_cursor", NULL},
    {"cursor other version", ADMIN, "GET", C "?cursor=djIuNQ", NULL, NULL, 400, "invalid_cursor", NULL},
    {"cursor empty", ADMIN, "GET", C "?cursor=", NULL, NULL, 400, "invalid_cursor", NULL},
    {"unknown parameter", ADMIN, "GET", C "?colour=red", NULL, NULL, 400, "invalid_parameter", NULL},
    {"misspelt tag", ADMIN, "GET", C "?tags=red", NULL, NULL, 400, "invalid_parameter", NULL},
    /* Quoted in the message, which must stay UTF-8: an overlong form and a
     * character past the BMP. */
    {"unknown parameter, overlong UTF-8", ADMIN, "GET", C "?%F0%80%80%80=1", NULL, NULL, 400, "invalid_parameter",
     NULL},
    {"unknown parameter, 4-byte UTF-8", ADMIN, "GET", C "?%F0%9F%98%80=1", NULL, NULL, 400, "invalid_parameter", NULL},
    {"unknown parameter after good ones", ADMIN, "GET", C "?limit=5&q=abc&x", NULL, NULL, 400, "invalid_parameter",
     NULL},
    {"q with a control character", ADMIN, "GET", C "?q=a%0Ab", NULL, NULL, 400, "invalid_parameter", NULL},
    {"q not UTF-8", ADMIN, "GET", C "?q=%FF", NULL, NULL, 400, "invalid_parameter", NULL},
    {"q of bad escapes", ADMIN, "GET", C "?q=%zz", NULL, NULL, 400, "invalid_parameter", NULL},
    {"url filter not http", ADMIN, "GET", C "?url=ftp%3A%2F%2Fx", NULL, NULL, 400, "invalid_parameter", NULL},
    {"tag filter empty", ADMIN, "GET", C "?tag=", NULL, NULL, 400, "invalid_parameter", NULL},
    {"tag filter with a control character", ADMIN, "GET", C "?tag=%07", NULL, NULL, 400, "invalid_parameter", NULL},
    {"limit with a plus, a space", ADMIN, "GET", C "?limit=+5", NULL, NULL, 400, "invalid_limit", NULL},
    {"cursor with a NUL", ADMIN, "GET", C "?cursor=%00", NULL, NULL, 400, "invalid_cursor", NULL},
    {"cursor v1 without a number", ADMIN, "GET", C "?cursor=djEueA", NULL, NULL, 400, "invalid_cursor", NULL},
    {"limit of 200 digits", ADMIN, "GET",
     C "?limit="
       "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
       "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
     NULL, NULL, 400, "invalid_limit", NULL},
    {"cursor v1 with a NUL", ADMIN, "GET", C "?cursor=djEuADU", NULL, NULL, 400, "invalid_cursor", NULL},
    {"stats days without a value", ADMIN, "GET", C "/taken/stats?days", NULL, NULL, 400, "invalid_days", NULL},
    {"qr margin of bad escapes", ADMIN, "GET", C "/taken/qr?margin=%zz", NULL, NULL, 400, "invalid_margin", NULL},
    {"qr format of bad escapes", ADMIN, "GET", C "/taken/qr?format=%zz", NULL, NULL, 400, "invalid_format", NULL},
    {"limit 0 after an empty parameter", ADMIN, "GET", C "?&limit=0", NULL, NULL, 400, "invalid_limit", NULL},
    {"qr margin 99 then an empty parameter", ADMIN, "GET", C "/taken/qr?margin=99&", NULL, NULL, 400, "invalid_margin",
     NULL},
    {"a path that only starts as links", ADMIN, "GET", C "x", NULL, NULL, 404, "not_found", NULL},
    {"an empty code before stats", ADMIN, "GET", C "//stats", NULL, NULL, 404, "not_found", NULL},
    {"token without a name, after an empty query", ADMIN, "POST", T "?", NULL, "{" R "}", 400, "invalid_name", NULL},
    {"limit without a value", ADMIN, "GET", C "?limit", NULL, NULL, 400, "invalid_limit", NULL},
    {"33 tag filters", ADMIN, "GET",
     C "?tag=t0&tag=t1&tag=t2&tag=t3&tag=t4&tag=t5&tag=t6&tag=t7&tag=t8&tag=t9&tag=t10&tag=t11&tag=t12&tag=t13&tag=t14&"
       "tag=t15&tag=t16&tag=t17&tag=t18&tag=t19&tag=t20&tag=t21&tag=t22&tag=t23&tag=t24&tag=t25&tag=t26&tag=t27&tag="
       "t28&tag=t29&tag=t30&tag=t31&tag=t32",
     NULL, NULL, 400, "invalid_parameter", NULL},
    {"stats days of bad escapes", ADMIN, "GET", C "/taken/stats?days=%zz", NULL, NULL, 400, "invalid_days", NULL},
    {"qr size of bad escapes", ADMIN, "GET", C "/taken/qr?size=%zz", NULL, NULL, 400, "invalid_size", NULL},
    {"export format of bad escapes", ADMIN, "GET", C "/export?format=%zz", NULL, NULL, 400, "invalid_format", NULL},
    {"export format without a value", ADMIN, "GET", C "/export?format", NULL, NULL, 400, "invalid_format", NULL},
    {"export format after an empty one", ADMIN, "GET", C "/export?&format=xml", NULL, NULL, 400, "invalid_format",
     NULL},
    {"export unknown parameter of 70 characters", ADMIN, "GET",
     C "/export?abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij=1", NULL, NULL, 400,
     "invalid_parameter", NULL},
    {"tokens PUT", ADMIN, "PUT", T, NULL, "{" N "," R "}", 405, "method_not_allowed", "GET, HEAD, POST"},
    {"a path that only starts as tokens", ADMIN, "GET", T "x", NULL, NULL, 404, "not_found", NULL},
    {"latin1 JSON after a tab", ADMIN, "POST", C, "application/json;\tcharset=iso-8859-1", "{" U "}", 415,
     "unsupported_media_type", NULL},
    {"stats days 0", ADMIN, "GET", C "/taken/stats?days=0", NULL, NULL, 400, "invalid_days", NULL},
    {"stats days 367", ADMIN, "GET", C "/taken/stats?days=367", NULL, NULL, 400, "invalid_days", NULL},
    /* media type and size */
    {"text/plain", ADMIN, "POST", C, "text/plain", "{" U "}", 415, "unsupported_media_type", NULL},
    {"form", ADMIN, "POST", C, "application/x-www-form-urlencoded", "url=https://t.example", 415,
     "unsupported_media_type", NULL},
    {"no content type", ADMIN, "POST", C, "", "{" U "}", 415, "unsupported_media_type", NULL},
    {"latin1 JSON", ADMIN, "POST", C, "application/json; charset=iso-8859-1", "{" U "}", 415, "unsupported_media_type",
     NULL},
    {"json-ish type", ADMIN, "POST", C, "application/jsonx", "{" U "}", 415, "unsupported_media_type", NULL},
    {"json with another parameter", ADMIN, "POST", C, "application/json ; boundary=x", "{" U "}", 415,
     "unsupported_media_type", NULL},
    {"json charset then more", ADMIN, "POST", C, "application/json; charset=\"utf-8\" x", "{" U "}", 415,
     "unsupported_media_type", NULL},
    {"patch text/plain", ADMIN, "PATCH", C "/taken", "text/plain", "{\"disabled\":true}", 415, "unsupported_media_type",
     NULL},
    {"body over the limit", ADMIN, "POST", C, NULL, "BIGBODY", 413, "payload_too_large", NULL},
    /* routes and methods */
    {"missing link", ADMIN, "GET", C "/nope", NULL, NULL, 404, "not_found", NULL},
    {"delete missing link", ADMIN, "DELETE", C "/nope", NULL, NULL, 404, "not_found", NULL},
    {"stats of missing link", ADMIN, "GET", C "/nope/stats", NULL, NULL, 404, "not_found", NULL},
    {"unknown endpoint", ADMIN, "GET", "/api/v1/users", NULL, NULL, 404, "not_found", NULL},
    {"unknown version", ADMIN, "GET", "/api/v2/links", NULL, NULL, 404, "not_found", NULL},
    {"below a link", ADMIN, "GET", C "/taken/other", NULL, NULL, 404, "not_found", NULL},
    {"trailing slash", ADMIN, "GET", C "/", NULL, NULL, 404, "not_found", NULL},
    {"code of 65 in the path", ADMIN, "GET", C "/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
     NULL, NULL, 404, "not_found", NULL},
    {"PUT collection", ADMIN, "PUT", C, NULL, "{" U "}", 405, "method_not_allowed", "GET, HEAD, POST"},
    {"DELETE collection", ADMIN, "DELETE", C, NULL, NULL, 405, "method_not_allowed", "GET, HEAD, POST"},
    {"POST link", ADMIN, "POST", C "/taken", NULL, "{" U "}", 405, "method_not_allowed", "GET, HEAD, PATCH, DELETE"},
    {"PUT link", ADMIN, "PUT", C "/taken", NULL, "{" U "}", 405, "method_not_allowed", "GET, HEAD, PATCH, DELETE"},
    {"DELETE stats", ADMIN, "DELETE", C "/taken/stats", NULL, NULL, 405, "method_not_allowed", "GET, HEAD"},
    /* tokens */
    {"no token", NOBODY, "POST", C, NULL, "{" U "}", 401, "unauthorized", NULL},
    {"no token read", NOBODY, "GET", C, NULL, NULL, 401, "unauthorized", NULL},
    {"wrong token", WRONG, "POST", C, NULL, "{" U "}", 401, "unauthorized", NULL},
    {"wrong token delete", WRONG, "DELETE", C "/taken", NULL, NULL, 401, "unauthorized", NULL},
    {"read-only create", READ_ONLY, "POST", C, NULL, "{" U "}", 403, "forbidden", NULL},
    {"read-only update", READ_ONLY, "PATCH", C "/taken", NULL, "{\"disabled\":true}", 403, "forbidden", NULL},
    {"read-only delete", READ_ONLY, "DELETE", C "/taken", NULL, NULL, 403, "forbidden", NULL},
    /* /api/v1/tokens: admin tokens only, and the same gates */
    {"tokens not JSON", ADMIN, "POST", T, NULL, "{", 400, "invalid_json", NULL},
    {"tokens an array", ADMIN, "POST", T, NULL, "[" N "]", 400, "invalid_json", NULL},
    {"tokens empty body", ADMIN, "POST", T, NULL, "", 400, "invalid_json", NULL},
    {"tokens duplicate key", ADMIN, "POST", T, NULL, "{" N "," N "," R "}", 400, "invalid_json", NULL},
    {"token name missing", ADMIN, "POST", T, NULL, "{" R "}", 400, "invalid_name", NULL},
    {"token name empty", ADMIN, "POST", T, NULL, "{\"name\":\"\"," R "}", 400, "invalid_name", NULL},
    {"token name with a space", ADMIN, "POST", T, NULL, "{\"name\":\"a b\"," R "}", 400, "invalid_name", NULL},
    {"token name with a tab", ADMIN, "POST", T, NULL, "{\"name\":\"a\\tb\"," R "}", 400, "invalid_name", NULL},
    {"token name not ASCII", ADMIN, "POST", T, NULL, "{\"name\":\"caf\\u00e9\"," R "}", 400, "invalid_name", NULL},
    {"token name of 65", ADMIN, "POST", T, NULL,
     "{\"name\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"," R "}", 400, "invalid_name",
     NULL},
    {"token name a number", ADMIN, "POST", T, NULL, "{\"name\":5," R "}", 400, "invalid_type", NULL},
    {"token name null", ADMIN, "POST", T, NULL, "{\"name\":null," R "}", 400, "invalid_type", NULL},
    {"token role missing", ADMIN, "POST", T, NULL, "{" N "}", 400, "invalid_role", NULL},
    {"token role root", ADMIN, "POST", T, NULL, "{" N ",\"role\":\"root\"}", 400, "invalid_role", NULL},
    {"token role read-only", ADMIN, "POST", T, NULL, "{" N ",\"role\":\"read-only\"}", 400, "invalid_role", NULL},
    {"token role in capitals", ADMIN, "POST", T, NULL, "{" N ",\"role\":\"ADMIN\"}", 400, "invalid_role", NULL},
    {"token role a number", ADMIN, "POST", T, NULL, "{" N ",\"role\":0}", 400, "invalid_type", NULL},
    {"token with its secret", ADMIN, "POST", T, NULL, "{" N "," R ",\"token\":\"mine\"}", 400, "unknown_field", NULL},
    {"token name taken", ADMIN, "POST", T, NULL, "{\"name\":\"viewer\"," R "}", 409, "name_taken", NULL},
    {"tokens with a filter", ADMIN, "GET", T "?role=read", NULL, NULL, 400, "invalid_parameter", NULL},
    {"token revoke with a query", ADMIN, "DELETE", T "/viewer?force=1", NULL, NULL, 400, "invalid_parameter", NULL},
    {"tokens read-only with a query", READ_ONLY, "GET", T "?x", NULL, NULL, 403, "forbidden", NULL},
    {"tokens text/plain", ADMIN, "POST", T, "text/plain", "{" N "," R "}", 415, "unsupported_media_type", NULL},
    {"tokens body over 64 KiB", ADMIN, "POST", T, NULL, "BIGBODY", 413, "payload_too_large", NULL},
    {"tokens PUT", ADMIN, "PUT", T, NULL, "{" N "," R "}", 405, "method_not_allowed", "GET, HEAD, POST"},
    {"tokens DELETE all", ADMIN, "DELETE", T, NULL, NULL, 405, "method_not_allowed", "GET, HEAD, POST"},
    {"token GET one", ADMIN, "GET", T "/viewer", NULL, NULL, 405, "method_not_allowed", "DELETE"},
    {"token PATCH", ADMIN, "PATCH", T "/viewer", NULL, "{" R "}", 405, "method_not_allowed", "DELETE"},
    {"token absent", ADMIN, "DELETE", T "/nobody", NULL, NULL, 404, "not_found", NULL},
    {"token name the caller's secret", ADMIN, "DELETE", T "/" API_TEST_TOKEN, NULL, NULL, 404, "not_found", NULL},
    {"token by its id", ADMIN, "DELETE", T "/1", NULL, NULL, 404, "not_found", NULL},
    {"token name in capitals", ADMIN, "DELETE", T "/VIEWER", NULL, NULL, 404, "not_found", NULL},
    {"token name with a space", ADMIN, "DELETE", T "/view%20er", NULL, NULL, 404, "not_found", NULL},
    {"token name with a tab", ADMIN, "DELETE", T "/view%09er", NULL, NULL, 404, "not_found", NULL},
    {"token name not ASCII", ADMIN, "DELETE", T "/caf%C3%A9", NULL, NULL, 404, "not_found", NULL},
    {"token name of 65", ADMIN, "DELETE", T "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL,
     NULL, 404, "not_found", NULL},
    {"below a token", ADMIN, "DELETE", T "/viewer/x", NULL, NULL, 404, "not_found", NULL},
    {"below a token, encoded", ADMIN, "DELETE", T "/viewer%2Fx", NULL, NULL, 404, "not_found", NULL},
    {"tokens trailing slash", ADMIN, "GET", T "/", NULL, NULL, 404, "not_found", NULL},
    {"tokens no token", NOBODY, "GET", T, NULL, NULL, 401, "unauthorized", NULL},
    {"tokens wrong token", WRONG, "POST", T, NULL, "{" N "," R "}", 401, "unauthorized", NULL},
    {"tokens read-only list", READ_ONLY, "GET", T, NULL, NULL, 403, "forbidden", NULL},
    {"tokens read-only create", READ_ONLY, "POST", T, NULL, "{" N "," R "}", 403, "forbidden", NULL},
    {"tokens read-only revoke", READ_ONLY, "DELETE", T "/viewer", NULL, NULL, 403, "forbidden", NULL},
    {"openapi POST", NOBODY, "POST", "/api/v1/openapi.json", NULL, "{}", 405, "method_not_allowed", "GET, HEAD"},
};

static struct daemon d;
static char read_only_token[128];

/* A daemon with one link "taken" and a read-only token "viewer". */
static void setup(void)
{
	static const char *const args[] = {"token", "create", "--name", "viewer", "--read-only", NULL};
	char out[256], err[256];
	json_t *l;

	client_daemon_start(&d, NULL);
	ck_assert_int_eq(shortd_run(d.db, out, sizeof(out), err, sizeof(err), args), 0);
	ck_assert_uint_eq(strlen(out), 44);
	memcpy(read_only_token, out, 43);
	read_only_token[43] = '\0';
	l = client_create_link(&d, "{\"url\":\"https://t.example/kept\",\"code\":\"taken\"}");
	json_decref(l);
}

static void teardown(void)
{
	fixture_stop(&d);
}

/* The tokens as `shortd token list` prints them, without the last use (a
 * refused request may be a use of its token). */
static void tokens_text(char *out, size_t size)
{
	static const char *const list[] = {"token", "list", NULL};
	char err[256];
	size_t o = 0;

	ck_assert_int_eq(shortd_run(d.db, out, size, err, sizeof(err), list), 0);
	/* keep name, role and creation time of each line */
	for (char *line = out, *next; *line != '\0'; line = next) {
		char *end = strchr(line, '\n'), *tab = line;
		next = end != NULL ? end + 1 : line + strlen(line);
		for (int k = 0; k < 3 && tab != NULL && tab < next; k++)
			tab = strchr(tab + 1, '\t');
		size_t keep = tab != NULL && tab < next ? (size_t)(tab - line) : strcspn(line, "\n");
		memmove(out + o, line, keep);
		o += keep;
		out[o++] = '\n';
	}
	out[o] = '\0';
}

/* The row's body with its placeholders filled in; the caller frees it. */
static char *case_body(const struct error_case *c)
{
	char *b;

	if (c->body == NULL)
		return NULL;
	if (strcmp(c->body, "LONGURL") == 0 || strcmp(c->body, "LONGCODE") == 0) {
		bool url = c->body[4] == 'U';
		size_t n = url ? 8200 : 65;
		b = malloc(n + 64);
		ck_assert_ptr_nonnull(b);
		if (url) {
			int k = sprintf(b, "{\"url\":\"https://t.example/");
			memset(b + k, 'a', n);
			strcpy(b + k + n, "\"}");
		} else {
			int k = sprintf(b, "{" U ",\"code\":\"");
			memset(b + k, 'a', n);
			strcpy(b + k + n, "\"}");
		}
		return b;
	}
	if (strcmp(c->body, "LONGTITLE") == 0) {
		b = malloc(600);
		ck_assert_ptr_nonnull(b);
		sprintf(b, "{%s\"title\":\"%0513d\"}", strcmp(c->method, "PATCH") == 0 ? "" : U ",", 0);
		return b;
	}
	if (strcmp(c->body, "MANYTAGS") == 0 || strcmp(c->body, "TAGS33") == 0) {
		int n = c->body[0] == 'M' ? 10000 : 33, k;
		b = malloc((size_t)n * 16 + 64);
		ck_assert_ptr_nonnull(b);
		k = sprintf(b, "{%s\"tags\":[", strcmp(c->method, "PATCH") == 0 ? "" : U ",");
		for (int i = 0; i < n; i++)
			k += sprintf(b + k, "%s\"t%d\"", i > 0 ? "," : "", i);
		strcpy(b + k, "]}");
		return b;
	}
	if (strcmp(c->body, "BULK1001") == 0) {
		int k;
		b = malloc(1001 * 48 + 8);
		ck_assert_ptr_nonnull(b);
		k = sprintf(b, "[");
		for (int i = 0; i < 1001; i++)
			k += sprintf(b + k, "%s{\"url\":\"https://t.example/%d\"}", i > 0 ? "," : "", i);
		strcpy(b + k, "]");
		return b;
	}
	if (strcmp(c->body, "BIGBODY") == 0) {
		size_t n = API_BODY_MAX + 1;
		b = malloc(n + 1);
		ck_assert_ptr_nonnull(b);
		memset(b, ' ', n);
		b[0] = '{';
		memcpy(b + n - 1 - strlen(U), U, strlen(U));
		b[n - 1] = '}';
		b[n] = '\0';
		return b;
	}
	const char *at = strstr(c->body, "%BASE%");
	const char *port_at = strstr(c->body, "%PORT%");
	if (at == NULL && port_at == NULL)
		return strdup(c->body);
	b = malloc(strlen(c->body) + strlen(d.base) + 1);
	ck_assert_ptr_nonnull(b);
	if (at != NULL)
		sprintf(b, "%.*s%s%s", (int)(at - c->body), c->body, d.base, at + 6);
	else
		sprintf(b, "%.*s%u%s", (int)(port_at - c->body), c->body, d.port, port_at + 6);
	return b;
}

START_TEST(test_refused_request_changes_nothing)
{
	const struct error_case *c = &cases[_i];
	const char *token = c->who == ADMIN       ? API_TEST_TOKEN
	                    : c->who == WRONG     ? "not-a-token-anyone-holds"
	                    : c->who == READ_ONLY ? read_only_token
	                                          : NULL;
	const char *ctype = c->content_type;
	char *body = case_body(c);
	char *before = client_list_text(&d), *after;
	char tokens_before[1024], tokens_after[1024];
	struct http_result r;

	tokens_text(tokens_before, sizeof(tokens_before));
	if (ctype == NULL && body != NULL)
		ctype = "application/json";
	else if (ctype != NULL && ctype[0] == '\0')
		ctype = NULL;
	client_call_raw(&d, token, c->method, c->path, ctype, body, body != NULL ? strlen(body) : 0, &r);
	ck_assert_msg(r.status == c->status, "%s: status %ld, expected %ld: %s", c->name, r.status, c->status, r.body);
	client_assert_error(&r, c->status, c->code);
	if (c->allow != NULL)
		ck_assert_str_eq(client_header(&r, "Allow"), c->allow);
	if (c->status == 401)
		ck_assert_msg(strncmp(client_header(&r, "WWW-Authenticate"), "Bearer", 6) == 0, "%s: no challenge",
		              c->name);
	if (token != NULL)
		ck_assert_msg(strstr(r.body, token) == NULL, "%s: the token is echoed", c->name);
	http_result_free(&r);

	after = client_list_text(&d);
	ck_assert_msg(strcmp(before, after) == 0, "%s changed the store:\n%s\n%s", c->name, before, after);
	tokens_text(tokens_after, sizeof(tokens_after));
	ck_assert_msg(strcmp(tokens_before, tokens_after) == 0, "%s changed the tokens:\n%s\n%s", c->name,
	              tokens_before, tokens_after);
	free(before);
	free(after);
	free(body);
}
END_TEST

/* A JSON body of n bytes: a link padded with spaces. */
static char *padded_body(size_t n, const char *code)
{
	char *b = malloc(n + 1);
	int k;

	ck_assert_ptr_nonnull(b);
	memset(b, ' ', n);
	k = sprintf(b, "{" U ",\"code\":\"%s\"", code);
	b[k] = ' ';
	b[n - 1] = '}';
	b[n] = '\0';
	return b;
}

START_TEST(test_body_of_exactly_the_limit_is_accepted)
{
	char *body = padded_body(API_BODY_MAX, "edge");
	struct http_result r;

	ck_assert_int_eq(client_call(&d, API_TEST_TOKEN, "POST", C, body, &r), 201);
	http_result_free(&r);
	free(body);
	ck_assert_int_eq(client_call(&d, API_TEST_TOKEN, "GET", C "/edge", NULL, &r), 200);
	http_result_free(&r);
}
END_TEST

START_TEST(test_chunked_body_over_the_limit_is_413)
{
	static const char *const headers[] = {"Authorization: Bearer " API_TEST_TOKEN, API_JSON,
	                                      "Transfer-Encoding: chunked", NULL};
	char *body = padded_body(API_BODY_MAX + 100, "chunky");
	char *before = client_list_text(&d), *after;
	struct http_result r;
	char url[128];

	snprintf(url, sizeof(url), "%s" C, d.base);
	ck_assert_int_eq(http_do("POST", url, body, strlen(body), headers, false, &r), 0);
	client_assert_error(&r, 413, "payload_too_large");
	http_result_free(&r);
	after = client_list_text(&d);
	ck_assert_str_eq(before, after);
	free(before);
	free(after);
	free(body);
}
END_TEST

/* The token never reaches the daemon's own output. */
START_TEST(test_tokens_never_logged)
{
	struct http_result r;
	char buf[65536];
	FILE *f;
	size_t n;

	client_call(&d, "wrong-secret-value-xyz", "GET", C, NULL, &r);
	http_result_free(&r);
	client_call(&d, API_TEST_TOKEN, "GET", C, NULL, &r);
	http_result_free(&r);
	f = fopen(d.log, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	ck_assert_ptr_null(strstr(buf, API_TEST_TOKEN));
	ck_assert_ptr_null(strstr(buf, "wrong-secret-value-xyz"));
	ck_assert_ptr_null(strstr(buf, read_only_token));
}
END_TEST

Suite *api_errors_suite(void)
{
	Suite *s = suite_create("api_errors");
	TCase *tc = tcase_create("errors");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_refused_request_changes_nothing, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_tokens_never_logged);
	tcase_add_test(tc, test_body_of_exactly_the_limit_is_accepted);
	tcase_add_test(tc, test_chunked_body_over_the_limit_is_413);
	suite_add_tcase(s, tc);
	return s;
}
