#include "schedule.h"

#include <stdio.h>

int schedule_bind(ss_plugin *p, const char *config_key, const char *job, const char *what,
		  ss_job_fn fn)
{
	const char *at = ss_config_str(p, config_key, "");
	char custom[64];
	snprintf(custom, sizeof custom, "%s-custom", job);
	int r = *at ? ss_cron(p, custom, at, fn) : ss_job(p, job, fn);
	if (r == SS_OK)
		return 0;
	ss_log(p, SS_ERROR, "%s job (%s): %s", what, *at ? at : "manifest", ss_error_message(p));
	return -1;
}
