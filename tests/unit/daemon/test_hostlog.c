#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostlog.h"
#include "log.h"

static void add(struct evbuffer *b, const char *s)
{
	evbuffer_add(b, s, strlen(s));
}

/* Whole lines are taken, partial ones wait, and the last ones are kept. */
static void lines_and_tail(void **state)
{
	struct hostlog *hl = hostlog_new("t");
	struct evbuffer *in = evbuffer_new();
	json_object *tail;

	add(in, "one\ntwo\nthr");
	hostlog_drain(hl, in, false);
	assert_string_equal(hostlog_last(hl), "two");
	assert_int_equal(evbuffer_get_length(in), 3);
	add(in, "ee\n");
	hostlog_drain(hl, in, false);
	assert_string_equal(hostlog_last(hl), "three");
	add(in, "no newline at eof");
	hostlog_drain(hl, in, true);
	assert_string_equal(hostlog_last(hl), "no newline at eof");
	tail = hostlog_take_tail(hl);
	assert_int_equal(json_object_array_length(tail), 4);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(tail, 0)), "one");
	json_object_put(tail);
	assert_null(hostlog_last(hl));
	evbuffer_free(in);
	hostlog_free(hl);
}

/* A line with no end is cut at the maximum; only HOSTLOG_KEEP lines are kept. */
static void bounded(void **state)
{
	struct hostlog *hl = hostlog_new("t");
	struct evbuffer *in = evbuffer_new();
	char *big = malloc(HOSTLOG_LINE_MAX * 3);
	json_object *tail;

	memset(big, 'x', HOSTLOG_LINE_MAX * 3);
	evbuffer_add(in, big, HOSTLOG_LINE_MAX * 3);
	hostlog_drain(hl, in, false);
	assert_int_equal(evbuffer_get_length(in), 0);
	assert_int_equal(strlen(hostlog_last(hl)), HOSTLOG_LINE_MAX);
	assert_true(hostlog_truncated(hl) >= 1);
	for (int i = 0; i < HOSTLOG_KEEP * 3; i++)
		add(in, "line\n");
	hostlog_drain(hl, in, false);
	tail = hostlog_take_tail(hl);
	assert_int_equal(json_object_array_length(tail), HOSTLOG_KEEP);
	json_object_put(tail);
	free(big);
	evbuffer_free(in);
	hostlog_free(hl);
}

/* Control characters cannot forge a record or reach the terminal. */
static void sanitized(void **state)
{
	struct hostlog *hl = hostlog_new("t");
	struct evbuffer *in = evbuffer_new();
	char s[] = "a\rerror other: forged\x1b[2Jz\x7f\tok";

	add(in, "x\rinfo other: forged \x1b[31mred\n");
	hostlog_drain(hl, in, false);
	assert_null(strchr(hostlog_last(hl), '\r'));
	assert_null(strchr(hostlog_last(hl), '\x1b'));
	log_sanitize(s);
	assert_string_equal(s, "a error other: forged [2Jz \tok");
	evbuffer_free(in);
	hostlog_free(hl);
}

/* The burst is allowed, then lines are refused and counted. */
static void rate_limited(void **state)
{
	struct hostlog *hl = hostlog_new("t");
	int allowed = 0;

	for (int i = 0; i < 5000; i++)
		allowed += hostlog_allow(hl);
	/* 1000 of burst, plus what refilled at 200/s while the loop ran. */
	assert_true(allowed >= 1000 && allowed < 1200);
	assert_int_equal(hostlog_dropped(hl), 5000 - allowed);
	hostlog_free(hl);
}

