/*
 * config: the option table (config.c). Every number is parsed and range
 * checked by one rule, whatever the width of its field; the environment
 * gives defaults and a flag wins over it; a bad value, from either, is
 * refused with a message that names the option; --help lists every option
 * with its variable and default.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

static char err[4096];

/*
 * Parses argv (NULL-terminated, "streamspaced" first), with what it prints
 * on stderr in err. Returns config_parse's result; c is parsed into.
 */
static int parse(struct config *c, ...)
{
	char *argv[32];
	int argc = 0, saved = dup(2), r;
	FILE *f = tmpfile();
	va_list ap;
	size_t n;

	assert_non_null(f);
	argv[argc++] = "streamspaced";
	va_start(ap, c);
	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	fflush(stderr);
	dup2(fileno(f), 2);
	r = config_parse(c, argc, argv);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(f);
	n = fread(err, 1, sizeof err - 1, f);
	err[n] = '\0';
	fclose(f);
	return r;
}

static void defaults(void **state)
{
	struct config c;

	(void)state;
	assert_int_equal(parse(&c, NULL), 0);
	assert_string_equal(c.listen, "127.0.0.1:8080");
	assert_int_equal(c.max_frame, 1 << 20);
	assert_int_equal(c.queue_max, 4096);
	assert_int_equal(c.window, 32);
	assert_int_equal(c.queue_bytes_max, (size_t)64 << 20);
	assert_int_equal(c.bus_bytes_max, (size_t)256 << 20);
	assert_int_equal(c.http_timeout_ms, 30000);
	assert_int_equal(c.hold_max_ms, 500);
	assert_int_equal(c.keep_versions, 3);
	assert_int_equal(c.storage_max_bytes, 64LL << 20);
	assert_int_equal(c.event_retention_s, 7 * 86400);
	assert_int_equal(c.event_keep_delivered_s, 60);
	assert_int_equal(c.route_max_body, 256u << 10);
	assert_int_equal(c.lease_ms, 5000);
	assert_false(c.strict);
	assert_false(c.sandbox_debug);
	assert_null(c.database);
	assert_non_null(c.host_path);
	config_free(&c);
}

/* Every kind of field takes its value: int, size_t, int64_t, string, switch. */
static void values(void **state)
{
	struct config c;

	(void)state;
	assert_int_equal(parse(&c, "--queue-max", "10", "--hold-max-ms", "1", "--storage-max-bytes",
			       "1125899906842624", "--database", "dbname=x", "--database",
			       "dbname=y", "--sandbox", "strict", "--sandbox-debug",
			       "--event-keep-delivered", "0", "--log-level", "warn", NULL),
			 0);
	assert_int_equal(c.queue_max, 10);
	assert_int_equal(c.hold_max_ms, 1);
	assert_int_equal(c.storage_max_bytes, 1LL << 50);
	assert_string_equal(c.database, "dbname=y");
	assert_true(c.strict);
	assert_true(c.sandbox_debug);
	assert_int_equal(c.event_keep_delivered_s, 0);
	config_free(&c);
}

/* Out of range, at both ends, and the ends themselves. */
static void range(void **state)
{
	struct config c;

	(void)state;
	assert_int_equal(parse(&c, "--window", "0", NULL), -1);
	assert_string_equal(err,
			    "streamspaced: --window wants a number from 1 to 1024, got \"0\"\n");
	config_free(&c);
	assert_int_equal(parse(&c, "--window", "1025", NULL), -1);
	assert_non_null(strstr(err, "--window wants a number from 1 to 1024, got \"1025\""));
	config_free(&c);
	assert_int_equal(parse(&c, "--window", "1024", "--max-frame", "4096", NULL), 0);
	assert_int_equal(c.window, 1024);
	assert_int_equal(c.max_frame, 4096);
	config_free(&c);
	assert_int_equal(parse(&c, "--max-frame", "4095", NULL), -1);
	assert_non_null(strstr(err, "--max-frame wants a number from 4096 to 67108864"));
	config_free(&c);
	assert_int_equal(parse(&c, "--hold-max-ms", "600001", NULL), -1);
	assert_non_null(strstr(err, "--hold-max-ms wants a number from 1 to 600000"));
	config_free(&c);
	assert_int_equal(parse(&c, "--shutdown-timeout-ms", "-1", NULL), -1);
	assert_non_null(strstr(err, "--shutdown-timeout-ms wants a number from 0 to 600000"));
	config_free(&c);
}

/* Not a number, a number with junk after it, nothing, and past long long. */
static void not_numbers(void **state)
{
	static const char *const bad[] = {"many",
					  "12abc",
					  "",
					  "0x10",
					  "1e3",
					  "5 ",
					  "99999999999999999999",
					  "-99999999999999999999"};
	struct config c;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char want[128];

		assert_int_equal(parse(&c, "--queue-max", bad[i], NULL), -1);
		snprintf(want, sizeof want,
			 "streamspaced: --queue-max wants a number from 1 to 1048576, got \"%s\"\n",
			 bad[i]);
		assert_string_equal(err, want);
		config_free(&c);
	}
	/* Within long long but past the field: refused by the range, never truncated. */
	assert_int_equal(parse(&c, "--http-timeout-ms", "4294967396", NULL), -1);
	assert_non_null(strstr(err, "--http-timeout-ms wants a number from 100 to 600000"));
	config_free(&c);
}

