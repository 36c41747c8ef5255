/*
 * store: the shipped plugins' storage writes, with the failure logged under
 * the key, so that a handler only returns -1 (the host then counts the event
 * as failed and it is redelivered).
 */
#ifndef SS_PLUGINS_STORE_H
#define SS_PLUGINS_STORE_H

#include <streamspace/plugin.h>

/* ss_storage_set of key to v (borrowed); 0, or -1 logged. */
int store_set(ss_plugin *p, const char *key, json_object *v);

#endif
