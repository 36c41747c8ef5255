/* A catalog package downloaded, checked and renamed into place (see pkgfetch.h). */
#define _GNU_SOURCE
#include "pkgfetch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog_entry.h"
#include "fetch.h"
#include "manifest.h"
#include "pkg_archive.h"
#include "streamspace/plugin.h"
#include "worker.h"
#include "xmalloc.h"

struct job {
	pkgfetch_fn fn;
	void *arg;
	struct worker *w;
	const struct package_trust *trust;
	char *install_dir, *path, *name;
	struct catalog_entry e;
	int fd;
	struct pkgfetch_result r;
};

static void job_free(struct job *j)
{
	if (j->fd >= 0)
		close(j->fd);
	if (j->path)
		unlink(j->path);
	catalog_entry_clear(&j->e);
	manifest_free(j->r.manifest);
	free(j->install_dir);
	free(j->path);
	free(j->name);
	free(j);
}

static void finish(struct job *j)
{
	j->fn(&j->r, j->arg);
	job_free(j);
}

/* Worker thread: the whole check, the manifest, the rename. */
static void prepare_work(void *arg)
{
	struct job *j = arg;
	struct package_verified ver;
	char *dir, *mpath = NULL, *dst = NULL, *parent = NULL, why[512];
	bool made_parent = false;

	dir = package_prepare(j->path, &j->e, j->install_dir, SS_SDK_ABI, j->trust, NULL, &ver,
			      &j->r.err);
	if (dir == NULL) {
		j->r.rc = -1;
		return;
	}
	mpath = xasprintf("%s/manifest.json", dir);
	j->r.manifest = manifest_read_file(mpath, why, sizeof why);
	parent = xasprintf("%s/%s", j->install_dir, j->name);
	dst = xasprintf("%s/%s", parent, j->r.version);
	if (j->r.manifest == NULL) {
		pkg_error_set(&j->r.err, "manifest", "manifest.json", "%s", why);
		j->r.rc = -1;
	} else if (!(made_parent = mkdir(parent, 0755) == 0) && errno != EEXIST) {
		pkg_error_set(&j->r.err, "io", j->name, "%s: %s", parent, strerror(errno));
		j->r.rc = -1;
	} else if (rename(dir, dst) < 0) {
		pkg_error_set(&j->r.err, "io", j->name, "%s: %s", dst,
			      errno == EEXIST || errno == ENOTEMPTY ? "already there"
								    : strerror(errno));
		j->r.rc = -1;
	}
	if (j->r.rc < 0) {
		pkg_tree_remove(dir);
		if (made_parent)
			rmdir(parent);
	}
	free(parent);
	free(dst);
	free(mpath);
	free(dir);
}

static void prepare_done(void *arg, bool cancelled)
{
	struct job *j = arg;

	if (cancelled) {
		j->r.rc = -1;
		pkg_error_set(&j->r.err, "internal", j->name, "the daemon is stopping");
	}
	finish(j);
}

static void downloaded(const struct fetch_result *fr, void *arg)
{
	struct job *j = arg;

	if (!fr->ok || fr->not_modified) {
		j->r.rc = -1;
		pkg_error_set(&j->r.err, "download", j->e.download_url, "downloading %s: %s (%s)",
			      j->e.download_url, fr->error ? fr->error : "no body",
			      fr->check ? fr->check : "not-modified");
		finish(j);
		return;
	}
	close(j->fd);
	j->fd = -1;
	worker_submit(j->w, prepare_work, prepare_done, j);
}

static void nothing(void *arg)
{
	(void)arg;
}

/* A refusal before any download, answered from the loop (fn never runs inside the call). */
static void refused_done(void *arg, bool cancelled)
{
	(void)cancelled;
	finish(arg);
}

void pkgfetch_install(struct fetch *f, struct worker *w, const char *install_dir,
		      const struct package_trust *trust, json_object *candidates, const char *name,
		      const char *version, pkgfetch_fn fn, void *arg)
{
	struct job *j = xcalloc(1, sizeof *j);
	size_t n = json_object_array_length(candidates), ne = 0;
	struct catalog_entry *es = xcalloc(n ? n : 1, sizeof *es);
	const struct catalog_entry *pick;
	const char **urls = xcalloc(n ? n : 1, sizeof *urls),
		   **repos = xcalloc(n ? n : 1, sizeof *repos);
	char why[256], err[256];
	const char *dl = NULL, *repo = "";

	j->fn = fn;
	j->arg = arg;
	j->w = w;
	j->trust = trust;
	j->fd = -1;
	j->install_dir = xstrdup(install_dir);
	j->name = xstrdup(name);
	for (size_t i = 0; i < n; i++) {
		json_object *c = json_object_array_get_idx(candidates, i), *o, *u, *r;

		if (json_object_object_get_ex(c, "entry", &o) &&
		    json_object_object_get_ex(c, "url", &u) &&
		    json_object_object_get_ex(c, "repo", &r) &&
		    catalog_entry_parse(o, &es[ne], why, sizeof why)) {
			urls[ne] = json_object_get_string(u);
			repos[ne] = json_object_get_string(r);
			ne++;
		}
	}
	pick = catalog_select(es, ne, name, version, SS_SDK_ABI, catalog_host_arch(), &j->r.err);
	if (pick != NULL) {
		size_t k = (size_t)(pick - es);

		dl = urls[k];
		repo = repos[k];
		/* The copy holds its own references (clear drops json and tags). */
		j->e = *pick;
		json_object_get(j->e.json);
		json_object_get(j->e.tags);
		snprintf(j->r.version, sizeof j->r.version, "%s", pick->version);
	}
	for (size_t i = 0; i < ne; i++)
		catalog_entry_clear(&es[i]);
	free(es);
	/* dl and repo point into candidates, which the caller keeps for the call. */
	free(urls);
	free(repos);
	if (pick == NULL || dl == NULL)
		goto fail;
	/* A remote catalog never points at this machine's files; a file:// one may. */
	{
		bool local = strncmp(repo, "file://", 7) == 0;
		/* Beside the copies, hidden, removed whatever happens (job_free). */
		j->path = xasprintf("%s/.download-%s-XXXXXX", install_dir, name);
		if ((j->fd = mkostemp(j->path, O_CLOEXEC)) < 0) {
			pkg_error_set(&j->r.err, "io", j->path, "%s: %s", j->path, strerror(errno));
			free(j->path);
			j->path = NULL;
			goto fail;
		}
		if (fetch_start(
			f,
			&(struct fetch_opts){.url = dl,
					     .protocols = local ? "http,https,file" : "http,https",
					     .total_timeout_ms = 300000,
					     .low_speed_s = 30,
					     .max_bytes = PACKAGE_MAX_ARCHIVE_DEFAULT,
					     .max_redirects = 3,
					     .fd = j->fd},
			downloaded, j, err, sizeof err) == NULL) {
			pkg_error_set(&j->r.err, "download", dl, "%s", err);
			goto fail;
		}
	}
	return;
fail:
	j->r.rc = -1;
	worker_submit(w, nothing, refused_done, j);
}
