/*
 * streamspace-plugin-host: runs one plugin in its own confined process and
 * speaks the plugin protocol (proto/PROTOCOL.md) with the daemon on fd 3.
 *
 * The confinement comes first, in a fixed order (README.md explains each
 * step), because plugin code runs the moment it is loaded: its constructors
 * run inside dlopen. So the sandbox goes up before dlopen and tightens after.
 */
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "channel.h"
#include "diag.h"
#include "filter.h"
#include "builtin.h"
#include "landlock.h"
#include "sandbox.h"
#include "sanitizer.h"
#include "serve.h"

#if defined(HOST_ASAN)
/*
 * AddressSanitizer defaults for the host, below whatever ASAN_OPTIONS says.
 * Leak checking runs from an atexit handler and needs ptrace, which seccomp
 * refuses (and the host always leaves with _exit anyway). The rest keeps a
 * plugin's failure looking the same as in a normal build: malloc returns
 * NULL at RLIMIT_AS instead of ending the process in a report, and a
 * plugin's SIGSEGV/SIGBUS/SIGFPE/SIGILL reach the daemon as that signal,
 * because ASan's report would read /proc/self/maps and die of SIGSYS instead.
 */
const char *__asan_default_options(void);
__attribute__((visibility("default"), used)) const char *__asan_default_options(void)
{
	return "detect_leaks=0:allocator_may_return_null=1:handle_segv=0:handle_sigbus=0:"
	       "handle_sigfpe=0:handle_sigill=0:color=never";
}
#endif

#if defined(SS_SANITIZER_BUILD)
/* UBSan installs its own deadly-signal handlers; the same reasoning applies. */
const char *__ubsan_default_options(void);
__attribute__((visibility("default"), used)) const char *__ubsan_default_options(void)
{
	return "handle_segv=0:handle_sigbus=0:handle_sigfpe=0:handle_sigill=0:color=never";
}
#endif

/* stdout for plugins that printf: a static buffer, so stdio never needs fstat or malloc. */
static char stdout_buf[4096];

static void usage(const char *why)
{
	diag("%s", why);
	fprintf(
	    stderr,
	    "usage: streamspace-plugin-host --name NAME --plugin /abs/path/NAME.so|builtin:NAME "
	    "[--strict] [--sandbox-debug] [--mem-limit BYTES] [--cpu-limit SECONDS]\n"
	    "       streamspace-plugin-host --list-builtins\n");
	host_exit(HOST_EXIT_USAGE);
}

static bool is_builtin(const struct host_args *a)
{
	return strncmp(a->plugin, BUILTIN_PREFIX, strlen(BUILTIN_PREFIX)) == 0;
}

/*
 * Loads the plugin (or finds the built-in) and checks its definition: the SDK ABI it was built
 * against, the size of the definition and its name, against what the daemon
 * started us for. Any mismatch is exit 65 with both values named.
 */
static const struct ss_plugin_def *load_plugin(const struct host_args *a)
{
	const struct ss_plugin_def *def;

	if (is_builtin(a)) {
		const struct builtin_plugin *b = builtin_find(a->name);
		if (b == NULL)
			die(HOST_EXIT_LOAD, "no built-in plugin '%s' in this host", a->name);
		def = b->def;
	} else {
		void *handle = dlopen(a->plugin, RTLD_NOW | RTLD_LOCAL);
		if (handle == NULL)
			die(HOST_EXIT_LOAD, "dlopen: %s", dlerror());
		def = dlsym(handle, "ss_plugin_definition");
		if (def == NULL)
			die(HOST_EXIT_LOAD, "%s has no ss_plugin_definition (SS_PLUGIN missing?)",
			    a->plugin);
	}
	if (def->abi != SS_SDK_ABI)
		die(HOST_EXIT_LOAD, "plugin built against SDK ABI %u, this host implements ABI %d",
		    def->abi, SS_SDK_ABI);
	if (def->size != sizeof(struct ss_plugin_def))
		die(HOST_EXIT_LOAD, "plugin definition is %u bytes, ABI %d has %zu", def->size,
		    SS_SDK_ABI, sizeof(struct ss_plugin_def));
	if (def->name == NULL || strcmp(def->name, a->name) != 0)
		die(HOST_EXIT_LOAD, "plugin declares name '%.64s' but was started as '%s'",
		    def->name ? def->name : "(null)", a->name);
	if (def->version == NULL)
		die(HOST_EXIT_LOAD, "plugin '%s' declares no version", a->name);
	return def;
}

