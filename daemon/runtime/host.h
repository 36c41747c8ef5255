/*
 * One plugin host, from fork to its end: the process (pid, cgroup, the
 * stop timer, the kill, the reap by pid) and its conversation (a peer,
 * peer.h). Like tmux's job.c a host has two deaths - its channel lost and
 * its pid reaped - and whichever comes second completes it: ended is
 * reported once, and there is no other place a host ends. What the end
 * means for the plugin (a stop, a restart, failed) is the supervisor's.
 */
#ifndef SS_HOST_H
#define SS_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "exitcause.h"
#include "peer.h"
#include "spawn.h"

struct bus;
struct bus_sub;
struct cgroup;
struct event_base;
struct host;
struct hostlog;

/* What to start (strings and objects borrowed for the call). */
struct host_spec {
	const char *host_path;	 /* streamspace-plugin-host */
	struct cgroup *cgroup;	 /* per-plugin limits, or NULL (borrowed for the host's life) */
	struct host_args args;	 /* its command line */
	int stop_timeout_ms;	 /* asked to stop, or hung up on us: SIGKILL after this */
	struct peer_params peer; /* its conversation */
};

/* How a host ended (valid for the call). */
struct host_end {
	enum exit_cause cause; /* what was decided, else from the wait status */
	bool clean;	       /* asked to stop and nothing went wrong */
	bool exec_failed;      /* the host binary could not be started (desc says why) */
	int status;	       /* the wait status */
	const char *desc;      /* a sentence for operators */
};

/*
 * ready: the handshake is done (host_peer says what the host declared).
 * ended: both deaths have happened; the owner frees the host in it (or later).
 * Both come from the event loop or from host_reap, never from inside host_start.
 */
struct host_owner {
	void (*ready)(struct host *h, void *arg);
	void (*ended)(struct host *h, const struct host_end *end, void *arg);
	void *arg;
};

/*
 * Starts a host for spec, its output into out, its events from sub (both
 * borrowed, they outlive the host). NULL with a message in err when no
 * process could be forked (nothing runs then). Whether the host binary
 * could be executed is learnt from the loop, never waited for: a failed
 * exec ends the host with exec_failed and the step's error in desc.
 */
struct host *host_start(struct event_base *base, struct bus *bus, struct bus_sub *sub,
			struct hostlog *out, const struct host_spec *spec,
			const struct host_owner *owner, char *err, size_t errlen);

/*
 * Asks the host to stop: a serving host is sent shutdown and has
 * stop_timeout_ms to exit, any other is killed. ended follows.
 */
void host_stop(struct host *h);

/* Reaps the host if its process exited (waitpid on its pid, WNOHANG); ended may follow. */
void host_reap(struct host *h);

/* Frees the host; one still running is killed and waited for (teardown). NULL is fine. */
void host_free(struct host *h);

pid_t host_pid(const struct host *h);
/* Its conversation (borrowed; NULL once it has ended). */
struct peer *host_peer(const struct host *h);

#endif
