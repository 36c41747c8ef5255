/*
 * schema_validate: walks the compiled graph over an instance and lists every
 * failure as {path, keyword, message}. Subschemas whose failure is not itself
 * the reason (the branches of anyOf/oneOf, "not", "if", "contains",
 * "propertyNames") run quietly: they stop at the first failure and report
 * nothing, and the keyword that asked reports one error for them.
 *
 * Every evaluation is counted: past SCHEMA_MAX_EVAL_DEPTH nested subschemas,
 * SCHEMA_MAX_STEPS steps or SCHEMA_MAX_MS milliseconds (or a regex over its
 * match limit) the validation stops with an error saying so. A schema built to recurse without
 * consuming the instance, or to branch exponentially, therefore ends in bounded time.
 */
#define _GNU_SOURCE /* vasprintf */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "schema.h"
#include "schema_int.h"
#include "xmalloc.h"

#define SS_XSTR(x) #x
#define SS_STR(x) SS_XSTR(x)

struct serror {
	char *path;
	const char *keyword;
	char *message;
};

struct schema_errors {
	struct serror *v;
	size_t n, cap;
};

struct vctx {
	const struct schema *s;
	struct schema_errors *out; /* every error ends here */
	bool quiet;		   /* inside a subschema whose errors are not reported */
	pcre2_match_data *md;
	char *path; /* the instance location being validated, as a JSON Pointer */
	size_t plen, pcap;
	size_t steps;
	struct timespec deadline; /* past it the validation stops: see over_time() */
	bool aborted;		  /* a limit was reached: the result is invalid, whatever follows */
	char *abort_path, *abort_message;
	const char *abort_keyword;
	bool truncated;
};

static void add_error(struct vctx *c, const char *path, const char *keyword, char *message)
{
	struct schema_errors *e = c->out;
	if (e->n >= SCHEMA_MAX_ERRORS) {
		c->truncated = true;
		free(message);
		return;
	}
	if (e->n == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 8;
		e->v = xrealloc(e->v, e->cap * sizeof(*e->v));
	}
	e->v[e->n++] = (struct serror){xstrdup(path), keyword, message};
}

/*
 * Records a failure at the current path. Returns whether the caller should
 * go on looking for more: false in quiet mode, where one failure decides.
 */
__attribute__((format(printf, 3, 4))) static bool report(struct vctx *c, const char *keyword,
							 const char *fmt, ...)
{
	if (c->quiet || c->aborted)
		return false;
	va_list ap;
	va_start(ap, fmt);
	char *msg = NULL;
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	va_end(ap);
	add_error(c, c->path, keyword, msg);
	return true;
}

/*
 * A limit was reached: stop, and make sure the result says so (one error,
 * kept even in quiet mode or past SCHEMA_MAX_ERRORS; schema_validate adds it
 * last).
 */
static bool limit(struct vctx *c, const char *keyword, const char *what)
{
	if (!c->aborted) {
		c->abort_path = xstrdup(c->path);
		c->abort_keyword = keyword;
		c->abort_message = xasprintf("validation stopped: %s", what);
	}
	c->aborted = true;
	return false;
}

#define FAIL(...)                                                                                  \
	do {                                                                                       \
		ok = false;                                                                        \
		if (!report(c, __VA_ARGS__))                                                       \
			return false;                                                              \
	} while (0)

/* Appends "/" + token (escaped) to the path; returns the length to restore. */
static size_t push(struct vctx *c, const char *tok, size_t len)
{
	size_t saved = c->plen;
	if (c->plen + 2 * len + 2 > c->pcap) {
		while (c->plen + 2 * len + 2 > c->pcap)
			c->pcap *= 2;
		c->path = xrealloc(c->path, c->pcap);
	}
	char *p = c->path + c->plen;
	*p++ = '/';
	for (size_t i = 0; i < len; i++) {
		if (tok[i] == '~' || tok[i] == '/') {
			*p++ = '~';
			*p++ = tok[i] == '~' ? '0' : '1';
		} else {
			*p++ = tok[i];
		}
	}
	*p = '\0';
	c->plen = (size_t)(p - c->path);
	return saved;
}

static size_t push_index(struct vctx *c, size_t i)
{
	char buf[24];
	int n = snprintf(buf, sizeof(buf), "%zu", i);
	return push(c, buf, (size_t)n);
}

