#define _GNU_SOURCE
#include "spawn.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* Where the child's fds are parked while they are moved into place. */
#define SPAWN_FD_PARK 16

/* The child's stack until it execs (it runs a few system calls). */
#define SPAWN_STACK (32 * 1024)

/*
 * The child runs in the parent's memory until it execs (CLONE_VM, below):
 * nothing it does may touch the sanitizers' shadow of that memory, or the
 * parent would find it changed under its feet.
 */
#if defined(__has_attribute)
#if __has_attribute(no_sanitize)
#define SPAWN_CHILD __attribute__((no_sanitize("address", "undefined")))
#endif
#endif
#ifndef SPAWN_CHILD
#define SPAWN_CHILD
#endif

/* What the child reports through the error pipe when setup or exec fails. */
struct spawn_failure {
	int step;
	int err;
};

enum { STEP_DUP2, STEP_DEVNULL, STEP_CLOSE_RANGE, STEP_EXEC, STEP_CGROUP };
static const char *const spawn_steps[] = {"dup2", "/dev/null", "close_range", "execve",
					  "joining the plugin's cgroup"};

static void SPAWN_CHILD __attribute__((noreturn)) child_fail(int errfd, int step)
{
	struct spawn_failure f = {step, errno};
	(void)!write(errfd, &f, sizeof f);
	_exit(127);
}

/*
 * Runs in the child between clone and exec: only async-signal-safe calls,
 * and no write to memory but its own stack (it shares the parent's).
 * Moves the fds into place, marks every other fd close-on-exec and execs.
 */
