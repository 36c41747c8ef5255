#define _GNU_SOURCE
#include "supervisor.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
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
#include "cgroup.h"
#include "exitcause.h"
#include "hostlog.h"
#include "bus.h"
#include "frame.h"
#include "log.h"
#include "msg.h"
#include "names.h"
#include "spawn.h"
#include "supervisor_int.h"
#include "xmalloc.h"

#define DEFAULT_MEM_LIMIT (256ull << 20)
#define CGROUP_PIDS_MAX 4

static const char *const state_names[] = {"starting", "running", "stopping",
					  "crashed",  "failed",	 "stopped"};

static void plugin_start(struct plugin *p);

struct deferred {
	supervisor_done_fn fn;
	void *arg;
	bool ok;
	char *reason;
};

static void deferred_cb(evutil_socket_t fd, short what, void *d_)
{
	struct deferred *d = d_;

	d->fn(d->arg, d->ok, d->reason);
	free(d->reason);
	free(d);
}

/* Calls fn on the next turn of the loop: a verb's done never runs inside the verb. */
static void call_later(struct supervisor *sup, supervisor_done_fn fn, void *arg, bool ok,
		       const char *reason)
{
	struct timeval now = {0, 0};
	struct deferred *d = fn ? xcalloc(1, sizeof *d) : NULL;

	if (d == NULL)
		return;
	d->fn = fn;
	d->arg = arg;
	d->ok = ok;
	d->reason = reason ? xstrdup(reason) : NULL;
	if (event_base_once(sup->base, -1, EV_TIMEOUT, deferred_cb, d, &now) < 0)
		fatal("event_base_once failed");
}

/* The first host of a run became ready, or ended (reason) before it did. */
static void run_answer(struct plugin *p, bool ok, const char *reason)
{
	supervisor_done_fn fn = p->run_done;

	p->run_done = NULL;
	call_later(p->sup, fn, p->run_arg, ok, reason);
}

/* The configuration sent last will get no answer (reason), or got one. */
static void cfg_answer(struct plugin *p, bool ok, const char *reason)
{
	supervisor_done_fn fn = p->cfg_done;

	p->cfg_done = NULL;
	json_object_put(p->cfg_pending);
	p->cfg_pending = NULL;
	call_later(p->sup, fn, p->cfg_arg, ok, reason);
}

void plugin_set_state(struct plugin *p, enum pstate st)
{
	p->state = st;
	p->state_since_ms = bus_now_ms();
	if (p->run_done != NULL && st == ST_RUNNING)
		run_answer(p, true, NULL);
	else if (p->run_done != NULL && st != ST_STARTING && st != ST_STOPPING)
		run_answer(p, false,
			   p->last_exit.description ? p->last_exit.description : "the host ended");
	if ((p->cfg_done != NULL || p->cfg_pending != NULL) && st != ST_RUNNING)
		cfg_answer(p, false, "the host ended before it answered");
}

void plugin_config_answer(struct plugin *p, bool ok, bool unimplemented, const char *msg)
{
	if (ok && p->cfg_pending != NULL) {
		json_object_put(p->config);
		p->config = json_object_get(p->cfg_pending);
	}
	cfg_answer(p, ok, msg);
	if (unimplemented)
		plugin_restart(p);
}

static int opt_or(int v, int def)
{
	return v > 0 ? v : def;
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

static struct plugin *find(struct supervisor *sup, const char *name)
{
	struct plugin *p;
	TAILQ_FOREACH(p, &sup->plugins, entry)
	{
		if (strcmp(p->name, name) == 0)
			return p;
	}
	return NULL;
}

static struct plugin *find_pid(struct supervisor *sup, pid_t pid)
{
	struct plugin *p;
	TAILQ_FOREACH(p, &sup->plugins, entry)
	{
		if (p->pid == pid)
			return p;
	}
	return NULL;
}

/* ---- output of the host ---- */

static void logp_read(struct bufferevent *bev, void *arg)
{
	hostlog_drain(((struct plugin *)arg)->out, bufferevent_get_input(bev), false);
}

static void logp_event(struct bufferevent *bev, short what, void *arg)
{
	struct plugin *p = arg;
	hostlog_drain(p->out, bufferevent_get_input(bev), true);
	bufferevent_free(p->logp);
	p->logp = NULL;
}

/* One timer, three uses: handshake deadline, stop timeout, restart delay. */
static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct plugin *p = arg;

	switch (p->state) {
	case ST_STARTING:
		host_kill(p, CAUSE_DEADLINE, "no %s within %d ms",
			  p->hs == HS_HELLO ? "hello" : "ready", p->handshake_timeout_ms);
		break;
	case ST_RUNNING:
	case ST_STOPPING:
		if (p->pid <= 0)
			break;
		if (!p->stop_requested && p->chan == NULL) {
			/* It hung up on us but kept running: that breaks the protocol. */
			host_kill(p, CAUSE_PROTOCOL,
				  "closed its channel but did not exit within %d ms",
				  p->sup->o.stop_timeout_ms);
			break;
		}
		log_warn(p->name, "host did not stop within %d ms: SIGKILL",
			 p->sup->o.stop_timeout_ms);
		kill(p->pid, SIGKILL);
		break;
	case ST_CRASHED:
		p->restarts++;
		plugin_start(p);
		break;
	default:
		break;
	}
}