static void pop(struct vctx *c, size_t saved)
{
	c->plen = saved;
	c->path[saved] = '\0';
}

/*
 * The steps bound what the validator itself does, deterministically; a
 * regex search under its match limit may still cost milliseconds, and many
 * of them add up. So time is bounded too: SCHEMA_MAX_MS per validation,
 * looked at after every search and every 1024 steps. Only input built to be
 * slow comes near it (a plugin config takes microseconds).
 */
static bool over_time(struct vctx *c)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec < c->deadline.tv_sec ||
	    (now.tv_sec == c->deadline.tv_sec && now.tv_nsec < c->deadline.tv_nsec))
		return false;
	limit(c, "$schema", "took longer than " SS_STR(SCHEMA_MAX_MS) " ms");
	return true;
}

/* A regex search as a step of the validation: 1 match, 0 none, -1 stopped. */
static int search(struct vctx *c, const pcre2_code *re, const char *s, size_t len,
		  const char *keyword)
{
	if (++c->steps > SCHEMA_MAX_STEPS) {
		limit(c, "$schema", "more than " SS_STR(SCHEMA_MAX_STEPS) " steps");
		return -1;
	}
	int r = schema_regex_search(re, c->s->mctx, c->md, s, len);
	if (r < 0) {
		limit(c, keyword,
		      "the pattern could not be matched (not UTF-8, or over the match limit)");
		return -1;
	}
	return over_time(c) ? -1 : r;
}

bool schema_number(json_object *j, long double *out)
{
	switch (json_object_get_type(j)) {
	case json_type_int: {
		int64_t v = json_object_get_int64(j);
		/* json-c holds 2^63..2^64-1 as unsigned and clamps the signed view. */
		*out = v == INT64_MAX ? (long double)json_object_get_uint64(j) : (long double)v;
		return true;
	}
	case json_type_double:
		*out = json_object_get_double(j);
		return true;
	default:
		return false;
	}
}

static bool is_integer(json_object *j)
{
	if (json_object_is_type(j, json_type_int))
		return true;
	if (!json_object_is_type(j, json_type_double))
		return false;
	double d = json_object_get_double(j);
	return isfinite(d) && d == floor(d);
}

/* Equality with a step budget: each value compared costs one step. */
static bool equal(json_object *a, json_object *b, size_t *budget)
{
	long double x, y;
	if (*budget == 0)
		return false;
	(*budget)--;
	if (schema_number(a, &x) && schema_number(b, &y))
		return x == y;
	enum json_type ta = json_object_get_type(a), tb = json_object_get_type(b);
	if (ta != tb)
		return false;
	switch (ta) {
	case json_type_null:
		return true;
	case json_type_boolean:
		return json_object_get_boolean(a) == json_object_get_boolean(b);
	case json_type_string:
		return json_object_get_string_len(a) == json_object_get_string_len(b) &&
		       memcmp(json_object_get_string(a), json_object_get_string(b),
			      (size_t)json_object_get_string_len(a)) == 0;
	case json_type_array: {
		size_t n = json_object_array_length(a);
		if (n != json_object_array_length(b))
			return false;
		for (size_t i = 0; i < n; i++)
			if (!equal(json_object_array_get_idx(a, i), json_object_array_get_idx(b, i),
				   budget))
				return false;
		return true;
	}
	case json_type_object: {
		if (json_object_object_length(a) != json_object_object_length(b))
			return false;
		json_object_object_foreach(a, k, va)
		{
			json_object *vb;
			if (!json_object_object_get_ex(b, k, &vb) || !equal(va, vb, budget))
				return false;
		}
		return true;
	}
	default:
		return false;
	}
}

bool schema_json_equal(json_object *a, json_object *b)
{
	size_t budget = SIZE_MAX;
	return equal(a, b, &budget);
}

/* equal() under the validation's step budget; a spent budget stops it. */
static bool vequal(struct vctx *c, json_object *a, json_object *b)
{
	size_t budget = SCHEMA_MAX_STEPS > c->steps ? SCHEMA_MAX_STEPS - c->steps : 0;
	size_t before = budget;
	bool r = equal(a, b, &budget);
	c->steps += before - budget;
	if (budget == 0)
		limit(c, "uniqueItems", "the values are too large to compare");
	return r;
}

