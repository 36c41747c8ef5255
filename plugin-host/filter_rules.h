/*
 * The host's seccomp filters as libseccomp rules (README.md, "The loading
 * filter", "The serving filter", "The pid rules", and the waiter's in "The
 * PID namespace"). Built at build time only: filtergen.c exports them as BPF
 * for the host, which does not link libseccomp (filter.c loads the
 * programs), and the unit test compares the two.
 *
 * Each returns a new context for architecture arch (an SCMP_ARCH_* token)
 * holding only that architecture; the caller releases it. Any refusal by
 * libseccomp is fatal (die, 71). pid is the process the filter is for: its
 * own pid, 1 in its own PID namespace.
 */
#ifndef SS_HOST_FILTER_RULES_H
#define SS_HOST_FILTER_RULES_H

#include <seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* The loading filter: default allow, a deny list answered with EPERM. */
scmp_filter_ctx filter_rules_loading(uint32_t arch, pid_t pid, bool pidns);
/* The serving filter: an allowlist, default kill (trap with debug). */
scmp_filter_ctx filter_rules_serving(uint32_t arch, pid_t pid, bool debug);
/* The PID namespace waiter's: wait, signal itself, write, exit; anything else EPERM. */
scmp_filter_ctx filter_rules_waiter(uint32_t arch, pid_t self);

#endif
