/*
 * `shortd init`; see cmd_init.h.
 */
#include "cmd_init.h"

#include <getopt.h>
#include <stdio.h>

#include "cmd_common.h"
#include "store.h"

int cmd_init_main(int argc, char **argv)
{
	static const struct option opts[] = {
	    CMD_COMMON_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	struct cmd_common c;
	struct store *s;
	char err[512];
	int opt, found, now, rc;

	cmd_common_init(&c);
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (!cmd_common_opt(&c, opt, optarg))
			return cmd_bad_option(opt, argv);
	}
	if (optind != argc)
		return cmd_usage_error("%s: unexpected argument for init", argv[optind]);
	if ((rc = cmd_common_finish(&c, false)) != 0)
		return rc;
	if ((rc = store_open(c.db, &s, err, sizeof(err))) != STORE_OK) {
		fprintf(stderr, "shortd: %s\n", err);
		return rc == STORE_UNSUPPORTED ? CMD_EXIT_USAGE : CMD_EXIT_FAIL;
	}
	found = store_schema_version_found(s);
	now = store_schema_version(s);
	if (found == 0)
		fprintf(stderr, "shortd: created %s (schema version %d)\n", c.db, now);
	else if (found < now)
		fprintf(stderr, "shortd: %s migrated from schema version %d to %d\n", c.db, found, now);
	else
		fprintf(stderr, "shortd: %s is already a shortd database (schema version %d); nothing to do\n", c.db,
		        now);
	store_close(s);
	return 0;
}
