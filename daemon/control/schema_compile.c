/*
 * schema_compile: a draft-07 document into the node graph schema_validate
 * walks. Every keyword the validator knows is checked here, once, so that a
 * malformed schema is refused at install time with the location that is
 * wrong, and validation never meets a surprise. "$ref"s are resolved after
 * the tree is built: each one is resolved against its base URI (the nearest
 * "$id"), looked up among the document's "$id"s, then followed as a JSON
 * Pointer; a target that is not yet compiled is compiled then, so recursive
 * schemas become cycles in the graph rather than infinite trees.
 */
#include <json-c/linkhash.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"
#include "schema_int.h"
#include "schema_ref.h"
#include "xmalloc.h"

struct cctx {
	struct schema *s;
	struct lh_table *seen; /* json_object * -> struct snode *, every compiled location */
	struct pending {
		struct snode *n;
		const char *base; /* the base URI the "$ref" is resolved against */
	} * refs;		  /* "$ref"s still to resolve */
	size_t nrefs, caprefs;
	struct schema_ids ids; /* every "$id", as an absolute URI */
	const char *base;      /* the base URI of the schema being compiled ("": none) */
	char **owned;	       /* base URIs made for lazily compiled targets */
	size_t nowned;
	char *err;
	size_t errlen;
};

static struct snode *compile(struct cctx *c, json_object *j, const char *where, int depth);

__attribute__((format(printf, 3, 4))) static void cerr(struct cctx *c, const char *where,
						       const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* A location 60 schemas deep is long: keep its two ends. */
	size_t n = strlen(where);
	if (n > 120)
		snprintf(c->err, c->errlen, "schema at \"#%.50s...%s\": %s", where, where + n - 50,
			 msg);
	else
		snprintf(c->err, c->errlen, "schema at \"#%s\": %s", where, msg);
}

/* where + "/" + key, with key escaped as a JSON Pointer token. */
static char *child_where(const char *where, const char *key)
{
	size_t n = strlen(where), k = strlen(key);
	char *out = xmalloc(n + 2 * k + 2), *p = out;
	memcpy(p, where, n);
	p += n;
	*p++ = '/';
	for (size_t i = 0; i < k; i++) {
		if (key[i] == '~' || key[i] == '/') {
			*p++ = '~';
			*p++ = key[i] == '~' ? '0' : '1';
		} else {
			*p++ = key[i];
		}
	}
	*p = '\0';
	return out;
}

static char *index_where(const char *where, size_t i)
{
	return xasprintf("%s/%zu", where, i);
}

/* A subschema under key (or key/index when idx >= 0) of the schema at where. */
static struct snode *sub(struct cctx *c, json_object *j, const char *where, const char *key,
			 long idx, int depth)
{
	char *w = child_where(where, key);
	if (idx >= 0) {
		char *wi = index_where(w, (size_t)idx);
		free(w);
		w = wi;
	}
	struct snode *n = compile(c, j, w, depth + 1);
	free(w);
	return n;
}

/* A non-negative integer keyword (3 and 3.0 both count, as draft-07 says). */
static int count_kw(struct cctx *c, json_object *v, const char *where, const char *key,
		    int64_t *out)
{
	long double d;
	/* Range first: converting inf or 1e999 to an integer is undefined. */
	if (!schema_number(v, &d) || !(d >= 0 && d <= 1e18L) || d != floorl(d)) {
		cerr(c, where, "%s must be a non-negative integer", key);
		return -1;
	}
	*out = (int64_t)d;
	return 0;
}

static int bound_kw(struct cctx *c, json_object *v, const char *where, const char *key,
		    struct sbound *b)
{
	if (!schema_number(v, &b->v)) {
		cerr(c, where, "%s must be a number", key);
		return -1;
	}
	b->set = true;
	return 0;
}

