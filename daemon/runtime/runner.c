/*
 * One plugin the supervisor runs: its record (what to run, its state, its
 * crash history and last exit, the callers waiting on it), at most one
 * current host (host.h) and, during a blue/green upgrade, a successor
 * record. host_ended decides what a host's end means for its plugin: a
 * stop, a restart after a backoff, failed, or the next step of an upgrade.
 */
#define _GNU_SOURCE
#include "runner.h"

#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "backoff.h"
#include "bus.h"
#include "call.h"
#include "clock.h"
#include "exitcause.h"
#include "host.h"
#include "hostfds.h"
#include "hostlog.h"
#include "log.h"
#include "msg.h"
#include "peer.h"
#include "startq.h"
#include "waiter.h"
#include "xmalloc.h"

#define DEFAULT_MEM_LIMIT (256ull << 20)

struct runner {
	struct runner_set *set;
	TAILQ_ENTRY(runner) entry;

	/* What to run. */
	char *name, *path;
	json_object *config, *permissions;
	uint64_t mem_limit;
	int handshake_timeout_ms, event_timeout_ms;

	/* The current host and what the plugin does when it ends. */
	enum supervisor_state state;
	int64_t state_since_ms, started_ms;
	uint64_t host_no; /* hosts started so far; the current one's number */
	struct host *host;
	bool stop_requested, restart_after, remove_after;
	enum bus_drop remove_why;    /* what the queue's events are counted as when forgotten */
	struct event *restart_timer; /* the backoff delay after a crash */
	struct startq_ticket *turn;  /* its place among the hosts starting at once */

	/* What the last host declared. */
	char *version;
	json_object *sandbox, *subscriptions;

	/* Accounting. */
	struct bus_sub *sub;
	struct hostlog *out;
	struct backoff backoff;
	uint64_t restarts, crashes, causes[CAUSE_COUNT];
	int next_delay_ms;
	struct {
		bool ended;
		enum exit_cause cause;
		int code, sig;
		char *description;
		json_object *stderr_tail;
	} last_exit;
	char *config_error;
	struct waitlist *waiters; /* runs waiting for a host's ready, by host number */

	/*
	 * Blue/green upgrade (upgrade_start): the old record points at its
	 * successor (next_ver), which points back (prev_ver) and borrows the old
	 * one's bus subscriber until it is promoted into the list. switching: the
	 * successor is ready, delivery is paused, the old host is being stopped.
	 */
	struct runner *next_ver, *prev_ver;
	bool switching;
};

static void plugin_start(struct runner *p);

/*
 * What p's state shows changed (state, pid, counts, last exit), or p was
 * forgotten: tells the watcher (supervisor_watch). Not for a successor
 * being started beside a serving host: the plugin's state is the serving
 * one's until the successor takes its place (and the old record goes).
 */
static void changed(struct runner *p)
{
	if (p->set->freeing || p->prev_ver != NULL)
		return;
	for (size_t i = 0; i < SUPERVISOR_WATCH_MAX; i++)
		if (p->set->watch[i].fn != NULL)
			p->set->watch[i].fn(p->set->watch[i].arg, p->name);
}

static void set_state(struct runner *p, enum supervisor_state st)
{
	p->state = st;
	p->state_since_ms = clock_mono_ms();
	changed(p);
}

struct runner *runner_find(struct runner_set *set, const char *name)
{
	struct runner *p;
	TAILQ_FOREACH(p, &set->list, entry)
	{
		if (strcmp(p->name, name) == 0)
			return p;
	}
	return NULL;
}

struct runner *runner_first(struct runner_set *set)
{
	return TAILQ_FIRST(&set->list);
}

struct runner *runner_next(struct runner *p)
{
	return TAILQ_NEXT(p, entry);
}

static void arm(struct event *ev, int64_t ms)
{
	struct timeval tv = clock_tv(ms);
	evtimer_add(ev, &tv);
}

/* ---- waiters ---- */

