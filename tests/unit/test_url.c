/*
 * Unit tests of url.c: every form url_normalize refuses and why, the normal
 * form it writes, the daemon's own base URL and address in every spelling,
 * query merging for
 * forward_query and the referrer host. Tables of inputs run through one
 * driver each, so a bug found becomes one more row.
 */
#include <check.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link.h"
#include "test_random.h"
#include "url.h"

#define BIG (3 * (LINK_URL_MAX + 16) + 1)

static char out[BIG];

struct reject_case {
	const char *url;
	enum url_error want;
};

static const struct reject_case rejects[] = {
    {"", URL_EMPTY},
    {"ftp://example.com/file", URL_BAD_SCHEME},
    {"FTP://example.com/file", URL_BAD_SCHEME},
    {"javascript:alert(1)", URL_BAD_SCHEME},
    {"JavaScript://example.com/%0aalert(1)", URL_BAD_SCHEME},
    {"data:text/html,<script>alert(1)</script>", URL_BAD_SCHEME},
    {"data:text/plain;base64,SGVsbG8=", URL_BAD_SCHEME},
    {"mailto:someone@example.com", URL_BAD_SCHEME},
    {"file:///etc/passwd", URL_BAD_SCHEME},
    {"gopher://example.com/", URL_BAD_SCHEME},
    {"httpx://example.com/", URL_BAD_SCHEME},
    {"http+unix://example.com/", URL_BAD_SCHEME},
    {"//example.com/path", URL_BAD_SCHEME},
    {"example.com/path", URL_BAD_SCHEME},
    {"/relative/path", URL_BAD_SCHEME},
    {"http:/x", URL_NO_HOST},
    {"http:x", URL_NO_HOST},
    {"https:", URL_NO_HOST},
    {"http://", URL_NO_HOST},
    {"http:///path", URL_NO_HOST},
    {"http://:8080/path", URL_NO_HOST},
    {"http://?q=1", URL_NO_HOST},
    {"https://#frag", URL_NO_HOST},
    {"http://user@example.com/", URL_USERINFO},
    {"http://user:secret@example.com/", URL_USERINFO},
    {"https://trusted.example@evil.example/", URL_USERINFO},
    {"http://@example.com/", URL_USERINFO},
    {"http://example.com:0/", URL_BAD_PORT},
    {"http://example.com:65536/", URL_BAD_PORT},
    {"http://example.com:99999/", URL_BAD_PORT},
    {"http://example.com:123456/", URL_BAD_PORT},
    {"http://example.com:/", URL_BAD_PORT},
    {"http://example.com:8o/", URL_BAD_PORT},
    {"http://example.com:-1/", URL_BAD_PORT},
    {"http://example.com:+80/", URL_BAD_PORT},
    {"http://example.com:80:80/", URL_BAD_PORT},
    {"http://[::1]:0/", URL_BAD_PORT},
    {"http://[::1]:70000/", URL_BAD_PORT},
    {"http://[::1/", URL_BAD_HOST},
    {"http://[::1]x/", URL_BAD_HOST},
    {"http://[]/", URL_BAD_HOST},
    {"http://[zz::1]/", URL_BAD_HOST},
    {"http://[::1%25eth0]/", URL_BAD_HOST},
    {"http://[:]/", URL_BAD_HOST},
    {"http://[1]/", URL_BAD_HOST},
    {"http://[.]/", URL_BAD_HOST},
    {"http://[::1::2]/", URL_BAD_HOST},
    {"http://[12345::1]/", URL_BAD_HOST},
    {"http://[1:2:3:4:5:6:7:8:9]/", URL_BAD_HOST},
    {"http://[::1.2.3]/", URL_BAD_HOST},
    {"http://[[::1]]/", URL_BAD_HOST},
    {"http://.example.com/", URL_BAD_HOST},
    {"http://a..example.com/", URL_BAD_HOST},
    {"http://ex%41mple.com/", URL_BAD_HOST},
    {"http://exa<mple.com/", URL_BAD_HOST},
    {"http://evil.example\\.good.example/", URL_BAD_HOST},
    {"http://evil.example\\@good.example/", URL_USERINFO},
    {"http://good.example:80\\evil/", URL_BAD_PORT},
    {"http://b\xc3\xbc"
     "cher.example/",
     URL_BAD_HOST},
    {"http://example.com/a b", URL_BAD_CHAR},
    {" http://example.com/", URL_BAD_CHAR},
    {"http://example.com/ ", URL_BAD_CHAR},
    {"http://exa mple.com/", URL_BAD_CHAR},
    {"http://example.com/\tx", URL_BAD_CHAR},
    {"http://example.com/\x0bx", URL_BAD_CHAR},
    {"http://example.com/\x0cx", URL_BAD_CHAR},
    {"http://example.com/\r\nSet-Cookie: a=b", URL_BAD_CHAR},
    {"http://example.com/\r", URL_BAD_CHAR},
    {"http://example.com/\n", URL_BAD_CHAR},
    {"http://example.com/\x7f", URL_BAD_CHAR},
    {"javascript:\x01", URL_BAD_CHAR},
};

