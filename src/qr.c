/*
 * QR codes drawn from libqrencode's module matrix: SVG as one path of unit
 * squares in a viewBox measured in modules, PNG as a 1-bit greyscale image
 * written by libpng into memory. Nothing here knows about links or HTTP.
 *
 * libpng reports errors by longjmp() to the setjmp() in png_draw(); every
 * resource it may leave behind is reachable from struct png_buf or the
 * png_struct, so the one failure path frees both.
 */
#include "qr.h"

#include <png.h>
#include <qrencode.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int qr_format_parse(const char *name, enum qr_format *out)
{
	if (strcmp(name, "svg") == 0)
		*out = QR_SVG;
	else if (strcmp(name, "png") == 0)
		*out = QR_PNG;
	else
		return -1;
	return 0;
}

const char *qr_content_type(enum qr_format format)
{
	return format == QR_PNG ? "image/png" : "image/svg+xml";
}

static bool is_dark(const QRcode *q, int x, int y)
{
	return (q->data[y * q->width + x] & 1) != 0;
}

/* ---- SVG ---- */

struct text_buf {
	char *p;
	size_t len, cap;
	bool failed;
};

__attribute__((format(printf, 2, 3))) static void text_add(struct text_buf *b, const char *fmt, ...)
{
	char piece[160];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(piece, sizeof(piece), fmt, ap);
	va_end(ap);

	if (n < 0 || (size_t)n >= sizeof(piece)) /* never a piece cut short */
		b->failed = true;
	if (b->failed)
		return;
	/* A piece is shorter than the first size, so doubling always makes room. */
	if (b->len + (size_t)n + 1 > b->cap) {
		size_t cap = b->cap != 0 ? b->cap * 2 : 4096;
		char *grown = realloc(b->p, cap);
		if (grown == NULL) {
			b->failed = true;
			return;
		}
		b->p = grown;
		b->cap = cap;
	}
	memcpy(b->p + b->len, piece, (size_t)n + 1);
	b->len += (size_t)n;
}

static int svg_draw(const QRcode *q, int size, int margin, char **out, size_t *len)
{
	struct text_buf b = {0};
	int side = q->width + 2 * margin;

	text_add(&b,
	         "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" "
	         "width=\"%d\" height=\"%d\" ",
	         side * size, side * size);
	text_add(&b, "viewBox=\"0 0 %d %d\" shape-rendering=\"crispEdges\">\n", side, side);
	text_add(&b, "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n<path fill=\"#000\" d=\"", side, side);
	/* One rectangle per run of dark modules in a row. */
	for (int y = 0; y < q->width; y++) {
		for (int x = 0; x < q->width;) {
			int run = 0;
			while (x + run < q->width && is_dark(q, x + run, y))
				run++;
			if (run == 0) {
				x++;
				continue;
			}
			text_add(&b, "M%d %dh%dv1h-%dz", x + margin, y + margin, run, run);
			x += run;
		}
	}
	text_add(&b, "%s", "\"/>\n</svg>\n");
	if (b.failed) {
		free(b.p);
		return -1;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}

/* ---- PNG ---- */

struct png_buf {
	unsigned char *p;
	size_t len, cap;
	unsigned char *row;
};

static void png_buf_write(png_structp png, png_bytep data, png_size_t n)
{
	struct png_buf *b = png_get_io_ptr(png);

	if (b->len + n > b->cap) {
		size_t cap = b->cap != 0 ? b->cap * 2 : 4096;
		unsigned char *grown;
		while (cap < b->len + n)
			cap *= 2;
		grown = realloc(b->p, cap);
		if (grown == NULL)
			png_error(png, "out of memory");
		b->p = grown;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void png_buf_flush(png_structp png)
{
	(void)png;
}

/* One image row: 1-bit pixels, most significant first, 1 = white. */
static void png_fill_row(const QRcode *q, int size, int margin, int y, unsigned char *row, size_t row_bytes)
{
	int side = q->width + 2 * margin;

	memset(row, 0xff, row_bytes);
	if (y < margin || y >= margin + q->width)
		return;
	for (int px = 0; px < side * size; px++) {
		int x = px / size - margin;
		if (x >= 0 && x < q->width && is_dark(q, x, y - margin))
			row[px / 8] &= (unsigned char)~(0x80u >> (px % 8));
	}
}

static int png_draw(const QRcode *q, int size, int margin, char **out, size_t *len)
{
	/* volatile: read after longjmp() back into this frame. */
	struct png_buf *volatile b = calloc(1, sizeof(*b));
	png_structp png = NULL;
	png_infop info = NULL;
	int side = q->width + 2 * margin;
	png_uint_32 pixels = (png_uint_32)(side * size);
	size_t row_bytes = ((size_t)pixels + 7) / 8;

	if (b == NULL)
		return -1;
	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	if (png == NULL || (info = png_create_info_struct(png)) == NULL || (b->row = malloc(row_bytes)) == NULL)
		goto fail;
	if (setjmp(png_jmpbuf(png)))
		goto fail;
	png_set_write_fn(png, b, png_buf_write, png_buf_flush);
	png_set_IHDR(png, info, pixels, pixels, 1, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
	             PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (png_uint_32 py = 0; py < pixels; py++) {
		png_fill_row(q, size, margin, (int)(py / (png_uint_32)size), b->row, row_bytes);
		png_write_row(png, b->row);
	}
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	*out = (char *)b->p;
	*len = b->len;
	free(b->row);
	free(b);
	return 0;
fail:
	png_destroy_write_struct(&png, info != NULL ? &info : NULL);
	free(b->p);
	free(b->row);
	free(b);
	return -1;
}

int qr_render(const char *text, enum qr_format format, int size, int margin, char **out, size_t *len)
{
	QRcode *q;
	int rc;

	*out = NULL;
	*len = 0;
	if (size < QR_SIZE_MIN || size > QR_SIZE_MAX || margin < 0 || margin > QR_MARGIN_MAX)
		return -1;
	q = QRcode_encodeString8bit(text, 0, QR_ECLEVEL_M);
	if (q == NULL)
		return -1;
	rc = format == QR_PNG ? png_draw(q, size, margin, out, len) : svg_draw(q, size, margin, out, len);
	QRcode_free(q);
	return rc;
}
