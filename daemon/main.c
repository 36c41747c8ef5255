/*
 * streamspaced: one libevent reactor that runs every plugin in its own
 * sandboxed host process, feeds them events and survives them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <fcntl.h>
#include <unistd.h>

#include "api.h"
#include "api_live.h"
#include "api_proute.h"
#include "bus.h"
#include "cgroup.h"
#include "cli_config.h"
#include "config.h"
#include "core_api.h"
#include "devplugins.h"
#include "discovery.h"
#include "clock.h"
#include "log.h"
#include "manifest.h"
#include "json.h"
#include "msg.h"
#include "names.h"
#include "peer.h"
#include "platform.h"
#include "sink.h"
#include "ss_config.h"
#include "static.h"
#include "call.h"
#include "emit.h"
#include "egress.h"
#include "jobs.h"
#include "supervisor.h"
#if SS_HAVE_LIBPQ
#include "api_catalog.h"
#include "readme.h"
#include "api_marketplace.h"
#include "api_repos.h"
#include "market.h"
#include "db.h"
#include "fetch.h"
#include "kv.h"
#include "storage.h"
#include "registry.h"
#include "minisign.h"
#include "outbox.h"
#include "outbox_from.h"
#include "deliver.h"
#include "package.h"
#include "repos.h"
#include "token.h"
#endif
#include "xmalloc.h"

/*
 * Events waiting for their group commit past which POST /api/events answers
 * 503 with Retry-After (with a database).
 */
#define OUTBOX_PENDING_MAX 200000

struct daemon {
	struct config cfg;
	struct event_base *base;
	struct bus *bus;
	struct supervisor *sup;
	struct api *api;
	struct core_api core;
	struct registry *registry;
	struct db *db;
	struct kv *kv;		   /* plugin storage's statements over db */
	struct storage *storage;   /* answers hosts' storage calls (libpq builds) */
	struct emitter *emitter;   /* answers hosts' emit calls */
	struct egress *egress;	   /* answers hosts' egress calls */
	struct jobs *jobs;	   /* plugins' scheduled jobs (job.add, runs) */
	struct platform *platform; /* platform events to admin plugins */
	struct call_service calls[8];
	struct call_services services;
	struct token_cache *tokens;
	struct market *catalog;
	struct fetch *fetch;
	struct repos *repos;
	struct outbox *outbox;
	struct outbox_from *outbox_from; /* emits and platform events (the sink) */
	struct event_sink sink;
	struct deliver *deliver;
	struct minisign_key keys[CONFIG_KEYS_MAX]; /* --trusted-key */
	struct package_trust trust;
	struct cgroup *cgroup;
	struct static_site *web;   /* the admin UI at /admin/ */
	struct api_live *live;	   /* the state stream and recent log lines */
	struct readme *readme;	   /* plugins' README.md, for GET readme/{name} */
	struct discovery builtins; /* the host's built-in plugins, for --plugin builtin:NAME */
	struct event *sig_chld, *sig_term, *sig_int, *sig_hup, *watchdog;
	int stopping;
};

/* Tells systemd (Type=notify) about our state; a no-op outside systemd. */
static void sd_notify_state(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t len;
	int fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@'))
		return;
	len = strlen(path);
	if (len >= sizeof sa.sun_path)
		return;
	memcpy(sa.sun_path, path, len);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	(void)!sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa,
		      (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
	close(fd);
}

static void watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	sd_notify_state("WATCHDOG=1");
}

/* Arms the systemd watchdog ping at half the interval systemd asks for. */
static void watchdog_start(struct daemon *d)
{
	const char *usec = getenv("WATCHDOG_USEC");
	long long us = usec ? atoll(usec) : 0;
	struct timeval tv;

	if (us <= 0)
		return;
	tv = clock_tv(us / 2000);
	d->watchdog = event_new(d->base, -1, EV_PERSIST, watchdog_cb, d);
	event_add(d->watchdog, &tv);
}

/* A --plugin plugin runs: with a database its cursor is made now (deliver_start_cursor). */
static void dev_started(const char *name, void *arg)
{
#if SS_HAVE_LIBPQ
	struct daemon *d = arg;

	if (d->deliver != NULL)
		deliver_start_cursor(d->deliver, name);
#else
	(void)name;
	(void)arg;
#endif
}

