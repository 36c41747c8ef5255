/*
 * streamspace-billing's usage rules: the session state machine (only
 * running time billed for compute; hibernated time not), duplicates and late
 * events, resources as Kubernetes quantities, the split at UTC midnight, the
 * cost under computeRates, day and month records, the quota crossing once,
 * and the report and CSV over day records. Also plugins/common/quantity.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jsonpath.h"

#include "../../../plugins/common/isotime.h"
#include "../../../plugins/common/quantity.h"
#include "../../../plugins/streamspace-billing/usage.h"

#define H 3600000LL
/* 2026-12-01T00:00:00Z */
#define DAY0 1796083200000LL

static void near(double got, double want)
{
	if (fabs(got - want) > 1e-9) {
		fprintf(stderr, "got %.12f, want %.12f\n", got, want);
		fail();
	}
}

static enum usage_result apply(json_object *rec, json_object *cfg, const char *ev, const char *data,
			       int64_t t, int64_t id, struct usage_span *sp)
{
	json_object *d = parse(data);
	enum usage_result r = usage_apply(rec, cfg, ev, d, t, id, sp);
	json_object_put(d);
	return r;
}

static void test_quantity(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		double v;
	} ok[] = {{"1", 1},
		  {"500m", 0.5},
		  {"1000m", 1},
		  {"2Gi", 2147483648.0},
		  {"512Mi", 536870912.0},
		  {"1.5", 1.5},
		  {"1e3", 1000},
		  {"2k", 2000},
		  {"1E", 1e18},
		  {"100n", 1e-7},
		  {"+3", 3},
		  {".5", 0.5},
		  {"1Ki", 1024},
		  {"3E-1", 0.3}};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		double v = -1;
		assert_true(quantity_parse(ok[i].s, &v));
		near(v, ok[i].v);
	}
	static const char *bad[] = {"",	  "Gi",	    "1GB",   "1 Gi", "0x10", "inf",  "nan",
				    "1e", "1e1000", "1.2.3", "-",    "1Kii", "1e3Gi"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		double v = -1;
		assert_false(quantity_parse(bad[i], &v));
		near(v, -1);
	}
	assert_false(quantity_parse(NULL, NULL));
}

/* created, started, 2 h running, 3 h hibernated, woken, 1 h running, stopped. */
static void test_lifecycle(void **state)
{
	(void)state;
	json_object *cfg = parse("{}"), *rec = json_object_new_object();
	struct usage_span sp;
	struct usage_rates r;
	usage_rates_of(cfg, &r);
	near(r.cpu_per_core_hour, 0.05);
	near(r.memory_per_gb_hour, 0.01);
	near(r.storage_per_gb_month, 0.10);
	const char *res = "{\"user\":\"alice\",\"template\":\"firefox\",\"resources\":"
			  "{\"cpu\":\"2000m\",\"memory\":\"4Gi\",\"storage\":\"10Gi\"}}";
	int64_t t = DAY0 + 8 * H;
	assert_int_equal(apply(rec, cfg, "session.created", res, t, 1, &sp), USAGE_APPLIED);
	assert_false(sp.any);
	assert_string_equal(str_at(rec, "state"), "created");
	assert_string_equal(str_at(rec, "user"), "alice");
	assert_string_equal(str_at(rec, "template"), "firefox");
	near(json_object_get_double(at(rec, "cpu")), 2);
	near(json_object_get_double(at(rec, "memoryGi")), 4);
	near(json_object_get_double(at(rec, "storageGi")), 10);
	assert_false(usage_open(rec));
	assert_int_equal(apply(rec, cfg, "session.started", "{}", t, 2, &sp), USAGE_APPLIED);
	assert_false(sp.any); /* created time is not billed */
	assert_true(usage_open(rec));
	assert_int_equal(apply(rec, cfg, "session.hibernated", "{}", t + 2 * H, 3, &sp),
			 USAGE_APPLIED);
	assert_true(sp.any && sp.running);
	assert_int_equal(sp.start_ms, t);
	assert_int_equal(sp.end_ms, t + 2 * H);
	near(sp.cpu, 2);
	struct usage_piece pc[4];
	assert_int_equal(usage_split(&sp, &r, pc, 4), 1);
	assert_string_equal(pc[0].day, "2026-12-01");
	assert_int_equal(pc[0].running_ms, 2 * H);
	near(pc[0].cpu_core_hours, 4);
	near(pc[0].memory_gb_hours, 8);
	near(pc[0].storage_gb_hours, 20);
	near(pc[0].cost, 4 * 0.05 + 8 * 0.01 + 20 * 0.10 / 730);
	usage_rec_add(rec, &pc[0]);
	/* Hibernated: no compute, the volume still costs. */
	assert_int_equal(apply(rec, cfg, "session.woken", "{}", t + 5 * H, 4, &sp), USAGE_APPLIED);
	assert_true(sp.any && !sp.running);
	assert_int_equal(usage_split(&sp, &r, pc, 4), 1);
	assert_int_equal(pc[0].hibernated_ms, 3 * H);
	assert_int_equal(pc[0].running_ms, 0);
	near(pc[0].cpu_core_hours, 0);
	near(pc[0].cost, 30 * 0.10 / 730);
	usage_rec_add(rec, &pc[0]);
	assert_int_equal(apply(rec, cfg, "session.stopped", "{}", t + 6 * H, 5, &sp),
			 USAGE_APPLIED);
	assert_true(sp.any && sp.running);
	assert_int_equal(sp.end_ms - sp.start_ms, H);
	usage_split(&sp, &r, pc, 4);
	usage_rec_add(rec, &pc[0]);
	assert_false(usage_open(rec));
	assert_int_equal(json_object_get_int64(at(rec, "runningMs")), 3 * H);
	assert_int_equal(json_object_get_int64(at(rec, "hibernatedMs")), 3 * H);
	near(json_object_get_double(at(rec, "cost")), 3 * (2 * 0.05 + 4 * 0.01) + 60 * 0.10 / 730);
	/* The same event again (a redelivery): nothing. */
	assert_int_equal(apply(rec, cfg, "session.started", "{}", t + 7 * H, 5, &sp),
			 USAGE_DUPLICATE);
	assert_string_equal(str_at(rec, "state"), "stopped");
	/* Deleted is the end. */
	assert_int_equal(apply(rec, cfg, "session.deleted", "{}", t + 8 * H, 6, &sp),
			 USAGE_APPLIED);
	assert_false(sp.any);
	assert_int_equal(apply(rec, cfg, "session.started", "{}", t + 9 * H, 7, &sp),
			 USAGE_IGNORED);
	assert_int_equal(apply(rec, cfg, "user.created", "{}", t, 8, &sp), USAGE_IGNORED);
	json_object_put(rec);
	json_object_put(cfg);
}