static char *mem_arg(uint64_t v)
{
	return xasprintf("%" PRIu64, v);
}

static void plugin_start(struct plugin *p)
{
	struct supervisor *sup = p->sup;
	struct spawn_child c;
	char err[256];
	char *mem = mem_arg(p->mem_limit);
	char *argv[12];
	int n = 0, cgfd = -1, r;
	struct timeval tv = {p->handshake_timeout_ms / 1000,
			     (p->handshake_timeout_ms % 1000) * 1000};

	argv[n++] = "streamspace-plugin-host";
	argv[n++] = "--name";
	argv[n++] = p->name;
	argv[n++] = "--plugin";
	argv[n++] = p->path;
	argv[n++] = "--mem-limit";
	argv[n++] = mem;
	if (sup->o.strict)
		argv[n++] = "--strict";
	if (sup->o.sandbox_debug)
		argv[n++] = "--sandbox-debug";
	argv[n] = NULL;

	p->pending_cause = CAUSE_NONE;
	p->stop_requested = p->restart_after = false;
	p->hs = HS_HELLO;
	p->ping_id = 0;
	p->config_id = 0;
	p->started_ms = bus_now_ms();
	plugin_set_state(p, ST_STARTING);
	if (sup->o.cgroup != NULL) {
		/* memory.max as the address-space limit; a few tasks, though the host needs one. */
		cgfd = cgroup_prepare(sup->o.cgroup, p->name, p->mem_limit, CGROUP_PIDS_MAX, err,
				      sizeof err);
		if (cgfd < 0)
			log_warn(p->name, "no cgroup limits for this host: %s", err);
	}
	r = spawn_host_in(sup->o.host_path, argv, cgfd, &c, err, sizeof err);
	if (cgfd >= 0)
		close(cgfd);
	if (r < 0) {
		free(mem);
		/* The host binary itself is missing or broken: no use retrying. */
		log_error(p->name, "cannot start host: %s", err);
		free(p->last_exit.description);
		p->last_exit.description = xstrdup(err);
		p->last_exit.cause = CAUSE_SETUP;
		plugin_set_state(p, ST_FAILED);
		return;
	}
	free(mem);
	p->pid = c.pid;
	host_open(p, c.sock);
	p->logp = bufferevent_socket_new(sup->base, c.logfd, BEV_OPT_CLOSE_ON_FREE);
	if (p->logp == NULL)
		fatal("bufferevent_socket_new failed");
	bufferevent_setwatermark(p->logp, EV_READ, 0, HOSTLOG_LINE_MAX * 4);
	bufferevent_setcb(p->logp, logp_read, NULL, logp_event, p);
	bufferevent_enable(p->logp, EV_READ);
	evtimer_add(p->deadline, &tv);
	log_debug(p->name, "host started (pid %d)", (int)p->pid);
}

/* Why the host ended: what we decided before killing it, else its wait status. */
static enum exit_cause classify(struct plugin *p, int status, char *desc, size_t len)
{
	if (p->pending_cause != CAUSE_NONE) {
		snprintf(desc, len, "%s", p->pending_reason ? p->pending_reason : "killed");
		return p->pending_cause;
	}
	return exit_classify(status, desc, len);
}

static void record_exit(struct plugin *p, enum exit_cause cause, int status, const char *desc)
{
	p->last_exit.cause = cause;
	p->last_exit.sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	p->last_exit.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	free(p->last_exit.description);
	p->last_exit.description = xstrdup(desc);
	json_object_put(p->last_exit.stderr_tail);
	p->last_exit.stderr_tail = hostlog_take_tail(p->out);
}

