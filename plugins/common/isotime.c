#include "isotime.h"

#include <stdio.h>

/* Days since 1970-01-01 to a civil date (H. Hinnant's algorithm, proleptic Gregorian). */
static void civil_from_days(int64_t days, int64_t *y, int *m, int *d)
{
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* The inverse: a civil date to days since 1970-01-01. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* Floor division of ms into whole days and the ms within the day. */
static int64_t split_day(int64_t ms, int64_t *within)
{
	int64_t days = ms / ISOTIME_DAY_MS, rest = ms % ISOTIME_DAY_MS;
	if (rest < 0) {
		rest += ISOTIME_DAY_MS;
		days--;
	}
	*within = rest;
	return days;
}

void isotime_format(int64_t ms, char out[25])
{
	int64_t within, y;
	int m, d;
	civil_from_days(split_day(ms, &within), &y, &m, &d);
	if (y < 0 || y > 9999)
		y = y < 0 ? 0 : 9999; /* ISO 8601's four digits; never reached from a real clock */
	int64_t s = within / 1000;
	/* Every field is in range here; the wide buffer only spares the compiler's doubt. */
	char buf[64];
	snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (int)y, m, d,
		 (int)(s / 3600), (int)(s / 60 % 60), (int)(s % 60), (int)(within % 1000));
	snprintf(out, 25, "%.24s", buf);
}

void isotime_day(int64_t ms, char out[11])
{
	char full[25];
	isotime_format(ms, full);
	snprintf(out, 11, "%.10s", full);
}

int64_t isotime_day_start(int64_t ms)
{
	int64_t within;
	return split_day(ms, &within) * ISOTIME_DAY_MS;
}

/* n digits at *s into *v, advancing *s; false unless all n are digits. */
static bool digits(const char **s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++, (*s)++) {
		if (**s < '0' || **s > '9')
			return false;
		*v = *v * 10 + (**s - '0');
	}
	return true;
}

static bool leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

bool isotime_parse(const char *s, int64_t *ms)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, mo, d, h = 0, mi = 0, sec = 0, frac = 0, oh = 0, om = 0, sign = 0;
	if (!s || !digits(&s, 4, &y) || *s++ != '-' || !digits(&s, 2, &mo) || *s++ != '-' ||
	    !digits(&s, 2, &d))
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && leap(y)))
		return false;
	if (*s == 'T' || *s == 't' || *s == ' ') {
		s++;
		if (!digits(&s, 2, &h) || *s++ != ':' || !digits(&s, 2, &mi))
			return false;
		if (*s == ':') {
			s++;
			if (!digits(&s, 2, &sec))
				return false;
			if (*s == '.' || *s == ',') {
				int n = 0;
				s++;
				for (; *s >= '0' && *s <= '9'; s++, n++)
					if (n < 3)
						frac = frac * 10 + (*s - '0');
				if (n == 0)
					return false;
				for (; n < 3; n++)
					frac *= 10;
			}
		}
		if (h > 23 || mi > 59 || sec > 60) /* 60: a leap second, counted as the next */
			return false;
		if (*s == 'Z' || *s == 'z') {
			s++;
		} else if (*s == '+' || *s == '-') {
			sign = *s++ == '+' ? 1 : -1;
			if (!digits(&s, 2, &oh) || *s++ != ':' || !digits(&s, 2, &om) || oh > 23 ||
			    om > 59)
				return false;
		}
	}
	if (*s)
		return false;
	*ms = (days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
	       sign * (oh * 3600 + om * 60)) *
		  1000 +
	      frac;
	return true;
}
