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
#include "url.h"

enum {
	OPT_CODE = CMD_OPT_OWN,
	OPT_STATUS,
	OPT_EXPIRES,
	OPT_MAX_CLICKS,
	OPT_FORWARD_QUERY,
	OPT_LIMIT,
	OPT_TITLE,
	OPT_TAG,
	OPT_NO_TAGS,
	OPT_URL,
	OPT_SEARCH,
	OPT_DISABLE,
	OPT_ENABLE,
};

/* Who the command line is, in a link's created_by and updated_by. */
#define CLI_BY "cli"

/* Reads add's options into c and in; tags has room for one a word. */
static int add_options(int argc, char **argv, const struct option *opts, struct cmd_common *c, struct link_input *in,
                       const char **tags)
{
	uint64_t n;
	int opt;

	cmd_common_init(c);
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (cmd_common_opt(c, opt, optarg))
			continue;
		switch (opt) {
		case OPT_TITLE:
			in->title = optarg;
			in->title_len = strlen(optarg);
			break;
		case OPT_TAG:
			tags[in->n_tags++] = optarg;
			break;
		case OPT_CODE:
			in->code = optarg;
			break;
		case OPT_STATUS:
			if (num_parse(optarg, 0, 999, &n) != 0 || !link_status_is_valid((int)n))
				return cmd_usage_error("--status: expected 301, 302, 303, 307 or 308, got '%s'",
				                       optarg);
			in->status = (int)n;
			break;
		case OPT_EXPIRES:
			if (rfc3339_parse(optarg, &in->expires_at) != 0)
				return cmd_usage_error(
				    "--expires: expected an RFC 3339 time like 2030-01-31T12:00:00Z, got '%s'", optarg);
			break;
		case OPT_MAX_CLICKS:
			if (num_parse(optarg, 0, INT64_MAX, &n) != 0)
				return cmd_usage_error("--max-clicks: expected a whole number >= 0, got '%s'", optarg);
			in->max_clicks = (int64_t)n;
			break;
		case OPT_FORWARD_QUERY:
			in->forward_query = true;
			break;
		default:
			return cmd_bad_option(opt, argv);
		}
	}
	if (optind + 1 != argc)
		return cmd_usage_error("add: expected exactly one URL (shortd add URL [options])");
	in->url = argv[optind];
	return cmd_common_finish(c, true);
}

static int add_link(struct cmd_common *c, const struct link_input *in)
{
	struct link_admin_error err;
	struct config cfg, daemon;
	struct url_self self;
	struct store *s;
	struct link *l;
	int rc;

	/* The daemon's --default-status lives in its own process; the CLI's
	 * default is $SHORTD_DEFAULT_STATUS, else 302 (README: Admin CLI). */
	config_defaults(&cfg);
	if (in->status == 0 && (rc = cmd_read_variable(&cfg, "SHORTD_DEFAULT_STATUS")) != 0)
		return rc;
	l = malloc(sizeof(*l));
	if (l == NULL)
		return CMD_EXIT_FAIL;
	if ((rc = cmd_open_store(c, &s)) != 0) {
		free(l);
		return rc;
	}
	config_command_daemon(&daemon, c->base_url);
	config_url_self(&daemon, &self);
	rc = link_admin_create(s, &self, cfg.default_status, (int64_t)time(NULL), in, l, &err);
	if (rc == 0) {
		printf("%s/%s\n", c->base_url, l->code);
	} else {
		fprintf(stderr, "shortd: %s (%s)\n", err.message, err.code);
		rc = err.http_status == 400 ? CMD_EXIT_USAGE : CMD_EXIT_FAIL;
	}
	store_close(s);
	free(l);
	return rc;
}

