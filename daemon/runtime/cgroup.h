/*
 * Per-plugin cgroup v2 limits, where the daemon has a delegated cgroup v2
 * subtree (systemd's Delegate=yes): each host runs in its own child cgroup
 * with memory.max and pids.max, on top of the host's own rlimits. Without
 * a delegated subtree (cgroup v1, no write access, controllers missing) the
 * daemon says why once and relies on the rlimits.
 */
#ifndef SS_CGROUP_H
#define SS_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cgroup;

/*
 * Takes the daemon's own cgroup (from /proc/self/cgroup, under mount) for
 * its plugins: moves the daemon into a "daemon" leaf (cgroup v2 allows no
 * processes in a cgroup that hands controllers down) and enables memory and
 * pids below it. check_fs false skips the cgroup2 filesystem check and self
 * names the cgroup directly (tests on a plain directory). NULL with why.
 */
struct cgroup *cgroup_open(const char *mount, const char *self, bool check_fs, char *why,
			   size_t whylen);
void cgroup_free(struct cgroup *cg);

/*
 * Makes the plugin's cgroup (plugin-<name>) with its limits and returns an
 * fd of its cgroup.procs for the child to write "0" into before exec, so the
 * host is inside before it runs anything. -1 with a message.
 */
int cgroup_prepare(struct cgroup *cg, const char *name, uint64_t mem_max, unsigned pids_max,
		   char *err, size_t errlen);
/* Removes the plugin's cgroup once its host is gone (fails quietly while busy). */
void cgroup_release(struct cgroup *cg, const char *name);
/* The directory plugin cgroups are made in. */
const char *cgroup_base(const struct cgroup *cg);

#endif
