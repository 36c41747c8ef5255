/*
 * RFC 3986 section 5.2: a reference resolved against a base URI. Draft-07
 * gives every subschema a base URI (its nearest "$id", resolved against the
 * one above it) and resolves each "$ref" against it, so that
 * "$ref": "node" inside "$id": "http://example.com/tree" names the
 * subschema whose "$id" is "http://example.com/node". Nothing is fetched:
 * the result is only looked up among the document's own "$id"s.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/linkhash.h>

#include "schema_ref.h"

#include "schema_int.h"
#include "xmalloc.h"

/* The five components of a URI reference; each absent one has len -1 (ptr NULL). */
struct uref {
	const char *scheme, *auth, *path, *query, *frag;
	int scheme_len, auth_len, path_len, query_len, frag_len;
};

static void split(const char *s, struct uref *u)
{
	size_t n = strlen(s), i = 0;
	memset(u, 0, sizeof(*u));
	u->scheme_len = u->auth_len = u->query_len = u->frag_len = -1;
	/* scheme: letters, digits, + - . before the first ":" and before any of / ? # */
	size_t k = strcspn(s, ":/?#");
	if (k > 0 && s[k] == ':') {
		u->scheme = s;
		u->scheme_len = (int)k;
		i = k + 1;
	}
	if (s[i] == '/' && s[i + 1] == '/') {
		i += 2;
		size_t a = strcspn(s + i, "/?#");
		u->auth = s + i;
		u->auth_len = (int)a;
		i += a;
	}
	size_t p = strcspn(s + i, "?#");
	u->path = s + i;
	u->path_len = (int)p;
	i += p;
	if (s[i] == '?') {
		size_t q = strcspn(s + i + 1, "#");
		u->query = s + i + 1;
		u->query_len = (int)q;
		i += 1 + q;
	}
	if (s[i] == '#') {
		u->frag = s + i + 1;
		u->frag_len = (int)(n - i - 1);
	}
}

struct sbuf {
	char *p;
	size_t len;
};