static void test_rates_defaults_late_and_checkpoint(void **state)
{
	(void)state;
	json_object *cfg = parse("{\"computeRates\":{\"cpu_per_core_hour\":1,"
				 "\"memory_per_gb_hour\":0.5,\"storage_per_gb_month\":0},"
				 "\"defaultResources\":{\"cpu\":\"500m\",\"memory\":1}}");
	json_object *rec = json_object_new_object();
	struct usage_span sp;
	struct usage_rates r;
	struct usage_piece pc[4];
	usage_rates_of(cfg, &r);
	near(r.cpu_per_core_hour, 1);
	near(r.storage_per_gb_month, 0);
	/* No created: started first, resources from defaultResources, the user from userId. */
	assert_int_equal(apply(rec, cfg, "session.started", "{\"userId\":\"bob\"}", DAY0, 0, &sp),
			 USAGE_APPLIED);
	assert_string_equal(str_at(rec, "user"), "bob");
	near(json_object_get_double(at(rec, "cpu")), 0.5);
	near(json_object_get_double(at(rec, "memoryGi")), 1);
	/* Started again: no transition, nothing closed. */
	assert_int_equal(apply(rec, cfg, "session.started", "{}", DAY0 + H, 0, &sp), USAGE_APPLIED);
	assert_false(sp.any);
	/* The hourly checkpoint closes the open hour and moves since. */
	assert_true(usage_checkpoint(rec, DAY0 + H, &sp));
	assert_int_equal(sp.end_ms - sp.start_ms, H);
	assert_int_equal(usage_split(&sp, &r, pc, 4), 1);
	near(pc[0].cost, 0.5 * 1 + 1 * 0.5);
	assert_int_equal(json_object_get_int64(at(rec, "since")), DAY0 + H);
	assert_false(usage_checkpoint(rec, DAY0 + H, &sp));
	/* A late event: the state moves, nothing is billed backwards, since stays. */
	assert_int_equal(apply(rec, cfg, "session.hibernated", "{}", DAY0 + H / 2, 0, &sp),
			 USAGE_APPLIED);
	assert_false(sp.any);
	assert_string_equal(str_at(rec, "state"), "hibernated");
	assert_int_equal(json_object_get_int64(at(rec, "since")), DAY0 + H);
	/* Numbers as cores and GiB, at the top level; a bad quantity keeps the old value. */
	assert_int_equal(apply(rec, cfg, "session.woken", "{\"cpu\":4,\"memory\":\"lots\"}",
			       DAY0 + 2 * H, 0, &sp),
			 USAGE_APPLIED);
	near(json_object_get_double(at(rec, "cpu")), 4);
	near(json_object_get_double(at(rec, "memoryGi")), 1);
	json_object_put(rec);
	json_object_put(cfg);
}