/* An array of distinct strings (required, the array form of dependencies). */
static int string_set(struct cctx *c, json_object *v, const char *where, const char *key)
{
	if (!json_object_is_type(v, json_type_array)) {
		cerr(c, where, "%s must be an array of strings", key);
		return -1;
	}
	size_t n = json_object_array_length(v);
	/* A hash, not pairwise comparison: a hostile list of 100k names stays linear. */
	struct lh_table *names =
	    lh_kchar_table_new(n < 16 ? 16 : (int)(n > 1 << 20 ? 1 << 20 : n), NULL);
	if (names == NULL)
		abort();
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		json_object *e = json_object_array_get_idx(v, i);
		if (!json_object_is_type(e, json_type_string)) {
			cerr(c, where, "%s must be an array of strings", key);
			rc = -1;
		} else if (lh_table_lookup_entry(names, json_object_get_string(e)) != NULL) {
			cerr(c, where, "%s has \"%s\" twice", key, json_object_get_string(e));
			rc = -1;
		} else {
			lh_table_insert(names, json_object_get_string(e), e);
		}
	}
	lh_table_free(names);
	return rc;
}

static int type_kw(struct cctx *c, json_object *v, const char *where, unsigned *out)
{
	static const struct {
		const char *name;
		unsigned bit;
	} names[] = {{"null", ST_NULL},	     {"boolean", ST_BOOLEAN}, {"object", ST_OBJECT},
		     {"array", ST_ARRAY},    {"number", ST_NUMBER},   {"string", ST_STRING},
		     {"integer", ST_INTEGER}};
	bool list = json_object_is_type(v, json_type_array);
	size_t n = list ? json_object_array_length(v) : 1;
	if (list && n == 0) {
		cerr(c, where, "type must not be an empty array");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		json_object *e = list ? json_object_array_get_idx(v, i) : v;
		unsigned bit = 0;
		if (json_object_is_type(e, json_type_string))
			for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
				if (strcmp(json_object_get_string(e), names[k].name) == 0)
					bit = names[k].bit;
		if (bit == 0 || (*out & bit)) {
			cerr(c, where,
			     "type must be a type name or an array of distinct type names");
			return -1;
		}
		*out |= bit;
	}
	return 0;
}

/* allOf / anyOf / oneOf: a non-empty array of schemas. */
static int schema_list(struct cctx *c, json_object *v, const char *where, const char *key,
		       int depth, struct snode ***out, size_t *nout)
{
	if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) == 0) {
		cerr(c, where, "%s must be a non-empty array of schemas", key);
		return -1;
	}
	size_t n = json_object_array_length(v);
	*out = xcalloc(n, sizeof(**out));
	*nout = n;
	for (size_t i = 0; i < n; i++)
		if (((*out)[i] = sub(c, json_object_array_get_idx(v, i), where, key, (long)i,
				     depth)) == NULL)
			return -1;
	return 0;
}

static int pattern_kw(struct cctx *c, json_object *v, const char *where, const char *key,
		      struct spattern *p)
{
	char msg[200];
	if (!json_object_is_type(v, json_type_string)) {
		cerr(c, where, "%s must be a string", key);
		return -1;
	}
	p->src = json_object_get_string(v);
	p->re =
	    schema_regex_compile(p->src, (size_t)json_object_get_string_len(v), msg, sizeof(msg));
	if (p->re == NULL) {
		cerr(c, where, "%s \"%s\": %s", key, p->src, msg);
		return -1;
	}
	return 0;
}

static int object_kw(struct cctx *c, json_object *v, const char *where, const char *key)
{
	if (!json_object_is_type(v, json_type_object)) {
		cerr(c, where, "%s must be an object", key);
		return -1;
	}
	return 0;
}

