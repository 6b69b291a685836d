/*
 * `shortd qr CODE`: the link's short URL as a QR code, the same bytes as
 * GET /api/v1/links/{code}/qr answers (qr.c draws both).
 */
#include "cmd_qr.h"

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd_common.h"
#include "link.h"
#include "link_json.h"
#include "num.h"
#include "qr.h"
#include "store.h"

enum { O_FORMAT = CMD_OPT_OWN, O_SIZE, O_MARGIN };

int cmd_qr_main(int argc, char **argv)
{
	static const struct option opts[] = {
	    CMD_COMMON_OPTIONS,
	    {"format", required_argument, NULL, O_FORMAT},
	    {"size", required_argument, NULL, O_SIZE},
	    {"margin", required_argument, NULL, O_MARGIN},
	    {NULL, 0, NULL, 0},
	};
	uint64_t size = QR_SIZE_DEFAULT, margin = QR_MARGIN_DEFAULT;
	enum qr_format format = QR_SVG;
	char short_url[1200];
	struct cmd_common c;
	const char *code;
	struct store *s;
	struct link *l;
	char *image = NULL;
	size_t len;
	int opt, rc;

	cmd_common_init(&c);
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (cmd_common_opt(&c, opt, optarg))
			continue;
		if (opt == O_FORMAT && qr_format_parse(optarg, &format) != 0)
			return cmd_usage_error("--format: expected svg or png, got '%s'", optarg);
		else if (opt == O_SIZE && num_parse(optarg, QR_SIZE_MIN, QR_SIZE_MAX, &size) != 0)
			return cmd_usage_error("--size: expected pixels per module from 1 to 32, got '%s'", optarg);
		else if (opt == O_MARGIN && num_parse(optarg, 0, QR_MARGIN_MAX, &margin) != 0)
			return cmd_usage_error("--margin: expected modules of quiet zone from 0 to 16, got '%s'",
			                       optarg);
		else if (opt != O_FORMAT && opt != O_SIZE && opt != O_MARGIN)
			return cmd_bad_option(opt, argv);
	}
	if (optind + 1 != argc)
		return cmd_usage_error("%s", "qr: expected exactly one CODE (shortd qr CODE [--format svg|png] >FILE)");
	code = argv[optind];
	if (link_code_check(code) != LINK_CODE_OK)
		return cmd_usage_error("invalid code '%s'", code);
	if ((rc = cmd_common_finish(&c, true)) != 0)
		return rc;
	if (format == QR_PNG && isatty(STDOUT_FILENO))
		return cmd_usage_error("%s",
		                       "qr: a PNG is binary; send it to a file (shortd qr CODE --format png >FILE)");
	if ((l = malloc(sizeof(*l))) == NULL)
		return CMD_EXIT_FAIL;
	if ((rc = cmd_open_store(&c, &s)) != 0) {
		free(l);
		return rc;
	}
	rc = store_link_lookup(s, code, l);
	store_close(s);
	free(l);
	if (rc != STORE_OK) {
		fprintf(stderr, "shortd: %s: %s\n", code,
		        rc == STORE_NOT_FOUND ? "no such link" : store_status_message(rc));
		return CMD_EXIT_FAIL;
	}
	if (link_json_short_url(c.base_url, code, short_url, sizeof(short_url)) != 0 ||
	    qr_render(short_url, format, (int)size, (int)margin, &image, &len) != 0) {
		fprintf(stderr, "shortd: %s: the short URL could not be drawn as a QR code\n", code);
		return CMD_EXIT_FAIL;
	}
	rc = fwrite(image, 1, len, stdout) == len && fflush(stdout) == 0 ? 0 : CMD_EXIT_FAIL;
	if (rc != 0)
		fprintf(stderr, "shortd: qr: cannot write the image: %s\n", strerror(errno));
	free(image);
	return rc;
}
