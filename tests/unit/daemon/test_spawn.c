/*
 * spawn.c: a plugin host's exec result comes back on its errfd, read when
 * the loop says it is readable (spawn_host_in never waits for the exec);
 * spawn_host, for start-up and benches, waits and reaps a failure itself.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spawn.h"

static char *const argv[] = {"streamspace-plugin-host", NULL};

/* Waits as the loop does: poll for readable, then spawn_result until it knows. */
static int result(const struct spawn_child *c, const char *path, char *err, size_t len)
{
	struct pollfd pfd = {.fd = c->errfd, .events = POLLIN};
	int r;

	while ((r = spawn_result(c->errfd, path, err, len)) == 0)
		assert_int_equal(poll(&pfd, 1, 10000), 1);
	return r;
}

static int reap(const struct spawn_child *c)
{
	int status;

	assert_int_equal(waitpid(c->pid, &status, 0), c->pid);
	close(c->sock);
	close(c->logfd);
	close(c->errfd);
	return status;
}

/* A missing binary: forked at once, the operator's sentence later, exit 127. */
static void missing_binary(void **state)
{
	struct spawn_child c;
	char err[256] = "";
	int status;

	assert_int_equal(spawn_host_in("/nonexistent/ss-host", argv, -1, &c, err, sizeof err), 0);
	assert_true(c.pid > 0);
	assert_true(fcntl(c.errfd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(c.errfd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(result(&c, "/nonexistent/ss-host", err, sizeof err), -1);
	assert_string_equal(err, "execve /nonexistent/ss-host: No such file or directory");
	status = reap(&c);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 127);
}

/* A file that is not executable: EACCES, in the same words. */
static void not_executable(void **state)
{
	char path[] = "/tmp/ss-spawn-XXXXXX", err[256], want[300];
	struct spawn_child c;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(spawn_host_in(path, argv, -1, &c, err, sizeof err), 0);
	assert_int_equal(result(&c, path, err, sizeof err), -1);
	snprintf(want, sizeof want, "execve %s: Permission denied", path);
	assert_string_equal(err, want);
	reap(&c);
	unlink(path);
}

/* An exec that works: end of file, and the child runs. */
static void exec_works(void **state)
{
	struct spawn_child c;
	char err[256];
	int status;

	assert_int_equal(spawn_host_in("/bin/true", argv, -1, &c, err, sizeof err), 0);
	assert_int_equal(result(&c, "/bin/true", err, sizeof err), 1);
	status = reap(&c);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Nothing known yet: 0, never a block (an errfd whose writer is still open). */
static void not_yet(void **state)
{
	int p[2];
	char err[64];

	assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	assert_int_equal(spawn_result(p[0], "/x", err, sizeof err), 0);
	close(p[1]);
	assert_int_equal(spawn_result(p[0], "/x", err, sizeof err), 1);
	close(p[0]);
}

/* spawn_host waits: -1 with the same sentence, the child reaped, nothing left open. */
static void blocking_variant(void **state)
{
	struct spawn_child c;
	char err[256];
	int before = open("/dev/null", O_RDONLY), after;

	close(before);
	assert_int_equal(spawn_host("/nonexistent/ss-host", argv, &c, err, sizeof err), -1);
	assert_string_equal(err, "execve /nonexistent/ss-host: No such file or directory");
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	after = open("/dev/null", O_RDONLY);
	assert_int_equal(after, before);
	close(after);

	assert_int_equal(spawn_host("/bin/true", argv, &c, err, sizeof err), 0);
	assert_int_equal(c.errfd, -1);
	assert_int_equal(waitpid(c.pid, NULL, 0), c.pid);
	close(c.sock);
	close(c.logfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(missing_binary),	cmocka_unit_test(not_executable),
	    cmocka_unit_test(exec_works),	cmocka_unit_test(not_yet),
	    cmocka_unit_test(blocking_variant),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
