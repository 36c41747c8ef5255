#define _GNU_SOURCE
#include "host.h"

#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "clock.h"
#include "hostlog.h"
#include "log.h"
#include "xmalloc.h"

#define CGROUP_PIDS_MAX 4

struct host {
	struct host_owner owner;
	char *name, *path; /* the plugin's name; the host binary */
	struct hostlog *out;
	struct cgroup *cgroup;
	int stop_timeout_ms;

	pid_t pid;
	struct peer *peer;
	bool lost, reaped, exec_known; /* its two deaths, and whether its exec has been heard of */
	bool exec_failed;
	int execfd;	       /* spawn_result's pipe until exec_known */
	struct event *exec_ev; /* reads it from the loop */
	int status;
	bool stop_requested;
	enum exit_cause cause; /* decided before the end completes, else from the status */
	char *reason;
	struct event *stop_timer; /* a host that does not exit in time is killed */
};

/* Records why the host ends, unless that is already decided (the first reason wins). */
static void decide(struct host *h, enum exit_cause cause, const char *reason)
{
	if (h->cause != CAUSE_NONE || cause == CAUSE_NONE)
		return;
	h->cause = cause;
	free(h->reason);
	h->reason = xstrdup(reason ? reason : exit_cause_name(cause));
}

static void kill_host(struct host *h)
{
	if (h->pid > 0 && !h->reaped)
		kill(h->pid, SIGKILL);
}

static void arm_stop_timer(struct host *h)
{
	struct timeval tv = clock_tv(h->stop_timeout_ms);
	evtimer_add(h->stop_timer, &tv);
}

/*
 * Both deaths have happened (and the exec result is in, which a child's exit
 * always brings): says how the host ended, once.
 */
static void end_check(struct host *h)
{
	char desc[256];
	struct host_end e = {.clean = h->stop_requested && h->cause == CAUSE_NONE,
			     .exec_failed = h->exec_failed,
			     .status = h->status};

	if (!h->lost || !h->reaped || !h->exec_known)
		return;
	evtimer_del(h->stop_timer);
	hostlog_close_pipe(h->out);
	peer_free(h->peer);
	h->peer = NULL;
	h->pid = 0;
	if (h->cgroup != NULL)
		cgroup_release(h->cgroup, h->name);
	if (h->cause != CAUSE_NONE) {
		e.cause = h->cause;
		snprintf(desc, sizeof desc, "%s", h->reason);
	} else {
		e.cause = exit_classify(h->status, desc, sizeof desc);
		/* A host at its address-space limit dies in malloc; say so when it said so. */
		const char *last = hostlog_last(h->out);
		if (e.cause == CAUSE_SIGNAL && last != NULL &&
		    strstr(last, "out of memory") != NULL)
			e.cause = CAUSE_MEMORY;
	}
	e.desc = desc;
	h->owner.ended(h, &e, h->owner.arg);
}

static void peer_ready(struct peer *peer, void *arg)
{
	struct host *h = arg;
	h->owner.ready(h, h->owner.arg);
}

/* The conversation is over (the first death). */
static void peer_lost(struct peer *peer, enum exit_cause cause, const char *reason, bool told,
		      void *arg)
{
	struct host *h = arg;

	h->lost = true;
	if (cause != CAUSE_NONE) {
		if (h->cause == CAUSE_NONE && !told)
			log_warn(h->name, "killing host (pid %d): %s", (int)h->pid, reason);
		decide(h, cause, reason);
	}
	if (h->pid > 0 && !h->reaped) {
		if (cause != CAUSE_NONE && !told)
			kill_host(h);
		else if (!evtimer_pending(h->stop_timer, NULL))
			/* Told why, or it hung up on us: it has stop_timeout_ms to exit. */
			arm_stop_timer(h);
	}
	end_check(h);
}

/* A host that outstays its stop timeout is killed. */
static void stop_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct host *h = arg;

	if (h->pid <= 0 || h->reaped)
		return;
	if (!h->stop_requested && h->cause == CAUSE_NONE) {
		/* It hung up on us but kept running: that breaks the protocol. */
		char why[96];
		snprintf(why, sizeof why, "closed its channel but did not exit within %d ms",
			 h->stop_timeout_ms);
		decide(h, CAUSE_PROTOCOL, why);
	}
	log_warn(h->name, "host did not exit within %d ms: SIGKILL", h->stop_timeout_ms);
	kill_host(h);
}

