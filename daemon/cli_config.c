/*
 * streamspaced config check: the daemon's own configuration validation, for
 * plugin authors at their desk. The same schema code the daemon runs on
 * install and on PUT /api/plugins/config/{name}, so a config that passes here
 * passes there.
 *
 *   streamspaced config check MANIFEST [CONFIG]
 *   streamspaced config check --schema SCHEMA.json INSTANCE.json
 *
 * Exit status: 0 valid, 1 invalid (every error printed, "path: message"),
 * 2 unusable input (unreadable file, bad JSON, bad manifest, bad schema).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_config.h"
#include "json.h"
#include "manifest.h"
#include "schema.h"
#include "xmalloc.h"

#define CLI_MAX_BYTES (16 * 1024 * 1024)

enum { EXIT_VALID = 0, EXIT_INVALID = 1, EXIT_UNUSABLE = 2 };

static void usage(FILE *f)
{
	fprintf(f, "usage: streamspaced config check MANIFEST [CONFIG]\n"
		   "       streamspaced config check --schema SCHEMA.json INSTANCE.json\n"
		   "\n"
		   "Validates CONFIG (default: the manifest's defaultConfig) against the\n"
		   "manifest's configSchema, or any JSON value against any JSON Schema\n"
		   "(draft-07). Prints every error as \"path: message\".\n"
		   "Exit status: 0 valid, 1 invalid, 2 unusable input.\n");
}

/* The whole of path (at most CLI_MAX_BYTES); NULL with a message on stderr. */
static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;
	if (f == NULL) {
		fprintf(stderr, "streamspaced config: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (n == cap) {
			if (cap >= CLI_MAX_BYTES) {
				fprintf(stderr, "streamspaced config: %s: larger than %d bytes\n",
					path, CLI_MAX_BYTES);
				goto fail;
			}
			cap = cap ? cap * 2 : 65536;
			buf = xrealloc(buf, cap + 1);
		}
		size_t r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (r == 0) {
			if (ferror(f)) {
				fprintf(stderr, "streamspaced config: %s: %s\n", path,
					strerror(errno));
				goto fail;
			}
			break;
		}
	}
	fclose(f);
	buf = buf ? buf : xmalloc(1);
	buf[n] = '\0';
	*len = n;
	return buf;
fail:
	fclose(f);
	free(buf);
	return NULL;
}

/*
 * One JSON value from path, strictly (no trailing data, valid UTF-8).
 * Returns 0 with *out set (NULL is JSON null), -1 with a message on stderr.
 */
static int read_json(const char *path, json_object **out)
{
	size_t len;
	char *text = read_file(path, &len);
	int rc = -1;
	if (text == NULL)
		return -1;
	char err[JSON_ERR_MAX];
	/* As the daemon reads a config sent over HTTP: the same reader, the same depth. */
	json_object *obj = json_read(text, len, JSON_INPUT_DEPTH, err, sizeof err);
	if (obj == NULL && err[0] != '\0') {
		fprintf(stderr, "streamspaced config: %s: not valid JSON (%s)\n", path, err);
		goto out;
	}
	*out = obj;
	obj = NULL;
	rc = 0;
out:
	json_object_put(obj);
	free(text);
	return rc;
}

/* Prints every error of instance against s; the exit status. */
static int report(const struct schema *s, json_object *instance, const char *instance_name)
{
	struct schema_errors *e = schema_validate(s, instance);
	size_t n = schema_errors_count(e);
	for (size_t i = 0; i < n; i++) {
		const char *p = schema_errors_path(e, i);
		printf("%s: %s (%s)\n", p[0] ? p : "(root)", schema_errors_message(e, i),
		       schema_errors_keyword(e, i));
	}
	if (n == 0)
		printf("%s: valid\n", instance_name);
	else
		printf("%s: invalid, %zu error%s\n", instance_name, n, n == 1 ? "" : "s");
	schema_errors_free(e);
	return n == 0 ? EXIT_VALID : EXIT_INVALID;
}

/* schema_doc compiled, then report; a schema that does not compile is unusable input. */
static int check(json_object *schema_doc, const char *schema_name, json_object *instance,
		 const char *instance_name)
{
	char err[512];
	struct schema *s = schema_compile(schema_doc, err, sizeof(err));
	if (s == NULL) {
		fprintf(stderr, "streamspaced config: %s: %s\n", schema_name, err);
		return EXIT_UNUSABLE;
	}
	int rc = report(s, instance, instance_name);
	schema_free(s);
	return rc;
}

static int check_manifest(const char *manifest_path, const char *config_path)
{
	char err[512], label[512];
	size_t len;
	struct manifest *m = NULL;
	json_object *config = NULL;
	int rc = EXIT_UNUSABLE;
	char *text = read_file(manifest_path, &len);
	if (text == NULL)
		return EXIT_UNUSABLE;
	m = manifest_parse(text, len, err, sizeof(err));
	free(text);
	if (m == NULL) {
		fprintf(stderr, "streamspaced config: %s: %s\n", manifest_path, err);
		return EXIT_UNUSABLE;
	}
	if (config_path != NULL && read_json(config_path, &config) < 0)
		goto out;
	if (config_path == NULL)
		config = json_object_get(m->default_config);
	snprintf(label, sizeof(label), "%s", config_path ? config_path : "defaultConfig");
	if (m->config_schema == NULL) {
		/* No schema: anything goes, but the author should know it was not checked. */
		printf("%s: valid (the manifest has no configSchema)\n", label);
		rc = EXIT_VALID;
		goto out;
	}
	/* manifest_parse compiled it (one that does not compile failed the manifest). */
	rc = report(m->schema, config, label);
out:
	json_object_put(config);
	manifest_free(m);
	return rc;
}

int cli_config(int argc, char **argv)
{
	/* argv[0] is "config". */
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	if (argc < 3 || strcmp(argv[1], "check") != 0) {
		usage(stderr);
		return EXIT_UNUSABLE;
	}
	if (strcmp(argv[2], "--schema") == 0) {
		if (argc != 5) {
			usage(stderr);
			return EXIT_UNUSABLE;
		}
		json_object *sch = NULL, *inst = NULL;
		int rc = EXIT_UNUSABLE;
		if (read_json(argv[3], &sch) == 0 && read_json(argv[4], &inst) == 0)
			rc = check(sch, argv[3], inst, argv[4]);
		json_object_put(sch);
		json_object_put(inst);
		return rc;
	}
	if (argv[2][0] == '-' || argc > 4) {
		usage(stderr);
		return EXIT_UNUSABLE;
	}
	return check_manifest(argv[2], argc == 4 ? argv[3] : NULL);
}
