/*
 * Catalog documents and entries (catalog_entry.h). A catalog arrives from a
 * repository nobody here vouches for, so every field is type-checked and
 * bounded before anything of it is kept, and one bad entry costs only itself.
 */
#include "catalog_entry.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "minisign.h"
#include "names.h"
#include "semver.h"
#include "utf8.h"
#include "xmalloc.h"

#define TEXT_MAX 1024
#define DESCRIPTION_MAX 16384
#define URL_MAX 2048
#define TAGS_MAX 32
#define TAG_MAX 64
#define ARCH_MAX 32
#define ABI_MAX 65535
/* Nesting of a document: the array, an entry, its manifest and a configSchema. */
#define DEPTH_MAX JSON_MAX_DEPTH

/*
 * A string field: absent (NULL, fine unless required), or a string of at
 * most max bytes without NUL or control characters (newline and tab only
 * where multiline). False with a sentence.
 */
static bool get_string(json_object *obj, const char *key, size_t max, bool required, bool multiline,
		       const char **out, char *why, size_t whylen)
{
	json_object *v;
	const char *s;
	size_t n;

	*out = NULL;
	if (!json_object_object_get_ex(obj, key, &v) || v == NULL) {
		if (required)
			snprintf(why, whylen, "%s is missing", key);
		return !required;
	}
	if (!json_object_is_type(v, json_type_string)) {
		snprintf(why, whylen, "%s must be a string", key);
		return false;
	}
	s = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if (n > max) {
		snprintf(why, whylen, "%s is longer than %zu bytes", key, max);
		return false;
	}
	if (strlen(s) != n || !utf8_valid((const unsigned char *)s, n)) {
		snprintf(why, whylen, "%s holds a NUL byte or malformed UTF-8", key);
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && !(multiline && (c == '\n' || c == '\t'))) || c == 0x7f) {
			snprintf(why, whylen, "%s holds a control character", key);
			return false;
		}
	}
	if (required && n == 0) {
		snprintf(why, whylen, "%s is empty", key);
		return false;
	}
	*out = s;
	return true;
}

static bool has_scheme(const char *u)
{
	return strncmp(u, "https://", 8) == 0 || strncmp(u, "http://", 7) == 0 ||
	       strncmp(u, "file://", 7) == 0;
}

/*
 * A downloadUrl: absolute with one of our schemes, or a relative path of
 * [A-Za-z0-9._~/-] segments, none of them empty, "." or "..", so resolving
 * it can only go below the repository.
 */
static bool url_ok(const char *u)
{
	const char *seg;

	if (has_scheme(u))
		return strchr(u, ' ') == NULL;
	if (strstr(u, "://") != NULL || u[0] == '/' || u[0] == '\0')
		return false;
	seg = u;
	for (const char *p = u;; p++) {
		if (*p == '/' || *p == '\0') {
			size_t n = (size_t)(p - seg);

			if (n == 0 || (n == 1 && seg[0] == '.') ||
			    (n == 2 && seg[0] == '.' && seg[1] == '.'))
				return false;
			if (*p == '\0')
				return true;
			seg = p + 1;
		} else if (!isalnum((unsigned char)*p) && strchr("._~-", *p) == NULL) {
			return false;
		}
	}
}

