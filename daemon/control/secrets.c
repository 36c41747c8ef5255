/*
 * Secrets in a plugin's configuration (see secrets.h). The schema is walked
 * beside the value: at each position the set of schemas that apply to it is
 * gathered (following $ref and the combinators), the markers of all of them
 * are read, and the children's sets are derived from it. Conditions (if,
 * anyOf, oneOf, patterns of a failing regex) are not evaluated but taken as
 * applying: a marker anywhere that might describe a value masks it.
 */
#include "secrets.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "schema_ref.h"
#include "schema_regex.h"
#include "xmalloc.h"

/* Schemas gathered for one position; more than this is taken as "secret". */
#define SCHEMAS_MAX 64
/* How deep $ref and combinators are followed from one position. */
#define EXPAND_MAX 16
/* Distinct patternProperties patterns compiled per walk; past it, a pattern matches. */
#define PATTERNS_MAX 128
/*
 * What one walk may cost on the reactor: the schema comes from a plugin's
 * manifest and the walk runs for every GET of its config. Past the budget
 * every value not yet decided is taken for a secret (masked, redacted).
 * Counted in the thread's CPU time, not the wall clock, so that a loaded
 * machine does not change what a viewer sees.
 */
#define WALK_BUDGET_NS (100 * 1000 * 1000)

/* One mask, unmask or values call: the schema's root, the patterns compiled, the budget. */
struct walk {
	json_object *root; /* the whole configSchema, for "$ref": "#/..." */
	struct timespec start;
	unsigned steps;
	bool spent;
	pcre2_match_context *mctx;
	struct {
		const char *src; /* the key in patternProperties, alive as long as the schema */
		pcre2_code *re;	 /* NULL: did not compile */
		pcre2_match_data *md;
	} pat[PATTERNS_MAX];
	size_t npat;
};

struct schemas {
	struct walk *w;
	json_object *v[SCHEMAS_MAX];
	size_t n;
	bool overflow;
};

static void walk_init(struct walk *w, json_object *root)
{
	memset(w, 0, sizeof *w);
	w->root = root;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &w->start);
	w->mctx = schema_regex_limits();
}

static void walk_done(struct walk *w)
{
	for (size_t i = 0; i < w->npat; i++) {
		pcre2_match_data_free(w->pat[i].md);
		pcre2_code_free(w->pat[i].re);
	}
	pcre2_match_context_free(w->mctx);
}

/* Counts a step; whether the walk's time is up (the clock is read every 64 steps). */
static bool walk_spent(struct walk *w)
{
	struct timespec now;

	if (w->spent || (++w->steps & 63) != 0)
		return w->spent;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
	w->spent =
	    (now.tv_sec - w->start.tv_sec) * 1000000000LL + (now.tv_nsec - w->start.tv_nsec) >
	    WALK_BUDGET_NS;
	return w->spent;
}

/*
 * Words that make a key a secret wherever they appear in it, compared with
 * the key lowercased and without '_', '-', '.' and spaces (so "api_key",
 * "API-Key" and "xApiKey" are all "apikey"). "token" and "secret" also catch
 * accessToken, client_secret; "webhookurl" is here because a Slack, Teams or
 * Discord webhook URL is itself the credential that lets anyone post.
 */
static const char *const name_words[] = {
    "password",	     "passwd",	   "passphrase",       "secret",     "token",
    "apikey",	     "privatekey", "accesskey",	       "signingkey", "credential",
    "authorization", "webhookurl", "connectionstring",
};
/*
 * Words too short to look for inside a key ("auth" is in "author"): a secret
 * when the key is the word or ends with it (dbPwd, basicAuth, oauth).
 */
static const char *const name_suffixes[] = {"pwd", "auth", "dsn", "webhook", "cookie"};

bool secrets_name(const char *key)
{
	char low[128];
	size_t n = 0, k;

	for (const char *p = key; *p && n < sizeof low - 1; p++)
		if (*p != '_' && *p != '-' && *p != '.' && *p != ' ')
			low[n++] = (char)tolower((unsigned char)*p);
	low[n] = '\0';
	for (size_t i = 0; i < sizeof name_words / sizeof *name_words; i++)
		if (strstr(low, name_words[i]) != NULL)
			return true;
	for (size_t i = 0; i < sizeof name_suffixes / sizeof *name_suffixes; i++) {
		k = strlen(name_suffixes[i]);
		if (n >= k && strcmp(low + n - k, name_suffixes[i]) == 0)
			return true;
	}
	return false;
}

