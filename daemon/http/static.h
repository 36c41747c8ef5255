/*
 * static: the admin UI's files (web/), loaded into memory once at start-up
 * and served at /admin/ with their type, an ETag, a strict
 * Content-Security-Policy and no directory listing. The tree is small and
 * ours, so reading it whole up front (bounded in count and bytes) keeps
 * every request off the disk and the reactor never waits on a read.
 */
#ifndef SS_STATIC_H
#define SS_STATIC_H

#include <stdbool.h>
#include <stddef.h>

struct api;
struct static_site;

#define STATIC_MAX_FILES 512
#define STATIC_MAX_BYTES (32u << 20) /* the whole tree */
#define STATIC_MAX_DEPTH 6
#define STATIC_PATH_MAX 512

/* The header every file is served with: scripts and styles from us only, no framing. */
#define STATIC_CSP                                                                                 \
	"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "          \
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "                \
	"form-action 'self'; frame-ancestors 'none'"

/*
 * Reads every regular file under root (names starting with '.' skipped;
 * symlinks, devices and names outside [A-Za-z0-9._-] refused and logged).
 * Returns the site, or NULL with a message when the tree cannot be read or
 * is over the limits above: the caller serves no UI and says why.
 */
struct static_site *static_site_load(const char *root, char *err, size_t errlen);
void static_site_free(struct static_site *site);
size_t static_site_count(const struct static_site *site);
size_t static_site_bytes(const struct static_site *site);

/* A site with no files whose pages answer 404 saying why (copied). */
struct static_site *static_site_unavailable(const char *why);

/*
 * Serves site (kept by the caller until the API is freed) at /admin/; / and
 * /admin redirect there.
 */
void static_register(struct api *api, struct static_site *site);

/*
 * Turns the part of a request path after "/admin/" into the file name it
 * asks for: percent-decoded, "" → "index.html". Returns 0, or -1 (refused:
 * a bad or NUL escape, a "." or ".." or hidden segment, a backslash, an
 * empty segment but a trailing one, too long); out holds the name.
 */
int static_path_resolve(const char *rest, char *out, size_t outlen);

/*
 * The file named path (as static_path_resolve gives it), or NULL.
 * *type, *etag, *immutable describe it.
 */
const void *static_site_find(const struct static_site *site, const char *path, size_t *len,
			     const char **type, const char **etag, bool *immutable);

/* The Content-Type served for a file name, by extension. */
const char *static_type(const char *name);

#endif
