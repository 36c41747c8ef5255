#include "sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "diag.h"
#include "pidns.h"
#include "sanitizer.h"

void sandbox_init(struct sandbox *sb, bool strict)
{
	memset(sb, 0, sizeof *sb);
	sb->strict = strict;
	sb->parent = getppid();
	sb->pid = getpid();
}

bool sandbox_errno_unavailable(int err)
{
	/*
	 * ENOSYS/EOPNOTSUPP: not built in or disabled at boot. EINVAL: flag
	 * unknown to this kernel. EPERM/ENOSPC/EUSERS: switched off by policy
	 * (sysctl, an outer seccomp filter such as systemd's RestrictNamespaces).
	 */
	return err == ENOSYS || err == EOPNOTSUPP || err == EINVAL || err == EPERM ||
	       err == ENOSPC || err == EUSERS;
}

void sandbox_unavailable(struct sandbox *sb, const char *layer, const char *reason)
{
	if (sb->strict)
		die(HOST_EXIT_SANDBOX, "sandbox layer %s unavailable (strict mode): %s", layer,
		    reason);
	diag("sandbox layer %s unavailable, running without it: %s", layer, reason);
	layers_missing(&sb->layers, layer, reason);
}

/* Makes sure fds 0-2 are open, so nothing we open later lands on them. */
static void fds_std(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		int null = open("/dev/null", O_RDWR);
		if (null < 0)
			die(HOST_EXIT_SANDBOX, "fds: fd %d closed and /dev/null unavailable", fd);
		if (null != fd) {
			if (dup2(null, fd) < 0)
				die(HOST_EXIT_SANDBOX, "fds: dup2: %s", strerror(errno));
			close(null);
		}
	}
}

/*
 * Closes every fd above HOST_FD. close_range(2) does it in one call; on
 * kernels without it, the fds listed in /proc/self/fd, and without /proc
 * every number up to the fd limit. If none of that can be done, fail closed.
 */
static void fds_close_rest(void)
{
	if (syscall(SYS_close_range, HOST_FD + 1, ~0U, 0) == 0)
		return;
	if (errno != ENOSYS && errno != EINVAL)
		die(HOST_EXIT_SANDBOX, "fds: close_range: %s", strerror(errno));

	DIR *d = opendir("/proc/self/fd");
	if (d != NULL) {
		int self = dirfd(d);
		int fds[256];
		size_t n = 0;
		struct dirent *e;
		/* Collect first: closing while reading the directory skips entries. */
		while ((e = readdir(d)) != NULL) {
			int fd = atoi(e->d_name);
			if (fd > HOST_FD && fd != self && n < sizeof fds / sizeof fds[0])
				fds[n++] = fd;
			else if (fd > HOST_FD && fd != self)
				die(HOST_EXIT_SANDBOX, "fds: too many inherited fds");
		}
		closedir(d);
		for (size_t i = 0; i < n; i++)
			close(fds[i]);
		return;
	}
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur > (1u << 20))
		die(HOST_EXIT_SANDBOX, "fds: cannot list or bound the open fds");
	for (rlim_t fd = HOST_FD + 1; fd < rl.rlim_cur; fd++)
		close((int)fd);
}

/*
 * Every signal back to its default disposition and unblocked: the daemon
 * may have blocked or ignored some before exec. Then two exceptions, both so
 * that an I/O failure is an error return rather than a silent death: SIGPIPE
 * (the daemon went away: the host exits 76 and says so) and SIGXFSZ
 * (RLIMIT_FSIZE is 0, so stderr redirected to a regular file would kill us).
 */
static void signals_reset(void)
{
	struct sigaction sa;
	sigset_t all;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		/* EINVAL for the numbers glibc reserves for itself: nothing to reset. */
		(void)sigaction(sig, &sa, NULL);
	}
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) < 0 || sigaction(SIGXFSZ, &sa, NULL) < 0)
		die(HOST_EXIT_SANDBOX, "signals: sigaction: %s", strerror(errno));
	sigfillset(&all);
	if (sigprocmask(SIG_UNBLOCK, &all, NULL) < 0)
		die(HOST_EXIT_SANDBOX, "signals: sigprocmask: %s", strerror(errno));
}

