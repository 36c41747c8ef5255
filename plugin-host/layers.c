#include "layers.h"

#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

void layers_on(struct layers *l, const char *name)
{
	/* The list is fixed by the code, so running out of room is a host bug. */
	if (l->n_on >= LAYERS_MAX)
		abort();
	l->on[l->n_on++] = xstrdup(name);
}

void layers_missing(struct layers *l, const char *name, const char *reason)
{
	if (l->n_missing >= LAYERS_MAX)
		abort();
	l->missing[l->n_missing++] = xasprintf("%s: %s", name, reason);
}

int layers_has(const struct layers *l, const char *name)
{
	for (size_t i = 0; i < l->n_on; i++)
		if (strcmp(l->on[i], name) == 0)
			return 1;
	return 0;
}

json_object *layers_json(const struct layers *l)
{
	json_object *o = json_object_new_object();
	json_object *on = json_object_new_array();
	json_object *missing = json_object_new_array();

	for (size_t i = 0; i < l->n_on; i++)
		json_object_array_add(on, json_object_new_string(l->on[i]));
	for (size_t i = 0; i < l->n_missing; i++)
		json_object_array_add(missing, json_object_new_string(l->missing[i]));
	json_object_object_add(o, "layers", on);
	json_object_object_add(o, "missing", missing);
	return o;
}

void layers_clear(struct layers *l)
{
	for (size_t i = 0; i < l->n_on; i++)
		free(l->on[i]);
	for (size_t i = 0; i < l->n_missing; i++)
		free(l->missing[i]);
	l->n_on = l->n_missing = 0;
}