START_TEST(test_rejected_forms)
{
	const struct reject_case *c = &rejects[_i];

	out[0] = 'X';
	ck_assert_msg(url_normalize(c->url, NULL, out, sizeof(out)) == c->want, "url_normalize(\"%s\") = %d, want %d",
	              c->url, url_normalize(c->url, NULL, out, sizeof(out)), c->want);
	ck_assert_ptr_nonnull(url_error_message(c->want));
}
END_TEST

START_TEST(test_null_url_is_empty)
{
	ck_assert_int_eq(url_normalize(NULL, NULL, out, sizeof(out)), URL_EMPTY);
}
END_TEST

/* Each control character 0x01-0x1f and 0x7f at the start, middle and end.
 * 0x00 ends a C string: a URL that starts with it is empty, and one with it
 * inside is cut there (the API refuses embedded NULs before this point). */
START_TEST(test_every_control_character)
{
	static const char *const shapes[] = {"%chttp://example.com/p", "http://exa%cmple.com/p",
	                                     "http://example.com/p%cq", "http://example.com/p?q=%c",
	                                     "http://example.com/p#%c"};
	unsigned char c = _i == 0x20 ? 0x7f : (unsigned char)_i;
	char url[64];

	if (c == 0) {
		ck_assert_int_eq(url_normalize("\0http://example.com/", NULL, out, sizeof(out)), URL_EMPTY);
		ck_assert_int_eq(url_normalize("http://example.com/a\0b", NULL, out, sizeof(out)), URL_OK);
		ck_assert_str_eq(out, "http://example.com/a");
		return;
	}
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		snprintf(url, sizeof(url), shapes[i], c);
		ck_assert_msg(url_normalize(url, NULL, out, sizeof(out)) == URL_BAD_CHAR,
		              "0x%02x in shape %zu accepted", c, i);
	}
}
END_TEST

/* A URL of n bytes: "https://example.com/" then 'a's. */
static char *url_of_length(size_t n)
{
	static const char head[] = "https://example.com/";
	char *u = malloc(n + 1);

	ck_assert_ptr_nonnull(u);
	memcpy(u, head, sizeof(head) - 1);
	memset(u + sizeof(head) - 1, 'a', n - (sizeof(head) - 1));
	u[n] = '\0';
	return u;
}

START_TEST(test_exactly_8192_bytes_accepted)
{
	char *u = url_of_length(LINK_URL_MAX);

	ck_assert_int_eq(url_normalize(u, NULL, out, sizeof(out)), URL_OK);
	ck_assert_str_eq(out, u);
	free(u);
}
END_TEST

/* struct link's url buffer is LINK_URL_MAX + 1: every URL the rule allows must
 * fit there, as link_admin writes it straight into the link. */
START_TEST(test_exactly_8192_bytes_fit_link_url_buffer)
{
	char *u = url_of_length(LINK_URL_MAX);
	struct link l;

	ck_assert_int_eq(url_normalize(u, NULL, l.url, sizeof(l.url)), URL_OK);
	ck_assert_str_eq(l.url, u);
	free(u);
}
END_TEST

