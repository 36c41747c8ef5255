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
#include "hostfds.h"
#include "xmalloc.h"

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

static rlim_t nofile_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		return 1 << 20;
	return rl.rlim_cur;
}

/*
 * Whether n --plugin fit the open-file limit (hostfds_max: the
 * bound every host's start is held to); -1 after saying so.
 */
static int plugins_fit(const struct config *c, size_t n)
{
	rlim_t nofile = nofile_limit();
	size_t max = hostfds_max((unsigned long long)nofile, c->max_starting);

	if (n <= max)
		return 0;
	fprintf(stderr,
		"streamspaced: at most %zu --plugin with an open-file limit of %llu and "
		"--max-starting %d (%d descriptors per host, %d more per host starting, %d kept "
		"for the rest; raise it with ulimit -n or LimitNOFILE=)\n",
		max, (unsigned long long)nofile, c->max_starting, HOSTFDS_PER_HOST,
		HOSTFDS_STARTING, HOSTFDS_RESERVED);
	return -1;
}

/* --plugin [NAME=]PATH: the path is made absolute now, while the cwd is known. */
static int add_plugin(struct config *c, const char *arg)
{
	const char *eq = strchr(arg, '=');
	const char *path = arg;
	char *real;

	/* Checked before it grows (--max-starting may come later: checked again at the end). */
	if (plugins_fit(c, c->nplugins + 1) < 0)
		return -1;
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

/*
 * The options that are not a number, a string or a switch. Each returns 0,
 * or -1 after printing what was wrong; env names the variable the value came
 * from (NULL: the flag).
 */
static int set_plugin(struct config *c, const char *arg, const char *env)
{
	(void)env;
	return add_plugin(c, arg);
}

static int set_trusted_key(struct config *c, const char *arg, const char *env)
{
	(void)env;
	if (c->ntrusted_keys == CONFIG_KEYS_MAX) {
		fprintf(stderr, "streamspaced: at most %d --trusted-key\n", CONFIG_KEYS_MAX);
		return -1;
	}
	c->trusted_keys[c->ntrusted_keys++] = xstrdup(arg);
	return 0;
}

static int set_connect_to(struct config *c, const char *arg, const char *env)
{
	(void)env;
	if (c->negress_connect_to == CONFIG_CONNECT_TO_MAX || !connect_to_valid(arg)) {
		fprintf(stderr,
			"streamspaced: --egress-connect-to HOST:PORT:CONNECT_HOST:CONNECT_PORT, "
			"at most %d\n",
			CONFIG_CONNECT_TO_MAX);
		return -1;
	}
	c->egress_connect_to[c->negress_connect_to++] = xstrdup(arg);
	return 0;
}

static int set_log_level(struct config *c, const char *arg, const char *env)
{
	if ((c->log_level = log_level_parse(arg)) < 0) {
		fprintf(stderr, "streamspaced: unknown log level \"%s\"%s%s%s\n", arg,
			env ? " (" : "", env ? env : "", env ? ")" : "");
		return -1;
	}
	return 0;
}

static int set_sandbox(struct config *c, const char *arg, const char *env)
{
	(void)env;
	if (strcmp(arg, "strict") == 0)
		c->strict = true;
	else if (strcmp(arg, "default") == 0)
		c->strict = false;
	else {
		fprintf(stderr, "streamspaced: --sandbox strict|default\n");
		return -1;
	}
	return 0;
}

/* What an option is, and so how its value is parsed and stored. */
enum kind {
	K_INT,	/* a number in an int */
	K_SIZE, /* a number in a size_t */
	K_I64,	/* a number in an int64_t */
	K_STR,	/* a string (char *), replaced by a later one */
	K_FLAG, /* a bool set by the flag alone */
	K_FN,	/* set by its own function */
	K_HELP,
	K_VERSION,
};

/*
 * One option: its flag, the environment variable that gives its default
 * (flags win), where it goes, its range and default, and its --help line.
 * Parsing, range checks, the environment and --help all read this table,
 * so an option is added in one place. A number's kind follows its field's
 * type, so a table row cannot store into a field of another width.
 */
struct knob {
	const char *name; /* the flag without "--" */
	const char *env;  /* STREAMSPACE_*, or NULL */
	enum kind kind;
	size_t off; /* offsetof(struct config, field) */
	long long min, max, def;
	const char *sdef; /* the default of a K_STR or K_FN (set through set), or NULL */
	int (*set)(struct config *c, const char *arg, const char *env); /* K_FN */
	const char *arg;						/* --help: "MS", "N" */
	const char *help;
};

#define KIND_OF(f) _Generic(((struct config *)0)->f, int : K_INT, size_t : K_SIZE, int64_t : K_I64)
#define NUM(n, f, a, lo, hi, d, h)                                                                 \
	{                                                                                          \
		.name = n, .kind = KIND_OF(f), .off = offsetof(struct config, f), .min = lo,       \
		.max = hi, .def = d, .arg = a, .help = h                                           \
	}
#define NUME(n, e, f, a, lo, hi, d, h)                                                             \
	{                                                                                          \
		.name = n, .env = e, .kind = KIND_OF(f), .off = offsetof(struct config, f),        \
		.min = lo, .max = hi, .def = d, .arg = a, .help = h                                \
	}
#define STR(n, e, f, a, d, h)                                                                      \
	{                                                                                          \
		.name = n, .env = e, .kind = K_STR, .off = offsetof(struct config, f), .sdef = d,  \
		.arg = a, .help = h                                                                \
	}
#define FLAG(n, f, h)                                                                              \
	{                                                                                          \
		.name = n, .kind = K_FLAG, .off = offsetof(struct config, f), .help = h            \
	}
#define FN(n, e, fn, a, shown, h)                                                                  \
	{                                                                                          \
		.name = n, .env = e, .kind = K_FN, .set = fn, .sdef = shown, .arg = a, .help = h   \
	}

static const struct knob knobs[] = {
    STR("listen", "STREAMSPACE_LISTEN", listen, "ADDRESS:PORT", "127.0.0.1:8080",
	"HTTP API address, numeric"),
    FN("plugin", NULL, set_plugin, "[NAME=]PATH", NULL,
       "run this plugin .so with its default config and no database; repeatable (the plugin "
       "author's loop)"),
    STR("plugin-dir", "STREAMSPACE_PLUGIN_DIR", plugin_dir, "DIR", NULL, "plugin directory"),
    STR("database", "STREAMSPACE_DATABASE", database, "CONNINFO", NULL,
	"PostgreSQL URI or key=value string; PG* variables apply"),
    STR("host-path", "STREAMSPACE_HOST_PATH", host_path, "PATH", NULL,
	"streamspace-plugin-host; the one beside this build's daemon, else the installed one"),
    FN("log-level", "STREAMSPACE_LOG_LEVEL", set_log_level, "LEVEL", "info",
       "debug|info|warn|error"),
    FN("sandbox", NULL, set_sandbox, "strict|default", "default",
       "strict refuses a plugin when a layer is missing"),
    FLAG("sandbox-debug", sandbox_debug, "trap and name refused syscalls (development only)"),
    NUM("max-frame", max_frame, "BYTES", 4096, 64LL << 20, 1 << 20, "protocol frame limit"),
    NUM("max-body", max_body, "BYTES", 1024, 64LL << 20, 1 << 20, "HTTP body limit"),
    NUM("queue-max", queue_max, "N", 1, 1 << 20, 4096, "queued events per plugin"),
    NUM("window", window, "N", 1, 1024, 32, "events in flight per plugin"),
    NUM("queue-bytes-max", queue_bytes_max, "N", 4096, 1LL << 40, 64LL << 20,
	"bytes of events held per plugin"),
    NUM("bus-bytes-max", bus_bytes_max, "N", 4096, 1LL << 40, 256LL << 20,
	"bytes of events held in all; past it POST /api/events answers 503 with Retry-After"),
    NUM("handshake-timeout-ms", handshake_timeout_ms, "MS", 10, 600000, 5000,
	"hello/ready deadline"),
    NUM("event-timeout-ms", event_timeout_ms, "MS", 10, 600000, 5000, "per-event deadline"),
    NUM("ping-interval-ms", ping_interval_ms, "MS", 10, 3600000, 10000, "liveness ping interval"),
    NUM("stop-timeout-ms", stop_timeout_ms, "MS", 10, 600000, 3000, "grace before SIGKILL on stop"),
    NUM("max-starting", max_starting, "N", 1, 4096, 16,
	"plugin hosts starting at once (spawned, not yet ready); the others wait their turn"),
    NUM("shutdown-timeout-ms", shutdown_timeout_ms, "MS", 0, 600000, 5000,
	"time to deliver queued events at exit"),
    NUM("http-timeout-ms", http_timeout_ms, "MS", 100, 600000, 30000,
	"a whole HTTP request, and an idle connection"),
    NUM("hold-max-ms", hold_max_ms, "MS", 1, 600000, 500,
	"the longest a plugin behind on the bus holds POST /api/events; nothing else is "
	"held"),
    NUM("max-streams", max_streams, "N", 1, 4096, 16,
	"state streams (GET .../stream) open at once"),
    NUM("stream-heartbeat-ms", stream_heartbeat_ms, "MS", 100, 3600000, 15000,
	"a state stream's keep-alive comment interval"),
    NUM("stream-max-pending", stream_max_pending, "BYTES", 4096, 64LL << 20, 512 << 10,
	"what a state stream client may leave unread before it is disconnected"),
    NUM("storage-max-keys", storage_max_keys, "N", 1, 1LL << 40, 10000,
	"plugin storage: live keys per plugin"),
    NUM("storage-max-bytes", storage_max_bytes, "N", 1024, 1LL << 50, 64LL << 20,
	"plugin storage: key + value bytes per plugin"),
    NUM("storage-timeout-ms", storage_timeout_ms, "MS", 10, 600000, 5000,
	"a storage call the database has not finished"),
    NUM("storage-sweep-ms", storage_sweep_ms, "MS", 10, 86400000, 60000,
	"how often expired keys are deleted"),
    NUM("emit-rate", emit_rate, "N", 1, 1000000, 100,
	"events a plugin may emit per second, burst 10x"),
    FLAG("egress-allow-private", egress_allow_private,
	 "plugin egress may reach loopback, private, link-local and metadata addresses (refused "
	 "by default)"),
    STR("egress-ca", NULL, egress_ca, "FILE", NULL,
	"a PEM bundle trusted for egress beside the system's"),
    FN("egress-connect-to", NULL, set_connect_to, "H:P:CH:CP", NULL,
       "egress to H:P connects to CH:CP (as curl's --connect-to; repeatable, at most 16)"),
    NUM("egress-timeout-ms", egress_timeout_ms, "MS", 100, 600000, 30000,
	"the most an egress request may take"),
    NUM("egress-max-bytes", egress_max_bytes, "N", 1024, 64LL << 20, 4LL << 20,
	"an egress answer's body limit"),
    NUM("route-timeout-ms", route_timeout_ms, "MS", 10, 600000, 10000,
	"a plugin's answer to a route call (past it 504, and the host is ended as hung)"),
    NUM("route-max-body", route_max_body, "N", 0, 64LL << 20, 256LL << 10,
	"a plugin route's request body limit (at most max-frame / 2)"),
    NUM("job-timeout-ms", job_timeout_ms, "MS", 100, 86400000, 60000,
	"a scheduled job's run must end within this, calls not counted, or its host is ended "
	"as hung"),
    STR("web-root", "STREAMSPACE_WEB_ROOT", web_root, "DIR", NULL,
	"the admin UI's files, served at /admin/ (the source tree's web/ for a build-tree "
	"daemon, else the installed datadir)"),
    /* The marketplace's. */
    STR("catalog-dir", "STREAMSPACE_CATALOG_DIR", catalog_dir, "DIR", NULL,
	"the shipped catalog, registered as repository \"streamspace\" (\"\" for none; the "
	"build tree's catalog/, else the installed datadir)"),
    NUM("catalog-sync-interval", catalog_sync_interval_s, "S", 0, 7 * 86400, 3600,
	"seconds between repository syncs; 0: start-up and POST .../sync only"),
    NUM("catalog-timeout-ms", catalog_timeout_ms, "MS", 100, 600000, 30000,
	"fetching one catalog.json, redirects included"),
    FN("trusted-key", NULL, set_trusted_key, "FILE", NULL,
       "a minisign public key packages may be signed with; repeatable (a signed package must "
       "verify with one)"),
    FLAG("require-signatures", require_signatures,
	 "refuse catalog packages without a verified signature"),
    NUME("keep-versions", "STREAMSPACE_KEEP_VERSIONS", keep_versions, "N", 1, 100, 3,
	 "versions of a plugin kept on disk for rollback, the running one included"),
    STR("ca-bundle", "STREAMSPACE_CA_BUNDLE", ca_bundle, "FILE", NULL,
	"PEM authorities trusted for https:// repositories instead of the system's"),
    /* The durable delivery's. */
    NUM("event-retention", event_retention_s, "S", 1, 3650LL * 86400, 7 * 86400,
	"with a database: events older than S seconds are deleted, delivered or not"),
    NUM("event-keep-delivered", event_keep_delivered_s, "S", 0, 3650LL * 86400, 60,
	"events every plugin acknowledged are deleted once S seconds old"),
    NUM("event-backlog-max", event_backlog_max, "N", 1, 1LL << 40, 1000000,
	"undelivered events past which POST /api/events answers 503 with Retry-After"),
    NUM("lease-ms", lease_ms, "MS", 500, 600000, 5000,
	"a plugin's delivery lease; another daemon takes over this long after its owner stops "
	"renewing"),
    {.name = "help", .kind = K_HELP, .help = "this text"},
    {.name = "version", .kind = K_VERSION, .help = "the daemon's version"},
};

#undef KIND_OF
#undef NUM
#undef NUME
#undef STR
#undef FLAG
#undef FN

#define NKNOBS (sizeof knobs / sizeof knobs[0])
#define HELP_COLUMN 30 /* where the help text starts */
#define HELP_WIDTH 80

/* The largest value k's field holds: a row whose max is past it is a broken table. */
static long long kind_max(enum kind k)
{
	switch (k) {
	case K_INT:
		return INT_MAX;
	case K_SIZE:
		return SIZE_MAX < LLONG_MAX ? (long long)SIZE_MAX : LLONG_MAX;
	case K_I64:
		return INT64_MAX;
	default:
		return 0;
	}
}

static bool is_number(enum kind k)
{
	return k == K_INT || k == K_SIZE || k == K_I64;
}

static void store_number(struct config *c, const struct knob *k, long long v)
{
	void *p = (char *)c + k->off;

	switch (k->kind) {
	case K_INT:
		*(int *)p = (int)v;
		break;
	case K_SIZE:
		*(size_t *)p = (size_t)v;
		break;
	case K_I64:
		*(int64_t *)p = (int64_t)v;
		break;
	default:
		fatal("config: %s is not a number", k->name);
	}
}

/*
 * Parses a number within [min, max] for k into c; -1 after saying so. what
 * is how the message names it: "keep-versions", or with the variable it
 * came from, "keep-versions (STREAMSPACE_KEEP_VERSIONS)".
 */
static int parse_num(struct config *c, const struct knob *k, const char *what, const char *s)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < k->min || v > k->max) {
		fprintf(stderr, "streamspaced: --%s wants a number from %lld to %lld, got \"%s\"\n",
			what, k->min, k->max, s);
		return -1;
	}
	store_number(c, k, v);
	return 0;
}

