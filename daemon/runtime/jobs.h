/*
 * jobs: the plugins' scheduled jobs (PROTOCOL.md, "Jobs"). A host declares
 * its jobs with job.add calls from on_load (ss_every, ss_cron, or ss_job for
 * a job of the manifest's scheduler.jobs); once the host is ready the daemon
 * arms one timer per job (jobtimer.h) and, when a job is due, asks the host
 * to run it (a job request with its own deadline, through the peer). A job
 * still running when it comes due again is skipped and counted. A host's
 * jobs end with it: disarmed when it stops serving, forgotten when its peer
 * is freed, declared again by the next host's on_load.
 *
 * The counts (runs, skips, failures, the last run) are kept per plugin and
 * job name and outlive the hosts, as the bus's event counts do.
 */
#ifndef SS_JOBS_H
#define SS_JOBS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct call;
struct event_base;
struct jobs;
struct peer;

#define JOBS_MAX 32		 /* jobs per host */
#define JOB_NAME_MAX 63		 /* bytes */
#define JOB_RUN_TIMEOUT_MS 60000 /* a run's deadline by default */
#define JOB_DESCRIPTION_MAX 256	 /* bytes of a manifest job's description */

/* ^[a-z0-9][a-z0-9_.-]{0,62}$ */
bool jobs_name_valid(const char *name);

/* The host's answer to a job request: ok, or the code and message (code "lost": no answer). */
typedef void (*jobs_done_fn)(void *arg, bool ok, const char *code, const char *message);

/*
 * How a run reaches a host, whose channel the peer owns (peer.h): passed in
 * by the peer so that this module does not depend on it. run sends job
 * {id, name} with a deadline of timeout_ms and calls done exactly once
 * (the answer, or "lost"); -1 when the host does not serve (nothing sent).
 */
struct jobs_host_ops {
	int (*run)(struct peer *peer, const char *job, int timeout_ms, jobs_done_fn done,
		   void *arg);
};

struct jobs *jobs_new(struct event_base *base, int run_timeout_ms);
/* Frees every job and count; call after every peer is freed. NULL is fine. */
void jobs_free(struct jobs *js);

/*
 * The manifest's scheduler.jobs of the plugin about to be started (an array
 * of {"name", "schedule", "description"} the manifest check passed; NULL:
 * none), for ss_job to bind by name. Set by whoever starts the plugin.
 */
void jobs_set_manifest(struct jobs *js, const char *plugin, json_object *manifest_jobs);

/*
 * Declares a job for the host behind peer (a key: never dereferenced): with
 * schedule, an SDK job; without, the manifest's job of that name. Returns
 * NULL, or the error code (ERR_*) with a sentence in err.
 */
const char *jobs_add(struct jobs *js, struct peer *peer, const char *plugin, const char *name,
		     const char *schedule, char *err, size_t errlen);
/* A call_fn for job.add (arg: the jobs), over jobs_add. */
void jobs_call(void *arg, struct call *call, json_object *m);

/*
 * The host behind peer (a host of plugin) is ready: its jobs are armed,
 * their runs go through ops (borrowed; must outlive the host's jobs). A
 * manifest job it did not bind is logged, not scheduled.
 */
void jobs_host_ready(struct jobs *js, struct peer *peer, const char *plugin,
		     const struct jobs_host_ops *ops);
/* It stops serving (shutdown, lost): its timers are disarmed; runs in flight still end. js may be
 * NULL. */
void jobs_host_stop(struct jobs *js, struct peer *peer);
/* Its peer is freed (every run's done has been called): its jobs are forgotten. js may be NULL. */
void jobs_host_gone(struct jobs *js, struct peer *peer);

/* The figures of one job of one plugin. */
struct job_stats {
	const char *plugin, *name, *schedule;
	const char *description; /* the manifest's, or NULL */
	bool manifest;		 /* declared in the manifest (bound with ss_job) */
	bool scheduled;		 /* armed on a serving host now */
	bool running;
	uint64_t runs;		  /* runs started */
	uint64_t skipped;	  /* due while the previous run was still going */
	uint64_t failed;	  /* runs that ended in an error or without an answer */
	int64_t next_s;		  /* wall clock of the next due time, or 0 when not scheduled */
	int64_t last_run_ms;	  /* wall clock of the last run's start, or 0 */
	int64_t last_duration_ms; /* of the last run that ended, or -1 */
	const char *last_error;	  /* of the last run, NULL when it succeeded */
};

/* Calls fn for every job ever declared, by plugin, in the order they were first declared. */
void jobs_foreach(const struct jobs *js, void (*fn)(const struct job_stats *st, void *arg),
		  void *arg);
/* The jobs of plugin as a JSON array (new reference; empty when it has none). */
json_object *jobs_status(const struct jobs *js, const char *plugin);

#endif
