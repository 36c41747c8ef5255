/*
 * Calls from the plugin to the daemon (PROTOCOL.md, "Calls"): synchronous for
 * the plugin, one at a time on the host's one thread. A call sends a request
 * and reads the channel until the reply with its id arrives; what the daemon
 * sends meanwhile is answered at once when no plugin code runs for it (ping)
 * and otherwise kept, in order, for the serving loop to handle after the
 * callback that made the call returns. So no plugin callback ever runs inside
 * another one.
 */
#ifndef SS_HOST_CALL_H
#define SS_HOST_CALL_H

#include <json-c/json.h>

#include "host.h"

/* Messages kept during calls before the host decides the daemon is broken. */
#define CALL_DEFER_MAX 1024

/*
 * Sends the request m (consumed; its "id" is set here) and waits for its
 * reply. Returns SS_OK with *result = the reply (the caller puts it), or a
 * negative ss_result with the error kept for ss_error_code/message (and
 * *result NULL). A daemon that speaks protocol 1 is not asked at all
 * (SS_ERR_UNIMPLEMENTED).
 */
int call_request(struct ss_plugin *p, json_object *m, json_object **result);

/* Records a failure found before asking the daemon; returns result. */
int call_fail(struct ss_plugin *p, int result, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Forgets the last error (a call that succeeds). */
void call_ok(struct ss_plugin *p);

/* The next message kept during a call (the caller puts it), or NULL. */
json_object *call_take_deferred(struct ss_plugin *p);

#endif