/* Sets k from a value (the flag's argument, or env's); 0, or -1 after printing why. */
static int knob_set(struct config *c, const struct knob *k, const char *arg, const char *env)
{
	switch (k->kind) {
	case K_INT:
	case K_SIZE:
	case K_I64:
		if (env != NULL) {
			char *what = xasprintf("%s (%s)", k->name, env);
			int r = parse_num(c, k, what, arg);

			free(what);
			return r;
		}
		return parse_num(c, k, k->name, arg);
	case K_STR:
		set_str((char **)((char *)c + k->off), arg);
		return 0;
	case K_FLAG:
		*(bool *)((char *)c + k->off) = true;
		return 0;
	case K_FN:
		return k->set(c, arg, env);
	default:
		fatal("config: --%s has no value", k->name);
	}
}

/*
 * The defaults, then the environment's values over them. A bad value in
 * the environment is refused like the flag's, unless the flag is given too
 * (flags win): env_bad[i] says so until then.
 */
static void defaults(struct config *c, bool env_bad[NKNOBS])
{
	memset(c, 0, sizeof *c);
	for (size_t i = 0; i < NKNOBS; i++) {
		const struct knob *k = &knobs[i];
		const char *e;

		env_bad[i] = false;
		if (is_number(k->kind)) {
			if (k->max > kind_max(k->kind) || k->def < k->min || k->def > k->max)
				fatal("config: --%s: default %lld, range %lld to %lld", k->name,
				      k->def, k->min, k->max);
			store_number(c, k, k->def);
		} else if (k->sdef != NULL && knob_set(c, k, k->sdef, NULL) < 0) {
			fatal("config: --%s: bad default %s", k->name, k->sdef);
		}
		if (k->env != NULL && (e = getenv(k->env)) != NULL)
			env_bad[i] = knob_set(c, k, e, k->env) < 0;
	}
}