static void exec_done(struct host *h)
{
	event_free(h->exec_ev);
	h->exec_ev = NULL;
	close(h->execfd);
	h->execfd = -1;
	h->exec_known = true;
}

/*
 * How the exec went, read from the loop: end of file when the host runs;
 * the failed step's errno when it could not (the child exits 127, and its
 * channel closes with it). That is why the host ends, whatever else was said.
 */
static void exec_cb(evutil_socket_t fd, short what, void *arg)
{
	struct host *h = arg;
	char why[256];
	int r = spawn_result(fd, h->path, why, sizeof why);

	if (r == 0)
		return;
	exec_done(h);
	if (r < 0) {
		h->exec_failed = true;
		h->cause = CAUSE_SETUP;
		free(h->reason);
		h->reason = xstrdup(why);
	}
	end_check(h);
}

struct host *host_start(struct event_base *base, struct bus *bus, struct bus_sub *sub,
			struct hostlog *out, const struct host_spec *spec,
			const struct host_owner *owner, char *err, size_t errlen)
{
	struct spawn_child c;
	struct host *h;
	char why[256];
	int cgfd = -1, r;

	if (spec->cgroup != NULL) {
		/* memory.max as the address-space limit; a few tasks, though the host needs one. */
		cgfd = cgroup_prepare(spec->cgroup, spec->args.name, spec->args.mem_limit,
				      CGROUP_PIDS_MAX, why, sizeof why);
		if (cgfd < 0)
			log_warn(spec->args.name, "no cgroup limits for this host: %s", why);
	}
	r = spawn_plugin_host(spec->host_path, &spec->args, cgfd, &c, err, errlen);
	if (cgfd >= 0)
		close(cgfd);
	if (r < 0)
		return NULL;

	h = xcalloc(1, sizeof *h);
	h->owner = *owner;
	h->name = xstrdup(spec->args.name);
	h->path = xstrdup(spec->host_path);
	h->out = out;
	h->cgroup = spec->cgroup;
	h->stop_timeout_ms = spec->stop_timeout_ms;
	h->pid = c.pid;
	h->execfd = c.errfd;
	h->stop_timer = evtimer_new(base, stop_timer_cb, h);
	h->exec_ev = event_new(base, c.errfd, EV_READ | EV_PERSIST, exec_cb, h);
	if (h->stop_timer == NULL || h->exec_ev == NULL || event_add(h->exec_ev, NULL) < 0)
		fatal("host_start: out of memory");
	h->peer = peer_new(base, bus, sub, out, c.sock, &spec->peer,
			   &(struct peer_owner){.ready = peer_ready, .lost = peer_lost, .arg = h});
	hostlog_open_pipe(out, base, c.logfd);
	log_debug(h->name, "host started (pid %d)", (int)h->pid);
	return h;
}

void host_stop(struct host *h)
{
	h->stop_requested = true;
	if (h->peer != NULL && peer_serving(h->peer)) {
		peer_shutdown(h->peer);
		arm_stop_timer(h);
	} else {
		kill_host(h);
	}
}

void host_reap(struct host *h)
{
	int status;

	if (h->pid > 0 && !h->reaped && waitpid(h->pid, &status, WNOHANG) == h->pid) {
		h->reaped = true;
		h->status = status;
		end_check(h);
	}
}

void host_free(struct host *h)
{
	if (h == NULL)
		return;
	if (h->pid > 0 && !h->reaped) {
		/* Only at teardown: a host being removed is otherwise reaped first. */
		kill_host(h);
		while (waitpid(h->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (h->exec_ev != NULL)
		exec_done(h);
	peer_free(h->peer);
	event_free(h->stop_timer);
	free(h->reason);
	free(h->path);
	free(h->name);
	free(h);
}

pid_t host_pid(const struct host *h)
{
	return h->pid;
}

struct peer *host_peer(const struct host *h)
{
	return h->peer;
}
