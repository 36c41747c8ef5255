/*
 * The protocol as the host speaks it (PROTOCOL.md): hello, init or reject,
 * on_load, ready or fail, then events, config, ping and shutdown until the
 * daemon ends it. Never returns: every way out is an exit status.
 */
#ifndef SS_HOST_SERVE_H
#define SS_HOST_SERVE_H

#include <json-c/json.h>
#include <streamspace/plugin.h>

#include "channel.h"

/* sandbox is the hello.sandbox object (taken over). */
__attribute__((noreturn)) void serve_run(const struct ss_plugin_def *def, struct channel *ch,
					 json_object *sandbox);

#endif