/* properties / patternProperties / dependencies / definitions: objects of subschemas. */
static int object_keywords(struct cctx *c, struct snode *n, json_object *j, const char *where,
			   int depth)
{
	json_object *v;
	if (json_object_object_get_ex(j, "properties", &v)) {
		if (object_kw(c, v, where, "properties") < 0)
			return -1;
		n->props = xcalloc((size_t)json_object_object_length(v) + 1, sizeof(*n->props));
		char *w = child_where(where, "properties");
		json_object_object_foreach(v, key, val)
		{
			struct sprop *p = &n->props[n->nprops++];
			p->name = key;
			p->len = strlen(key);
			if ((p->schema = sub(c, val, w, key, -1, depth)) == NULL) {
				free(w);
				return -1;
			}
		}
		free(w);
	}
	if (json_object_object_get_ex(j, "patternProperties", &v)) {
		if (object_kw(c, v, where, "patternProperties") < 0)
			return -1;
		n->patprops =
		    xcalloc((size_t)json_object_object_length(v) + 1, sizeof(*n->patprops));
		char *w = child_where(where, "patternProperties");
		json_object_object_foreach(v, key, val)
		{
			struct spattern *p = &n->patprops[n->npatprops++];
			json_object *src = json_object_new_string(key);
			int r = pattern_kw(c, src, where, "patternProperties", p);
			p->src = key;
			json_object_put(src);
			if (r < 0 || (p->schema = sub(c, val, w, key, -1, depth)) == NULL) {
				free(w);
				return -1;
			}
		}
		free(w);
	}
	if (json_object_object_get_ex(j, "dependencies", &v)) {
		if (object_kw(c, v, where, "dependencies") < 0)
			return -1;
		n->deps = xcalloc((size_t)json_object_object_length(v) + 1, sizeof(*n->deps));
		char *w = child_where(where, "dependencies");
		json_object_object_foreach(v, key, val)
		{
			struct sdep *d = &n->deps[n->ndeps++];
			d->name = key;
			if (json_object_is_type(val, json_type_array)) {
				if (string_set(c, val, w, key) < 0) {
					free(w);
					return -1;
				}
				d->required = val;
			} else if ((d->schema = sub(c, val, w, key, -1, depth)) == NULL) {
				free(w);
				return -1;
			}
		}
		free(w);
	}
	if (json_object_object_get_ex(j, "definitions", &v)) {
		if (object_kw(c, v, where, "definitions") < 0)
			return -1;
		char *w = child_where(where, "definitions");
		json_object_object_foreach(v, key, val)
		{
			if (sub(c, val, w, key, -1, depth) == NULL) {
				free(w);
				return -1;
			}
		}
		free(w);
	}
	return 0;
}

/* items / additionalItems / contains and the other array keywords. */
static int array_keywords(struct cctx *c, struct snode *n, json_object *j, const char *where,
			  int depth)
{
	json_object *v;
	if (json_object_object_get_ex(j, "items", &v)) {
		if (json_object_is_type(v, json_type_array)) {
			n->items_tuple = true;
			n->ntuple = json_object_array_length(v);
			n->tuple = xcalloc(n->ntuple + 1, sizeof(*n->tuple));
			for (size_t i = 0; i < n->ntuple; i++)
				if ((n->tuple[i] = sub(c, json_object_array_get_idx(v, i), where,
						       "items", (long)i, depth)) == NULL)
					return -1;
		} else if ((n->items = sub(c, v, where, "items", -1, depth)) == NULL) {
			return -1;
		}
	}
	if (json_object_object_get_ex(j, "uniqueItems", &v)) {
		if (!json_object_is_type(v, json_type_boolean)) {
			cerr(c, where, "uniqueItems must be a boolean");
			return -1;
		}
		n->unique_items = json_object_get_boolean(v);
	}
	return 0;
}

/* Keywords about strings and numbers. */
static int scalar_keywords(struct cctx *c, struct snode *n, json_object *j, const char *where)
{
	json_object *v;
	if (json_object_object_get_ex(j, "pattern", &v) &&
	    pattern_kw(c, v, where, "pattern", &n->pattern) < 0)
		return -1;
	if (json_object_object_get_ex(j, "format", &v)) {
		if (!json_object_is_type(v, json_type_string)) {
			cerr(c, where, "format must be a string");
			return -1;
		}
		if (schema_format_known(json_object_get_string(v)))
			n->format = json_object_get_string(v);
	}
	if (json_object_object_get_ex(j, "multipleOf", &v)) {
		long double d;
		if (!schema_number(v, &d) || !(d > 0)) {
			cerr(c, where, "multipleOf must be a number greater than 0");
			return -1;
		}
		n->multiple_of = v;
	}
	return 0;
}

