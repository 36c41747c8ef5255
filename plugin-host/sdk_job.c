/*
 * Scheduled jobs in the host (plugin.h, "scheduled jobs"; PROTOCOL.md,
 * "Jobs"): ss_every, ss_cron and ss_job declare a job to the daemon with a
 * job.add call from on_load, and keep the handler under the job's name; the
 * daemon owns the timer and sends job {id, name} when a run is due, which
 * the serving loop answers here once the handler returns. The daemon is the
 * authority on names, schedules and the permission; the host refuses only
 * what cannot go on the wire and what is out of phase.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "host.h"
#include "msg.h"
#include "utf8.h"
#include "xmalloc.h"

/* The protocol that brought jobs (PROTOCOL.md, "Versions"). */
#define JOBS_PROTOCOL 3

struct host_job {
	char *name;
	ss_job_fn fn;
};

/*
 * Sends job.add {name, schedule} (schedule NULL: a job of the manifest)
 * and, once the daemon accepts it, records fn under name.
 */
static int job_add(ss_plugin *p, const char *what, const char *name, const char *schedule,
		   ss_job_fn fn)
{
	json_object *m, *reply = NULL;
	int r;

	if (p == NULL || !sdk_is_plugin(p))
		return SS_ERR_INVALID;
	if (name == NULL || fn == NULL || !utf8_valid((const unsigned char *)name, strlen(name)) ||
	    (schedule != NULL && !utf8_valid((const unsigned char *)schedule, strlen(schedule))))
		return call_fail(p, SS_ERR_INVALID, ERR_BAD_REQUEST,
				 "%s: name or handler is NULL, or a string is not valid UTF-8",
				 what);
	/* The set of jobs is what on_load declares: a host's jobs end with it. */
	if (p->phase != PHASE_LOADING)
		return call_fail(p, SS_ERR_INVALID, ERR_BAD_REQUEST,
				 "%s: jobs are declared in on_load only", what);
	if (p->protocol < JOBS_PROTOCOL)
		return call_fail(p, SS_ERR_UNIMPLEMENTED, ERR_UNIMPLEMENTED,
				 "the daemon speaks protocol %d, %s needs %d", p->protocol, what,
				 JOBS_PROTOCOL);
	m = msg_new(MSG_JOB_ADD);
	msg_add_str(m, "name", name);
	if (schedule != NULL)
		msg_add_str(m, "schedule", schedule);
	r = call_request(p, m, &reply);
	json_object_put(reply);
	if (r != SS_OK)
		return r;
	if (p->n_jobs == p->cap_jobs) {
		p->cap_jobs = p->cap_jobs ? p->cap_jobs * 2 : 4;
		p->jobs = xrealloc(p->jobs, p->cap_jobs * sizeof *p->jobs);
	}
	p->jobs[p->n_jobs].name = xstrdup(name);
	p->jobs[p->n_jobs].fn = fn;
	p->n_jobs++;
	return SS_OK;
}

int ss_every(ss_plugin *p, const char *name, int64_t seconds, ss_job_fn fn)
{
	char schedule[32];

	/* The daemon judges the range; only the spelling is ours. */
	snprintf(schedule, sizeof schedule, "@every %lld", (long long)seconds);
	return job_add(p, "ss_every", name, schedule, fn);
}

int ss_cron(ss_plugin *p, const char *name, const char *schedule, ss_job_fn fn)
{
	if (schedule == NULL)
		return p != NULL && sdk_is_plugin(p) ? call_fail(p, SS_ERR_INVALID, ERR_BAD_REQUEST,
								 "ss_cron: schedule is NULL")
						     : SS_ERR_INVALID;
	return job_add(p, "ss_cron", name, schedule, fn);
}

int ss_job(ss_plugin *p, const char *name, ss_job_fn fn)
{
	return job_add(p, "ss_job", name, NULL, fn);
}

void job_serve(struct ss_plugin *p, json_object *m)
{
	const char *name = msg_get_str(m, "name");
	ss_job_fn fn = NULL;
	json_object *reply;
	int64_t id;

	if (!msg_get_int(m, "id", &id))
		host_protocol_error(ERR_BAD_MESSAGE, "id", m);
	if (name == NULL)
		host_protocol_error(ERR_BAD_MESSAGE, "name", m);
	for (size_t i = 0; i < p->n_jobs && fn == NULL; i++)
		if (strcmp(p->jobs[i].name, name) == 0)
			fn = p->jobs[i].fn;
	/* The daemon runs only the jobs this host added. */
	if (fn == NULL)
		host_protocol_error(ERR_BAD_MESSAGE, "job of a name this host never added", m);
	if (fn(p, name) == 0) {
		reply = msg_reply_ok(id);
	} else {
		char msg[128];
		snprintf(msg, sizeof msg, "job %.63s: the handler returned non-zero", name);
		reply = msg_reply_error(id, ERR_HANDLER, msg);
	}
	if (host_send(p, reply) < 0)
		host_protocol_error(ERR_TOO_LARGE, "job reply over max_frame", m);
	json_object_put(reply);
}