/*
 * A local reference ("#", "#/definitions/x") in root, read as the validator
 * reads it (schema_pointer); remote references are not followed.
 */
static json_object *resolve_ref(json_object *root, const char *ref)
{
	char err[64];

	return ref[0] == '#' ? schema_pointer(root, ref + 1, err, sizeof err) : NULL;
}

/* Adds sch and every schema it brings along ($ref, allOf, anyOf, oneOf, if/then/else). */
static void gather(struct schemas *s, json_object *sch, int depth)
{
	static const char *const lists[] = {"allOf", "anyOf", "oneOf"};
	static const char *const single[] = {"if", "then", "else"};
	json_object *v;

	if (!json_object_is_type(sch, json_type_object))
		return; /* true/false schemas carry no markers */
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == sch)
			return; /* already here: also ends $ref cycles */
	if (s->n == SCHEMAS_MAX || depth > EXPAND_MAX || walk_spent(s->w)) {
		s->overflow = true;
		return;
	}
	s->v[s->n++] = sch;
	if (json_object_object_get_ex(sch, "$ref", &v) && json_object_is_type(v, json_type_string))
		gather(s, resolve_ref(s->w->root, json_object_get_string(v)), depth + 1);
	for (size_t i = 0; i < sizeof lists / sizeof *lists; i++)
		if (json_object_object_get_ex(sch, lists[i], &v) &&
		    json_object_is_type(v, json_type_array))
			for (size_t k = 0; k < json_object_array_length(v); k++)
				gather(s, json_object_array_get_idx(v, k), depth + 1);
	for (size_t i = 0; i < sizeof single / sizeof *single; i++)
		if (json_object_object_get_ex(sch, single[i], &v))
			gather(s, v, depth + 1);
}

static void schemas_init(struct schemas *s, struct walk *w)
{
	s->w = w;
	s->n = 0;
	s->overflow = false;
}

/*
 * Whether the ECMA-262 pattern (unanchored, as JSON Schema uses it) matches
 * key, with the validator's own translation to PCRE2 (schema_regex.c), so
 * both read a pattern alike; each pattern is compiled once per walk. A
 * pattern that does not compile, a search that runs out of its budget, and a
 * pattern past PATTERNS_MAX count as matching: their markers then apply
 * rather than be lost.
 */
static bool pattern_matches(struct walk *w, const char *pattern, const char *key)
{
	size_t i;
	char err[160];

	for (i = 0; i < w->npat && w->pat[i].src != pattern; i++)
		;
	if (i == w->npat) {
		if (w->npat == PATTERNS_MAX)
			return true;
		w->pat[i].src = pattern;
		w->pat[i].re = schema_regex_compile(pattern, strlen(pattern), err, sizeof err);
		w->pat[i].md =
		    w->pat[i].re ? pcre2_match_data_create_from_pattern(w->pat[i].re, NULL) : NULL;
		w->npat++;
	}
	if (w->pat[i].md == NULL || w->mctx == NULL)
		return true;
	return schema_regex_search(w->pat[i].re, w->mctx, w->pat[i].md, key, strlen(key)) != 0;
}

/* The schemas that apply to member key of an object the schemas in s describe. */
static void child_of_key(const struct schemas *s, const char *key, struct schemas *out)
{
	schemas_init(out, s->w);
	out->overflow = s->overflow || walk_spent(s->w);
	for (size_t i = 0; i < s->n; i++) {
		json_object *sch = s->v[i], *props, *v;
		bool matched = false;

		if (json_object_object_get_ex(sch, "properties", &props) &&
		    json_object_is_type(props, json_type_object) &&
		    json_object_object_get_ex(props, key, &v)) {
			gather(out, v, 0);
			matched = true;
		}
		if (json_object_object_get_ex(sch, "patternProperties", &props) &&
		    json_object_is_type(props, json_type_object)) {
			struct json_object_iter it;

			json_object_object_foreachC(props, it)
			{
				if (pattern_matches(s->w, it.key, key)) {
					gather(out, it.val, 0);
					matched = true;
				}
			}
		}
		/* additionalProperties describes only what the two above do not. */
		if (!matched && json_object_object_get_ex(sch, "additionalProperties", &v))
			gather(out, v, 0);
	}
}

