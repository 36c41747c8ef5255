/*
 * The rules of the host's three seccomp filters, written against libseccomp.
 * Not linked into the host: filtergen.c runs them at build time and exports
 * the BPF programs the host loads (filter.c), and tests/unit/host/test_filter.c
 * checks that those programs are still exactly what libseccomp makes of
 * these rules at run time, for any pid.
 */
#include "filter_rules.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h> /* FIOSETOWN, SIOCSPGRP */
#include <unistd.h>

#include "diag.h"

#ifndef PR_SCHED_CORE
#define PR_SCHED_CORE 62
#endif

#ifndef __O_TMPFILE
#define __O_TMPFILE 020000000
#endif

/*
 * Syscalls the loading phase refuses outright: processes, sockets, every way
 * to write, rename or create a file, mounts and namespaces, kernel keys and
 * modules, io_uring (its operations bypass seccomp), file handles (the
 * classic container escape), code from memory (memfd, SysV shm with
 * SHM_EXEC, READ_IMPLIES_EXEC) and credential changes. Landlock and the
 * namespaces already stop most of these; the filter says EPERM first.
 */
// clang-format off
static const char *const loading_deny[] = {
	"socket", "socketpair", "connect", "bind", "listen", "accept", "accept4",
	"sendmsg", "sendmmsg", /* no fds or credentials passed to the daemon */
	"execve", "execveat", "fork", "vfork",
	/* other processes, whatever the pid (the pid rules below cover the rest) */
	"ptrace", "process_vm_readv", "process_vm_writev", "process_madvise",
	"process_mrelease", "kcmp", "pidfd_open", "pidfd_getfd", "pidfd_send_signal",
	"wait4", "waitid", /* the host has no children to wait for */
	"capget", /* the pid is in memory, where a filter cannot look */
	"creat", "unlink", "unlinkat", "rename", "renameat",
	"renameat2", "mkdir", "mkdirat", "rmdir", "link", "linkat", "symlink",
	"symlinkat", "mknod", "mknodat", "chmod", "fchmod", "fchmodat", "chown",
	"fchown", "lchown", "fchownat", "truncate", "ftruncate", "fallocate",
	"setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr",
	"fremovexattr", "utime", "utimes", "utimensat", "futimesat", "mount",
	"umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen",
	"fsconfig", "fsmount", "fspick", "mount_setattr", "unshare", "setns",
	"open_by_handle_at", "name_to_handle_at", "memfd_create", "memfd_secret",
	"userfaultfd", "perf_event_open", "bpf", "io_uring_setup", "io_uring_enter",
	"io_uring_register", "keyctl", "add_key", "request_key", "kexec_load",
	"kexec_file_load", "init_module", "finit_module", "delete_module", "reboot",
	"swapon", "swapoff", "acct", "quotactl", "sethostname", "setdomainname",
	"settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "iopl",
	"ioperm", "modify_ldt", "personality", "shmget", "shmat", "remap_file_pages",
	"setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid",
	"setgroups", "setfsuid", "setfsgid", "capset", "fanotify_init", "syslog",
	"vhangup", "mq_open", "lookup_dcookie", "uselib",
	"sysinfo", /* system-wide memory, load and process count (glibc's qsort copes: see serving) */
};
// clang-format on

/* The architecture the filter being built is for (one filter at a time). */
static uint32_t arch_;

/* Resolves a syscall name for that architecture; -1 when it has no such call. */
static int sys(const char *name)
{
	int nr = seccomp_syscall_resolve_name_arch(arch_, name);
	return nr == __NR_SCMP_ERROR ? -1 : nr;
}

/*
 * Argument comparisons, spelled out in full (libseccomp's SCMP_A* macros
 * leave datum_b to the compiler). The filter sees all 64 bits of a
 * register while the kernel reads int arguments (prctl's option, ioctl's
 * request, a pid) from the low 32 only: so equality looks at the low 32
 * bits alone, or "prctl(PR_SET_DUMPABLE | 1 << 32)" would slip past a deny
 * rule. Inequality compares all 64 bits: stray upper bits only turn an
 * allowed call into a refused one.
 */
static struct scmp_arg_cmp arg_cmp(unsigned arg, enum scmp_compare op, scmp_datum_t a,
				   scmp_datum_t b)
{
	struct scmp_arg_cmp c = {.arg = arg, .op = op, .datum_a = a, .datum_b = b};
	return c;
}

/* The low 32 bits of argument arg equal v. */
static struct scmp_arg_cmp arg_eq(unsigned arg, uint32_t v)
{
	return arg_cmp(arg, SCMP_CMP_MASKED_EQ, 0xffffffffu, v);
}

