/*
 * QR codes of short URLs, as SVG or PNG, with libqrencode (and libpng for
 * PNG). Pure functions of their input: no I/O, no state. The API's
 * /api/v1/links/{code}/qr and `shortd qr` both draw through qr_render(), so
 * they give the same bytes for the same URL, size and margin.
 */
#ifndef SHORTD_QR_H
#define SHORTD_QR_H

#include <stddef.h>

enum qr_format {
	QR_SVG,
	QR_PNG,
};

/* size: pixels per module (PNG; the SVG's width and height follow it);
 * margin: the quiet zone in modules (the QR standard asks for 4). */
#define QR_SIZE_MIN 1
#define QR_SIZE_MAX 32
#define QR_SIZE_DEFAULT 8
#define QR_MARGIN_MAX 16
#define QR_MARGIN_DEFAULT 4

/* "svg" or "png" -> *out; 0, or -1 for any other name. */
int qr_format_parse(const char *name, enum qr_format *out);

/* The media type of a format ("image/svg+xml", "image/png"). */
const char *qr_content_type(enum qr_format format);

/*
 * Encodes text (level M, 8-bit) and draws it with size pixels per module
 * and margin modules of quiet zone, both within the bounds above. Returns 0
 * with a malloc'd image in *out (the caller frees it) and its length in
 * *len, or -1 when the arguments are out of bounds, the text does not fit a
 * QR code, or memory runs out; then *out is NULL.
 */
int qr_render(const char *text, enum qr_format format, int size, int margin, char **out, size_t *len);

#endif
