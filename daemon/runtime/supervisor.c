/*
 * Plugin hosts as processes. Like tmux's job.c, a host has two deaths - its
 * channel lost (the peer says so) and its pid reaped - and whichever comes
 * second completes it (host_end_check); there is no other place a host ends.
 */
#define _GNU_SOURCE
#include "supervisor.h"
#include "supervisor_int.h"

#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backoff.h"
#include "bus.h"
#include "cgroup.h"
#include "clock.h"
#include "exitcause.h"
#include "frame.h"
#include "hostlog.h"
#include "log.h"
#include "msg.h"
#include "names.h"
#include "peer.h"
#include "spawn.h"
#include "waiter.h"
#include "xmalloc.h"

#define DEFAULT_MEM_LIMIT (256ull << 20)
#define CGROUP_PIDS_MAX 4
#define SHUTDOWN_POLL_MS 20

static const char *const state_names[SUP_STATE_COUNT] = {"starting", "running", "stopping",
							 "crashed",  "failed",	"stopped"};

static void plugin_start(struct plugin *p);

const char *supervisor_state_name(enum supervisor_state st)
{
	return (unsigned)st < SUP_STATE_COUNT ? state_names[st] : "unknown";
}

static void set_state(struct plugin *p, enum supervisor_state st)
{
	p->state = st;
	p->state_since_ms = clock_mono_ms();
	supervisor_changed(p);
}

static int opt_or(int v, int def)
{
	return v > 0 ? v : def;
}

struct plugin *supervisor_find(struct supervisor *sup, const char *name)
{
	struct plugin *p;
	TAILQ_FOREACH(p, &sup->plugins, entry)
	{
		if (strcmp(p->name, name) == 0)
			return p;
	}
	return NULL;
}

static void arm(struct event *ev, int64_t ms)
{
	struct timeval tv = clock_tv(ms);
	evtimer_add(ev, &tv);
}

/* ---- waiters ---- */

/* The current host is ready (ok) or ended before it: answers the runs waiting for it. */
static void waiters_host_done(struct plugin *p, bool ok, const char *reason)
{
	waitlist_answer_upto(p->waiters, p->host_no, ok, reason);
}

/* The plugin will not start again by itself (failed, stopped, forgotten). */
static void waiters_all_done(struct plugin *p, const char *reason)
{
	waitlist_answer_all(p->waiters, false, reason);
}

/* A run waits for the next host to be started. */
static void wait_next_host(struct plugin *p, supervisor_done_fn done, void *arg)
{
	waitlist_add(p->waiters, waiter_new(p->sup->base, done, arg), p->host_no + 1);
}

/* ---- ending a host ---- */

/* Records why the host ends, unless that is already decided (the first reason wins). */
static void decide(struct plugin *p, enum exit_cause cause, const char *reason)
{
	if (p->cause != CAUSE_NONE || cause == CAUSE_NONE)
		return;
	p->cause = cause;
	free(p->reason);
	p->reason = xstrdup(reason ? reason : exit_cause_name(cause));
}

static void kill_host(struct plugin *p)
{
	if (p->pid > 0 && !p->reaped)
		kill(p->pid, SIGKILL);
}

static void plugin_destroy(struct plugin *p);
static struct plugin *plugin_new(struct supervisor *sup, const struct plugin_spec *spec,
				 struct plugin *prev);
static void upgrade_failed(struct plugin *n, const char *reason);
static void upgrade_promote(struct plugin *old);
static void upgrade_switch(struct plugin *n);

/* What the plugin does next once a host has crashed, been refused or failed to load. */
static void after_crash(struct plugin *p, enum exit_cause cause, const char *desc)
{
	p->crashes++;
	p->causes[cause]++;
	if (bus_sub_detach(p->sub, true) > 0)
		log_error(p->name,
			  "event set aside as poison: it was being handled at two crashes");
	log_warn(p->name, "host crashed (%s): %s", exit_cause_name(cause), desc);
	waiters_host_done(p, false, desc);
	if (p->remove_after) {
		plugin_destroy(p);
		return;
	}
	if (p->sup->shutting_down) {
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
			  p->sup->o.crash_limit, p->sup->o.crash_window_ms / 1000);
		set_state(p, SUP_FAILED);
		waiters_all_done(p, desc);
		return;
	}
	set_state(p, SUP_CRASHED);
	arm(p->restart_timer, p->next_delay_ms);
}