static void plugin_destroy(struct plugin *p);

/* The host is gone (reaped): account for it and decide what comes next. */
static void host_exited(struct plugin *p, int status)
{
	char desc[256];
	enum exit_cause cause;
	bool clean = p->stop_requested && p->pending_cause == CAUSE_NONE;
	size_t poisoned;

	/* Whatever the host wrote last is part of the report. */
	if (p->logp != NULL) {
		struct evbuffer *in = bufferevent_get_input(p->logp);
		evbuffer_read(in, bufferevent_getfd(p->logp), HOSTLOG_LINE_MAX * 4);
		hostlog_drain(p->out, in, true);
		bufferevent_free(p->logp);
		p->logp = NULL;
	}
	host_close_io(p);
	p->pid = 0;
	p->hs = HS_HELLO;
	if (p->sup->o.cgroup != NULL)
		cgroup_release(p->sup->o.cgroup, p->name);

	if (clean) {
		/* Stopped on purpose: events in flight go back to the queue. */
		bus_sub_detach(p->sub, false);
		record_exit(p, CAUSE_NONE, status, "stopped");
		if (p->remove_after) {
			plugin_destroy(p);
			return;
		}
		if (p->restart_after) {
			plugin_start(p);
			return;
		}
		plugin_set_state(p, ST_STOPPED);
		return;
	}
	cause = classify(p, status, desc, sizeof desc);
	if (cause == CAUSE_SIGNAL && p->pending_cause == CAUSE_NONE) {
		/* A host at its address-space limit dies in malloc; say so when it said so. */
		const char *last = hostlog_last(p->out);
		if (last != NULL && strstr(last, "out of memory") != NULL)
			cause = CAUSE_MEMORY;
	}
	record_exit(p, cause, status, desc);
	p->crashes++;
	p->causes[cause]++;
	poisoned = bus_sub_detach(p->sub, true);
	if (poisoned > 0)
		log_error(p->name,
			  "event set aside as poison: it was being handled at two crashes");
	log_warn(p->name, "host crashed (%s): %s", exit_cause_name(cause), desc);
	if (p->remove_after) {
		plugin_destroy(p);
		return;
	}
	if (p->sup->shutting_down) {
		plugin_set_state(p, ST_STOPPED);
		return;
	}
	p->next_delay_ms = backoff_crash(&p->backoff, bus_now_ms());
	if (p->next_delay_ms < 0) {
		log_error(p->name,
			  "crashed %d times within %d s: marked failed until it is enabled again",
			  p->sup->o.crash_limit, p->sup->o.crash_window_ms / 1000);
		plugin_set_state(p, ST_FAILED);
		return;
	}
	plugin_set_state(p, ST_CRASHED);
	struct timeval tv = {p->next_delay_ms / 1000, (p->next_delay_ms % 1000) * 1000};
	evtimer_add(p->deadline, &tv);
}

void supervisor_reap(struct supervisor *sup)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct plugin *p = find_pid(sup, pid);
		if (p != NULL)
			host_exited(p, status);
	}
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
	p->handshake_timeout_ms = spec->handshake_timeout_ms > 0 ? spec->handshake_timeout_ms
								 : p->sup->o.handshake_timeout_ms;
	p->event_timeout_ms =
	    spec->event_timeout_ms > 0 ? spec->event_timeout_ms : p->sup->o.event_timeout_ms;
	hostlog_set_secrets(p->out, spec->secrets);
}

/* Asks the host to stop; the deadline timer escalates to SIGKILL. */
static void plugin_request_stop(struct plugin *p)
{
	struct timeval tv = {p->sup->o.stop_timeout_ms / 1000,
			     (p->sup->o.stop_timeout_ms % 1000) * 1000};
	p->stop_requested = true;
	if (p->pid <= 0)
		return;
	plugin_set_state(p, ST_STOPPING);
	if (p->chan != NULL && p->hs == HS_SERVING) {
		host_send(p, msg_new(MSG_SHUTDOWN));
		evtimer_del(p->tick);
		evtimer_add(p->deadline, &tv);
	} else {
		kill(p->pid, SIGKILL);
	}
}

void plugin_restart(struct plugin *p)
{
	plugin_request_stop(p);
	p->restart_after = true;
}

