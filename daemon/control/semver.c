/*
 * Semantic Versioning 2.0.0 precedence. Numbers are compared as digit
 * strings (longer is larger, since leading zeros are refused), so a version
 * like 99999999999999999999.0.0 needs no integer that could overflow.
 */
#include "semver.h"

#include <string.h>

struct ident {
	const char *s;
	size_t len;
};

struct parsed {
	struct ident core[3];
	const char *pre; /* NULL when none */
	size_t pre_len;
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_ident_char(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}

static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_digit(s[i]))
			return false;
	return true;
}

/* A number with no leading zero ("0" alone is fine). */
static bool number_ok(const char *s, size_t n)
{
	return n > 0 && all_digits(s, n) && (n == 1 || s[0] != '0');
}

/*
 * Dot-separated identifiers in s[0..n): non-empty, [0-9A-Za-z-]+; with
 * numeric_rule, an all-digit identifier must have no leading zero.
 */
static bool idents_ok(const char *s, size_t n, bool numeric_rule)
{
	size_t start = 0;

	if (n == 0)
		return false;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '.') {
			if (!is_ident_char(s[i]))
				return false;
			continue;
		}
		if (i == start)
			return false;
		if (numeric_rule && all_digits(s + start, i - start) &&
		    !number_ok(s + start, i - start))
			return false;
		start = i + 1;
	}
	return true;
}

static bool parse(const char *v, struct parsed *p)
{
	size_t n, i = 0, end;
	const char *plus;

	if (v == NULL)
		return false;
	n = strnlen(v, SEMVER_MAX + 1);
	if (n == 0 || n > SEMVER_MAX)
		return false;
	for (int k = 0; k < 3; k++) {
		size_t start = i;

		while (i < n && is_digit(v[i]))
			i++;
		if (!number_ok(v + start, i - start))
			return false;
		p->core[k] = (struct ident){v + start, i - start};
		if (k < 2) {
			if (i >= n || v[i] != '.')
				return false;
			i++;
		}
	}
	plus = memchr(v + i, '+', n - i);
	end = plus ? (size_t)(plus - v) : n;
	p->pre = NULL;
	p->pre_len = 0;
	if (i < end) {
		if (v[i] != '-' || !idents_ok(v + i + 1, end - i - 1, true))
			return false;
		p->pre = v + i + 1;
		p->pre_len = end - i - 1;
	}
	if (plus != NULL && !idents_ok(plus + 1, n - end - 1, false))
		return false;
	return true;
}

bool semver_valid(const char *v)
{
	struct parsed p;

	return parse(v, &p);
}

static int sign(int x)
{
	return (x > 0) - (x < 0);
}

/* Two digit strings without leading zeros: the longer is larger. */
static int number_cmp(struct ident a, struct ident b)
{
	if (a.len != b.len)
		return a.len < b.len ? -1 : 1;
	return sign(memcmp(a.s, b.s, a.len));
}

static int ident_cmp(struct ident a, struct ident b)
{
	bool an = all_digits(a.s, a.len), bn = all_digits(b.s, b.len);
	size_t m = a.len < b.len ? a.len : b.len;
	int c;

	if (an && bn)
		return number_cmp(a, b);
	if (an != bn)
		return an ? -1 : 1;
	c = memcmp(a.s, b.s, m);
	if (c != 0)
		return sign(c);
	return a.len == b.len ? 0 : (a.len < b.len ? -1 : 1);
}

/* Takes the next identifier of a dot-separated list; false at its end. */
static bool next_ident(const char **s, const char *end, struct ident *out)
{
	const char *dot;

	if (*s > end)
		return false;
	dot = memchr(*s, '.', (size_t)(end - *s));
	out->s = *s;
	out->len = (size_t)((dot ? dot : end) - *s);
	*s = (dot ? dot : end) + 1;
	return true;
}

static int pre_cmp(const struct parsed *a, const struct parsed *b)
{
	const char *sa = a->pre, *sb = b->pre;
	const char *ea = a->pre + a->pre_len, *eb = b->pre + b->pre_len;

	for (;;) {
		struct ident ia = {0}, ib = {0};
		bool ha = next_ident(&sa, ea, &ia), hb = next_ident(&sb, eb, &ib);
		int c;

		if (!ha || !hb)
			return ha == hb ? 0 : (ha ? 1 : -1);
		c = ident_cmp(ia, ib);
		if (c != 0)
			return c;
	}
}

int semver_compare(const char *a, const char *b)
{
	struct parsed pa, pb;
	bool va = parse(a, &pa), vb = parse(b, &pb);

	if (!va || !vb)
		return va == vb ? 0 : (va ? 1 : -1);
	for (int k = 0; k < 3; k++) {
		int c = number_cmp(pa.core[k], pb.core[k]);

		if (c != 0)
			return c;
	}
	if (pa.pre == NULL || pb.pre == NULL)
		return (pa.pre == NULL) - (pb.pre == NULL);
	return pre_cmp(&pa, &pb);
}
