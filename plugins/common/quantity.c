#include "quantity.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

bool quantity_parse(const char *s, double *v)
{
	static const struct {
		const char *suffix;
		double factor;
	} suffixes[] = {
	    {"Ki", 1024.0},
	    {"Mi", 1048576.0},
	    {"Gi", 1073741824.0},
	    {"Ti", 1099511627776.0},
	    {"Pi", 1125899906842624.0},
	    {"Ei", 1152921504606846976.0},
	    {"n", 1e-9},
	    {"u", 1e-6},
	    {"m", 1e-3},
	    {"", 1.0},
	    {"k", 1e3},
	    {"M", 1e6},
	    {"G", 1e9},
	    {"T", 1e12},
	    {"P", 1e15},
	    {"E", 1e18},
	};
	const char *p = s;
	if (!s || !*s)
		return false;
	/* The number: [+-] digits [. digits], as Kubernetes writes it (no hex, no inf/nan). */
	if (*p == '+' || *p == '-')
		p++;
	size_t int_digits = strspn(p, "0123456789");
	p += int_digits;
	size_t frac_digits = 0;
	if (*p == '.') {
		p++;
		frac_digits = strspn(p, "0123456789");
		p += frac_digits;
	}
	if (int_digits + frac_digits == 0)
		return false;
	/* strtod on the number alone: on all of s it would take an exponent too. */
	char num[64];
	size_t nlen = (size_t)(p - s);
	if (nlen >= sizeof num)
		return false;
	memcpy(num, s, nlen);
	num[nlen] = '\0';
	char *end;
	double n = strtod(num, &end);
	if (*end)
		return false;
	double factor = -1;
	bool exponent = (*p == 'e' || *p == 'E') &&
			(isdigit((unsigned char)p[1]) ||
			 ((p[1] == '+' || p[1] == '-') && isdigit((unsigned char)p[2])));
	if (exponent) {
		/* An exponent: e[+-]digits, and nothing after it. */
		const char *q = p + 1;
		if (*q == '+' || *q == '-')
			q++;
		size_t ed = strspn(q, "0123456789");
		if (ed == 0 || ed > 3 || q[ed])
			return false;
		factor = pow(10.0, strtod(p + 1, NULL));
	} else {
		for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++)
			if (strcmp(p, suffixes[i].suffix) == 0)
				factor = suffixes[i].factor;
	}
	if (factor < 0 || !isfinite(n * factor))
		return false;
	*v = n * factor;
	return true;
}
