/*
 * The confinement layers in force and the ones that are not, as the host
 * reports them in hello.sandbox (PROTOCOL.md): "layers" holds names,
 * "missing" holds "name: reason".
 */
#ifndef SS_HOST_LAYERS_H
#define SS_HOST_LAYERS_H

#include <json-c/json.h>
#include <stddef.h>

#define LAYERS_MAX 32

struct layers {
	char *on[LAYERS_MAX];
	size_t n_on;
	char *missing[LAYERS_MAX];
	size_t n_missing;
};

void layers_on(struct layers *l, const char *name);
void layers_missing(struct layers *l, const char *name, const char *reason);
/* Whether name is in force. */
int layers_has(const struct layers *l, const char *name);
/* {"layers": [...], "missing": [...]}, a new object. */
json_object *layers_json(const struct layers *l);
void layers_clear(struct layers *l);

#endif