static const char *type_name(json_object *j)
{
	switch (json_object_get_type(j)) {
	case json_type_null:
		return "null";
	case json_type_boolean:
		return "boolean";
	case json_type_int:
		return "integer";
	case json_type_double:
		return "number";
	case json_type_string:
		return "string";
	case json_type_array:
		return "array";
	case json_type_object:
		return "object";
	}
	return "value";
}

static bool type_matches(unsigned types, json_object *j)
{
	switch (json_object_get_type(j)) {
	case json_type_null:
		return types & ST_NULL;
	case json_type_boolean:
		return types & ST_BOOLEAN;
	case json_type_int:
	case json_type_double:
		return (types & ST_NUMBER) || ((types & ST_INTEGER) && is_integer(j));
	case json_type_string:
		return types & ST_STRING;
	case json_type_array:
		return types & ST_ARRAY;
	case json_type_object:
		return types & ST_OBJECT;
	}
	return false;
}

/* "string or null" for the error message. */
static void type_list(unsigned types, char *buf, size_t len)
{
	static const char *names[] = {"null",	"boolean", "object", "array",
				      "number", "string",  "integer"};
	buf[0] = '\0';
	for (int i = 0; i < 7; i++)
		if (types & (1u << i))
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", buf[0] ? " or " : "",
				 names[i]);
}

static bool eval(struct vctx *c, const struct snode *n, json_object *inst, int depth);

/* Runs n quietly: true when inst is valid, nothing reported either way. */
static bool probe(struct vctx *c, const struct snode *n, json_object *inst, int depth)
{
	bool q = c->quiet;
	c->quiet = true;
	bool r = eval(c, n, inst, depth);
	c->quiet = q;
	return r;
}

static bool multiple_of(json_object *inst, json_object *m)
{
	if (json_object_is_type(inst, json_type_int) && json_object_is_type(m, json_type_int)) {
		int64_t x = json_object_get_int64(inst), d = json_object_get_int64(m);
		if (x != INT64_MAX && d != INT64_MAX && d > 0)
			return x % d == 0;
	}
	long double x, d;
	if (!schema_number(inst, &x) || !schema_number(m, &d))
		return true; /* not reached: eval_number checked both */
	long double q = x / d;
	if (!isfinite(q))
		return false;
	long double r = roundl(q);
	return fabsl(q - r) <= 1e-12L * fmaxl(1.0L, fabsl(q));
}

static bool eval_number(struct vctx *c, const struct snode *n, json_object *inst)
{
	bool ok = true;
	long double x;
	if (!schema_number(inst, &x))
		return true;
	if (n->minimum.set && x < n->minimum.v)
		FAIL("minimum", "must be at least %Lg", n->minimum.v);
	if (n->maximum.set && x > n->maximum.v)
		FAIL("maximum", "must be at most %Lg", n->maximum.v);
	if (n->xminimum.set && x <= n->xminimum.v)
		FAIL("exclusiveMinimum", "must be greater than %Lg", n->xminimum.v);
	if (n->xmaximum.set && x >= n->xmaximum.v)
		FAIL("exclusiveMaximum", "must be less than %Lg", n->xmaximum.v);
	if (n->multiple_of != NULL && !multiple_of(inst, n->multiple_of))
		FAIL("multipleOf", "must be a multiple of %s",
		     json_object_to_json_string_ext(n->multiple_of, JSON_C_TO_STRING_PLAIN));
	return ok;
}

static bool eval_string(struct vctx *c, const struct snode *n, json_object *inst)
{
	bool ok = true;
	if (!json_object_is_type(inst, json_type_string))
		return true;
	const char *s = json_object_get_string(inst);
	size_t len = (size_t)json_object_get_string_len(inst);
	if (n->min_length >= 0 || n->max_length >= 0) {
		size_t cps = schema_utf8_length(s, len);
		if (n->min_length >= 0 && cps < (size_t)n->min_length)
			FAIL("minLength", "must be at least %lld characters long",
			     (long long)n->min_length);
		if (n->max_length >= 0 && cps > (size_t)n->max_length)
			FAIL("maxLength", "must be at most %lld characters long",
			     (long long)n->max_length);
	}
	if (n->pattern.re != NULL) {
		int r = search(c, n->pattern.re, s, len, "pattern");
		if (r < 0)
			return false;
		if (r == 0)
			FAIL("pattern", "must match the pattern \"%s\"", n->pattern.src);
	}
	if (n->format != NULL && !schema_format_check(n->format, s, len))
		FAIL("format", "must be a valid %s", n->format);
	return ok;
}

