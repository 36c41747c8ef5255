#include "hostfds.h"

#include <stdio.h>
#include <sys/resource.h>

size_t hostfds_max(unsigned long long nofile, int max_starting)
{
	unsigned long long fixed =
	    HOSTFDS_RESERVED + HOSTFDS_SPAWN + (unsigned long long)max_starting * HOSTFDS_STARTING;

	return nofile <= fixed ? 0 : (size_t)((nofile - fixed) / HOSTFDS_PER_HOST);
}

int hostfds_check(size_t running, int max_starting, char *err, size_t errlen)
{
	struct rlimit rl;
	size_t max;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		return 0;
	max = hostfds_max((unsigned long long)rl.rlim_cur, max_starting);
	if (running < max)
		return 0;
	snprintf(err, errlen,
		 "%zu plugin hosts run, the most an open-file limit of %llu allows with "
		 "--max-starting %d (%d descriptors each, %d kept for the rest; raise LimitNOFILE= "
		 "or ulimit -n)",
		 max, (unsigned long long)rl.rlim_cur, max_starting, HOSTFDS_PER_HOST,
		 HOSTFDS_RESERVED);
	return -1;
}
