#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "log.h"
#include "names.h"
#include "ss_config.h"
#include "xmalloc.h"

enum {
	OPT_LISTEN = 256,
	OPT_PLUGIN,
	OPT_PLUGIN_DIR,
	OPT_DATABASE,
	OPT_HOST,
	OPT_LOG_LEVEL,
	OPT_SANDBOX,
	OPT_SANDBOX_DEBUG,
	OPT_MAX_FRAME,
	OPT_MAX_BODY,
	OPT_QUEUE_MAX,
	OPT_WINDOW,
	OPT_QUEUE_BYTES,
	OPT_BUS_BYTES,
	OPT_HANDSHAKE,
	OPT_EVENT_TIMEOUT,
	OPT_PING,
	OPT_STOP_TIMEOUT,
	OPT_SHUTDOWN_TIMEOUT,
	OPT_WEB_ROOT,
	OPT_HTTP_TIMEOUT,
	OPT_MAX_STREAMS,
	OPT_STREAM_HEARTBEAT,
	OPT_CATALOG_DIR,
	OPT_CATALOG_SYNC,
	OPT_CA_BUNDLE,
	OPT_CATALOG_TIMEOUT,
	OPT_TRUSTED_KEY,
	OPT_REQUIRE_SIGNATURES,
	OPT_STORAGE_MAX_KEYS,
	OPT_STORAGE_MAX_BYTES,
	OPT_STORAGE_TIMEOUT,
	OPT_STORAGE_SWEEP,
	OPT_EMIT_RATE,
	OPT_EGRESS_ALLOW_PRIVATE,
	OPT_EGRESS_CA,
	OPT_EGRESS_CONNECT_TO,
	OPT_EGRESS_TIMEOUT,
	OPT_EGRESS_MAX_BYTES,
	OPT_ROUTE_TIMEOUT,
	OPT_ROUTE_MAX_BODY,
	OPT_EVENT_RETENTION,
	OPT_EVENT_KEEP_DELIVERED,
	OPT_EVENT_BACKLOG_MAX,
	OPT_LEASE,
	OPT_JOB_TIMEOUT,
	OPT_KEEP_VERSIONS,
	OPT_HOLD_MAX,
};