START_TEST(test_over_8192_bytes_refused)
{
	char *u = url_of_length(LINK_URL_MAX + 1);

	ck_assert_int_eq(url_normalize(u, NULL, out, sizeof(out)), URL_TOO_LONG);
	free(u);
	u = url_of_length(100000);
	ck_assert_int_eq(url_normalize(u, NULL, out, sizeof(out)), URL_TOO_LONG);
	free(u);
}
END_TEST

/* Encoding can make a URL of 8,192 bytes or less longer than the limit. */
START_TEST(test_normal_form_over_8192_bytes_refused)
{
	char *u = url_of_length(LINK_URL_MAX);

	u[LINK_URL_MAX - 1] = '"'; /* 8,192 bytes in, 8,194 once encoded */
	ck_assert_int_eq(url_normalize(u, NULL, out, sizeof(out)), URL_TOO_LONG);
	u[LINK_URL_MAX - 2] = '\0'; /* 8,190 bytes in, */
	u[LINK_URL_MAX - 3] = '<';  /* 8,192 once encoded: still allowed */
	ck_assert_int_eq(url_normalize(u, NULL, out, sizeof(out)), URL_OK);
	ck_assert_uint_eq(strlen(out), LINK_URL_MAX);
	ck_assert_str_eq(out + LINK_URL_MAX - 3, "%3C");
	free(u);
}
END_TEST

struct self_case {
	const char *base;
	const char *url;
	enum url_error want;
};

static const struct self_case selves[] = {
    {"http://127.0.0.1:8080", "http://127.0.0.1:8080/abc", URL_SELF},
    {"http://127.0.0.1:8080", "http://127.0.0.1:8080", URL_SELF},
    {"http://127.0.0.1:8080", "HTTP://127.0.0.1:8080/abc?x=1", URL_SELF},
    {"http://127.0.0.1:8080", "http://127.0.0.1:8081/abc", URL_OK},
    {"http://127.0.0.1:8080", "https://127.0.0.1:8080/abc", URL_OK},
    {"http://127.0.0.1:8080", "http://127.0.0.1/abc", URL_OK},
    {"https://s.example", "https://s.example/abc", URL_SELF},
    {"https://s.example", "https://S.EXAMPLE/abc", URL_SELF},
    {"https://s.example", "HTTPS://s.Example:443/abc", URL_SELF},
    {"https://s.example:443", "https://s.example/abc", URL_SELF},
    {"https://S.Example", "https://s.example/abc", URL_SELF},
    {"https://s.example", "http://s.example/abc", URL_OK},
    {"https://s.example", "https://s.example:8443/abc", URL_OK},
    {"https://s.example", "https://www.s.example/abc", URL_OK},
    {"https://s.example", "https://s.example.org/abc", URL_OK},
    {"http://s.example", "http://s.example:80/abc", URL_SELF},
    {"http://s.example:80", "http://s.example/", URL_SELF},
    {"http://s.example", "http://s.example:443/", URL_OK},
    {"https://s.example/go", "https://s.example/other", URL_SELF},
    {"https://s.example", "https://s.example./abc", URL_SELF},
    {"https://s.example.", "https://S.Example/abc", URL_SELF},
    {"https://s.example", "https://s.example../abc", URL_BAD_HOST},
    {"http://[::1]:8080", "http://[::1]:8080/x", URL_SELF},
    {"http://[::1]:8080", "http://[::1]:8081/x", URL_OK},
    {"", "http://127.0.0.1:8080/abc", URL_OK},
};

START_TEST(test_own_base_url)
{
	const struct self_case *c = &selves[_i];
	struct url_self self = {c->base, NULL, 0};
	enum url_error e = url_normalize(c->url, &self, out, sizeof(out));

	ck_assert_msg(e == c->want, "base %s url %s: got %d want %d", c->base, c->url, e, c->want);
}
END_TEST

/* Every spelling of this daemon's own address (base URL and listen address):
 * url_normalize compares hosts as the address they name. */
struct spelling_case {
	const char *base;
	const char *listen_host;
	unsigned listen_port;
	const char *url;
	enum url_error want;
};

#define LO "http://127.0.0.1:8080"