/*
 * Both deaths have happened: the host is gone. Accounts for it, then stops,
 * restarts or fails the plugin. The only place a host's end is handled.
 */
static void host_end_check(struct plugin *p)
{
	char desc[256];
	enum exit_cause cause;
	bool clean = p->stop_requested && p->cause == CAUSE_NONE;
	int status = p->status;

	if (!p->lost || !p->reaped)
		return;
	evtimer_del(p->stop_timer);
	hostlog_close_pipe(p->out);
	peer_free(p->peer);
	p->peer = NULL;
	p->pid = 0;
	if (p->sup->o.cgroup != NULL)
		cgroup_release(p->sup->o.cgroup, p->name);

	if (p->cause != CAUSE_NONE) {
		cause = p->cause;
		snprintf(desc, sizeof desc, "%s", p->reason);
	} else {
		cause = exit_classify(status, desc, sizeof desc);
		/* A host at its address-space limit dies in malloc; say so when it said so. */
		const char *last = hostlog_last(p->out);
		if (cause == CAUSE_SIGNAL && last != NULL && strstr(last, "out of memory") != NULL)
			cause = CAUSE_MEMORY;
	}
	p->last_exit.ended = true;
	p->last_exit.cause = clean ? CAUSE_NONE : cause;
	p->last_exit.sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	p->last_exit.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	free(p->last_exit.description);
	p->last_exit.description = xstrdup(clean ? "stopped" : desc);
	json_object_put(p->last_exit.stderr_tail);
	p->last_exit.stderr_tail = hostlog_take_tail(p->out);

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
	if (!clean) {
		after_crash(p, cause, desc);
		return;
	}
	/* Stopped on purpose: events in flight go back to the queue. */
	bus_sub_detach(p->sub, false);
	waiters_host_done(p, false, "stopped before it was ready");
	if (p->remove_after) {
		plugin_destroy(p);
		return;
	}
	if (p->restart_after) {
		plugin_start(p);
		return;
	}
	set_state(p, SUP_STOPPED);
	waiters_all_done(p, "stopped");
}

static void host_ready(struct peer *peer, void *arg)
{
	struct plugin *p = arg;

	const char *version;
	json_object *sandbox, *subs;
	peer_declared(peer, &version, &sandbox, &subs);
	free(p->version);
	p->version = xstrdup(version);
	json_object_put(p->sandbox);
	p->sandbox = json_object_get(sandbox);
	json_object_put(p->subscriptions);
	p->subscriptions = json_object_get(subs);
	set_state(p, SUP_RUNNING);
	log_info(p->name, "ready: pid %d, version %s, start %" PRId64 " ms", (int)p->pid,
		 p->version, clock_mono_ms() - p->started_ms);
	if (p->prev_ver != NULL) {
		upgrade_switch(p);
		return;
	}
	bus_sub_attach(p->sub);
	waiters_host_done(p, true, NULL);
}

/* The conversation is over (the first death). */
static void host_lost(struct peer *peer, enum exit_cause cause, const char *reason, bool told,
		      void *arg)
{
	struct plugin *p = arg;

	p->lost = true;
	if (cause != CAUSE_NONE) {
		if (p->cause == CAUSE_NONE && !told)
			log_warn(p->name, "killing host (pid %d): %s", (int)p->pid, reason);
		decide(p, cause, reason);
	}
	if (p->pid > 0 && !p->reaped) {
		if (cause != CAUSE_NONE && !told)
			kill_host(p);
		else if (!evtimer_pending(p->stop_timer, NULL))
			/* Told why, or it hung up on us: it has stop_timeout_ms to exit. */
			arm(p->stop_timer, p->sup->o.stop_timeout_ms);
	}
	host_end_check(p);
}

/* A host that outstays its stop timeout is killed. */
static void stop_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct plugin *p = arg;

	if (p->pid <= 0 || p->reaped)
		return;
	if (!p->stop_requested && p->cause == CAUSE_NONE) {
		/* It hung up on us but kept running: that breaks the protocol. */
		char why[96];
		snprintf(why, sizeof why, "closed its channel but did not exit within %d ms",
			 p->sup->o.stop_timeout_ms);
		decide(p, CAUSE_PROTOCOL, why);
	}
	log_warn(p->name, "host did not exit within %d ms: SIGKILL", p->sup->o.stop_timeout_ms);
	kill_host(p);
}