static const struct option options[] = {
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"plugin", required_argument, NULL, OPT_PLUGIN},
    {"plugin-dir", required_argument, NULL, OPT_PLUGIN_DIR},
    {"database", required_argument, NULL, OPT_DATABASE},
    {"host-path", required_argument, NULL, OPT_HOST},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"sandbox", required_argument, NULL, OPT_SANDBOX},
    {"sandbox-debug", no_argument, NULL, OPT_SANDBOX_DEBUG},
    {"max-frame", required_argument, NULL, OPT_MAX_FRAME},
    {"max-body", required_argument, NULL, OPT_MAX_BODY},
    {"queue-max", required_argument, NULL, OPT_QUEUE_MAX},
    {"window", required_argument, NULL, OPT_WINDOW},
    {"queue-bytes-max", required_argument, NULL, OPT_QUEUE_BYTES},
    {"bus-bytes-max", required_argument, NULL, OPT_BUS_BYTES},
    {"handshake-timeout-ms", required_argument, NULL, OPT_HANDSHAKE},
    {"event-timeout-ms", required_argument, NULL, OPT_EVENT_TIMEOUT},
    {"ping-interval-ms", required_argument, NULL, OPT_PING},
    {"max-streams", required_argument, NULL, OPT_MAX_STREAMS},
    {"stream-heartbeat-ms", required_argument, NULL, OPT_STREAM_HEARTBEAT},
    {"stop-timeout-ms", required_argument, NULL, OPT_STOP_TIMEOUT},
    {"shutdown-timeout-ms", required_argument, NULL, OPT_SHUTDOWN_TIMEOUT},
    {"web-root", required_argument, NULL, OPT_WEB_ROOT},
    {"http-timeout-ms", required_argument, NULL, OPT_HTTP_TIMEOUT},
    {"hold-max-ms", required_argument, NULL, OPT_HOLD_MAX},
    {"catalog-dir", required_argument, NULL, OPT_CATALOG_DIR},
    {"catalog-sync-interval", required_argument, NULL, OPT_CATALOG_SYNC},
    {"ca-bundle", required_argument, NULL, OPT_CA_BUNDLE},
    {"catalog-timeout-ms", required_argument, NULL, OPT_CATALOG_TIMEOUT},
    {"trusted-key", required_argument, NULL, OPT_TRUSTED_KEY},
    {"require-signatures", no_argument, NULL, OPT_REQUIRE_SIGNATURES},
    {"keep-versions", required_argument, NULL, OPT_KEEP_VERSIONS},
    {"storage-max-keys", required_argument, NULL, OPT_STORAGE_MAX_KEYS},
    {"storage-max-bytes", required_argument, NULL, OPT_STORAGE_MAX_BYTES},
    {"storage-timeout-ms", required_argument, NULL, OPT_STORAGE_TIMEOUT},
    {"storage-sweep-ms", required_argument, NULL, OPT_STORAGE_SWEEP},
    {"emit-rate", required_argument, NULL, OPT_EMIT_RATE},
    {"egress-allow-private", no_argument, NULL, OPT_EGRESS_ALLOW_PRIVATE},
    {"egress-ca", required_argument, NULL, OPT_EGRESS_CA},
    {"egress-connect-to", required_argument, NULL, OPT_EGRESS_CONNECT_TO},
    {"egress-timeout-ms", required_argument, NULL, OPT_EGRESS_TIMEOUT},
    {"job-timeout-ms", required_argument, NULL, OPT_JOB_TIMEOUT},
    {"egress-max-bytes", required_argument, NULL, OPT_EGRESS_MAX_BYTES},
    {"route-timeout-ms", required_argument, NULL, OPT_ROUTE_TIMEOUT},
    {"route-max-body", required_argument, NULL, OPT_ROUTE_MAX_BODY},
    {"event-retention", required_argument, NULL, OPT_EVENT_RETENTION},
    {"event-keep-delivered", required_argument, NULL, OPT_EVENT_KEEP_DELIVERED},
    {"event-backlog-max", required_argument, NULL, OPT_EVENT_BACKLOG_MAX},
    {"lease-ms", required_argument, NULL, OPT_LEASE},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