static const struct spelling_case spellings[] = {
    /* loopback names and numbers for a base URL on 127.0.0.1 */
    {LO, NULL, 0, "http://localhost:8080/x", URL_SELF},
    {LO, NULL, 0, "http://LOCALHOST:8080/x", URL_SELF},
    {LO, NULL, 0, "http://localhost.:8080/x", URL_SELF},
    {LO, NULL, 0, "http://LocalHost.:8080/x", URL_SELF},
    {LO, NULL, 0, "http://app.localhost:8080/x", URL_SELF},
    {LO, NULL, 0, "http://127.0.0.1.:8080/x", URL_SELF},
    {LO, NULL, 0, "http://127.1:8080/x", URL_SELF},
    {LO, NULL, 0, "http://127.0.1:8080/x", URL_SELF},
    {LO, NULL, 0, "http://2130706433:8080/x", URL_SELF},
    {LO, NULL, 0, "http://0x7f.1:8080/x", URL_SELF},
    {LO, NULL, 0, "http://0X7F.0.0.1:8080/x", URL_SELF},
    {LO, NULL, 0, "http://0x7f000001:8080/x", URL_SELF},
    {LO, NULL, 0, "http://0177.0.0.1:8080/x", URL_SELF},
    {LO, NULL, 0, "http://017700000001:8080/x", URL_SELF},
    {LO, NULL, 0, "http://127.0.0.2:8080/x", URL_SELF},
    {LO, NULL, 0, "http://127.255.255.254:8080/x", URL_SELF},
    {LO, NULL, 0, "http://0.0.0.0:8080/x", URL_SELF},
    {LO, NULL, 0, "http://0:8080/x", URL_SELF},
    {LO, NULL, 0, "http://[::1]:8080/x", URL_SELF},
    {LO, NULL, 0, "http://[0:0:0:0:0:0:0:1]:8080/x", URL_SELF},
    {LO, NULL, 0, "http://[::]:8080/x", URL_SELF},
    {LO, NULL, 0, "http://[::ffff:127.0.0.1]:8080/x", URL_SELF},
    {LO, NULL, 0, "http://[::FFFF:7f00:1]:8080/x", URL_SELF},
    {LO, NULL, 0, "http://127.0.0.1:08080/x", URL_SELF},
    {LO, NULL, 0, "HTTP://LOCALHOST:8080", URL_SELF},
    {"http://localhost:8080", NULL, 0, "http://127.0.0.1:8080/x", URL_SELF},
    {"http://[::1]:8080", NULL, 0, "http://127.1:8080/x", URL_SELF},
    /* near misses: another host, port or scheme */
    {LO, NULL, 0, "http://127.0.0.1.example.com:8080/x", URL_OK},
    {LO, NULL, 0, "http://localhost.example.com:8080/x", URL_OK},
    {LO, NULL, 0, "http://localhostx:8080/x", URL_OK},
    {LO, NULL, 0, "http://mylocalhost:8080/x", URL_OK},
    {LO, NULL, 0, "http://localhost:8081/x", URL_OK},
    {LO, NULL, 0, "http://127.1:8081/x", URL_OK},
    {LO, NULL, 0, "http://[::1]:8081/x", URL_OK},
    {LO, NULL, 0, "http://localhost/x", URL_OK},
    {LO, NULL, 0, "https://localhost:8080/x", URL_OK},
    {LO, NULL, 0, "http://128.0.0.1:8080/x", URL_OK},
    {LO, NULL, 0, "http://126.255.255.255:8080/x", URL_OK},
    {LO, NULL, 0, "http://0.0.0.1:8080/x", URL_OK},
    {LO, NULL, 0, "http://10.0.0.1:8080/x", URL_OK},
    {LO, NULL, 0, "http://2130706431:8080/x", URL_OK}, /* 126.255.255.255 */
    {LO, NULL, 0, "http://[::2]:8080/x", URL_OK},
    {LO, NULL, 0, "http://[::ffff:128.0.0.1]:8080/x", URL_OK},
    {LO, NULL, 0, "http://0x80.1:8080/x", URL_OK},
    {LO, NULL, 0, "http://1.2.3.4.5:8080/x", URL_OK},
    /* numbers no client takes for an address are names, not this host */
    {LO, NULL, 0, "http://0x7g.1:8080/x", URL_OK},
    {LO, NULL, 0, "http://08.0.0.1:8080/x", URL_OK},
    {LO, NULL, 0, "http://256.0.0.1:8080/x", URL_OK},
    {LO, NULL, 0, "http://127.16777216:8080/x", URL_OK},
    {LO, NULL, 0, "http://4294967296:8080/x", URL_OK},
    {LO, NULL, 0, "http://99999999999999999999:8080/x", URL_OK},
    /* the listen address besides a base URL of its own */
    {"https://s.example", "127.0.0.1", 8080, "http://localhost:8080/x", URL_SELF},
    {"https://s.example", "127.0.0.1", 8080, "http://127.1:8080/x", URL_SELF},
    {"https://s.example", "127.0.0.1", 8080, "https://S.Example./x", URL_SELF},
    {"https://s.example", "127.0.0.1", 8080, "https://localhost:8080/x", URL_OK},
    {"https://s.example", "127.0.0.1", 8080, "http://localhost:9090/x", URL_OK},
    {"https://s.example", "127.0.0.1", 8080, "http://s.example/x", URL_OK},
    {NULL, "0.0.0.0", 8080, "http://localhost:8080/x", URL_SELF},
    {NULL, "0.0.0.0", 8080, "http://[::1]:8080/x", URL_SELF},
    {NULL, "::", 8080, "http://127.0.0.1:8080/x", URL_SELF},
    {NULL, "::1", 8080, "http://localhost.:8080/x", URL_SELF},
    {NULL, "192.0.2.10", 8080, "http://192.0.2.10:8080/x", URL_SELF},
    {NULL, "192.0.2.10", 8080, "http://3221225994:8080/x", URL_SELF},
    {NULL, "192.0.2.10", 8080, "http://192.0.2.10:8081/x", URL_OK},
    {NULL, "192.0.2.10", 8080, "http://localhost:8080/x", URL_OK},
    {NULL, "2001:db8::5", 8080, "http://[2001:DB8:0::5]:8080/x", URL_SELF},
    {NULL, "2001:db8::5", 8080, "http://[2001:db8::6]:8080/x", URL_OK},
    {NULL, "127.0.0.1", 0, "http://localhost:8080/x", URL_OK},
};

