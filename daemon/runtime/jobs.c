/*
 * Scheduled jobs: a host's declarations (job.add), their timers while the
 * host serves, their runs through the host's peer, and the counts kept per
 * plugin and job name across hosts.
 */
#define _GNU_SOURCE
#include "jobs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "call.h"
#include "clock.h"
#include "cron.h"
#include "jobtimer.h"
#include "log.h"
#include "msg.h"
#include "xmalloc.h"

/* What is kept of a plugin's job across its hosts: the counts and the last run. */
struct job_acct {
	TAILQ_ENTRY(job_acct) entry;
	char *name, *schedule, *description;
	bool manifest;
	uint64_t runs, skipped, failed;
	int64_t last_run_ms, last_duration_ms;
	char *last_error;
};

/* A plugin: its manifest's jobs (for ss_job) and the accounts of every job it declared. */
struct plugin_jobs {
	TAILQ_ENTRY(plugin_jobs) entry;
	char *name;
	json_object *manifest; /* scheduler.jobs, or NULL */
	TAILQ_HEAD(, job_acct) accts;
};

struct hostjobs;

/* One job of one host. */
struct job {
	TAILQ_ENTRY(job) entry;
	struct hostjobs *host;
	struct job_acct *acct;
	struct jobtimer *timer; /* while the host serves */
	bool running;
	int64_t started_ms; /* monotonic, of the run going on */
};

/* The jobs one host declared; keyed by its peer, which is never dereferenced here. */
struct hostjobs {
	TAILQ_ENTRY(hostjobs) entry;
	struct jobs *js;
	struct peer *peer;
	struct plugin_jobs *pj;
	const struct jobs_host_ops *ops;
	TAILQ_HEAD(, job) jobs;
	size_t n;
};

struct jobs {
	struct event_base *base;
	int run_timeout_ms;
	TAILQ_HEAD(, plugin_jobs) plugins;
	TAILQ_HEAD(, hostjobs) hosts;
};

bool jobs_name_valid(const char *name)
{
	size_t n;

	if (name == NULL || (n = strlen(name)) == 0 || n > JOB_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
			return false;
	}
	return true;
}

struct jobs *jobs_new(struct event_base *base, int run_timeout_ms)
{
	struct jobs *js = xcalloc(1, sizeof *js);

	js->base = base;
	js->run_timeout_ms = run_timeout_ms > 0 ? run_timeout_ms : JOB_RUN_TIMEOUT_MS;
	TAILQ_INIT(&js->plugins);
	TAILQ_INIT(&js->hosts);
	return js;
}

/* Disarms a job, keeping what its timer counted. */
static void job_disarm(struct job *job)
{
	struct jobtimer_stats st;

	if (job->timer == NULL)
		return;
	jobtimer_stats(job->timer, &st);
	job->acct->skipped += st.skipped;
	jobtimer_free(job->timer);
	job->timer = NULL;
}

static void hostjobs_free(struct hostjobs *h)
{
	struct job *job;

	while ((job = TAILQ_FIRST(&h->jobs)) != NULL) {
		TAILQ_REMOVE(&h->jobs, job, entry);
		job_disarm(job);
		free(job);
	}
	TAILQ_REMOVE(&h->js->hosts, h, entry);
	free(h);
}

void jobs_free(struct jobs *js)
{
	struct plugin_jobs *pj;
	struct job_acct *a;

	if (js == NULL)
		return;
	while (!TAILQ_EMPTY(&js->hosts))
		hostjobs_free(TAILQ_FIRST(&js->hosts));
	while ((pj = TAILQ_FIRST(&js->plugins)) != NULL) {
		TAILQ_REMOVE(&js->plugins, pj, entry);
		while ((a = TAILQ_FIRST(&pj->accts)) != NULL) {
			TAILQ_REMOVE(&pj->accts, a, entry);
			free(a->name);
			free(a->schedule);
			free(a->description);
			free(a->last_error);
			free(a);
		}
		json_object_put(pj->manifest);
		free(pj->name);
		free(pj);
	}
	free(js);
}

static struct plugin_jobs *plugin_of(struct jobs *js, const char *plugin, bool create)
{
	struct plugin_jobs *pj;