void config_usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: streamspaced [run] [options]\n"
	    "       streamspaced token create --name NAME --role admin|service|viewer\n"
	    "\n"
	    "  --listen ADDRESS:PORT       HTTP API address, numeric (STREAMSPACE_LISTEN, "
	    "127.0.0.1:8080)\n"
	    "  --plugin [NAME=]PATH        run this plugin .so with its default config and no\n"
	    "                              database; repeatable (the plugin author's loop)\n"
	    "  --plugin-dir DIR            plugin directory (STREAMSPACE_PLUGIN_DIR)\n"
	    "  --database CONNINFO         PostgreSQL URI or key=value string\n"
	    "                              (STREAMSPACE_DATABASE; PG* variables apply)\n"
	    "  --host-path PATH            streamspace-plugin-host (STREAMSPACE_HOST_PATH)\n"
	    "  --log-level LEVEL           debug|info|warn|error (STREAMSPACE_LOG_LEVEL, info)\n"
	    "  --sandbox strict|default    strict refuses a plugin when a layer is missing\n"
	    "  --sandbox-debug             trap and name refused syscalls (development only)\n"
	    "  --max-frame BYTES           protocol frame limit (1048576)\n"
	    "  --max-body BYTES            HTTP body limit (1048576)\n"
	    "  --queue-max N               queued events per plugin (4096)\n"
	    "  --window N                  events in flight per plugin (32)\n"
	    "  --queue-bytes-max N         bytes of events held per plugin (67108864)\n"
	    "  --bus-bytes-max N           bytes of events held in all (268435456); past it\n"
	    "                              POST /api/events answers 503 with Retry-After\n"
	    "  --handshake-timeout-ms MS   hello/ready deadline (5000)\n"
	    "  --event-timeout-ms MS       per-event deadline (5000)\n"
	    "  --ping-interval-ms MS       liveness ping interval (10000)\n"
	    "  --stop-timeout-ms MS        grace before SIGKILL on stop (3000)\n"
	    "  --shutdown-timeout-ms MS    time to deliver queued events at exit (5000)\n"
	    "  --http-timeout-ms MS        a whole HTTP request, and an idle connection (30000)\n"
	    "  --max-streams N             state streams (GET .../stream) open at once (16)\n"
	    "  --stream-heartbeat-ms MS    a state stream's keep-alive comment interval (15000)\n"
	    "  --storage-max-keys N        plugin storage: live keys per plugin (10000)\n"
	    "  --storage-max-bytes N       plugin storage: key + value bytes per plugin "
	    "(67108864)\n"
	    "  --storage-timeout-ms MS     a storage call the database has not finished (5000)\n"
	    "  --storage-sweep-ms MS       how often expired keys are deleted (60000)\n"
	    "  --emit-rate N               events a plugin may emit per second, burst 10x (100)\n"
	    "  --egress-allow-private      plugin egress may reach loopback, private, link-local\n"
	    "                              and metadata addresses (refused by default)\n"
	    "  --egress-ca FILE            a PEM bundle trusted for egress beside the system's\n"
	    "  --egress-connect-to H:P:CH:CP  egress to H:P connects to CH:CP (as curl's\n"
	    "                              --connect-to; repeatable, at most 16)\n"
	    "  --egress-timeout-ms MS      the most an egress request may take (30000)\n"
	    "  --egress-max-bytes N        an egress answer's body limit (4194304)\n");
	/* More strings: one literal may not pass 4095 bytes in ISO C. */
	fputs("  --route-timeout-ms MS       a plugin's answer to a route call (10000; past it\n"
	      "                              504, and the host is ended as hung)\n"
	      "  --route-max-body N          a plugin route's request body limit (262144; at\n"
	      "                              most max-frame / 2)\n"
	      "  --job-timeout-ms MS         a scheduled job's run must end within this, calls\n"
	      "                              not counted, or its host is ended as hung (60000)\n"
	      "  --hold-max-ms MS            the longest a plugin behind on the bus holds\n"
	      "                              POST /api/events (500; nothing else is held)\n"
	      "  --web-root DIR              the admin UI's files, served at /admin/\n"
	      "                              (STREAMSPACE_WEB_ROOT; the source tree's web/ for a\n"
	      "                              build-tree daemon, else the installed datadir)\n",
	      out);
	/* The marketplace's. */
	fputs(
	    "  --catalog-dir DIR           the shipped catalog, registered as repository\n"
	    "                              \"streamspace\" (STREAMSPACE_CATALOG_DIR; \"\" for "
	    "none;\n"
	    "                              the build tree's catalog/, else the installed datadir)\n"
	    "  --catalog-sync-interval S   seconds between repository syncs; 0: start-up and\n"
	    "                              POST .../sync only (3600)\n"
	    "  --catalog-timeout-ms MS     fetching one catalog.json, redirects included (30000)\n"
	    "  --trusted-key FILE          a minisign public key packages may be signed with;\n"
	    "                              repeatable (a signed package must verify with one)\n"
	    "  --require-signatures        refuse catalog packages without a verified signature\n"
	    "  --keep-versions N           versions of a plugin kept on disk for rollback, the\n"
	    "                              running one included (STREAMSPACE_KEEP_VERSIONS, 3)\n"
	    "  --ca-bundle FILE            PEM authorities trusted for https:// repositories\n"
	    "                              instead of the system's (STREAMSPACE_CA_BUNDLE)\n",
	    out);
	/* The durable delivery's. */
	fputs("  --event-retention S         with a database: events older than S seconds are\n"
	      "                              deleted, delivered or not (604800)\n"
	      "  --event-keep-delivered S    events every plugin acknowledged are deleted once\n"
	      "                              S seconds old (60)\n"
	      "  --event-backlog-max N       undelivered events past which POST /api/events\n"
	      "                              answers 503 with Retry-After (1000000)\n"
	      "  --lease-ms MS               a plugin's delivery lease; another daemon takes over\n"
	      "                              this long after its owner stops renewing (5000)\n",
	      out);
}

