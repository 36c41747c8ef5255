/*
 * A plugin's README.md, as its directory in the plugin directory has it
 * (`<plugin-dir>/<name>/README.md`; the shipped plugins and packages carry
 * one), read on the worker thread: a regular file (no link, FIFO or device)
 * of at most README_MAX bytes of UTF-8. For the marketplace's detail page.
 */
#ifndef SS_README_H
#define SS_README_H

#include <stddef.h>

#define README_MAX (256 * 1024)

struct readme;
struct worker;

/* plugin_dir is copied (NULL: no README is ever found). The worker is borrowed. */
struct readme *readme_new(struct worker *w, const char *plugin_dir);
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
