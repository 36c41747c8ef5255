/*
 * Runs the official JSON-Schema-Test-Suite's draft-07 files (Debian package
 * json-schema-test-suite) against schema.c: every file under DIR, its
 * optional/ and optional/format/ folders, every group and every case.
 *
 *   schema_suite DIR
 *
 * Prints "file: passed/total" per file and fails when any case fails, when a
 * group's schema does not compile, or when a skip below no longer matches
 * anything. What is skipped is listed here, once, with the reason (README's
 * "What is not supported" repeats it); everything else must pass.
 */
#include <dirent.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "schema.h"

static struct skip {
	const char *file;
	const char *group; /* NULL: the whole file */
	const char *reason;
	int used;
} skips[] = {
    {"refRemote.json", NULL, "remote references (http://localhost:1234/...) are never fetched", 0},
    {"ref.json", "remote ref, containing refs itself",
     "references the draft-07 metaschema by URL: remote references are never fetched", 0},
    {"definitions.json", NULL,
     "validates against the draft-07 metaschema by URL: remote references are never fetched", 0},
    {"optional/content.json", NULL,
     "contentMediaType and contentEncoding are annotations (draft-07 8.1 lets them be)", 0},
    {"optional/format/idn-email.json", NULL,
     "idn-email needs IDNA (RFC 5891) tables: an annotation here", 0},
    {"optional/format/idn-hostname.json", NULL,
     "idn-hostname needs IDNA (RFC 5891) tables: an annotation here", 0},
};
#define NSKIPS (sizeof(skips) / sizeof(skips[0]))

static struct skip *find_skip(const char *file, const char *group)
{
	for (size_t i = 0; i < NSKIPS; i++)
		if (strcmp(skips[i].file, file) == 0 &&
		    (skips[i].group == NULL || strcmp(skips[i].group, group) == 0))
			return &skips[i];
	return NULL;
}

static int total_pass, total_cases, total_skipped, failures;

static void run_file(const char *dir, const char *rel)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	/* Read as the daemon reads a manifest or a config: proto/json's reader. */
	char jerr[JSON_ERR_MAX] = "";
	json_object *groups = NULL;
	FILE *f = fopen(path, "rb");
	if (f != NULL) {
		static char text[4 << 20];
		size_t n = fread(text, 1, sizeof(text), f);
		fclose(f);
		groups = json_read(text, n, JSON_MAX_DEPTH, jerr, sizeof(jerr));
	}
	if (!json_object_is_type(groups, json_type_array)) {
		printf("%s: cannot read: %s\n", rel, f ? jerr : "cannot open");
		failures++;
		json_object_put(groups);
		return;
	}
	int pass = 0, cases = 0, skipped = 0;
	for (size_t g = 0; g < json_object_array_length(groups); g++) {
		json_object *grp = json_object_array_get_idx(groups, g), *desc, *sch, *tests;
		json_object_object_get_ex(grp, "description", &desc);
		json_object_object_get_ex(grp, "schema", &sch);
		json_object_object_get_ex(grp, "tests", &tests);
		const char *gname = json_object_get_string(desc);
		size_t ntests = json_object_array_length(tests);
		struct skip *sk = find_skip(rel, gname);
		if (sk != NULL) {
			sk->used = 1;
			skipped += (int)ntests;
			continue;
		}
		char err[512];
		struct schema *s = schema_compile(sch, err, sizeof(err));
		if (s == NULL) {
			printf("  FAIL %s / %s: does not compile: %s\n", rel, gname, err);
			cases += (int)ntests;
			failures += (int)ntests;
			continue;
		}
		for (size_t t = 0; t < ntests; t++) {
			json_object *tc = json_object_array_get_idx(tests, t), *data, *valid, *td;
			json_object_object_get_ex(tc, "data", &data);
			json_object_object_get_ex(tc, "valid", &valid);
			json_object_object_get_ex(tc, "description", &td);
			struct schema_errors *e = schema_validate(s, data);
			bool got = schema_errors_count(e) == 0;
			cases++;
			if (got == json_object_get_boolean(valid)) {
				pass++;
			} else {
				failures++;
				printf("  FAIL %s / %s / %s: expected %s, got %s", rel, gname,
				       json_object_get_string(td), got ? "invalid" : "valid",
				       got ? "valid" : "invalid");
				if (!got)
					printf(" (%s: %s)", schema_errors_path(e, 0),
					       schema_errors_message(e, 0));
				printf("\n");
			}
			schema_errors_free(e);
		}
		schema_free(s);
	}
	printf("%s: %d/%d passed", rel, pass, cases);
	if (skipped)
		printf(", %d skipped", skipped);
	printf("\n");
	total_pass += pass;
	total_cases += cases;
	total_skipped += skipped;
	json_object_put(groups);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.json directly in dir/sub, in name order. */
static void run_dir(const char *dir, const char *sub)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s%s%s", dir, sub[0] ? "/" : "", sub);
	DIR *d = opendir(path);
	if (d == NULL) {
		printf("%s: cannot open (is json-schema-test-suite installed?)\n", path);
		failures++;
		return;
	}
	char *names[256];
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL && n < 256) {
		size_t l = strlen(de->d_name);
		if (l > 5 && strcmp(de->d_name + l - 5, ".json") == 0)
			names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), by_name);
	for (size_t i = 0; i < n; i++) {
		char rel[512];
		snprintf(rel, sizeof(rel), "%s%s%s", sub, sub[0] ? "/" : "", names[i]);
		run_file(dir, rel);
		free(names[i]);
	}
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: schema_suite DRAFT7_DIR\n");
		return 2;
	}
	run_dir(argv[1], "");
	run_dir(argv[1], "optional");
	run_dir(argv[1], "optional/format");
	for (size_t i = 0; i < NSKIPS; i++) {
		if (!skips[i].used) {
			printf("stale skip: %s / %s matches nothing\n", skips[i].file,
			       skips[i].group ? skips[i].group : "*");
			failures++;
		} else {
			printf("skipped %s / %s: %s\n", skips[i].file,
			       skips[i].group ? skips[i].group : "*", skips[i].reason);
		}
	}
	printf("total: %d/%d passed, %d skipped, %d failed\n", total_pass, total_cases,
	       total_skipped, failures);
	return failures ? 1 : 0;
}