/* Parses a positive number within [min, max]; -1 on error. */
/* HOST:PORT:CONNECT_HOST:CONNECT_PORT, as curl's --connect-to: four parts, ports numeric. */
static bool connect_to_valid(const char *s)
{
	const char *part[4];
	size_t n = 0;

	if (strchr(s, '[') != NULL || strlen(s) > 300)
		return false; /* IPv6 literals would need brackets parsing: not offered */
	part[n++] = s;
	for (const char *c = s; *c != '\0'; c++) {
		if (*c == ':') {
			if (n == 4)
				return false;
			part[n++] = c + 1;
		} else if ((unsigned char)*c <= ' ') {
			return false;
		}
	}
	if (n != 4 || part[1] == part[0] + 1 || part[2] == part[1] + 1)
		return false;
	for (size_t i = 1; i < 4; i += 2) {
		char *end;
		long port = strtol(part[i], &end, 10);
		if (end == part[i] || (*end != ':' && *end != '\0') || port < 1 || port > 65535)
			return false;
	}
	return true;
}

static long long parse_num(const char *opt, const char *s, long long min, long long max)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "streamspaced: --%s wants a number from %lld to %lld, got \"%s\"\n",
			opt, min, max, s);
		return -1;
	}
	return v;
}

static void set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = v ? xstrdup(v) : NULL;
}

/* The host next to this build's daemon, else the installed one. */
static char *default_host_path(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);

	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		if (slash != NULL) {
			*slash = '\0';
			char *cand = xasprintf("%s/../plugin-host/streamspace-plugin-host", self);
			char *real = realpath(cand, NULL);
			free(cand);
			if (real != NULL && access(real, X_OK) == 0)
				return real;
			free(real);
		}
	}
	return xstrdup(SS_LIBEXECDIR "/streamspace-plugin-host");
}

/*
 * The admin UI's files: a daemon run from its build tree serves the source
 * tree's web/ (edits show at the next start, no install step), an installed
 * one the copy meson installed.
 */
