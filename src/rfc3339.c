/*
 * RFC 3339 date-times (section 5.6): "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM)".
 * Calendar arithmetic is Howard Hinnant's days_from_civil, so no libc time
 * zone state is touched and the functions are thread-safe.
 */
#include "rfc3339.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define RFC3339_MIN_TIME (-62135596800LL) /* 0001-01-01T00:00:00Z */
#define RFC3339_MAX_TIME 253402300799LL   /* 9999-12-31T23:59:59Z */

int64_t rfc3339_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);
	const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	const unsigned doe = (unsigned)(z - era * 146097);
	const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	const unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
	static const unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Reads exactly n digits at *s. */
static bool digits(const char **s, int n, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < n; i++) {
		char c = (*s)[i];
		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (unsigned)(c - '0');
	}
	*s += n;
	*out = v;
	return true;
}

int rfc3339_parse(const char *s, int64_t *out)
{
	unsigned y, mo, d, h, mi, se, oh = 0, om = 0;
	int sign = 0;

	if (s == NULL)
		return -1;
	if (!digits(&s, 4, &y) || *s++ != '-' || !digits(&s, 2, &mo) || *s++ != '-' || !digits(&s, 2, &d))
		return -1;
	if (*s != 'T' && *s != 't')
		return -1;
	s++;
	if (!digits(&s, 2, &h) || *s++ != ':' || !digits(&s, 2, &mi) || *s++ != ':' || !digits(&s, 2, &se))
		return -1;
	if (*s == '.') {
		s++;
		if (*s < '0' || *s > '9')
			return -1;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		sign = *s == '+' ? 1 : -1;
		s++;
		if (!digits(&s, 2, &oh) || *s++ != ':' || !digits(&s, 2, &om))
			return -1;
		if (oh > 23 || om > 59)
			return -1;
	} else {
		return -1;
	}
	if (*s != '\0')
		return -1;
	if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || se > 60)
		return -1;
	if (se == 60) /* a leap second reads as the last second of its minute */
		se = 59;
	int64_t t = rfc3339_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
	t -= sign * (int64_t)(oh * 3600 + om * 60);
	/* An offset can carry a time out of 0001-9999, which rfc3339_format cannot write back. */
	if (t < RFC3339_MIN_TIME || t > RFC3339_MAX_TIME)
		return -1;
	*out = t;
	return 0;
}

/* Years outside 0000-9999 cannot be written in RFC 3339; they are clamped. */
static unsigned clamp_year(int64_t y)
{
	return y < 0 ? 0 : y > 9999 ? 9999 : (unsigned)y;
}

int64_t rfc3339_day_of(int64_t t)
{
	return t / 86400 - (t % 86400 < 0); /* C division rounds toward zero */
}

void rfc3339_format(int64_t t, char out[RFC3339_LEN + 1])
{
	int64_t days = rfc3339_day_of(t);
	int64_t secs = t - days * 86400;
	int64_t y;
	unsigned m, d;

	char tmp[64];

	civil_from_days(days, &y, &m, &d);
	snprintf(tmp, sizeof(tmp), "%04u-%02u-%02uT%02u:%02u:%02uZ", clamp_year(y), m, d, (unsigned)(secs / 3600),
	         (unsigned)(secs / 60 % 60), (unsigned)(secs % 60));
	memcpy(out, tmp, RFC3339_LEN);
	out[RFC3339_LEN] = '\0';
}

void rfc3339_date(int64_t t, char out[11])
{
	int64_t days = rfc3339_day_of(t);
	int64_t y;
	unsigned m, d;

	char tmp[48];

	civil_from_days(days, &y, &m, &d);
	snprintf(tmp, sizeof(tmp), "%04u-%02u-%02u", clamp_year(y), m, d);
	memcpy(out, tmp, 10);
	out[10] = '\0';
}