#if SS_HAVE_LIBPQ
static bool database_up(void *arg)
{
	return db_is_up(arg);
}

/* Each plugin's host state on this daemon, for the heartbeat table (ss_daemons.hosts). */
static void host_state(const struct supervisor_stats *st, void *arg)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "state",
			       json_object_new_string(supervisor_state_name(st->state)));
	json_object_object_add(o, "pid", json_object_new_int(st->pid));
	json_object_object_add(arg, st->name, o);
}

static json_object *host_states(void *arg)
{
	struct daemon *d = arg;
	json_object *o = json_object_new_object();

	supervisor_foreach(d->sup, host_state, o);
	return o;
}

/* The store's token roles are the API's: the same ladder, mapped here where both meet. */
static int authenticate(const char *token, void *arg, const char **name)
{
	int role = token_cache_auth(token, arg, name);

	switch (role) {
	case TOKEN_ROLE_ADMIN:
		return API_ROLE_ADMIN;
	case TOKEN_ROLE_SERVICE:
		return API_ROLE_SERVICE;
	case TOKEN_ROLE_VIEWER:
		return API_ROLE_VIEWER;
	case TOKEN_ROLE_NONE:
		return API_ROLE_NONE;
	default:
		return -1; /* cannot tell now: 503 */
	}
}

/*
 * The repositories and their sync; the shipped catalog (--catalog-dir) is
 * registered as "streamspace" when it exists, so the marketplace has
 * something to offer offline.
 */
static void start_repos(struct daemon *d)
{
	char abs[PATH_MAX], *url = NULL;

	if (d->cfg.catalog_dir != NULL && d->cfg.catalog_dir[0] != '\0') {
		if (realpath(d->cfg.catalog_dir, abs) != NULL)
			url = xasprintf("file://%s", abs);
		else
			log_warn("catalog", "the shipped catalog %s: %s (not registered)",
				 d->cfg.catalog_dir, strerror(errno));
	}
	d->repos =
	    repos_new(d->base, d->db, registry_worker(d->registry), d->fetch,
		      &(struct repos_options){.default_name = url ? "streamspace" : NULL,
					      .default_url = url,
					      .interval_s = d->cfg.catalog_sync_interval_s,
					      .fetch_timeout_ms = d->cfg.catalog_timeout_ms});
	free(url);
}

/* The sink's append (sink.h): the store's outbox_from. */
static void sink_append(void *ctx, const char *type, const char *data, size_t len,
			const char *origin, bool platform, event_sink_done_fn done, void *arg)
{
	struct daemon *d = ctx;

	outbox_from_append(d->outbox_from, type, data, len, origin, platform, done, arg);
}

/* The bounds POST /api/events answers 503 for, for plugins' emits. */
static bool sink_full(void *ctx, char *why, size_t len)
{
	struct daemon *d = ctx;
	int64_t backlog = deliver_backlog(d->deliver);

	if (d->cfg.event_backlog_max > 0 && backlog >= d->cfg.event_backlog_max) {
		d->core.shed_backlog++;
		snprintf(why, len,
			 "backlog_full: %" PRId64 " events are waiting for delivery (the bound is "
			 "%" PRId64 "): try again shortly",
			 backlog, (int64_t)d->cfg.event_backlog_max);
		return true;
	}
	if (outbox_from_pending(d->outbox_from) + outbox_pending(d->outbox) < OUTBOX_PENDING_MAX)
		return false;
	snprintf(why, len, "overloaded: too many events waiting for the database");
	return true;
}