/* The current host is ready (ok) or ended before it: answers the runs waiting for it. */
static void waiters_host_done(struct runner *p, bool ok, const char *reason)
{
	waitlist_answer_upto(p->waiters, p->host_no, ok, reason);
}

/* The plugin will not start again by itself (failed, stopped, forgotten). */
static void waiters_all_done(struct runner *p, const char *reason)
{
	waitlist_answer_all(p->waiters, false, reason);
}

/* A run waits for the next host to be started. */
static void wait_next_host(struct runner *p, supervisor_done_fn done, void *arg)
{
	waitlist_add(p->waiters, waiter_new(p->set->base, done, arg), p->host_no + 1);
}

/* ---- what a host's end means ---- */

static struct runner *plugin_new(struct runner_set *set, const struct plugin_spec *spec,
				 struct runner *prev);
static void upgrade_failed(struct runner *n, const char *reason);
static void upgrade_promote(struct runner *old);
static void upgrade_switch(struct runner *n);
static void start_failed(struct runner *p, const char *err);

/* What the plugin does next once a host has crashed, been refused or failed to load. */
static void after_crash(struct runner *p, enum exit_cause cause, const char *desc)
{
	p->crashes++;
	p->causes[cause]++;
	if (bus_sub_detach(p->sub, true) > 0)
		log_error(p->name,
			  "event set aside as poison: it was being handled at two crashes");
	log_warn(p->name, "host crashed (%s): %s", exit_cause_name(cause), desc);
	waiters_host_done(p, false, desc);
	if (p->remove_after) {
		runner_destroy(p);
		return;
	}
	if (p->set->shutting_down) {
		set_state(p, SUP_STOPPED);
		waiters_all_done(p, "the daemon is shutting down");
		return;
	}
	if (cause == CAUSE_LOAD) {
		/* The same files and configuration fail the same way: no retry helps. */
		log_error(p->name, "cannot be loaded: marked failed until it is enabled again");
		set_state(p, SUP_FAILED);
		waiters_all_done(p, desc);
		return;
	}
	p->next_delay_ms = backoff_crash(&p->backoff, clock_mono_ms());
	if (p->next_delay_ms < 0) {
		log_error(p->name,
			  "crashed %d times within %d s: marked failed until it is enabled again",
			  p->set->o.crash_limit, p->set->o.crash_window_ms / 1000);
		set_state(p, SUP_FAILED);
		waiters_all_done(p, desc);
		return;
	}
	set_state(p, SUP_CRASHED);
	arm(p->restart_timer, p->next_delay_ms);
}

/*
 * The host has ended (host.h: both deaths): accounts for it, then stops,
 * restarts or fails the plugin. The only place a host's end is handled.
 */
static void host_ended(struct host *h, const struct host_end *e, void *arg)
{
	struct runner *p = arg;
	const char *desc = e->desc;
	bool clean = e->clean;

	startq_release(p->turn); /* if it ended before ready */
	host_free(p->host);
	p->host = NULL;
	if (e->exec_failed && p->prev_ver == NULL && !p->remove_after) {
		start_failed(p, desc);
		return;
	}
	if (e->exec_failed)
		log_error(p->name, "cannot start host: %s", desc);
	/*
	 * The old host of a switch, stopped on purpose, is no exit of the
	 * plugin (the new version serves on): the last exit stays the one it
	 * had, which the successor takes over (upgrade_promote).
	 */
	if (!(clean && p->next_ver != NULL && p->next_ver->switching)) {
		p->last_exit.ended = true;
		p->last_exit.cause = clean ? CAUSE_NONE : e->cause;
		p->last_exit.sig = WIFSIGNALED(e->status) ? WTERMSIG(e->status) : 0;
		p->last_exit.code = WIFEXITED(e->status) ? WEXITSTATUS(e->status) : -1;
		free(p->last_exit.description);
		p->last_exit.description = xstrdup(clean ? "stopped" : desc);
		json_object_put(p->last_exit.stderr_tail);
		p->last_exit.stderr_tail = hostlog_take_tail(p->out);
	}

	if (p->prev_ver != NULL) {
		upgrade_failed(p, clean ? "stopped before it was ready" : desc);
		return;
	}
	if (p->next_ver != NULL && p->next_ver->switching) {
		/* The old host of a switch is gone: what it had not answered is the new one's. */
		if (bus_sub_detach(p->sub, !clean) > 0)
			log_error(p->name, "event set aside as poison: it was being handled at two "
					   "crashes");
		upgrade_promote(p);
		return;
	}
	if (e->exec_failed) { /* a plugin being removed: nothing crashed */
		runner_destroy(p);
		return;
	}
	if (!clean) {
		after_crash(p, e->cause, desc);
		return;
	}
	/* Stopped on purpose: events in flight go back to the queue. */
	bus_sub_detach(p->sub, false);
	waiters_host_done(p, false, "stopped before it was ready");
	if (p->remove_after) {
		runner_destroy(p);
		return;
	}
	if (p->restart_after) {
		plugin_start(p);
		return;
	}
	set_state(p, SUP_STOPPED);
	waiters_all_done(p, "stopped");
}