static void test_split_days(void **state)
{
	(void)state;
	struct usage_rates r = {1, 0, 0};
	struct usage_span sp = {
	    .any = true, .running = true, .start_ms = DAY0 - H, .end_ms = DAY0 + 2 * H, .cpu = 1};
	struct usage_piece pc[3];
	assert_int_equal(usage_split(&sp, &r, pc, 3), 2);
	assert_string_equal(pc[0].day, "2026-11-30");
	assert_int_equal(pc[0].running_ms, H);
	assert_string_equal(pc[1].day, "2026-12-01");
	assert_int_equal(pc[1].running_ms, 2 * H);
	near(pc[0].cost + pc[1].cost, 3);
	/* Three days into at most two pieces: the last runs to the end. */
	sp.end_ms = DAY0 + 2 * ISOTIME_DAY_MS;
	assert_int_equal(usage_split(&sp, &r, pc, 2), 2);
	assert_int_equal(pc[0].running_ms + pc[1].running_ms, sp.end_ms - sp.start_ms);
	sp.any = false;
	assert_int_equal(usage_split(&sp, &r, pc, 3), 0);
}

static void test_day_month_report(void **state)
{
	(void)state;
	json_object *days = json_object_new_array();
	struct usage_piece a = {"2026-12-01", 2 * H, 0, 2, 4, 0, 0.28, 0, 0};
	struct usage_piece b = {"2026-12-01", H, H, 1, 2, 0, 0.14, 0, 0};
	struct usage_piece c = {"2026-12-02", 3 * H, 0, 3, 0, 0, 0.15, 0, 0};
	json_object *d1 = json_object_new_object(), *d2 = json_object_new_object();
	json_object *d3 = json_object_new_object();
	usage_day_add(d1, "alice", "s1", &a);
	usage_day_add(d1, "alice", "s2", &b);
	usage_day_add(d1, "alice", "s1", &b);
	usage_day_add(d2, "alice", "s1", &c);
	usage_day_add(d3, "bob, \"the\" builder", "s9", &c);
	assert_string_equal(str_at(d1, "user"), "alice");
	assert_string_equal(str_at(d1, "day"), "2026-12-01");
	assert_int_equal(json_object_get_int64(at(d1, "runningMs")), 4 * H);
	assert_int_equal(json_object_get_int64(at(d1, "hibernatedMs")), 2 * H);
	near(json_object_get_double(at(d1, "cost")), 0.56);
	near(json_object_get_double(at(d1, "cpuCoreHours")), 4);
	assert_int_equal(json_object_get_int64(at(d1, "sessions/s1/runningMs")), 3 * H);
	near(json_object_get_double(at(d1, "sessions/s2/cost")), 0.14);
	json_object_array_add(days, d3);
	json_object_array_add(days, d2);
	json_object_array_add(days, d1);

	json_object *rep = usage_report(days, "2026-12-01", "2026-12-31");
	assert_string_equal(str_at(rep, "from"), "2026-12-01");
	assert_int_equal(json_object_array_length(at(rep, "users")), 2);
	assert_string_equal(str_at(rep, "users/0/user"), "alice");
	near(json_object_get_double(at(rep, "users/0/runningHours")), 7);
	near(json_object_get_double(at(rep, "users/0/hibernatedHours")), 2);
	near(json_object_get_double(at(rep, "users/0/cost")), 0.71);
	assert_string_equal(str_at(rep, "users/0/days/0/day"), "2026-12-01");
	assert_string_equal(str_at(rep, "users/0/days/1/day"), "2026-12-02");
	assert_string_equal(str_at(rep, "users/0/sessions/0/session"), "s1");
	near(json_object_get_double(at(rep, "users/0/sessions/0/runningHours")), 6);
	assert_string_equal(str_at(rep, "users/1/user"), "bob, \"the\" builder");
	near(json_object_get_double(at(rep, "total/cost")), 0.86);
	json_object_put(rep);
	/* A range of one day; an empty range has zero totals. */
	rep = usage_report(days, "2026-12-02", "2026-12-02");
	near(json_object_get_double(at(rep, "users/0/cost")), 0.15);
	assert_int_equal(json_object_array_length(at(rep, "users/0/days")), 1);
	json_object_put(rep);
	rep = usage_report(days, "2027-01-01", NULL);
	assert_int_equal(json_object_array_length(at(rep, "users")), 0);
	near(json_object_get_double(at(rep, "total/cost")), 0);
	assert_true(json_object_object_get_ex(rep, "to", NULL) && !at(rep, "to"));
	json_object_put(rep);

	char *csv = usage_csv(days, NULL, "2026-12-01");
	assert_string_equal(csv, "day,user,session,running_hours,hibernated_hours,cost\r\n"
				 "2026-12-01,alice,s1,3.0000,1.0000,0.420000\r\n"
				 "2026-12-01,alice,s2,1.0000,1.0000,0.140000\r\n");
	free(csv);
	csv = usage_csv(days, "2026-12-02", NULL);
	assert_non_null(strstr(csv, "2026-12-02,\"bob, \"\"the\"\" builder\",s9,3.0000,"));
	free(csv);
	json_object_put(days);

	/* Month: the quota's threshold crossed once. */
	json_object *m = json_object_new_object(),
		    *cfg = parse("{\"monthlyQuota\":10,\"userQuotas\":{\"vip\":100,\"free\":0}}");
	near(usage_quota_of(cfg, "alice"), 10);
	near(usage_quota_of(cfg, "vip"), 100);
	near(usage_quota_of(cfg, "free"), 0);
	assert_false(usage_month_add(m, "alice", "2026-12", 7.9, 10, 80));
	assert_true(usage_month_add(m, "alice", "2026-12", 0.2, 10, 80));
	assert_false(usage_month_add(m, "alice", "2026-12", 5, 10, 80));
	near(json_object_get_double(at(m, "cost")), 13.1);
	assert_string_equal(str_at(m, "month"), "2026-12");
	json_object_put(m);
	m = json_object_new_object(); /* no quota: never an alert */
	assert_false(usage_month_add(m, "free", "2026-12", 1e9, 0, 80));
	json_object_put(m);
	json_object_put(cfg);

	char key[16];
	assert_true(usage_key_part("a/b%c", key, sizeof key));
	assert_string_equal(key, "a%2Fb%25c");
	assert_false(usage_key_part("", key, sizeof key));
	assert_false(usage_key_part("0123456789abcdef", key, sizeof key));
}

