/*
 * The admin subcommands. Each opens the store itself (safe beside a running
 * serve: SQLite in WAL mode with a busy timeout), validates through the same
 * linkops functions as the API, and maps outcomes to exit statuses:
 * 0 success, 1 not found / taken / store failure, 2 bad usage or value.
 * Errors are one line on stderr starting with "shortd: ".
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "config.h"
#include "linkjson.h"
#include "linkops.h"
#include "rfc3339.h"
#include "store.h"

#define EXIT_FAIL 1
#define EXIT_USAGE 2

enum {
	O_DB = 256,
	O_BASE_URL,
	O_CODE,
	O_STATUS,
	O_EXPIRES,
	O_MAX_CLICKS,
	O_FORWARD_QUERY,
	O_LIMIT,
	O_NAME,
	O_READ_ONLY,
};

struct cli_common {
	const char *db;       /* --db, then $SHORTD_DB, then ./shortd.db */
	const char *base_arg; /* --base-url as given, or NULL */
	char base_url[CONFIG_BASE_URL_MAX + 1];
};

static int usage_error(const char *fmt, const char *arg)
{
	fputs("shortd: ", stderr);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return EXIT_USAGE;
}

static void common_init(struct cli_common *c)
{
	c->db = NULL;
	c->base_arg = NULL;
	c->base_url[0] = '\0';
}

/* Handles the options every subcommand takes; 1 when opt was one of them. */
static int common_opt(struct cli_common *c, int opt, const char *arg)
{
	if (opt == O_DB) {
		c->db = arg;
		return 1;
	}
	if (opt == O_BASE_URL) {
		c->base_arg = arg;
		return 1;
	}
	return 0;
}

/* Reads one SHORTD_* variable into cfg by serve's rules; 0, or EXIT_USAGE
 * with serve's one-line message naming it. */
static int read_variable(struct config *cfg, const char *var)
{
	char err[512];

	if (config_read_variable(cfg, var, err, sizeof(err)) == 0)
		return 0;
	fprintf(stderr, "shortd: %s\n", err);
	return EXIT_USAGE;
}

/*
 * Settles the database path and the base URL once the flags are parsed.
 * Flags win and a variable that a flag replaces is not read. The base URL
 * comes from --base-url, else $SHORTD_BASE_URL, else http:// and
 * $SHORTD_LISTEN, else http://127.0.0.1:8080; a given --base-url is checked
 * by serve's rules whether or not this command prints short URLs. Returns
 * 0, or EXIT_USAGE with a one-line message naming the flag or variable.
 */
static int common_finish(struct cli_common *c, bool needs_base)
{
	struct config cfg;
	int rc;

	if (c->db == NULL) {
		const char *db = getenv("SHORTD_DB");
		c->db = db != NULL && db[0] != '\0' ? db : "./shortd.db";
	} else if (c->db[0] == '\0') {
		return usage_error("%s: must not be empty", "--db");
	}
	if (c->base_arg == NULL && !needs_base)
		return 0;
	config_defaults(&cfg);
	if (c->base_arg != NULL) {
		if (config_set_base_url(&cfg, c->base_arg) != 0)
			return usage_error("--base-url: expected an http:// or https:// URL with a host and no query, "
					   "got '%s'",
					   c->base_arg);
	} else if ((rc = read_variable(&cfg, "SHORTD_BASE_URL")) != 0) {
		return rc;
	}
	if (cfg.base_url[0] == '\0' && (rc = read_variable(&cfg, "SHORTD_LISTEN")) != 0)
		return rc;
	config_finish_base_url(&cfg, cfg.listen_port);
	memcpy(c->base_url, cfg.base_url, strlen(cfg.base_url) + 1);
	return 0;
}

static int bad_option(int opt, char **argv)
{
	if (opt == ':')
		return usage_error("%s: missing value", argv[optind - 1]);
	return usage_error("%s: unknown option", argv[optind - 1]);
}

static int open_store(const struct cli_common *c, struct store **s)
{
	char err[512];

	if (store_open(c->db, s, err, sizeof(err)) != STORE_OK) {
		fprintf(stderr, "shortd: %s\n", err);
		return -1;
	}
	return 0;
}