void sandbox_fds(struct sandbox *sb)
{
	struct stat st;
	int type = 0, domain = 0, flags;
	socklen_t len = sizeof type;

	if (fstat(HOST_FD, &st) < 0 || !S_ISSOCK(st.st_mode))
		die(HOST_EXIT_SANDBOX, "fds: fd %d is not the protocol socket", HOST_FD);
	if (getsockopt(HOST_FD, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM)
		die(HOST_EXIT_SANDBOX, "fds: fd %d is not a stream socket", HOST_FD);
	len = sizeof domain;
	if (getsockopt(HOST_FD, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 || domain != AF_UNIX)
		die(HOST_EXIT_SANDBOX, "fds: fd %d is not an AF_UNIX socket", HOST_FD);
	/* The host reads and writes fd 3 blocking; it must not leak to anything exec'ed. */
	flags = fcntl(HOST_FD, F_GETFL);
	if (flags < 0 || fcntl(HOST_FD, F_SETFL, flags & ~O_NONBLOCK) < 0 ||
	    fcntl(HOST_FD, F_SETFD, FD_CLOEXEC) < 0)
		die(HOST_EXIT_SANDBOX, "fds: fcntl: %s", strerror(errno));
	fds_std();
	fds_close_rest();
	layers_on(&sb->layers, "fds");

	signals_reset();

	/* Already a session leader (started that way) is as good as a new session. */
	if (setsid() < 0 && getsid(0) != getpid())
		die(HOST_EXIT_SANDBOX, "setsid: %s", strerror(errno));
	layers_on(&sb->layers, "setsid");
}

/* Empties every capability set: a non-root daemon may have passed some on. */
void sandbox_caps_clear(void)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof data);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		die(HOST_EXIT_SANDBOX, "nonroot: clearing ambient capabilities: %s",
		    strerror(errno));
	if (syscall(SYS_capset, &hdr, data) < 0)
		die(HOST_EXIT_SANDBOX, "nonroot: capset: %s", strerror(errno));
}

/*
 * A host started as root drops to nobody before anything else touches
 * credentials: changing credentials clears PR_SET_PDEATHSIG, so this must
 * come before it.
 */
void sandbox_nonroot(struct sandbox *sb)
{
	uid_t ruid, euid, suid;
	gid_t rgid, egid, sgid;

	if (getresuid(&ruid, &euid, &suid) < 0 || getresgid(&rgid, &egid, &sgid) < 0)
		die(HOST_EXIT_SANDBOX, "nonroot: getresuid: %s", strerror(errno));
	if (ruid == 0 || euid == 0 || suid == 0) {
		if (setgroups(0, NULL) < 0)
			die(HOST_EXIT_SANDBOX, "nonroot: setgroups: %s", strerror(errno));
		if (setresgid(HOST_NOBODY, HOST_NOBODY, HOST_NOBODY) < 0)
			die(HOST_EXIT_SANDBOX, "nonroot: setresgid: %s", strerror(errno));
		if (setresuid(HOST_NOBODY, HOST_NOBODY, HOST_NOBODY) < 0)
			die(HOST_EXIT_SANDBOX, "nonroot: setresuid: %s", strerror(errno));
		if (getresuid(&ruid, &euid, &suid) < 0 || ruid == 0 || euid == 0 || suid == 0 ||
		    setuid(0) == 0)
			die(HOST_EXIT_SANDBOX, "nonroot: still root after dropping");
	}
	sandbox_caps_clear();
	layers_on(&sb->layers, "nonroot");
}