/* The plugin's secrets never reach the kept lines or the log, raw or JSON-escaped. */
static void redacted(void **state)
{
	struct hostlog *hl = hostlog_new("t");
	struct evbuffer *in = evbuffer_new();
	json_object *secrets = json_object_new_array();
	char path[] = "/tmp/test_hostlog.XXXXXX", buf[1024];
	int fd = mkstemp(path), saved = dup(2);
	ssize_t n;

	assert_true(fd >= 0 && saved >= 0);
	json_object_array_add(secrets, json_object_new_string("s3cret-value"));
	json_object_array_add(secrets, json_object_new_string("https://hooks.example/x"));
	json_object_array_add(secrets, json_object_new_string("s3cret"));
	hostlog_set_secrets(hl, secrets);
	json_object_put(secrets);
	add(in, "config {\"k\":\"s3cret-value\",\"u\":\"https:\\/\\/hooks.example\\/x\"} s3cret\n");
	hostlog_drain(hl, in, false);
	assert_string_equal(hostlog_last(hl),
			    "config {\"k\":\"********\",\"u\":\"********\"} ********");
	/* Records go through hostlog_write: what reaches stderr is redacted too. */
	log_set_level(LOG_LVL_INFO);
	assert_true(dup2(fd, 2) == 2);
	hostlog_write(hl, LOG_LVL_INFO, "token=s3cret-value and s3cret");
	fflush(stderr);
	assert_true(dup2(saved, 2) == 2);
	log_set_level(LOG_LVL_ERROR);
	n = pread(fd, buf, sizeof buf - 1, 0);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "token=******** and ********"));
	assert_null(strstr(buf, "s3cret"));
	/* Overlapping secrets: the whole stretch goes; shorter than 4 bytes are not looked for. */
	secrets = json_object_new_array();
	json_object_array_add(secrets, json_object_new_string("abcd-1111"));
	json_object_array_add(secrets, json_object_new_string("1111-wxyz"));
	json_object_array_add(secrets, json_object_new_string("a"));
	hostlog_set_secrets(hl, secrets);
	json_object_put(secrets);
	add(in, "x abcd-1111-wxyz y abcd-1111 1111-wxyz a\n");
	hostlog_drain(hl, in, false);
	assert_string_equal(hostlog_last(hl), "x ******** y ******** ******** a");
	/* A new set replaces the old one; an empty one is none. */
	secrets = json_object_new_array();
	hostlog_set_secrets(hl, secrets);
	json_object_put(secrets);
	hostlog_set_secrets(hl, NULL);
	add(in, "s3cret\n");
	hostlog_drain(hl, in, false);
	assert_string_equal(hostlog_last(hl), "s3cret");
	close(fd);
	close(saved);
	unlink(path);
	evbuffer_free(in);
	hostlog_free(hl);
}

static const char *recent_line(json_object *a, size_t i)
{
	json_object *v;

	assert_true(json_object_object_get_ex(json_object_array_get_idx(a, i), "line", &v));
	return json_object_get_string(v);
}

/*
 * The recent lines for the API: output and records, redacted, oldest first,
 * kept when the host's tail is taken, bounded by count and by bytes.
 */