static void host_ready(struct host *h, void *arg)
{
	struct runner *p = arg;

	startq_release(p->turn);
	const char *version;
	json_object *sandbox, *subs;
	peer_declared(host_peer(h), &version, &sandbox, &subs);
	free(p->version);
	p->version = xstrdup(version);
	json_object_put(p->sandbox);
	p->sandbox = json_object_get(sandbox);
	json_object_put(p->subscriptions);
	p->subscriptions = json_object_get(subs);
	set_state(p, SUP_RUNNING);
	log_info(p->name, "ready: pid %d, version %s, start %" PRId64 " ms", (int)host_pid(h),
		 p->version, clock_mono_ms() - p->started_ms);
	if (p->prev_ver != NULL) {
		upgrade_switch(p);
		return;
	}
	bus_sub_attach(p->sub);
	waiters_host_done(p, true, NULL);
}

static void restart_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct runner *p = arg;
	p->restarts++;
	plugin_start(p);
}

void runner_reap(struct runner *p)
{
	/* A successor first: its end may promote it or discard it, never free p. */
	for (struct runner *h = p->next_ver ? p->next_ver : p;; h = p) {
		if (h->host != NULL)
			host_reap(h->host);
		if (h == p)
			break;
	}
}

/* ---- starting ---- */

static void bus_ready(struct bus_sub *sub, void *arg)
{
	struct runner *p = arg;
	struct peer *peer = p->host ? host_peer(p->host) : NULL;
	if (peer != NULL)
		peer_kick(peer);
}

/* The host binary itself cannot be started (no fork, or no exec): no use retrying. */
static void start_failed(struct runner *p, const char *err)
{
	startq_release(p->turn);
	log_error(p->name, "cannot start host: %s", err);
	p->last_exit.ended = true;
	free(p->last_exit.description);
	p->last_exit.description = xstrdup(err);
	p->last_exit.cause = CAUSE_SETUP;
	set_state(p, SUP_FAILED);
	waiters_all_done(p, err);
}

/* No host could be started: a plugin fails; a successor is discarded (the old version serves on).
 */
static void spawn_refused(struct runner *p, const char *err)
{
	if (p->prev_ver == NULL) {
		start_failed(p, err);
		return;
	}
	startq_release(p->turn);
	log_error(p->name, "cannot start host: %s", err);
	upgrade_failed(p, err);
}

/* The hosts that run now (a successor beside its old version's counts too). */
static size_t hosts_running(struct runner_set *set)
{
	size_t n = 0;

	for (struct runner *p = TAILQ_FIRST(&set->list); p != NULL; p = TAILQ_NEXT(p, entry))
		n += (p->host != NULL) + (p->next_ver != NULL && p->next_ver->host != NULL);
	return n;
}