/* Adds each piece of span that day[i] / month lack (billing.c's account_piece, without storage). */
static void bill(json_object **day, json_object *month, const char *session,
		 const struct usage_span *sp, const struct usage_rates *r, bool write_month)
{
	struct usage_piece pc[4], part;
	int n = usage_split(sp, r, pc, 4);
	for (int i = 0; i < n; i++) {
		if (usage_unbilled(day[i], session, sp, r, &pc[i], &part))
			usage_day_add(day[i], "alice", session, &part);
		if (write_month && usage_unbilled(month, session, sp, r, &pc[i], &part))
			usage_month_add(month, "alice", "2026-12", part.cost, 0, 80);
	}
}

/*
 * A crash between the day, month and session writes, then the event again
 * (or the next checkpoint from the session record as it was): each total
 * gets only what it lacks, never a stretch twice.
 */
static void test_crash_between_writes(void **state)
{
	(void)state;
	json_object *cfg = parse("{\"computeRates\": {\"cpu_per_core_hour\": 1, "
				 "\"memory_per_gb_hour\": 0, \"storage_per_gb_month\": 0}}");
	json_object *rec = json_object_new_object();
	json_object *day[2] = {json_object_new_object(), json_object_new_object()};
	json_object *month = json_object_new_object();
	struct usage_span sp;
	struct usage_rates r;
	usage_rates_of(cfg, &r);
	assert_int_equal(apply(rec, cfg, "session.started", "{\"user\":\"alice\",\"cpu\":1}",
			       DAY0 - 2 * H, 1, &sp),
			 USAGE_APPLIED);
	/* The stop's first delivery writes the two day records, then the host dies. */
	json_object *saved = NULL;
	json_object_deep_copy(rec, &saved, NULL);
	assert_int_equal(apply(rec, cfg, "session.stopped", "{}", DAY0 + 2 * H, 2, &sp),
			 USAGE_APPLIED);
	bill(day, month, "s1", &sp, &r, false);
	json_object_put(rec);
	/* Redelivered to the session record as stored (without event 2). */
	assert_int_equal(apply(saved, cfg, "session.stopped", "{}", DAY0 + 2 * H, 2, &sp),
			 USAGE_APPLIED);
	bill(day, month, "s1", &sp, &r, true);
	assert_int_equal(json_object_get_int64(at(day[0], "runningMs")), 2 * H);
	assert_int_equal(json_object_get_int64(at(day[1], "runningMs")), 2 * H);
	near(json_object_get_double(at(day[0], "cost")), 2);
	near(json_object_get_double(at(month, "cost")), 4); /* written once, whole */
	/* Again (a second redelivery): nothing more anywhere. */
	bill(day, month, "s1", &sp, &r, true);
	assert_int_equal(json_object_get_int64(at(day[1], "runningMs")), 2 * H);
	near(json_object_get_double(at(month, "cost")), 4);
	json_object_put(saved);

	/* A checkpoint that wrote day[1] but not the session: the next one adds the rest only. */
	rec = json_object_new_object();
	assert_int_equal(apply(rec, cfg, "session.started", "{\"user\":\"alice\",\"cpu\":1}",
			       DAY0 + 10 * H, 3, &sp),
			 USAGE_APPLIED);
	saved = NULL; /* deep_copy wants an empty destination */
	json_object_deep_copy(rec, &saved, NULL);
	assert_true(usage_checkpoint(rec, DAY0 + 11 * H, &sp));
	json_object *d[2] = {day[1], NULL};
	bill(d, month, "s2", &sp, &r, false);
	assert_true(usage_checkpoint(saved, DAY0 + 12 * H, &sp));
	bill(d, month, "s2", &sp, &r, true);
	near(json_object_get_double(at(day[1], "sessions/s2/runningMs")), 2 * H);
	assert_int_equal(json_object_get_int64(at(day[1], "runningMs")), 4 * H);
	near(json_object_get_double(at(month, "cost")), 4 + 2);
	assert_int_equal(json_object_get_int64(at(day[1], "billedTo/s2")), DAY0 + 12 * H);
	json_object_put(rec);
	json_object_put(saved);
	json_object_put(day[0]);
	json_object_put(day[1]);
	json_object_put(month);
	json_object_put(cfg);
}

