#define _GNU_SOURCE
#include "cron.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define SEARCH_DAYS (8 * 366) /* every day-of-month/month combination recurs in 8 years */

struct field {
	const char *what;
	int lo, hi;
	const char *const *names; /* names[i] is value lo + i, or NULL */
};

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun",
					  "jul", "aug", "sep", "oct", "nov", "dec"};
static const char *const wday_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun"};

static const struct field fields[5] = {
    {"minute", 0, 59, NULL},	       {"hour", 0, 23, NULL},
    {"day of month", 1, 31, NULL},     {"month", 1, 12, month_names},
    {"day of week", 0, 7, wday_names},
};

/* Reads a value (a number or, where the field has them, a name) at *s. */
static int parse_value(const struct field *f, const char **s, int *v, char *err, size_t errlen)
{
	const char *p = *s;

	if (isdigit((unsigned char)*p)) {
		long n = 0;
		while (isdigit((unsigned char)*p) && n <= 1000)
			n = n * 10 + (*p++ - '0');
		if (n < f->lo || n > f->hi) {
			snprintf(err, errlen, "%s: %ld is out of range %d-%d", f->what, n, f->lo,
				 f->hi);
			return -1;
		}
		*v = (int)n;
		*s = p;
		return 0;
	}
	if (f->names != NULL && isalpha((unsigned char)*p)) {
		for (int i = 0; i <= f->hi - f->lo; i++) {
			if (strncasecmp(p, f->names[i], 3) == 0 && !isalpha((unsigned char)p[3])) {
				*v = f->lo + i;
				*s = p + 3;
				return 0;
			}
		}
	}
	snprintf(err, errlen, "%s: \"%.16s\" is not a %s", f->what, p,
		 f->names ? "number or a name" : "number");
	return -1;
}

/* Parses one field's text (no spaces) into a bit set; *star when it starts with "*". */
static int parse_field(const struct field *f, const char *text, uint64_t *bits, bool *star,
		       char *err, size_t errlen)
{
	const char *p = text;

	*bits = 0;
	*star = *p == '*';
	for (;;) {
		int a, b, step = 1;
		bool range = false;

		if (*p == '*') {
			a = f->lo;
			b = f->hi;
			p++;
			range = true;
		} else {
			if (parse_value(f, &p, &a, err, errlen) < 0)
				return -1;
			b = a;
			if (*p == '-') {
				p++;
				if (parse_value(f, &p, &b, err, errlen) < 0)
					return -1;
				if (b < a) {
					snprintf(err, errlen, "%s: range %d-%d runs backwards",
						 f->what, a, b);
					return -1;
				}
				range = true;
			}
		}
		if (*p == '/') {
			long n = 0;
			p++;
			if (!isdigit((unsigned char)*p)) {
				snprintf(err, errlen, "%s: a step needs a number after \"/\"",
					 f->what);
				return -1;
			}
			while (isdigit((unsigned char)*p) && n <= 1000)
				n = n * 10 + (*p++ - '0');
			if (n < 1 || n > f->hi - f->lo + 1) {
				snprintf(err, errlen, "%s: step %ld is out of range 1-%d", f->what,
					 n, f->hi - f->lo + 1);
				return -1;
			}
			step = (int)n;
			if (!range)
				b = f->hi; /* "a/n": from a to the end */
		}
		for (int v = a; v <= b; v += step)
			*bits |= UINT64_C(1) << v;
		if (*p == '\0')
			return 0;
		if (*p != ',' || p[1] == '\0') {
			snprintf(err, errlen, "%s: unexpected \"%.16s\" in \"%.32s\"", f->what, p,
				 text);
			return -1;
		}
		p++;
	}
}

static int parse_every(const char *p, struct cron *c, char *err, size_t errlen)
{
	char *end;
	long long n;

	while (*p == ' ' || *p == '\t')
		p++;
	errno = 0;
	n = isdigit((unsigned char)*p) ? strtoll(p, &end, 10) : -1;
	if (n < 1 || errno != 0 || *end != '\0' || n > CRON_EVERY_MAX_S) {
		snprintf(err, errlen, "\"@every\" needs a whole number of seconds, 1 to %d",
			 CRON_EVERY_MAX_S);
		return -1;
	}
	c->every_s = n;
	return 0;
}