int cmd_add_main(int argc, char **argv)
{
	static const struct option opts[] = {
	    CMD_COMMON_OPTIONS,
	    {"code", required_argument, NULL, OPT_CODE},
	    {"status", required_argument, NULL, OPT_STATUS},
	    {"expires", required_argument, NULL, OPT_EXPIRES},
	    {"max-clicks", required_argument, NULL, OPT_MAX_CLICKS},
	    {"forward-query", no_argument, NULL, OPT_FORWARD_QUERY},
	    {"title", required_argument, NULL, OPT_TITLE},
	    {"tag", required_argument, NULL, OPT_TAG},
	    {NULL, 0, NULL, 0},
	};
	struct link_input in = {.expires_at = LINK_NO_TIME, .max_clicks = LINK_NO_LIMIT, .by = CLI_BY};
	const char **tags = calloc((size_t)argc, sizeof(*tags));
	struct cmd_common c;
	int rc;

	if (tags == NULL)
		return CMD_EXIT_FAIL;
	in.tags = tags;
	rc = add_options(argc, argv, opts, &c, &in, tags);
	if (rc == 0)
		rc = add_link(&c, &in);
	free(tags);
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
	    CMD_COMMON_OPTIONS,
	    {"limit", required_argument, NULL, OPT_LIMIT},
	    {"search", required_argument, NULL, OPT_SEARCH},
	    {"tag", required_argument, NULL, OPT_TAG},
	    {"url", required_argument, NULL, OPT_URL},
	    {NULL, 0, NULL, 0},
	};
	struct link_filter f = {NULL, NULL, NULL, 0};
	const char **tags = calloc((size_t)argc, sizeof(*tags));
	char *url = malloc(LINK_URL_MAX + 1);
	struct cmd_common c;
	uint64_t limit = 0, n;
	int64_t after = 0, last;
	struct store *s;
	enum url_error ue;
	int opt, rc = 0;

	if (tags == NULL || url == NULL) {
		rc = CMD_EXIT_FAIL;
		goto out;
	}
	f.tags = tags;
	cmd_common_init(&c);
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (cmd_common_opt(&c, opt, optarg))
			continue;
		if (opt == OPT_SEARCH) {
			if (link_title_check(optarg, strlen(optarg)) != LINK_LABEL_OK) {
				rc = cmd_usage_error("--search: expected text without control characters");
				goto out;
			}
			f.q = optarg[0] != '\0' ? optarg : NULL;
		} else if (opt == OPT_TAG) {
			tags[f.n_tags++] = optarg;
		} else if (opt == OPT_URL) {
			if ((ue = url_normalize(optarg, NULL, url, LINK_URL_MAX + 1)) != URL_OK) {
				rc = cmd_usage_error("--url: %s", url_error_message(ue));
				goto out;
			}
			f.url = url;
		} else if (opt != OPT_LIMIT) {
			rc = cmd_bad_option(opt, argv);
			goto out;
		} else if (num_parse(optarg, 1, INT32_MAX, &limit) != 0) {
			rc = cmd_usage_error("--limit: expected a whole number >= 1, got '%s'", optarg);
			goto out;
		}
	}
	if (optind != argc) {
		rc = cmd_usage_error("%s: unexpected argument for list", argv[optind]);
		goto out;
	}
	if ((rc = cmd_common_finish(&c, false)) != 0 || (rc = cmd_open_store(&c, &s)) != 0)
		goto out;
	/* Pages of 1000 by id, so a long list never holds one read open. */
	for (n = 0; limit == 0 || n < limit;) {
		int page = limit == 0 || limit - n > 1000 ? 1000 : (int)(limit - n);
		last = after;
		if (f.url != NULL || f.q != NULL || f.n_tags > 0)
			rc = store_link_find(s, &f, after, page, print_link, &last);
		else
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
out:
	free(tags);
	free(url);
	return rc;
}