static bool in_build_tree(void)
{
	char self[PATH_MAX], build[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	size_t len;

	if (n <= 0 || realpath(SS_BUILD_ROOT, build) == NULL)
		return false;
	self[n] = '\0';
	len = strlen(build);
	return strncmp(self, build, len) == 0 && self[len] == '/';
}

static char *default_web_root(void)
{
	if (in_build_tree() && access(SS_SOURCE_ROOT "/web/index.html", R_OK) == 0)
		return xstrdup(SS_SOURCE_ROOT "/web");
	return xstrdup(SS_DATADIR "/streamspace/web");
}

/* The shipped catalog (meson's catalog target), likewise: the build tree's, else installed. */
static char *default_catalog_dir(void)
{
	if (in_build_tree() && access(SS_BUILD_ROOT "/catalog/catalog.json", R_OK) == 0)
		return xstrdup(SS_BUILD_ROOT "/catalog");
	return xstrdup(SS_DATADIR "/streamspace/catalog");
}

static void defaults(struct config *c)
{
	const char *e;

	memset(c, 0, sizeof *c);
	c->listen = xstrdup((e = getenv("STREAMSPACE_LISTEN")) ? e : "127.0.0.1:8080");
	if ((e = getenv("STREAMSPACE_PLUGIN_DIR")) != NULL)
		c->plugin_dir = xstrdup(e);
	if ((e = getenv("STREAMSPACE_DATABASE")) != NULL)
		c->database = xstrdup(e);
	if ((e = getenv("STREAMSPACE_HOST_PATH")) != NULL)
		c->host_path = xstrdup(e);
	if ((e = getenv("STREAMSPACE_WEB_ROOT")) != NULL)
		c->web_root = xstrdup(e);
	if ((e = getenv("STREAMSPACE_CATALOG_DIR")) != NULL)
		c->catalog_dir = xstrdup(e);
	if ((e = getenv("STREAMSPACE_CA_BUNDLE")) != NULL)
		c->ca_bundle = xstrdup(e);
	c->catalog_sync_interval_s = 3600;
	c->keep_versions = 3;
	if ((e = getenv("STREAMSPACE_KEEP_VERSIONS")) != NULL) {
		long long v = parse_num("keep-versions (STREAMSPACE_KEEP_VERSIONS)", e, 1, 100);

		/* A bad value in the environment is refused like the flag's (config_parse fails).
		 */
		c->keep_versions = v < 0 ? -1 : (int)v;
	}
	c->catalog_timeout_ms = 30000;
	c->log_level = LOG_LVL_INFO;
	if ((e = getenv("STREAMSPACE_LOG_LEVEL")) != NULL && log_level_parse(e) >= 0)
		c->log_level = log_level_parse(e);
	c->max_frame = 1024 * 1024;
	c->max_body = 1024 * 1024;
	c->queue_max = 4096;
	c->window = 32;
	c->queue_bytes_max = (size_t)64 << 20;
	c->bus_bytes_max = (size_t)256 << 20;
	c->handshake_timeout_ms = 5000;
	c->event_timeout_ms = 5000;
	c->ping_interval_ms = 10000;
	c->stop_timeout_ms = 3000;
	c->shutdown_timeout_ms = 5000;
	c->http_timeout_ms = 30000;
	c->hold_max_ms = 500;
	c->max_streams = 16;
	c->stream_heartbeat_ms = 15000;
	c->storage_max_keys = 10000;
	c->storage_max_bytes = 64LL << 20;
	c->storage_timeout_ms = 5000;
	c->storage_sweep_ms = 60000;
	c->emit_rate = 100;
	c->event_retention_s = 7 * 86400;
	c->event_keep_delivered_s = 60;
	c->event_backlog_max = 1000000;
	c->lease_ms = 5000;
	c->egress_timeout_ms = 30000;
	c->job_timeout_ms = 60000;
	c->egress_max_bytes = 4u << 20;
	c->route_timeout_ms = 10000;
	c->route_max_body = 256u << 10;
}

static rlim_t nofile_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		return 1 << 20;
	return rl.rlim_cur;
}

/* How many --plugin the open-file limit leaves room for (see config.h). */
static size_t plugins_max(void)
{
	rlim_t n = nofile_limit();

	return n <= CONFIG_FDS_RESERVED ? 0
					: (size_t)(n - CONFIG_FDS_RESERVED) / CONFIG_FDS_PER_HOST;
}

/* --plugin [NAME=]PATH: the path is made absolute now, while the cwd is known. */
static int add_plugin(struct config *c, const char *arg)
{
	const char *eq = strchr(arg, '=');
	const char *path = arg;
	char *real;

	if (c->nplugins >= plugins_max()) {
		fprintf(
		    stderr,
		    "streamspaced: at most %zu --plugin with an open-file limit of %llu "
		    "(%d descriptors per host, %d kept for the rest; raise it with ulimit -n)\n",
		    plugins_max(), (unsigned long long)nofile_limit(), CONFIG_FDS_PER_HOST,
		    CONFIG_FDS_RESERVED);
		return -1;
	}
	c->plugins = xrealloc(c->plugins, (c->nplugins + 1) * sizeof *c->plugins);
	const char *slash = strchr(arg, '/');
	if (eq != NULL && (slash == NULL || slash > eq))
		path = eq + 1;
	else
		eq = NULL;
	if (name_builtin(path) != NULL) {
		/* A plugin compiled into the host: no file to resolve. */
		c->plugins[c->nplugins++] = xstrdup(arg);
		return 0;
	}
	real = realpath(path, NULL);
	if (real == NULL) {
		fprintf(stderr, "streamspaced: --plugin %s: %s\n", path, strerror(errno));
		return -1;
	}
	c->plugins[c->nplugins++] =
	    eq ? xasprintf("%.*s=%s", (int)(eq - arg), arg, real) : xstrdup(real);
	free(real);
	return 0;
}

