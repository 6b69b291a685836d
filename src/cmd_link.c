/*
 * The link commands; see cmd_link.h. Only init creates a database: these
 * commands, on a path with no database, say so and exit 1 leaving no file
 * behind, so that a mistyped --db is not a new empty database the daemon
 * knows nothing of.
 */
#include "cmd_link.h"

#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd_common.h"
#include "config.h"
#include "link_admin.h"
#include "link_json.h"
#include "num.h"
#include "rfc3339.h"
#include "store.h"

enum {
	OPT_CODE = CMD_OPT_OWN,
	OPT_STATUS,
	OPT_EXPIRES,
	OPT_MAX_CLICKS,
	OPT_FORWARD_QUERY,
	OPT_LIMIT,
};

int cmd_add_main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"db", required_argument, NULL, CMD_OPT_DB},
	    {"base-url", required_argument, NULL, CMD_OPT_BASE_URL},
	    {"code", required_argument, NULL, OPT_CODE},
	    {"status", required_argument, NULL, OPT_STATUS},
	    {"expires", required_argument, NULL, OPT_EXPIRES},
	    {"max-clicks", required_argument, NULL, OPT_MAX_CLICKS},
	    {"forward-query", no_argument, NULL, OPT_FORWARD_QUERY},
	    {NULL, 0, NULL, 0},
	};
	struct link_input in = {NULL, NULL, 0, LINK_NO_TIME, LINK_NO_LIMIT, false};
	struct cmd_common c;
	struct link_admin_error err;
	struct store *s;
	struct link *l;
	uint64_t n;
	int opt, rc;

	cmd_common_init(&c);
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (cmd_common_opt(&c, opt, optarg))
			continue;
		switch (opt) {
		case OPT_CODE:
			in.code = optarg;
			break;
		case OPT_STATUS:
			if (num_parse(optarg, 0, 999, &n) != 0 || !link_status_is_valid((int)n))
				return cmd_usage_error("--status: expected 301, 302, 303, 307 or 308, got '%s'",
				                       optarg);
			in.status = (int)n;
			break;
		case OPT_EXPIRES:
			if (rfc3339_parse(optarg, &in.expires_at) != 0)
				return cmd_usage_error(
				    "--expires: expected an RFC 3339 time like 2030-01-31T12:00:00Z, got '%s'", optarg);
			break;
		case OPT_MAX_CLICKS:
			if (num_parse(optarg, 0, INT64_MAX, &n) != 0)
				return cmd_usage_error("--max-clicks: expected a whole number >= 0, got '%s'", optarg);
			in.max_clicks = (int64_t)n;
			break;
		case OPT_FORWARD_QUERY:
			in.forward_query = true;
			break;
		default:
			return cmd_bad_option(opt, argv);
		}
	}
	if (optind + 1 != argc)
		return cmd_usage_error("add: expected exactly one URL (shortd add URL [options])");
	in.url = argv[optind];
	if ((rc = cmd_common_finish(&c, true)) != 0)
		return rc;
	/* The daemon's --default-status lives in its own process; the CLI's
	 * default is $SHORTD_DEFAULT_STATUS, else 302 (README: Admin CLI). */
	struct config cfg;
	config_defaults(&cfg);
	if (in.status == 0 && (rc = cmd_read_variable(&cfg, "SHORTD_DEFAULT_STATUS")) != 0)
		return rc;

	l = malloc(sizeof(*l));
	if (l == NULL)
		return CMD_EXIT_FAIL;
	if ((rc = cmd_open_store(&c, &s)) != 0) {
		free(l);
		return rc;
	}
	struct config daemon;
	struct url_self self;
	config_command_daemon(&daemon, c.base_url);
	config_url_self(&daemon, &self);
	rc = link_admin_create(s, &self, cfg.default_status, (int64_t)time(NULL), &in, l, &err);
	if (rc == 0) {
		printf("%s/%s\n", c.base_url, l->code);
	} else {
		fprintf(stderr, "shortd: %s (%s)\n", err.message, err.code);
		rc = err.http_status == 400 ? CMD_EXIT_USAGE : CMD_EXIT_FAIL;
	}
	store_close(s);
	free(l);
	return rc;
}