/* One option's help: "  --name ARG", then its text, its variable and default, wrapped. */
static void usage_knob(FILE *out, const struct knob *k)
{
	char *text, *word, *save = NULL, def[32] = "";
	const char *shown = k->sdef;
	int col;

	if (is_number(k->kind)) {
		snprintf(def, sizeof def, "%lld", k->def);
		shown = def;
	}
	if (k->env != NULL && shown != NULL)
		text = xasprintf("%s (%s, %s)", k->help, k->env, shown);
	else if (k->env != NULL || shown != NULL)
		text = xasprintf("%s (%s)", k->help, k->env ? k->env : shown);
	else
		text = xstrdup(k->help);
	col = fprintf(out, "  --%s%s%s", k->name, k->arg ? " " : "", k->arg ? k->arg : "");
	if (col >= HELP_COLUMN) {
		/* A long flag has its text start on the next line, in the column. */
		fputc('\n', out);
		col = 0;
	}
	for (word = strtok_r(text, " ", &save); word != NULL; word = strtok_r(NULL, " ", &save)) {
		int len = (int)strlen(word);

		if (col >= HELP_COLUMN && col + 1 + len > HELP_WIDTH) {
			fputc('\n', out);
			col = 0;
		}
		if (col < HELP_COLUMN) {
			col += fprintf(out, "%*s", HELP_COLUMN - col, "");
		} else {
			fputc(' ', out);
			col++;
		}
		col += fprintf(out, "%s", word);
	}
	fputc('\n', out);
	free(text);
}