static void restart_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct plugin *p = arg;
	p->restarts++;
	plugin_start(p);
}

void supervisor_reap(struct supervisor *sup)
{
	struct plugin *p, *next;
	int status;

	/* By pid: a child that is not a host (the built-in listing) is its owner's. */
	for (p = TAILQ_FIRST(&sup->plugins); p != NULL; p = next) {
		next = TAILQ_NEXT(p, entry);
		/* A successor first: its end may promote it or discard it, never free p. */
		for (struct plugin *h = p->next_ver ? p->next_ver : p;; h = p) {
			if (h->pid > 0 && !h->reaped &&
			    waitpid(h->pid, &status, WNOHANG) == h->pid) {
				h->reaped = true;
				h->status = status;
				host_end_check(h);
			}
			if (h == p)
				break;
		}
	}
}

/* ---- starting ---- */

static void bus_ready(struct bus_sub *sub, void *arg)
{
	struct plugin *p = arg;
	if (p->peer != NULL)
		peer_kick(p->peer);
}

/* The host binary itself cannot be started: no use retrying. */
static void start_failed(struct plugin *p, const char *err)
{
	log_error(p->name, "cannot start host: %s", err);
	p->last_exit.ended = true;
	free(p->last_exit.description);
	p->last_exit.description = xstrdup(err);
	p->last_exit.cause = CAUSE_SETUP;
	set_state(p, SUP_FAILED);
	waiters_all_done(p, err);
}

static void plugin_start(struct plugin *p)
{
	struct supervisor *sup = p->sup;
	struct spawn_child c;
	char err[256];
	int cgfd = -1, r;

	evtimer_del(p->restart_timer);
	p->cause = CAUSE_NONE;
	free(p->reason);
	p->reason = NULL;
	p->stop_requested = p->restart_after = false;
	p->lost = p->reaped = false;
	p->host_no++;
	p->started_ms = clock_mono_ms();
	set_state(p, SUP_STARTING);
	if (sup->o.cgroup != NULL) {
		/* memory.max as the address-space limit; a few tasks, though the host needs one. */
		cgfd = cgroup_prepare(sup->o.cgroup, p->name, p->mem_limit, CGROUP_PIDS_MAX, err,
				      sizeof err);
		if (cgfd < 0)
			log_warn(p->name, "no cgroup limits for this host: %s", err);
	}
	r = spawn_plugin_host(sup->o.host_path,
			      &(struct host_args){.name = p->name,
						  .plugin = p->path,
						  .mem_limit = p->mem_limit,
						  .strict = sup->o.strict,
						  .sandbox_debug = sup->o.sandbox_debug},
			      cgfd, &c, err, sizeof err);
	if (cgfd >= 0)
		close(cgfd);
	if (r < 0) {
		start_failed(p, err);
		return;
	}
	p->pid = c.pid;
	p->peer = peer_new(sup->base, sup->bus, p->sub, p->out, c.sock,
			   &(struct peer_params){.name = p->name,
						 .config = p->config,
						 .permissions = p->permissions,
						 .max_frame = sup->o.max_frame,
						 .handshake_timeout_ms = p->handshake_timeout_ms,
						 .event_timeout_ms = p->event_timeout_ms,
						 .ping_interval_ms = sup->o.ping_interval_ms,
						 .ping_timeout_ms = sup->o.ping_timeout_ms,
						 .strict = sup->o.strict,
						 .services = sup->o.services},
			   &(struct peer_owner){.ready = host_ready, .lost = host_lost, .arg = p});
	hostlog_open_pipe(p->out, sup->base, c.logfd);
	log_debug(p->name, "host started (pid %d)", (int)p->pid);
}

/* Asks the host to stop; the stop timer escalates to SIGKILL. */
static void plugin_request_stop(struct plugin *p)
{
	p->stop_requested = true;
	evtimer_del(p->restart_timer);
	if (p->pid <= 0)
		return;
	set_state(p, SUP_STOPPING);
	if (p->peer != NULL && peer_serving(p->peer)) {
		peer_shutdown(p->peer);
		arm(p->stop_timer, p->sup->o.stop_timeout_ms);
	} else {
		kill_host(p);
	}
}

