/*
 * The admin commands' shared options and set-up; see cmd_common.h.
 */
#include "cmd_common.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "link.h"

int cmd_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("shortd: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CMD_EXIT_USAGE;
}

void cmd_common_init(struct cmd_common *c)
{
	c->db = NULL;
	c->base_arg = NULL;
	c->base_url[0] = '\0';
}

bool cmd_common_opt(struct cmd_common *c, int opt, const char *arg)
{
	if (opt == CMD_OPT_DB) {
		c->db = arg;
		return true;
	}
	if (opt == CMD_OPT_BASE_URL) {
		c->base_arg = arg;
		return true;
	}
	return false;
}

int cmd_bad_option(int opt, char **argv)
{
	if (opt == ':')
		return cmd_usage_error("%s: missing value", argv[optind - 1]);
	return cmd_usage_error("%s: unknown option", argv[optind - 1]);
}

int cmd_read_variable(struct config *cfg, const char *var)
{
	char err[512];

	if (config_read_variable(cfg, var, err, sizeof(err)) == 0)
		return 0;
	fprintf(stderr, "shortd: %s\n", err);
	return CMD_EXIT_USAGE;
}

int cmd_common_finish(struct cmd_common *c, bool needs_base)
{
	struct config cfg;
	int rc;

	config_defaults(&cfg);
	if (c->db == NULL) {
		/* serve's rule: an empty $SHORTD_DB counts as unset. */
		if ((rc = cmd_read_variable(&cfg, "SHORTD_DB")) != 0)
			return rc;
		c->db = cfg.db_path;
	} else if (c->db[0] == '\0') {
		return cmd_usage_error("%s: must not be empty", "--db");
	}
	if (c->base_arg == NULL && !needs_base)
		return 0;
	if (c->base_arg != NULL) {
		if (config_set_base_url(&cfg, c->base_arg) != 0)
			return cmd_usage_error(
			    "--base-url: expected an http:// or https:// URL with a host and no query, "
			    "got '%s'",
			    c->base_arg);
	} else if ((rc = cmd_read_variable(&cfg, "SHORTD_BASE_URL")) != 0) {
		return rc;
	}
	if (cfg.base_url[0] == '\0' && (rc = cmd_read_variable(&cfg, "SHORTD_LISTEN")) != 0)
		return rc;
	config_finish_base_url(&cfg, cfg.listen_port);
	memcpy(c->base_url, cfg.base_url, strlen(cfg.base_url) + 1);
	return 0;
}

int cmd_open_store(const struct cmd_common *c, struct store **s)
{
	char err[512];
	int rc = store_open_existing(c->db, s, err, sizeof(err));

	if (rc != STORE_OK) {
		fprintf(stderr, "shortd: %s\n", err);
		/* A --db this shortd cannot use is a bad value. */
		return rc == STORE_UNSUPPORTED ? CMD_EXIT_USAGE : CMD_EXIT_FAIL;
	}
	return 0;
}

int cmd_code_args(int argc, char **argv, struct cmd_common *c, const char **code, const char *cmd, bool needs_base)
{
	static const struct option opts[] = {
	    CMD_COMMON_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	int opt;

	cmd_common_init(c);
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (!cmd_common_opt(c, opt, optarg))
			return cmd_bad_option(opt, argv);
	}
	if (optind + 1 != argc)
		return cmd_usage_error("%s: expected exactly one CODE", cmd);
	*code = argv[optind];
	if (link_code_check(*code) != LINK_CODE_OK)
		return cmd_usage_error("invalid code '%s'", *code);
	return cmd_common_finish(c, needs_base);
}