	TAILQ_FOREACH(pj, &js->plugins, entry)
	if (strcmp(pj->name, plugin) == 0)
		return pj;
	if (!create)
		return NULL;
	pj = xcalloc(1, sizeof *pj);
	pj->name = xstrdup(plugin);
	TAILQ_INIT(&pj->accts);
	TAILQ_INSERT_TAIL(&js->plugins, pj, entry);
	return pj;
}

static struct hostjobs *host_of(struct jobs *js, struct peer *peer)
{
	struct hostjobs *h;

	TAILQ_FOREACH(h, &js->hosts, entry)
	if (h->peer == peer)
		return h;
	return NULL;
}

void jobs_set_manifest(struct jobs *js, const char *plugin, json_object *manifest_jobs)
{
	struct plugin_jobs *pj = plugin_of(js, plugin, true);

	json_object_put(pj->manifest);
	pj->manifest = manifest_jobs != NULL ? json_object_get(manifest_jobs) : NULL;
}

/* The manifest's job of this name, or NULL. */
static json_object *manifest_job(const struct plugin_jobs *pj, const char *name)
{
	size_t n = pj->manifest != NULL ? json_object_array_length(pj->manifest) : 0;

	for (size_t i = 0; i < n; i++) {
		json_object *j = json_object_array_get_idx(pj->manifest, i);
		const char *jn = msg_get_str(j, "name");
		if (jn != NULL && strcmp(jn, name) == 0)
			return j;
	}
	return NULL;
}

static struct job_acct *acct_of(struct plugin_jobs *pj, const char *name)
{
	struct job_acct *a;

	TAILQ_FOREACH(a, &pj->accts, entry)
	if (strcmp(a->name, name) == 0)
		return a;
	a = xcalloc(1, sizeof *a);
	a->name = xstrdup(name);
	a->last_duration_ms = -1;
	TAILQ_INSERT_TAIL(&pj->accts, a, entry);
	return a;
}

static void replace_str(char **dst, const char *src)
{
	free(*dst);
	*dst = src != NULL ? xstrdup(src) : NULL;
}

const char *jobs_add(struct jobs *js, struct peer *peer, const char *plugin, const char *name,
		     const char *schedule, char *err, size_t errlen)
{
	struct plugin_jobs *pj;
	struct hostjobs *h;
	struct job *job;
	struct job_acct *a;
	json_object *mj;
	struct cron c;
	char why[256];

	if (!jobs_name_valid(name)) {
		snprintf(err, errlen,
			 "job name \"%.64s\" is not [a-z0-9][a-z0-9_.-]*, at most %d bytes",
			 name ? name : "", JOB_NAME_MAX);
		return ERR_BAD_REQUEST;
	}
	pj = plugin_of(js, plugin, true);
	mj = manifest_job(pj, name);
	if (schedule == NULL && mj == NULL) {
		snprintf(err, errlen, "the manifest declares no job \"%s\" (scheduler.jobs)", name);
		return ERR_NOT_FOUND;
	}
	if (schedule != NULL && mj != NULL) {
		snprintf(err, errlen,
			 "job \"%s\" is declared in the manifest: bind it with ss_job, without "
			 "a schedule of its own",
			 name);
		return ERR_CONFLICT;
	}
	if (schedule == NULL)
		schedule = msg_get_str(mj, "schedule");
	/* The manifest's schedules passed this check at install; an SDK one is checked now. */
	if (schedule == NULL || cron_parse(schedule, &c, why, sizeof why) < 0) {
		snprintf(err, errlen, "job \"%s\": schedule \"%.64s\": %s", name,
			 schedule ? schedule : "", schedule ? why : "missing");
		return ERR_BAD_REQUEST;
	}
	h = host_of(js, peer);
	if (h == NULL) {
		h = xcalloc(1, sizeof *h);
		h->js = js;
		h->peer = peer;
		h->pj = pj;
		TAILQ_INIT(&h->jobs);
		TAILQ_INSERT_TAIL(&js->hosts, h, entry);
	}
	TAILQ_FOREACH(job, &h->jobs, entry)
	{
		if (strcmp(job->acct->name, name) == 0) {
			snprintf(err, errlen, "job \"%s\" is declared twice", name);
			return ERR_CONFLICT;
		}
	}
	if (h->n >= JOBS_MAX) {
		snprintf(err, errlen, "at most %d jobs per plugin", JOBS_MAX);
		return ERR_TOO_LARGE;
	}
	a = acct_of(pj, name);
	replace_str(&a->schedule, schedule);
	replace_str(&a->description, mj != NULL ? msg_get_str(mj, "description") : NULL);
	a->manifest = mj != NULL;
	job = xcalloc(1, sizeof *job);
	job->host = h;
	job->acct = a;
	TAILQ_INSERT_TAIL(&h->jobs, job, entry);
	h->n++;
	return NULL;
}