void sandbox_process(struct sandbox *sb)
{
	/*
	 * The daemon kills its hosts, but if the daemon itself dies (SIGKILL,
	 * OOM), its hosts must not outlive it. If it died before this line,
	 * we have been re-parented already: check after setting.
	 */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		die(HOST_EXIT_SANDBOX, "pdeathsig: %s", strerror(errno));
	if (getppid() != sb->parent)
		die(HOST_EXIT_SANDBOX, "pdeathsig: the daemon went away during start-up");
	layers_on(&sb->layers, "pdeathsig");

	/* Not dumpable: no core, no ptrace by same-uid processes, /proc/<pid> owned by root. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		die(HOST_EXIT_SANDBOX, "nodump: %s", strerror(errno));
	layers_on(&sb->layers, "nodump");

	/* Nothing from the daemon's environment (tokens, DATABASE_URL) reaches plugin code. */
	if (clearenv() != 0 || setenv("PATH", "/usr/bin:/bin", 1) < 0 ||
	    setenv("LANG", "C.UTF-8", 1) < 0)
		die(HOST_EXIT_SANDBOX, "env: %s", strerror(errno));
	layers_on(&sb->layers, "env");
}

/* Enters one namespace; returns whether it is in force. */
static bool unshare_one(struct sandbox *sb, int flag, const char *layer)
{
	char reason[128];

	if (unshare(flag) == 0) {
		layers_on(&sb->layers, layer);
		return true;
	}
	if (!sandbox_errno_unavailable(errno))
		die(HOST_EXIT_SANDBOX, "%s: unshare: %s", layer, strerror(errno));
	if (errno == EPERM && !sb->can_admin && flag != CLONE_NEWUSER)
		snprintf(reason, sizeof reason, "needs a user namespace (%s)", strerror(errno));
	else
		snprintf(reason, sizeof reason, "unshare: %s", strerror(errno));
	sandbox_unavailable(sb, layer, reason);
	return false;
}

/*
 * The user namespace comes first: it gives us, unprivileged outside, the
 * capabilities inside that the other unshares need. No uid_map is written:
 * the host needs no uid inside (it appears as the overflow uid), and with
 * the process not dumpable /proc/self/uid_map is not ours to write anyway.
 * Outside, nothing changes: we stay nobody (or the daemon's user).
 */
void sandbox_namespaces(struct sandbox *sb)
{
	sb->can_admin = unshare_one(sb, CLONE_NEWUSER, "userns");
	unshare_one(sb, CLONE_NEWNET, "netns");
	unshare_one(sb, CLONE_NEWNS, "mntns");
	unshare_one(sb, CLONE_NEWIPC, "ipcns");
	unshare_one(sb, CLONE_NEWUTS, "utsns");

	/*
	 * Entering a user namespace is a credential change; the kernel keeps
	 * the parent-death signal and dumpable flag across it (the new
	 * credentials are a subset), but we do not rely on that.
	 */
	int sig = 0;
	if (prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0) < 0 || sig != SIGKILL) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != sb->parent)
			die(HOST_EXIT_SANDBOX, "pdeathsig: lost in the user namespace");
	}
	if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0 && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		die(HOST_EXIT_SANDBOX, "nodump: lost in the user namespace");

	/*
	 * Last, because it forks: from here on the plugin's process is pid 1 of
	 * a namespace holding nothing else, and no other pid can be named.
	 */
	if (unshare_one(sb, CLONE_NEWPID, "pidns"))
		pidns_fork(sb);
}

static void set_limit(int resource, rlim_t soft, rlim_t hard, const char *what)
{
	struct rlimit rl = {.rlim_cur = soft, .rlim_max = hard};
	if (setrlimit(resource, &rl) < 0)
		die(HOST_EXIT_SANDBOX, "rlimits: %s: %s", what, strerror(errno));
}

#if defined(HOST_ASAN)
/* The address space in use now, from /proc/self/statm (pages); 0 when unknown. */
static uint64_t vsz_now(void)
{
	unsigned long long pages = 0;
	FILE *f = fopen("/proc/self/statm", "re");

	if (f == NULL)
		return 0;
	if (fscanf(f, "%llu", &pages) != 1)
		pages = 0;
	fclose(f);
	return (uint64_t)pages * (uint64_t)sysconf(_SC_PAGESIZE);
}
#endif