/* Reads edit's options into p; tags "" for --no-tags. */
static int edit_options(int argc, char **argv, struct cmd_common *c, struct link_patch *p, const char **code)
{
	static const struct option opts[] = {
	    CMD_COMMON_OPTIONS,
	    {"url", required_argument, NULL, OPT_URL},
	    {"status", required_argument, NULL, OPT_STATUS},
	    {"title", required_argument, NULL, OPT_TITLE},
	    {"tag", required_argument, NULL, OPT_TAG},
	    {"no-tags", no_argument, NULL, OPT_NO_TAGS},
	    {"disable", no_argument, NULL, OPT_DISABLE},
	    {"enable", no_argument, NULL, OPT_ENABLE},
	    {NULL, 0, NULL, 0},
	};
	struct link_admin_error err;
	size_t n_tags = 0;
	uint64_t n;
	int opt;

	cmd_common_init(c);
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (cmd_common_opt(c, opt, optarg))
			continue;
		switch (opt) {
		case OPT_URL:
			if (strlen(optarg) > LINK_URL_MAX)
				return cmd_usage_error("--url: %s", url_error_message(URL_TOO_LONG));
			snprintf(p->url, sizeof(p->url), "%s", optarg);
			p->fields |= PATCH_URL;
			break;
		case OPT_STATUS:
			if (num_parse(optarg, 0, 999, &n) != 0 || !link_status_is_valid((int)n))
				return cmd_usage_error("--status: expected 301, 302, 303, 307 or 308, got '%s'",
				                       optarg);
			p->status = (int)n;
			p->fields |= PATCH_STATUS;
			break;
		case OPT_TITLE:
			if (link_admin_patch_title(p, optarg, strlen(optarg), &err) != 0)
				return cmd_usage_error("--title: %s", err.message);
			break;
		case OPT_TAG:
			if (link_admin_patch_tag(p, optarg, strlen(optarg), n_tags++, &err) != 0)
				return cmd_usage_error("--tag '%s': %s", optarg, err.message);
			break;
		case OPT_NO_TAGS:
			p->fields |= PATCH_TAGS;
			break;
		case OPT_DISABLE:
		case OPT_ENABLE:
			p->disabled = opt == OPT_DISABLE;
			p->fields |= PATCH_DISABLED;
			break;
		default:
			return cmd_bad_option(opt, argv);
		}
	}
	if (optind + 1 != argc)
		return cmd_usage_error("edit: expected exactly one CODE (shortd edit CODE [options])");
	*code = argv[optind];
	if (link_code_check(*code) != LINK_CODE_OK)
		return cmd_usage_error("invalid code '%s'", *code);
	if (p->fields == 0)
		return cmd_usage_error("edit: nothing to change (--url, --status, --title, --tag, --no-tags, "
		                       "--disable, --enable)");
	return cmd_common_finish(c, true);
}

int cmd_edit_main(int argc, char **argv)
{
	struct link_patch *p = calloc(1, sizeof(*p));
	struct link *l = malloc(sizeof(*l));
	struct link_admin_error err;
	struct config daemon;
	struct url_self self;
	struct cmd_common c;
	const char *code = NULL;
	struct store *s;
	int rc = CMD_EXIT_FAIL;

	if (p == NULL || l == NULL)
		goto out;
	snprintf(p->by, sizeof(p->by), "%s", CLI_BY);
	if ((rc = edit_options(argc, argv, &c, p, &code)) != 0 || (rc = cmd_open_store(&c, &s)) != 0)
		goto out;
	config_command_daemon(&daemon, c.base_url);
	config_url_self(&daemon, &self);
	rc = link_admin_update(s, &self, code, p, (int64_t)time(NULL), l, &err);
	if (rc == 0) {
		json_t *j = link_json_encode(l, c.base_url, l->clicks);
		char *text = j != NULL ? link_json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
		if (text != NULL)
			printf("%s\n", text);
		rc = text != NULL ? 0 : CMD_EXIT_FAIL;
		free(text);
		json_decref(j);
	} else {
		fprintf(stderr, "shortd: %s: %s (%s)\n", code, err.message, err.code);
		rc = err.http_status == 400 ? CMD_EXIT_USAGE : CMD_EXIT_FAIL;
	}
	store_close(s);
out:
	free(p);
	free(l);
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
