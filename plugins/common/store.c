#include "store.h"

int store_set(ss_plugin *p, const char *key, json_object *v)
{
	if (ss_storage_set(p, key, v) == SS_OK)
		return 0;
	ss_log(p, SS_ERROR, "storage: writing %s: %s %s", key, ss_error_code(p),
	       ss_error_message(p));
	return -1;
}