static bool hex64(const char *s)
{
	if (strlen(s) != 64)
		return false;
	for (int i = 0; i < 64; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

static bool arch_ok(const char *a)
{
	if (a[0] == '\0')
		return false;
	for (const char *p = a; *p; p++)
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '_')
			return false;
	return true;
}

static bool get_tags(json_object *obj, json_object **out, char *why, size_t whylen)
{
	json_object *v;
	size_t n;

	*out = NULL;
	if (!json_object_object_get_ex(obj, "tags", &v) || v == NULL) {
		*out = json_object_new_array();
		return true;
	}
	if (!json_object_is_type(v, json_type_array)) {
		snprintf(why, whylen, "tags must be an array of strings");
		return false;
	}
	n = json_object_array_length(v);
	if (n > TAGS_MAX) {
		snprintf(why, whylen, "more than %d tags", TAGS_MAX);
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		json_object *t = json_object_array_get_idx(v, i);
		json_object *wrap = json_object_new_object();
		const char *s;
		bool ok;

		/* The string rules of the other fields, through a one-key object. */
		json_object_object_add(wrap, "tag", json_object_get(t));
		ok = get_string(wrap, "tag", TAG_MAX, true, false, &s, why, whylen);
		json_object_put(wrap);
		if (!ok)
			return false;
	}
	*out = json_object_get(v);
	return true;
}

static bool get_abi(json_object *obj, int *out, char *why, size_t whylen)
{
	json_object *v;
	int64_t x;

	*out = 0;
	if (!json_object_object_get_ex(obj, "abi", &v) || v == NULL)
		return true;
	if (!json_object_is_type(v, json_type_int)) {
		snprintf(why, whylen, "abi must be an integer");
		return false;
	}
	x = json_object_get_int64(v);
	if (x < 1 || x > ABI_MAX) {
		snprintf(why, whylen, "abi must be between 1 and %d", ABI_MAX);
		return false;
	}
	*out = (int)x;
	return true;
}

static bool get_manifest(json_object *obj, const char *name, json_object **out, char *why,
			 size_t whylen)
{
	json_object *v, *mname;

	*out = NULL;
	if (!json_object_object_get_ex(obj, "manifest", &v) || v == NULL)
		return true;
	if (!json_object_is_type(v, json_type_object)) {
		snprintf(why, whylen, "manifest must be an object");
		return false;
	}
	if (json_object_object_get_ex(v, "name", &mname) &&
	    (!json_object_is_type(mname, json_type_string) ||
	     strcmp(json_object_get_string(mname), name) != 0)) {
		snprintf(why, whylen, "manifest names another plugin than the entry");
		return false;
	}
	*out = v;
	return true;
}

void catalog_entry_clear(struct catalog_entry *e)
{
	if (e == NULL)
		return;
	json_object_put(e->tags);
	json_object_put(e->json);
	memset(e, 0, sizeof *e);
}

bool catalog_entry_parse(json_object *obj, struct catalog_entry *e, char *why, size_t whylen)
{
	struct catalog_entry t = {0};

	memset(e, 0, sizeof *e);
	if (!json_object_is_type(obj, json_type_object)) {
		snprintf(why, whylen, "an entry must be a JSON object");
		return false;
	}
	if (!get_string(obj, "name", SS_NAME_MAX, true, false, &t.name, why, whylen))
		return false;
	if (!name_plugin_valid(t.name)) {
		snprintf(why, whylen, "name must match [a-z0-9][a-z0-9-]{0,62}");
		return false;
	}
	if (!get_string(obj, "version", SEMVER_MAX, true, false, &t.version, why, whylen))
		return false;
	if (!semver_valid(t.version)) {
		snprintf(why, whylen, "version is not a semantic version (MAJOR.MINOR.PATCH)");
		return false;
	}
	if (!get_string(obj, "displayName", TEXT_MAX, false, false, &t.display_name, why, whylen) ||
	    !get_string(obj, "description", DESCRIPTION_MAX, false, true, &t.description, why,
			whylen) ||
	    !get_string(obj, "author", TEXT_MAX, false, false, &t.author, why, whylen) ||
	    !get_string(obj, "category", TEXT_MAX, false, false, &t.category, why, whylen) ||
	    !get_string(obj, "type", TEXT_MAX, false, false, &t.type, why, whylen) ||
	    !get_string(obj, "iconUrl", URL_MAX, false, false, &t.icon_url, why, whylen) ||
	    !get_string(obj, "downloadUrl", URL_MAX, false, false, &t.download_url, why, whylen) ||
	    !get_string(obj, "sha256", 64, false, false, &t.sha256, why, whylen) ||
	    !get_string(obj, "arch", ARCH_MAX, false, false, &t.arch, why, whylen) ||
	    !get_string(obj, "signature", MINISIGN_SIG_MAX, false, true, &t.signature, why, whylen))
		return false;
	if (t.download_url != NULL && !url_ok(t.download_url)) {
		snprintf(why, whylen,
			 "downloadUrl must be http(s)://, file:// or a relative path without "
			 "'.' or '..' segments");
		return false;
	}
	if (t.sha256 != NULL && !hex64(t.sha256)) {
		snprintf(why, whylen, "sha256 must be 64 hexadecimal digits");
		return false;
	}
	if (t.arch != NULL && strcmp(t.arch, "any") == 0) {
		snprintf(why, whylen,
			 "arch \"any\" is refused: a shared object runs on one architecture");
		return false;
	}
	if (t.arch != NULL && !arch_ok(t.arch)) {
		snprintf(why, whylen, "arch must be a machine name such as x86_64 or aarch64");
		return false;
	}
	if (t.signature != NULL && !minisign_signature_wellformed(t.signature, why, whylen))
		return false;
	if (!get_abi(obj, &t.abi, why, whylen) ||
	    !get_manifest(obj, t.name, &t.manifest, why, whylen) ||
	    !get_tags(obj, &t.tags, why, whylen))
		return false;
	t.json = json_object_get(obj);
	*e = t;
	return true;
}

bool catalog_entry_installable(const struct catalog_entry *e, int abi, const char *arch,
			       struct pkg_error *err)
{
	char subject[SS_NAME_MAX + SEMVER_MAX + 2];

	snprintf(subject, sizeof subject, "%s %s", e->name, e->version);
	if (e->sha256 == NULL) {
		pkg_error_set(err, "sha256", subject,
			      "the catalog gives no sha256, which an install requires");
		return false;
	}
	if (e->download_url == NULL) {
		pkg_error_set(err, "download", subject, "the catalog gives no downloadUrl");
		return false;
	}
	if (e->abi != abi) {
		if (e->abi == 0)
			pkg_error_set(err, "abi", subject,
				      "the catalog gives no abi (this daemon runs SDK ABI %d)",
				      abi);
		else
			pkg_error_set(err, "abi", subject,
				      "built for SDK ABI %d; this daemon runs SDK ABI %d", e->abi,
				      abi);
		return false;
	}
	if (e->arch == NULL || strcmp(e->arch, arch) != 0) {
		pkg_error_set(err, "arch", subject, "built for %s; this daemon runs on %s",
			      e->arch ? e->arch : "an unstated architecture", arch);
		return false;
	}
	return true;
}

static bool is_prerelease(const char *v)
{
	const char *plus = strchr(v, '+');
	const char *dash = strchr(v, '-');

	return dash != NULL && (plus == NULL || dash < plus);
}

const struct catalog_entry *catalog_select(const struct catalog_entry *entries, size_t n,
					   const char *name, const char *version, int abi,
					   const char *arch, struct pkg_error *err)
{
	const struct catalog_entry *best = NULL, *best_pre = NULL, *newest = NULL;

	if (version != NULL && !semver_valid(version)) {
		pkg_error_set(err, "version", name, "\"%s\" is not a semantic version", version);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		const struct catalog_entry *e = &entries[i];
		const struct catalog_entry **slot;

		if (strcmp(e->name, name) != 0 ||
		    (version != NULL && semver_compare(e->version, version) != 0))
			continue;
		if (newest == NULL || semver_compare(e->version, newest->version) > 0)
			newest = e;
		if (!catalog_entry_installable(e, abi, arch, NULL))
			continue;
		slot = is_prerelease(e->version) ? &best_pre : &best;
		if (*slot == NULL || semver_compare(e->version, (*slot)->version) > 0)
			*slot = e;
	}
	if (best == NULL)
		best = best_pre;
	if (best != NULL) {
		pkg_error_clear(err);
		return best;
	}
	if (newest == NULL) {
		if (version != NULL)
			pkg_error_set(err, "not-found", name, "no version %s in the catalog",
				      version);
		else
			pkg_error_set(err, "not-found", name, "no such plugin in the catalog");
		return NULL;
	}
	/* Say why the newest candidate cannot be installed. */
	catalog_entry_installable(newest, abi, arch, err);
	return NULL;
}

/* By name, then newest version first, then document order. */
static int entry_order(const void *pa, const void *pb)
{
	const struct catalog_entry *a = pa, *b = pb;
	int c = strcmp(a->name, b->name);

	if (c == 0)
		c = -semver_compare(a->version, b->version);
	if (c == 0)
		c = (a->index > b->index) - (a->index < b->index);
	return c;
}

static void add_problem(struct catalog *c, size_t index, const char *name, const char *why)
{
	struct catalog_problem *p;

	c->n_skipped++;
	if (c->n_problems == CATALOG_MAX_PROBLEMS)
		return;
	p = &c->problems[c->n_problems++];
	p->index = index;
	snprintf(p->name, sizeof p->name, "%s", name ? name : "");
	snprintf(p->message, sizeof p->message, "%s", why);
}

/* The entry's "name" when it is a valid plugin name, for reporting a bad entry. */
static const char *name_of(json_object *obj)
{
	json_object *v;
	const char *s;

	if (!json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, "name", &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	s = json_object_get_string(v);
	return name_plugin_valid(s) ? s : NULL;
}

struct catalog *catalog_parse(const char *bytes, size_t len, const struct catalog_limits *limits,
			      struct pkg_error *err)
{
	size_t max_bytes = CATALOG_MAX_BYTES_DEFAULT, max_entries = CATALOG_MAX_ENTRIES_DEFAULT;
	json_object *doc = NULL, *list = NULL;
	struct catalog *c = NULL;
	size_t n, kept = 0;
	char jerr[JSON_ERR_MAX];

	pkg_error_clear(err);
	if (limits != NULL && limits->max_bytes != 0)
		max_bytes = limits->max_bytes;
	if (limits != NULL && limits->max_entries != 0)
		max_entries = limits->max_entries;
	/* json-c takes an int length; the limit keeps far below it. */
	if (len > max_bytes || len > (size_t)INT32_MAX) {
		pkg_error_set(err, "catalog", NULL, "the catalog is larger than %zu bytes",
			      max_bytes);
		return NULL;
	}
	doc = json_read(bytes, len, DEPTH_MAX, jerr, sizeof jerr);
	if (doc == NULL) {
		pkg_error_set(err, "catalog", NULL, "the catalog is not valid JSON: %s",
			      jerr[0] ? jerr : "a JSON null");
		return NULL;
	}
	if (json_object_is_type(doc, json_type_array))
		list = doc;
	else if (!json_object_is_type(doc, json_type_object) ||
		 !json_object_object_get_ex(doc, "plugins", &list) ||
		 !json_object_is_type(list, json_type_array)) {
		pkg_error_set(err, "catalog", NULL,
			      "the catalog must be an array of entries or {\"plugins\": [...]}");
		goto fail;
	}
	n = json_object_array_length(list);
	if (n > max_entries) {
		pkg_error_set(err, "catalog", NULL, "the catalog has %zu entries, more than %zu", n,
			      max_entries);
		goto fail;
	}
	c = xcalloc(1, sizeof *c);
	c->entries = xcalloc(n ? n : 1, sizeof *c->entries);
	for (size_t i = 0; i < n; i++) {
		json_object *obj = json_object_array_get_idx(list, i);
		char why[256];

		if (!catalog_entry_parse(obj, &c->entries[kept], why, sizeof why)) {
			add_problem(c, i, name_of(obj), why);
			continue;
		}
		c->entries[kept++].index = i;
	}
	qsort(c->entries, kept, sizeof *c->entries, entry_order);
	/* Equal precedence under one name: the first in the document stays. */
	c->n_entries = 0;
	for (size_t i = 0; i < kept; i++) {
		struct catalog_entry *e = &c->entries[i];

		if (c->n_entries > 0) {
			struct catalog_entry *prev = &c->entries[c->n_entries - 1];

			if (strcmp(prev->name, e->name) == 0 &&
			    semver_compare(prev->version, e->version) == 0) {
				char why[256];

				snprintf(why, sizeof why, "version %s repeats entry %zu's %s",
					 e->version, prev->index, prev->version);
				add_problem(c, e->index, e->name, why);
				catalog_entry_clear(e);
				continue;
			}
		}
		if (&c->entries[c->n_entries] != e) {
			c->entries[c->n_entries] = *e;
			memset(e, 0, sizeof *e);
		}
		c->n_entries++;
	}
	json_object_put(doc);
	return c;
fail:
	json_object_put(doc);
	return NULL;
}

void catalog_free(struct catalog *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n_entries; i++)
		catalog_entry_clear(&c->entries[i]);
	free(c->entries);
	free(c);
}

const char *catalog_host_arch(void)
{
#if defined(__x86_64__)
	return "x86_64";
#elif defined(__aarch64__)
	return "aarch64";
#elif defined(__i386__)
	return "i686";
#elif defined(__arm__)
	return "armv7l";
#elif defined(__riscv) && __riscv_xlen == 64
	return "riscv64";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return "ppc64le";
#elif defined(__s390x__)
	return "s390x";
#else
#error "catalog_host_arch: unknown architecture; add its uname -m name"
#endif
}

char *catalog_resolve_url(const char *repo_url, const char *download_url)
{
	size_t n = strlen(repo_url);

	if (has_scheme(download_url))
		return xstrdup(download_url);
	while (n > 0 && repo_url[n - 1] == '/')
		n--;
	return xasprintf("%.*s/%s", (int)n, repo_url, download_url);
}
