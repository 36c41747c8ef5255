/*
 * Logs what would break a strict peer if passed through as is: a line far
 * over log_line_max, bytes that are not UTF-8 (in the message, in field
 * values and keys), numbers JSON cannot carry (NaN, infinity), nesting far
 * deeper than a frame allows, and calls with forged handles. The host must
 * repair or refuse each, and the daemon must never see an invalid frame.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <streamspace/plugin.h>

static int on_event(ss_plugin *p, const ss_event *ev)
{
	char *big = malloc(10001);
	json_object *fields = json_object_new_object();
	json_object *deep = json_object_new_object();

	memset(big, 'x', 10000);
	big[10000] = '\0';
	ss_log(p, SS_INFO, "%s", big);
	free(big);
	ss_log(p, SS_WARN, "bad utf-8: \xff\xfe \xed\xa0\x80 \xc3");

	json_object_object_add(fields, "nan", json_object_new_double(NAN));
	json_object_object_add(fields, "inf", json_object_new_double(INFINITY));
	json_object_object_add(fields, "bad\xff key", json_object_new_string("bad \xc0\xaf value"));
	for (int i = 0; i < 100; i++) {
		json_object *outer = json_object_new_object();
		json_object_object_add(outer, "d", deep);
		deep = outer;
	}
	json_object_object_add(fields, "deep", deep);
	ss_log_fields(p, SS_INFO, fields, "fields abuse");
	json_object_put(fields);

	/* Forged handles are refused, not followed. */
	ss_log((ss_plugin *)(void *)fields, SS_INFO, "forged plugin handle");
	if (ss_event_type((const ss_event *)(const void *)p) != NULL)
		ss_log(p, SS_ERROR, "ESCAPED: forged event handle accepted");
	ss_log(p, SS_INFO, "done %s", ss_event_type(ev));
	return 0;
}

static int on_load(ss_plugin *p)
{
	return ss_subscribe(p, "*", on_event);
}

SS_PLUGIN(.name = "log-abuse", .version = "0.0.1", .on_load = on_load);
