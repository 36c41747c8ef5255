/*
 * The host's seccomp programs are compiled at build time (plugin-host/
 * filtergen.c) and loaded with the pid written in (plugin-host/filter.c).
 * Checks that each program, patched for a pid, is instruction for
 * instruction what libseccomp makes of the same rules (filter_rules.c) for
 * that pid at run time: the PID namespace's programs at pid 1, the others
 * at small and large pids, random ones and this process's own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "filter_bpf.h"
#include "filter_rules.h"

enum variant {
	LOADING_PIDNS,
	SERVING_PIDNS,
	SERVING_DEBUG_PIDNS,
	LOADING,
	SERVING,
	SERVING_DEBUG,
	WAITER
};

static const struct filter_bpf *precompiled(enum variant v)
{
	switch (v) {
	case LOADING_PIDNS:
		return &filter_bpf_loading_pidns;
	case SERVING_PIDNS:
		return &filter_bpf_serving_pidns;
	case SERVING_DEBUG_PIDNS:
		return &filter_bpf_serving_debug_pidns;
	case LOADING:
		return &filter_bpf_loading;
	case SERVING:
		return &filter_bpf_serving;
	case SERVING_DEBUG:
		return &filter_bpf_serving_debug;
	default:
		return &filter_bpf_waiter;
	}
}

static scmp_filter_ctx at_run_time(enum variant v, pid_t pid)
{
	uint32_t arch = seccomp_arch_native();
	switch (v) {
	case LOADING_PIDNS:
		return filter_rules_loading(arch, pid, true);
	case SERVING_PIDNS:
		return filter_rules_serving(arch, pid, false);
	case SERVING_DEBUG_PIDNS:
		return filter_rules_serving(arch, pid, true);
	case LOADING:
		return filter_rules_loading(arch, pid, false);
	case SERVING:
		return filter_rules_serving(arch, pid, false);
	case SERVING_DEBUG:
		return filter_rules_serving(arch, pid, true);
	default:
		return filter_rules_waiter(arch, pid);
	}
}

/* libseccomp's program for ctx (released), in a new buffer of *len instructions. */
static struct sock_filter *export(scmp_filter_ctx ctx, size_t *len)
{
	FILE *f = tmpfile();
	struct sock_filter *p;
	long size;

	assert_non_null(f);
	assert_int_equal(seccomp_export_bpf(ctx, fileno(f)), 0);
	seccomp_release(ctx);
	size = lseek(fileno(f), 0, SEEK_END);
	assert_true(size > 0 && size % (long)sizeof *p == 0);
	p = malloc((size_t)size);
	assert_non_null(p);
	assert_int_equal(pread(fileno(f), p, (size_t)size, 0), size);
	fclose(f);
	*len = (size_t)size / sizeof *p;
	return p;
}

static void check(enum variant v, pid_t pid)
{
	const struct filter_bpf *f = precompiled(v);
	size_t len;
	struct sock_filter *want = export(at_run_time(v, pid), &len);
	struct sock_filter patched[FILTER_BPF_MAX];

	if (f->len != len)
		fail_msg("variant %d pid %d: %u instructions, libseccomp makes %zu", (int)v,
			 (int)pid, f->len, len);
	memcpy(patched, f->insns, len * sizeof *patched);
	for (uint16_t i = 0; i < f->n_pid; i++) {
		assert_true(f->pid_at[i] < len);
		patched[f->pid_at[i]].k = (uint32_t)pid;
	}
	for (size_t i = 0; i < len; i++) {
		if (memcmp(&patched[i], &want[i], sizeof want[i]) != 0)
			fail_msg(
			    "variant %d pid %d: instruction %zu is {%#x %u %u %#x}, libseccomp "
			    "makes {%#x %u %u %#x}",
			    (int)v, (int)pid, i, patched[i].code, patched[i].jt, patched[i].jf,
			    patched[i].k, want[i].code, want[i].jt, want[i].jf, want[i].k);
	}
	free(want);
}

/* In the PID namespace: pid 1, the programs as they are. */
static void test_pid1_equal_to_libseccomp(void **state)
{
	(void)state;
	for (int v = LOADING_PIDNS; v <= SERVING_DEBUG_PIDNS; v++)
		check((enum variant)v, 1);
}

/* Without it: any pid from 2 (pid_max is at most 2^22; more for good measure). */
static void test_patched_equal_to_libseccomp(void **state)
{
	const pid_t pids[] = {2,     3,	    4,	    62,	     300,	 32768,
			      65534, 65536, 131072, 4194304, 0x7ffffffe, getpid()};
	(void)state;

	for (int v = LOADING; v <= WAITER; v++)
		for (size_t i = 0; i < sizeof pids / sizeof pids[0]; i++)
			check((enum variant)v, pids[i]);
	for (int i = 0; i < 200; i++)
		check((enum variant)(LOADING + i % 4), 2 + (pid_t)(random() % 4194303));
}

/*
 * Every patched filter names its pid somewhere (one that did not would
 * ignore it), and the pid 1 programs have nothing to patch.
 */
static void test_pid_patched(void **state)
{
	(void)state;
	for (int v = LOADING_PIDNS; v <= SERVING_DEBUG_PIDNS; v++)
		assert_int_equal(precompiled((enum variant)v)->n_pid, 0);
	for (int v = LOADING; v <= WAITER; v++)
		assert_true(precompiled((enum variant)v)->n_pid > 0);
	assert_int_equal(filter_bpf_audit_arch, seccomp_arch_native());
}

/* --sandbox-debug's names are libseccomp's. */
static void test_names(void **state)
{
	(void)state;
	for (int nr = 0; nr < FILTER_BPF_NAMES; nr++) {
		char *want = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
		const char *got = filter_bpf_name_text + filter_bpf_name_at[nr];
		if (want == NULL)
			assert_int_equal(filter_bpf_name_at[nr], 0);
		else
			assert_string_equal(got, want);
		free(want);
	}
	assert_string_equal(filter_bpf_name_text + filter_bpf_name_at[0], "read");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pid1_equal_to_libseccomp),
	    cmocka_unit_test(test_patched_equal_to_libseccomp),
	    cmocka_unit_test(test_pid_patched),
	    cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
