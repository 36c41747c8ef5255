/*
 * Loads the host's seccomp filters. The programs were compiled at build
 * time from the rules in filter_rules.c (filtergen.c, filter_bpf.h): here
 * the pid goes into each program and the kernel gets it, with no libseccomp
 * and no filter built while the host starts.
 */
#include "filter.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "diag.h"
#include "filter_bpf.h"

/* Whether the kernel has seccomp filters at all (prctl says EINVAL when not). */
static bool seccomp_available(void)
{
	return prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0;
}

/*
 * Installs program f with pid written where it belongs. The patched copy
 * lives in a mapping of its own, unmapped once the kernel has copied it,
 * so that loading leaves no dirty page behind. Flags 0, as libseccomp
 * loads them (no TSYNC, no LOG); prctl when the seccomp call is missing.
 */
static void install(const struct filter_bpf *f, pid_t pid, const char *which)
{
	/* A pid 1 program is for pid 1 only; a patched one for no pid that could share a block. */
	if (f->n_pid == 0 ? pid != 1 : pid < 2)
		die(HOST_EXIT_SANDBOX, "seccomp: no %s filter for pid %d", which, (int)pid);
	size_t size = (size_t)f->len * sizeof(struct sock_filter);
	struct sock_filter *insns =
	    mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct sock_fprog prog;
	int r;

	if (insns == MAP_FAILED)
		die(HOST_EXIT_SANDBOX, "seccomp: the %s filter: mmap: %s", which, strerror(errno));
	memcpy(insns, f->insns, size);
	for (uint16_t i = 0; i < f->n_pid; i++)
		insns[f->pid_at[i]].k = (uint32_t)pid;
	prog.len = f->len;
	prog.filter = insns;
	r = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
	if (r < 0 && errno == ENOSYS)
		r = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
	if (r < 0)
		die(HOST_EXIT_SANDBOX, "seccomp: loading the %s filter: %s", which,
		    strerror(errno));
	munmap(insns, size);
}

void filter_loading(struct sandbox *sb)
{
	if (!seccomp_available()) {
		sandbox_unavailable(sb, "seccomp_load", "kernel without seccomp filters");
		return;
	}
	install(sb->pidns ? &filter_bpf_loading_pidns : &filter_bpf_loading, sb->pid, "loading");
	layers_on(&sb->layers, "seccomp_load");
}

static char debug_prefix[96];

/*
 * SIGSYS handler for --sandbox-debug: names the call and exits 71. The names
 * are a constant table; snprintf of strings and ints does not allocate.
 */
static void on_sigsys(int sig, siginfo_t *info, void *ctx)
{
	char line[160];
	int nr = info->si_syscall;
	const char *name = nr >= 0 && nr < FILTER_BPF_NAMES && filter_bpf_name_at[nr] != 0
			       ? filter_bpf_name_text + filter_bpf_name_at[nr]
			       : "?";
	int n =
	    snprintf(line, sizeof line, "%s: seccomp: forbidden syscall %s (%d) while serving\n",
		     debug_prefix, name, nr);
	(void)sig;
	(void)ctx;
	if (n > 0) {
		ssize_t w = write(STDERR_FILENO, line,
				  (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
		(void)w;
	}
	_exit(HOST_EXIT_SANDBOX);
}

static void debug_trap_install(void)
{
	struct sigaction sa;

	snprintf(debug_prefix, sizeof debug_prefix, "plugin-host[%s]", diag_name());
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0)
		die(HOST_EXIT_SANDBOX, "seccomp: SIGSYS handler: %s", strerror(errno));
}

/*
 * The serving filter's default is SECCOMP_RET_KILL_PROCESS (Linux 4.14).
 * libseccomp refused to build the filter on a kernel without it; so does
 * this (a kernel that old has no Landlock either).
 */
static void need_kill_process(void)
{
	uint32_t action = SECCOMP_RET_KILL_PROCESS;

	if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) < 0)
		die(HOST_EXIT_SANDBOX, "seccomp: the kernel lacks SECCOMP_RET_KILL_PROCESS: %s",
		    strerror(errno));
}

void filter_serving(struct sandbox *sb, bool debug)
{
	if (!seccomp_available()) {
		sandbox_unavailable(sb, "seccomp_serve", "kernel without seccomp filters");
		return;
	}
	if (debug)
		debug_trap_install();
	else
		need_kill_process();
	if (sb->pidns)
		install(debug ? &filter_bpf_serving_debug_pidns : &filter_bpf_serving_pidns,
			sb->pid, "serving");
	else
		install(debug ? &filter_bpf_serving_debug : &filter_bpf_serving, sb->pid,
			"serving");
	layers_on(&sb->layers, "seccomp_serve");
}

void filter_waiter(pid_t self)
{
	if (!seccomp_available())
		return;
	install(&filter_bpf_waiter, self, "waiter");
}
