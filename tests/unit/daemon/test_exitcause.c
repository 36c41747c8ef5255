#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exitcause.h"

/* A real wait status from a child that ends the given way. */
static int status_of(int how, int arg)
{
	int st = 0;
	pid_t pid = fork();
	if (pid == 0) {
		if (how == 0)
			_exit(arg);
		signal(arg, SIG_DFL);
		raise(arg);
		_exit(99);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

static void signals(void **state)
{
	char d[256];
	assert_int_equal(exit_classify(status_of(1, SIGSYS), d, sizeof d), CAUSE_SANDBOX);
	assert_non_null(strstr(d, "sandbox violation"));
	assert_int_equal(exit_classify(status_of(1, SIGSEGV), d, sizeof d), CAUSE_SIGNAL);
	assert_non_null(strstr(d, "SIGSEGV"));
	assert_int_equal(exit_classify(status_of(1, SIGKILL), d, sizeof d), CAUSE_SIGNAL);
	assert_int_equal(exit_classify(status_of(1, SIGXCPU), d, sizeof d), CAUSE_DEADLINE);
}

static void exits(void **state)
{
	char d[256];
	assert_int_equal(exit_classify(status_of(0, 65), d, sizeof d), CAUSE_LOAD);
	assert_int_equal(exit_classify(status_of(0, 66), d, sizeof d), CAUSE_LOAD);
	assert_int_equal(exit_classify(status_of(0, 71), d, sizeof d), CAUSE_SETUP);
	assert_int_equal(exit_classify(status_of(0, 76), d, sizeof d), CAUSE_PROTOCOL);
	assert_int_equal(exit_classify(status_of(0, 0), d, sizeof d), CAUSE_EXIT);
	assert_int_equal(exit_classify(status_of(0, 3), d, sizeof d), CAUSE_EXIT);
	assert_non_null(strstr(d, "status 3"));
}

static void names(void **state)
{
	assert_string_equal(exit_cause_name(CAUSE_SANDBOX), "sandbox_violation");
	assert_string_equal(exit_cause_name(CAUSE_COUNT), "unknown");
	assert_string_equal(exit_signal_abbrev(SIGSEGV), "SEGV");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(signals),
	    cmocka_unit_test(exits),
	    cmocka_unit_test(names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
