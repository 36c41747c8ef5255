#include "landlock.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "diag.h"
#include "xmalloc.h"

/* Rights newer than the uapi header of the build machine (they are ABI, not API). */
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0)
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)
#endif

/*
 * The ruleset attribute as of ABI 6. The kernel takes a size and reads only
 * the members that existed at our ABI, so older kernels get a shorter size.
 */
struct host_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net; /* ABI 4 */
	uint64_t scoped;	     /* ABI 6 */
};

/* Read-only system paths ld.so may need; missing ones are skipped. */
static const char *const system_paths[] = {
    "/lib", "/lib64", "/usr/lib", "/usr/lib64", "/usr/local/lib", "/etc/ld.so.cache",
};

/* Every filesystem right the kernel's ABI knows: all of them are handled (denied by default). */
static uint64_t fs_rights(int abi)
{
	uint64_t r = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
		     LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR |
		     LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
		     LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |
		     LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |
		     LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
		     LANDLOCK_ACCESS_FS_MAKE_SYM;
	if (abi >= 2)
		r |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		r |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		r |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return r;
}

/*
 * Grants read access beneath path: reading files (and, for directories,
 * listing them). Returns 0, or -1 when the path does not exist.
 */
static int allow_read(int ruleset, const char *path)
{
	struct landlock_path_beneath_attr rule;
	struct stat st;
	int fd = open(path, O_PATH | O_CLOEXEC);

	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return -1;
		die(HOST_EXIT_SANDBOX, "landlock: open %s: %s", path, strerror(errno));
	}
	if (fstat(fd, &st) < 0)
		die(HOST_EXIT_SANDBOX, "landlock: stat %s: %s", path, strerror(errno));
	memset(&rule, 0, sizeof rule);
	rule.parent_fd = fd;
	rule.allowed_access = LANDLOCK_ACCESS_FS_READ_FILE;
	if (S_ISDIR(st.st_mode))
		rule.allowed_access |= LANDLOCK_ACCESS_FS_READ_DIR;
	if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) < 0)
		die(HOST_EXIT_SANDBOX, "landlock: add rule %s: %s", path, strerror(errno));
	close(fd);
	return 0;
}

void landlock_apply(struct sandbox *sb, const char *plugin_path)
{
	struct host_ruleset_attr attr;
	size_t attr_size;
	char reason[128];
	char *dir;
	int abi, ruleset;

	abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 0) {
		snprintf(reason, sizeof reason, "%s", strerror(errno));
		if (!sandbox_errno_unavailable(errno))
			die(HOST_EXIT_SANDBOX, "landlock: probing the ABI: %s", reason);
		sandbox_unavailable(sb, "landlock", reason);
		return;
	}

	memset(&attr, 0, sizeof attr);
	attr.handled_access_fs = fs_rights(abi);
	attr_size = sizeof attr.handled_access_fs;
	if (abi >= 4) {
		/* No rule grants any port: no TCP bind or connect, netns or not. */
		attr.handled_access_net =
		    LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP;
		attr_size = offsetof(struct host_ruleset_attr, scoped);
	}
	if (abi >= 6) {
		/* Signals and abstract sockets only within this sandbox (i.e. to ourselves). */
		attr.scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL;
		attr_size = sizeof attr;
	}
	ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, attr_size, 0);
	if (ruleset < 0)
		die(HOST_EXIT_SANDBOX, "landlock: create ruleset (ABI %d): %s", abi,
		    strerror(errno));

	/* A built-in plugin (NULL) has no directory: only the system libraries. */
	if (plugin_path != NULL) {
		dir = xstrdup(plugin_path);
		*strrchr(dir, '/') = '\0';
		/* A plugin directly in / would open the whole tree to it. */
		if (dir[0] == '\0')
			die(HOST_EXIT_LOAD, "plugin %s must live in its own directory",
			    plugin_path);
		if (allow_read(ruleset, dir) < 0)
			die(HOST_EXIT_LOAD, "plugin directory of %s not found", plugin_path);
		free(dir);
	}
	for (size_t i = 0; i < sizeof system_paths / sizeof system_paths[0]; i++)
		(void)allow_read(ruleset, system_paths[i]);

	/*
	 * Restricting ourselves needs no_new_privs or CAP_SYS_ADMIN in our user
	 * namespace. With the user namespace in force we have the latter; without
	 * it, no_new_privs is set here rather than in its own step.
	 */
	if (!sb->can_admin && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		die(HOST_EXIT_SANDBOX, "landlock: no_new_privs: %s", strerror(errno));
	if (syscall(SYS_landlock_restrict_self, ruleset, 0) < 0)
		die(HOST_EXIT_SANDBOX, "landlock: restrict_self: %s", strerror(errno));
	close(ruleset);
	layers_on(&sb->layers, "landlock");
}
