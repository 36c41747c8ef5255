/*
 * The JSON view of the supervisor's typed stats: what GET
 * /api/plugins/marketplace/installed/<name> and the registry show as a
 * plugin's "runtime" (README, "Plugin status"). Built only from
 * supervisor_stats, so the API and /metrics read the same figures.
 */
#include <stdio.h>

#include "bus.h"
#include "exitcause.h"
#include "jobs.h"
#include "supervisor.h"

static json_object *last_exit_json(const struct supervisor_stats *st)
{
	json_object *le;
	char buf[32];

	if (!st->last_exit.ended)
		return NULL;
	le = json_object_new_object();
	json_object_object_add(le, "reason",
			       json_object_new_string(exit_cause_name(st->last_exit.cause)));
	json_object_object_add(le, "description",
			       json_object_new_string(st->last_exit.description));
	json_object_object_add(le, "sandbox_violation",
			       json_object_new_boolean(st->last_exit.cause == CAUSE_SANDBOX));
	if (st->last_exit.sig > 0) {
		json_object_object_add(le, "signal", json_object_new_int(st->last_exit.sig));
		snprintf(buf, sizeof buf, "SIG%s", exit_signal_abbrev(st->last_exit.sig));
		json_object_object_add(le, "signal_name", json_object_new_string(buf));
	}
	if (st->last_exit.code >= 0)
		json_object_object_add(le, "exit_code", json_object_new_int(st->last_exit.code));
	json_object_object_add(le, "stderr",
			       st->last_exit.stderr_tail
				   ? json_object_get(st->last_exit.stderr_tail)
				   : json_object_new_array());
	return le;
}

#define ADD_INT(o, k, v) json_object_object_add((o), (k), json_object_new_int64((int64_t)(v)))

/* The status object of one plugin, as README documents it. */
static json_object *status_json(const struct supervisor_stats *stp)
{
	json_object *o = json_object_new_object(), *causes, *limits;
	const struct supervisor_stats st = *stp;

	json_object_object_add(o, "name", json_object_new_string(st.name));
	json_object_object_add(o, "version",
			       st.version ? json_object_new_string(st.version) : NULL);
	json_object_object_add(o, "state", json_object_new_string(supervisor_state_name(st.state)));
	ADD_INT(o, "state_for_ms", st.state_for_ms);
	json_object_object_add(o, "pid", st.pid > 0 ? json_object_new_int(st.pid) : NULL);
	json_object_object_add(o, "path", json_object_new_string(st.path));
	ADD_INT(o, "restarts", st.restarts);
	ADD_INT(o, "crashes", st.crashes);
	causes = json_object_new_object();
	for (int i = 1; i < CAUSE_COUNT; i++)
		ADD_INT(causes, exit_cause_name(i), st.causes[i]);
	json_object_object_add(o, "crash_causes", causes);
	if (st.state == SUP_CRASHED)
		ADD_INT(o, "restart_in_ms", st.restart_in_ms);
	ADD_INT(o, "queue_depth", st.events.queued);
	ADD_INT(o, "inflight", st.events.inflight);
	ADD_INT(o, "delivered", st.events.delivered);
	ADD_INT(o, "failed", st.events.failed);
	ADD_INT(o, "accepted", st.events.accepted);
	ADD_INT(o, "dropped", st.events.dropped);
	json_object *by = json_object_new_object();
	for (int i = 0; i < BUS_DROP_COUNT; i++)
		ADD_INT(by, bus_drop_name(i), st.events.dropped_by[i]);
	json_object_object_add(o, "dropped_by", by);
	ADD_INT(o, "queue_bytes", st.events.bytes);
	ADD_INT(o, "redelivered", st.events.redelivered);
	ADD_INT(o, "poisoned", st.events.poisoned);
	json_object_object_add(o, "poison_events", bus_sub_poison_json(st.sub));
	ADD_INT(o, "log_dropped", st.log_dropped);
	ADD_INT(o, "log_truncated", st.log_truncated);
	json_object_object_add(o, "subscriptions", json_object_get(st.subscriptions));
	json_object_object_add(o, "sandbox", json_object_get(st.sandbox));
	limits = json_object_new_object();
	ADD_INT(limits, "memory_bytes", st.mem_limit);
	ADD_INT(limits, "event_timeout_ms", st.event_timeout_ms);
	ADD_INT(limits, "handshake_timeout_ms", st.handshake_timeout_ms);
	json_object_object_add(limits, "cgroup", json_object_new_boolean(st.cgroup));
	json_object_object_add(o, "limits", limits);
	if (st.config_error)
		json_object_object_add(o, "config_error", json_object_new_string(st.config_error));
	json_object_object_add(o, "last_exit", last_exit_json(&st));
	json_object_object_add(
	    o, "jobs", st.jobs != NULL ? jobs_status(st.jobs, st.name) : json_object_new_array());
	return o;
}

json_object *supervisor_status(struct supervisor *sup, const char *name)
{
	struct supervisor_stats st;
	return supervisor_stats(sup, name, &st) == 0 ? status_json(&st) : NULL;
}

static void add_status(const struct supervisor_stats *st, void *arg)
{
	json_object_array_add(arg, status_json(st));
}

json_object *supervisor_status_all(struct supervisor *sup)
{
	json_object *a = json_object_new_array();
	supervisor_foreach(sup, add_status, a);
	return a;
}

json_object *supervisor_live(struct supervisor *sup, const char *name)
{
	struct supervisor_stats st;
	json_object *o, *le;

	if (supervisor_stats(sup, name, &st) < 0)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(st.name));
	json_object_object_add(o, "version",
			       st.version ? json_object_new_string(st.version) : NULL);
	json_object_object_add(o, "state", json_object_new_string(supervisor_state_name(st.state)));
	json_object_object_add(o, "pid", st.pid > 0 ? json_object_new_int(st.pid) : NULL);
	ADD_INT(o, "restarts", st.restarts);
	ADD_INT(o, "crashes", st.crashes);
	if (st.state == SUP_CRASHED)
		ADD_INT(o, "restart_in_ms", st.restart_in_ms);
	/* The output lines are the status's to show: a live event stays small. */
	le = last_exit_json(&st);
	if (le != NULL)
		json_object_object_del(le, "stderr");
	json_object_object_add(o, "last_exit", le);
	return o;
}
