/*
 * The outbox's recent rows (recent.c): a scan serves exactly the covered
 * range, in id order, holes included as holes, and refuses a range whose
 * rows were evicted or never held rather than answer part of it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "recent.h"

struct seen {
	int64_t ids[256];
	size_t n, stop_after;
	char last_type[32], last_data[64], last_origin[32];
	bool last_platform, last_own;
};

static bool collect(const struct outbox_row *row, void *arg)
{
	struct seen *s = arg;

	assert_int_equal(strlen(row->data), row->len);
	s->ids[s->n++] = row->id;
	snprintf(s->last_type, sizeof s->last_type, "%s", row->type);
	snprintf(s->last_data, sizeof s->last_data, "%s", row->data);
	snprintf(s->last_origin, sizeof s->last_origin, "%s", row->origin ? row->origin : "(null)");
	s->last_platform = row->platform;
	s->last_own = row->own;
	return s->stop_after == 0 || s->n < s->stop_after;
}

static void add_row(struct recent *r, int64_t id, const char *type, const char *origin,
		    bool platform)
{
	char data[64];
	struct outbox_row row = {id, type, data, origin, 0, platform, !platform};

	snprintf(data, sizeof data, "{\"n\":%lld}", (long long)id);
	row.len = strlen(data);
	recent_add(r, &row);
}

static void add(struct recent *r, int64_t id)
{
	add_row(r, id, "session.created", NULL, false);
}

static void test_covered_range(void **state)
{
	struct recent *r = recent_new(1 << 20, 10);
	struct seen s = {0};

	(void)state;
	/* Nothing held yet: only the empty range at the position is "covered". */
	assert_int_equal(recent_scan(r, 10, 11, collect, &s), -1);
	add(r, 11);
	add(r, 12);
	add(r, 15); /* 13 and 14 are holes the reader stepped over */
	add(r, 16);
	assert_int_equal(recent_scan(r, 10, 16, collect, &s), 0);
	assert_int_equal(s.n, 4);
	assert_int_equal(s.ids[0], 11);
	assert_int_equal(s.ids[2], 15);
	assert_int_equal(s.ids[3], 16);
	assert_string_equal(s.last_type, "session.created");
	assert_string_equal(s.last_data, "{\"n\":16}");
	assert_string_equal(s.last_origin, "(null)");
	assert_false(s.last_platform);
	assert_true(s.last_own);
	/* Origin and platform come back as added. */
	add_row(r, 17, "plugin.crashed", "billing", true);
	add_row(r, 18, "plugin.audit.done", "audit", false);
	memset(&s, 0, sizeof s);
	assert_int_equal(recent_scan(r, 16, 17, collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.last_origin, "billing");
	assert_true(s.last_platform);
	assert_false(s.last_own);
	memset(&s, 0, sizeof s);
	assert_int_equal(recent_scan(r, 17, 18, collect, &s), 0);
	assert_string_equal(s.last_type, "plugin.audit.done");
	assert_string_equal(s.last_origin, "audit");
	assert_false(s.last_platform);
	/* A middle range, bounded both ways. */
	memset(&s, 0, sizeof s);
	assert_int_equal(recent_scan(r, 11, 15, collect, &s), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.ids[0], 12);
	assert_int_equal(s.ids[1], 15);
	/* Only holes in it: covered, no rows. */
	memset(&s, 0, sizeof s);
	assert_int_equal(recent_scan(r, 12, 14, collect, &s), 0);
	assert_int_equal(s.n, 0);
	/* Before the covered range, or past its end: refused. */
	assert_int_equal(recent_scan(r, 9, 12, collect, &s), -1);
	assert_int_equal(recent_scan(r, 12, 19, collect, &s), -1);
	/* The callback stops the scan. */
	memset(&s, 0, sizeof s);
	s.stop_after = 2;
	assert_int_equal(recent_scan(r, 10, 16, collect, &s), 0);
	assert_int_equal(s.n, 2);
	recent_free(r);
}

static void test_eviction_and_reset(void **state)
{
	/* Chunks are 64 KiB: a bound of 128 KiB keeps two. */
	struct recent *r = recent_new(128 * 1024, 0);
	struct seen s = {0};
	int64_t id;

	(void)state;
	for (id = 1; id <= 20000; id++)
		add(r, id);
	/* The newest rows are served, the oldest refused. */
	assert_int_equal(recent_scan(r, 19990, 20000, collect, &s), 0);
	assert_int_equal(s.n, 10);
	assert_int_equal(s.ids[9], 20000);
	assert_int_equal(recent_scan(r, 0, 10, collect, &s), -1);
	/* A reset (the reader's position moved without rows) covers nothing. */
	recent_reset(r, 30000);
	assert_int_equal(recent_scan(r, 19990, 20000, collect, &s), -1);
	add(r, 30001);
	memset(&s, 0, sizeof s);
	assert_int_equal(recent_scan(r, 30000, 30001, collect, &s), 0);
	assert_int_equal(s.n, 1);
	/* Out of order is a caller's bug: the range is dropped, never answered wrong. */
	add(r, 29999);
	assert_int_equal(recent_scan(r, 30000, 30001, collect, &s), -1);
	recent_free(r);
	recent_free(NULL);
}

static void test_large_row(void **state)
{
	struct recent *r = recent_new(1 << 20, 0);
	static char big[200 * 1024];
	struct seen s = {0};

	(void)state;
	memset(big, 'x', sizeof big - 1);
	add(r, 1);
	recent_add(
	    r, &(struct outbox_row){2, "plugin.a.big", big, NULL, sizeof big - 1, false, false});
	/* (a chunk of its own) */
	add(r, 3);
	assert_int_equal(recent_scan(r, 0, 3, collect, &s), 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.ids[1], 2);
	recent_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_covered_range),
	    cmocka_unit_test(test_eviction_and_reset),
	    cmocka_unit_test(test_large_row),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
