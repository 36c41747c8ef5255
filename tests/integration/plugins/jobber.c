/*
 * jobber: declares the scheduled jobs its configuration names and logs
 * every outcome, for test_jobs.py and pg/test_jobs_installed.py. Built under
 * several names (JOBBER_NAME) whose manifests the tests write: the
 * configuration ("defaultConfig") says what on_load does.
 *
 *   "every": [{"name", "seconds"}]    ss_every
 *   "cron": [{"name", "schedule"}]     ss_cron
 *   "bind": [name...]                  ss_job (a job of the manifest)
 *   "slow_ms": N                       the job "slow" sleeps N ms per run
 *   "subscribe": [pattern...]          logs "event <type> <data>" for each
 *
 * Lines: "declare <call> <name> r=<result> code=<code> msg=<message>" per
 * declaration, "run <job> <n>" per run (n counts this host's runs of it),
 * "subscribe <pattern> r=<result>". A session.created event with data
 * {"crash": "<job>"} makes that job's next run abort the host (with "who":
 * "<plugin>", only that plugin's).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <streamspace/plugin.h>

#ifndef JOBBER_NAME
#define JOBBER_NAME "jobber"
#endif

#define JOBS 40

static struct {
	char name[64];
	long runs;
} counts[JOBS];
static char crash_next[64]; /* the job whose next run aborts */
static int64_t slow_ms;

static long count_run(const char *job)
{
	for (int i = 0; i < JOBS; i++) {
		if (counts[i].name[0] == '\0')
			strncpy(counts[i].name, job, sizeof counts[i].name - 1);
		if (strcmp(counts[i].name, job) == 0)
			return ++counts[i].runs;
	}
	return -1;
}

static int run(ss_plugin *p, const char *job)
{
	long n = count_run(job);

	if (crash_next[0] != '\0' && strcmp(crash_next, job) == 0) {
		ss_log(p, SS_WARN, "crashing in %s", job);
		abort();
	}
	if (strcmp(job, "slow") == 0 && slow_ms > 0)
		usleep((useconds_t)(slow_ms * 1000));
	ss_log(p, SS_INFO, "run %s %ld", job, n);
	/* A job called "failing" reports a failure on every run. */
	return strcmp(job, "failing") == 0 ? 1 : 0;
}

static int on_event(ss_plugin *p, const ss_event *ev)
{
	const char *crash = ss_event_str(ev, "crash"), *who = ss_event_str(ev, "who");

	/* "who", when given, names the one plugin meant. */
	if (crash != NULL && strcmp(ss_event_type(ev), "session.created") == 0 &&
	    (who == NULL || strcmp(who, ss_plugin_name(p)) == 0)) {
		strncpy(crash_next, crash, sizeof crash_next - 1);
		ss_log(p, SS_INFO, "armed crash in %s", crash_next);
	}
	ss_log(p, SS_INFO, "event %s %s", ss_event_type(ev),
	       json_object_to_json_string_ext(ss_event_data(ev), JSON_C_TO_STRING_PLAIN));
	return 0;
}

static void logged(ss_plugin *p, const char *call, const char *name, int r)
{
	ss_log(p, SS_INFO, "declare %s %s r=%d code=%s msg=%s", call, name, r, ss_error_code(p),
	       ss_error_message(p));
}

static const char *str_of(json_object *o, const char *k)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int on_load(ss_plugin *p)
{
	json_object *cfg = ss_config(p), *a;

	slow_ms = ss_config_int(p, "slow_ms", 0);
	if (json_object_object_get_ex(cfg, "every", &a))
		for (size_t i = 0; i < json_object_array_length(a); i++) {
			json_object *j = json_object_array_get_idx(a, i), *s = NULL;
			const char *name = str_of(j, "name");

			json_object_object_get_ex(j, "seconds", &s);
			logged(p, "every", name, ss_every(p, name, json_object_get_int64(s), run));
		}
	if (json_object_object_get_ex(cfg, "cron", &a))
		for (size_t i = 0; i < json_object_array_length(a); i++) {
			json_object *j = json_object_array_get_idx(a, i);
			const char *name = str_of(j, "name");

			logged(p, "cron", name, ss_cron(p, name, str_of(j, "schedule"), run));
		}
	if (json_object_object_get_ex(cfg, "bind", &a))
		for (size_t i = 0; i < json_object_array_length(a); i++) {
			const char *name = json_object_get_string(json_object_array_get_idx(a, i));

			logged(p, "job", name, ss_job(p, name, run));
		}
	if (json_object_object_get_ex(cfg, "subscribe", &a))
		for (size_t i = 0; i < json_object_array_length(a); i++) {
			const char *pat = json_object_get_string(json_object_array_get_idx(a, i));

			ss_log(p, SS_INFO, "subscribe %s r=%d", pat,
			       ss_subscribe(p, pat, on_event));
		}
	return 0;
}

/* After on_load, declaring a job is refused by the SDK itself. */
static int on_config(ss_plugin *p, json_object *config)
{
	(void)config;
	logged(p, "every-late", "late", ss_every(p, "late", 1, run));
	return 0;
}

SS_PLUGIN(.name = JOBBER_NAME, .version = "1.0.0", .on_load = on_load, .on_config = on_config);