int cron_parse(const char *text, struct cron *c, char *err, size_t errlen)
{
	char buf[256], *save = NULL, *tok;
	uint64_t bits[5];
	bool star[5];
	int n = 0;

	memset(c, 0, sizeof *c);
	if (text == NULL || strlen(text) >= sizeof buf) {
		snprintf(err, errlen, "a schedule is a string of at most %zu bytes",
			 sizeof buf - 1);
		return -1;
	}
	if (strncmp(text, "@every", 6) == 0 && (text[6] == ' ' || text[6] == '\t'))
		return parse_every(text + 6, c, err, errlen);
	strcpy(buf, text);
	for (tok = strtok_r(buf, " \t", &save); tok != NULL; tok = strtok_r(NULL, " \t", &save)) {
		if (n == 5) {
			snprintf(err, errlen, "a cron expression has 5 fields, this has more");
			return -1;
		}
		if (parse_field(&fields[n], tok, &bits[n], &star[n], err, errlen) < 0)
			return -1;
		n++;
	}
	if (n != 5) {
		snprintf(err, errlen,
			 "a cron expression has 5 fields (minute hour day-of-month month "
			 "day-of-week), this has %d",
			 n);
		return -1;
	}
	c->minutes = bits[0];
	c->hours = (uint32_t)bits[1];
	c->mdays = (uint32_t)bits[2];
	c->months = (uint16_t)bits[3];
	/* 7 is Sunday as 0 is. */
	c->wdays = (uint8_t)((bits[4] | (bits[4] >> 7)) & 0x7f);
	c->mday_star = star[2];
	c->wday_star = star[4];
	/* 2000-01-01, a leap year: whatever can fire does so within the search. */
	if (cron_next(c, 946684800) < 0) {
		snprintf(err, errlen, "\"%.64s\" never fires (no such day)", text);
		memset(c, 0, sizeof *c);
		return -1;
	}
	return 0;
}

static bool day_matches(const struct cron *c, const struct tm *tm)
{
	bool md = c->mdays & (UINT32_C(1) << tm->tm_mday);
	bool wd = c->wdays & (1u << tm->tm_wday);

	if (!(c->months & (1u << (tm->tm_mon + 1))))
		return false;
	if (!c->mday_star && !c->wday_star)
		return md || wd;
	return md && wd;
}

/* The first set bit at or after from in bits (below limit), or -1. */
static int first_from(uint64_t bits, int from, int limit)
{
	for (int i = from; i < limit; i++)
		if (bits & (UINT64_C(1) << i))
			return i;
	return -1;
}

int64_t cron_next(const struct cron *c, int64_t after)
{
	struct tm tm;
	time_t t;
	int hour, min;

	if (c->every_s > 0)
		return after + c->every_s;
	/* The next whole minute after `after`. */
	t = (time_t)(after - (after % 60 + 60) % 60 + 60);
	if (gmtime_r(&t, &tm) == NULL)
		return -1;
	hour = tm.tm_hour;
	min = tm.tm_min;
	for (int d = 0; d < SEARCH_DAYS; d++) {
		if (day_matches(c, &tm)) {
			for (int h = first_from(c->hours, hour, 24); h >= 0;
			     h = first_from(c->hours, h + 1, 24)) {
				int m = first_from(c->minutes, h == hour ? min : 0, 60);
				if (m >= 0) {
					tm.tm_hour = h;
					tm.tm_min = m;
					tm.tm_sec = 0;
					return (int64_t)timegm(&tm);
				}
			}
		}
		/* The next day, from midnight; timegm normalises the 32nd to the 1st. */
		tm.tm_mday++;
		tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
		tm.tm_isdst = 0;
		t = timegm(&tm);
		if (gmtime_r(&t, &tm) == NULL)
			return -1;
		hour = min = 0;
	}
	return -1;
}