/* A plugin's record, known to the supervisor, with no host yet. */
static struct plugin *plugin_new(struct supervisor *sup, const struct plugin_spec *spec)
{
	struct plugin *p = xcalloc(1, sizeof *p);

	p->sup = sup;
	p->name = xstrdup(spec->name);
	p->out = hostlog_new(p->name);
	plugin_set_spec(p, spec);
	p->subscriptions = json_object_new_array();
	p->sandbox = json_object_new_object();
	p->deadline = evtimer_new(sup->base, deadline_cb, p);
	p->tick = evtimer_new(sup->base, host_tick_cb, p);
	p->kick = event_new(sup->base, -1, 0, host_kick_cb, p);
	p->sub = bus_sub_new(sup->bus, p->name, host_bus_ready, p);
	backoff_init(&p->backoff, sup->o.backoff_initial_ms, sup->o.backoff_max_ms,
		     sup->o.crash_limit, sup->o.crash_window_ms);
	TAILQ_INSERT_TAIL(&sup->plugins, p, entry);
	return p;
}

int supervisor_run(struct supervisor *sup, const struct plugin_spec *spec, supervisor_done_fn done,
		   void *arg, char *err, size_t errlen)
{
	struct plugin *p;

	if (!name_plugin_valid(spec->name)) {
		snprintf(err, errlen, "invalid plugin name");
		return -1;
	}
	if (name_builtin(spec->path) != NULL) {
		/* Compiled into the host: the host checks that it has it. */
		if (strcmp(name_builtin(spec->path), spec->name) != 0) {
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
	p = find(sup, spec->name);
	if (p != NULL) {
		/* Upgrade or re-enable: new spec, fresh crash history. */
		plugin_set_spec(p, spec);
		backoff_reset(&p->backoff);
		p->remove_after = false;
		if (p->run_done)
			run_answer(p, false, "superseded by another start");
		if (p->cfg_done || p->cfg_pending)
			cfg_answer(p, false, "superseded by a restart");
		p->run_done = done;
		p->run_arg = arg;
		if (p->pid > 0) {
			plugin_restart(p);
		} else {
			evtimer_del(p->deadline);
			plugin_start(p);
		}
		return 0;
	}
	p = plugin_new(sup, spec);
	p->run_done = done;
	p->run_arg = arg;
	plugin_start(p);
	return 0;
}

int supervisor_adopt(struct supervisor *sup, const struct plugin_spec *spec, int sock)
{
	struct plugin *p;
	struct timeval tv;

	if (!name_plugin_valid(spec->name) || find(sup, spec->name) != NULL)
		return -1;
	p = plugin_new(sup, spec);
	tv.tv_sec = p->handshake_timeout_ms / 1000;
	tv.tv_usec = (p->handshake_timeout_ms % 1000) * 1000;
	p->started_ms = bus_now_ms();
	plugin_set_state(p, ST_STARTING);
	host_open(p, sock);
	evtimer_add(p->deadline, &tv);
	return 0;
}

static void plugin_destroy(struct plugin *p)
{
	if (p->run_done)
		run_answer(p, false, "stopped before it was ready");
	if (p->cfg_done || p->cfg_pending)
		cfg_answer(p, false, "stopped before it answered");
	TAILQ_REMOVE(&p->sup->plugins, p, entry);
	if (p->pid > 0)
		kill(p->pid, SIGKILL);
	host_close_io(p);
	if (p->logp != NULL)
		bufferevent_free(p->logp);
	event_free(p->deadline);
	event_free(p->tick);
	event_free(p->kick);
	bus_sub_free(p->sub);
	json_object_put(p->config);
	json_object_put(p->permissions);
	json_object_put(p->sandbox);
	json_object_put(p->subscriptions);
	hostlog_free(p->out);
	json_object_put(p->last_exit.stderr_tail);
	free(p->last_exit.description);
	free(p->pending_reason);
	free(p->config_error);
	free(p->version);
	free(p->path);
	free(p->name);
	free(p);
}

int supervisor_stop(struct supervisor *sup, const char *name)
{
	struct plugin *p = find(sup, name);
	if (p == NULL)
		return -1;
	if (p->pid <= 0) {
		plugin_destroy(p);
		return 0;
	}
	p->remove_after = true;
	plugin_request_stop(p);
	return 0;
}

int supervisor_configure(struct supervisor *sup, const char *name, json_object *config,
			 supervisor_done_fn done, void *arg)
{
	struct plugin *p = find(sup, name);
	json_object *m;

	if (p == NULL || config == NULL || !json_object_is_type(config, json_type_object))
		return -1;
	if (p->hs != HS_SERVING || p->chan == NULL) {
		/* The next start takes the new configuration. */
		json_object_put(p->config);
		p->config = json_object_get(config);
		call_later(sup, done, arg, true, NULL);
		return 0;
	}
	if (p->cfg_done || p->cfg_pending)
		cfg_answer(p, false, "superseded by a newer configuration");
	/* In force only once the plugin accepts it: a refusal keeps the old one. */
	p->cfg_pending = json_object_get(config);
	p->cfg_done = done;
	p->cfg_arg = arg;
	p->config_id = bus_next_id(sup->bus);
	m = msg_new_request(MSG_CONFIG, p->config_id);
	json_object_object_add(m, "config", json_object_get(config));
	host_send(p, m);
	return 0;
}

int supervisor_set_secrets(struct supervisor *sup, const char *name, json_object *secrets)
{
	struct plugin *p = find(sup, name);

	if (p == NULL)
		return -1;
	hostlog_set_secrets(p->out, secrets);
	return 0;
}

bool supervisor_has(struct supervisor *sup, const char *name)
{
	return find(sup, name) != NULL;
}

static void fill_stats(const struct plugin *p, struct supervisor_stats *out)
{
	static const enum supervisor_state states[] = {
	    [ST_STARTING] = SUP_STARTING, [ST_RUNNING] = SUP_RUNNING, [ST_STOPPING] = SUP_STOPPING,
	    [ST_CRASHED] = SUP_CRASHED,	  [ST_FAILED] = SUP_FAILED,   [ST_STOPPED] = SUP_STOPPED,
	};

	out->name = p->name;
	out->version = p->version;
	out->state = states[p->state];
	out->pid = p->pid;
}

int supervisor_stats(struct supervisor *sup, const char *name, struct supervisor_stats *out)
{
	struct plugin *p = find(sup, name);

	if (p != NULL)
		fill_stats(p, out);
	return p != NULL ? 0 : -1;
}

void supervisor_foreach(struct supervisor *sup,
			void (*fn)(const struct supervisor_stats *st, void *arg), void *arg)
{
	struct plugin *p;
	struct supervisor_stats st;

	TAILQ_FOREACH(p, &sup->plugins, entry)
	{
		fill_stats(p, &st);
		fn(&st, arg);
	}
}

static json_object *plugin_status(struct plugin *p)
{
	json_object *o = json_object_new_object(), *le, *causes, *limits;
	struct bus_sub_stats st;
	int64_t now = bus_now_ms();

	bus_sub_stats(p->sub, &st);
	msg_add_str(o, "name", p->name);
	if (p->version)
		msg_add_str(o, "version", p->version);
	else
		json_object_object_add(o, "version", NULL);
	msg_add_str(o, "state", state_names[p->state]);
	msg_add_int(o, "state_for_ms", now - p->state_since_ms);
	if (p->pid > 0)
		msg_add_int(o, "pid", p->pid);
	else
		json_object_object_add(o, "pid", NULL);
	msg_add_str(o, "path", p->path);
	msg_add_int(o, "restarts", (int64_t)p->restarts);
	msg_add_int(o, "crashes", (int64_t)p->crashes);
	causes = json_object_new_object();
	for (int i = 1; i < CAUSE_COUNT; i++)
		msg_add_int(causes, exit_cause_name(i), (int64_t)p->causes[i]);
	json_object_object_add(o, "crash_causes", causes);
	if (p->state == ST_CRASHED)
		msg_add_int(o, "restart_in_ms", p->next_delay_ms);
	msg_add_int(o, "queue_depth", (int64_t)st.queued);
	msg_add_int(o, "inflight", (int64_t)st.inflight);
	msg_add_int(o, "delivered", (int64_t)st.delivered);
	msg_add_int(o, "failed", (int64_t)st.failed);
	msg_add_int(o, "dropped", (int64_t)st.dropped);
	msg_add_int(o, "redelivered", (int64_t)st.redelivered);
	msg_add_int(o, "poisoned", (int64_t)st.poisoned);
	json_object_object_add(o, "poison_events", bus_sub_poison_json(p->sub));
	msg_add_int(o, "log_dropped", (int64_t)hostlog_dropped(p->out));
	msg_add_int(o, "log_truncated", (int64_t)hostlog_truncated(p->out));
	json_object_object_add(o, "subscriptions", json_object_get(p->subscriptions));
	json_object_object_add(o, "sandbox", json_object_get(p->sandbox));
	limits = json_object_new_object();
	msg_add_int(limits, "memory_bytes", (int64_t)p->mem_limit);
	msg_add_int(limits, "event_timeout_ms", p->event_timeout_ms);
	msg_add_int(limits, "handshake_timeout_ms", p->handshake_timeout_ms);
	msg_add_bool(limits, "cgroup", p->sup->o.cgroup != NULL);
	json_object_object_add(o, "limits", limits);
	if (p->config_error)
		msg_add_str(o, "config_error", p->config_error);
	if (p->last_exit.description != NULL) {
		le = json_object_new_object();
		msg_add_str(le, "reason", exit_cause_name(p->last_exit.cause));
		msg_add_str(le, "description", p->last_exit.description);
		msg_add_bool(le, "sandbox_violation", p->last_exit.cause == CAUSE_SANDBOX);
		if (p->last_exit.sig > 0) {
			msg_add_int(le, "signal", p->last_exit.sig);
			json_object *sn =
			    json_object_new_string(exit_signal_abbrev(p->last_exit.sig));
			char buf[32];
			snprintf(buf, sizeof buf, "SIG%s", json_object_get_string(sn));
			json_object_put(sn);
			msg_add_str(le, "signal_name", buf);
		}
		if (p->last_exit.code >= 0)
			msg_add_int(le, "exit_code", p->last_exit.code);
		json_object_object_add(le, "stderr",
				       p->last_exit.stderr_tail
					   ? json_object_get(p->last_exit.stderr_tail)
					   : json_object_new_array());
		json_object_object_add(o, "last_exit", le);
	} else {
		json_object_object_add(o, "last_exit", NULL);
	}
	return o;
}

json_object *supervisor_status(struct supervisor *sup, const char *name)
{
	struct plugin *p = find(sup, name);
	return p ? plugin_status(p) : NULL;
}

json_object *supervisor_status_all(struct supervisor *sup)
{
	json_object *a = json_object_new_array();
	struct plugin *p;
	TAILQ_FOREACH(p, &sup->plugins, entry)
	json_object_array_add(a, plugin_status(p));
	return a;
}

/* ---- shutdown: drain, then stop every host ---- */

static bool any_host(struct supervisor *sup)
{
	struct plugin *p;
	TAILQ_FOREACH(p, &sup->plugins, entry)
	{
		if (p->pid > 0)
			return true;
	}
	return false;
}

static void shutdown_tick(evutil_socket_t fd, short what, void *arg)
{
	struct supervisor *sup = arg;
	struct plugin *p;
	struct timeval tv = {0, 20 * 1000};
	int64_t now = bus_now_ms();
	bool draining = bus_busy(sup->bus) && now < sup->shutdown_deadline_ms;

	if (!draining) {
		TAILQ_FOREACH(p, &sup->plugins, entry)
		{
			if (p->pid > 0 && !p->stop_requested)
				plugin_request_stop(p);
			if (p->state == ST_CRASHED) {
				evtimer_del(p->deadline);
				plugin_set_state(p, ST_STOPPED);
			}
		}
		if (!any_host(sup)) {
			if (sup->shutdown_done)
				sup->shutdown_done(sup->shutdown_arg);
			return;
		}
	}
	evtimer_add(sup->shutdown_timer, &tv);
}

void supervisor_shutdown(struct supervisor *sup, int timeout_ms, void (*done)(void *arg), void *arg)
{
	if (sup->shutting_down)
		return;
	sup->shutting_down = true;
	sup->shutdown_done = done;
	sup->shutdown_arg = arg;
	sup->shutdown_deadline_ms = bus_now_ms() + timeout_ms;
	sup->shutdown_timer = evtimer_new(sup->base, shutdown_tick, sup);
	shutdown_tick(-1, 0, sup);
}

void supervisor_free(struct supervisor *sup)
{
	if (sup == NULL)
		return;
	while (!TAILQ_EMPTY(&sup->plugins))
		plugin_destroy(TAILQ_FIRST(&sup->plugins));
	if (sup->shutdown_timer)
		event_free(sup->shutdown_timer);
	free((char *)sup->o.host_path);
	free(sup);
}