/* The environment gives a default, a flag wins over it, a bad value is refused unless so. */
static void environment(void **state)
{
	struct config c;

	(void)state;
	setenv("STREAMSPACE_KEEP_VERSIONS", "7", 1);
	setenv("STREAMSPACE_LISTEN", "127.0.0.1:9", 1);
	assert_int_equal(parse(&c, NULL), 0);
	assert_int_equal(c.keep_versions, 7);
	assert_string_equal(c.listen, "127.0.0.1:9");
	config_free(&c);
	assert_int_equal(parse(&c, "--keep-versions", "5", "--listen", "127.0.0.1:10", NULL), 0);
	assert_int_equal(c.keep_versions, 5);
	assert_string_equal(c.listen, "127.0.0.1:10");
	config_free(&c);

	setenv("STREAMSPACE_KEEP_VERSIONS", "0", 1);
	assert_int_equal(parse(&c, NULL), -1);
	assert_string_equal(err, "streamspaced: --keep-versions (STREAMSPACE_KEEP_VERSIONS) wants "
				 "a number from 1 to 100, got \"0\"\n");
	config_free(&c);
	/* The flag wins: the variable's value is not used, so not refused. */
	assert_int_equal(parse(&c, "--keep-versions", "2", NULL), 0);
	assert_int_equal(c.keep_versions, 2);
	config_free(&c);
	unsetenv("STREAMSPACE_KEEP_VERSIONS");
	unsetenv("STREAMSPACE_LISTEN");

	setenv("STREAMSPACE_LOG_LEVEL", "loud", 1);
	assert_int_equal(parse(&c, NULL), -1);
	assert_non_null(strstr(err, "unknown log level \"loud\" (STREAMSPACE_LOG_LEVEL)"));
	config_free(&c);
	unsetenv("STREAMSPACE_LOG_LEVEL");
}

/* Other refusals keep their messages. */
static void other_refusals(void **state)
{
	struct config c;

	(void)state;
	assert_int_equal(parse(&c, "--sandbox", "lax", NULL), -1);
	assert_string_equal(err, "streamspaced: --sandbox strict|default\n");
	config_free(&c);
	assert_int_equal(parse(&c, "--log-level", "bogus", NULL), -1);
	assert_string_equal(err, "streamspaced: unknown log level \"bogus\"\n");
	config_free(&c);
	assert_int_equal(parse(&c, "--egress-connect-to", "a:1:b", NULL), -1);
	assert_non_null(strstr(err, "--egress-connect-to HOST:PORT:CONNECT_HOST:CONNECT_PORT"));
	config_free(&c);
	assert_int_equal(parse(&c, "stray", NULL), -1);
	assert_string_equal(err, "streamspaced: unexpected argument \"stray\"\n");
	config_free(&c);
	assert_int_equal(parse(&c, "--no-such-flag", NULL), -1);
	assert_non_null(strstr(err, "usage: streamspaced"));
	config_free(&c);
	assert_int_equal(parse(&c, "--queue-max", NULL), -1);
	config_free(&c);
}

/* --help has every option, each with its argument, its variable and its default. */
static void help(void **state)
{
	char *text = NULL, *flat;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	static const char *const want[] = {
	    "  --listen ADDRESS:PORT",
	    "(STREAMSPACE_LISTEN, 127.0.0.1:8080)",
	    "  --keep-versions N",
	    "(STREAMSPACE_KEEP_VERSIONS, 3)",
	    "  --hold-max-ms MS",
	    "(500)",
	    "  --queue-max N",
	    "(4096)",
	    "  --sandbox-debug ",
	    "  --log-level LEVEL",
	    "(STREAMSPACE_LOG_LEVEL, info)",
	    "  --lease-ms MS",
	    "  --egress-connect-to H:P:CH:CP",
	    "  --help ",
	};

	(void)state;
	config_usage(f);
	fclose(f);
	/* What is wrapped over lines is read as one line. */
	flat = strdup(text);
	assert_non_null(flat);
	for (char *in = text, *out = flat; *in != '\0';) {
		if (*in == '\n' && in[1] == ' ' && in[2] == ' ' && in[3] == ' ') {
			while (*++in == ' ')
				;
			*out++ = ' ';
		} else {
			*out++ = *in++;
		}
		*out = '\0';
	}
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		if (strstr(flat, want[i]) == NULL)
			fail_msg("--help lacks \"%s\":\n%s", want[i], text);
	free(flat);
	/* No line past 80 columns but an option's own name (none is that long). */
	for (char *line = text, *nl; *line != '\0'; line = nl + 1) {
		nl = strchr(line, '\n');
		assert_non_null(nl);
		assert_true(nl - line <= 80);
	}
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(defaults),	   cmocka_unit_test(values),
	    cmocka_unit_test(range),	   cmocka_unit_test(not_numbers),
	    cmocka_unit_test(environment), cmocka_unit_test(other_refusals),
	    cmocka_unit_test(help),
	};

	unsetenv("STREAMSPACE_KEEP_VERSIONS");
	unsetenv("STREAMSPACE_LOG_LEVEL");
	unsetenv("STREAMSPACE_LISTEN");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
