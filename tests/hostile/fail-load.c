/* A plugin whose on_load fails: the host must send fail and exit 66. */
#include <streamspace/plugin.h>

static int on_load(ss_plugin *p)
{
	ss_log(p, SS_ERROR, "refusing to load");
	return -3;
}

SS_PLUGIN(.name = "fail-load", .version = "0.0.1", .on_load = on_load);