int config_parse(struct config *c, int argc, char **argv)
{
	int ch, li = 0;
	long long v;

	defaults(c);
	optind = 1;
	while ((ch = getopt_long(argc, argv, "hV", options, &li)) != -1) {
		switch (ch) {
		case OPT_LISTEN:
			set_str(&c->listen, optarg);
			break;
		case OPT_PLUGIN:
			if (add_plugin(c, optarg) < 0)
				return -1;
			break;
		case OPT_PLUGIN_DIR:
			set_str(&c->plugin_dir, optarg);
			break;
		case OPT_DATABASE:
			set_str(&c->database, optarg);
			break;
		case OPT_HOST:
			set_str(&c->host_path, optarg);
			break;
		case OPT_WEB_ROOT:
			set_str(&c->web_root, optarg);
			break;
		case OPT_CATALOG_DIR:
			set_str(&c->catalog_dir, optarg);
			break;
		case OPT_TRUSTED_KEY:
			if (c->ntrusted_keys == CONFIG_KEYS_MAX) {
				fprintf(stderr, "streamspaced: at most %d --trusted-key\n",
					CONFIG_KEYS_MAX);
				return -1;
			}
			c->trusted_keys[c->ntrusted_keys++] = xstrdup(optarg);
			break;
		case OPT_REQUIRE_SIGNATURES:
			c->require_signatures = true;
			break;
		case OPT_CA_BUNDLE:
			set_str(&c->ca_bundle, optarg);
			break;
		case OPT_EGRESS_ALLOW_PRIVATE:
			c->egress_allow_private = true;
			break;
		case OPT_EGRESS_CA:
			set_str(&c->egress_ca, optarg);
			break;
		case OPT_EGRESS_CONNECT_TO:
			if (c->negress_connect_to == CONFIG_CONNECT_TO_MAX ||
			    !connect_to_valid(optarg)) {
				fprintf(stderr,
					"streamspaced: --egress-connect-to HOST:PORT:CONNECT_HOST:"
					"CONNECT_PORT, at most %d\n",
					CONFIG_CONNECT_TO_MAX);
				return -1;
			}
			c->egress_connect_to[c->negress_connect_to++] = xstrdup(optarg);
			break;
		case OPT_LOG_LEVEL:
			if ((c->log_level = log_level_parse(optarg)) < 0) {
				fprintf(stderr, "streamspaced: unknown log level \"%s\"\n", optarg);
				return -1;
			}
			break;
		case OPT_SANDBOX:
			if (strcmp(optarg, "strict") == 0)
				c->strict = true;
			else if (strcmp(optarg, "default") == 0)
				c->strict = false;
			else {
				fprintf(stderr, "streamspaced: --sandbox strict|default\n");
				return -1;
			}
			break;
		case OPT_SANDBOX_DEBUG:
			c->sandbox_debug = true;
			break;
#define NUM(field, lo, hi)                                                                         \
	if ((v = parse_num(options[li].name, optarg, lo, hi)) < 0)                                 \
		return -1;                                                                         \
	c->field = (__typeof__(c->field))v;                                                        \
	break
		case OPT_MAX_FRAME:
			NUM(max_frame, 4096, 64LL << 20);
		case OPT_MAX_BODY:
			NUM(max_body, 1024, 64LL << 20);
		case OPT_QUEUE_MAX:
			NUM(queue_max, 1, 1 << 20);
		case OPT_WINDOW:
			NUM(window, 1, 1024);
		case OPT_QUEUE_BYTES:
			NUM(queue_bytes_max, 4096, 1LL << 40);
		case OPT_BUS_BYTES:
			NUM(bus_bytes_max, 4096, 1LL << 40);
		case OPT_HANDSHAKE:
			NUM(handshake_timeout_ms, 10, 600000);
		case OPT_EVENT_TIMEOUT:
			NUM(event_timeout_ms, 10, 600000);
		case OPT_PING:
			NUM(ping_interval_ms, 10, 3600000);
		case OPT_STOP_TIMEOUT:
			NUM(stop_timeout_ms, 10, 600000);
		case OPT_SHUTDOWN_TIMEOUT:
			NUM(shutdown_timeout_ms, 0, 600000);
		case OPT_HTTP_TIMEOUT:
			NUM(http_timeout_ms, 100, 600000);
		case OPT_HOLD_MAX:
			NUM(hold_max_ms, 1, 600000);
		case OPT_MAX_STREAMS:
			NUM(max_streams, 1, 4096);
		case OPT_STREAM_HEARTBEAT:
			NUM(stream_heartbeat_ms, 100, 3600000);
		case OPT_CATALOG_SYNC:
			NUM(catalog_sync_interval_s, 0, 7 * 86400);
		case OPT_CATALOG_TIMEOUT:
			NUM(catalog_timeout_ms, 100, 600000);
		case OPT_KEEP_VERSIONS:
			NUM(keep_versions, 1, 100);
		case OPT_STORAGE_MAX_KEYS:
			NUM(storage_max_keys, 1, 1LL << 40);
		case OPT_STORAGE_MAX_BYTES:
			NUM(storage_max_bytes, 1024, 1LL << 50);
		case OPT_STORAGE_TIMEOUT:
			NUM(storage_timeout_ms, 10, 600000);
		case OPT_STORAGE_SWEEP:
			NUM(storage_sweep_ms, 10, 86400000);
		case OPT_EMIT_RATE:
			NUM(emit_rate, 1, 1000000);
		case OPT_EGRESS_TIMEOUT:
			NUM(egress_timeout_ms, 100, 600000);
		case OPT_EGRESS_MAX_BYTES:
			NUM(egress_max_bytes, 1024, 64LL << 20);
		case OPT_ROUTE_TIMEOUT:
			NUM(route_timeout_ms, 10, 600000);
		case OPT_ROUTE_MAX_BODY:
			NUM(route_max_body, 0, 64LL << 20);
		case OPT_EVENT_RETENTION:
			NUM(event_retention_s, 1, 3650LL * 86400);
		case OPT_EVENT_KEEP_DELIVERED:
			NUM(event_keep_delivered_s, 0, 3650LL * 86400);
		case OPT_EVENT_BACKLOG_MAX:
			NUM(event_backlog_max, 1, 1LL << 40);
		case OPT_LEASE:
			NUM(lease_ms, 500, 600000);
		case OPT_JOB_TIMEOUT:
			NUM(job_timeout_ms, 100, 86400000);
#undef NUM
		case 'h':
			config_usage(stdout);
			return 1;
		case 'V':
			printf("streamspaced %s\n", SS_VERSION);
			return 1;
		default:
			config_usage(stderr);
			return -1;
		}
	}
	if (c->keep_versions < 0)
		return -1; /* STREAMSPACE_KEEP_VERSIONS was not a number from 1 to 100 */
	if (optind < argc) {
		fprintf(stderr, "streamspaced: unexpected argument \"%s\"\n", argv[optind]);
		return -1;
	}
	if (c->host_path == NULL)
		c->host_path = default_host_path();
	if (c->web_root == NULL)
		c->web_root = default_web_root();
	if (c->catalog_dir == NULL)
		c->catalog_dir = default_catalog_dir();
	return 0;
}

void config_free(struct config *c)
{
	free(c->listen);
	for (size_t i = 0; i < c->nplugins; i++)
		free(c->plugins[i]);
	free(c->plugins);
	free(c->plugin_dir);
	free(c->database);
	free(c->host_path);
	free(c->web_root);
	free(c->catalog_dir);
	free(c->ca_bundle);
	free(c->egress_ca);
	for (size_t i = 0; i < c->negress_connect_to; i++)
		free(c->egress_connect_to[i]);
	for (size_t i = 0; i < c->ntrusted_keys; i++)
		free(c->trusted_keys[i]);
	memset(c, 0, sizeof *c);
}
