/*
 * Reaches for other processes: the daemon, the host's parent, a neighbour
 * host, pid 1. For each target it tries what the attack of issue 8 did
 * (RLIMIT_NOFILE 0, nice 19, affinity to CPU 0) and what would follow
 * (a signal, ptrace, writing into its memory), then every other call of
 * the filters' pid table (try_more), plus the calls that name a whole
 * group: setpriority(PRIO_USER) and kill(-1).
 *
 * Both variants attack from a constructor (loading filter: each call must
 * fail with EPERM). reach.so then attacks again at its first event
 * (serving filter: the first call must kill the host with SIGSYS);
 * config "first" names the call to try first there, so the suite can try
 * each one.
 *
 * The targets are pids in a file "targets" beside the .so (read in the
 * constructor: the loading phase may read the plugin's directory) or, for
 * the serving attack, the event's "targets" string; the test writes them.
 * A target that is 0 or our own pid (pid 1 and the parent, as seen from
 * inside the host's own PID namespace) is ourselves and skipped.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/prctl.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "hostile.h"

#define MAX_TARGETS 16

static pid_t targets[MAX_TARGETS];
static const char here; /* an object of this .so, for dladdr */
static size_t ntargets;

/* Parses "pid pid ..." into targets (plus getppid() and 1). */
static void set_targets(const char *s)
{
	ntargets = 0;
	targets[ntargets++] = getppid();
	targets[ntargets++] = 1;
	while (s != NULL && *s != '\0' && ntargets < MAX_TARGETS) {
		char *end;
		long v = strtol(s, &end, 10);
		if (end == s)
			break;
		targets[ntargets++] = (pid_t)v;
		s = end;
	}
}

/* Reads the targets file beside this plugin's .so, if there is one. */
static void read_targets_file(void)
{
	Dl_info info;
	char path[512], buf[512];
	ssize_t n = 0;
	int fd;

	set_targets(NULL);
	if (dladdr(&here, &info) == 0 || info.dli_fname == NULL ||
	    strrchr(info.dli_fname, '/') == NULL)
		return;
	snprintf(path, sizeof path, "%.*s/targets",
		 (int)(strrchr(info.dli_fname, '/') - info.dli_fname), info.dli_fname);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		hostile_stderr("reach: no targets file; pid 1 and the parent only");
		return;
	}
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	set_targets(buf);
}

/*
 * The rest of the filters' pid table (plugin-host/README.md, "The pid
 * rules"), each with arguments that change nothing or only ask: success
 * means the kernel let us name another process at all.
 */
static int try_more(const char *call, pid_t t)
{
	if (strcmp(call, "getpriority") == 0) {
		errno = 0;
		return getpriority(PRIO_PROCESS, (id_t)t) == -1 && errno != 0 ? -1 : 0;
	}
	if (strcmp(call, "prlimit64-get") == 0) {
		struct rlimit rl;
		return (int)syscall(SYS_prlimit64, t, RLIMIT_NOFILE, NULL, &rl);
	}
	if (strcmp(call, "ioprio_get") == 0)
		return syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, t) < 0 ? -1 : 0;
	if (strcmp(call, "ioprio_set") == 0)
		return (int)syscall(SYS_ioprio_set, 1, t, (2 << 13) | 4 /* best effort, 4 */);
	if (strcmp(call, "sched_getaffinity") == 0) {
		cpu_set_t set;
		return sched_getaffinity(t, sizeof set, &set);
	}
	if (strcmp(call, "sched_getparam") == 0 || strcmp(call, "sched_setparam") == 0) {
		struct sched_param sp = {0};
		return call[6] == 'g' ? sched_getparam(t, &sp) : sched_setparam(t, &sp);
	}
	if (strcmp(call, "sched_getscheduler") == 0)
		return sched_getscheduler(t) < 0 ? -1 : 0;
	if (strcmp(call, "sched_setscheduler") == 0) {
		struct sched_param sp = {0};
		return sched_setscheduler(t, SCHED_OTHER, &sp);
	}
	if (strcmp(call, "sched_getattr") == 0) {
		uint32_t attr[16] = {0};
		return (int)syscall(SYS_sched_getattr, t, attr, sizeof attr, 0);
	}
	if (strcmp(call, "sched_rr_get_interval") == 0) {
		struct timespec ts;
		return sched_rr_get_interval(t, &ts);
	}
	if (strcmp(call, "migrate_pages") == 0) {
		unsigned long none = 0;
		return syscall(SYS_migrate_pages, t, 8, &none, &none) < 0 ? -1 : 0;
	}
	if (strcmp(call, "move_pages") == 0)
		return (int)syscall(SYS_move_pages, t, 0, NULL, NULL, NULL, 0);
	if (strcmp(call, "get_robust_list") == 0) {
		void *head;
		size_t len;
		return (int)syscall(SYS_get_robust_list, t, &head, &len);
	}
	if (strcmp(call, "getpgid") == 0)
		return getpgid(t) < 0 ? -1 : 0;
	if (strcmp(call, "getsid") == 0)
		return getsid(t) < 0 ? -1 : 0;
	if (strcmp(call, "setpgid") == 0)
		return setpgid(t, t);
	if (strcmp(call, "tkill") == 0)
		return (int)syscall(SYS_tkill, t, 0);
	if (strcmp(call, "tgkill") == 0)
		return (int)syscall(SYS_tgkill, t, t, 0);
	if (strcmp(call, "rt_sigqueueinfo") == 0) {
		siginfo_t si;
		memset(&si, 0, sizeof si);
		si.si_code = SI_QUEUE;
		return (int)syscall(SYS_rt_sigqueueinfo, t, 0, &si);
	}
	if (strcmp(call, "pidfd_open") == 0) {
		long fd = syscall(SYS_pidfd_open, t, 0);
		if (fd >= 0)
			close((int)fd);
		return fd < 0 ? -1 : 0;
	}
	if (strcmp(call, "kcmp") == 0)
		return (int)syscall(SYS_kcmp, getpid(), t, 0 /* KCMP_FILE */, 0, 0) < 0 ? -1 : 0;
	if (strcmp(call, "process_vm_readv") == 0) {
		char byte;
		struct iovec local = {&byte, 1}, remote = {(void *)16, 1};
		if (process_vm_readv(t, &local, 1, &remote, 1, 0) < 0 && errno != EFAULT)
			return -1;
		return 0;
	}
	if (strcmp(call, "waitid") == 0) {
		siginfo_t si;
		return waitid(P_PID, (id_t)t, &si, WEXITED | WNOHANG);
	}
	if (strcmp(call, "fcntl-setown") == 0) {
		/* SIGIO for our stderr aimed at the target; undone if it worked. */
		if (fcntl(STDERR_FILENO, F_SETOWN, t) < 0)
			return -1;
		fcntl(STDERR_FILENO, F_SETOWN, 0);
		return 0;
	}
	if (strcmp(call, "sched_core") == 0) {
		unsigned long cookie;
		return prctl(62 /* PR_SCHED_CORE */, 0 /* GET */, t, 0 /* PIDTYPE_PID */, &cookie);
	}
	if (strcmp(call, "capget") == 0) {
		uint32_t hdr[2] = {0x20080522 /* _LINUX_CAPABILITY_VERSION_3 */, (uint32_t)t};
		uint32_t data[6];
		return (int)syscall(SYS_capget, hdr, data);
	}
	errno = EINVAL;
	return -1;
}

