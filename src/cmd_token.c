/*
 * The token commands; see cmd_token.h.
 */
#include "cmd_token.h"

#include <getopt.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "cmd_common.h"
#include "rfc3339.h"
#include "store.h"

enum {
	OPT_NAME = CMD_OPT_OWN,
	OPT_READ_ONLY,
};

/* name, role, created, last used ("never"): the daemon writes a use within
 * one --flush-interval of it. */
static int print_token(const struct store_token *t, void *ctx)
{
	char when[RFC3339_LEN + 1], used[RFC3339_LEN + 1] = "never";

	(void)ctx;
	rfc3339_format(t->created_at, when);
	if (t->last_used_at != LINK_NO_TIME)
		rfc3339_format(t->last_used_at, used);
	printf("%s\t%s\t%s\t%s\n", t->name, t->role == STORE_ROLE_READ_ONLY ? "read-only" : "admin", when, used);
	return 0;
}

int cmd_token_main(int argc, char **argv)
{
	static const struct option opts[] = {
	    CMD_COMMON_OPTIONS,
	    {"name", required_argument, NULL, OPT_NAME},
	    {"read-only", no_argument, NULL, OPT_READ_ONLY},
	    {NULL, 0, NULL, 0},
	};
	struct cmd_common c;
	const char *name = NULL;
	bool read_only = false;
	struct store *s;
	const char *sub;
	int opt, rc;

	if (argc < 2)
		return cmd_usage_error("token: expected create, list or revoke");
	sub = argv[1];
	cmd_common_init(&c);
	optind = 1;
	opterr = 0;
	argc--;
	argv++;
	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (cmd_common_opt(&c, opt, optarg))
			continue;
		if (opt == OPT_NAME && strcmp(sub, "create") == 0)
			name = optarg;
		else if (opt == OPT_READ_ONLY && strcmp(sub, "create") == 0)
			read_only = true;
		else
			return cmd_bad_option(opt, argv);
	}
	if ((rc = cmd_common_finish(&c, false)) != 0)
		return rc;
	if (strcmp(sub, "create") == 0) {
		char generated[48], secret[AUTH_TOKEN_LEN + 1];
		unsigned char hash[STORE_TOKEN_HASH_LEN];

		if (optind != argc)
			return cmd_usage_error("%s: unexpected argument for token create", argv[optind]);
		if (name == NULL) {
			/* Time and a random suffix: two made in one second differ. */
			snprintf(generated, sizeof(generated), "token-%lld-%04x", (long long)time(NULL),
			         (unsigned)randombytes_uniform(0x10000));
			name = generated;
		}
		if (!auth_token_name_ok(name))
			return cmd_usage_error("--name: expected 1 to 64 printable characters without spaces, got '%s'",
			                       name);
		if ((rc = cmd_open_store(&c, &s)) != 0)
			return rc;
		auth_token_generate(secret, hash);
		rc = store_token_add(s, name, hash, read_only ? STORE_ROLE_READ_ONLY : STORE_ROLE_ADMIN,
		                     (int64_t)time(NULL));
		if (rc == STORE_OK && (printf("%s\n", secret) < 0 || fflush(stdout) != 0)) {
			/* Nobody saw the secret: a token no one holds is revoked. */
			int revoked = store_token_revoke(s, name);
			fprintf(stderr, "shortd: token '%s': cannot write it to standard output; %s\n", name,
			        revoked == STORE_OK ? "it was not kept" : "revoke it, it cannot be shown again");
			rc = CMD_EXIT_FAIL;
		} else if (rc == STORE_OK) {
			/* The token first, then the note: stdout may be a pipe. */
			fprintf(stderr, "shortd: token '%s' (%s) created; it is shown only this once\n", name,
			        read_only ? "read-only" : "admin");
		} else {
			fprintf(stderr, "shortd: token '%s': %s\n", name,
			        rc == STORE_CONFLICT ? "a token with this name exists" : store_status_message(rc));
			rc = CMD_EXIT_FAIL;
		}
		sodium_memzero(secret, sizeof(secret));
		store_close(s);
		return rc;
	}
	if (strcmp(sub, "list") == 0) {
		if (optind != argc)
			return cmd_usage_error("%s: unexpected argument for token list", argv[optind]);
		if ((rc = cmd_open_store(&c, &s)) != 0)
			return rc;
		rc = store_token_list(s, print_token, NULL);
		if (rc != STORE_OK) {
			fprintf(stderr, "shortd: token list: %s\n", store_status_message(rc));
			rc = CMD_EXIT_FAIL;
		}
		store_close(s);
		return rc;
	}
	if (strcmp(sub, "revoke") == 0) {
		if (optind + 1 != argc)
			return cmd_usage_error("token revoke: expected exactly one NAME");
		if ((rc = cmd_open_store(&c, &s)) != 0)
			return rc;
		rc = store_token_revoke(s, argv[optind]);
		if (rc != STORE_OK) {
			fprintf(stderr, "shortd: token '%s': %s\n", argv[optind],
			        rc == STORE_NOT_FOUND ? "no such token" : store_status_message(rc));
			rc = CMD_EXIT_FAIL;
		}
		store_close(s);
		return rc;
	}
	return cmd_usage_error("token %s: expected create, list or revoke", sub);
}
