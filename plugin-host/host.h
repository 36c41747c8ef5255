/*
 * The loaded plugin as the host sees it: the state shared by the SDK
 * implementation (sdk.c), which the plugin calls, and the protocol loop
 * (serve.c), which calls the plugin. Plugins only ever see the opaque
 * ss_plugin and ss_event of streamspace/plugin.h.
 */
#ifndef SS_HOST_HOST_H
#define SS_HOST_HOST_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <streamspace/plugin.h>

#include "channel.h"
#include "subs.h"

/* Where the plugin is in its life; decides what the SDK calls may do. */
enum plugin_phase {
	PHASE_LOADING, /* on_load runs: subscriptions are collected for ready */
	PHASE_SERVING, /* after ready: a new subscription is a subscribe request */
	PHASE_UNLOADING,
};

/* A request the host sent and the daemon has not answered yet. */
struct pending {
	int64_t id;
	char *pattern; /* the subscribe request's pattern */
};

struct ss_plugin {
	const struct ss_plugin_def *def;
	struct channel *ch;
	enum plugin_phase phase;
	json_object *config; /* owned; never NULL */
	void *userdata;
	struct subs *subs;
	size_t log_line_max;
	int64_t next_id; /* ids of host -> daemon requests */
	struct pending *pending;
	size_t n_pending, cap_pending;

	int protocol;		/* negotiated in init: calls need 2 */
	bool in_call;		/* a call waits for its reply: no second call, no callback */
	json_object **deferred; /* what arrived during calls, in order (call.c) */
	size_t n_deferred, first_deferred, cap_deferred;
	char err_code[32]; /* the last failed call's code and message */
	char err_msg[256];

	ss_route_fn *routes; /* by the index the daemon gave each (sdk_route.c) */
	size_t n_routes, cap_routes;
	struct host_job *jobs; /* the jobs the daemon accepted, by name (sdk_job.c) */
	size_t n_jobs, cap_jobs;
};

struct ss_event {
	const char *type;
	int64_t id;
	int64_t ts; /* ms since the epoch when the daemon put it on its bus; 0 when not sent */
	json_object *data;
};

#define LOG_LINE_MAX_DEFAULT 4096

/*
 * Creates the one plugin the SDK functions accept; config is taken over.
 * ss_* calls with any other handle are refused, so a plugin cannot crash the
 * host's bookkeeping with a stale or forged pointer.
 */
struct ss_plugin *sdk_plugin_new(const struct ss_plugin_def *def, struct channel *ch,
				 json_object *config);

/* Whether p is the one plugin the SDK accepts (a handle check for every ss_* call). */
bool sdk_is_plugin(const struct ss_plugin *p);

/* Marks ev as the event being delivered (NULL afterwards), for the ss_event_* checks. */
void sdk_set_current_event(const struct ss_event *ev);

/*
 * Sends msg. Returns 0, or -1 when it is over max_frame (nothing sent). A
 * socket error means the daemon went away: the host exits 76.
 */
int host_send(struct ss_plugin *p, json_object *msg);

/*
 * The next message from the daemon, checked to be of a daemon type (the
 * caller puts it). EOF and framing errors end the host (serve.c).
 */
json_object *host_recv(struct ss_plugin *p);

/* Ends the host for a message the daemon should never have sent. */
__attribute__((noreturn)) void host_protocol_error(const char *code, const char *what,
						   json_object *m);

/* Replaces the configuration (takes over config). */
void sdk_set_config(struct ss_plugin *p, json_object *config);

/* Answers one http.request (m borrowed) with the route's handler (sdk_route.c). */
void route_serve(struct ss_plugin *p, json_object *m);
/* Runs one job the daemon asked for (m borrowed) and answers it (sdk_job.c). */
void job_serve(struct ss_plugin *p, json_object *m);

/* Removes and returns the pending request with this id, or false. *pattern is the caller's. */
bool sdk_take_pending(struct ss_plugin *p, int64_t id, char **pattern);

#endif
