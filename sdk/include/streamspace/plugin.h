/*
 * streamspace/plugin.h - the one header a StreamSpace plugin is written against.
 *
 * A plugin is a shared object that declares itself with SS_PLUGIN(...). The
 * StreamSpace daemon runs it in its own sandboxed host process: the plugin has
 * no files, no sockets and no processes of its own, and reaches the outside
 * only through the functions below, which travel over the host's channel to
 * the daemon. Every function is called from the host's one thread.
 *
 *     static int on_created(ss_plugin *p, const ss_event *ev)
 *     {
 *             ss_log(p, SS_INFO, "session %s created", ss_event_str(ev, "id"));
 *             return 0;
 *     }
 *
 *     static int on_load(ss_plugin *p)
 *     {
 *             return ss_subscribe(p, "session.created", on_created);
 *     }
 *
 *     SS_PLUGIN(.name = "hello", .version = "1.0.0", .on_load = on_load);
 *
 * Build with: cc -shared -fPIC $(pkg-config --cflags --libs streamspace-plugin)
 */
#ifndef STREAMSPACE_PLUGIN_H
#define STREAMSPACE_PLUGIN_H

#include <json-c/json.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The ABI this header describes. The host refuses a plugin built against an
 * ABI it does not implement, naming both numbers. Additions that keep the
 * layout (new functions, use of a reserved slot) do not change it.
 */
#define SS_SDK_ABI 1

#define SS_EXPORT __attribute__((visibility("default")))

/* A loaded plugin: opaque, owned by the host, valid from on_load to on_unload. */
typedef struct ss_plugin ss_plugin;
/* An event being delivered: opaque, valid only during the callback. */
typedef struct ss_event ss_event;

enum ss_log_level { SS_DEBUG = 0, SS_INFO = 1, SS_WARN = 2, SS_ERROR = 3 };

/* Return 0 when handled; non-zero reports a handler failure (not a crash). */
typedef int (*ss_event_fn)(ss_plugin *p, const ss_event *ev);

/*
 * The plugin's definition, found by the host under the symbol
 * ss_plugin_definition. Fill it with SS_PLUGIN(); unknown fields stay zero.
 */
struct ss_plugin_def {
	uint32_t abi;  /* SS_SDK_ABI at build time */
	uint32_t size; /* sizeof(struct ss_plugin_def) at build time */
	const char *name;
	const char *version;
	/* Called once after the sandbox is up; non-zero fails the load. */
	int (*on_load)(ss_plugin *p);
	/* Called once before a clean shutdown (not after a crash). */
	void (*on_unload)(ss_plugin *p);
	/*
	 * Called when an administrator changes the configuration while the
	 * plugin runs. Non-zero rejects the new configuration (the old one
	 * stays). When NULL the host restarts the plugin with the new one.
	 */
	int (*on_config)(ss_plugin *p, json_object *config);
	/* Reserved for later ABI additions; keep NULL. */
	void *reserved[12];
};

/* Declares the plugin. Use once per shared object, at file scope. */
#define SS_PLUGIN(...)                                                                             \
	SS_EXPORT const struct ss_plugin_def ss_plugin_definition = {                              \
	    .abi = SS_SDK_ABI, .size = sizeof(struct ss_plugin_def), __VA_ARGS__}

/* ---- identity and configuration ---- */

/* The plugin's name and version as declared. */
SS_EXPORT const char *ss_plugin_name(const ss_plugin *p);
SS_EXPORT const char *ss_plugin_version(const ss_plugin *p);

/* The current configuration object (borrowed; never NULL, possibly empty). */
SS_EXPORT json_object *ss_config(const ss_plugin *p);
/* Convenience getters on the configuration; def when missing or of another type. */
SS_EXPORT const char *ss_config_str(const ss_plugin *p, const char *key, const char *def);
SS_EXPORT int64_t ss_config_int(const ss_plugin *p, const char *key, int64_t def);
SS_EXPORT int ss_config_bool(const ss_plugin *p, const char *key, int def);

/* A pointer the plugin keeps for itself, returned by ss_userdata(). */
SS_EXPORT void ss_set_userdata(ss_plugin *p, void *data);
SS_EXPORT void *ss_userdata(const ss_plugin *p);

/* ---- events ---- */

