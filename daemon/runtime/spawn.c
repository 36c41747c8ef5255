#define _GNU_SOURCE
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
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

/* What the child reports through the error pipe when setup or exec fails. */
struct spawn_failure {
	int step;
	int err;
};

static const char *const spawn_steps[] = {"dup2", "/dev/null", "close_range", "execve",
					  "joining the plugin's cgroup"};

static void child_fail(int errfd, int step)
{
	struct spawn_failure f = {step, errno};
	(void)!write(errfd, &f, sizeof f);
	_exit(127);
}

/*
 * Runs in the child between fork and exec: only async-signal-safe calls.
 * Moves the fds into place, marks every other fd close-on-exec and execs.
 */
static void __attribute__((noreturn))
child_exec(const char *path, char *const argv[], int sock, int logw, int errfd, int cgfd)
{
	static char *const envp[] = {"PATH=/usr/bin:/bin", "LANG=C.UTF-8", NULL};
	sigset_t none;
	int devnull;

	/* Into the plugin's cgroup first, before any fd moves (cgfd may be 3). */
	if (cgfd >= 0 && write(cgfd, "0", 1) != 1)
		child_fail(errfd, 4);
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	/* Sources are all above 3 (0..2 stay open in the daemon), so no clobbering. */
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (devnull < 0)
		child_fail(errfd, 1);
	if (dup2(devnull, 0) < 0 || dup2(logw, 1) < 0 || dup2(logw, 2) < 0 || dup2(sock, 3) < 0)
		child_fail(errfd, 0);
	/* Everything above 3 goes at exec, including the error pipe on success. */
	if (syscall(SYS_close_range, 4U, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
		long max = sysconf(_SC_OPEN_MAX);
		for (int fd = 4; fd < (max > 0 ? max : 65536); fd++)
			if (fd != errfd)
				fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	execve(path, argv, envp);
	child_fail(errfd, 3);
	_exit(127);
}

int spawn_host(const char *path, char *const argv[], struct spawn_child *out, char *err,
	       size_t errlen)
{
	return spawn_host_in(path, argv, -1, out, err, errlen);
}

int spawn_host_in(const char *path, char *const argv[], int cgroup_procs, struct spawn_child *out,
		  char *err, size_t errlen)
{
	int sv[2] = {-1, -1}, logp[2] = {-1, -1}, errp[2] = {-1, -1};
	sigset_t all, old;
	struct spawn_failure f;
	ssize_t n;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ||
	    pipe2(logp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "socketpair/pipe: %s", strerror(errno));
		goto fail;
	}
	/* Signals stay blocked across fork so no daemon handler runs in the child. */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid == 0)
		child_exec(path, argv, sv[1], logp[1], errp[1], cgroup_procs);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		goto fail;
	}
	close(sv[1]);
	close(logp[1]);
	close(errp[1]);
	sv[1] = logp[1] = errp[1] = -1;

	/* EOF means exec succeeded; this read lasts as long as one fork+exec. */
	do
		n = read(errp[0], &f, sizeof f);
	while (n < 0 && errno == EINTR);
	close(errp[0]);
	errp[0] = -1;
	if (n == (ssize_t)sizeof f) {
		snprintf(err, errlen, "%s %s: %s", spawn_steps[f.step], path, strerror(f.err));
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		goto fail;
	}
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(logp[0], F_SETFL, O_NONBLOCK);
	out->pid = pid;
	out->sock = sv[0];
	out->logfd = logp[0];
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (sv[i] >= 0)
			close(sv[i]);
		if (logp[i] >= 0)
			close(logp[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	return -1;
}