int cmd_get_main(int argc, char **argv)
{
	struct cmd_common c;
	const char *code;
	struct store *s;
	struct link *l;
	int rc = cmd_code_args(argc, argv, &c, &code, "get", true);

	if (rc != 0)
		return rc;
	if ((l = malloc(sizeof(*l))) == NULL)
		return CMD_EXIT_FAIL;
	if ((rc = cmd_open_store(&c, &s)) != 0) {
		free(l);
		return rc;
	}
	rc = store_link_lookup(s, code, l);
	if (rc == STORE_OK) {
		json_t *j = link_json_encode(l, c.base_url, l->clicks);
		char *text = j != NULL ? link_json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
		if (text != NULL)
			printf("%s\n", text);
		free(text);
		json_decref(j);
		rc = text != NULL ? 0 : CMD_EXIT_FAIL;
	} else {
		fprintf(stderr, "shortd: %s: %s\n", code,
		        rc == STORE_NOT_FOUND ? "no such link" : store_status_message(rc));
		rc = CMD_EXIT_FAIL;
	}
	store_close(s);
	free(l);
	return rc;
}

static int print_link(const struct link *l, void *ctx)
{
	int64_t *last = ctx;

	printf("%s\t%d\t%" PRId64 "\t%s\n", l->code, l->status, l->clicks, l->url);
	*last = l->id;
	return 0;
}

int cmd_list_main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"db", required_argument, NULL, CMD_OPT_DB},
	    {"base-url", required_argument, NULL, CMD_OPT_BASE_URL},
	    {"limit", required_argument, NULL, OPT_LIMIT},
	    {NULL, 0, NULL, 0},
	};
	struct cmd_common c;
	uint64_t limit = 0, n;
	int64_t after = 0, last;
	struct store *s;
	int opt, rc = 0;

	cmd_common_init(&c);
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (cmd_common_opt(&c, opt, optarg))
			continue;
		if (opt != OPT_LIMIT)
			return cmd_bad_option(opt, argv);
		if (num_parse(optarg, 1, INT32_MAX, &limit) != 0)
			return cmd_usage_error("--limit: expected a whole number >= 1, got '%s'", optarg);
	}
	if (optind != argc)
		return cmd_usage_error("%s: unexpected argument for list", argv[optind]);
	if ((rc = cmd_common_finish(&c, false)) != 0)
		return rc;
	if ((rc = cmd_open_store(&c, &s)) != 0)
		return rc;
	/* Pages of 1000 by id, so a long list never holds one read open. */
	for (n = 0; limit == 0 || n < limit;) {
		int page = limit == 0 || limit - n > 1000 ? 1000 : (int)(limit - n);
		last = after;
		rc = store_link_list(s, after, page, print_link, &last);
		if (rc != STORE_OK) {
			fprintf(stderr, "shortd: list: %s\n", store_status_message(rc));
			rc = CMD_EXIT_FAIL;
			break;
		}
		if (last == after)
			break;
		after = last;
		n += page;
	}
	store_close(s);
	return rc;
}

int cmd_rm_main(int argc, char **argv)
{
	struct cmd_common c;
	const char *code;
	struct store *s;
	int rc = cmd_code_args(argc, argv, &c, &code, "rm", false);

	if (rc != 0)
		return rc;
	if ((rc = cmd_open_store(&c, &s)) != 0)
		return rc;
	rc = store_link_delete(s, code);
	if (rc != STORE_OK) {
		fprintf(stderr, "shortd: %s: %s\n", code,
		        rc == STORE_NOT_FOUND ? "no such link" : store_status_message(rc));
		rc = CMD_EXIT_FAIL;
	}
	store_close(s);
	return rc;
}