/* Its turn has come (startq.h): the host is spawned, its handshake deadline runs from now. */
static void plugin_spawn(struct runner *p)
{
	struct runner_set *set = p->set;
	char err[256];

	p->host_no++;
	p->started_ms = clock_mono_ms();
	if (hostfds_check(hosts_running(set), set->o.max_starting, err, sizeof err) < 0) {
		spawn_refused(p, err);
		return;
	}
	p->host =
	    host_start(set->base, set->bus, p->sub, p->out,
		       &(struct host_spec){.host_path = set->o.host_path,
					   .cgroup = set->o.cgroup,
					   .args = {.name = p->name,
						    .plugin = p->path,
						    .mem_limit = p->mem_limit,
						    .strict = set->o.strict,
						    .sandbox_debug = set->o.sandbox_debug},
					   .stop_timeout_ms = set->o.stop_timeout_ms,
					   .peer = {.name = p->name,
						    .config = p->config,
						    .permissions = p->permissions,
						    .max_frame = set->o.max_frame,
						    .handshake_timeout_ms = p->handshake_timeout_ms,
						    .event_timeout_ms = p->event_timeout_ms,
						    .ping_interval_ms = set->o.ping_interval_ms,
						    .ping_timeout_ms = set->o.ping_timeout_ms,
						    .strict = set->o.strict,
						    .services = set->o.services}},
		       &(struct host_owner){.ready = host_ready, .ended = host_ended, .arg = p},
		       err, sizeof err);
	if (p->host == NULL)
		spawn_refused(p, err);
}

static void turn_came(void *arg)
{
	struct runner *p = arg;

	if (p->set->shutting_down) {
		/* It waited through the start of the shutdown: it is not started now. */
		startq_release(p->turn);
		set_state(p, SUP_STOPPED);
		waiters_all_done(p, "the daemon is shutting down");
		return;
	}
	plugin_spawn(p);
}

/*
 * Starts a host for p: at once when a start turn is free, else when one is
 * (in the order asked). The plugin is "starting" meanwhile; a second call
 * while it waits keeps its place.
 */
static void plugin_start(struct runner *p)
{
	evtimer_del(p->restart_timer);
	p->stop_requested = p->restart_after = false;
	set_state(p, SUP_STARTING);
	if (startq_take(p->turn)) {
		plugin_spawn(p);
		return;
	}
	log_debug(p->name, "waiting to start: %zu hosts starting (--max-starting %zu), %zu waiting",
		  startq_starting(p->set->startq), startq_limit(p->set->startq),
		  startq_queued(p->set->startq));
}

/* Asks the host to stop; the stop timer escalates to SIGKILL. */
static void plugin_request_stop(struct runner *p)
{
	p->stop_requested = true;
	evtimer_del(p->restart_timer);
	if (p->host == NULL) {
		startq_release(p->turn); /* it no longer waits to start */
		return;
	}
	set_state(p, SUP_STOPPING);
	host_stop(p->host);
}

/* Stops the host gracefully and starts it again (new files, new configuration). */
static void plugin_restart(struct runner *p)
{
	plugin_request_stop(p);
	p->restart_after = true;
}

/* ---- blue/green: a successor beside the serving host ---- */

/*
 * The successor ended before it took over (or is discarded): the old
 * version serves on. Mid-switch the old host was already told to stop: it
 * starts again on its own files, and its ready resumes the paused delivery.
 */
static void upgrade_failed(struct runner *n, const char *reason)
{
	struct runner *old = n->prev_ver;

	if (n->switching && !n->set->shutting_down)
		old->restart_after = true;
	log_warn(n->name, "upgrade to %s abandoned, the running version stays: %s", n->path,
		 reason);
	waiters_all_done(n, reason);
	runner_destroy(n);
}