static void recent(void **state)
{
	struct hostlog *hl = hostlog_new("t");
	struct evbuffer *in = evbuffer_new();
	json_object *secrets = json_object_new_array(), *a, *v;
	char line[64];
	size_t bytes = 0;

	json_object_array_add(secrets, json_object_new_string("s3cret-value"));
	hostlog_set_secrets(hl, secrets);
	json_object_put(secrets);
	add(in, "out s3cret-value\n");
	hostlog_drain(hl, in, false);
	hostlog_write(hl, LOG_LVL_WARN, "record s3cret-value");
	json_object_put(hostlog_take_tail(hl));
	a = hostlog_recent(hl, 10);
	assert_int_equal(json_object_array_length(a), 2);
	assert_string_equal(recent_line(a, 0), "out ********");
	assert_string_equal(recent_line(a, 1), "record ********");
	assert_true(json_object_object_get_ex(json_object_array_get_idx(a, 1), "level", &v));
	assert_string_equal(json_object_get_string(v), "warn");
	assert_true(json_object_object_get_ex(json_object_array_get_idx(a, 1), "at", &v));
	assert_true(json_object_get_int64(v) > 1700000000000LL);
	json_object_put(a);
	/* max: the newest. */
	a = hostlog_recent(hl, 1);
	assert_int_equal(json_object_array_length(a), 1);
	assert_string_equal(recent_line(a, 0), "record ********");
	json_object_put(a);
	/* By count: the oldest go first. */
	for (int i = 0; i < HOSTLOG_RECENT + 5; i++) {
		snprintf(line, sizeof line, "n%d\n", i);
		add(in, line);
	}
	hostlog_drain(hl, in, false);
	a = hostlog_recent(hl, HOSTLOG_RECENT * 2);
	assert_int_equal(json_object_array_length(a), HOSTLOG_RECENT);
	assert_string_equal(recent_line(a, 0), "n5");
	json_object_put(a);
	/* By bytes: long lines keep fewer. */
	char *big = malloc(HOSTLOG_LINE_MAX + 2);
	memset(big, 'y', HOSTLOG_LINE_MAX);
	big[HOSTLOG_LINE_MAX] = '\n';
	big[HOSTLOG_LINE_MAX + 1] = '\0';
	for (int i = 0; i < 40; i++)
		add(in, big);
	hostlog_drain(hl, in, false);
	a = hostlog_recent(hl, HOSTLOG_RECENT);
	for (size_t i = 0; i < json_object_array_length(a); i++)
		bytes += strlen(recent_line(a, i));
	assert_true(bytes <= HOSTLOG_RECENT_BYTES);
	assert_int_equal(json_object_array_length(a), HOSTLOG_RECENT_BYTES / HOSTLOG_LINE_MAX);
	json_object_put(a);
	free(big);
	evbuffer_free(in);
	hostlog_free(hl);
}

/* A successor takes its predecessor's recent lines before its own; the bounds hold. */
static void carried(void **state)
{
	struct hostlog *old = hostlog_new("t"), *n = hostlog_new("t");
	json_object *a;
	char line[32];

	hostlog_write(old, LOG_LVL_INFO, "old 1");
	hostlog_write(old, LOG_LVL_INFO, "old 2");
	hostlog_write(n, LOG_LVL_INFO, "new 1");
	hostlog_carry_recent(n, old);
	a = hostlog_recent(n, HOSTLOG_RECENT);
	assert_int_equal(json_object_array_length(a), 3);
	assert_string_equal(recent_line(a, 0), "old 1");
	assert_string_equal(recent_line(a, 2), "new 1");
	json_object_put(a);
	a = hostlog_recent(old, HOSTLOG_RECENT);
	assert_int_equal(json_object_array_length(a), 0);
	json_object_put(a);
	/* Full on both sides: the newest HOSTLOG_RECENT stay, the successor's last. */
	for (int i = 0; i < HOSTLOG_RECENT; i++) {
		snprintf(line, sizeof line, "o%d", i);
		hostlog_write(old, LOG_LVL_INFO, line);
		snprintf(line, sizeof line, "n%d", i);
		hostlog_write(n, LOG_LVL_INFO, line);
	}
	hostlog_carry_recent(n, old);
	a = hostlog_recent(n, HOSTLOG_RECENT * 2);
	assert_int_equal(json_object_array_length(a), HOSTLOG_RECENT);
	assert_string_equal(recent_line(a, 0), "n0");
	json_object_put(a);
	hostlog_write(n, LOG_LVL_INFO, "after");
	a = hostlog_recent(n, 1);
	assert_string_equal(recent_line(a, 0), "after");
	json_object_put(a);
	hostlog_free(old);
	hostlog_free(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(lines_and_tail), cmocka_unit_test(bounded),
	    cmocka_unit_test(sanitized),      cmocka_unit_test(rate_limited),
	    cmocka_unit_test(redacted),	      cmocka_unit_test(recent),
	    cmocka_unit_test(carried),
	};
	log_set_level(LOG_LVL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