/* Keywords that apply to any instance: type, enum, const, the combinators. */
static int any_keywords(struct cctx *c, struct snode *n, json_object *j, const char *where,
			int depth)
{
	json_object *v;
	if (json_object_object_get_ex(j, "type", &v) && type_kw(c, v, where, &n->types) < 0)
		return -1;
	if (json_object_object_get_ex(j, "enum", &v)) {
		if (!json_object_is_type(v, json_type_array)) {
			cerr(c, where, "enum must be an array");
			return -1;
		}
		n->enum_values = v;
	}
	if (json_object_object_get_ex(j, "const", &v)) {
		n->has_const = true;
		n->const_value = v;
	}
	if (json_object_object_get_ex(j, "required", &v)) {
		if (string_set(c, v, where, "required") < 0)
			return -1;
		n->required = v;
	}
	if ((json_object_object_get_ex(j, "allOf", &v) &&
	     schema_list(c, v, where, "allOf", depth, &n->all_of, &n->nall_of) < 0) ||
	    (json_object_object_get_ex(j, "anyOf", &v) &&
	     schema_list(c, v, where, "anyOf", depth, &n->any_of, &n->nany_of) < 0) ||
	    (json_object_object_get_ex(j, "oneOf", &v) &&
	     schema_list(c, v, where, "oneOf", depth, &n->one_of, &n->none_of) < 0))
		return -1;
	return 0;
}

/* Where each keyword of the tables below lands in a node. */
struct kw {
	const char *name;
	size_t off;
};
#define KW(name, member)                                                                           \
	{                                                                                          \
		name, offsetof(struct snode, member)                                               \
	}

/* Keywords whose value is one subschema (struct snode *). */
static const struct kw schema_kws[] = {
    KW("additionalItems", additional_items),
    KW("contains", contains),
    KW("additionalProperties", additional_props),
    KW("propertyNames", property_names),
    KW("not", not_),
    KW("if", if_),
    KW("then", then_),
    KW("else", else_),
};

/* Non-negative integers (int64_t). */
static const struct kw count_kws[] = {
    KW("minLength", min_length), KW("maxLength", max_length),	 KW("minItems", min_items),
    KW("maxItems", max_items),	 KW("minProperties", min_props), KW("maxProperties", max_props),
};

/* Numeric bounds (struct sbound). */
static const struct kw bound_kws[] = {
    KW("minimum", minimum),
    KW("maximum", maximum),
    KW("exclusiveMinimum", xminimum),
    KW("exclusiveMaximum", xmaximum),
};
#define NKW(t) (sizeof(t) / sizeof((t)[0]))

/* The keywords of the tables above, each stored at its offset in n. */
static int table_keywords(struct cctx *c, struct snode *n, json_object *j, const char *where,
			  int depth)
{
	json_object *v;
	char *base = (char *)n;
	for (size_t i = 0; i < NKW(schema_kws); i++)
		if (json_object_object_get_ex(j, schema_kws[i].name, &v) &&
		    (*(struct snode **)(base + schema_kws[i].off) =
			 sub(c, v, where, schema_kws[i].name, -1, depth)) == NULL)
			return -1;
	for (size_t i = 0; i < NKW(count_kws); i++)
		if (json_object_object_get_ex(j, count_kws[i].name, &v) &&
		    count_kw(c, v, where, count_kws[i].name, (int64_t *)(base + count_kws[i].off)) <
			0)
			return -1;
	for (size_t i = 0; i < NKW(bound_kws); i++)
		if (json_object_object_get_ex(j, bound_kws[i].name, &v) &&
		    bound_kw(c, v, where, bound_kws[i].name,
			     (struct sbound *)(base + bound_kws[i].off)) < 0)
			return -1;
	return 0;
}