static int parse_count(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	if (s == NULL || s[0] == '\0')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int cli_add(int argc, char **argv)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, O_DB},
		{"base-url", required_argument, NULL, O_BASE_URL},
		{"code", required_argument, NULL, O_CODE},
		{"status", required_argument, NULL, O_STATUS},
		{"expires", required_argument, NULL, O_EXPIRES},
		{"max-clicks", required_argument, NULL, O_MAX_CLICKS},
		{"forward-query", no_argument, NULL, O_FORWARD_QUERY},
		{NULL, 0, NULL, 0},
	};
	struct link_input in = {NULL, NULL, 0, LINK_NO_TIME, LINK_NO_LIMIT, false};
	struct cli_common c;
	struct linkops_error err;
	struct store *s;
	struct link *l;
	long long n;
	int opt, rc;

	common_init(&c);
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (common_opt(&c, opt, optarg))
			continue;
		switch (opt) {
		case O_CODE:
			in.code = optarg;
			break;
		case O_STATUS:
			if (parse_count(optarg, 0, 999, &n) != 0 || !link_status_is_valid((int)n))
				return usage_error("--status: expected 301, 302, 303, 307 or 308, got '%s'", optarg);
			in.status = (int)n;
			break;
		case O_EXPIRES:
			if (rfc3339_parse(optarg, &in.expires_at) != 0)
				return usage_error("--expires: expected an RFC 3339 time like 2030-01-31T12:00:00Z, got '%s'",
						   optarg);
			break;
		case O_MAX_CLICKS:
			if (parse_count(optarg, 0, INT64_MAX, &n) != 0)
				return usage_error("--max-clicks: expected a whole number >= 0, got '%s'", optarg);
			in.max_clicks = n;
			break;
		case O_FORWARD_QUERY:
			in.forward_query = true;
			break;
		default:
			return bad_option(opt, argv);
		}
	}
	if (optind + 1 != argc)
		return usage_error("%s", "add: expected exactly one URL (shortd add URL [options])");
	in.url = argv[optind];
	if ((rc = common_finish(&c, true)) != 0)
		return rc;
	/* The daemon's --default-status lives in its own process; the CLI's
	 * default is $SHORTD_DEFAULT_STATUS, else 302 (README: Admin CLI). */
	struct config cfg;
	config_defaults(&cfg);
	if (in.status == 0 && (rc = read_variable(&cfg, "SHORTD_DEFAULT_STATUS")) != 0)
		return rc;

	l = malloc(sizeof(*l));
	if (l == NULL)
		return EXIT_FAIL;
	if (open_store(&c, &s) != 0) {
		free(l);
		return EXIT_FAIL;
	}
	struct config daemon;
	struct url_self self;
	config_cli_daemon(&daemon, c.base_url);
	config_url_self(&daemon, &self);
	rc = linkops_create(s, &self, cfg.default_status, (int64_t)time(NULL), &in, l, &err);
	if (rc == 0) {
		printf("%s/%s\n", c.base_url, l->code);
	} else {
		fprintf(stderr, "shortd: %s (%s)\n", err.message, err.code);
		rc = err.http_status == 400 ? EXIT_USAGE : EXIT_FAIL;
	}
	store_close(s);
	free(l);
	return rc;
}

/* Parses [--db] [--base-url] and exactly one CODE; needs_base: the command
 * prints short URLs. */
static int code_command(int argc, char **argv, struct cli_common *c, const char **code, const char *cmd,
			bool needs_base)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, O_DB},
		{"base-url", required_argument, NULL, O_BASE_URL},
		{NULL, 0, NULL, 0},
	};
	int opt;

	common_init(c);
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (!common_opt(c, opt, optarg))
			return bad_option(opt, argv);
	}
	if (optind + 1 != argc)
		return usage_error("%s: expected exactly one CODE", cmd);
	*code = argv[optind];
	if (link_code_check(*code) != LINK_CODE_OK)
		return usage_error("invalid code '%s'", *code);
	return common_finish(c, needs_base);
}

int cli_get(int argc, char **argv)
{
	struct cli_common c;
	const char *code;
	struct store *s;
	struct link *l;
	int rc = code_command(argc, argv, &c, &code, "get", true);

	if (rc != 0)
		return rc;
	if ((l = malloc(sizeof(*l))) == NULL)
		return EXIT_FAIL;
	if (open_store(&c, &s) != 0) {
		free(l);
		return EXIT_FAIL;
	}
	rc = store_link_lookup(s, code, l);
	if (rc == STORE_OK) {
		json_t *j = linkjson_encode(l, c.base_url, l->clicks);
		char *text = j != NULL ? linkjson_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
		if (text != NULL)
			printf("%s\n", text);
		free(text);
		json_decref(j);
		rc = text != NULL ? 0 : EXIT_FAIL;
	} else {
		fprintf(stderr, "shortd: %s: %s\n", code, rc == STORE_NOT_FOUND ? "no such link" : store_status_message(rc));
		rc = EXIT_FAIL;
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

int cli_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, O_DB},
		{"base-url", required_argument, NULL, O_BASE_URL},
		{"limit", required_argument, NULL, O_LIMIT},
		{NULL, 0, NULL, 0},
	};
	struct cli_common c;
	long long limit = 0, n;
	int64_t after = 0, last;
	struct store *s;
	int opt, rc = 0;

	common_init(&c);
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (common_opt(&c, opt, optarg))
			continue;
		if (opt != O_LIMIT)
			return bad_option(opt, argv);
		if (parse_count(optarg, 1, INT32_MAX, &limit) != 0)
			return usage_error("--limit: expected a whole number >= 1, got '%s'", optarg);
	}
	if (optind != argc)
		return usage_error("%s: unexpected argument for list", argv[optind]);
	if ((rc = common_finish(&c, false)) != 0)
		return rc;
	if (open_store(&c, &s) != 0)
		return EXIT_FAIL;
	/* Pages of 1000 by id, so a long list never holds one read open. */
	for (n = 0; limit == 0 || n < limit;) {
		int page = limit == 0 || limit - n > 1000 ? 1000 : (int)(limit - n);
		last = after;
		rc = store_link_list(s, after, page, print_link, &last);
		if (rc != STORE_OK) {
			fprintf(stderr, "shortd: list: %s\n", store_status_message(rc));
			rc = EXIT_FAIL;
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

int cli_rm(int argc, char **argv)
{
	struct cli_common c;
	const char *code;
	struct store *s;
	int rc = code_command(argc, argv, &c, &code, "rm", false);

	if (rc != 0)
		return rc;
	if (open_store(&c, &s) != 0)
		return EXIT_FAIL;
	rc = store_link_delete(s, code);
	if (rc != STORE_OK) {
		fprintf(stderr, "shortd: %s: %s\n", code, rc == STORE_NOT_FOUND ? "no such link" : store_status_message(rc));
		rc = EXIT_FAIL;
	}
	store_close(s);
	return rc;
}

static int print_token(const struct store_token *t, void *ctx)
{
	char when[RFC3339_LEN + 1];

	(void)ctx;
	rfc3339_format(t->created_at, when);
	printf("%s\t%s\t%s\n", t->name, t->role == STORE_ROLE_READ_ONLY ? "read-only" : "admin", when);
	return 0;
}

static bool token_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > STORE_TOKEN_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)name[i];
		if (ch <= 0x20 || ch >= 0x7f)
			return false;
	}
	return true;
}