/* Stops the host gracefully and starts it again (new files, new configuration). */
static void plugin_restart(struct plugin *p)
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
static void upgrade_failed(struct plugin *n, const char *reason)
{
	struct plugin *old = n->prev_ver;

	if (n->switching && !n->sup->shutting_down)
		old->restart_after = true;
	log_warn(n->name, "upgrade to %s abandoned, the running version stays: %s", n->path,
		 reason);
	waiters_all_done(n, reason);
	plugin_destroy(n);
}

/* The new host is ready: delivery pauses while the old one answers what it has and stops. */
static void upgrade_switch(struct plugin *n)
{
	struct plugin *old = n->prev_ver;

	n->switching = true;
	bus_sub_hold(n->sub);
	if (old->pid <= 0) {
		upgrade_promote(old);
		return;
	}
	plugin_request_stop(old);
	old->restart_after = false;
}

/* The old host is gone: the successor takes its place, its queue and its history. */
static void upgrade_promote(struct plugin *old)
{
	struct plugin *n = old->next_ver;

	old->next_ver = NULL;
	n->prev_ver = NULL;
	n->switching = false;
	n->restarts = old->restarts;
	n->crashes = old->crashes;
	memcpy(n->causes, old->causes, sizeof n->causes);
	n->remove_why = old->remove_why;
	TAILQ_INSERT_AFTER(&old->sup->plugins, old, n, entry);
	bus_sub_set_ready(n->sub, bus_ready, n);
	old->sub = NULL;
	waitlist_answer_all(old->waiters, true, NULL);
	plugin_destroy(old);
	log_info(n->name, "switched to version %s (pid %d)", n->version, (int)n->pid);
	bus_sub_attach(n->sub);
	waiters_host_done(n, true, NULL);
}

/* Starts a successor with spec beside p's serving host (any earlier one discarded). */
static void upgrade_start(struct plugin *p, const struct plugin_spec *spec, supervisor_done_fn done,
			  void *arg)
{
	struct plugin *n;

	if (p->next_ver != NULL)
		upgrade_failed(p->next_ver, "replaced by a newer upgrade");
	n = plugin_new(p->sup, spec, p);
	p->next_ver = n;
	wait_next_host(n, done, arg);
	plugin_start(n);
}

/* ---- public verbs ---- */

static void plugin_set_spec(struct plugin *p, const struct plugin_spec *spec)
{
	free(p->path);
	p->path = xstrdup(spec->path);
	json_object_put(p->config);
	p->config = spec->config ? json_object_get(spec->config) : json_object_new_object();
	json_object_put(p->permissions);
	p->permissions =
	    spec->permissions ? json_object_get(spec->permissions) : json_object_new_array();
	p->mem_limit = spec->mem_limit ? spec->mem_limit : DEFAULT_MEM_LIMIT;
	p->handshake_timeout_ms =
	    opt_or(spec->handshake_timeout_ms, p->sup->o.handshake_timeout_ms);
	p->event_timeout_ms = opt_or(spec->event_timeout_ms, p->sup->o.event_timeout_ms);
	hostlog_set_secrets(p->out, spec->secrets);
}

/*
 * A plugin's record with no host yet: in the list with its own subscriber,
 * or (prev set) a successor of prev, outside the list, borrowing prev's.
 */
static struct plugin *plugin_new(struct supervisor *sup, const struct plugin_spec *spec,
				 struct plugin *prev)
{
	struct plugin *p = xcalloc(1, sizeof *p);

	p->sup = sup;
	p->name = xstrdup(spec->name);
	p->out = hostlog_new(p->name);
	plugin_set_spec(p, spec);
	p->subscriptions = json_object_new_array();
	p->sandbox = json_object_new_object();
	p->stop_timer = evtimer_new(sup->base, stop_timer_cb, p);
	p->restart_timer = evtimer_new(sup->base, restart_timer_cb, p);
	if (p->stop_timer == NULL || p->restart_timer == NULL)
		fatal("plugin_new: out of memory");
	p->sub = prev ? prev->sub : bus_sub_new(sup->bus, p->name, bus_ready, p);
	p->remove_why = BUS_DROP_DISABLED;
	backoff_init(&p->backoff, sup->o.backoff_initial_ms, sup->o.backoff_max_ms,
		     sup->o.crash_limit, sup->o.crash_window_ms);
	p->waiters = waitlist_new();
	p->prev_ver = prev;
	if (prev == NULL)
		TAILQ_INSERT_TAIL(&sup->plugins, p, entry);
	return p;
}

