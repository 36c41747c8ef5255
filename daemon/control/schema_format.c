/*
 * The "format" values the validator checks. Draft-07 makes format an
 * annotation that implementations may assert; we assert the ones below
 * (RFC 3339 dates and times, RFC 3986/3987 URIs and IRIs, RFC 5321-style
 * addresses, RFC 1123 host names, IP addresses, JSON Pointers, ECMA-262
 * regexes, RFC 6570 templates) and let every other name pass.
 */
#define _GNU_SOURCE /* memrchr */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "schema.h"
#include "schema_int.h"

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* n digits at s[*i], as a number; -1 when they are not all digits. */
static int digits(const char *s, size_t len, size_t *i, int n)
{
	int v = 0;
	if (*i + (size_t)n > len)
		return -1;
	for (int k = 0; k < n; k++) {
		if (!is_digit(s[*i + k]))
			return -1;
		v = v * 10 + (s[*i + k] - '0');
	}
	*i += n;
	return v;
}

static bool expect(const char *s, size_t len, size_t *i, char c)
{
	if (*i >= len || s[*i] != c)
		return false;
	(*i)++;
	return true;
}

/* RFC 3339 full-date at s[*i]. */
static bool full_date(const char *s, size_t len, size_t *i)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y = digits(s, len, i, 4);
	if (y < 0 || !expect(s, len, i, '-'))
		return false;
	int m = digits(s, len, i, 2);
	if (m < 1 || m > 12 || !expect(s, len, i, '-'))
		return false;
	int d = digits(s, len, i, 2);
	if (d < 1 || d > mdays[m - 1])
		return false;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return !(m == 2 && d == 29 && !leap);
}

/* RFC 3339 full-time (partial-time and a mandatory offset) at s[*i]. */
static bool full_time(const char *s, size_t len, size_t *i)
{
	int h = digits(s, len, i, 2);
	if (h < 0 || h > 23 || !expect(s, len, i, ':'))
		return false;
	int m = digits(s, len, i, 2);
	if (m < 0 || m > 59 || !expect(s, len, i, ':'))
		return false;
	int sec = digits(s, len, i, 2);
	if (sec < 0 || sec > 60) /* 60: a leap second */
		return false;
	if (*i < len && s[*i] == '.') {
		size_t start = ++(*i);
		while (*i < len && is_digit(s[*i]))
			(*i)++;
		if (*i == start)
			return false;
	}
	if (*i >= len)
		return false;
	if (s[*i] == 'Z' || s[*i] == 'z') {
		(*i)++;
		return true;
	}
	if (s[*i] != '+' && s[*i] != '-')
		return false;
	(*i)++;
	int oh = digits(s, len, i, 2);
	if (oh < 0 || oh > 23 || !expect(s, len, i, ':'))
		return false;
	int om = digits(s, len, i, 2);
	return om >= 0 && om <= 59;
}

static bool date_time(const char *s, size_t len)
{
	size_t i = 0;
	if (!full_date(s, len, &i) || i >= len || (s[i] != 'T' && s[i] != 't'))
		return false;
	i++;
	return full_time(s, len, &i) && i == len;
}

/* RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens. */
static bool hostname(const char *s, size_t len)
{
	if (len == 0 || len > 253)
		return false;
	size_t label = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!is_alpha(s[i]) && !is_digit(s[i]) && s[i] != '-')
			return false;
		if (label == 0 && s[i] == '-')
			return false;
		label++;
	}
	return true;
}

static bool ip_literal(const char *s, size_t len, int af)
{
	char buf[64];
	unsigned char out[16];
	if (len == 0 || len >= sizeof(buf) || memchr(s, '\0', len) != NULL)
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return inet_pton(af, buf, out) == 1;
}