/*
 * RLIMIT_NOFILE is 16, not 0 or 4: dlopen opens the plugin and each library
 * it needs (one at a time), and the loading phase may open a few more
 * read-only; Landlock and the filters decide what those can be.
 * RLIMIT_NPROC 0 stops fork and threads even if a filter let them through.
 * RLIMIT_FSIZE 0: no file grows, whatever else fails.
 */
void sandbox_rlimits(struct sandbox *sb, uint64_t mem_limit, uint64_t cpu_limit)
{
	set_limit(RLIMIT_NOFILE, 16, 16, "RLIMIT_NOFILE");
	set_limit(RLIMIT_NPROC, 0, 0, "RLIMIT_NPROC");
	set_limit(RLIMIT_FSIZE, 0, 0, "RLIMIT_FSIZE");
	set_limit(RLIMIT_CORE, 0, 0, "RLIMIT_CORE");
	set_limit(RLIMIT_MEMLOCK, 0, 0, "RLIMIT_MEMLOCK");
	set_limit(RLIMIT_MSGQUEUE, 0, 0, "RLIMIT_MSGQUEUE");
	if (cpu_limit > 0) {
		/* SIGXCPU at the soft limit, SIGKILL one second later. */
		set_limit(RLIMIT_CPU, (rlim_t)cpu_limit, (rlim_t)cpu_limit + 1, "RLIMIT_CPU");
	}
	layers_on(&sb->layers, "rlimits");

#if defined(HOST_ASAN)
	/*
	 * AddressSanitizer reserves terabytes of shadow address space at start,
	 * so an absolute RLIMIT_AS of 256 MiB would break it. Instead the limit
	 * is what is mapped now plus mem_limit: the plugin still gets at most
	 * mem_limit more address space.
	 */
	uint64_t vsz = vsz_now();
	if (vsz == 0) {
		layers_missing(&sb->layers, "rlimit_as",
			       "AddressSanitizer build and /proc/self/statm unreadable");
		return;
	}
	set_limit(RLIMIT_AS, (rlim_t)(vsz + mem_limit), (rlim_t)(vsz + mem_limit), "RLIMIT_AS");
	layers_on(&sb->layers, "rlimit_as");
#else
	set_limit(RLIMIT_AS, (rlim_t)mem_limit, (rlim_t)mem_limit, "RLIMIT_AS");
	layers_on(&sb->layers, "rlimit_as");
#endif
}

/*
 * The user namespace gave us every capability inside it, which steps d and f
 * needed. Nothing after needs one: the bounding set and every set are
 * emptied, so plugin code holds no capability even in its own namespace.
 */
static void caps_drop_all(struct sandbox *sb)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct data[2];

	/*
	 * Without a user namespace there is no CAP_SETPCAP to drop the bounding
	 * set with (EPERM); it then limits nothing: no_new_privs is set and
	 * exec is refused, and the sets checked below are empty.
	 */
	for (int cap = 0; cap <= 63; cap++) {
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL && errno != EPERM)
			die(HOST_EXIT_SANDBOX,
			    "nocaps: dropping capability %d from the bounding set: %s", cap,
			    strerror(errno));
	}
	sandbox_caps_clear();
	memset(data, 0, sizeof data);
	if (syscall(SYS_capget, &hdr, data) < 0 || data[0].effective || data[1].effective ||
	    data[0].permitted || data[1].permitted)
		die(HOST_EXIT_SANDBOX, "nocaps: capabilities still held");
	layers_on(&sb->layers, "nocaps");
}

void sandbox_no_new_privs(struct sandbox *sb)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		die(HOST_EXIT_SANDBOX, "no_new_privs: %s", strerror(errno));
	layers_on(&sb->layers, "no_new_privs");
	caps_drop_all(sb);
}