static void plugin_destroy(struct plugin *p)
{
	if (p->next_ver != NULL)
		upgrade_failed(p->next_ver, "the plugin was stopped during its upgrade");
	if (p->prev_ver != NULL)
		p->prev_ver->next_ver = NULL;
	else
		TAILQ_REMOVE(&p->sup->plugins, p, entry);
	supervisor_changed(p); /* gone, or (an upgrade) its successor in its place */
	if (!p->sup->freeing)
		waiters_all_done(p, "the plugin was removed");
	waitlist_free(p->waiters);
	if (p->pid > 0 && !p->reaped) {
		/* Only at teardown: a host being removed is otherwise reaped first. */
		kill_host(p);
		while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	peer_free(p->peer);
	event_free(p->stop_timer);
	event_free(p->restart_timer);
	if (p->prev_ver == NULL) /* a successor's subscriber is borrowed */
		bus_sub_free(p->sub, p->sup->freeing ? BUS_DROP_SHUTDOWN : p->remove_why);
	json_object_put(p->config);
	json_object_put(p->permissions);
	json_object_put(p->sandbox);
	json_object_put(p->subscriptions);
	hostlog_free(p->out);
	json_object_put(p->last_exit.stderr_tail);
	free(p->last_exit.description);
	free(p->reason);
	free(p->config_error);
	free(p->version);
	free(p->path);
	free(p->name);
	free(p);
}

struct supervisor *supervisor_new(struct event_base *base, struct bus *bus,
				  const struct supervisor_options *opts)
{
	struct supervisor *sup = xcalloc(1, sizeof *sup);
	sup->base = base;
	sup->bus = bus;
	sup->o = *opts;
	sup->o.max_frame = sup->o.max_frame ? sup->o.max_frame : FRAME_MAX_DEFAULT;
	sup->o.handshake_timeout_ms = opt_or(opts->handshake_timeout_ms, 5000);
	sup->o.event_timeout_ms = opt_or(opts->event_timeout_ms, 5000);
	sup->o.ping_interval_ms = opt_or(opts->ping_interval_ms, 10000);
	sup->o.ping_timeout_ms = opt_or(opts->ping_timeout_ms, 5000);
	sup->o.stop_timeout_ms = opt_or(opts->stop_timeout_ms, 3000);
	sup->o.backoff_initial_ms = opt_or(opts->backoff_initial_ms, 100);
	sup->o.backoff_max_ms = opt_or(opts->backoff_max_ms, 30000);
	sup->o.crash_limit = opt_or(opts->crash_limit, 5);
	sup->o.crash_window_ms = opt_or(opts->crash_window_ms, 60000);
	sup->o.host_path = xstrdup(opts->host_path);
	TAILQ_INIT(&sup->plugins);
	return sup;
}

int supervisor_run(struct supervisor *sup, const struct plugin_spec *spec, supervisor_done_fn done,
		   void *arg, char *err, size_t errlen)
{
	const char *builtin = spec->path ? name_builtin(spec->path) : NULL;
	struct plugin *p;

	if (!name_plugin_valid(spec->name)) {
		snprintf(err, errlen, "invalid plugin name");
		return -1;
	}
	if (builtin != NULL) {
		/* Compiled into the host: the host checks that it has it. */
		if (strcmp(builtin, spec->name) != 0) {
			snprintf(err, errlen, "%s does not name the built-in %s", spec->path,
				 spec->name);
			return -1;
		}
	} else if (spec->path == NULL || spec->path[0] != '/') {
		snprintf(err, errlen, "plugin path must be absolute");
		return -1;
	} else if (access(spec->path, R_OK) < 0) {
		snprintf(err, errlen, "%s: %s", spec->path, strerror(errno));
		return -1;
	}
	if (spec->permissions != NULL && !json_object_is_type(spec->permissions, json_type_array)) {
		snprintf(err, errlen, "permissions must be an array");
		return -1;
	}
	p = supervisor_find(sup, spec->name);
	if (p == NULL) {
		p = plugin_new(sup, spec, NULL);
		wait_next_host(p, done, arg);
		plugin_start(p);
		return 0;
	}
	if (p->state == SUP_RUNNING && !p->stop_requested && p->peer != NULL &&
	    peer_serving(p->peer)) {
		/* Serving: the new spec starts beside it and takes over once ready. */
		upgrade_start(p, spec, done, arg);
		return 0;
	}
	if (p->next_ver != NULL)
		upgrade_failed(p->next_ver, "replaced by a restart");
	/* Re-enable, or a plugin with no serving host: new spec, fresh crash history. */
	plugin_set_spec(p, spec);
	backoff_reset(&p->backoff);
	p->remove_after = false;
	wait_next_host(p, done, arg);
	if (p->pid > 0)
		plugin_restart(p);
	else
		plugin_start(p);
	return 0;
}

int supervisor_stop(struct supervisor *sup, const char *name, enum bus_drop why)
{
	struct plugin *p = supervisor_find(sup, name);
	if (p == NULL)
		return -1;
	if (p->next_ver != NULL)
		upgrade_failed(p->next_ver, "the plugin was stopped during its upgrade");
	p->remove_why = why;
	if (p->pid <= 0) {
		plugin_destroy(p);
		return 0;
	}
	p->remove_after = true;
	plugin_request_stop(p);
	return 0;
}

/* The serving host's answer to a config request. */
static void config_answered(void *arg, bool ok, const char *code, const char *message)
{
	struct config_wait *cw = arg;
	struct plugin *p = cw->p;

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

int supervisor_configure(struct supervisor *sup, const char *name, json_object *config,
			 supervisor_done_fn done, void *arg)
{
	struct plugin *p = supervisor_find(sup, name);
	struct config_wait *cw;

	if (p == NULL || config == NULL || !json_object_is_type(config, json_type_object))
		return -1;
	cw = xcalloc(1, sizeof *cw);
	cw->p = p;
	cw->w = waiter_new(sup->base, done, arg);
	cw->config = json_object_get(config);
	if (p->peer != NULL && peer_configure(p->peer, config, config_answered, cw) == 0)
		return 0;
	/* No serving host: the next start takes it. */
	json_object_put(p->config);
	p->config = json_object_get(config);
	waiter_answer(cw->w, true, NULL);
	json_object_put(cw->config);
	free(cw);
	return 0;
}

int supervisor_set_secrets(struct supervisor *sup, const char *name, json_object *secrets)
{
	struct plugin *p = supervisor_find(sup, name);

	if (p == NULL)
		return -1;
	hostlog_set_secrets(p->out, secrets);
	return 0;
}

bool supervisor_has(struct supervisor *sup, const char *name)
{
	return supervisor_find(sup, name) != NULL;
}

/* ---- shutdown: drain, then stop every host ---- */

static void shutdown_tick(evutil_socket_t fd, short what, void *arg)
{
	struct supervisor *sup = arg;
	struct plugin *p;
	bool draining = bus_busy(sup->bus) && clock_mono_ms() < sup->shutdown_deadline_ms;
	bool hosts = false;

	if (!draining) {
		TAILQ_FOREACH(p, &sup->plugins, entry)
		{
			if (p->next_ver != NULL)
				upgrade_failed(p->next_ver, "the daemon is shutting down");
			hosts = hosts || p->pid > 0;
			if (p->pid > 0 && !p->stop_requested)
				plugin_request_stop(p);
			if (p->state == SUP_CRASHED) {
				evtimer_del(p->restart_timer);
				set_state(p, SUP_STOPPED);
				waiters_all_done(p, "the daemon is shutting down");
			}
		}
		if (!hosts) {
			if (sup->shutdown_done)
				sup->shutdown_done(sup->shutdown_arg);
			return;
		}
	}
	arm(sup->shutdown_timer, SHUTDOWN_POLL_MS);
}

void supervisor_shutdown(struct supervisor *sup, int timeout_ms, void (*done)(void *arg), void *arg)
{
	if (sup->shutting_down)
		return;
	sup->shutting_down = true;
	sup->shutdown_done = done;
	sup->shutdown_arg = arg;
	sup->shutdown_deadline_ms = clock_mono_ms() + timeout_ms;
	sup->shutdown_timer = evtimer_new(sup->base, shutdown_tick, sup);
	shutdown_tick(-1, 0, sup);
}

void supervisor_free(struct supervisor *sup)
{
	if (sup == NULL)
		return;
	sup->freeing = true;
	while (!TAILQ_EMPTY(&sup->plugins))
		plugin_destroy(TAILQ_FIRST(&sup->plugins));
	if (sup->shutdown_timer)
		event_free(sup->shutdown_timer);
	free((char *)sup->o.host_path);
	free(sup);
}
