#define _GNU_SOURCE
#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "xmalloc.h"

struct cgroup {
	char *base; /* the delegated cgroup, parent of "daemon" and "plugin-*" */
};

/* Writes text into dir/file (which must exist on a real cgroupfs). 0 or -1. */
static int write_file(const char *dir, const char *file, const char *text)
{
	char *path = xasprintf("%s/%s", dir, file);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), r = -1;

	free(path);
	if (fd < 0)
		return -1;
	if (write(fd, text, strlen(text)) == (ssize_t)strlen(text))
		r = 0;
	if (close(fd) < 0)
		r = -1;
	return r;
}

/* Whether dir/cgroup.controllers lists every controller we need. */
static bool has_controllers(const char *dir)
{
	char *path = xasprintf("%s/cgroup.controllers", dir), buf[512] = "";
	FILE *f = fopen(path, "re");
	bool mem = false, pids = false;

	free(path);
	if (f == NULL)
		return false;
	if (fgets(buf, sizeof buf, f) != NULL) {
		for (char *save = NULL, *w = strtok_r(buf, " \n", &save); w;
		     w = strtok_r(NULL, " \n", &save)) {
			mem |= strcmp(w, "memory") == 0;
			pids |= strcmp(w, "pids") == 0;
		}
	}
	fclose(f);
	return mem && pids;
}

/* The daemon's cgroup v2 path ("0::/x/y" in /proc/self/cgroup), or NULL. */
static char *self_cgroup(void)
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	char line[4096];
	char *out = NULL;

	if (f == NULL)
		return NULL;
	while (fgets(line, sizeof line, f) != NULL) {
		if (strncmp(line, "0::", 3) == 0) {
			line[strcspn(line, "\n")] = '\0';
			out = xstrdup(line + 3);
			break;
		}
	}
	fclose(f);
	return out;
}

struct cgroup *cgroup_open(const char *mount, const char *self, bool check_fs, char *why,
			   size_t whylen)
{
	struct statfs sf;
	char *rel = NULL, *dir = NULL, *leaf = NULL;
	struct cgroup *cg = NULL;

	if (check_fs && (statfs(mount, &sf) < 0 || sf.f_type != CGROUP2_SUPER_MAGIC)) {
		snprintf(why, whylen, "%s is not a cgroup v2 filesystem", mount);
		goto out;
	}
	rel = self ? xstrdup(self) : self_cgroup();
	if (rel == NULL) {
		snprintf(why, whylen, "no cgroup v2 entry in /proc/self/cgroup");
		goto out;
	}
	dir = xasprintf("%s%s", mount, strcmp(rel, "/") == 0 ? "" : rel);
	if (access(dir, W_OK) < 0) {
		snprintf(why, whylen, "%s is not delegated to us: %s", dir, strerror(errno));
		goto out;
	}
	if (!has_controllers(dir)) {
		snprintf(why, whylen, "%s does not offer the memory and pids controllers", dir);
		goto out;
	}
	/* No processes in a cgroup that hands controllers down: the daemon moves to a leaf. */
	leaf = xasprintf("%s/daemon", dir);
	if (mkdir(leaf, 0755) < 0 && errno != EEXIST) {
		snprintf(why, whylen, "mkdir %s: %s", leaf, strerror(errno));
		goto out;
	}
	if (write_file(leaf, "cgroup.procs", "0") < 0) {
		snprintf(why, whylen, "moving the daemon into %s: %s", leaf, strerror(errno));
		goto out;
	}
	if (write_file(dir, "cgroup.subtree_control", "+memory +pids") < 0) {
		snprintf(why, whylen, "enabling memory and pids in %s: %s", dir, strerror(errno));
		goto out;
	}
	cg = xcalloc(1, sizeof *cg);
	cg->base = dir;
	dir = NULL;
out:
	free(leaf);
	free(dir);
	free(rel);
	return cg;
}

void cgroup_free(struct cgroup *cg)
{
	if (cg == NULL)
		return;
	free(cg->base);
	free(cg);
}

const char *cgroup_base(const struct cgroup *cg)
{
	return cg->base;
}

int cgroup_prepare(struct cgroup *cg, const char *name, uint64_t mem_max, unsigned pids_max,
		   char *err, size_t errlen)
{
	char *dir = xasprintf("%s/plugin-%s", cg->base, name), *path = NULL, num[32];
	int fd = -1;

	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "mkdir %s: %s", dir, strerror(errno));
		goto out;
	}
	snprintf(num, sizeof num, "%" PRIu64, mem_max);
	if (write_file(dir, "memory.max", num) < 0) {
		snprintf(err, errlen, "%s/memory.max: %s", dir, strerror(errno));
		goto out;
	}
	/* No swap to escape memory.max into; absent without swap accounting. */
	char *swap = xasprintf("%s/memory.swap.max", dir);
	if (access(swap, F_OK) == 0 && write_file(dir, "memory.swap.max", "0") < 0) {
		snprintf(err, errlen, "%s: %s", swap, strerror(errno));
		free(swap);
		goto out;
	}
	free(swap);
	snprintf(num, sizeof num, "%u", pids_max);
	if (write_file(dir, "pids.max", num) < 0) {
		snprintf(err, errlen, "%s/pids.max: %s", dir, strerror(errno));
		goto out;
	}
	path = xasprintf("%s/cgroup.procs", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
out:
	free(path);
	free(dir);
	return fd;
}

void cgroup_release(struct cgroup *cg, const char *name)
{
	char *dir = xasprintf("%s/plugin-%s", cg->base, name);
	(void)rmdir(dir);
	free(dir);
}
