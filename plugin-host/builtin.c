#include "builtin.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "diag.h"

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
		json_object *m = json_tokener_parse(table[i].manifest);
		if (m == NULL || !json_object_is_type(m, json_type_object))
			die(HOST_EXIT_INTERNAL, "built-in %s: its manifest is not a JSON object",
			    table[i].def->name);
		json_object_array_add(all, m);
	}
	fputs(json_object_to_json_string_ext(all, JSON_C_TO_STRING_PLAIN), stdout);
	fputc('\n', stdout);
	json_object_put(all);
	return fflush(stdout) == 0 ? HOST_EXIT_OK : HOST_EXIT_INTERNAL;
}
