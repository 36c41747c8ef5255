/*
 * The host's seccomp filters as BPF programs, compiled at build time
 * (filtergen.c runs the rules of filter_rules.c through libseccomp and
 * writes filter_bpf.c into the build directory), so that the host neither
 * links libseccomp nor builds a filter while it starts.
 *
 * A filter is for one pid, its own. In its PID namespace that is 1, and
 * the *_pidns programs are compiled for pid 1 exactly. Otherwise it is
 * whatever it is (never 0 or 1: the host is the daemon's child), and the
 * program holds it as the constant k of the instructions at pid_at: the
 * loader writes the pid there before loading. Every other instruction is
 * exactly what libseccomp produced; tests/unit/host/test_filter.c checks
 * that each program so patched equals what libseccomp makes of the same
 * rules at run time, at pid 1 for the first kind and at pids from 2 to
 * 2^31-2 for the second. (Only pids 0 and 1 equal a constant the rules
 * compare the same argument against, where libseccomp would share a block.)
 */
#ifndef SS_HOST_FILTER_BPF_H
#define SS_HOST_FILTER_BPF_H

#include <linux/filter.h>
#include <stddef.h>
#include <stdint.h>

/* The longest program the generator accepts (the kernel's limit is 4096). */
#define FILTER_BPF_MAX 2048
/* Syscall numbers 0 .. FILTER_BPF_NAMES-1 have a name for --sandbox-debug. */
#define FILTER_BPF_NAMES 512

struct filter_bpf {
	const struct sock_filter *insns;
	uint16_t len;
	const uint16_t *pid_at; /* instructions whose k is the pid (NULL for pid 1 programs) */
	uint16_t n_pid;
};

/* The loading filter in our own PID namespace (pid 1), and without one. */
extern const struct filter_bpf filter_bpf_loading_pidns;
extern const struct filter_bpf filter_bpf_loading;
/* The serving filter, killing (default) and trapping (--sandbox-debug), each both ways. */
extern const struct filter_bpf filter_bpf_serving_pidns;
extern const struct filter_bpf filter_bpf_serving;
extern const struct filter_bpf filter_bpf_serving_debug_pidns;
extern const struct filter_bpf filter_bpf_serving_debug;
/* The PID namespace waiter's (outside the namespace: never pid 1). */
extern const struct filter_bpf filter_bpf_waiter;
/* The architecture the programs check for (AUDIT_ARCH_*). */
extern const uint32_t filter_bpf_audit_arch;

/*
 * Syscall names for --sandbox-debug: the name of number nr starts at
 * filter_bpf_name_text + filter_bpf_name_at[nr] (offsets, not pointers, so
 * the table needs no relocation); "" when the architecture has none.
 */
extern const uint16_t filter_bpf_name_at[FILTER_BPF_NAMES];
extern const char filter_bpf_name_text[];

#endif
