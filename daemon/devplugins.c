/*
 * The --plugin [NAME=]PATH plugins (a developer's, run without a database):
 * the start-up check that the hosts' user can read them, and their runs.
 */
#define _GNU_SOURCE
#include "devplugins.h"

#include <json-c/json.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "discovery.h"
#include "egress.h"
#include "hostuser.h"
#include "jobs.h"
#include "log.h"
#include "manifest.h"
#include "names.h"
#include "secrets.h"
#include "supervisor.h"
#include "xmalloc.h"

/*
 * Starts (or, on SIGHUP, restarts) the --plugin [NAME=]PATH plugins: name,
 * permissions, default config and limits from the manifest.json beside the
 * .so when there is one, else the file name and the read permissions a
 * developer's plugin expects.
 */
void devplugins_run(const struct config *cfg, const struct discovery *builtins,
		    struct egress *egress, struct jobs *jobs, struct supervisor *sup,
		    void (*started)(const char *name, void *arg), void *started_arg)
{
	for (size_t i = 0; i < cfg->nplugins; i++) {
		const char *arg = cfg->plugins[i], *eq = strchr(arg, '=');
		const char *path = eq ? eq + 1 : arg;
		char *dir = xstrdup(path), *base = xstrdup(path), *mpath, *name = NULL;
		struct plugin_spec spec = {.path = path};
		struct manifest *m = NULL;
		json_object *perms = NULL;
		char err[512];

		mpath = xasprintf("%s/manifest.json", dirname(dir));
		if (name_builtin(path) != NULL) {
			/* Compiled into the host: its manifest comes from the host's list. */
			const struct discovered *b = discovery_find(builtins, name_builtin(path));
			if (b == NULL) {
				log_error("config",
					  "--plugin %s: the plugin host has no such built-in", arg);
				goto next;
			}
			m = manifest_from_json(b->manifest->json, err, sizeof err);
		} else if (access(mpath, F_OK) == 0 &&
			   (m = manifest_read_file(mpath, err, sizeof err)) == NULL) {
			log_error("config", "--plugin %s: %s", arg, err);
			goto next;
		}
		if (eq != NULL) {
			name = xstrndup(arg, (size_t)(eq - arg));
		} else if (m != NULL) {
			name = xstrdup(m->name);
		} else {
			char *b = basename(base);
			size_t n = strlen(b);
			if (n > 3 && strcmp(b + n - 3, ".so") == 0)
				b[n - 3] = '\0';
			name = xstrdup(b);
		}
		if (m != NULL) {
			spec.permissions = m->permissions;
			egress_set_hosts(egress, name, m->allowed_hosts);
			jobs_set_manifest(jobs, name, m->jobs);
			spec.config = m->default_config;
			spec.mem_limit = m->mem_limit;
			spec.event_timeout_ms = m->event_timeout_ms;
			spec.handshake_timeout_ms = m->handshake_timeout_ms;
			spec.secrets = secrets_values(m->default_config, m->config_schema);
		} else {
			perms = json_object_new_array();
			json_object_array_add(perms, json_object_new_string("read:sessions"));
			json_object_array_add(perms, json_object_new_string("read:users"));
			spec.permissions = perms;
			egress_set_hosts(egress, name, NULL);
			jobs_set_manifest(jobs, name, NULL);
		}
		spec.name = name;
		if (!name_plugin_valid(name))
			log_error("config", "--plugin %s: \"%s\" is not a valid plugin name", arg,
				  name);
		else if (supervisor_run(sup, &spec, NULL, NULL, err, sizeof err) < 0)
			log_error("config", "--plugin %s: %s", arg, err);
		else if (started != NULL)
			started(name, started_arg);
	next:
		json_object_put(spec.secrets);
		json_object_put(perms);
		manifest_free(m);
		free(name);
		free(mpath);
		free(dir);
		free(base);
	}
}

/*
 * Refuses to start when the user the plugin hosts run as (nobody, under a
 * root daemon) cannot read the plugin directory or a --plugin's directory
 * and file: every start of every plugin there would fail in the host's
 * sandbox setup. The message names the path and the user. A plugin
 * directory that does not exist yet is created later (0755) and passes.
 */
int devplugins_readable(const struct config *cfg)
{
	/* Every path in one check (one fork as root), each directory once. */
	size_t cap = 2 * cfg->nplugins + 1, n = 0;
	struct hostuser_path *paths = xcalloc(cap, sizeof *paths);
	int *errs = xcalloc(cap, sizeof *errs);
	char **dirs = xcalloc(cap, sizeof *dirs);
	const char **args = xcalloc(cap, sizeof *args);
	size_t *dir_of = xcalloc(cap, sizeof *dir_of); /* a file's directory entry */
	char err[512];
	int rc = 0;

	if (cfg->plugin_dir != NULL && cfg->database != NULL && access(cfg->plugin_dir, F_OK) == 0)
		paths[n++] = (struct hostuser_path){.path = cfg->plugin_dir, .dir = true};
	for (size_t i = 0; i < cfg->nplugins; i++) {
		const char *eq = strchr(cfg->plugins[i], '=');
		const char *path = eq ? eq + 1 : cfg->plugins[i];
		size_t d = 0;

		if (name_builtin(path) != NULL)
			continue;
		dirs[n] = xstrdup(path);
		dirname(dirs[n]);
		while (d < n && !(paths[d].dir && strcmp(paths[d].path, dirs[n]) == 0))
			d++;
		if (d < n) {
			free(dirs[n]);
			dirs[n] = NULL;
		} else {
			args[n] = cfg->plugins[i];
			paths[n++] = (struct hostuser_path){.path = dirs[d], .dir = true};
		}
		dir_of[n] = d;
		args[n] = cfg->plugins[i];
		paths[n++] = (struct hostuser_path){.path = path, .dir = false};
	}
	for (size_t i = 0; i < n; i++)
		paths[i].err = &errs[i];
	hostuser_check(paths, n);
	for (size_t i = 0; i < n; i++) {
		/* A plugin whose directory is closed is named once, for the directory. */
		if (errs[i] == 0 || (!paths[i].dir && errs[dir_of[i]] != 0))
			continue;
		hostuser_message(paths[i].path, paths[i].dir, errs[i], err, sizeof err);
		if (args[i] != NULL)
			log_error("streamspaced", "--plugin %s: %s", args[i], err);
		else
			log_error("streamspaced", "%s", err);
		rc = -1;
	}
	for (size_t i = 0; i < n; i++)
		free(dirs[i]);
	free(dir_of);
	free(args);
	free(dirs);
	free(errs);
	free(paths);
	return rc;
}