/* addr-spec with a dot-atom local part and a host name or [address] domain. */
static bool email(const char *s, size_t len)
{
	const char *at = memrchr(s, '@', len);
	if (at == NULL || at == s)
		return false;
	size_t local = (size_t)(at - s), dlen = len - local - 1;
	for (size_t i = 0; i < local; i++) {
		char c = s[i];
		if (c == '.') {
			if (i == 0 || i + 1 == local || s[i + 1] == '.')
				return false;
			continue;
		}
		if (!is_alpha(c) && !is_digit(c) &&
		    (c == '\0' || strchr("!#$%&'*+/=?^_`{|}~-", c) == NULL))
			return false;
	}
	const char *d = at + 1;
	if (dlen > 2 && d[0] == '[' && d[dlen - 1] == ']') {
		if (dlen > 7 && strncmp(d + 1, "IPv6:", 5) == 0)
			return ip_literal(d + 6, dlen - 7, AF_INET6);
		return ip_literal(d + 1, dlen - 2, AF_INET);
	}
	return hostname(d, dlen);
}

/* RFC 3986 character classes; iri admits every non-ASCII byte as ucschar. */
static bool unreserved(char c, bool iri)
{
	return is_alpha(c) || is_digit(c) || (c != '\0' && strchr("-._~", c) != NULL) ||
	       (iri && (unsigned char)c >= 0x80);
}

static bool sub_delim(char c)
{
	return c != '\0' && strchr("!$&'()*+,;=", c) != NULL;
}

/* Characters of s[from, to) are all unreserved, pct-encoded, sub-delims or in extra. */
static bool uri_chars(const char *s, size_t from, size_t to, const char *extra, bool iri)
{
	for (size_t i = from; i < to; i++) {
		char c = s[i];
		if (c == '%') {
			if (i + 2 >= to || !is_hex(s[i + 1]) || !is_hex(s[i + 2]))
				return false;
			i += 2;
			continue;
		}
		if (!unreserved(c, iri) && !sub_delim(c) && (c == '\0' || strchr(extra, c) == NULL))
			return false;
	}
	return true;
}

/* authority = [ userinfo "@" ] host [ ":" port ], in s[from, to). */
static bool authority(const char *s, size_t from, size_t to, bool iri)
{
	const char *at = memrchr(s + from, '@', to - from);
	if (at != NULL) {
		size_t u = (size_t)(at - s);
		if (!uri_chars(s, from, u, ":", iri))
			return false;
		from = u + 1;
	}
	size_t host_end = to;
	if (from < to && s[from] == '[') {
		const char *close = memchr(s + from, ']', to - from);
		if (close == NULL)
			return false;
		size_t c = (size_t)(close - s);
		size_t in = from + 1;
		if (in < c && (s[in] == 'v' || s[in] == 'V')) {
			if (!uri_chars(s, in, c, ":", false))
				return false;
		} else if (!ip_literal(s + in, c - in, AF_INET6)) {
			return false;
		}
		host_end = c + 1;
		if (host_end < to && s[host_end] != ':')
			return false;
	} else {
		const char *colon = memchr(s + from, ':', to - from);
		if (colon != NULL)
			host_end = (size_t)(colon - s);
		if (!uri_chars(s, from, host_end, "", iri))
			return false;
	}
	if (host_end < to) { /* ":" port */
		for (size_t i = host_end + 1; i < to; i++)
			if (!is_digit(s[i]))
				return false;
	}
	return true;
}

/* URI (scheme required) or URI-reference; iri for RFC 3987's IRI forms. */
static bool uri(const char *s, size_t len, bool need_scheme, bool iri)
{
	size_t i = 0, end = len;
	const char *hash = memchr(s, '#', len);
	if (hash != NULL) {
		end = (size_t)(hash - s);
		if (!uri_chars(s, end + 1, len, ":@/?", iri))
			return false;
	}
	const char *q = memchr(s, '?', end);
	size_t path_end = end;
	if (q != NULL) {
		path_end = (size_t)(q - s);
		if (!uri_chars(s, path_end + 1, end, ":@/?", iri))
			return false;
	}
	/* scheme ":" when the first segment holds a colon before any "/". */
	size_t k = 0;
	while (k < path_end && s[k] != ':' && s[k] != '/')
		k++;
	if (k < path_end && s[k] == ':') {
		if (k == 0 || !is_alpha(s[0]))
			return false;
		for (size_t j = 1; j < k; j++)
			if (!is_alpha(s[j]) && !is_digit(s[j]) && s[j] != '+' && s[j] != '-' &&
			    s[j] != '.')
				return false;
		i = k + 1;
	} else if (need_scheme) {
		return false;
	}
	if (path_end - i >= 2 && s[i] == '/' && s[i + 1] == '/') {
		size_t a = i + 2, b = a;
		while (b < path_end && s[b] != '/')
			b++;
		if (!authority(s, a, b, iri))
			return false;
		i = b;
	}
	return uri_chars(s, i, path_end, ":@/", iri);
}