static void SPAWN_CHILD __attribute__((noreturn))
child_exec(const char *path, char *const argv[], const int fds[4], int errfd, int cgfd)
{
	static char *const envp[] = {"PATH=/usr/bin:/bin", "LANG=C.UTF-8", NULL};
	int src[4];
	sigset_t none;

	/* Into the cgroup first, before any fd moves (cgfd may be low). */
	if (cgfd >= 0 && write(cgfd, "0", 1) != 1)
		child_fail(errfd, STEP_CGROUP);
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	/* Park every source above the targets first, so no dup2 clobbers another source. */
	for (int i = 0; i < 4; i++) {
		src[i] = -1;
		if (fds[i] >= 0)
			src[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, SPAWN_FD_PARK);
		else if (i < 3)
			src[i] = open("/dev/null", (i == 0 ? O_RDONLY : O_WRONLY) | O_CLOEXEC);
		if (src[i] < 0 && (fds[i] >= 0 || i < 3))
			child_fail(errfd, fds[i] >= 0 ? STEP_DUP2 : STEP_DEVNULL);
	}
	for (int i = 0; i < 4; i++)
		if (src[i] >= 0 && dup2(src[i], i) < 0)
			child_fail(errfd, STEP_DUP2);
	/* Everything above the fixed fds goes at exec, including the error pipe on success. */
	unsigned first = fds[3] >= 0 ? 4U : 3U;
	if (syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
		long max = sysconf(_SC_OPEN_MAX);
		for (int fd = (int)first; fd < (max > 0 ? max : 65536); fd++)
			if (fd != errfd)
				fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	execve(path, argv, envp);
	child_fail(errfd, STEP_EXEC);
}

struct child_start {
	const char *path;
	char *const *argv;
	const int *fds;
	int errfd, cgfd;
};

static int SPAWN_CHILD child_main(void *arg)
{
	const struct child_start *c = arg;
	child_exec(c->path, c->argv, c->fds, c->errfd, c->cgfd);
}

/*
 * Starts a child that execs path with its fds in place. Returns its pid with
 * the read end of the error pipe in *errfd (close-on-exec, blocking), or -1
 * with a message (nothing runs then).
 *
 * The child is a clone(CLONE_VM | CLONE_VFORK), as posix_spawn makes one:
 * it runs on a stack of its own in the parent's memory, and the parent
 * goes on once it has exec'd (or exited). A fork would copy the daemon's
 * page tables and then copy every page the daemon writes before the exec:
 * with 8 MiB of anonymous memory, fork + exec of a static program took
 * 0.88 ms (p10) against 0.62 ms this way, and more under load.
 */
static pid_t spawn_fork(const char *path, char *const argv[], const int fds[4], int cgroup_procs,
			int *errfd, char *err, size_t errlen)
{
	int errp[2] = {-1, -1};
	sigset_t all, old;
	pid_t pid;
	static_assert(SPAWN_STACK % 64 == 0, "stack size");
	_Alignas(64) char stack[SPAWN_STACK];
	struct child_start c;

	if (pipe2(errp, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	c.path = path;
	c.argv = argv;
	c.fds = fds;
	c.errfd = errp[1];
	c.cgfd = cgroup_procs;
	/* Signals stay blocked across the clone so no daemon handler runs in the child. */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	/* The stack grows down (on every architecture Linux runs this on). */
	pid = clone(child_main, stack + sizeof stack, CLONE_VM | CLONE_VFORK | SIGCHLD, &c);
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(errp[1]);
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(errp[0]);
		return -1;
	}
	*errfd = errp[0];
	return pid;
}

int spawn_result(int errfd, const char *path, char *err, size_t errlen)
{
	struct spawn_failure f;
	ssize_t n;

	do
		n = read(errfd, &f, sizeof f);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (n == 0)
		return 1;
	/* One write of 8 bytes to a pipe is atomic: all of it, or a failure to read. */
	if (n != (ssize_t)sizeof f) {
		snprintf(err, errlen, "reading how %s started: %s", path,
			 n < 0 ? strerror(errno) : "short read");
		return -1;
	}
	snprintf(err, errlen, "%s %s: %s",
		 (unsigned)f.step < sizeof spawn_steps / sizeof *spawn_steps ? spawn_steps[f.step]
									     : "starting",
		 path, strerror(f.err));
	return -1;
}

/* Waits for the child's exec; on a failure reaps it. */
static int wait_exec(pid_t pid, int errfd, const char *path, char *err, size_t errlen)
{
	int r = spawn_result(errfd, path, err, errlen);

	close(errfd);
	if (r < 0)
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	return r < 0 ? -1 : 0;
}

int spawn_host_in(const char *path, char *const argv[], int cgroup_procs, struct spawn_child *out,
		  char *err, size_t errlen)
{
	int sv[2] = {-1, -1}, logp[2] = {-1, -1}, errfd;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ||
	    pipe2(logp, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "socketpair/pipe: %s", strerror(errno));
		goto fail;
	}
	pid = spawn_fork(path, argv, (const int[4]){-1, logp[1], logp[1], sv[1]}, cgroup_procs,
			 &errfd, err, errlen);
	if (pid < 0)
		goto fail;
	close(sv[1]);
	close(logp[1]);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(logp[0], F_SETFL, O_NONBLOCK);
	fcntl(errfd, F_SETFL, O_NONBLOCK);
	out->pid = pid;
	out->sock = sv[0];
	out->logfd = logp[0];
	out->errfd = errfd;
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (sv[i] >= 0)
			close(sv[i]);
		if (logp[i] >= 0)
			close(logp[i]);
	}
	return -1;
}

int spawn_host(const char *path, char *const argv[], struct spawn_child *out, char *err,
	       size_t errlen)
{
	if (spawn_host_in(path, argv, -1, out, err, errlen) < 0)
		return -1;
	fcntl(out->errfd, F_SETFL, 0);
	if (wait_exec(out->pid, out->errfd, path, err, errlen) < 0) {
		close(out->sock);
		close(out->logfd);
		return -1;
	}
	out->errfd = -1;
	return 0;
}

int spawn_plugin_host(const char *host_path, const struct host_args *a, int cgroup_procs,
		      struct spawn_child *out, char *err, size_t errlen)
{
	char mem[24];
	char *argv[12];
	int n = 0;

	snprintf(mem, sizeof mem, "%" PRIu64, a->mem_limit);
	argv[n++] = "streamspace-plugin-host";
	argv[n++] = "--name";
	argv[n++] = (char *)a->name;
	argv[n++] = "--plugin";
	argv[n++] = (char *)a->plugin;
	argv[n++] = "--mem-limit";
	argv[n++] = mem;
	if (a->strict)
		argv[n++] = "--strict";
	if (a->sandbox_debug)
		argv[n++] = "--sandbox-debug";
	argv[n] = NULL;
	return spawn_host_in(host_path, argv, cgroup_procs, out, err, errlen);
}