/* The database, the token cache, the catalog and the registry, and their routes. */
static int start_registry(struct daemon *d, char *err, size_t errlen)
{
	char abs[PATH_MAX], *url;

	url = xasprintf("file://%s",
			d->cfg.plugin_dir && realpath(d->cfg.plugin_dir, abs) ? abs : "");
	d->db = db_new(d->base, d->cfg.database, 4);
	d->kv = kv_new(d->db, &(struct kv_limits){.max_keys = d->cfg.storage_max_keys,
						  .max_bytes = d->cfg.storage_max_bytes});
	storage_attach(d->storage, d->kv);
	d->tokens = token_cache_new(NULL);
	d->catalog = market_new(d->db, url);
	free(url);
	for (size_t i = 0; i < d->cfg.ntrusted_keys; i++) {
		struct pkg_error pe = {0};

		if (!minisign_key_load(d->cfg.trusted_keys[i], &d->keys[i], &pe)) {
			/* Bounded: a release build's -Wformat-truncation sees errlen 256. */
			snprintf(err, errlen, "--trusted-key %.90s: %.140s", d->cfg.trusted_keys[i],
				 pe.message);
			return -1;
		}
	}
	d->trust = (struct package_trust){.keys = d->keys,
					  .n_keys = d->cfg.ntrusted_keys,
					  .require_signatures = d->cfg.require_signatures};
	d->fetch = fetch_new(d->base, d->cfg.ca_bundle);
	d->registry =
	    registry_new(d->base, d->sup, d->db, d->tokens, d->catalog, &d->builtins,
			 &(struct registry_options){.conninfo = d->cfg.database,
						    .plugin_dir = d->cfg.plugin_dir,
						    .fetch = d->fetch,
						    .trust = &d->trust,
						    .egress = d->egress,
						    .jobs = d->jobs,
						    .keep_versions = (size_t)d->cfg.keep_versions},
			 err, errlen);
	if (d->registry == NULL)
		return -1;
	api_marketplace_register(d->api, d->registry);
	api_catalog_register(d->api, d->catalog);
	d->readme = readme_new(registry_worker(d->registry), d->cfg.plugin_dir, d->registry);
	api_catalog_register_readme(d->api, d->readme);
	start_repos(d);
	api_repos_register(d->api, d->repos);
	api_set_auth(d->api, authenticate, d->tokens);
	d->core.database_up = database_up;
	d->core.database_arg = d->db;
	/*
	 * Events are durable: accepted into the outbox, delivered from it with
	 * its ids, each plugin by the daemon holding its lease.
	 */
	bus_use_external_ids(d->bus);
	d->deliver = deliver_new(d->base, d->db, d->bus,
				 &(struct deliver_options){
				     .lease_ms = d->cfg.lease_ms,
				     .heartbeat_ms = d->cfg.lease_ms / 5,
				     .retention_s = d->cfg.event_retention_s,
				     .keep_delivered_s = d->cfg.event_keep_delivered_s,
				     .hosts = host_states,
				     .hosts_arg = d,
				 });
	d->outbox = outbox_new(d->base, d->db, deliver_row, d->deliver);
	deliver_set_outbox(d->deliver, d->outbox);
	d->core.outbox = d->outbox;
	d->core.outbox_pending_max = OUTBOX_PENDING_MAX;
	d->core.deliver = d->deliver;
	d->core.backlog_max = d->cfg.event_backlog_max;
	api_marketplace_show_delivery(d->deliver);
	/* Plugins' emits and platform events: into the outbox as well (sink.h). */
	d->outbox_from = outbox_from_new(d->base, d->db);
	d->sink = (struct event_sink){.append = sink_append, .full = sink_full, .ctx = d};
	emitter_set_sink(d->emitter, &d->sink);
	platform_set_sink(d->platform, &d->sink);
	return 0;
}

/* In this order: pending queries complete into what still exists. */
static void stop_registry(struct daemon *d)
{
	if (d->api)
		api_set_auth(d->api, NULL, NULL);
	/* Before the database: its pending queries then complete into orphans that free themselves.
	 */
	emitter_set_sink(d->emitter, NULL);
	platform_set_sink(d->platform, NULL);
	repos_free(d->repos);
	fetch_free(d->fetch);
	d->core.outbox = NULL;
	d->core.deliver = NULL;
	api_marketplace_show_delivery(NULL);
	outbox_free(d->outbox);
	outbox_from_free(d->outbox_from);
	deliver_free(d->deliver);
	/* Verbs and README reads in flight answered while their last queries can still fail. */
	registry_close(d->registry);
	db_free(d->db);
	kv_free(d->kv);
	registry_free(d->registry);
	readme_free(d->readme);
	market_free(d->catalog);
	token_cache_free(d->tokens);
}
#endif

/*
 * The services that answer hosts' calls (PROTOCOL.md, "Calls"), one row per
 * call type with the permission it needs and its timeout. Storage answers
 * unavailable until the database is attached.
 */