/* The new host is ready: delivery pauses while the old one answers what it has and stops. */
static void upgrade_switch(struct runner *n)
{
	struct runner *old = n->prev_ver;

	n->switching = true;
	bus_sub_hold(n->sub);
	if (old->host == NULL) {
		upgrade_promote(old);
		return;
	}
	plugin_request_stop(old);
	old->restart_after = false;
}

/* The old host is gone: the successor takes its place, its queue and its history. */
static void upgrade_promote(struct runner *old)
{
	struct runner *n = old->next_ver;

	old->next_ver = NULL;
	n->prev_ver = NULL;
	n->switching = false;
	n->restarts = old->restarts;
	n->crashes = old->crashes;
	memcpy(n->causes, old->causes, sizeof n->causes);
	/* The plugin's last exit (the view's "last crash"), not one version's: moved over. */
	free(n->last_exit.description);
	json_object_put(n->last_exit.stderr_tail);
	n->last_exit = old->last_exit;
	old->last_exit.description = NULL;
	old->last_exit.stderr_tail = NULL;
	hostlog_carry_recent(n->out, old->out); /* the plugin's recent lines, not one version's */
	n->remove_why = old->remove_why;
	TAILQ_INSERT_AFTER(&old->set->list, old, n, entry);
	bus_sub_set_ready(n->sub, bus_ready, n);
	old->sub = NULL;
	waitlist_answer_all(old->waiters, true, NULL);
	runner_destroy(old);
	log_info(n->name, "switched to version %s (pid %d)", n->version, (int)host_pid(n->host));
	bus_sub_attach(n->sub);
	waiters_host_done(n, true, NULL);
}

/* Starts a successor with spec beside p's serving host (any earlier one discarded). */
static void upgrade_start(struct runner *p, const struct plugin_spec *spec, supervisor_done_fn done,
			  void *arg)
{
	struct runner *n;

	if (p->next_ver != NULL)
		upgrade_failed(p->next_ver, "replaced by a newer upgrade");
	n = plugin_new(p->set, spec, p);
	p->next_ver = n;
	wait_next_host(n, done, arg);
	plugin_start(n);
}

/* ---- public verbs ---- */

static void plugin_set_spec(struct runner *p, const struct plugin_spec *spec)
{
	free(p->path);
	p->path = xstrdup(spec->path);
	json_object_put(p->config);
	p->config = spec->config ? json_object_get(spec->config) : json_object_new_object();
	json_object_put(p->permissions);
	p->permissions =
	    spec->permissions ? json_object_get(spec->permissions) : json_object_new_array();
	p->mem_limit = spec->mem_limit ? spec->mem_limit : DEFAULT_MEM_LIMIT;
	p->handshake_timeout_ms = spec->handshake_timeout_ms > 0 ? spec->handshake_timeout_ms
								 : p->set->o.handshake_timeout_ms;
	p->event_timeout_ms =
	    spec->event_timeout_ms > 0 ? spec->event_timeout_ms : p->set->o.event_timeout_ms;
	hostlog_set_secrets(p->out, spec->secrets);
}

/*
 * A plugin's record with no host yet: in the list with its own subscriber,
 * or (prev set) a successor of prev, outside the list, borrowing prev's.
 */
static struct runner *plugin_new(struct runner_set *set, const struct plugin_spec *spec,
				 struct runner *prev)
{
	struct runner *p = xcalloc(1, sizeof *p);

	p->set = set;
	p->name = xstrdup(spec->name);
	p->out = hostlog_new(p->name);
	plugin_set_spec(p, spec);
	p->subscriptions = json_object_new_array();
	p->sandbox = json_object_new_object();
	p->restart_timer = evtimer_new(set->base, restart_timer_cb, p);
	if (p->restart_timer == NULL)
		fatal("plugin_new: out of memory");
	p->turn = startq_ticket_new(set->startq, turn_came, p);
	p->sub = prev ? prev->sub : bus_sub_new(set->bus, p->name, bus_ready, p);
	p->remove_why = BUS_DROP_DISABLED;
	backoff_init(&p->backoff, set->o.backoff_initial_ms, set->o.backoff_max_ms,
		     set->o.crash_limit, set->o.crash_window_ms);
	p->waiters = waitlist_new();
	p->prev_ver = prev;
	if (prev == NULL)
		TAILQ_INSERT_TAIL(&set->list, p, entry);
	return p;
}