/* Argument arg is anything but v. */
static struct scmp_arg_cmp arg_ne(unsigned arg, uint32_t v)
{
	return arg_cmp(arg, SCMP_CMP_NE, v, 0);
}

/* Every bit of mask set in argument arg / none of them. */
static struct scmp_arg_cmp arg_has(unsigned arg, scmp_datum_t mask)
{
	return arg_cmp(arg, SCMP_CMP_MASKED_EQ, mask, mask);
}

static struct scmp_arg_cmp arg_lacks(unsigned arg, scmp_datum_t mask)
{
	return arg_cmp(arg, SCMP_CMP_MASKED_EQ, mask, 0);
}

/* Adds one rule, fatal when libseccomp refuses it. Unknown syscalls are skipped. */
static void rule(scmp_filter_ctx ctx, uint32_t action, const char *name, unsigned n,
		 const struct scmp_arg_cmp *cmp)
{
	int nr = sys(name);
	int r;

	if (nr < 0)
		return;
	r = seccomp_rule_add_array(ctx, action, nr, n, cmp);
	if (r < 0)
		die(HOST_EXIT_SANDBOX, "seccomp: rule for %s: %s", name, strerror(-r));
}

static void rule0(scmp_filter_ctx ctx, uint32_t action, const char *name)
{
	rule(ctx, action, name, 0, NULL);
}

static void rule1(scmp_filter_ctx ctx, uint32_t action, const char *name, struct scmp_arg_cmp c)
{
	rule(ctx, action, name, 1, &c);
}

static void rule2(scmp_filter_ctx ctx, uint32_t action, const char *name, struct scmp_arg_cmp a,
		  struct scmp_arg_cmp b)
{
	struct scmp_arg_cmp cmp[2] = {a, b};
	rule(ctx, action, name, 2, cmp);
}

/*
 * A filter for arch (alone: any other architecture's calling convention
 * kills the process), default action def. no_new_privs is its own step
 * (and layer) of the host: libseccomp must not set it.
 */
static scmp_filter_ctx ctx_new(uint32_t arch, uint32_t def)
{
	scmp_filter_ctx ctx = seccomp_init(def);

	arch_ = arch;
	if (ctx == NULL)
		die(HOST_EXIT_SANDBOX, "seccomp: init failed");
	if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) < 0)
		die(HOST_EXIT_SANDBOX, "seccomp: no_new_privs attribute");
	/*
	 * The syscall numbers as a binary tree rather than one comparison after
	 * another: the same decisions (test_filter.c runs both layouts over every
	 * syscall number and argument values around every constant here), and a
	 * quarter of the kernel's time to load the filter (~0.25 ms for the
	 * loading one, whose deny list is long: the kernel checks every syscall
	 * number against the program when it builds its allow cache).
	 */
	if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2) < 0)
		die(HOST_EXIT_SANDBOX, "seccomp: optimize attribute");
	if (arch != seccomp_arch_native()) {
		if (seccomp_arch_add(ctx, arch) < 0 ||
		    seccomp_arch_remove(ctx, SCMP_ARCH_NATIVE) < 0)
			die(HOST_EXIT_SANDBOX, "seccomp: architecture %#x", arch);
	}
	return ctx;
}

/*
 * Every system call that names a process, a thread or a process group by
 * number, and the argument that does (README.md, "The pid rules", says how
 * the list was drawn up). SELF: only our own pid, because 0 means something
 * else there (kill(0) is our whole process group). SELF_OR_0: 0 ("the
 * caller", what glibc passes: setrlimit is prlimit64(0, ...)) or our own
 * pid. which_arg/which: the argument saying what kind of id follows, which
 * must say "a process" (not a group, not every process of a user).
 */
enum pid_kind { SELF, SELF_OR_0 };

struct pid_rule {
	const char *name;
	int arg, arg2; /* the pid arguments (arg2 -1 when there is none) */
	enum pid_kind kind;
	int which_arg; /* -1 when there is none */
	uint32_t which;
};

#define IOPRIO_WHO_PROCESS 1

