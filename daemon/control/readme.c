/* A plugin's README from its installed copy or the plugin directory (readme.h). */
#define _GNU_SOURCE
#include "readme.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileread.h"
#include "registry.h"
#include "utf8.h"
#include "worker.h"
#include "xmalloc.h"

struct readme {
	struct worker *w;
	char *dir;
	struct registry *reg;
};

struct readme_job {
	struct readme *r;
	char *name;
	char *installed; /* the installed version's README.md, or NULL */
	char *path;	 /* the plugin directory's, or NULL: no plugin directory */
	readme_done_fn done;
	void *arg;
	enum readme_status st;
	char *text;
	size_t len;
	char why[512];
};

struct readme *readme_new(struct worker *w, const char *plugin_dir, struct registry *reg)
{
	struct readme *r = xcalloc(1, sizeof *r);

	r->w = w;
	r->reg = reg;
	r->dir = plugin_dir ? xstrdup(plugin_dir) : NULL;
	return r;
}

void readme_free(struct readme *r)
{
	if (r == NULL)
		return;
	free(r->dir);
	free(r);
}

/* On the worker thread: the installed copy's file, else the plugin directory's, checked. */
static void work(void *arg)
{
	struct readme_job *j = arg;
	int missing = 1;

	j->st = README_NONE;
	if (j->installed != NULL)
		j->text = file_read_regular(j->installed, README_MAX, &j->len, &missing, j->why,
					    sizeof j->why);
	if (j->text == NULL && missing && j->path != NULL)
		j->text = file_read_regular(j->path, README_MAX, &j->len, &missing, j->why,
					    sizeof j->why);
	if (j->text == NULL) {
		j->st = missing ? README_NONE : README_BAD;
		return;
	}
	if (!utf8_valid((const unsigned char *)j->text, j->len) || memchr(j->text, '\0', j->len)) {
		snprintf(j->why, sizeof j->why, "README.md is not UTF-8 text");
		free(j->text);
		j->text = NULL;
		j->st = README_BAD;
		return;
	}
	j->st = README_OK;
}

static void done(void *arg, bool cancelled)
{
	struct readme_job *j = arg;

	if (!cancelled)
		j->done(j->arg, j->st, j->text, j->len, j->why);
	else
		j->done(j->arg, README_NONE, NULL, 0, "the daemon is stopping");
	free(j->text);
	free(j->installed);
	free(j->path);
	free(j->name);
	free(j);
}

/* The plugin's row: installed, its version's copy is read first (else, or without the
 * database, the plugin directory's alone). */
static void got_row(const struct verb_result *res, void *arg)
{
	struct readme_job *j = arg;
	json_object *v = NULL;

	if (res->code == VERB_OK && res->body != NULL &&
	    json_object_object_get_ex(res->body, "version", &v) &&
	    json_object_is_type(v, json_type_string)) {
		char *dir = registry_version_dir(j->r->reg, j->name, json_object_get_string(v));

		j->installed = xasprintf("%s/README.md", dir);
		free(dir);
	}
	worker_submit(j->r->w, work, done, j);
}

void readme_get(struct readme *r, const char *name, readme_done_fn fn, void *arg)
{
	struct readme_job *j = xcalloc(1, sizeof *j);

	j->r = r;
	j->name = xstrdup(name);
	j->path = r->dir ? xasprintf("%s/%s/README.md", r->dir, name) : NULL;
	j->done = fn;
	j->arg = arg;
	if (r->reg != NULL)
		registry_get(r->reg, name, got_row, j);
	else
		worker_submit(r->w, work, done, j);
}