START_TEST(test_own_address_in_any_spelling)
{
	const struct spelling_case *c = &spellings[_i];
	struct url_self self = {c->base, c->listen_host, c->listen_port};
	enum url_error e = url_normalize(c->url, &self, out, sizeof(out));

	ck_assert_msg(e == c->want, "base %s listen %s:%u url %s: got %d want %d", c->base ? c->base : "-",
	              c->listen_host ? c->listen_host : "-", c->listen_port, c->url, e, c->want);
}
END_TEST

START_TEST(test_null_base_url_allows_anything)
{
	ck_assert_int_eq(url_normalize("http://127.0.0.1:8080/abc", NULL, out, sizeof(out)), URL_OK);
}
END_TEST

struct norm_case {
	const char *in;
	const char *want;
};

static const struct norm_case norms[] = {
    {"http://example.com", "http://example.com"},
    {"HTTP://EXAMPLE.COM/", "http://example.com/"},
    {"HtTpS://ExAmple.COM/Path/To?Q=A&b=C#Frag", "https://example.com/Path/To?Q=A&b=C#Frag"},
    {"http://Example.com:8080/X", "http://example.com:8080/X"},
    {"https://example.com/caf\xc3\xa9", "https://example.com/caf%C3%A9"},
    {"https://example.com/?q=\xff\x80", "https://example.com/?q=%FF%80"},
    {"https://example.com/a\"b<c>d\\e^f`g{h|i}j", "https://example.com/a%22b%3Cc%3Ed%5Ce%5Ef%60g%7Bh%7Ci%7Dj"},
    {"https://example.com/already%20encoded?x=%41", "https://example.com/already%20encoded?x=%41"},
    {"https://example.com/~user/a-b_c.d!$&'()*+,;=:@", "https://example.com/~user/a-b_c.d!$&'()*+,;=:@"},
    {"http://[::1]:8080/x", "http://[::1]:8080/x"},
    {"http://[FE80::1]/", "http://[fe80::1]/"},
    {"http://[::FFFF:127.0.0.1]/", "http://[::ffff:127.0.0.1]/"},
    {"http://[2001:db8:0:0:0:0:0:1]:443/", "http://[2001:db8:0:0:0:0:0:1]:443/"},
    {"http://[::]/", "http://[::]/"},
    {"http://192.0.2.1:65535/", "http://192.0.2.1:65535/"},
    {"http://example.com:1/", "http://example.com:1/"},
    {"https://xn--bcher-kva.example/", "https://xn--bcher-kva.example/"},
    {"https://example.com?q", "https://example.com?q"},
    {"https://example.com#f", "https://example.com#f"},
};

