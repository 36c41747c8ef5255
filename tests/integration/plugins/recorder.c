/*
 * recorder: stores one plugin-storage key per event it handles,
 * "<id>.<incarnation>.<seq>" -> {"t": type, "d": data}, so a test reads every delivery
 * back from the database (pg/test_durable_multi.py), duplicates included:
 * the incarnation (the realtime clock in ns at load) tells one host process
 * from another, seq counts the deliveries to this one. Built as rec-a
 * (session.*), rec-b (session.* and user.*) and rec-p (plugin.*: other
 * plugins' emits, and with the admin permission the platform's plugin.*
 * events; pg/test_durable_emit.py).
 */
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <streamspace/plugin.h>

static long long incarnation, seq;

static int on_event(ss_plugin *p, const ss_event *ev)
{
	char key[96];
	json_object *v = json_object_new_object();
	int r;

	snprintf(key, sizeof key, "%lld.%lld.%lld", (long long)ss_event_id(ev), incarnation, ++seq);
	json_object_object_add(v, "t", json_object_new_string(ss_event_type(ev)));
	json_object_object_add(v, "d", json_object_get(ss_event_data(ev)));
	/*
	 * Stored or it is not handled: while the database is away the call
	 * fails, and the recorder tries again (for up to a minute; the test
	 * runs with a longer event deadline) rather than lose the record.
	 */
	for (int i = 0; (r = ss_storage_set(p, key, v)) != SS_OK && i < 600; i++) {
		if (i == 0)
			ss_log(p, SS_WARN, "storing %s: %s (trying again)", key,
			       ss_error_message(p));
		usleep(100 * 1000);
	}
	json_object_put(v);
	if (r != SS_OK)
		ss_log(p, SS_ERROR, "storing %s: %s", key, ss_error_message(p));
	return r == SS_OK ? 0 : -1;
}

static int on_load(ss_plugin *p)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	incarnation = (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
	if (REC_USERS == 2)
		return ss_subscribe(p, "plugin.*", on_event);
	if (ss_subscribe(p, "session.*", on_event) != 0)
		return -1;
	return REC_USERS ? ss_subscribe(p, "user.*", on_event) : 0;
}

SS_PLUGIN(.name = REC_NAME, .version = "1.0.0", .on_load = on_load);
