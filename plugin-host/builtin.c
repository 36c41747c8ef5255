#include "builtin.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "diag.h"
#include "json.h"

static struct builtin_plugin table[BUILTIN_MAX];
static size_t count;

void builtin_register(const struct ss_plugin_def *def, const char *manifest)
{
	/* A build that links more than the table holds is a bug, not input. */
	if (count == BUILTIN_MAX)
		die(HOST_EXIT_INTERNAL, "more than %d built-in plugins", BUILTIN_MAX);
	table[count].def = def;
	table[count].manifest = manifest;
	count++;
}

const struct builtin_plugin *builtin_find(const char *name)
{
	for (size_t i = 0; i < count; i++)
		if (strcmp(table[i].def->name, name) == 0)
			return &table[i];
	return NULL;
}

int builtin_list(void)
{
	json_object *all = json_object_new_array();

	for (size_t i = 0; i < count; i++) {
		char err[JSON_ERR_MAX];
		json_object *m = json_read_object(table[i].manifest, strlen(table[i].manifest),
						  JSON_MAX_DEPTH, err, sizeof err);
		if (m == NULL)
			die(HOST_EXIT_INTERNAL, "built-in %s: its manifest: %s", table[i].def->name,
			    err);
		json_object_array_add(all, m);
	}
	fputs(json_object_to_json_string_ext(all, JSON_C_TO_STRING_PLAIN), stdout);
	fputc('\n', stdout);
	json_object_put(all);
	return fflush(stdout) == 0 ? HOST_EXIT_OK : HOST_EXIT_INTERNAL;
}