static bool eval_array(struct vctx *c, const struct snode *n, json_object *inst, int depth)
{
	bool ok = true;
	if (!json_object_is_type(inst, json_type_array))
		return true;
	size_t len = json_object_array_length(inst);
	if (n->min_items >= 0 && len < (size_t)n->min_items)
		FAIL("minItems", "must have at least %lld items", (long long)n->min_items);
	if (n->max_items >= 0 && len > (size_t)n->max_items)
		FAIL("maxItems", "must have at most %lld items", (long long)n->max_items);
	if (n->unique_items) {
		for (size_t i = 1; i < len && ok; i++)
			for (size_t k = 0; k < i; k++) {
				if (vequal(c, json_object_array_get_idx(inst, i),
					   json_object_array_get_idx(inst, k)))
					FAIL("uniqueItems", "items %zu and %zu are equal", k, i);
				if (c->aborted)
					return false;
				if (!ok)
					break;
			}
	}
	for (size_t i = 0; i < len; i++) {
		const struct snode *item = NULL;
		if (!n->items_tuple)
			item = n->items;
		else if (i < n->ntuple)
			item = n->tuple[i];
		else
			item = n->additional_items;
		if (item == NULL)
			continue;
		size_t saved = push_index(c, i);
		bool r = eval(c, item, json_object_array_get_idx(inst, i), depth + 1);
		pop(c, saved);
		if (!r) {
			ok = false;
			if (c->quiet || c->aborted)
				return false;
		}
	}
	if (n->contains != NULL) {
		bool found = false;
		for (size_t i = 0; i < len && !found; i++)
			found =
			    probe(c, n->contains, json_object_array_get_idx(inst, i), depth + 1);
		if (c->aborted)
			return false;
		if (!found)
			FAIL("contains", "must contain an item that matches the contains schema");
	}
	return ok;
}

/* The schemas that apply to member key: properties, then patternProperties. */
static bool eval_member(struct vctx *c, const struct snode *n, const char *key, json_object *val,
			int depth)
{
	bool ok = true, matched = false;
	size_t klen = strlen(key);
	/* A member costs a step even when no subschema applies (a scan of properties). */
	if (++c->steps > SCHEMA_MAX_STEPS)
		return limit(c, "$schema", "more than " SS_STR(SCHEMA_MAX_STEPS) " steps");
	size_t saved = push(c, key, klen);
	for (size_t i = 0; i < n->nprops; i++)
		if (n->props[i].len == klen && memcmp(n->props[i].name, key, klen) == 0) {
			matched = true;
			ok = eval(c, n->props[i].schema, val, depth + 1) && ok;
		}
	for (size_t i = 0; i < n->npatprops && (ok || !c->quiet); i++) {
		int r = search(c, n->patprops[i].re, key, klen, "patternProperties");
		if (r < 0) {
			pop(c, saved);
			return false;
		}
		if (r == 1) {
			matched = true;
			ok = eval(c, n->patprops[i].schema, val, depth + 1) && ok;
		}
	}
	if (!matched && n->additional_props != NULL && (ok || !c->quiet)) {
		if (n->additional_props->is_bool && !n->additional_props->bool_value) {
			ok = false;
			report(c, "additionalProperties", "is not an allowed property");
		} else {
			ok = eval(c, n->additional_props, val, depth + 1) && ok;
		}
	}
	if (n->property_names != NULL && (ok || !c->quiet)) {
		json_object *name = json_object_new_string_len(key, (int)klen);
		bool r = probe(c, n->property_names, name, depth + 1);
		json_object_put(name);
		if (!r && !c->aborted) {
			ok = false;
			report(c, "propertyNames",
			       "the property name does not match propertyNames");
		}
	}
	pop(c, saved);
	return ok && !c->aborted;
}

