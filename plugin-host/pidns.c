#include "pidns.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "diag.h"
#include "filter.h"

/*
 * pid 1 of a PID namespace is the namespace's init: the kernel drops every
 * signal it sends itself (or gets from inside) while the disposition is
 * SIG_DFL, so abort(), raise() and RLIMIT_CPU's SIGXCPU would do nothing.
 * The child therefore catches every signal whose default is to end the
 * process and exits with RELAY_BASE + the signal; the waiter outside turns
 * that back into a death by the same signal. Faults (SIGSEGV from a bad
 * pointer) are forced by the kernel and would end pid 1 anyway; they are
 * caught too so that a raise(SIGSEGV) behaves the same.
 */
#define RELAY_BASE 128

static const int relayed[] = {
    SIGHUP,  SIGINT,  SIGQUIT, SIGILL,	  SIGTRAP, SIGABRT,   SIGBUS,  SIGFPE, SIGUSR1, SIGSEGV,
    SIGUSR2, SIGALRM, SIGTERM, SIGSTKFLT, SIGXCPU, SIGVTALRM, SIGPROF, SIGIO,  SIGPWR,	SIGSYS,
};

static void relay(int sig)
{
	_exit(RELAY_BASE + sig);
}

static void relay_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = relay;
	sigfillset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof relayed / sizeof relayed[0]; i++)
		if (sigaction(relayed[i], &sa, NULL) < 0)
			die(HOST_EXIT_SANDBOX, "pidns: sigaction: %s", strerror(errno));
	/* Real-time signals end the process by default as well (glibc keeps the first two). */
	for (int sig = SIGRTMIN; sig <= SIGRTMAX; sig++)
		if (sigaction(sig, &sa, NULL) < 0)
			die(HOST_EXIT_SANDBOX, "pidns: sigaction: %s", strerror(errno));
}

/* Ends this process by signal sig, as the child was; falls back to an exit status. */
static __attribute__((noreturn)) void die_by(int sig)
{
	struct sigaction sa;
	sigset_t set;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	(void)sigaction(sig, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	(void)sigprocmask(SIG_UNBLOCK, &set, NULL);
	(void)kill(getpid(), sig);
	/* A signal whose default is not fatal (a plugin's exit(128 + SIGCHLD)). */
	_exit(RELAY_BASE + sig);
}

static void limit(int resource, rlim_t v)
{
	struct rlimit rl = {v, v};
	if (setrlimit(resource, &rl) < 0)
		die(HOST_EXIT_SANDBOX, "pidns: waiter rlimit: %s", strerror(errno));
}

/*
 * The waiter: the process the daemon started, left outside the namespace.
 * It holds nothing of the plugin's (the protocol socket is closed), can
 * start nothing, and under its own filter can only wait and exit. The
 * child cannot name it (its pid does not exist in the child's namespace).
 */
static __attribute__((noreturn)) void waiter(pid_t child)
{
	int status, code;

	close(HOST_FD);
	limit(RLIMIT_NPROC, 0);
	limit(RLIMIT_FSIZE, 0);
	limit(RLIMIT_CORE, 0);
	limit(RLIMIT_MEMLOCK, 0);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		die(HOST_EXIT_SANDBOX, "pidns: waiter no_new_privs: %s", strerror(errno));
	sandbox_caps_clear();
	filter_waiter(getpid());

	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			die(HOST_EXIT_INTERNAL, "pidns: waitpid: %s", strerror(errno));
	if (WIFSIGNALED(status))
		die_by(WTERMSIG(status));
	code = WIFEXITED(status) ? WEXITSTATUS(status) : HOST_EXIT_INTERNAL;
	if (code > RELAY_BASE && code < RELAY_BASE + NSIG)
		die_by(code - RELAY_BASE);
	_exit(code);
}

void pidns_fork(struct sandbox *sb)
{
	int alive[2];
	struct pollfd pfd;
	pid_t child;

	/* The child learns from this pipe whether the waiter still lives (see below). */
	if (pipe2(alive, O_CLOEXEC) < 0)
		die(HOST_EXIT_SANDBOX, "pidns: pipe: %s", strerror(errno));
	child = fork();
	if (child < 0)
		die(HOST_EXIT_SANDBOX, "pidns: fork: %s", strerror(errno));
	if (child > 0) {
		close(alive[0]);
		waiter(child);
	}
	close(alive[1]);

	/*
	 * The parent-death signal is not inherited across fork: set it again,
	 * now tied to the waiter (whose own is tied to the daemon). getppid()
	 * says 0 here (the parent is outside the namespace) whether or not it
	 * still lives, so the check is the pipe: its write end closes only
	 * when the waiter is gone.
	 */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		die(HOST_EXIT_SANDBOX, "pdeathsig: %s", strerror(errno));
	pfd.fd = alive[0];
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (poll(&pfd, 1, 0) != 0)
		die(HOST_EXIT_SANDBOX, "pdeathsig: the host's waiter went away during start-up");
	close(alive[0]);
	if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
		die(HOST_EXIT_SANDBOX, "nodump: lost across fork");
	/* A session and process group of our own, so that "our group" is only us. */
	if (setsid() < 0)
		die(HOST_EXIT_SANDBOX, "pidns: setsid: %s", strerror(errno));
	relay_install();
	sb->pid = getpid();
	if (sb->pid != 1)
		die(HOST_EXIT_SANDBOX, "pidns: pid %d in the new namespace, expected 1",
		    (int)sb->pid);
	sb->pidns = true;
}
