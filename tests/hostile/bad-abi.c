/* A plugin built against an SDK ABI the host does not implement: exit 65, naming both. */
#include <streamspace/plugin.h>

SS_EXPORT const struct ss_plugin_def ss_plugin_definition = {
    .abi = 99,
    .size = sizeof(struct ss_plugin_def),
    .name = "bad-abi",
    .version = "0.0.1",
};
