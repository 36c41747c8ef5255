/*
 * manifest.json, as the guide and the original's manifests define it. A
 * manifest arrives from a plugin directory or a downloaded package, so it is
 * untrusted input: every field is type-checked and bounded here, once.
 */
#include "manifest.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cron.h"
#include "fileread.h"
#include "jobs.h"
#include "json.h"
#include "names.h"
#include "schema.h"
#include "xmalloc.h"

#define TEXT_MAX 4096
#define DESCRIPTION_MAX 16384
#define TAGS_MAX 32
#define TAG_MAX 64
#define PERMISSIONS_MAX 32

bool manifest_version_valid(const char *v)
{
	size_t n;

	if (v == NULL || !isdigit((unsigned char)v[0]))
		return false;
	n = strlen(v);
	if (n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)v[i]) && v[i] != '.' && v[i] != '-' && v[i] != '+')
			return false;
	return true;
}

/*
 * The permissions the daemon knows (PROTOCOL.md, "Permissions"): a closed
 * list, so that a manifest asking for something the daemon cannot enforce
 * is refused at install instead of silently meaning nothing.
 */
static const char *const permissions[] = {
    "network",	     "storage",	   "routes",	     "scheduler",   "admin",
    "read:sessions", "read:users", "write:sessions", "write:users",
};

bool manifest_permission_valid(const char *p)
{
	if (p == NULL)
		return false;
	for (size_t i = 0; i < sizeof permissions / sizeof permissions[0]; i++)
		if (strcmp(p, permissions[i]) == 0)
			return true;
	return false;
}

/* An optional string field: absent is fine, anything but a bounded string is not. */
static int opt_string(json_object *obj, const char *key, size_t max, const char **out, char *err,
		      size_t errlen)
{
	json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(obj, key, &v) || v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_string)) {
		snprintf(err, errlen, "manifest: \"%s\" must be a string", key);
		return -1;
	}
	if ((size_t)json_object_get_string_len(v) > max) {
		snprintf(err, errlen, "manifest: \"%s\" is longer than %zu bytes", key, max);
		return -1;
	}
	*out = json_object_get_string(v);
	return 0;
}

/*
 * An allowedHosts entry: a DNS name in lower case ("hooks.slack.com"), or
 * "*." and one ("*.example.com": every name under it). Matching is
 * egressreq's; this only keeps what could never match out of a manifest.
 */
static bool host_pattern_valid(const char *h)
{
	size_t label = 0;

	if (strncmp(h, "*.", 2) == 0)
		h += 2;
	if (*h == '\0' || *h == '.')
		return false;
	for (; *h != '\0'; h++) {
		if (*h == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if ((*h >= 'a' && *h <= 'z') || (*h >= '0' && *h <= '9') || *h == '-') {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return label > 0;
}

/* An optional array of bounded strings, each accepted by ok (NULL: any). */
static int opt_strings(json_object *obj, const char *key, size_t max_items, size_t max_len,
		       bool (*ok)(const char *), json_object **out, char *err, size_t errlen)
{
	json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(obj, key, &v) || v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_array)) {
		snprintf(err, errlen, "manifest: \"%s\" must be an array of strings", key);
		return -1;
	}
	if (json_object_array_length(v) > max_items) {
		snprintf(err, errlen, "manifest: \"%s\" has more than %zu entries", key, max_items);
		return -1;
	}
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		json_object *s = json_object_array_get_idx(v, i);

		if (!json_object_is_type(s, json_type_string) ||
		    (size_t)json_object_get_string_len(s) > max_len ||
		    json_object_get_string_len(s) == 0) {
			snprintf(err, errlen,
				 "manifest: \"%s\"[%zu] must be a string of 1 to %zu bytes", key, i,
				 max_len);
			return -1;
		}
		if (ok && !ok(json_object_get_string(s))) {
			snprintf(err, errlen, "manifest: \"%s\"[%zu] \"%s\" is not known", key, i,
				 json_object_get_string(s));
			return -1;
		}
	}
	*out = v;
	return 0;
}

static int opt_object(json_object *obj, const char *key, json_object **out, char *err,
		      size_t errlen)
{
	json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(obj, key, &v) || v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_object)) {
		snprintf(err, errlen, "manifest: \"%s\" must be an object", key);
		return -1;
	}
	*out = v;
	return 0;
}