static void put(struct sbuf *b, const char *s, size_t n)
{
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* Drops the last segment and its "/" from what out holds after start. */
static void drop_segment(struct sbuf *out, size_t start)
{
	while (out->len > start && out->p[out->len - 1] != '/')
		out->len--;
	if (out->len > start)
		out->len--;
	out->p[out->len] = '\0';
}

/* RFC 3986 5.2.4, step by step: path[0..n) without "." and ".." appended to out. */
static void remove_dots(const char *path, size_t n, struct sbuf *out)
{
	/* A copy to rewrite in place ("/." becomes "/"); path need not end in NUL. */
	char *in = xmalloc(n + 1);
	memcpy(in, path, n);
	in[n] = '\0';
	size_t start = out->len, i = 0;
	while (i < n) {
		const char *r = in + i;
		size_t left = n - i;
		if (left >= 3 && strncmp(r, "../", 3) == 0) {
			i += 3; /* A */
		} else if (left >= 2 && strncmp(r, "./", 2) == 0) {
			i += 2; /* A */
		} else if (left >= 3 && strncmp(r, "/./", 3) == 0) {
			i += 2; /* B: "/./" becomes "/" */
		} else if (left == 2 && strncmp(r, "/.", 2) == 0) {
			in[++i] = '/'; /* B: "/." becomes "/" */
		} else if (left >= 4 && strncmp(r, "/../", 4) == 0) {
			i += 3; /* C */
			drop_segment(out, start);
		} else if (left == 3 && strncmp(r, "/..", 3) == 0) {
			i += 2; /* C: "/.." becomes "/" */
			in[i] = '/';
			drop_segment(out, start);
		} else if ((left == 1 && r[0] == '.') || (left == 2 && strncmp(r, "..", 2) == 0)) {
			i = n; /* D */
		} else {
			size_t seg = r[0] == '/' ? 1 : 0; /* E: one segment, its "/" first */
			while (seg < left && r[seg] != '/')
				seg++;
			put(out, r, seg);
			i += seg;
		}
	}
	free(in);
}

char *schema_uri_resolve(const char *base, const char *ref)
{
	struct uref b, r;
	split(base, &b);
	split(ref, &r);
	struct sbuf out = {xmalloc(2 * (strlen(base) + strlen(ref)) + 8), 0};
	out.p[0] = '\0';
	const struct uref *sch = r.scheme_len >= 0 ? &r : &b;
	if (sch->scheme_len >= 0) {
		put(&out, sch->scheme, (size_t)sch->scheme_len);
		put(&out, ":", 1);
	}
	const struct uref *query_from = &r;
	if (r.scheme_len >= 0 || r.auth_len >= 0) {
		if (r.auth_len >= 0) {
			put(&out, "//", 2);
			put(&out, r.auth, (size_t)r.auth_len);
		}
		remove_dots(r.path, (size_t)r.path_len, &out);
	} else {
		if (b.auth_len >= 0) {
			put(&out, "//", 2);
			put(&out, b.auth, (size_t)b.auth_len);
		}
		if (r.path_len == 0) {
			put(&out, b.path, (size_t)b.path_len);
			if (r.query_len < 0)
				query_from = &b;
		} else if (r.path[0] == '/') {
			remove_dots(r.path, (size_t)r.path_len, &out);
		} else {
			/* Merge: the base's path up to its last "/", then the reference's. */
			char *merged = xmalloc((size_t)b.path_len + (size_t)r.path_len + 2);
			size_t m = 0;
			if (b.auth_len >= 0 && b.path_len == 0) {
				merged[m++] = '/';
			} else {
				const char *slash = NULL;
				for (int i = 0; i < b.path_len; i++)
					if (b.path[i] == '/')
						slash = b.path + i;
				if (slash != NULL) {
					m = (size_t)(slash - b.path) + 1;
					memcpy(merged, b.path, m);
				}
			}
			memcpy(merged + m, r.path, (size_t)r.path_len);
			m += (size_t)r.path_len;
			remove_dots(merged, m, &out);
			free(merged);
		}
	}
	if (query_from->query_len >= 0) {
		put(&out, "?", 1);
		put(&out, query_from->query, (size_t)query_from->query_len);
	}
	if (r.frag_len >= 0) {
		put(&out, "#", 1);
		put(&out, r.frag, (size_t)r.frag_len);
	}
	return out.p;
}

static int hexval(char h)
{
	if (h >= '0' && h <= '9')
		return h - '0';
	if (h >= 'a' && h <= 'f')
		return h - 'a' + 10;
	if (h >= 'A' && h <= 'F')
		return h - 'A' + 10;
	return -1;
}

/* One "/"-prefixed JSON Pointer token of tok unescaped in place (~1 is "/", ~0 is "~"). */
static bool unescape_token(char *tok)
{
	char *w = tok;
	for (char *r = tok; *r; r++) {
		if (*r == '~') {
			if (r[1] != '0' && r[1] != '1')
				return false;
			*w++ = r[1] == '0' ? '~' : '/';
			r++;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
	return true;
}

/* The member or element tok names in cur, or NULL. */
static json_object *step(json_object *cur, const char *tok)
{
	json_object *child = NULL;
	if (json_object_is_type(cur, json_type_object))
		return json_object_object_get_ex(cur, tok, &child) ? child : NULL;
	if (!json_object_is_type(cur, json_type_array))
		return NULL;
	char *end;
	unsigned long idx = strtoul(tok, &end, 10);
	bool ok = tok[0] >= '0' && tok[0] <= '9' && *end == '\0' &&
		  !(tok[0] == '0' && tok[1] != '\0') && idx < json_object_array_length(cur);
	return ok ? json_object_array_get_idx(cur, idx) : NULL;
}

json_object *schema_pointer(json_object *start, const char *frag, char *err, size_t errlen)
{
	size_t len = strlen(frag);
	char *ptr = xmalloc(len + 1), *q = ptr;
	json_object *cur = start;
	/* A fragment is percent-encoded first, a JSON Pointer second. */
	for (const char *p = frag; *p; p++) {
		if (*p == '%') {
			int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);
			if (lo < 0 || (hi == 0 && lo == 0)) {
				snprintf(err, errlen, "bad percent-encoding");
				cur = NULL;
				goto out;
			}
			*q++ = (char)(hi * 16 + lo);
			p += 2;
		} else {
			*q++ = *p;
		}
	}
	*q = '\0';
	if (ptr[0] != '\0' && ptr[0] != '/') {
		snprintf(err, errlen, "the fragment is not a JSON Pointer");
		cur = NULL;
		goto out;
	}
	for (char *tok = ptr[0] ? ptr + 1 : NULL; tok != NULL && cur != NULL;) {
		char *next = strchr(tok, '/');
		if (next != NULL)
			*next++ = '\0';
		if (!unescape_token(tok)) {
			snprintf(err, errlen, "bad ~ escape");
			cur = NULL;
			goto out;
		}
		cur = step(cur, tok);
		tok = next;
	}
	if (cur == NULL)
		snprintf(err, errlen, "does not resolve");
out:
	free(ptr);
	return cur;
}

static void free_key(struct lh_entry *e)
{
	free(lh_entry_k(e));
}

const char *schema_ids_add(struct schema_ids *t, char *uri, json_object *j)
{
	if (t->by_uri == NULL && (t->by_uri = lh_kchar_table_new(16, free_key)) == NULL)
		abort();
	struct lh_entry *e = lh_table_lookup_entry(t->by_uri, uri);
	if (e != NULL) {
		free(uri);
		return lh_entry_v(e) == j ? lh_entry_k(e) : NULL;
	}
	lh_table_insert(t->by_uri, uri, j);
	return uri;
}

json_object *schema_ids_find(const struct schema_ids *t, const char *uri)
{
	struct lh_entry *e = t->by_uri ? lh_table_lookup_entry(t->by_uri, uri) : NULL;
	return e ? (json_object *)lh_entry_v(e) : NULL;
}

void schema_ids_free(struct schema_ids *t)
{
	if (t->by_uri != NULL)
		lh_table_free(t->by_uri);
}