void runner_destroy(struct runner *p)
{
	if (p->next_ver != NULL)
		upgrade_failed(p->next_ver, "the plugin was stopped during its upgrade");
	if (p->prev_ver != NULL)
		p->prev_ver->next_ver = NULL;
	else
		TAILQ_REMOVE(&p->set->list, p, entry);
	changed(p); /* gone, or (an upgrade) its successor in its place */
	if (!p->set->freeing)
		waiters_all_done(p, "the plugin was removed");
	waitlist_free(p->waiters);
	host_free(p->host);
	startq_ticket_free(p->turn);
	event_free(p->restart_timer);
	if (p->prev_ver == NULL) /* a successor's subscriber is borrowed */
		bus_sub_free(p->sub, p->set->freeing ? BUS_DROP_SHUTDOWN : p->remove_why);
	json_object_put(p->config);
	json_object_put(p->permissions);
	json_object_put(p->sandbox);
	json_object_put(p->subscriptions);
	hostlog_free(p->out);
	json_object_put(p->last_exit.stderr_tail);
	free(p->last_exit.description);
	free(p->config_error);
	free(p->version);
	free(p->path);
	free(p->name);
	free(p);
}

/* ---- the supervisor's verbs on one plugin ---- */

void runner_run(struct runner_set *set, const struct plugin_spec *spec, supervisor_done_fn done,
		void *arg)
{
	struct runner *p = runner_find(set, spec->name);

	if (p == NULL) {
		p = plugin_new(set, spec, NULL);
		wait_next_host(p, done, arg);
		plugin_start(p);
		return;
	}
	if (p->state == SUP_RUNNING && !p->stop_requested && p->host != NULL &&
	    host_peer(p->host) != NULL && peer_serving(host_peer(p->host))) {
		/* Serving: the new spec starts beside it and takes over once ready. */
		upgrade_start(p, spec, done, arg);
		return;
	}
	if (p->next_ver != NULL)
		upgrade_failed(p->next_ver, "replaced by a restart");
	/* Re-enable, or a plugin with no serving host: new spec, fresh crash history. */
	plugin_set_spec(p, spec);
	backoff_reset(&p->backoff);
	p->remove_after = false;
	wait_next_host(p, done, arg);
	if (p->host != NULL)
		plugin_restart(p);
	else
		plugin_start(p);
}

void runner_stop(struct runner *p, enum bus_drop why)
{
	if (p->next_ver != NULL)
		upgrade_failed(p->next_ver, "the plugin was stopped during its upgrade");
	p->remove_why = why;
	if (p->host == NULL) {
		runner_destroy(p);
		return;
	}
	p->remove_after = true;
	plugin_request_stop(p);
}

/* A configuration sent to a serving host, waiting for its answer. */
struct config_wait {
	struct runner *p;
	struct waiter *w;
	json_object *config;
};

/* The serving host's answer to a config request. */
static void config_answered(void *arg, bool ok, const char *code, const char *message)
{
	struct config_wait *cw = arg;
	struct runner *p = cw->p;

	if (ok) {
		json_object_put(p->config);
		p->config = json_object_get(cw->config);
		free(p->config_error);
		p->config_error = NULL;
		waiter_answer(cw->w, true, NULL);
	} else if (strcmp(code, "lost") == 0) {
		/* The host is gone (p may be on its way out): the old configuration stands. */
		waiter_answer(cw->w, false, message);
	} else if (strcmp(code, ERR_UNIMPLEMENTED) == 0) {
		/* No on_config hook: a host started with it applies it. */
		log_info(p->name, "restarting to apply the new configuration");
		json_object_put(p->config);
		p->config = json_object_get(cw->config);
		waitlist_add(p->waiters, cw->w, p->host_no + 1);
		plugin_restart(p);
	} else {
		free(p->config_error);
		p->config_error = xstrdup(message ? message : "rejected");
		log_warn(p->name, "plugin rejected the new configuration: %s", p->config_error);
		waiter_answer(cw->w, false, p->config_error);
	}
	json_object_put(cw->config);
	free(cw);
}