/* One integer member of "limits" within [min, max]; 0 when absent. */
static int limit_int(json_object *limits, const char *key, int64_t min, int64_t max, int64_t *out,
		     char *err, size_t errlen)
{
	json_object *v;

	*out = 0;
	if (!json_object_object_get_ex(limits, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < min ||
	    json_object_get_int64(v) > max) {
		snprintf(err, errlen, "manifest: limits.%s must be an integer from %lld to %lld",
			 key, (long long)min, (long long)max);
		return -1;
	}
	*out = json_object_get_int64(v);
	return 0;
}

/* "limits": known keys only, each within its range. */
static int parse_limits(struct manifest *m, json_object *limits, char *err, size_t errlen)
{
	int64_t mem, ev, hs;

	struct json_object_iter it;

	json_object_object_foreachC(limits, it)
	{
		if (strcmp(it.key, "memoryMB") != 0 && strcmp(it.key, "eventTimeoutMs") != 0 &&
		    strcmp(it.key, "handshakeTimeoutMs") != 0) {
			snprintf(err, errlen, "manifest: unknown limit \"%.64s\"", it.key);
			return -1;
		}
	}
	if (limit_int(limits, "memoryMB", 16, 16384, &mem, err, errlen) < 0 ||
	    limit_int(limits, "eventTimeoutMs", 10, 600000, &ev, err, errlen) < 0 ||
	    limit_int(limits, "handshakeTimeoutMs", 10, 600000, &hs, err, errlen) < 0)
		return -1;
	m->mem_limit = (uint64_t)mem << 20;
	m->event_timeout_ms = (int)ev;
	m->handshake_timeout_ms = (int)hs;
	return 0;
}

/* Whether perms (an array of strings) holds perm or "admin". */
static bool has_permission(json_object *perms, const char *perm)
{
	for (size_t i = 0; perms != NULL && i < json_object_array_length(perms); i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(perms, i));
		if (s != NULL && (strcmp(s, perm) == 0 || strcmp(s, "admin") == 0))
			return true;
	}
	return false;
}

/*
 * "scheduler": {"jobs": [{"name", "schedule", "description"}]}: each job
 * named once and validly, on a schedule that parses and can fire (the same
 * check the daemon makes of ss_every and ss_cron), with the scheduler
 * permission. The first problem is the manifest's error, naming the job.
 */
static int parse_scheduler(struct manifest *m, json_object *sched, char *err, size_t errlen)
{
	struct json_object_iter it;
	json_object *jobs = NULL;
	size_t n;

	json_object_object_foreachC(sched, it)
	{
		if (strcmp(it.key, "jobs") != 0) {
			snprintf(err, errlen, "manifest: unknown scheduler field \"%.64s\"",
				 it.key);
			return -1;
		}
	}
	if (!json_object_object_get_ex(sched, "jobs", &jobs) || jobs == NULL)
		return 0;
	if (!json_object_is_type(jobs, json_type_array) ||
	    (n = json_object_array_length(jobs)) > JOBS_MAX) {
		snprintf(err, errlen,
			 "manifest: scheduler.jobs must be an array of at most %d jobs", JOBS_MAX);
		return -1;
	}
	if (n > 0 && !has_permission(m->permissions, "scheduler")) {
		snprintf(err, errlen,
			 "manifest: scheduler.jobs needs the \"scheduler\" permission in "
			 "\"permissions\"");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		json_object *j = json_object_array_get_idx(jobs, i);
		const char *name = NULL, *schedule = NULL, *desc = NULL;
		struct cron c;
		char why[256];

		if (!json_object_is_type(j, json_type_object)) {
			snprintf(err, errlen, "manifest: scheduler.jobs[%zu] must be an object", i);
			return -1;
		}
		json_object_object_foreachC(j, it)
		{
			if (strcmp(it.key, "name") != 0 && strcmp(it.key, "schedule") != 0 &&
			    strcmp(it.key, "description") != 0) {
				snprintf(err, errlen,
					 "manifest: scheduler.jobs[%zu]: unknown field \"%.64s\"",
					 i, it.key);
				return -1;
			}
		}
		if (opt_string(j, "name", JOB_NAME_MAX, &name, err, errlen) < 0 ||
		    opt_string(j, "schedule", 256, &schedule, err, errlen) < 0 ||
		    opt_string(j, "description", JOB_DESCRIPTION_MAX, &desc, err, errlen) < 0)
			return -1;
		if (!jobs_name_valid(name)) {
			snprintf(err, errlen,
				 "manifest: scheduler.jobs[%zu].name must match "
				 "^[a-z0-9][a-z0-9_.-]{0,62}$",
				 i);
			return -1;
		}
		for (size_t k = 0; k < i; k++) {
			const char *other = json_object_get_string(
			    json_object_object_get(json_object_array_get_idx(jobs, k), "name"));
			if (strcmp(other, name) == 0) {
				snprintf(err, errlen,
					 "manifest: scheduler.jobs: \"%s\" is declared twice",
					 name);
				return -1;
			}
		}
		if (schedule == NULL) {
			snprintf(err, errlen,
				 "manifest: scheduler.jobs[%zu] \"%s\": schedule is missing", i,
				 name);
			return -1;
		}
		if (cron_parse(schedule, &c, why, sizeof why) < 0) {
			snprintf(err, errlen,
				 "manifest: scheduler.jobs[%zu] \"%s\": schedule \"%.64s\": %s", i,
				 name, schedule, why);
			return -1;
		}
	}
	m->jobs = jobs;
	return 0;
}