void jobs_call(void *arg, struct call *call, json_object *m)
{
	struct jobs *js = arg;
	const char *name = msg_get_str(m, "name"), *schedule = msg_get_str(m, "schedule"), *code;
	char err[384];

	if (name == NULL) {
		call_error(call, ERR_BAD_REQUEST, "job.add: name must be a string");
		return;
	}
	if (schedule == NULL && json_object_object_get_ex(m, "schedule", NULL)) {
		call_error(call, ERR_BAD_REQUEST, "job.add: schedule must be a string");
		return;
	}
	code = jobs_add(js, call_peer(call), call_plugin(call), name, schedule, err, sizeof err);
	if (code != NULL) {
		log_warn(call_plugin(call), "job.add refused: %s", err);
		call_error(call, code, "%s", err);
		return;
	}
	call_ok(call, NULL);
}

/* The host answered a run (or ended first: code "lost"). */
static void run_done(void *arg, bool ok, const char *code, const char *message)
{
	struct job *job = arg;
	struct job_acct *a = job->acct;
	char *e = NULL;

	job->running = false;
	if (job->timer != NULL)
		jobtimer_finished(job->timer);
	a->last_duration_ms = clock_mono_ms() - job->started_ms;
	if (!ok) {
		a->failed++;
		if (asprintf(&e, "%s: %s", code ? code : ERR_HANDLER, message ? message : "") < 0)
			e = NULL;
		log_warn(job->host->pj->name, "job %s failed after %lld ms: %s", a->name,
			 (long long)a->last_duration_ms, e ? e : "");
	}
	free(a->last_error);
	a->last_error = e;
}

/* A job is due and not running: the host is asked to run it. */
static void fire(struct jobtimer *t, void *arg)
{
	struct job *job = arg;
	struct hostjobs *h = job->host;

	/* A host that no longer serves (stopping) runs nothing; its timers go soon. */
	if (h->ops == NULL ||
	    h->ops->run(h->peer, job->acct->name, h->js->run_timeout_ms, run_done, job) < 0) {
		jobtimer_finished(t);
		return;
	}
	job->running = true;
	job->started_ms = clock_mono_ms();
	job->acct->runs++;
	job->acct->last_run_ms = clock_real_ms();
}

void jobs_host_ready(struct jobs *js, struct peer *peer, const char *plugin,
		     const struct jobs_host_ops *ops)
{
	struct hostjobs *h = host_of(js, peer);
	struct plugin_jobs *pj = plugin_of(js, plugin, false);
	size_t n = pj != NULL && pj->manifest != NULL ? json_object_array_length(pj->manifest) : 0;
	struct job *job;
	char err[256];

	/* A manifest job no handler binds would never run: say so once per host. */
	for (size_t i = 0; i < n; i++) {
		const char *mn = msg_get_str(json_object_array_get_idx(pj->manifest, i), "name");
		bool bound = false;

		if (h != NULL)
			TAILQ_FOREACH(job, &h->jobs, entry)
		bound |= strcmp(job->acct->name, mn) == 0;
		if (!bound)
			log_warn(plugin,
				 "job %s of the manifest has no handler (ss_job): not scheduled",
				 mn);
	}
	if (h == NULL)
		return;
	h->ops = ops;
	TAILQ_FOREACH(job, &h->jobs, entry)
	{
		job->timer = jobtimer_new(js->base, plugin, job->acct->name, job->acct->schedule,
					  fire, job, err, sizeof err);
		/* jobs_add parsed the same schedule: cannot fail. */
		if (job->timer == NULL)
			fatal("jobs_host_ready: %s: job %s: %s", plugin, job->acct->name, err);
	}
	log_info(plugin, "%zu job%s scheduled", h->n, h->n == 1 ? "" : "s");
}