static bool eval_object(struct vctx *c, const struct snode *n, json_object *inst, int depth)
{
	bool ok = true;
	if (!json_object_is_type(inst, json_type_object))
		return true;
	size_t count = (size_t)json_object_object_length(inst);
	if (n->required != NULL) {
		size_t nr = json_object_array_length(n->required);
		for (size_t i = 0; i < nr; i++) {
			json_object *name = json_object_array_get_idx(n->required, i);
			const char *k = json_object_get_string(name);
			if (json_object_object_get_ex(inst, k, NULL))
				continue;
			size_t saved = push(c, k, strlen(k));
			ok = false;
			bool go = report(c, "required", "is required");
			pop(c, saved);
			if (!go)
				return false;
		}
	}
	if (n->min_props >= 0 && count < (size_t)n->min_props)
		FAIL("minProperties", "must have at least %lld properties",
		     (long long)n->min_props);
	if (n->max_props >= 0 && count > (size_t)n->max_props)
		FAIL("maxProperties", "must have at most %lld properties", (long long)n->max_props);
	if (n->nprops || n->npatprops || n->additional_props || n->property_names) {
		json_object_object_foreach(inst, key, val)
		{
			if (!eval_member(c, n, key, val, depth)) {
				ok = false;
				if (c->quiet || c->aborted)
					return false;
			}
		}
	}
	for (size_t i = 0; i < n->ndeps; i++) {
		const struct sdep *d = &n->deps[i];
		if (!json_object_object_get_ex(inst, d->name, NULL))
			continue;
		if (d->schema != NULL) {
			if (!eval(c, d->schema, inst, depth + 1)) {
				ok = false;
				if (c->quiet || c->aborted)
					return false;
			}
			continue;
		}
		size_t nr = json_object_array_length(d->required);
		for (size_t k = 0; k < nr; k++) {
			const char *r =
			    json_object_get_string(json_object_array_get_idx(d->required, k));
			if (json_object_object_get_ex(inst, r, NULL))
				continue;
			size_t saved = push(c, r, strlen(r));
			ok = false;
			bool go = report(c, "dependencies", "is required when \"%s\" is present",
					 d->name);
			pop(c, saved);
			if (!go)
				return false;
		}
	}
	return ok;
}

static bool eval_combinators(struct vctx *c, const struct snode *n, json_object *inst, int depth)
{
	bool ok = true;
	for (size_t i = 0; i < n->nall_of; i++)
		if (!eval(c, n->all_of[i], inst, depth + 1)) {
			ok = false;
			if (c->quiet || c->aborted)
				return false;
		}
	if (n->nany_of) {
		bool any = false;
		for (size_t i = 0; i < n->nany_of && !any; i++)
			any = probe(c, n->any_of[i], inst, depth + 1);
		if (c->aborted)
			return false;
		if (!any)
			FAIL("anyOf", "must match at least one of the %zu schemas in anyOf",
			     n->nany_of);
	}
	if (n->none_of) {
		size_t matches = 0, first = 0, second = 0;
		for (size_t i = 0; i < n->none_of && matches < 2; i++)
			if (probe(c, n->one_of[i], inst, depth + 1)) {
				if (matches++ == 0)
					first = i;
				else
					second = i;
			}
		if (c->aborted)
			return false;
		if (matches == 0)
			FAIL("oneOf",
			     "must match exactly one of the %zu schemas in oneOf, matches none",
			     n->none_of);
		if (matches > 1)
			FAIL("oneOf", "must match exactly one schema in oneOf, matches %zu and %zu",
			     first, second);
	}
	if (n->not_ != NULL) {
		bool r = probe(c, n->not_, inst, depth + 1);
		if (c->aborted)
			return false;
		if (r)
			FAIL("not", "must not match the schema in not");
	}
	if (n->if_ != NULL && (n->then_ != NULL || n->else_ != NULL)) {
		bool r = probe(c, n->if_, inst, depth + 1);
		if (c->aborted)
			return false;
		const struct snode *branch = r ? n->then_ : n->else_;
		if (branch != NULL && !eval(c, branch, inst, depth + 1))
			ok = false;
	}
	return ok;
}

