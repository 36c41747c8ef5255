/*
 * The log's rate limit: a call site repeated in a loop writes LOG_RATE (10)
 * records a second and then one "suppressed K similar" line; other call
 * sites are not held back by it; records limited at their source (log_line)
 * and debug records pass; libevent's own messages come out as our records.
 * The rate limit's clock is the test's (log_clock.h): which second a record
 * falls in never depends on how fast the machine runs the loops.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <event2/util.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "log_clock.h"

/* The second the rate limit sees: a test moves it, so no loop depends on the machine's speed. */
static int64_t fake_second;

static int64_t fake_clock(void)
{
	return fake_second;
}

static FILE *capture;
static int saved = -1;

/* stderr into a temporary file until captured() reads it back. */
static void capture_start(void)
{
	fflush(stderr);
	capture = tmpfile();
	assert_non_null(capture);
	saved = dup(2);
	dup2(fileno(capture), 2);
}

/* The lines written since capture_start, as one string (caller frees); *n lines. */
static char *captured(int *n)
{
	long len;
	char *s;

	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	len = ftell(capture);
	s = calloc(1, (size_t)len + 1);
	rewind(capture);
	assert_int_equal(fread(s, 1, (size_t)len, capture), (size_t)len);
	fclose(capture);
	*n = 0;
	for (char *p = s; *p; p++)
		*n += *p == '\n';
	return s;
}

static int count(const char *s, const char *needle)
{
	int n = 0;
	for (const char *p = s; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

static void repeated_site(int i)
{
	log_warn("httpd", "accept: %s (%d)", "Too many open files", i);
}

static void limited_per_site(void **state)
{
	int n;
	char *out;

	log_set_level(LOG_LVL_INFO);
	capture_start();
	for (int i = 0; i < 100000; i++) {
		repeated_site(i);
		if (i % 1000 == 0)
			log_info("other", "another site %d", i);
	}
	out = captured(&n);
	/* All in one second: 10 of each, the rest held back. */
	assert_int_equal(count(out, "warn httpd: accept: Too many open files"), 10);
	assert_int_equal(count(out, "info other: another site"), 10);
	assert_int_equal(n, 20);
	free(out);

	/* A second later the site writes again, after one summary of what it held back. */
	fake_second++;
	capture_start();
	repeated_site(-1);
	out = captured(&n);
	assert_int_equal(count(out, "warn httpd: suppressed "), 1);
	assert_int_equal(count(out, " similar messages (\"accept: %s (%d)\")"), 1);
	assert_int_equal(count(out, "warn httpd: accept: Too many open files (-1)"), 1);
	assert_int_equal(n, 2);
	free(out);
}

static void flush_at_exit(void **state)
{
	int n;
	char *out;

	/* What the test before held back is not this test's. */
	log_flush_suppressed();
	capture_start();
	for (int i = 0; i < 50; i++)
		log_error("db", "query failed: %d", i);
	log_flush_suppressed();
	out = captured(&n);
	assert_int_equal(count(out, "error db: query failed"), 10);
	assert_int_equal(count(out, "error db: suppressed 40 similar messages"), 1);
	assert_int_equal(n, 11);
	free(out);
}

static void unlimited(void **state)
{
	int n;
	char *out;

	log_set_level(LOG_LVL_DEBUG);
	capture_start();
	for (int i = 0; i < 500; i++) {
		log_line(LOG_LVL_INFO, "hello", "a plugin's line, limited by hostlog");
		log_debug("api", "GET /healthz %d", i);
	}
	out = captured(&n);
	assert_int_equal(n, 1000);
	free(out);
	log_set_level(LOG_LVL_INFO);
}

static void libevent_routed(void **state)
{
	int n;
	char *out;

	log_route_libevent();
	capture_start();
	/* libevent warns about this itself (event_sock_warn), 10 per second then one summary. */
	for (int i = 0; i < 1000; i++)
		evutil_make_socket_nonblocking(-1);
	log_flush_suppressed();
	out = captured(&n);
	assert_int_equal(count(out, "warn libevent: fcntl(-1, F_GETFL)"), 10);
	assert_int_equal(count(out, "warn libevent: suppressed 990 similar messages"), 1);
	assert_int_equal(count(out, "[warn]"), 0);
	assert_int_equal(n, 11);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(limited_per_site),
	    cmocka_unit_test(flush_at_exit),
	    cmocka_unit_test(unlimited),
	    cmocka_unit_test(libevent_routed),
	};
	log_set_clock(fake_clock);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