static void services_init(struct daemon *d)
{
	size_t n = 0;

	d->emitter = emitter_new(d->bus, d->cfg.emit_rate);
	if (d->egress != NULL)
		d->calls[n++] = (struct call_service){.type = MSG_EGRESS_REQUEST,
						      .permission = "network",
						      /* egress answers timeout itself first */
						      .timeout_ms = d->cfg.egress_timeout_ms + 2000,
						      .fn = egress_call,
						      .arg = d->egress};
	/* With a database an emit is answered at its commit: a round trip, maybe a wait. */
	d->calls[n++] = (struct call_service){.type = MSG_EMIT,
					      .timeout_ms = d->cfg.database ? 10000 : 1000,
					      .fn = emitter_call,
					      .arg = d->emitter};
	d->jobs = jobs_new(d->base, d->cfg.job_timeout_ms);
	d->calls[n++] = (struct call_service){.type = MSG_JOB_ADD,
					      .permission = "scheduler",
					      .timeout_ms = 1000,
					      .fn = jobs_call,
					      .arg = d->jobs};
#if SS_HAVE_LIBPQ
	static const enum msg_type storage_types[] = {MSG_STORAGE_GET, MSG_STORAGE_SET,
						      MSG_STORAGE_DELETE, MSG_STORAGE_LIST};

	d->storage = storage_new(d->base, d->cfg.storage_sweep_ms);
	for (size_t i = 0; i < 4; i++)
		d->calls[n++] = (struct call_service){.type = storage_types[i],
						      .permission = "storage",
						      .timeout_ms = d->cfg.storage_timeout_ms,
						      .fn = storage_call,
						      .arg = d->storage};
#endif
	d->services = (struct call_services){.rows = d->calls, .n = n, .jobs = d->jobs};
}

/* Loads the admin UI from --web-root; without it the daemon serves on and /admin/ says why. */
static void web_register(struct daemon *d)
{
	char err[512];

	d->web = static_site_load(d->cfg.web_root, err, sizeof err);
	if (d->web != NULL) {
		log_info("streamspaced", "admin UI at /admin/: %zu files (%zu bytes) from %s",
			 static_site_count(d->web), static_site_bytes(d->web), d->cfg.web_root);
	} else {
		log_warn("streamspaced", "no admin UI: %s", err);
		d->web = static_site_unavailable(err);
	}
	static_register(d->api, d->web);
}

static void exit_loop(void *arg)
{
	struct daemon *d = arg;

	event_base_loopexit(d->base, NULL);
}

/* The bus's pressure holds the HTTP front end, and a hold that ran out is the bus's to judge. */
static void on_pressure(bool on, void *arg)
{
	struct daemon *d = arg;
	api_hold(d->api, on);
}

static void on_hold_expired(void *arg)
{
	struct daemon *d = arg;
	bus_pressure_expired(d->bus);
}

static void shutdown_done(void *arg)
{
	struct daemon *d = arg;
	log_info("streamspaced", "all plugins stopped; exiting");
#if SS_HAVE_LIBPQ
	/* The last cursors and the leases, so another daemon takes over at once. */
	if (d->deliver != NULL) {
		deliver_stop(d->deliver, exit_loop, d);
		return;
	}
#endif
	exit_loop(d);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	switch (sig) {
	case SIGCHLD:
		supervisor_reap(d->sup);
		break;
	case SIGHUP:
		log_info("streamspaced", "SIGHUP: restarting --plugin plugins");
		devplugins_run(&d->cfg, &d->builtins, d->egress, d->jobs, d->sup, dev_started, d);
		break;
	case SIGTERM:
	case SIGINT:
		if (d->stopping++) {
			log_warn("streamspaced", "second stop signal: exiting now");
			event_base_loopexit(d->base, NULL);
			break;
		}
		log_info("streamspaced", "%s: delivering queued events, then stopping",
			 sig == SIGTERM ? "SIGTERM" : "SIGINT");
		sd_notify_state("STOPPING=1");
		d->core.draining = true;
#if SS_HAVE_LIBPQ
		deliver_quiesce(d->deliver);
		registry_quiesce(d->registry); /* no host starts now: verbs answered "stopping" */
#endif
		api_close_listener(d->api);
		/* Queued before the drain, so admin plugins have it before they stop. */
		platform_shutdown(d->platform, sig == SIGTERM ? "SIGTERM" : "SIGINT");
		supervisor_shutdown(d->sup, d->cfg.shutdown_timeout_ms, shutdown_done, d);
		break;
	}
}