static struct snode *node_new(struct cctx *c, json_object *j, const char *where)
{
	struct snode *n = xcalloc(1, sizeof(*n));
	n->where = xstrdup(where);
	n->min_length = n->max_length = -1;
	n->min_items = n->max_items = -1;
	n->min_props = n->max_props = -1;
	SLIST_INSERT_HEAD(&c->s->nodes, n, alloc);
	c->s->nnodes++;
	lh_table_insert(c->seen, j, n);
	return n;
}

/*
 * "$id": registers the schema under its absolute URI and makes that URI the
 * base of what it contains (a plain-name "$id": "#foo" names it, the base
 * stays).
 */
static int id_kw(struct cctx *c, json_object *j, json_object *v, const char *where)
{
	if (!json_object_is_type(v, json_type_string)) {
		cerr(c, where, "$id must be a string");
		return -1;
	}
	char *abs = schema_uri_resolve(c->base, json_object_get_string(v));
	size_t len = strlen(abs);
	if (len > 0 && abs[len - 1] == '#')
		abs[--len] = '\0';
	bool anchor = strchr(abs, '#') != NULL;
	const char *stored = schema_ids_add(&c->ids, abs, j);
	if (stored == NULL) {
		cerr(c, where, "$id \"%s\" names two different schemas", json_object_get_string(v));
		return -1;
	}
	if (!anchor)
		c->base = stored;
	return 0;
}

static struct snode *compile(struct cctx *c, json_object *j, const char *where, int depth)
{
	struct lh_entry *e = lh_table_lookup_entry(c->seen, j);
	if (e != NULL)
		return (struct snode *)lh_entry_v(e);
	if (depth > SCHEMA_MAX_DEPTH) {
		cerr(c, where, "nested deeper than %d schemas", SCHEMA_MAX_DEPTH);
		return NULL;
	}
	if (c->s->nnodes >= SCHEMA_MAX_NODES) {
		cerr(c, where, "more than %d subschemas", SCHEMA_MAX_NODES);
		return NULL;
	}
	if (json_object_is_type(j, json_type_boolean)) {
		struct snode *n = node_new(c, j, where);
		n->is_bool = true;
		n->bool_value = json_object_get_boolean(j);
		return n;
	}
	if (!json_object_is_type(j, json_type_object)) {
		cerr(c, where, "a schema must be an object or a boolean");
		return NULL;
	}
	struct snode *n = node_new(c, j, where);
	json_object *v;
	if (json_object_object_get_ex(j, "$ref", &v)) {
		if (!json_object_is_type(v, json_type_string)) {
			cerr(c, where, "$ref must be a string");
			return NULL;
		}
		/* Draft-07: a "$ref" replaces its siblings, so they are not compiled. */
		n->ref_src = json_object_get_string(v);
		if (c->nrefs == c->caprefs) {
			c->caprefs = c->caprefs ? c->caprefs * 2 : 16;
			c->refs = xrealloc(c->refs, c->caprefs * sizeof(*c->refs));
		}
		c->refs[c->nrefs++] = (struct pending){n, c->base};
		return n;
	}
	const char *saved = c->base;
	if (json_object_object_get_ex(j, "$id", &v) && id_kw(c, j, v, where) < 0)
		return NULL;
	bool bad = table_keywords(c, n, j, where, depth) < 0 ||
		   any_keywords(c, n, j, where, depth) < 0 || scalar_keywords(c, n, j, where) < 0 ||
		   array_keywords(c, n, j, where, depth) < 0 ||
		   object_keywords(c, n, j, where, depth) < 0;
	c->base = saved;
	return bad ? NULL : n;
}

/*
 * The schema a pending "$ref" names: the reference resolved against its base
 * URI, the document part looked up among the "$id"s (none: the document
 * itself), then the fragment as a JSON Pointer from there or as a plain-name
 * "$id". *base is set to the target's base URI. NULL with a message.
 */
