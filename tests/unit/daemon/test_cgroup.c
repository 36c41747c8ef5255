/*
 * The cgroup module's file protocol, on a plain directory laid out like a
 * delegated cgroup v2 subtree (this machine mounts cgroup v1 only, so the
 * kernel's enforcement itself is not exercised here): what it checks, what
 * it writes where, and that a spawned child joins its cgroup before exec.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "spawn.h"

static char root[64];

static void put(const char *rel, const char *text)
{
	char path[256];
	FILE *f;
	snprintf(path, sizeof path, "%s/%s", root, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *get(const char *rel)
{
	static char buf[256];
	char path[256];
	FILE *f;
	size_t n;
	snprintf(path, sizeof path, "%s/%s", root, rel);
	f = fopen(path, "r");
	if (f == NULL)
		return NULL;
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int setup(void **state)
{
	strcpy(root, "/tmp/ss-cgroup-XXXXXX");
	assert_non_null(mkdtemp(root));
	put("cgroup.controllers", "cpuset cpu io memory pids\n");
	put("cgroup.subtree_control", "");
	put("cgroup.procs", "");
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", root);
	return system(cmd) == 0 ? 0 : -1;
}

/* A delegated tree: the daemon moves to a leaf and hands memory and pids down. */
static void opens_and_delegates(void **state)
{
	char why[256];
	struct cgroup *cg = cgroup_open(root, "/", false, why, sizeof why);

	assert_non_null(cg);
	assert_string_equal(cgroup_base(cg), root);
	assert_string_equal(get("daemon/cgroup.procs"), "0");
	assert_string_equal(get("cgroup.subtree_control"), "+memory +pids");
	cgroup_free(cg);
}

/* Missing controllers, or a subtree not ours: refused, with the reason. */
static void refuses(void **state)
{
	char why[256];

	put("cgroup.controllers", "cpu io\n");
	assert_null(cgroup_open(root, "/", false, why, sizeof why));
	assert_non_null(strstr(why, "memory and pids"));
	put("cgroup.controllers", "memory pids\n");
	assert_null(cgroup_open(root, "/nonexistent", false, why, sizeof why));
	assert_non_null(strstr(why, "not delegated"));
	/* The real check: a tmp directory is no cgroup2 filesystem. */
	assert_null(cgroup_open(root, "/", true, why, sizeof why));
	assert_non_null(strstr(why, "not a cgroup v2 filesystem"));
}

/* How the child's exec went, waiting for it as the loop would (spawn_result). */
static int exec_result(struct spawn_child *c, char *err, size_t len)
{
	struct pollfd pfd = {.fd = c->errfd, .events = POLLIN};
	int r;

	while ((r = spawn_result(c->errfd, "/bin/true", err, len)) == 0)
		assert_int_equal(poll(&pfd, 1, -1), 1);
	close(c->errfd);
	return r;
}

/* Per plugin: its own cgroup with the limits, and the child joins before exec. */
static void plugin_cgroup_and_join(void **state)
{
	char why[256], err[256];
	struct cgroup *cg;
	struct spawn_child c;
	char *const argv[] = {"true", NULL};
	int fd, status;

	put("cgroup.controllers", "memory pids\n");
	cg = cgroup_open(root, "/", false, why, sizeof why);
	assert_non_null(cg);
	assert_int_equal(mkdir(strcat(strcpy(err, root), "/plugin-hello"), 0755), 0);
	put("plugin-hello/memory.swap.max", "max");
	fd = cgroup_prepare(cg, "hello", 64ull << 20, 4, err, sizeof err);
	assert_true(fd >= 0);
	assert_string_equal(get("plugin-hello/memory.max"), "67108864");
	assert_string_equal(get("plugin-hello/memory.swap.max"), "0");
	assert_string_equal(get("plugin-hello/pids.max"), "4");

	assert_int_equal(spawn_host_in("/bin/true", argv, fd, &c, err, sizeof err), 0);
	close(fd);
	assert_int_equal(exec_result(&c, err, sizeof err), 1);
	assert_int_equal(waitpid(c.pid, &status, 0), c.pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(c.sock);
	close(c.logfd);
	/* What a child writes to join: "0", i.e. itself. */
	assert_string_equal(get("plugin-hello/cgroup.procs"), "0");

	/* A cgroup.procs the child cannot write is a spawn error, not a silent miss. */
	fd = open("/dev/null", O_RDONLY);
	assert_int_equal(spawn_host_in("/bin/true", argv, fd, &c, err, sizeof err), 0);
	close(fd);
	assert_int_equal(exec_result(&c, err, sizeof err), -1);
	assert_non_null(strstr(err, "cgroup"));
	assert_int_equal(waitpid(c.pid, &status, 0), c.pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 127);
	close(c.sock);
	close(c.logfd);
	cgroup_release(cg, "hello"); /* not empty here: fails quietly */
	cgroup_free(cg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(opens_and_delegates, setup, teardown),
	    cmocka_unit_test_setup_teardown(refuses, setup, teardown),
	    cmocka_unit_test_setup_teardown(plugin_cgroup_and_join, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
