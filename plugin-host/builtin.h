/*
 * Built-in plugins: compiled into the host executable and registered by a
 * constructor (SS_BUILTIN), run with --plugin builtin:<name> in the same
 * sandbox as any other plugin. The daemon lists them with --list-builtins
 * and shows them in the local catalog next to the plugin directory's.
 */
#ifndef SS_HOST_BUILTIN_H
#define SS_HOST_BUILTIN_H

#include <stddef.h>

#include "names.h"
#include <streamspace/plugin.h>

#define BUILTIN_PREFIX SS_BUILTIN_PREFIX
#define BUILTIN_MAX 16

struct builtin_plugin {
	const struct ss_plugin_def *def;
	const char *manifest; /* its manifest.json, as text */
};

void builtin_register(const struct ss_plugin_def *def, const char *manifest);
/* The built-in of that name, or NULL. */
const struct builtin_plugin *builtin_find(const char *name);
/* Prints a JSON array of the built-ins' manifests on stdout; exit status. */
int builtin_list(void);

/* Registers def (a struct ss_plugin_def) with its manifest text at start-up. */
#define SS_BUILTIN(def, manifest_text)                                                             \
	static void __attribute__((constructor)) def##_register(void)                              \
	{                                                                                          \
		builtin_register(&(def), (manifest_text));                                         \
	}

#endif