static bool eval(struct vctx *c, const struct snode *n, json_object *inst, int depth)
{
	bool ok = true;
	if (c->aborted)
		return false;
	if (++c->steps > SCHEMA_MAX_STEPS)
		return limit(c, "$schema", "more than " SS_STR(SCHEMA_MAX_STEPS) " steps");
	if ((c->steps & 1023) == 0 && over_time(c))
		return false;
	if (depth > SCHEMA_MAX_EVAL_DEPTH)
		return limit(c, "$ref",
			     "subschemas nested deeper than " SS_STR(
				 SCHEMA_MAX_EVAL_DEPTH) " (a recursive schema?)");
	while (n->ref != NULL)
		n = n->ref;
	if (n->is_bool) {
		if (!n->bool_value)
			FAIL("false", "no value is allowed here");
		return ok;
	}
	if (n->types && !type_matches(n->types, inst)) {
		char want[80];
		type_list(n->types, want, sizeof(want));
		FAIL("type", "must be %s, not %s", want, type_name(inst));
	}
	if (n->enum_values != NULL) {
		size_t len = json_object_array_length(n->enum_values), i;
		for (i = 0; i < len; i++)
			if (vequal(c, inst, json_object_array_get_idx(n->enum_values, i)))
				break;
		if (c->aborted)
			return false;
		if (i == len)
			FAIL(
			    "enum", "must be one of %s",
			    json_object_to_json_string_ext(n->enum_values, JSON_C_TO_STRING_PLAIN));
	}
	if (n->has_const && !vequal(c, inst, n->const_value)) {
		if (c->aborted)
			return false;
		FAIL("const", "must be %s",
		     n->const_value
			 ? json_object_to_json_string_ext(n->const_value, JSON_C_TO_STRING_PLAIN)
			 : "null");
	}
	ok = eval_number(c, n, inst) && ok;
	if (!ok && (c->quiet || c->aborted))
		return false;
	ok = eval_string(c, n, inst) && ok;
	if (!ok && (c->quiet || c->aborted))
		return false;
	ok = eval_array(c, n, inst, depth) && ok;
	if (!ok && (c->quiet || c->aborted))
		return false;
	ok = eval_object(c, n, inst, depth) && ok;
	if (!ok && (c->quiet || c->aborted))
		return false;
	ok = eval_combinators(c, n, inst, depth) && ok;
	return ok && !c->aborted;
}

struct schema_errors *schema_validate(const struct schema *s, json_object *instance)
{
	struct schema_errors *e = xcalloc(1, sizeof(*e));
	struct vctx c = {.s = s, .out = e, .pcap = 64};
	c.path = xmalloc(c.pcap);
	c.path[0] = '\0';
	clock_gettime(CLOCK_MONOTONIC, &c.deadline);
	c.deadline.tv_sec += SCHEMA_MAX_MS / 1000;
	c.deadline.tv_nsec += (SCHEMA_MAX_MS % 1000) * 1000000L;
	if (c.deadline.tv_nsec >= 1000000000L) {
		c.deadline.tv_sec++;
		c.deadline.tv_nsec -= 1000000000L;
	}
	c.md = pcre2_match_data_create(1, NULL);
	if (c.md == NULL)
		abort();
	eval(&c, s->root, instance, 0);
	/* Room for two more: add_error stops at the limit. */
	e->v = xrealloc(e->v, (e->n + 2) * sizeof(*e->v));
	if (c.truncated)
		e->v[e->n++] = (struct serror){
		    xstrdup(""), "errors",
		    xasprintf("more than %d errors; the rest are not listed", SCHEMA_MAX_ERRORS)};
	if (c.aborted)
		e->v[e->n++] = (struct serror){c.abort_path, c.abort_keyword, c.abort_message};
	pcre2_match_data_free(c.md);
	free(c.path);
	return e;
}

size_t schema_errors_count(const struct schema_errors *e)
{
	return e ? e->n : 0;
}

const char *schema_errors_path(const struct schema_errors *e, size_t i)
{
	return e->v[i].path;
}

const char *schema_errors_keyword(const struct schema_errors *e, size_t i)
{
	return e->v[i].keyword;
}

const char *schema_errors_message(const struct schema_errors *e, size_t i)
{
	return e->v[i].message;
}

json_object *schema_errors_to_json(const struct schema_errors *e)
{
	json_object *arr = json_object_new_array();
	for (size_t i = 0; i < schema_errors_count(e); i++) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "path", json_object_new_string(e->v[i].path));
		json_object_object_add(o, "keyword", json_object_new_string(e->v[i].keyword));
		json_object_object_add(o, "message", json_object_new_string(e->v[i].message));
		json_object_array_add(arr, o);
	}
	return arr;
}

void schema_errors_free(struct schema_errors *e)
{
	if (e == NULL)
		return;
	for (size_t i = 0; i < e->n; i++) {
		free(e->v[i].path);
		free(e->v[i].message);
	}
	free(e->v);
	free(e);
}