/*
 * Calls fn for every event whose name matches pattern: an exact name
 * ("session.created"), a prefix wildcard ("session.*", "plugin.billing.*") or
 * "*". Subscribing to an event class needs its permission in the manifest
 * (read:sessions for session.*, read:users for user.*). Returns 0, or -1 for an
 * invalid pattern. Call it from on_load.
 */
SS_EXPORT int ss_subscribe(ss_plugin *p, const char *pattern, ss_event_fn fn);

/* The event's name ("session.created"), its id, and its data object. */
SS_EXPORT const char *ss_event_type(const ss_event *ev);
SS_EXPORT int64_t ss_event_id(const ss_event *ev);
SS_EXPORT json_object *ss_event_data(const ss_event *ev);
/*
 * When the daemon put the event on its bus, in ms since the epoch (UTC): the
 * event message's "ts", 0 from a daemon that does not send it. An event
 * redelivered to a restarted host keeps it, so it measures time between
 * events better than the clock at delivery does (a durable event that a
 * restarted daemon reads again from its outbox gets the time of that read).
 */
SS_EXPORT int64_t ss_event_ts(const ss_event *ev);
/* A string field of the data, or NULL. */
SS_EXPORT const char *ss_event_str(const ss_event *ev, const char *key);

/* ---- logging ---- */

