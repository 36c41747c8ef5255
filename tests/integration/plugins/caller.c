/*
 * caller: makes one call to the daemon (ss_storage_get) from inside every
 * event callback and logs what it got, with the event's id, so a test can
 * tell that events which arrive while a call waits are delivered after it,
 * once each and in order (plugin-host/call.c), and what the call returned,
 * with the event's time (ss_event_ts).
 * At load it also emits data no reader takes (NaN, nesting past the frame's
 * limit), which must be its error, not a frame that ends its host.
 */
#include <math.h>
#include <streamspace/plugin.h>

static int on_event(ss_plugin *p, const ss_event *ev)
{
	json_object *v = NULL;
	int r = ss_storage_get(p, "k", &v);

	ss_log(p, SS_INFO, "event %lld ts=%lld get=%d code=%s msg=%s", (long long)ss_event_id(ev),
	       (long long)ss_event_ts(ev), r, ss_error_code(p), ss_error_message(p));
	json_object_put(v);
	return 0;
}

/* Emits data and logs what the SDK answered. */
static void emit_bad(ss_plugin *p, const char *what, json_object *data)
{
	int r = ss_emit(p, "plugin.caller.bad", data);

	ss_log(p, SS_INFO, "emit %s=%d code=%s msg=%s", what, r, ss_error_code(p),
	       ss_error_message(p));
	json_object_put(data);
}

static int on_load(ss_plugin *p)
{
	json_object *nan = json_object_new_object(), *deep = json_object_new_object();

	json_object_object_add(nan, "x", json_object_new_double(0.0 * (double)INFINITY));
	emit_bad(p, "nan", nan);
	for (int i = 0; i < 70; i++) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "a", deep);
		deep = o;
	}
	emit_bad(p, "deep", deep);
	return ss_subscribe(p, "session.*", on_event);
}

SS_PLUGIN(.name = "caller", .version = "1.0.0", .on_load = on_load);
