/*
 * Unit tests of qr.c: formats by name, the bounds on size and margin, the
 * image's dimensions ((modules + 2 margin) * size pixels, for PNG read from
 * its IHDR chunk), and text too long for any QR code refused with nothing
 * left allocated. Decoding the images back is the integration suite's job
 * (tests/integration/test_qr.c, with zbarimg).
 */
#include <check.h>
#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qr.h"

#define URL "https://sho.rt/abc1234"

START_TEST(test_format_names)
{
	enum qr_format f = QR_PNG;

	ck_assert_int_eq(qr_format_parse("svg", &f), 0);
	ck_assert_int_eq(f, QR_SVG);
	ck_assert_int_eq(qr_format_parse("png", &f), 0);
	ck_assert_int_eq(f, QR_PNG);
	ck_assert_int_eq(qr_format_parse("PNG", &f), -1);
	ck_assert_int_eq(qr_format_parse("", &f), -1);
	ck_assert_int_eq(qr_format_parse("svgz", &f), -1);
	ck_assert_str_eq(qr_content_type(QR_SVG), "image/svg+xml");
	ck_assert_str_eq(qr_content_type(QR_PNG), "image/png");
}
END_TEST

static const struct {
	int size, margin;
} out_of_bounds[] = {
    {0, 4}, {-1, 4}, {QR_SIZE_MAX + 1, 4}, {8, -1}, {8, QR_MARGIN_MAX + 1},
};

START_TEST(test_bounds_refused)
{
	char *out = (char *)1;
	size_t len = 1;

	for (int f = QR_SVG; f <= QR_PNG; f++) {
		ck_assert_int_eq(
		    qr_render(URL, (enum qr_format)f, out_of_bounds[_i].size, out_of_bounds[_i].margin, &out, &len),
		    -1);
		ck_assert_ptr_null(out);
		ck_assert_uint_eq(len, 0);
	}
}
END_TEST

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int svg_width(const char *svg)
{
	int w = -1;

	ck_assert_int_eq(sscanf(strstr(svg, " width=\""), " width=\"%d\"", &w), 1);
	return w;
}

START_TEST(test_dimensions_follow_size_and_margin)
{
	char *img;
	size_t len;
	int modules;

	/* size 1, margin 0: the SVG is as wide as the code has modules. */
	ck_assert_int_eq(qr_render(URL, QR_SVG, 1, 0, &img, &len), 0);
	ck_assert_uint_eq(strlen(img), len);
	modules = svg_width(img);
	free(img);
	ck_assert_int_ge(modules, 21);
	ck_assert_int_eq((modules - 21) % 4, 0);

	ck_assert_int_eq(qr_render(URL, QR_SVG, 5, 3, &img, &len), 0);
	ck_assert_int_eq(svg_width(img), (modules + 6) * 5);
	ck_assert_ptr_nonnull(strstr(img, "viewBox=\"0 0 "));
	free(img);

	for (int size = QR_SIZE_MIN; size <= QR_SIZE_MAX; size += 31) {
		for (int margin = 0; margin <= QR_MARGIN_MAX; margin += 4) {
			uint32_t side = (uint32_t)((modules + 2 * margin) * size);
			ck_assert_int_eq(qr_render(URL, QR_PNG, size, margin, &img, &len), 0);
			ck_assert_uint_gt(len, 33);
			ck_assert_int_eq(memcmp(img, "\x89PNG\r\n\x1a\n", 8), 0);
			ck_assert_int_eq(memcmp(img + 12, "IHDR", 4), 0);
			ck_assert_uint_eq(be32((unsigned char *)img + 16), side);
			ck_assert_uint_eq(be32((unsigned char *)img + 20), side);
			ck_assert_int_eq(img[24], 1); /* bit depth */
			ck_assert_int_eq(img[25], 0); /* greyscale */
			ck_assert_int_eq(memcmp(img + len - 8, "IEND", 4), 0);
			free(img);
		}
	}
}
END_TEST

START_TEST(test_too_long_for_a_qr_code)
{
	size_t n = 8000;
	char *text = malloc(n + 1);
	char *out = (char *)1;
	size_t len = 1;

	ck_assert_ptr_nonnull(text);
	memset(text, 'a', n);
	text[n] = '\0';
	ck_assert_int_eq(qr_render(text, QR_PNG, 1, 0, &out, &len), -1);
	ck_assert_ptr_null(out);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(qr_render(text, QR_SVG, 1, 0, &out, &len), -1);
	ck_assert_ptr_null(out);
	free(text);
}
END_TEST

/* An image of the most modules there are, at 16 pixels each, comes out
 * whole: libpng reads it back, every row, at the size its IHDR says. Its
 * compressed rows (over 8 KB) arrive in writes larger than the buffer's
 * first size. */
START_TEST(test_large_png_reads_back)
{
	size_t n = 2300; /* near level M's 8-bit capacity: version 40, 177 modules */
	char *text = malloc(n + 1), *img;
	png_image image;
	unsigned char *pixels;
	size_t len;
	const int size = 16, margin = QR_MARGIN_DEFAULT;
	uint32_t side = (uint32_t)((177 + 2 * margin) * size);

	ck_assert_ptr_nonnull(text);
	for (size_t i = 0; i < n; i++)
		text[i] = (char)('!' + (i * 7919) % 90);
	text[n] = '\0';
	ck_assert_int_eq(qr_render(text, QR_PNG, size, margin, &img, &len), 0);
	free(text);
	ck_assert_uint_gt(len, 8192);
	memset(&image, 0, sizeof(image));
	image.version = PNG_IMAGE_VERSION;
	ck_assert_msg(png_image_begin_read_from_memory(&image, img, len) != 0, "%s", image.message);
	ck_assert_uint_eq(image.width, side);
	ck_assert_uint_eq(image.height, side);
	image.format = PNG_FORMAT_GRAY;
	pixels = malloc(PNG_IMAGE_SIZE(image));
	ck_assert_ptr_nonnull(pixels);
	ck_assert_msg(png_image_finish_read(&image, NULL, pixels, 0, NULL) != 0, "%s", image.message);
	/* The quiet zone is white; the finder pattern's corner is black. */
	ck_assert_int_eq(pixels[0], 255);
	ck_assert_int_eq(pixels[(size_t)(margin * size) * side + (size_t)(margin * size)], 0);
	free(pixels);
	free(img);
}
END_TEST

Suite *qr_suite(void)
{
	Suite *s = suite_create("qr");
	TCase *tc = tcase_create("render");

	tcase_set_timeout(tc, 60); /* images of millions of pixels, in the --coverage build too */
	tcase_add_test(tc, test_format_names);
	tcase_add_loop_test(tc, test_bounds_refused, 0, sizeof(out_of_bounds) / sizeof(out_of_bounds[0]));
	tcase_add_test(tc, test_dimensions_follow_size_and_margin);
	tcase_add_test(tc, test_too_long_for_a_qr_code);
	tcase_add_test(tc, test_large_png_reads_back);
	suite_add_tcase(s, tc);
	return s;
}
