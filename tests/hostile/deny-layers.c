/*
 * deny-layers PROGRAM ARGS...: runs PROGRAM as if on a kernel without user
 * namespaces and without Landlock. A seccomp filter answers unshare with
 * EPERM (as systemd's RestrictNamespaces= or a userns sysctl would) and
 * landlock_create_ruleset with ENOSYS (as a kernel without Landlock would),
 * then execs PROGRAM. Used to check that the host reports those layers as
 * missing, and refuses to run in --strict mode.
 */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
	scmp_filter_ctx ctx;
	int r;

	if (argc < 2) {
		fprintf(stderr, "usage: deny-layers PROGRAM [ARGS...]\n");
		return 64;
	}
	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (ctx == NULL)
		return 70;
	r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(unshare), 0);
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(landlock_create_ruleset),
				     0);
	if (r == 0)
		r = seccomp_load(ctx);
	if (r < 0) {
		fprintf(stderr, "deny-layers: %s\n", strerror(-r));
		return 70;
	}
	seccomp_release(ctx);
	execv(argv[1], argv + 1);
	fprintf(stderr, "deny-layers: %s: %s\n", argv[1], strerror(errno));
	return 70;
}