void runner_configure(struct runner *p, json_object *config, supervisor_done_fn done, void *arg)
{
	struct config_wait *cw = xcalloc(1, sizeof *cw);

	cw->p = p;
	cw->w = waiter_new(p->set->base, done, arg);
	cw->config = json_object_get(config);
	if (p->host != NULL && host_peer(p->host) != NULL &&
	    peer_configure(host_peer(p->host), config, config_answered, cw) == 0)
		return;
	/* No serving host: the next start takes it. */
	json_object_put(p->config);
	p->config = json_object_get(config);
	waiter_answer(cw->w, true, NULL);
	json_object_put(cw->config);
	free(cw);
}

void runner_set_secrets(struct runner *p, json_object *secrets)
{
	hostlog_set_secrets(p->out, secrets);
}

bool runner_shutdown_step(struct runner *p)
{
	bool host = p->host != NULL;

	if (p->next_ver != NULL)
		upgrade_failed(p->next_ver, "the daemon is shutting down");
	if (p->host != NULL && !p->stop_requested)
		plugin_request_stop(p);
	if (p->state == SUP_CRASHED || startq_waiting(p->turn)) {
		/* Waiting to restart, or for a turn to start: it does not start now. */
		startq_release(p->turn);
		evtimer_del(p->restart_timer);
		set_state(p, SUP_STOPPED);
		waiters_all_done(p, "the daemon is shutting down");
	}
	return host;
}

/* ---- what the API and the metrics show (the JSON view is supervisor_status.c) ---- */

void runner_stats(const struct runner *p, struct supervisor_stats *st)
{
	memset(st, 0, sizeof *st);
	st->name = p->name;
	st->version = p->version;
	st->path = p->path;
	st->state = p->state;
	st->state_for_ms = clock_mono_ms() - p->state_since_ms;
	st->pid = p->host ? host_pid(p->host) : 0;
	st->restarts = p->restarts;
	st->crashes = p->crashes;
	memcpy(st->causes, p->causes, sizeof st->causes);
	st->restart_in_ms = p->state == SUP_CRASHED ? p->next_delay_ms : 0;
	bus_sub_stats(p->sub, &st->events);
	st->log_dropped = hostlog_dropped(p->out);
	st->log_truncated = hostlog_truncated(p->out);
	st->mem_limit = p->mem_limit;
	st->event_timeout_ms = p->event_timeout_ms;
	st->handshake_timeout_ms = p->handshake_timeout_ms;
	st->cgroup = p->set->o.cgroup != NULL;
	st->subscriptions = p->subscriptions;
	st->sandbox = p->sandbox;
	st->config_error = p->config_error;
	st->sub = p->sub;
	st->jobs = p->set->o.services != NULL ? p->set->o.services->jobs : NULL;
	st->last_exit.ended = p->last_exit.ended;
	st->last_exit.cause = p->last_exit.cause;
	st->last_exit.code = p->last_exit.code;
	st->last_exit.sig = p->last_exit.sig;
	st->last_exit.description = p->last_exit.description;
	st->last_exit.stderr_tail = p->last_exit.stderr_tail;
}

json_object *runner_logs(const struct runner *p, size_t max)
{
	return hostlog_recent(p->out, max);
}

struct peer *runner_serving_peer(const struct runner *p, enum supervisor_state *state)
{
	struct peer *peer = p->state == SUP_RUNNING && p->host ? host_peer(p->host) : NULL;

	*state = p->state;
	return peer != NULL && peer_serving(peer) ? peer : NULL;
}