void config_usage(FILE *out)
{
	fputs("usage: streamspaced [run] [options]\n"
	      "       streamspaced token create --name NAME --role admin|service|viewer\n"
	      "\n",
	      out);
	for (size_t i = 0; i < NKNOBS; i++)
		usage_knob(out, &knobs[i]);
}

int config_parse(struct config *c, int argc, char **argv)
{
	struct option opts[NKNOBS + 1];
	bool env_bad[NKNOBS];
	int ch, li = 0;

	for (size_t i = 0; i < NKNOBS; i++) {
		bool valued = knobs[i].kind != K_FLAG && knobs[i].kind != K_HELP &&
			      knobs[i].kind != K_VERSION;

		opts[i] = (struct option){knobs[i].name, valued ? required_argument : no_argument,
					  NULL, 256 + (int)i};
	}
	opts[NKNOBS] = (struct option){NULL, 0, NULL, 0};
	defaults(c, env_bad);
	optind = 1;
	while ((ch = getopt_long(argc, argv, "hV", opts, &li)) != -1) {
		const struct knob *k =
		    ch >= 256 && ch < 256 + (int)NKNOBS ? &knobs[ch - 256] : NULL;

		if (ch == 'h' || (k != NULL && k->kind == K_HELP)) {
			config_usage(stdout);
			return 1;
		}
		if (ch == 'V' || (k != NULL && k->kind == K_VERSION)) {
			printf("streamspaced %s\n", SS_VERSION);
			return 1;
		}
		if (k == NULL) {
			config_usage(stderr);
			return -1;
		}
		if (knob_set(c, k, optarg, NULL) < 0)
			return -1;
		env_bad[k - knobs] = false; /* the flag wins over the variable */
	}
	for (size_t i = 0; i < NKNOBS; i++)
		if (env_bad[i])
			return -1; /* knob_set said why */
	if (optind < argc) {
		fprintf(stderr, "streamspaced: unexpected argument \"%s\"\n", argv[optind]);
		return -1;
	}
	if (plugins_fit(c, c->nplugins) < 0)
		return -1;
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