/* entrypoints.main names a shared object in the plugin's own directory. */
static bool entry_valid(const char *s)
{
	size_t n = strlen(s);

	if (n < 4 || n > 255 || strcmp(s + n - 3, ".so") != 0 || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '-' && s[i] != '_')
			return false;
	return true;
}

struct manifest *manifest_from_json(json_object *obj, char *err, size_t errlen)
{
	struct manifest *m = xcalloc(1, sizeof *m);
	json_object *entry = NULL, *limits = NULL, *sched = NULL, *v;

	m->json = json_object_get(obj);
	if (!json_object_is_type(obj, json_type_object)) {
		snprintf(err, errlen, "manifest: not a JSON object");
		goto fail;
	}
	if (opt_string(obj, "name", SS_NAME_MAX, &m->name, err, errlen) < 0)
		goto fail;
	if (m->name == NULL || !name_plugin_valid(m->name)) {
		snprintf(err, errlen,
			 "manifest: \"name\" must match ^[a-z0-9][a-z0-9-]{0,62}$ and not be "
			 "\"marketplace\"");
		goto fail;
	}
	if (opt_string(obj, "version", 64, &m->version, err, errlen) < 0)
		goto fail;
	if (!manifest_version_valid(m->version)) {
		snprintf(err, errlen, "manifest: \"version\" must be a version such as 1.2.3");
		goto fail;
	}
	if (opt_string(obj, "displayName", 256, &m->display_name, err, errlen) < 0 ||
	    opt_string(obj, "description", DESCRIPTION_MAX, &m->description, err, errlen) < 0 ||
	    opt_string(obj, "author", 256, &m->author, err, errlen) < 0 ||
	    opt_string(obj, "license", 256, &m->license, err, errlen) < 0 ||
	    opt_string(obj, "homepage", TEXT_MAX, &m->homepage, err, errlen) < 0 ||
	    opt_string(obj, "icon", TEXT_MAX, &m->icon, err, errlen) < 0 ||
	    opt_string(obj, "type", 64, &m->type, err, errlen) < 0 ||
	    opt_string(obj, "category", 128, &m->category, err, errlen) < 0)
		goto fail;
	if (opt_strings(obj, "tags", TAGS_MAX, TAG_MAX, NULL, &m->tags, err, errlen) < 0 ||
	    opt_strings(obj, "permissions", PERMISSIONS_MAX, 64, manifest_permission_valid,
			&m->permissions, err, errlen) < 0 ||
	    opt_strings(obj, "allowedHosts", 256, 253, host_pattern_valid, &m->allowed_hosts, err,
			errlen) < 0)
		goto fail;
	if (opt_object(obj, "configSchema", &m->config_schema, err, errlen) < 0 ||
	    opt_object(obj, "defaultConfig", &m->default_config, err, errlen) < 0 ||
	    opt_object(obj, "requirements", &m->requirements, err, errlen) < 0 ||
	    opt_object(obj, "entrypoints", &entry, err, errlen) < 0 ||
	    opt_object(obj, "limits", &limits, err, errlen) < 0 ||
	    opt_object(obj, "scheduler", &sched, err, errlen) < 0)
		goto fail;
	if (limits != NULL && parse_limits(m, limits, err, errlen) < 0)
		goto fail;
	if (sched != NULL && parse_scheduler(m, sched, err, errlen) < 0)
		goto fail;
	if (m->config_schema) {
		if (json_object_object_get_ex(m->config_schema, "type", &v) &&
		    (!json_object_is_type(v, json_type_string) ||
		     strcmp(json_object_get_string(v), "object") != 0)) {
			snprintf(err, errlen, "manifest: configSchema.type must be \"object\"");
			goto fail;
		}
		if (json_object_object_get_ex(m->config_schema, "properties", &v) &&
		    !json_object_is_type(v, json_type_object)) {
			snprintf(err, errlen,
				 "manifest: configSchema.properties must be an object");
			goto fail;
		}
		/* Compiled once per manifest: install and every config change reuse it. */
		char why[384];
		m->schema = schema_compile(m->config_schema, why, sizeof why);
		if (m->schema == NULL) {
			snprintf(err, errlen, "manifest: configSchema: %s", why);
			goto fail;
		}
	}
	if (entry && opt_string(entry, "main", 255, &m->entry_main, err, errlen) < 0)
		goto fail;
	if (m->entry_main == NULL) {
		m->entry_default = xasprintf("%s.so", m->name);
		m->entry_main = m->entry_default;
	} else if (!entry_valid(m->entry_main)) {
		snprintf(err, errlen,
			 "manifest: entrypoints.main must be a file name ending in .so in the "
			 "plugin's directory");
		goto fail;
	}
	if (m->tags == NULL) {
		m->tags = json_object_new_array();
		json_object_object_add(obj, "tags", m->tags);
	}
	if (m->permissions == NULL) {
		m->permissions = json_object_new_array();
		json_object_object_add(obj, "permissions", m->permissions);
	}
	if (m->default_config == NULL) {
		m->default_config = json_object_new_object();
		json_object_object_add(obj, "defaultConfig", m->default_config);
	}
	return m;
fail:
	manifest_free(m);
	return NULL;
}

