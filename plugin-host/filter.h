/*
 * The two seccomp filters (native architecture only: any other
 * architecture's syscall convention kills the process), compiled at build
 * time from filter_rules.c (filter_bpf.h) and loaded here.
 *
 * Loading phase, while dlopen runs the plugin's constructors: everything is
 * allowed except a deny list that fails with EPERM (so a constructor that
 * probes gets an error it can report, and the load carries on).
 *
 * Serving phase, from before hello until the end: a short allowlist, and
 * any other syscall kills the process with SIGSYS (or, with
 * --sandbox-debug, names the syscall on stderr and exits 71).
 */
#ifndef SS_HOST_FILTER_H
#define SS_HOST_FILTER_H

#include <stdbool.h>
#include <sys/types.h>

#include "sandbox.h"

void filter_loading(struct sandbox *sb);
void filter_serving(struct sandbox *sb, bool debug);

/* The waiter's filter (pidns.c): wait, signal itself, exit; anything else EPERM. */
void filter_waiter(pid_t self);

#endif