int cli_token(int argc, char **argv)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, O_DB},
		{"base-url", required_argument, NULL, O_BASE_URL},
		{"name", required_argument, NULL, O_NAME},
		{"read-only", no_argument, NULL, O_READ_ONLY},
		{NULL, 0, NULL, 0},
	};
	struct cli_common c;
	const char *name = NULL;
	bool read_only = false;
	struct store *s;
	const char *sub;
	int opt, rc;

	if (argc < 2)
		return usage_error("%s", "token: expected create, list or revoke");
	sub = argv[1];
	common_init(&c);
	optind = 1;
	opterr = 0;
	argc--;
	argv++;
	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (common_opt(&c, opt, optarg))
			continue;
		if (opt == O_NAME && strcmp(sub, "create") == 0)
			name = optarg;
		else if (opt == O_READ_ONLY && strcmp(sub, "create") == 0)
			read_only = true;
		else
			return bad_option(opt, argv);
	}
	if ((rc = common_finish(&c, false)) != 0)
		return rc;
	if (strcmp(sub, "create") == 0) {
		char generated[48], secret[AUTH_TOKEN_LEN + 1];
		unsigned char hash[STORE_TOKEN_HASH_LEN];

		if (optind != argc)
			return usage_error("%s: unexpected argument for token create", argv[optind]);
		if (name == NULL) {
			/* Time and a random suffix: two made in one second differ. */
			snprintf(generated, sizeof(generated), "token-%lld-%04x", (long long)time(NULL),
				 (unsigned)randombytes_uniform(0x10000));
			name = generated;
		}
		if (!token_name_ok(name))
			return usage_error("--name: expected 1 to 64 printable characters without spaces, got '%s'", name);
		if (open_store(&c, &s) != 0)
			return EXIT_FAIL;
		auth_token_generate(secret, hash);
		rc = store_token_add(s, name, hash, read_only ? STORE_ROLE_READ_ONLY : STORE_ROLE_ADMIN, (int64_t)time(NULL));
		if (rc == STORE_OK) {
			/* The token first, then the note: stdout may be a pipe. */
			printf("%s\n", secret);
			fflush(stdout);
			fprintf(stderr, "shortd: token '%s' (%s) created; it is shown only this once\n", name,
				read_only ? "read-only" : "admin");
		} else {
			fprintf(stderr, "shortd: token '%s': %s\n", name,
				rc == STORE_CONFLICT ? "a token with this name exists" : store_status_message(rc));
			rc = EXIT_FAIL;
		}
		store_close(s);
		return rc;
	}
	if (strcmp(sub, "list") == 0) {
		if (optind != argc)
			return usage_error("%s: unexpected argument for token list", argv[optind]);
		if (open_store(&c, &s) != 0)
			return EXIT_FAIL;
		rc = store_token_list(s, print_token, NULL);
		if (rc != STORE_OK) {
			fprintf(stderr, "shortd: token list: %s\n", store_status_message(rc));
			rc = EXIT_FAIL;
		}
		store_close(s);
		return rc;
	}
	if (strcmp(sub, "revoke") == 0) {
		if (optind + 1 != argc)
			return usage_error("%s", "token revoke: expected exactly one NAME");
		if (open_store(&c, &s) != 0)
			return EXIT_FAIL;
		rc = store_token_revoke(s, argv[optind]);
		if (rc != STORE_OK) {
			fprintf(stderr, "shortd: token '%s': %s\n", argv[optind],
				rc == STORE_NOT_FOUND ? "no such token" : store_status_message(rc));
			rc = EXIT_FAIL;
		}
		store_close(s);
		return rc;
	}
	return usage_error("token %s: expected create, list or revoke", sub);
}
