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
	/* Reserved for later ABI additions (routes, scheduled jobs); keep NULL. */
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

/* ---- reserved for later ABI additions (declared, not yet served) ----
 * ss_emit (custom events), ss_storage_* (key-value storage), ss_route (HTTP
 * routes under /api/plugins/<name>/), ss_http_request (egress) and ss_every
 * (scheduled jobs) arrive with the issues that build them.
 */

#ifdef __cplusplus
}
#endif
#endif
