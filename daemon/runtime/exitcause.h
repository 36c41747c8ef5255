/* Why a plugin host ended: the causes the supervisor counts and reports. */
#ifndef SS_EXITCAUSE_H
#define SS_EXITCAUSE_H

#include <stddef.h>

enum exit_cause {
	CAUSE_NONE = 0,
	CAUSE_SIGNAL,	/* killed by a signal (SIGSEGV, SIGABRT, SIGKILL from outside) */
	CAUSE_EXIT,	/* exited on its own with a status we did not expect */
	CAUSE_SANDBOX,	/* SIGSYS: a system call outside the seccomp allowlist */
	CAUSE_DEADLINE, /* missed a handshake, event or ping deadline, or its CPU limit */
	CAUSE_PROTOCOL, /* broke the protocol */
	CAUSE_LOAD,	/* could not be loaded, or its on_load failed */
	CAUSE_MEMORY,	/* ran out of its memory limit */
	CAUSE_SETUP,	/* its sandbox could not be set up (or strict mode refused it) */
	CAUSE_COUNT
};

/* "signal", "sandbox_violation", ... as shown in status and metrics. */
const char *exit_cause_name(enum exit_cause c);

/*
 * Classifies a wait status of a host that ended on its own (exit statuses
 * as in PROTOCOL.md), with a sentence for operators in desc.
 */
enum exit_cause exit_classify(int status, char *desc, size_t len);

/* "SEGV" for 11; "?" when unknown. */
const char *exit_signal_abbrev(int sig);

#endif