void jobs_host_stop(struct jobs *js, struct peer *peer)
{
	struct hostjobs *h = js != NULL ? host_of(js, peer) : NULL;
	struct job *job;

	if (h == NULL)
		return;
	h->ops = NULL;
	TAILQ_FOREACH(job, &h->jobs, entry)
	job_disarm(job);
}

void jobs_host_gone(struct jobs *js, struct peer *peer)
{
	struct hostjobs *h = js != NULL ? host_of(js, peer) : NULL;

	if (h != NULL)
		hostjobs_free(h);
}

/* The figures of one account, with what the hosts that have it armed add. */
static void fill(const struct jobs *js, const struct plugin_jobs *pj, const struct job_acct *a,
		 struct job_stats *st)
{
	const struct hostjobs *h;
	const struct job *job;

	memset(st, 0, sizeof *st);
	st->plugin = pj->name;
	st->name = a->name;
	st->schedule = a->schedule;
	st->description = a->description;
	st->manifest = a->manifest;
	st->runs = a->runs;
	st->skipped = a->skipped;
	st->failed = a->failed;
	st->last_run_ms = a->last_run_ms;
	st->last_duration_ms = a->last_duration_ms;
	st->last_error = a->last_error;
	TAILQ_FOREACH(h, &js->hosts, entry)
	{
		if (h->pj != pj)
			continue;
		TAILQ_FOREACH(job, &h->jobs, entry)
		{
			struct jobtimer_stats ts;

			if (job->acct != a)
				continue;
			st->running |= job->running;
			if (job->timer == NULL)
				continue;
			jobtimer_stats(job->timer, &ts);
			st->scheduled = true;
			st->skipped += ts.skipped;
			st->next_s = ts.next_s;
		}
	}
}

void jobs_foreach(const struct jobs *js, void (*fn)(const struct job_stats *st, void *arg),
		  void *arg)
{
	const struct plugin_jobs *pj;
	const struct job_acct *a;
	struct job_stats st;

	TAILQ_FOREACH(pj, &js->plugins, entry)
	TAILQ_FOREACH(a, &pj->accts, entry)
	{
		fill(js, pj, a, &st);
		fn(&st, arg);
	}
}

#define ADD(o, k, v) json_object_object_add((o), (k), (v))

json_object *jobs_status(const struct jobs *js, const char *plugin)
{
	json_object *arr = json_object_new_array();
	const struct plugin_jobs *pj;
	const struct job_acct *a;
	struct job_stats st;

	TAILQ_FOREACH(pj, &js->plugins, entry)
	{
		if (strcmp(pj->name, plugin) != 0)
			continue;
		TAILQ_FOREACH(a, &pj->accts, entry)
		{
			json_object *o = json_object_new_object();

			fill(js, pj, a, &st);
			ADD(o, "name", json_object_new_string(st.name));
			ADD(o, "schedule", json_object_new_string(st.schedule));
			ADD(o, "source", json_object_new_string(st.manifest ? "manifest" : "sdk"));
			ADD(o, "description",
			    st.description ? json_object_new_string(st.description) : NULL);
			ADD(o, "scheduled", json_object_new_boolean(st.scheduled));
			ADD(o, "running", json_object_new_boolean(st.running));
			ADD(o, "runs", json_object_new_int64((int64_t)st.runs));
			ADD(o, "skipped", json_object_new_int64((int64_t)st.skipped));
			ADD(o, "failed", json_object_new_int64((int64_t)st.failed));
			ADD(o, "next_run_s",
			    st.scheduled ? json_object_new_int64(st.next_s) : NULL);
			ADD(o, "last_run_ms",
			    st.last_run_ms ? json_object_new_int64(st.last_run_ms) : NULL);
			ADD(o, "last_duration_ms",
			    st.last_duration_ms >= 0 ? json_object_new_int64(st.last_duration_ms)
						     : NULL);
			ADD(o, "last_error",
			    st.last_error ? json_object_new_string(st.last_error) : NULL);
			json_object_array_add(arr, o);
		}
	}
	return arr;
}
