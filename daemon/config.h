/*
 * The daemon's configuration: flags, with STREAMSPACE_* environment
 * variables as defaults (flags win), checked once at start-up.
 */
#ifndef SS_CONFIG_H
#define SS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CONFIG_KEYS_MAX 16
/*
 * --plugin is bounded by the open-file limit at start-up, as every host's
 * start is (supervisor_hosts_max in runtime/supervisor.h: the descriptors
 * the daemon holds per host, per host starting and for everything else).
 */
#define CONFIG_CONNECT_TO_MAX 16

struct config {
	char *listen;	/* HOST:PORT */
	char **plugins; /* --plugin [NAME=]PATH, absolute after parsing */
	size_t nplugins;
	char *plugin_dir;
	char *database;
	char *host_path;
	char *web_root;	   /* the admin UI's files */
	char *catalog_dir; /* the shipped catalog ("" for none) */
	char *ca_bundle;   /* NULL: the system's authorities */
	int catalog_sync_interval_s;
	int catalog_timeout_ms;
	char *trusted_keys[CONFIG_KEYS_MAX]; /* --trusted-key FILE, repeatable */
	size_t ntrusted_keys;
	bool require_signatures;
	int keep_versions; /* --keep-versions: versions of a plugin kept on disk */
	int log_level;
	bool strict;
	bool sandbox_debug;
	size_t max_frame;
	size_t max_body;
	size_t queue_max;
	size_t window;
	size_t queue_bytes_max; /* bytes of events held per plugin */
	size_t bus_bytes_max;	/* bytes of events held by the bus */
	int handshake_timeout_ms;
	int event_timeout_ms;
	int ping_interval_ms;
	int stop_timeout_ms;
	int max_starting; /* hosts starting at once (the supervisor's start queue) */
	int shutdown_timeout_ms;
	int http_timeout_ms;
	int hold_max_ms;		/* the longest the bus's pressure holds POST /api/events */
	size_t max_streams;		/* GET .../stream clients at once */
	int stream_heartbeat_ms;	/* their keep-alive comment interval */
	size_t stream_max_pending;	/* bytes one may leave unread before it is dropped */
	int64_t storage_max_keys;	/* live keys per plugin */
	int64_t storage_max_bytes;	/* key + value bytes per plugin */
	int storage_timeout_ms;		/* a storage call answered timeout past it */
	int storage_sweep_ms;		/* how often expired keys are deleted */
	int64_t event_retention_s;	/* events older than this are deleted */
	int64_t event_keep_delivered_s; /* delivered events are deleted once this old */
	int64_t event_backlog_max;	/* undelivered events past which the intake sheds */
	int lease_ms;			/* a plugin's delivery lease */
	int emit_rate;			/* emits per second per plugin (burst 10x) */
	/* Plugin egress (egress.request). */
	bool egress_allow_private; /* loopback, private, link-local, metadata allowed */
	char *egress_ca;	   /* an extra CA bundle, trusted beside the system's */
	char *egress_connect_to[CONFIG_CONNECT_TO_MAX + 1]; /* NULL-terminated */
	size_t negress_connect_to;
	int egress_timeout_ms;	 /* the most a request may take (and its default) */
	size_t egress_max_bytes; /* of an answer's body */
	/* Plugin HTTP routes (/api/plugins/<name>/...). */
	int route_timeout_ms;  /* a host's answer; past it 504 and the host is ended */
	size_t route_max_body; /* of a request's body (413 past it) */
	int job_timeout_ms;    /* a scheduled job's run deadline */
};

/*
 * Parses argv (after the optional "run" verb). Returns 0, 1 when it printed
 * help or the version (exit 0), or -1 after printing an error (exit 64).
 */
int config_parse(struct config *c, int argc, char **argv);
void config_free(struct config *c);
void config_usage(FILE *out);

#endif