/*
 * The plugin must be readable by the user we now run as (nobody under a
 * root daemon): checked before Landlock, so that a directory that user
 * cannot enter is reported as what it is, a plugin that cannot be loaded
 * (65), naming the directory and the user, and not as a sandbox failure.
 */
static void check_readable(const char *plugin)
{
	int fd = open(plugin, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	int err = errno;
	int len = (int)(strrchr(plugin, '/') - plugin);
	uid_t uid = getuid();

	if (fd >= 0) {
		close(fd);
		return;
	}
	if (err != EACCES && err != EPERM)
		return; /* missing, or not a file: dlopen says it */
	die(HOST_EXIT_LOAD,
	    "plugin directory %.*s (or %s in it) is not readable by uid %u (%s): %s; the directory "
	    "and every one above it must be searchable, and the plugin readable, by that user",
	    len > 0 ? len : 1, plugin, plugin + len + 1, (unsigned)uid,
	    uid == HOST_NOBODY ? "nobody, the user plugin hosts of a root daemon run as"
			       : "the daemon's user",
	    strerror(err));
}

/*
 * The operator's time zone for a plugin's localtime. With TZ unset glibc
 * reads /etc/localtime at every localtime() (and at a plugin's first
 * localtime_r), which serving refuses (filter.c): a plugin got UTC. With
 * TZ naming the file it is read once, here, after the environment was
 * cleared and while it can still be read, and kept: a later call sees TZ
 * unchanged and reads nothing. No file, or not a zone: UTC, as before.
 */
static void zone_keep(void)
{
	if (setenv("TZ", "/etc/localtime", 1) < 0)
		die(HOST_EXIT_SANDBOX, "env: TZ: %s", strerror(errno));
	tzset();
}

int main(int argc, char *argv[])
{
	struct host_args args;
	struct sandbox sb;
	char err[256];
	const struct ss_plugin_def *def;

	/* The daemon asks which plugins are compiled in; nothing runs but the listing. */
	if (argc == 2 && strcmp(argv[1], "--list-builtins") == 0)
		host_exit(builtin_list());
	sandbox_init(&sb, false);
	if (args_parse(argc, argv, &args, err, sizeof err) < 0)
		usage(err);
	diag_set_name(args.name);
	sb.strict = args.strict;
	setvbuf(stdout, stdout_buf, _IOLBF, sizeof stdout_buf);
	setvbuf(stderr, NULL, _IONBF, 0);

	sandbox_fds(&sb);     /* a */
	sandbox_nonroot(&sb); /* b */
	sandbox_process(&sb); /* c */
	zone_keep();
	sandbox_namespaces(&sb);			      /* d */
	sandbox_rlimits(&sb, args.mem_limit, args.cpu_limit); /* e */
	if (!is_builtin(&args))
		check_readable(args.plugin);
	landlock_apply(&sb, is_builtin(&args) ? NULL : args.plugin); /* f */
	sandbox_no_new_privs(&sb);				     /* g */
	filter_loading(&sb);
	def = load_plugin(&args);		 /* h */
	filter_serving(&sb, args.sandbox_debug); /* i */
	/*
	 * Setup (dlopen, Landlock, the layer list) leaves free heap behind
	 * that stays resident for the host's life: give it back. Only brk and
	 * madvise(MADV_DONTNEED), both already allowed.
	 */
	malloc_trim(0);

	serve_run(def, channel_new(HOST_FD), layers_json(&sb.layers));
}