static json_object *resolve(struct cctx *c, const struct pending *p, const char **base)
{
	const char *ref = p->n->ref_src;
	char msg[64];
	char *abs = schema_uri_resolve(p->base, ref);
	char *hash = strchr(abs, '#');
	const char *frag = hash ? hash + 1 : "";
	json_object *res = c->s->doc, *target = NULL;
	if (hash != NULL)
		*hash = '\0';
	if (abs[0] != '\0' && (res = schema_ids_find(&c->ids, abs)) == NULL) {
		cerr(c, p->n->where,
		     "$ref \"%s\": only local references (\"#...\" or a \"$id\" of this document) "
		     "are supported",
		     ref);
		goto out;
	}
	if (frag[0] == '\0' || frag[0] == '/') {
		if ((target = schema_pointer(res, frag, msg, sizeof(msg))) == NULL)
			cerr(c, p->n->where, "$ref \"%s\": %s", ref, msg);
	} else {
		char *named = xasprintf("%s#%s", abs, frag);
		if ((target = schema_ids_find(&c->ids, named)) == NULL)
			cerr(c, p->n->where,
			     "$ref \"%s\": the fragment is not a JSON Pointer and no "
			     "\"$id\" names it",
			     ref);
		free(named);
	}
	if (target != NULL) {
		c->owned = xrealloc(c->owned, (c->nowned + 1) * sizeof(*c->owned));
		c->owned[c->nowned++] = abs;
		*base = abs;
		return target;
	}
out:
	free(abs);
	return NULL;
}

/* Resolves every pending "$ref", compiling targets met for the first time. */
static int link_refs(struct cctx *c)
{
	for (size_t i = 0; i < c->nrefs; i++) {
		struct snode *n = c->refs[i].n;
		const char *base;
		json_object *target = resolve(c, &c->refs[i], &base);
		if (target == NULL)
			return -1;
		/* A target not compiled yet is compiled in the base it was found in. */
		c->base = base;
		n->ref = compile(c, target, n->ref_src, 0);
		c->base = "";
		if (n->ref == NULL)
			return -1;
	}
	/* A chain of "$ref"s that comes back to itself accepts or refuses nothing. */
	for (size_t i = 0; i < c->nrefs; i++) {
		const struct snode *n = c->refs[i].n;
		size_t steps = 0;
		while (n->ref != NULL && steps <= c->nrefs) {
			n = n->ref;
			steps++;
		}
		if (n->ref != NULL) {
			cerr(c, c->refs[i].n->where, "$ref \"%s\" is a cycle of references",
			     c->refs[i].n->ref_src);
			return -1;
		}
	}
	return 0;
}

static void cctx_free(struct cctx *c)
{
	lh_table_free(c->seen);
	free(c->refs);
	schema_ids_free(&c->ids);
	for (size_t i = 0; i < c->nowned; i++)
		free(c->owned[i]);
	free(c->owned);
}

struct schema *schema_compile(json_object *doc, char *err, size_t errlen)
{
	struct schema *s = xcalloc(1, sizeof(*s));
	struct cctx c = {.s = s, .err = err, .errlen = errlen, .base = ""};
	SLIST_INIT(&s->nodes);
	s->doc = json_object_get(doc);
	c.seen = lh_kptr_table_new(64, NULL);
	if (c.seen == NULL)
		abort();
	s->mctx = schema_regex_limits();
	if (s->mctx == NULL)
		abort();
	s->root = compile(&c, doc, "", 0);
	if (s->root == NULL || link_refs(&c) < 0)
		goto fail;
	cctx_free(&c);
	return s;
fail:
	cctx_free(&c);
	schema_free(s);
	return NULL;
}

void schema_free(struct schema *s)
{
	if (s == NULL)
		return;
	struct snode *n;
	while ((n = SLIST_FIRST(&s->nodes)) != NULL) {
		SLIST_REMOVE_HEAD(&s->nodes, alloc);
		pcre2_code_free(n->pattern.re);
		for (size_t i = 0; i < n->npatprops; i++)
			pcre2_code_free(n->patprops[i].re);
		free(n->patprops);
		free(n->props);
		free(n->deps);
		free(n->tuple);
		free(n->all_of);
		free(n->any_of);
		free(n->one_of);
		free((char *)n->where);
		free(n);
	}
	pcre2_match_context_free(s->mctx);
	json_object_put(s->doc);
	free(s);
}