struct manifest *manifest_parse(const char *text, size_t len, char *err, size_t errlen)
{
	char why[JSON_ERR_MAX];
	json_object *obj;
	struct manifest *m;

	if (len > MANIFEST_MAX_BYTES) {
		snprintf(err, errlen, "manifest: larger than %d bytes", MANIFEST_MAX_BYTES);
		return NULL;
	}
	/*
	 * JSON_INPUT_DEPTH: a manifest's defaultConfig becomes a plugin's config,
	 * stored in a row and sent in frames, so it needs the same room as an
	 * HTTP body.
	 */
	obj = json_read_object(text, len, JSON_INPUT_DEPTH, why, sizeof why);
	if (obj == NULL) {
		snprintf(err, errlen, "manifest: not valid JSON (%s)", why);
		return NULL;
	}
	m = manifest_from_json(obj, err, errlen);
	json_object_put(obj);
	return m;
}

void manifest_free(struct manifest *m)
{
	if (m == NULL)
		return;
	schema_free(m->schema);
	json_object_put(m->json);
	free(m->entry_default);
	free(m);
}

json_object *manifest_merge_config(json_object *defaults, json_object *config)
{
	json_object *out = json_object_new_object();

	if (json_object_is_type(defaults, json_type_object)) {
		struct json_object_iter it;

		json_object_object_foreachC(defaults, it)
		    json_object_object_add(out, it.key, json_object_get(it.val));
	}
	if (json_object_is_type(config, json_type_object)) {
		struct json_object_iter it;

		json_object_object_foreachC(config, it)
		    json_object_object_add(out, it.key, json_object_get(it.val));
	}
	return out;
}

/*
 * The one way a manifest file is read. The path is plugin-controlled: it may
 * be a FIFO, a symlink, a device or a huge file (file_read_regular reads a
 * regular file of bounded size only).
 */
struct manifest *manifest_read_file(const char *path, char *err, size_t errlen)
{
	size_t len;
	char *buf = file_read_regular(path, MANIFEST_MAX_BYTES, &len, NULL, err, errlen);
	struct manifest *m;

	if (buf == NULL)
		return NULL;
	m = manifest_parse(buf, len, err, errlen);
	free(buf);
	return m;
}
