/*
 * The redirect suites' fixture of redirect_fixture.h.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "link.h"
#include "redirect_fixture.h"
#include "store.h"

struct daemon rt_daemon;
struct echo rt_echo;
static char rt_url_buf[8192];

void rt_prepare(void)
{
	ck_assert_int_eq(echo_start(&rt_echo), 0);
	fixture_make_db(&rt_daemon, NULL);
}

void rt_launch(const char *const *args)
{
	ck_assert_int_eq(daemon_start(&rt_daemon, args, NULL), 0);
}

void rt_start(const char *const *args)
{
	rt_prepare();
	rt_launch(args);
}

void rt_store_link(const char *code, const char *url, int status, bool disabled)
{
	char err[512];
	struct store *s;
	struct link *l = malloc(sizeof(*l));
	struct link_patch *p = calloc(1, sizeof(*p));

	ck_assert(l != NULL && p != NULL);
	ck_assert_msg(store_open(rt_daemon.db, &s, err, sizeof(err)) == STORE_OK, "%s", err);
	link_init(l);
	snprintf(l->code, sizeof(l->code), "%s", code);
	snprintf(l->url, sizeof(l->url), "%s", url);
	l->status = status;
	l->created_at = (int64_t)time(NULL);
	l->updated_at = l->created_at;
	ck_assert_int_eq(store_link_create(s, l, NULL, NULL), STORE_OK);
	if (disabled) {
		p->fields = PATCH_DISABLED;
		p->disabled = true;
		ck_assert_int_eq(store_link_update(s, code, p, l->created_at, l), STORE_OK);
		ck_assert(l->disabled);
	}
	store_close(s);
	free(p);
	free(l);
}

void rt_stop(void)
{
	ck_assert_msg(daemon_is_running(&rt_daemon), "the daemon died");
	fixture_stop(&rt_daemon);
	echo_stop(&rt_echo);
}

const char *rt_url(const char *path)
{
	snprintf(rt_url_buf, sizeof(rt_url_buf), "%s%s", rt_daemon.base, path);
	return rt_url_buf;
}

void rt_assert_header(const struct http_result *r, const char *name, const char *value)
{
	char got[8192];
	int rc = http_header(r, name, got, sizeof(got));

	if (value == NULL) {
		ck_assert_msg(rc != 0, "%s present: %s", name, got);
		return;
	}
	ck_assert_msg(rc == 0, "%s absent in:\n%s", name, r->headers);
	ck_assert_str_eq(got, value);
}

void rt_assert_status_line(const char *resp, const char *prefix)
{
	ck_assert_msg(strncmp(resp, prefix, strlen(prefix)) == 0, "expected '%s', got: %.300s", prefix, resp);
}

void rt_assert_still_serving(const char *code, const char *location)
{
	struct http_result r;

	ck_assert_msg(daemon_is_running(&rt_daemon), "the daemon died");
	ck_assert_int_eq(http_do("GET", rt_url(code), NULL, 0, NULL, false, &r), 0);
	ck_assert_int_eq(r.status, 307);
	rt_assert_header(&r, "Location", location);
	http_result_free(&r);
}