/* RFC 6570: literals outside braces, one non-empty expression inside each pair. */
static bool uri_template(const char *s, size_t len)
{
	bool in = false;
	size_t start = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '{') {
			if (in)
				return false;
			in = true;
			start = i + 1;
		} else if (c == '}') {
			if (!in || i == start)
				return false;
			in = false;
		} else if (!in && (c == ' ' || c == '"' || c == '<' || c == '>' || c == '\\' ||
				   c == '^' || c == '`' || c == '|')) {
			return false;
		}
	}
	return !in;
}

/* RFC 6901: "" or "/"-prefixed tokens in which "~" is always "~0" or "~1". */
static bool json_pointer(const char *s, size_t len)
{
	if (len > 0 && s[0] != '/')
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] == '~' && (i + 1 >= len || (s[i + 1] != '0' && s[i + 1] != '1')))
			return false;
	return true;
}

/* A non-negative integer without leading zeros, then "#" or a JSON Pointer. */
static bool relative_json_pointer(const char *s, size_t len)
{
	size_t i = 0;
	while (i < len && is_digit(s[i]))
		i++;
	if (i == 0 || (i > 1 && s[0] == '0'))
		return false;
	if (i < len && s[i] == '#')
		return i + 1 == len;
	return json_pointer(s + i, len - i);
}

static bool regex(const char *s, size_t len)
{
	char err[128];
	pcre2_code *re = schema_regex_compile(s, len, err, sizeof(err));
	pcre2_code_free(re);
	return re != NULL;
}

static bool f_date_time(const char *s, size_t len)
{
	return date_time(s, len);
}

static bool f_date(const char *s, size_t len)
{
	size_t i = 0;
	return full_date(s, len, &i) && i == len;
}

static bool f_time(const char *s, size_t len)
{
	size_t i = 0;
	return full_time(s, len, &i) && i == len;
}

static bool f_ipv4(const char *s, size_t len)
{
	return ip_literal(s, len, AF_INET);
}

static bool f_ipv6(const char *s, size_t len)
{
	return ip_literal(s, len, AF_INET6);
}

static bool f_uri(const char *s, size_t len)
{
	return uri(s, len, true, false);
}

static bool f_uri_reference(const char *s, size_t len)
{
	return uri(s, len, false, false);
}

static bool f_iri(const char *s, size_t len)
{
	return uri(s, len, true, true);
}

static bool f_iri_reference(const char *s, size_t len)
{
	return uri(s, len, false, true);
}

static const struct {
	const char *name;
	bool (*check)(const char *, size_t);
} formats[] = {
    {"date-time", f_date_time},
    {"date", f_date},
    {"time", f_time},
    {"email", email},
    {"hostname", hostname},
    {"ipv4", f_ipv4},
    {"ipv6", f_ipv6},
    {"uri", f_uri},
    {"uri-reference", f_uri_reference},
    {"iri", f_iri},
    {"iri-reference", f_iri_reference},
    {"uri-template", uri_template},
    {"json-pointer", json_pointer},
    {"relative-json-pointer", relative_json_pointer},
    {"regex", regex},
};

bool schema_format_known(const char *name)
{
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (strcmp(formats[i].name, name) == 0)
			return true;
	return false;
}

bool schema_format_check(const char *name, const char *s, size_t len)
{
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (strcmp(formats[i].name, name) == 0)
			return formats[i].check(s, len);
	return true;
}