/* Logs a line at level; it appears in the daemon's log under the plugin's name. */
SS_EXPORT void ss_log(ss_plugin *p, enum ss_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
SS_EXPORT void ss_logv(ss_plugin *p, enum ss_log_level level, const char *fmt, va_list ap);
/*
 * Logs msg with structured fields: a JSON object whose members are added to
 * the log record (the object is borrowed, not consumed).
 */
SS_EXPORT void ss_log_fields(ss_plugin *p, enum ss_log_level level, json_object *fields,
			     const char *msg);

/* ---- calls to the daemon ----
 *
 * Storage and emit are requests to the daemon: the call blocks until the
 * daemon answers (the daemon does the work asynchronously and bounds each
 * kind of call with its own timeout). Time spent waiting does not count
 * against the event deadline of the callback that made the call. While a call
 * waits, no callback of the plugin runs: events and configuration changes
 * that arrive meanwhile are handled after the callback returns.
 *
 * Every call returns SS_OK (0) or one of the negative results below; after a
 * failure ss_error_code() and ss_error_message() say why (the wire's error
 * code, e.g. "permission_denied", and a sentence), until the next call.
 */
enum ss_result {
	SS_OK = 0,
	SS_ERR_INVALID = -1,	   /* bad argument (bad_request, bad_key) */
	SS_ERR_NOT_FOUND = -2,	   /* no such key (not_found) */
	SS_ERR_CONFLICT = -3,	   /* compare-and-set: the value was not the expected one */
	SS_ERR_PERMISSION = -4,	   /* the manifest lacks the permission (permission_denied) */
	SS_ERR_LIMIT = -5,	   /* too_large, quota_exceeded */
	SS_ERR_RATE = -6,	   /* rate_limited */
	SS_ERR_UNAVAILABLE = -7,   /* the daemon has no database (unavailable) */
	SS_ERR_TIMEOUT = -8,	   /* the daemon gave up on its own work (timeout) */
	SS_ERR_UNIMPLEMENTED = -9, /* this daemon does not serve the call (unimplemented) */
	SS_ERR_INTERNAL = -10,	   /* anything else (internal) */
};

/* The wire code and message of the last failed call (borrowed; "" after a success). */
SS_EXPORT const char *ss_error_code(const ss_plugin *p);
SS_EXPORT const char *ss_error_message(const ss_plugin *p);

/* ---- storage (needs the "storage" permission) ----
 *
 * A key-value store of JSON values, private to the plugin: the daemon binds
 * every call to the plugin it came from, so no key of another plugin can be
 * named. Keys are 1..256 bytes of UTF-8 without NUL; a value serialises to
 * at most 1 MiB. The daemon enforces a quota of keys and bytes per plugin.
 * Storage outlives restarts and upgrades; uninstall keeps it unless purged.
 */

/* *value = the value of key (the caller puts it), or SS_ERR_NOT_FOUND. */
SS_EXPORT int ss_storage_get(ss_plugin *p, const char *key, json_object **value);
/* Sets key to value (borrowed; NULL is JSON null, as in json-c). */
SS_EXPORT int ss_storage_set(ss_plugin *p, const char *key, json_object *value);
/* Sets key to value; the key disappears ttl_ms (> 0) milliseconds from now. */
SS_EXPORT int ss_storage_set_ttl(ss_plugin *p, const char *key, json_object *value, int64_t ttl_ms);
/*
 * Compare-and-set: sets key to value only if its current value equals
 * expected (as JSON), or, with expected NULL, only if key does not exist
 * (json-c's NULL is also JSON null, so a stored null cannot be expected).
 * SS_ERR_CONFLICT otherwise (nothing changed).
 */
SS_EXPORT int ss_storage_cas(ss_plugin *p, const char *key, json_object *expected,
			     json_object *value);
/* Deletes key: SS_OK, or SS_ERR_NOT_FOUND when there was none. */
SS_EXPORT int ss_storage_delete(ss_plugin *p, const char *key);
/* Deletes every key of the plugin; *deleted (may be NULL) = how many. */
SS_EXPORT int ss_storage_clear(ss_plugin *p, int64_t *deleted);
/*
 * One page of the keys starting with prefix ("" for all), in byte order,
 * after cursor (NULL for the first page), at most limit (1..1000) of them.
 * *page = {"keys": [str...], "next": str or null} (the caller puts it); pass
 * "next" back as cursor for the following page; null means the last page.
 */
SS_EXPORT int ss_storage_list(ss_plugin *p, const char *prefix, const char *cursor, int limit,
			      json_object **page);

/* ---- events ---- */

/*
 * Publishes an event with data (an object, borrowed; NULL for {}). A bare
 * name ("report-ready") becomes plugin.<own name>.report-ready; a full name
 * may be the plugin's own plugin.<name>.*, or session.* / user.* with
 * write:sessions / write:users. Emits are rate-limited per plugin
 * (SS_ERR_RATE past it). The event does not come back to the emitter unless
 * it subscribed to its own namespace (plugin.<name>.* or the exact name).
 *
 * What SS_OK means depends on the daemon: without a database the event is
 * queued in the daemon's memory; with one it is committed to the durable
 * outbox (delivered at least once to every subscriber, even if this daemon
 * dies the next instant). With a database SS_ERR_UNAVAILABLE means it was
 * not stored, SS_ERR_RATE also that the outbox is over its backlog bound
 * (try again later), and SS_ERR_TIMEOUT that it is unknown whether it was
 * stored (a key of your own in the data lets subscribers drop a repeat
 * if you emit it again).
 */
SS_EXPORT int ss_emit(ss_plugin *p, const char *event, json_object *data);

/* ---- HTTP egress (needs the "network" permission) ----
 *
 * The daemon performs the request for the plugin (the plugin has no
 * sockets): http or https only, TLS verified, redirects followed up to 5
 * times with every hop checked again, the manifest's "allowedHosts" (exact
 * names, "*.example.com" for the names under it) enforced on the first
 * request and on every redirect, and loopback, private, link-local and
 * metadata addresses refused unless the operator allows them. The daemon's
 * --egress-timeout-ms bounds the whole call (SS_ERR_TIMEOUT) and
 * --egress-max-bytes the answer's body (SS_ERR_LIMIT). A refused host or
 * address is SS_ERR_PERMISSION; a network or TLS failure SS_ERR_UNAVAILABLE.
 * Any HTTP status is an answer (SS_OK: look at status). The plugin's headers
 * are sent to the host it named and not to another one a redirect leads to;
 * the daemon never logs paths, headers, query strings or bodies (a log
 * line names the origin). Time spent here does not count against the
 * callback's event deadline.
 */
typedef struct ss_http_response {
	int status;	      /* the final answer's HTTP status */
	json_object *headers; /* {"lower-case-name": "value"}, repeats joined with ", " */
	char *body;	      /* NUL-terminated text (binary answers: SS_ERR_UNIMPLEMENTED) */
	size_t body_len;      /* bytes of body, not counting the NUL */
} ss_http_response;

/*
 * method: GET, HEAD, POST, PUT, PATCH or DELETE (NULL: GET); headers: an
 * object of strings (borrowed, may be NULL; Host, Content-Length and the
 * framing headers are the daemon's); body: text or NULL. On SS_OK *res is
 * filled and must be released with ss_http_response_free; on failure it is
 * zeroed (freeing it is still fine).
 */
SS_EXPORT int ss_http_request(ss_plugin *p, const char *method, const char *url,
			      json_object *headers, const char *body, ss_http_response *res);

/* What ss_http_request_opt may ask beyond ss_http_request; zero-filled = nothing more. */
typedef struct ss_http_options {
	/*
	 * PEM certificates to trust for this request instead of the daemon's
	 * authorities (a Kubernetes cluster's CA): the server must chain to one
	 * of them. At most 64 KiB. NULL: the daemon's.
	 */
	const char *ca_pem;
	/* The whole call's limit in ms, 1 .. --egress-timeout-ms; 0: that limit. */
	int64_t timeout_ms;
	void *reserved[6]; /* keep NULL */
} ss_http_options;

/* ss_http_request with options (opt may be NULL). */
SS_EXPORT int ss_http_request_opt(ss_plugin *p, const char *method, const char *url,
				  json_object *headers, const char *body,
				  const ss_http_options *opt, ss_http_response *res);
SS_EXPORT void ss_http_response_free(ss_http_response *res);

/* ---- HTTP routes (needs the "routes" permission) ----
 *
 * A plugin serves HTTP under /api/plugins/<name>/: ss_route(p, "GET",
 * "/items/:id", SS_ROUTE_VIEWER, fn) makes GET /api/plugins/<name>/items/42
 * call fn with the param id = "42". The daemon owns the HTTP side: it
 * matches the path, checks the caller's token and role before the plugin
 * hears of the request, strips Authorization and Cookie, bounds the body
 * (--route-max-body) and the time (--route-timeout-ms: past it the caller
 * gets 504 and the host is ended as hung), and checks the answer (a framing
 * or hop-by-hop header, or a status outside 200-599, is a 502 for the
 * caller and a log line). Routes exist while the plugin's host serves and
 * go away with it; while it restarts the caller gets 503.
 */

/* Who may call a route: anyone (no token), or a token of at least this role. */
enum ss_route_access {
	SS_ROUTE_PUBLIC = 0,
	SS_ROUTE_VIEWER = 1, /* any valid token */
	SS_ROUTE_SERVICE = 2,
	SS_ROUTE_ADMIN = 3,
};

/* A request to a route: opaque, valid only during the handler. */
typedef struct ss_request ss_request;
/* The handler's answer, sent when the handler returns: opaque. */
typedef struct ss_response ss_response;

/*
 * Answers req by filling res (status 200, no headers and an empty body
 * unless set). Returns 0; non-zero answers the caller 500 handler_failed.
 */
typedef int (*ss_route_fn)(ss_plugin *p, const ss_request *req, ss_response *res);

/*
 * Registers fn for method ("GET", "POST", "PUT", "PATCH" or "DELETE"; a GET
 * route serves HEAD too) and path ("/" or "/"-separated segments of
 * [A-Za-z0-9._~-], or ":name" for a param; a literal segment beats a param,
 * so "/items/new" wins over "/items/:id"). At most 64 routes, no two of the
 * same method and shape. Returns SS_OK, SS_ERR_PERMISSION without the
 * "routes" permission, SS_ERR_INVALID for a bad method or path (the daemon
 * says why), SS_ERR_UNIMPLEMENTED when the daemon speaks protocol < 3. Call
 * it from on_load (routes added later also work, from when they are added).
 */
SS_EXPORT int ss_route(ss_plugin *p, const char *method, const char *path,
		       enum ss_route_access access, ss_route_fn fn);

/* "GET", ...; HEAD arrives as "HEAD" on a GET route (the daemon drops the body). */
SS_EXPORT const char *ss_req_method(const ss_request *req);
/* The path under /api/plugins/<name> ("/items/42"), without the query. */
SS_EXPORT const char *ss_req_path(const ss_request *req);
/* A :param of the route, percent-decoded, or NULL. */
SS_EXPORT const char *ss_req_param(const ss_request *req, const char *name);
/* A query parameter (decoded; the first of that name), or NULL. */
SS_EXPORT const char *ss_req_query(const ss_request *req, const char *name);
/* A request header by name (any case; repeats joined with ", "), or NULL. */
SS_EXPORT const char *ss_req_header(const ss_request *req, const char *name);
/* The body (UTF-8 text, NUL-terminated; "" when none) and its length. */
SS_EXPORT const char *ss_req_body(const ss_request *req, size_t *len);
/* The body read as JSON (borrowed, valid during the handler), or NULL when it is not. */
SS_EXPORT json_object *ss_req_json(const ss_request *req);
/*
 * The caller as the daemon authenticated it: the token's name and role
 * ("viewer", "service", "admin"), both NULL on a public route.
 */
SS_EXPORT const char *ss_req_caller(const ss_request *req);
SS_EXPORT const char *ss_req_role(const ss_request *req);
/* The whole request as the daemon sent it (borrowed): method, path, params, query, headers... */
SS_EXPORT json_object *ss_req_object(const ss_request *req);

/* Sets the status (200-599; anything else is the caller's 502). */
SS_EXPORT void ss_res_status(ss_response *res, int status);
/*
 * Sets a header (a second one of the same name, in any case, replaces the
 * first). SS_ERR_INVALID for NULL or text that is not UTF-8. The daemon
 * judges the rest when the handler returns: a name that is not an HTTP
 * token, a value with CR, LF or another control, or a header the daemon owns
 * (Content-Length, Transfer-Encoding, Connection and the other hop-by-hop
 * ones, Proxy-*, Date, Server) makes the caller's answer 502 and a log line.
 */
SS_EXPORT int ss_res_header(ss_response *res, const char *name, const char *value);
/* Sets the body to len bytes of UTF-8 text (copied); SS_ERR_INVALID if it is not UTF-8. */
SS_EXPORT int ss_res_body(ss_response *res, const char *body, size_t len);
/* Sets status, Content-Type: application/json and the body to json (borrowed). */
SS_EXPORT int ss_res_json(ss_response *res, int status, json_object *json);

/* ---- scheduled jobs (need the "scheduler" permission) ----
 *
 * The daemon owns the timers: when a job is due it asks the host to run it,
 * and the host calls fn between other callbacks (never inside one). A job
 * still running when it comes due again is skipped and counted, never
 * queued. A run has a deadline (the daemon's --job-timeout-ms, 60 s by
 * default; time spent in calls such as storage or egress does not count):
 * a run that misses it ends the host as hung, and the job comes back with
 * the restarted host. Jobs go away with the plugin's host (disable,
 * uninstall, crash, upgrade) and come back with the next one, from its
 * on_load. Runs, skips, failures and the last run are shown in the plugin's
 * status and in /metrics.
 *
 * Declare jobs in on_load only (SS_ERR_INVALID later). Names are
 * [a-z0-9][a-z0-9_.-]*, at most 63 bytes, unique per plugin (SS_ERR_CONFLICT);
 * at most 32 jobs. Without the permission: SS_ERR_PERMISSION; a daemon that
 * speaks protocol < 3: SS_ERR_UNIMPLEMENTED.
 */

/* Runs one job; job is its name. Return 0 when it succeeded; non-zero counts a failure. */
typedef int (*ss_job_fn)(ss_plugin *p, const char *job);

/* Runs fn every seconds seconds (1 .. one year), the first time seconds after the host is ready. */
SS_EXPORT int ss_every(ss_plugin *p, const char *name, int64_t seconds, ss_job_fn fn);
/*
 * Runs fn on a 5-field cron schedule ("*\/5 * * * *": minute hour
 * day-of-month month day-of-week, as crontab(5), evaluated in UTC; names
 * such as "mon" and "jan", and "@every N" for N seconds, are accepted). A
 * schedule that does not parse or can never fire is SS_ERR_INVALID, and
 * ss_error_message() names the field and what is wrong with it.
 */
SS_EXPORT int ss_cron(ss_plugin *p, const char *name, const char *schedule, ss_job_fn fn);
/*
 * Binds fn to a job the manifest declares ("scheduler": {"jobs": [{"name",
 * "schedule", "description"}]}), on the manifest's schedule (checked at
 * install). SS_ERR_NOT_FOUND when the manifest declares no job of that name.
 * A manifest job no handler binds is not scheduled (the daemon logs it).
 */
SS_EXPORT int ss_job(ss_plugin *p, const char *name, ss_job_fn fn);

/* ---- reserved for later ABI additions ----
 * The reserved slots of ss_plugin_def, for callbacks of later additions.
 */

#ifdef __cplusplus
}
#endif
#endif