// clang-format off
static const struct pid_rule pid_rules_table[] = {
	{"kill", 0, -1, SELF, -1, 0},
	{"tkill", 0, -1, SELF, -1, 0},		  /* tid: one thread, so tid == pid */
	{"tgkill", 0, 1, SELF, -1, 0},
	{"rt_sigqueueinfo", 0, -1, SELF, -1, 0},
	{"rt_tgsigqueueinfo", 0, 1, SELF, -1, 0},
	{"prlimit64", 0, -1, SELF_OR_0, -1, 0},
	{"setpriority", 1, -1, SELF_OR_0, 0, PRIO_PROCESS},
	{"getpriority", 1, -1, SELF_OR_0, 0, PRIO_PROCESS},
	{"ioprio_set", 1, -1, SELF_OR_0, 0, IOPRIO_WHO_PROCESS},
	{"ioprio_get", 1, -1, SELF_OR_0, 0, IOPRIO_WHO_PROCESS},
	{"sched_setaffinity", 0, -1, SELF_OR_0, -1, 0},
	{"sched_getaffinity", 0, -1, SELF_OR_0, -1, 0},
	{"sched_setparam", 0, -1, SELF_OR_0, -1, 0},
	{"sched_getparam", 0, -1, SELF_OR_0, -1, 0},
	{"sched_setscheduler", 0, -1, SELF_OR_0, -1, 0},
	{"sched_getscheduler", 0, -1, SELF_OR_0, -1, 0},
	{"sched_setattr", 0, -1, SELF_OR_0, -1, 0},
	{"sched_getattr", 0, -1, SELF_OR_0, -1, 0},
	{"sched_rr_get_interval", 0, -1, SELF_OR_0, -1, 0},
	{"migrate_pages", 0, -1, SELF_OR_0, -1, 0},
	{"move_pages", 0, -1, SELF_OR_0, -1, 0},
	{"get_robust_list", 0, -1, SELF_OR_0, -1, 0},
	{"setpgid", 0, 1, SELF_OR_0, -1, 0},
	{"getpgid", 0, -1, SELF_OR_0, -1, 0},
	{"getsid", 0, -1, SELF_OR_0, -1, 0},
};
// clang-format on

/*
 * Refuses a call whose argument arg names another process. A filter rule
 * holds one comparison per argument, so "neither 0 nor our pid" is one
 * comparison only where our pid is 1 (in our PID namespace): anything
 * above 1, as 64 bits, which also catches negative values and stray upper
 * bits. Without the namespace our pid is arbitrary and SELF_OR_0 narrows
 * to 0 alone: what glibc passes anyway.
 */
static void deny_other(scmp_filter_ctx ctx, pid_t pid, bool pidns, const char *name, int arg,
		       enum pid_kind kind)
{
	const uint32_t deny = SCMP_ACT_ERRNO(EPERM);

	if (kind == SELF)
		rule1(ctx, deny, name, arg_ne((unsigned)arg, (uint32_t)pid));
	else if (pidns)
		rule1(ctx, deny, name, arg_cmp((unsigned)arg, SCMP_CMP_GT, 1, 0));
	else
		rule1(ctx, deny, name, arg_ne((unsigned)arg, 0));
}

/* The loading filter's pid rules: every call in pid_rules_table, about us or refused. */
static void pid_rules(scmp_filter_ctx ctx, pid_t pid, bool pidns)
{
	for (size_t i = 0; i < sizeof pid_rules_table / sizeof pid_rules_table[0]; i++) {
		const struct pid_rule *r = &pid_rules_table[i];
		deny_other(ctx, pid, pidns, r->name, r->arg, r->kind);
		if (r->arg2 >= 0)
			deny_other(ctx, pid, pidns, r->name, r->arg2, r->kind);
		if (r->which_arg >= 0)
			rule1(ctx, SCMP_ACT_ERRNO(EPERM), r->name,
			      arg_ne((unsigned)r->which_arg, r->which));
	}
}