/* One attempt: returns 0 when the kernel let it through (an escape). */
static int try_call(const char *call, pid_t t)
{
	if (strcmp(call, "prlimit64") == 0) {
		struct rlimit rl = {0, 0};
		return (int)syscall(SYS_prlimit64, t, RLIMIT_NOFILE, &rl, NULL);
	}
	if (strcmp(call, "setpriority") == 0)
		return setpriority(PRIO_PROCESS, (id_t)t, 19);
	if (strcmp(call, "sched_setaffinity") == 0) {
		cpu_set_t one;
		CPU_ZERO(&one);
		CPU_SET(0, &one);
		return sched_setaffinity(t, sizeof one, &one);
	}
	if (strcmp(call, "kill") == 0)
		return kill(t, 0);
	if (strcmp(call, "ptrace") == 0) {
		if (ptrace(PTRACE_ATTACH, t, NULL, NULL) < 0)
			return -1;
		ptrace(PTRACE_DETACH, t, NULL, NULL);
		return 0;
	}
	if (strcmp(call, "process_vm_writev") == 0) {
		/* An address no process maps: EFAULT means the permission check passed. */
		char byte = 0;
		struct iovec local = {&byte, 1}, remote = {(void *)16, 1};
		if (process_vm_writev(t, &local, 1, &remote, 1, 0) < 0 && errno != EFAULT)
			return -1;
		return 0;
	}
	return try_more(call, t);
}

// clang-format off
static const char *const calls[] = {
	"prlimit64", "kill", "setpriority", "sched_setaffinity", "ptrace", "process_vm_writev",
	"getpriority", "prlimit64-get", "ioprio_get", "ioprio_set", "sched_getaffinity",
	"sched_getparam", "sched_setparam", "sched_getscheduler", "sched_setscheduler",
	"sched_getattr", "sched_rr_get_interval", "migrate_pages", "move_pages",
	"get_robust_list", "getpgid", "getsid", "setpgid", "tkill", "tgkill",
	"rt_sigqueueinfo", "pidfd_open", "kcmp", "process_vm_readv", "waitid",
	"fcntl-setown", "sched_core", "capget",
};
// clang-format on

static void try_one(ss_plugin *p, const char *call, pid_t t)
{
	char what[96];

	if (t == 0 || t == getpid())
		return;
	snprintf(what, sizeof what, "%s(pid %d)", call, (int)t);
	if (try_call(call, t) == 0)
		escaped(p, "%s went through", what);
	else
		contained(p, what, errno);
}

/* Every call on every target, first the one named first; then the group-wide calls. */
static void attack(ss_plugin *p, const char *first)
{
	for (size_t i = 0; i < ntargets; i++)
		try_one(p, first, targets[i]);
	for (size_t c = 0; c < sizeof calls / sizeof calls[0]; c++)
		for (size_t i = 0; i < ntargets; i++)
			if (strcmp(calls[c], first) != 0)
				try_one(p, calls[c], targets[i]);
	if (setpriority(PRIO_USER, 0, 19) == 0)
		escaped(p, "setpriority(PRIO_USER) reniced every process of our user");
	else
		contained(p, "setpriority(PRIO_USER, 0)", errno);
	if (kill(-1, 0) == 0)
		escaped(p, "kill(-1, 0): allowed to signal some other process");
	else
		contained(p, "kill(-1, 0)", errno);
}

__attribute__((constructor)) static void reach_ctor(void)
{
	read_targets_file();
	attack(NULL, "prlimit64");
}

static int reach_event(ss_plugin *p, const ss_event *ev)
{
#ifndef HOSTILE_CTOR
	const char *given = ss_event_str(ev, "targets");
	if (given != NULL)
		set_targets(given);
	attack(p, ss_config_str(p, "first", "prlimit64"));
#endif
	ss_log(p, SS_INFO, "event %s", ss_event_type(ev));
	return 0;
}

static int reach_load(ss_plugin *p)
{
	return ss_subscribe(p, "*", reach_event);
}

SS_PLUGIN(.name = HOSTILE_NAME, .version = "0.0.1", .on_load = reach_load);
