#define _GNU_SOURCE
#include "exitcause.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

static const char *const names[CAUSE_COUNT] = {
    [CAUSE_NONE] = "none",	     [CAUSE_SIGNAL] = "signal",
    [CAUSE_EXIT] = "exit",	     [CAUSE_SANDBOX] = "sandbox_violation",
    [CAUSE_DEADLINE] = "deadline",   [CAUSE_PROTOCOL] = "protocol",
    [CAUSE_LOAD] = "load",	     [CAUSE_MEMORY] = "memory",
    [CAUSE_SETUP] = "sandbox_setup",
};

const char *exit_cause_name(enum exit_cause c)
{
	return (unsigned)c < CAUSE_COUNT ? names[c] : "unknown";
}

const char *exit_signal_abbrev(int sig)
{
	const char *s = sigabbrev_np(sig);
	return s ? s : "?";
}

enum exit_cause exit_classify(int status, char *desc, size_t len)
{
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		if (sig == SIGSYS) {
			snprintf(desc, len,
				 "sandbox violation: killed by SIGSYS (a system call outside the "
				 "seccomp allowlist)");
			return CAUSE_SANDBOX;
		}
		if (sig == SIGXCPU) {
			snprintf(desc, len, "CPU time limit exceeded (SIGXCPU)");
			return CAUSE_DEADLINE;
		}
		if (sig == SIGXFSZ) {
			snprintf(desc, len, "tried to write a file (SIGXFSZ)");
			return CAUSE_SANDBOX;
		}
		snprintf(desc, len, "killed by signal %d (SIG%s)", sig, exit_signal_abbrev(sig));
		return CAUSE_SIGNAL;
	}
	if (!WIFEXITED(status)) {
		snprintf(desc, len, "ended with wait status %#x", (unsigned)status);
		return CAUSE_EXIT;
	}
	switch (WEXITSTATUS(status)) {
	case 0:
		snprintf(desc, len, "exited with status 0 without being asked to stop");
		return CAUSE_EXIT;
	case 64:
		snprintf(desc, len, "exit 64: the host was started with a bad command line");
		return CAUSE_SETUP;
	case 65:
		snprintf(desc, len, "exit 65: the plugin could not be loaded");
		return CAUSE_LOAD;
	case 66:
		snprintf(desc, len, "exit 66: the plugin's on_load failed");
		return CAUSE_LOAD;
	case 71:
		snprintf(desc, len, "exit 71: sandbox setup failed");
		return CAUSE_SETUP;
	case 76:
		snprintf(desc, len, "exit 76: the host saw a protocol error or lost the daemon");
		return CAUSE_PROTOCOL;
	default:
		snprintf(desc, len, "exited with status %d", WEXITSTATUS(status));
		return CAUSE_EXIT;
	}
}
