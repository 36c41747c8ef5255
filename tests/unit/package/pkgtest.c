/*
 * The plugin the package tests put into archives: "pkgtest" 1.0.0 as SS_PLUGIN
 * declares it, or with -DBAD_ABI a definition for SDK ABI 99, or with
 * -DNO_DEFINITION none at all.
 */
#include <streamspace/plugin.h>

static int on_load(ss_plugin *p)
{
	(void)p;
	return 0;
}

#if defined(BAD_ABI)
SS_EXPORT const struct ss_plugin_def ss_plugin_definition = {
    .abi = 99,
    .size = sizeof(struct ss_plugin_def),
    .name = "pkgtest",
    .version = "1.0.0",
    .on_load = on_load,
};
#elif defined(NO_DEFINITION)
SS_EXPORT int (*pkgtest_entry)(ss_plugin *p) = on_load;
#else
SS_PLUGIN(.name = "pkgtest", .version = "1.0.0", .on_load = on_load);
#endif