scmp_filter_ctx filter_rules_loading(uint32_t arch, pid_t pid, bool pidns)
{
	const uint32_t deny = SCMP_ACT_ERRNO(EPERM);
	scmp_filter_ctx ctx = ctx_new(arch, SCMP_ACT_ALLOW);

	for (size_t i = 0; i < sizeof loading_deny / sizeof loading_deny[0]; i++)
		rule0(ctx, deny, loading_deny[i]);

	/*
	 * clone3 passes its flags in memory, where a filter cannot look. ENOSYS
	 * makes glibc fall back to clone(2), whose flags we can check.
	 * openat2 likewise (flags in a struct): callers fall back to openat.
	 */
	rule0(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3");
	rule0(ctx, SCMP_ACT_ERRNO(ENOSYS), "openat2");
	/* Threads only (RLIMIT_NPROC 0 refuses those too); no new process, no namespace. */
	rule1(ctx, deny, "clone", arg_lacks(0, CLONE_THREAD));
	static const scmp_datum_t ns_flags[] = {CLONE_NEWNS,	CLONE_NEWUSER, CLONE_NEWPID,
						CLONE_NEWNET,	CLONE_NEWIPC,  CLONE_NEWUTS,
						CLONE_NEWCGROUP};
	for (size_t i = 0; i < sizeof ns_flags / sizeof ns_flags[0]; i++)
		rule1(ctx, deny, "clone", arg_has(0, ns_flags[i]));

	/* Opening for reading is Landlock's business; opening for anything else is refused. */
	static const scmp_datum_t write_flags[] = {O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, __O_TMPFILE};
	for (size_t i = 0; i < sizeof write_flags / sizeof write_flags[0]; i++) {
		rule1(ctx, deny, "open", arg_has(1, write_flags[i]));
		rule1(ctx, deny, "openat", arg_has(2, write_flags[i]));
	}

	/*
	 * dlopen maps the plugin's code from its file, so PROT_EXEC cannot be
	 * refused here; what is refused is executable memory that does not come
	 * from a file (anonymous), writable and executable at once, and making
	 * existing memory executable (which also refuses an executable stack).
	 */
	rule2(ctx, deny, "mmap", arg_has(2, PROT_EXEC), arg_has(3, MAP_ANONYMOUS));
	rule1(ctx, deny, "mmap", arg_has(2, PROT_WRITE | PROT_EXEC));
	rule1(ctx, deny, "mprotect", arg_has(2, PROT_EXEC));
	rule1(ctx, deny, "pkey_mprotect", arg_has(2, PROT_EXEC));

	pid_rules(ctx, pid, pidns);

	/* The process flags set in step c stay set: dumpable, parent-death signal. */
	static const scmp_datum_t prctl_deny[] = {PR_SET_DUMPABLE,   PR_SET_PDEATHSIG,
						  PR_SET_PTRACER,    PR_SET_MM,
						  PR_SET_SECUREBITS, PR_CAP_AMBIENT};
	for (size_t i = 0; i < sizeof prctl_deny / sizeof prctl_deny[0]; i++)
		rule1(ctx, deny, "prctl", arg_eq(0, prctl_deny[i]));
	/* Typing into the daemon's terminal, should there be one. */
	rule1(ctx, deny, "ioctl", arg_eq(1, TIOCSTI));
	rule1(ctx, deny, "ioctl", arg_eq(1, TIOCLINUX));
	/*
	 * Pids passed in memory or as a command: SIGIO/SIGURG aimed at another
	 * process or group, a terminal's foreground group, core scheduling
	 * shared with another process.
	 */
	rule1(ctx, deny, "fcntl", arg_eq(1, F_SETOWN));
	rule1(ctx, deny, "fcntl", arg_eq(1, F_SETOWN_EX));
	rule1(ctx, deny, "ioctl", arg_eq(1, FIOSETOWN));
	rule1(ctx, deny, "ioctl", arg_eq(1, SIOCSPGRP));
	rule1(ctx, deny, "ioctl", arg_eq(1, TIOCSPGRP));
	rule1(ctx, deny, "prctl", arg_eq(0, PR_SCHED_CORE));

	return ctx;
}

/*
 * The allowlist for serving: the socket and stderr (read, write), memory
 * (never executable), time, sleeping, futex (glibc locks), signal return and
 * masks, exit, and signals to ourselves so that abort() still dies of
 * SIGABRT. No open, no socket, no clone/fork/exec, no signal to others.
 */
// clang-format off
static const char *const serving_allow[] = {
	"read", "write", "readv", "writev", "close",
	"clock_gettime", "clock_getres", "clock_nanosleep", "nanosleep", "gettimeofday", "time",
	"getpid", "gettid", "getrandom",
	"brk", "munmap", "mremap", "madvise", "futex",
	"rt_sigreturn", "rt_sigprocmask", "exit", "exit_group", "sched_yield", "restart_syscall",
	/* This process's own credentials, as the user namespace maps them (getpwuid's first step). */
	"getuid", "geteuid", "getgid", "getegid",
};

/*
 * Calls that common libc functions make on a plugin author's behalf and
 * that serving refuses with an errno rather than the kill: the kernel never
 * runs them, as with the kill, but the function fails or falls back and
 * the plugin serves on. glibc's qsort of more than 1 KiB asks
 * sysconf(_SC_PHYS_PAGES), that is sysinfo (whose system-wide memory, load
 * and process count are none of a plugin's business), and ignores its
 * failure: the number it reads only picks merge sort or quicksort.
 * localtime stats and opens /etc/localtime (it falls back to UTC), the
 * processor count reads /sys and /proc (then sched_getaffinity, allowed
 * below), fopen and opendir open, isatty asks an ioctl, gethostname uname.
 */
static const struct {
	const char *name;
	int err;
} serving_refuse[] = {
	{"sysinfo", EPERM}, {"open", EACCES}, {"openat", EACCES}, {"stat", EACCES},
	{"lstat", EACCES}, {"fstat", EACCES}, {"newfstatat", EACCES}, {"statx", EACCES},
	{"access", EACCES}, {"faccessat", EACCES}, {"faccessat2", EACCES}, {"readlink", EACCES},
	{"readlinkat", EACCES}, {"ioctl", ENOTTY}, {"uname", EPERM},
};
// clang-format on

#if defined(SS_SANITIZER_BUILD)
/*
 * Sanitizer builds only: what the ASan/UBSan runtimes call on their own
 * while we serve. ASan instruments every call to a noreturn function (our
 * _exit, a plugin's abort) with __asan_handle_no_return, which asks
 * sigaltstack(NULL, &old) where the current stack is before unpoisoning it.
 * It only reads or sets this thread's alternate signal stack. (Found by
 * running the hostile suite with nothing extra allowed.)
 */
static const char *const sanitizer_allow[] = {
    "sigaltstack",
};
#endif

scmp_filter_ctx filter_rules_serving(uint32_t arch, pid_t pid, bool debug)
{
	const uint32_t allow = SCMP_ACT_ALLOW;
	const scmp_datum_t self = (scmp_datum_t)pid;
	scmp_filter_ctx ctx = ctx_new(arch, debug ? SCMP_ACT_TRAP : SCMP_ACT_KILL_PROCESS);

	for (size_t i = 0; i < sizeof serving_allow / sizeof serving_allow[0]; i++)
		rule0(ctx, allow, serving_allow[i]);
#if defined(SS_SANITIZER_BUILD)
	for (size_t i = 0; i < sizeof sanitizer_allow / sizeof sanitizer_allow[0]; i++)
		rule0(ctx, allow, sanitizer_allow[i]);
#endif
	for (size_t i = 0; i < sizeof serving_refuse / sizeof serving_refuse[0]; i++)
		rule0(ctx, SCMP_ACT_ERRNO((uint32_t)serving_refuse[i].err), serving_refuse[i].name);
	/* Memory, but never executable memory. */
	rule1(ctx, allow, "mmap", arg_lacks(2, PROT_EXEC));
	rule1(ctx, allow, "mprotect", arg_lacks(2, PROT_EXEC));
	/* The processor count's last resort: this thread's own CPU mask (pid 0). */
	rule1(ctx, allow, "sched_getaffinity", arg_eq(0, 0));
	/*
	 * abort() and raise(): the signal goes to this process (tid == pid: one
	 * thread). These are the only calls naming a pid that serving allows.
	 */
	rule2(ctx, allow, "tgkill", arg_eq(0, self), arg_eq(1, self));
	rule1(ctx, allow, "tkill", arg_eq(0, self));
	rule1(ctx, allow, "kill", arg_eq(0, self));
	return ctx;
}

/*
 * The pid namespace's waiter (pidns.c) runs no plugin code; its filter keeps
 * it to waiting and ending. The default is EPERM rather than a kill: a call
 * this list forgot must not turn into a SIGSYS the daemon would report as
 * the plugin's sandbox violation.
 */
// clang-format off
static const char *const waiter_allow[] = {
	"wait4", "waitid", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "restart_syscall",
	"getpid", "gettid", "write", "writev", "close", "exit", "exit_group", "brk", "munmap",
	"madvise", "futex", "clock_gettime", "sigaltstack",
};
// clang-format on

scmp_filter_ctx filter_rules_waiter(uint32_t arch, pid_t self)
{
	const scmp_datum_t pid = (scmp_datum_t)self;
	scmp_filter_ctx ctx = ctx_new(arch, SCMP_ACT_ERRNO(EPERM));

	for (size_t i = 0; i < sizeof waiter_allow / sizeof waiter_allow[0]; i++)
		rule0(ctx, SCMP_ACT_ALLOW, waiter_allow[i]);
	rule1(ctx, SCMP_ACT_ALLOW, "mmap", arg_lacks(2, PROT_EXEC));
	/* Ending by the child's signal: to ourselves only. */
	rule1(ctx, SCMP_ACT_ALLOW, "kill", arg_eq(0, pid));
	rule2(ctx, SCMP_ACT_ALLOW, "tgkill", arg_eq(0, pid), arg_eq(1, pid));
	return ctx;
}