/* The schemas that apply to element i of an array the schemas in s describe. */
static void child_of_index(const struct schemas *s, size_t i, struct schemas *out)
{
	schemas_init(out, s->w);
	out->overflow = s->overflow || walk_spent(s->w);
	for (size_t k = 0; k < s->n; k++) {
		json_object *sch = s->v[k], *prefix = NULL, *items = NULL, *more = NULL;

		json_object_object_get_ex(sch, "prefixItems", &prefix);
		json_object_object_get_ex(sch, "items", &items);
		json_object_object_get_ex(sch, "additionalItems", &more);
		if (json_object_is_type(prefix, json_type_array)) {
			/* 2020-12: prefixItems, then items for the rest. */
			if (i < json_object_array_length(prefix))
				gather(out, json_object_array_get_idx(prefix, i), 0);
			else
				gather(out, items, 0);
		} else if (json_object_is_type(items, json_type_array)) {
			/* Draft 7 tuple form: items[i], then additionalItems. */
			if (i < json_object_array_length(items))
				gather(out, json_object_array_get_idx(items, i), 0);
			else
				gather(out, more, 0);
		} else {
			gather(out, items, 0);
		}
	}
}

static bool is_true(json_object *sch, const char *kw)
{
	json_object *v;
	return json_object_object_get_ex(sch, kw, &v) &&
	       json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

/*
 * Whether value v, which the schemas in s describe, under key (NULL in an
 * array), is a secret. The name alone does not make a boolean one: a flag
 * such as "requireAuth": true hides nothing.
 */
static bool is_secret(const struct schemas *s, const char *key, json_object *v)
{
	bool shown = false; /* a schema says "sensitive": false */

	if (s->overflow)
		return true;
	for (size_t i = 0; i < s->n; i++) {
		json_object *m;

		if (is_true(s->v[i], "sensitive") || is_true(s->v[i], "writeOnly"))
			return true;
		if (json_object_object_get_ex(s->v[i], "format", &m) &&
		    json_object_is_type(m, json_type_string) &&
		    strcmp(json_object_get_string(m), "password") == 0)
			return true;
		if (json_object_object_get_ex(s->v[i], "sensitive", &m) &&
		    json_object_is_type(m, json_type_boolean) && !json_object_get_boolean(m))
			shown = true;
	}
	return key != NULL && !shown && !json_object_is_type(v, json_type_boolean) &&
	       secrets_name(key);
}

static json_object *mask(json_object *v, const struct schemas *s)
{
	struct schemas c;
	json_object *out;

	if (json_object_is_type(v, json_type_object)) {
		struct json_object_iter it;

		out = json_object_new_object();
		json_object_object_foreachC(v, it)
		{
			child_of_key(s, it.key, &c);
			json_object_object_add(out, it.key,
					       it.val != NULL && is_secret(&c, it.key, it.val)
						   ? json_object_new_string(SECRETS_MASK)
						   : mask(it.val, &c));
		}
		return out;
	}
	if (json_object_is_type(v, json_type_array)) {
		size_t n = json_object_array_length(v);

		out = json_object_new_array_ext((int)n);
		for (size_t i = 0; i < n; i++) {
			json_object *e = json_object_array_get_idx(v, i);

			child_of_index(s, i, &c);
			json_object_array_add(out, e != NULL && is_secret(&c, NULL, e)
						       ? json_object_new_string(SECRETS_MASK)
						       : mask(e, &c));
		}
		return out;
	}
	return json_object_get(v);
}

json_object *secrets_mask(json_object *config, json_object *schema)
{
	struct walk w;
	struct schemas s;
	json_object *out;

	if (!json_object_is_type(config, json_type_object))
		return json_object_new_object();
	walk_init(&w, schema);
	schemas_init(&s, &w);
	gather(&s, schema, 0);
	out = mask(config, &s);
	walk_done(&w);
	return out;
}

static bool is_mask(json_object *v)
{
	return json_object_is_type(v, json_type_string) &&
	       strcmp(json_object_get_string(v), SECRETS_MASK) == 0;
}

static json_object *unmask(json_object *sent, json_object *stored, const struct schemas *s)
{
	struct schemas c;
	json_object *out, *old;

	if (json_object_is_type(sent, json_type_object)) {
		struct json_object_iter it;

		out = json_object_new_object();
		json_object_object_foreachC(sent, it)
		{
			bool has = json_object_is_type(stored, json_type_object) &&
				   json_object_object_get_ex(stored, it.key, &old);

			child_of_key(s, it.key, &c);
			if (has && is_mask(it.val) && is_secret(&c, it.key, old))
				json_object_object_add(out, it.key, json_object_get(old));
			else
				json_object_object_add(out, it.key,
						       unmask(it.val, has ? old : NULL, &c));
		}
		return out;
	}
	if (json_object_is_type(sent, json_type_array)) {
		size_t n = json_object_array_length(sent);

		out = json_object_new_array_ext((int)n);
		for (size_t i = 0; i < n; i++) {
			json_object *e = json_object_array_get_idx(sent, i);
			bool has = json_object_is_type(stored, json_type_array) &&
				   i < json_object_array_length(stored);

			old = has ? json_object_array_get_idx(stored, i) : NULL;
			child_of_index(s, i, &c);
			if (has && is_mask(e) && is_secret(&c, NULL, old))
				json_object_array_add(out, json_object_get(old));
			else
				json_object_array_add(out, unmask(e, old, &c));
		}
		return out;
	}
	return json_object_get(sent);
}

json_object *secrets_unmask(json_object *sent, json_object *stored, json_object *schema)
{
	struct walk w;
	struct schemas s;
	json_object *out;

	if (!json_object_is_type(sent, json_type_object))
		return json_object_new_object();
	walk_init(&w, schema);
	schemas_init(&s, &w);
	gather(&s, schema, 0);
	out = unmask(sent, stored, &s);
	walk_done(&w);
	return out;
}

/* Adds text to the set (an object whose keys are the values), once. */
static void add_value(json_object *set, const char *text)
{
	if (strlen(text) < SECRETS_REDACT_MIN || json_object_object_get_ex(set, text, NULL))
		return;
	json_object_object_add(set, text, NULL);
}

/* Longest first; equal lengths in byte order, so the result does not depend on the walk. */
static int longer_first(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	size_t lx = strlen(x), ly = strlen(y);

	return lx != ly ? (lx > ly ? -1 : 1) : strcmp(x, y);
}

/* Adds the strings and numbers of v to out: all of them when secret, else those of secrets in it.
 */
static void collect(json_object *v, const struct schemas *s, bool secret, json_object *out)
{
	struct schemas c;

	switch (json_object_get_type(v)) {
	case json_type_object: {
		struct json_object_iter it;

		json_object_object_foreachC(v, it)
		{
			child_of_key(s, it.key, &c);
			collect(it.val, &c, secret || is_secret(&c, it.key, it.val), out);
		}
		return;
	}
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			child_of_index(s, i, &c);
			collect(json_object_array_get_idx(v, i), &c,
				secret || is_secret(&c, NULL, json_object_array_get_idx(v, i)),
				out);
		}
		return;
	case json_type_string:
		if (secret)
			add_value(out, json_object_get_string(v));
		return;
	case json_type_int:
	case json_type_double:
		if (secret)
			add_value(out, json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
		return;
	default:
		return;
	}
}

json_object *secrets_values(json_object *config, json_object *schema)
{
	struct walk w;
	struct schemas s;
	json_object *set = json_object_new_object(), *out = json_object_new_array();
	const char **v;
	size_t n = 0;

	walk_init(&w, schema);
	schemas_init(&s, &w);
	gather(&s, schema, 0);
	collect(config, &s, false, set);
	walk_done(&w);
	v = xcalloc((size_t)json_object_object_length(set) + 1, sizeof *v);
	{
		struct json_object_iter it;

		json_object_object_foreachC(set, it) v[n++] = it.key;
	}
	qsort(v, n, sizeof *v, longer_first);
	for (size_t i = 0; i < n && i < SECRETS_VALUES_MAX; i++)
		json_object_array_add(out, json_object_new_string(v[i]));
	free(v);
	json_object_put(set);
	return out;
}
