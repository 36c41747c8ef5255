/*
 * The host's seccomp programs are compiled at build time (plugin-host/
 * filtergen.c) and loaded with the pid written in (plugin-host/filter.c).
 * Checks that each program, patched for a pid, is instruction for
 * instruction what libseccomp makes of the same rules (filter_rules.c) for
 * that pid at run time: the PID namespace's programs at pid 1, the others
 * at small and large pids, random ones and this process's own.
 *
 * And that the layout the rules ask libseccomp for (syscall numbers as a
 * binary tree, SCMP_FLTATR_CTL_OPTIMIZE 2) decides every call exactly as
 * libseccomp's default layout of the same rules (one comparison after
 * another, what the host loaded before): both programs are run by a small
 * classic-BPF interpreter over every syscall number, on and off the native
 * architecture, and for the numbers whose rules look at arguments, over
 * argument values at, around and combining every constant either program
 * compares against.
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

#include <linux/audit.h>
#include <linux/seccomp.h>

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

/* Runs a seccomp program over one call; fails the test on an instruction it does not know. */
static uint32_t run(const struct sock_filter *p, size_t len, const struct seccomp_data *d,
		    bool *read_args)
{
	uint32_t a = 0;
	size_t pc = 0;

	for (size_t steps = 0; pc < len && steps < 100000; steps++) {
		const struct sock_filter *i = &p[pc++];
		bool cond = false;
		switch (i->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			if (i->k > sizeof *d - 4 || i->k % 4 != 0)
				fail_msg("load at offset %u", i->k);
			if (i->k >= offsetof(struct seccomp_data, args))
				*read_args = true;
			memcpy(&a, (const char *)d + i->k, 4);
			continue;
		case BPF_ALU | BPF_AND | BPF_K:
			a &= i->k;
			continue;
		case BPF_JMP | BPF_JA:
			pc += i->k;
			continue;
		case BPF_RET | BPF_K:
			return i->k;
		case BPF_JMP | BPF_JEQ | BPF_K:
			cond = a == i->k;
			break;
		case BPF_JMP | BPF_JGT | BPF_K:
			cond = a > i->k;
			break;
		case BPF_JMP | BPF_JGE | BPF_K:
			cond = a >= i->k;
			break;
		case BPF_JMP | BPF_JSET | BPF_K:
			cond = (a & i->k) != 0;
			break;
		default:
			fail_msg("instruction %#x not known to the test's interpreter", i->code);
		}
		pc += cond ? i->jt : i->jf;
	}
	fail_msg("program ran off its end");
	return 0;
}

/* Every constant program p compares against or masks with, and its neighbours. */
static size_t constants(const struct sock_filter *p, size_t len, uint32_t *out, size_t n,
			size_t max)
{
	for (size_t i = 0; i < len; i++) {
		if (BPF_CLASS(p[i].code) != BPF_JMP && BPF_CLASS(p[i].code) != BPF_ALU)
			continue;
		const uint32_t around[] = {p[i].k, p[i].k - 1, p[i].k + 1, ~p[i].k};
		for (size_t j = 0; j < 4 && n < max; j++) {
			size_t k = 0;
			while (k < n && out[k] != around[j])
				k++;
			if (k == n)
				out[n++] = around[j];
		}
	}
	return n;
}

static struct sock_filter *layout(scmp_filter_ctx ctx, uint32_t optimize, size_t *len)
{
	assert_int_equal(seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, optimize), 0);
	return export(ctx, len);
}

static void same_decisions(enum variant v, pid_t pid)
{
	size_t n_tree, n_line, n_k = 0;
	struct sock_filter *tree = layout(at_run_time(v, pid), 2, &n_tree);
	struct sock_filter *line = layout(at_run_time(v, pid), 1, &n_line);
	static uint32_t k[4096];
	const uint32_t arches[] = {filter_bpf_audit_arch, AUDIT_ARCH_I386, AUDIT_ARCH_AARCH64, 0};
	size_t argful = 0;

	/* The compiled program is the tree layout: what the rules ask for. */
	assert_int_equal(n_tree, precompiled(v)->len);
	k[n_k++] = 0;
	k[n_k++] = 0xffffffffu;
	k[n_k++] = (uint32_t)pid;
	n_k = constants(tree, n_tree, k, n_k, sizeof k / sizeof k[0]);
	n_k = constants(line, n_line, k, n_k, sizeof k / sizeof k[0]);
	for (size_t ai = 0; ai < sizeof arches / sizeof arches[0]; ai++) {
		for (uint32_t nr = 0; nr < 0x40000400u; nr++) {
			struct seccomp_data d;
			bool args_t = false, args_l = false;

			if (nr == 1024)
				nr = 0x3ffffc00u; /* then x32's numbers, and around them */
			memset(&d, 0, sizeof d);
			d.nr = (int)nr;
			d.arch = arches[ai];
			if (run(tree, n_tree, &d, &args_t) != run(line, n_line, &d, &args_l))
				fail_msg(
				    "variant %d: syscall %#x arch %#x, no arguments: the layouts "
				    "disagree",
				    (int)v, nr, d.arch);
			if (!args_t && !args_l)
				continue; /* neither looked: the arguments cannot matter */
			argful++;
			/* Each argument alone over every value, high half 0, 1 or all ones. */
			for (int arg = 0; arg < 6; arg++)
				for (size_t i = 0; i < n_k; i++)
					for (int hi = 0; hi < 3; hi++) {
						const uint64_t high[] = {0, 1, 0xffffffffu};
						memset(d.args, 0, sizeof d.args);
						d.args[arg] = high[hi] << 32 | k[i];
						if (run(tree, n_tree, &d, &args_t) !=
						    run(line, n_line, &d, &args_l))
							fail_msg("variant %d: syscall %#x arg %d = "
								 "%#llx: "
								 "the layouts disagree",
								 (int)v, nr, arg,
								 (unsigned long long)d.args[arg]);
					}
			/* Then every argument at once, drawn from the same values and ORs of two.
			 */
			for (int r = 0; r < 4000; r++) {
				for (int arg = 0; arg < 6; arg++) {
					uint64_t x = k[(size_t)random() % n_k];
					if (random() % 2)
						x |= k[(size_t)random() % n_k];
					if (random() % 8 == 0)
						x |= (uint64_t)k[(size_t)random() % n_k] << 32;
					d.args[arg] = x;
				}
				if (run(tree, n_tree, &d, &args_t) !=
				    run(line, n_line, &d, &args_l))
					fail_msg("variant %d: syscall %#x: the layouts disagree on "
						 "{%#llx %#llx %#llx %#llx}",
						 (int)v, nr, (unsigned long long)d.args[0],
						 (unsigned long long)d.args[1],
						 (unsigned long long)d.args[2],
						 (unsigned long long)d.args[3]);
			}
		}
	}
	/* The rules with arguments were reached (clone, open, mmap, prctl, kill, ...). */
	assert_true(argful >= 3);
	free(tree);
	free(line);
}

static void test_layouts_decide_alike(void **state)
{
	(void)state;
	same_decisions(LOADING_PIDNS, 1);
	same_decisions(SERVING_PIDNS, 1);
	same_decisions(SERVING_DEBUG_PIDNS, 1);
	same_decisions(LOADING, 4321);
	same_decisions(SERVING, 4321);
	same_decisions(WAITER, 4321);
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
	    cmocka_unit_test(test_layouts_decide_alike),
	    cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