static int run(int argc, char **argv)
{
	struct daemon d;
	char err[256];
	int rc = 64, r;

	memset(&d, 0, sizeof d);
	r = config_parse(&d.cfg, argc, argv);
	if (r != 0) {
		config_free(&d.cfg);
		return r > 0 ? 0 : 64;
	}
	log_set_level((enum log_level)d.cfg.log_level);
	log_route_libevent();
	signal(SIGPIPE, SIG_IGN);
	if (devplugins_readable(&d.cfg) < 0) {
		config_free(&d.cfg);
		return 1;
	}

	d.base = event_base_new();
	if (d.base == NULL)
		fatal("event_base_new failed");
	/* Before any event exists: host I/O then goes before HTTP work (peer.h). */
	if (event_base_priority_init(d.base, PEER_PRIORITIES) < 0)
		fatal("event_base_priority_init failed");
	d.bus = bus_new(&(struct bus_options){.queue_max = d.cfg.queue_max,
					      .window = d.cfg.window,
					      .queue_bytes_max = d.cfg.queue_bytes_max,
					      .bytes_max = d.cfg.bus_bytes_max,
					      .max_frame = d.cfg.max_frame});
	d.cgroup = cgroup_open("/sys/fs/cgroup", NULL, true, err, sizeof err);
	if (d.cgroup != NULL)
		log_info("streamspaced",
			 "cgroup v2 %s delegated: memory and pids limits per plugin",
			 cgroup_base(d.cgroup));
	else
		log_info("streamspaced", "no per-plugin cgroup limits (%s): hosts rely on rlimits",
			 err);
	{
		struct egress_params ep = {
		    .allow_private = d.cfg.egress_allow_private,
		    .extra_ca = d.cfg.egress_ca,
		    .connect_to = (const char *const *)d.cfg.egress_connect_to,
		    .timeout_ms = d.cfg.egress_timeout_ms,
		    .max_bytes = d.cfg.egress_max_bytes,
		    .max_request_body = d.cfg.max_frame / 2,
		};
		d.egress = egress_new(d.base, &ep, err, sizeof err);
		if (d.egress == NULL) {
			log_error("streamspaced", "--egress-ca: %s", err);
			config_free(&d.cfg);
			return 1;
		}
	}
	services_init(&d);
	d.sup = supervisor_new(d.base, d.bus,
			       &(struct supervisor_options){
				   .host_path = d.cfg.host_path,
				   .cgroup = d.cgroup,
				   .strict = d.cfg.strict,
				   .sandbox_debug = d.cfg.sandbox_debug,
				   .max_frame = d.cfg.max_frame,
				   .handshake_timeout_ms = d.cfg.handshake_timeout_ms,
				   .event_timeout_ms = d.cfg.event_timeout_ms,
				   .ping_interval_ms = d.cfg.ping_interval_ms,
				   .stop_timeout_ms = d.cfg.stop_timeout_ms,
				   .max_starting = d.cfg.max_starting,
				   .services = &d.services,
			       });
	d.platform = platform_new(d.base, d.bus, d.sup, SS_VERSION);
	d.api = api_new(d.base,
			&(struct api_options){.listen = d.cfg.listen,
					      .max_body = d.cfg.max_body,
					      .timeout_ms = d.cfg.http_timeout_ms,
					      /* A turn takes about what a host's window does. */
					      .turn_requests = (int)d.cfg.window,
					      .hold_max_ms = d.cfg.hold_max_ms,
					      .hold_expired = on_hold_expired,
					      .hold_arg = &d},
			err, sizeof err);
	if (d.api == NULL) {
		log_error("streamspaced", "%s", err);
		rc = 1;
		goto out;
	}
	/* A plugin that keeps up but fell behind holds new events' requests (bus.h, gate.h). */
	bus_set_pressure(d.bus, on_pressure, &d);
	d.core.bus = d.bus;
	d.core.sup = d.sup;
	d.core.jobs = d.jobs;
	core_api_register(d.api, &d.core);
	d.live = api_live_new(d.base, d.api, d.sup,
			      &(struct api_live_options){.max_clients = d.cfg.max_streams,
							 .heartbeat_ms = d.cfg.stream_heartbeat_ms,
							 .max_pending = d.cfg.stream_max_pending});
	api_proute_register(d.api, d.sup,
			    &(struct api_proute_options){
				.timeout_ms = d.cfg.route_timeout_ms,
				/* A body must fit a frame, with room for the envelope. */
				.max_body = d.cfg.route_max_body < d.cfg.max_frame / 2
						? d.cfg.route_max_body
						: d.cfg.max_frame / 2,
			    });
	web_register(&d);

	d.sig_chld = evsignal_new(d.base, SIGCHLD, on_signal, &d);
	d.sig_term = evsignal_new(d.base, SIGTERM, on_signal, &d);
	d.sig_int = evsignal_new(d.base, SIGINT, on_signal, &d);
	d.sig_hup = evsignal_new(d.base, SIGHUP, on_signal, &d);
	evsignal_add(d.sig_chld, NULL);
	evsignal_add(d.sig_term, NULL);
	evsignal_add(d.sig_int, NULL);
	evsignal_add(d.sig_hup, NULL);

	if (d.cfg.sandbox_debug)
		log_warn("streamspaced", "--sandbox-debug: refused syscalls trap and are logged; "
					 "for development only");
	log_info("streamspaced", "version %s, plugin host %s", SS_VERSION, d.cfg.host_path);
	/* The host's built-in plugins, listed once: the registry's and --plugin builtin:NAME. */
	bool want_builtins = d.cfg.database != NULL;
	for (size_t i = 0; i < d.cfg.nplugins; i++)
		want_builtins |= strstr(d.cfg.plugins[i], SS_BUILTIN_PREFIX) != NULL;
	if (want_builtins)
		discovery_builtins(d.cfg.host_path, &d.builtins);
	if (d.cfg.database != NULL) {
#if SS_HAVE_LIBPQ
		if (start_registry(&d, err, sizeof err) < 0) {
			log_error("registry", "%s", err);
			rc = 1;
			goto out;
		}
#else
		log_error("streamspaced",
			  "built without PostgreSQL support: --database unavailable");
		rc = 64;
		goto out;
#endif
	} else if (d.cfg.plugin_dir != NULL) {
		log_warn("streamspaced",
			 "--plugin-dir needs --database: the registry keeps what is "
			 "installed; ignoring it");
	}
	devplugins_run(&d.cfg, &d.builtins, d.egress, d.jobs, d.sup, dev_started, &d);
	/* system.startup once what start-up began has started (ready or not), 30 s at most. */
	platform_startup(d.platform, 30000);
	log_info("streamspaced", "listening on %.*s:%d",
		 (int)(strrchr(d.cfg.listen, ':') - d.cfg.listen), d.cfg.listen, api_port(d.api));
	sd_notify_state("READY=1");
	watchdog_start(&d);

	event_base_dispatch(d.base);
	rc = 0;
out:
	if (d.watchdog)
		event_free(d.watchdog);
	if (d.sig_chld) {
		event_free(d.sig_chld);
		event_free(d.sig_term);
		event_free(d.sig_int);
		event_free(d.sig_hup);
	}
#if SS_HAVE_LIBPQ
	stop_registry(&d);
#endif
	api_live_free(d.live);	   /* before the supervisor it watches */
	platform_free(d.platform); /* the same */
	supervisor_free(d.sup);
	/* After the supervisor: every peer, and so every job run, is gone. */
	jobs_free(d.jobs);
	emitter_free(d.emitter);
	egress_free(d.egress);
#if SS_HAVE_LIBPQ
	storage_free(d.storage);
#endif
	cgroup_free(d.cgroup);
	discovery_clear(&d.builtins);
	api_free(d.api);
	static_site_free(d.web);
	bus_free(d.bus);
	event_base_free(d.base);
	config_free(&d.cfg);
	log_flush_suppressed();
	return rc;
}

int main(int argc, char **argv)
{
	/* fds 0-2 must be open so no socket or pipe of ours lands on them. */
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) < 0)
			return 70;
#if SS_HAVE_LIBPQ
	if (argc > 1 && strcmp(argv[1], "token") == 0)
		return token_cli(argc - 1, argv + 1);
#endif
	if (argc > 1 && strcmp(argv[1], "config") == 0)
		return cli_config(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "run") == 0)
		return run(argc - 1, argv + 1);
	return run(argc, argv);
}
