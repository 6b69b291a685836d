/*
 * The qr command; its exit statuses are cmd_common.h's.
 */
#ifndef SHORTD_CMD_QR_H
#define SHORTD_CMD_QR_H

/* `shortd qr CODE [--format svg|png] [--size N] [--margin M]`: writes the
 * link's short URL as a QR code to stdout; a PNG is not written to a
 * terminal. */
int cmd_qr_main(int argc, char **argv);

#endif