START_TEST(test_normal_form)
{
	const struct norm_case *c = &norms[_i];

	ck_assert_int_eq(url_normalize(c->in, NULL, out, sizeof(out)), URL_OK);
	ck_assert_str_eq(out, c->want);
}
END_TEST

/* Every byte 0x80-0xff in a path comes out as %XX. */
START_TEST(test_every_non_ascii_byte_encoded)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char b = (unsigned char)(0x80 + _i);
	char url[32], want[32];

	snprintf(url, sizeof(url), "http://e.com/%c", b);
	snprintf(want, sizeof(want), "http://e.com/%%%c%c", hex[b >> 4], hex[b & 15]);
	ck_assert_int_eq(url_normalize(url, NULL, out, sizeof(out)), URL_OK);
	ck_assert_str_eq(out, want);
}
END_TEST

START_TEST(test_small_output_buffer_refused_without_overrun)
{
	char buf[32];

	memset(buf, 'Z', sizeof(buf));
	ck_assert_int_eq(url_normalize("http://example.com/abcdef", NULL, buf, 20), URL_TOO_LONG);
	for (size_t i = 20; i < sizeof(buf); i++)
		ck_assert_int_eq(buf[i], 'Z');
	ck_assert_int_eq(url_normalize("http://example.com/abcdef", NULL, buf, 26), URL_OK);
	ck_assert_str_eq(buf, "http://example.com/abcdef");
	ck_assert_int_eq(url_normalize("http://example.com", NULL, buf, 18), URL_TOO_LONG);
	ck_assert_int_eq(url_normalize("http://example.com", NULL, buf, 19), URL_OK);
	ck_assert_str_eq(buf, "http://example.com");
	ck_assert_int_eq(url_normalize("http://example.com:81", NULL, buf, 21), URL_TOO_LONG);
	ck_assert_int_eq(url_normalize("http://example.com:81", NULL, buf, 22), URL_OK);
	ck_assert_str_eq(buf, "http://example.com:81");
}
END_TEST

/* ---- url_merge_query ---- */

struct merge_case {
	const char *target;
	const char *query;
	const char *want;
};

static const struct merge_case merges[] = {
    {"https://t.example/p?a=b", "x=1", "https://t.example/p?a=b&x=1"},
    {"https://t.example/p", "x=1", "https://t.example/p?x=1"},
    {"https://t.example", "x=1", "https://t.example?x=1"},
    {"https://t.example/p?", "x=1", "https://t.example/p?x=1"},
    {"https://t.example/p?a=b&", "x=1", "https://t.example/p?a=b&x=1"},
    {"https://t.example/p?a=b#frag", "x=1", "https://t.example/p?a=b&x=1#frag"},
    {"https://t.example/p#frag", "x=1&y=2", "https://t.example/p?x=1&y=2#frag"},
    {"https://t.example/p#f?z=9", "x=1", "https://t.example/p?x=1#f?z=9"},
    {"https://t.example/p?a=b", "", "https://t.example/p?a=b"},
    {"https://t.example/p?a=b", NULL, "https://t.example/p?a=b"},
    {"https://t.example/p#frag", NULL, "https://t.example/p#frag"},
    {"https://t.example/p", "a=b c", "https://t.example/p?a=b%20c"},
    {"https://t.example/p", "a=1\r\nSet-Cookie:%20x", "https://t.example/p?a=1%0D%0ASet-Cookie:%20x"},
    {"https://t.example/p", "a=#b", "https://t.example/p?a=%23b"},
    {"https://t.example/p", "a=\"<>\\^`{|}", "https://t.example/p?a=%22%3C%3E%5C%5E%60%7B%7C%7D"},
    {"https://t.example/p", "q=caf\xc3\xa9", "https://t.example/p?q=caf%C3%A9"},
    {"https://t.example/p", "q=\x01\x7f", "https://t.example/p?q=%01%7F"},
    {"https://t.example/p", "q=%41&r=/?:@", "https://t.example/p?q=%41&r=/?:@"},
};

