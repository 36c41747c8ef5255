/* A plugin's README from the plugin directory (readme.h). */
#define _GNU_SOURCE
#include "readme.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileread.h"
#include "utf8.h"
#include "worker.h"
#include "xmalloc.h"

struct readme {
	struct worker *w;
	char *dir;
};

struct readme_job {
	char *path; /* NULL: no plugin directory */
	readme_done_fn done;
	void *arg;
	enum readme_status st;
	char *text;
	size_t len;
	char why[512];
};

struct readme *readme_new(struct worker *w, const char *plugin_dir)
{
	struct readme *r = xcalloc(1, sizeof *r);

	r->w = w;
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

/* On the worker thread: the file, checked. */
static void work(void *arg)
{
	struct readme_job *j = arg;
	int missing = 0;

	j->st = README_NONE;
	if (j->path == NULL)
		return;
	j->text = file_read_regular(j->path, README_MAX, &j->len, &missing, j->why, sizeof j->why);
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
	free(j->path);
	free(j);
}

void readme_get(struct readme *r, const char *name, readme_done_fn fn, void *arg)
{
	struct readme_job *j = xcalloc(1, sizeof *j);

	j->path = r->dir ? xasprintf("%s/%s/README.md", r->dir, name) : NULL;
	j->done = fn;
	j->arg = arg;
	worker_submit(r->w, work, done, j);
}
