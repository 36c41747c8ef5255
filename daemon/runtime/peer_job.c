/*
 * The job request (PROTOCOL.md, "Jobs"): run one of the host's scheduled
 * jobs now, answered by a reply when the run ends. A kind of daemon request
 * on top of peer_request, beside config. Its deadline is the run's (the
 * jobs service's --job-timeout-ms); the host's time in calls does not count
 * against it, and a run that misses it ends the host as hung (deadline),
 * as a hung event does.
 */
#include <stdlib.h>

#include "peer.h"
#include "pending.h"
#include "xmalloc.h"

/* Who waits for the run to end. */
struct job_req {
	jobs_done_fn done;
	void *arg;
};

static void job_answered(void *ctx, json_object *m)
{
	json_object *error = msg_get_obj(m, "error");
	const char *code = msg_get_str(error, "code"), *text = msg_get_str(error, "message");
	struct job_req j = *(struct job_req *)ctx;

	free(ctx);
	if (error != NULL && code == NULL)
		code = ERR_HANDLER;
	j.done(j.arg, error == NULL, code, error ? (text ? text : "failed") : NULL);
}

static void job_abandoned(void *ctx)
{
	struct job_req j = *(struct job_req *)ctx;

	free(ctx);
	j.done(j.arg, false, "lost", "the host ended before the run did");
}

static const struct pending_kind job_kind = {
    .name = "job",
    .answer = MSG_REPLY,
    .missed = "answer to a job run",
    .pauses = true,
    .answered = job_answered,
    .abandoned = job_abandoned,
};

int peer_job(struct peer *peer, const char *job, int timeout_ms, jobs_done_fn done, void *arg)
{
	struct job_req *j;
	json_object *body;

	if (!peer_serving(peer))
		return -1;
	j = xmalloc(sizeof *j);
	*j = (struct job_req){done, arg};
	body = json_object_new_object();
	msg_add_str(body, "name", job);
	if (peer_request(peer, &job_kind, MSG_JOB, body, timeout_ms, j) < 0) {
		free(j);
		return -1;
	}
	return 0;
}