START_TEST(test_merge_query)
{
	const struct merge_case *c = &merges[_i];

	ck_assert_int_eq(url_merge_query(c->target, c->query, out, sizeof(out)), 0);
	ck_assert_str_eq(out, c->want);
}
END_TEST

/* Every size below the result's is refused without writing past outsize;
 * the exact size (length + 1) is enough. */
START_TEST(test_merge_query_buffer_sizes)
{
	const struct merge_case *c = &merges[_i];
	size_t need = strlen(c->want) + 1;
	char buf[256];

	for (size_t size = 0; size <= need; size++) {
		memset(buf, 'Z', sizeof(buf));
		int rc = url_merge_query(c->target, c->query, buf, size);
		if (size < need) {
			ck_assert_msg(rc == -1, "row %d: size %zu of %zu accepted", _i, size, need);
		} else {
			ck_assert_msg(rc == 0, "row %d: exact size %zu refused", _i, size);
			ck_assert_str_eq(buf, c->want);
		}
		for (size_t i = size; i < sizeof(buf); i++)
			ck_assert_msg(buf[i] == 'Z', "row %d: size %zu: byte %zu written", _i, size, i);
	}
}
END_TEST

/* ---- url_host ---- */

struct host_case {
	const char *url;
	const char *want; /* NULL: refused */
};

static const struct host_case hosts[] = {
    {"https://Example.COM/path", "example.com"},
    {"http://example.com", "example.com"},
    {"http://example.com:8080/x", "example.com"},
    {"https://user:pw@News.Example.com:443/x", "news.example.com"},
    {"http://[::1]:8080/x", "[::1]"},
    {"https://t.co?x", "t.co"},
    {"https://t.co#x", "t.co"},
    {"android-app://com.google.android.gm/", "com.google.android.gm"},
    {"", NULL},
    {"example.com", NULL},
    {"/relative", NULL},
    {"http:///path", NULL},
    {"http://:80/", NULL},
    {"http://[::1/", NULL},
    {"ht tp://example.com/", NULL},
    {"http://exa mple.com/", NULL},
    {"http://b\xc3\xbc"
     "cher.example/",
     NULL},
    {"a+b-c.d9://Host.Example", "host.example"},
    {"://host/", "host"},
    {"http:/host/", NULL},
    {"http:host//x", NULL},
    {"http_s://host/", NULL},
    {"go to http://host/", NULL},
    {"http://a@b@Last.example/c@d", "last.example"},
    {"http://host/a://b", "host"},
    {"http://host\t/", NULL},
    {"http://host\x7f/", NULL},
};

START_TEST(test_host)
{
	const struct host_case *c = &hosts[_i];
	char buf[256];
	int rc = url_host(c->url, buf, sizeof(buf));

	if (c->want == NULL) {
		ck_assert_msg(rc == -1, "url_host(\"%s\") accepted as \"%s\"", c->url, buf);
	} else {
		ck_assert_int_eq(rc, 0);
		ck_assert_str_eq(buf, c->want);
	}
}
END_TEST

/* url_host() as it was written with the C library's string functions: the
 * one-pass version must answer as it does. */
static int reference_host(const char *url, char *buf, size_t size)
{
	const char *s, *end, *h, *he;

	if ((s = strstr(url, "://")) == NULL)
		return -1;
	for (const char *c = url; c < s; c++) {
		if (!isalnum((unsigned char)*c) && *c != '+' && *c != '-' && *c != '.')
			return -1;
	}
	s += 3;
	end = s + strcspn(s, "/?#");
	h = s;
	for (const char *at = s; at < end; at++) {
		if (*at == '@')
			h = at + 1;
	}
	if (h < end && *h == '[') {
		if ((he = memchr(h, ']', (size_t)(end - h))) == NULL)
			return -1;
		he++;
	} else if ((he = memchr(h, ':', (size_t)(end - h))) == NULL) {
		he = end;
	}
	if (he == h || (size_t)(he - h) + 1 > size)
		return -1;
	for (size_t i = 0; h + i < he; i++) {
		unsigned char c = (unsigned char)h[i];
		if (c <= 0x20 || c >= 0x7f)
			return -1;
		buf[i] = (char)tolower(c);
	}
	buf[he - h] = '\0';
	return 0;
}