/*
 * A month of many sessions: the month record keeps at most 1000 billedTo
 * marks, forgetting the sessions counted up to the earliest times; the
 * latest keep theirs, so their redelivered events still add nothing.
 */
static void test_billed_to_bounded(void **state)
{
	(void)state;
	json_object *cfg = parse("{\"computeRates\": {\"cpu_per_core_hour\": 1, "
				 "\"memory_per_gb_hour\": 0, \"storage_per_gb_month\": 0}}");
	json_object *month = json_object_new_object(), *marks;
	struct usage_rates r;
	struct usage_piece part;
	char session[32];
	int billed = 0;

	usage_rates_of(cfg, &r);
	for (int i = 0; i < 1500; i++) {
		/* Session i ran one minute, ending i minutes into the day. */
		struct usage_span sp = {.any = true,
					.running = true,
					.cpu = 1,
					.start_ms = DAY0 + (int64_t)i * 60000,
					.end_ms = DAY0 + (int64_t)(i + 1) * 60000};
		struct usage_piece pc[1];

		snprintf(session, sizeof session, "s%d", i);
		assert_int_equal(usage_split(&sp, &r, pc, 1), 1);
		if (usage_unbilled(month, session, &sp, &r, &pc[0], &part))
			billed++;
		/* The same event again at once: nothing more. */
		assert_false(usage_unbilled(month, session, &sp, &r, &pc[0], &part));
	}
	assert_int_equal(billed, 1500);
	marks = at(month, "billedTo");
	assert_int_equal(json_object_object_length(marks), 1000);
	assert_null(json_object_object_get(marks, "s0"));
	assert_null(json_object_object_get(marks, "s499"));
	assert_int_equal(json_object_get_int64(at(month, "billedTo/s500")), DAY0 + 501 * 60000LL);
	assert_int_equal(json_object_get_int64(at(month, "billedTo/s1499")), DAY0 + 1500 * 60000LL);
	json_object_put(month);
	json_object_put(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_quantity),
	    cmocka_unit_test(test_lifecycle),
	    cmocka_unit_test(test_rates_defaults_late_and_checkpoint),
	    cmocka_unit_test(test_split_days),
	    cmocka_unit_test(test_day_month_report),
	    cmocka_unit_test(test_crash_between_writes),
	    cmocka_unit_test(test_billed_to_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
