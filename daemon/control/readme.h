/*
 * A plugin's README.md: an installed plugin's is its installed version's
 * copy (`<install-dir>/<name>/<version>/README.md`, where a catalog
 * package's is, the only one it has), else the plugin directory's
 * (`<plugin-dir>/<name>/README.md`; the shipped plugins and packages carry
 * one). Read on the worker thread: a regular file (no link, FIFO or
 * device) of at most README_MAX bytes of UTF-8. For the marketplace's
 * detail page.
 */
#ifndef SS_README_H
#define SS_README_H

#include <stddef.h>

#define README_MAX (256 * 1024)

struct readme;
struct registry;
struct worker;

/*
 * plugin_dir is copied (NULL: none). The worker and reg (which tells an
 * installed plugin's version; NULL: only the plugin directory is read)
 * are borrowed.
 */
struct readme *readme_new(struct worker *w, const char *plugin_dir, struct registry *reg);
void readme_free(struct readme *r);

enum readme_status { README_OK, README_NONE, README_BAD };

/*
 * Reads name's README (name validated by the caller); done(arg, status,
 * text, len, why) runs on the reactor: README_OK with the text, README_NONE
 * when the plugin has none here, README_BAD when it is not such a file (why
 * says so). text and why are valid during the call only.
 */
typedef void (*readme_done_fn)(void *arg, enum readme_status st, const char *text, size_t len,
			       const char *why);
void readme_get(struct readme *r, const char *name, readme_done_fn done, void *arg);

#endif
