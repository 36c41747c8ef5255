/*
 * schedule: a shipped plugin's one job, on the manifest's schedule or on the
 * operator's own: config[config_key], a cron expression or "@every N", when
 * it is set (billing's usageCalculationInterval, compliance's
 * retentionSchedule).
 */
#ifndef SS_PLUGINS_SCHEDULE_H
#define SS_PLUGINS_SCHEDULE_H

#include <streamspace/plugin.h>

/*
 * Binds fn to the manifest's job named job, or, with config_key set, runs it
 * as "<job>-custom" on that schedule. Call from on_load. 0, or -1 with
 * "<what> job (<schedule>|manifest): <why>" logged.
 */
int schedule_bind(ss_plugin *p, const char *config_key, const char *job, const char *what,
		  ss_job_fn fn);

#endif