START_TEST(test_host_matches_the_library_version)
{
	static const char *const pieces[] = {
	    "http", "HTTPS", "://", ":", "/", "//", "?", "#",  "@",    "[",        "]", "::1", ":8080",
	    "Ex",   "ample", ".",   "+", "-", "_",  " ", "\t", "\x7f", "\xc3\xbc", "a", "Z",   "9",
	};
	uint32_t state = 88172645u;
	char url[200], got[16], want[16];

	for (int round = 0; round < 100000; round++) {
		size_t len = 0;
		int n = 1 + (int)(state % 10);

		for (int k = 0; k < n; k++) {
			const char *piece = pieces[test_random(&state) % (sizeof(pieces) / sizeof(pieces[0]))];
			memcpy(url + len, piece, strlen(piece));
			len += strlen(piece);
		}
		url[len] = '\0';
		for (size_t size = 1; size <= sizeof(got); size += 5) {
			int rc = url_host(url, got, size), ref = reference_host(url, want, size);
			ck_assert_msg(rc == ref, "\"%s\" (%zu bytes): %d, not %d", url, size, rc, ref);
			if (rc == 0)
				ck_assert_str_eq(got, want);
		}
	}
}
END_TEST

START_TEST(test_host_null_and_small_buffer)
{
	char buf[8];

	ck_assert_int_eq(url_host(NULL, buf, sizeof(buf)), -1);
	ck_assert_int_eq(url_host("http://abc/", buf, 3), -1);
	ck_assert_int_eq(url_host("http://abc/", buf, 4), 0);
	ck_assert_str_eq(buf, "abc");
}
END_TEST

Suite *url_suite(void)
{
	Suite *s = suite_create("url");
	TCase *tc;

	tc = tcase_create("rejects");
	tcase_add_loop_test(tc, test_rejected_forms, 0, (int)(sizeof(rejects) / sizeof(rejects[0])));
	tcase_add_test(tc, test_null_url_is_empty);
	tcase_add_loop_test(tc, test_every_control_character, 0, 0x21);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_test(tc, test_exactly_8192_bytes_accepted);
	tcase_add_test(tc, test_exactly_8192_bytes_fit_link_url_buffer);
	tcase_add_test(tc, test_over_8192_bytes_refused);
	tcase_add_test(tc, test_normal_form_over_8192_bytes_refused);
	tcase_add_test(tc, test_small_output_buffer_refused_without_overrun);
	suite_add_tcase(s, tc);

	tc = tcase_create("self");
	tcase_add_loop_test(tc, test_own_base_url, 0, (int)(sizeof(selves) / sizeof(selves[0])));
	tcase_add_loop_test(tc, test_own_address_in_any_spelling, 0, (int)(sizeof(spellings) / sizeof(spellings[0])));
	tcase_add_test(tc, test_null_base_url_allows_anything);
	suite_add_tcase(s, tc);

	tc = tcase_create("normalise");
	tcase_add_loop_test(tc, test_normal_form, 0, (int)(sizeof(norms) / sizeof(norms[0])));
	tcase_add_loop_test(tc, test_every_non_ascii_byte_encoded, 0, 0x80);
	suite_add_tcase(s, tc);

	tc = tcase_create("merge");
	tcase_add_loop_test(tc, test_merge_query, 0, (int)(sizeof(merges) / sizeof(merges[0])));
	tcase_add_loop_test(tc, test_merge_query_buffer_sizes, 0, (int)(sizeof(merges) / sizeof(merges[0])));
	suite_add_tcase(s, tc);

	tc = tcase_create("host");
	tcase_add_loop_test(tc, test_host, 0, (int)(sizeof(hosts) / sizeof(hosts[0])));
	tcase_add_test(tc, test_host_null_and_small_buffer);
	tcase_add_test(tc, test_host_matches_the_library_version);
	suite_add_tcase(s, tc);
	return s;
}
