#define _GNU_SOURCE
#include "static.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "log.h"
#include "xmalloc.h"

#define STATIC_MAX_DIRS 24
#define ADMIN "/admin/"

struct static_file {
	char *path; /* relative to the root: "index.html", "vendor/x-1.0/x.js" */
	char *data;
	size_t len;
	const char *type;
	char etag[20]; /* "\"" 16 hex digits "\"" */
	bool immutable;
};

struct static_site {
	struct static_file *files;
	size_t n, cap, bytes;
	char *dirs[STATIC_MAX_DIRS]; /* subdirectories, each gets its own route */
	size_t ndirs;
	char *why; /* when serving nothing: the reason, for the 404 */
};

static const struct {
	const char *ext, *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".map", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
    {".txt", "text/plain; charset=utf-8"},
};

const char *static_type(const char *name)
{
	const char *dot = strrchr(name, '.');

	for (size_t i = 0; dot && i < sizeof types / sizeof *types; i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	/* With nosniff the browser will not guess: unknown data stays data. */
	return "application/octet-stream";
}

/* A file or directory name we serve: no escaping needed anywhere, never hidden. */
static bool name_ok(const char *s)
{
	if (s[0] == '\0' || s[0] == '.')
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-'))
			return false;
	return true;
}

/* FNV-1a, 64 bits: a content hash for the ETag (not a security property). */
static void make_etag(struct static_file *f)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < f->len; i++) {
		h ^= (unsigned char)f->data[i];
		h *= 0x100000001b3ULL;
	}
	snprintf(f->etag, sizeof f->etag, "\"%016llx\"", (unsigned long long)h);
}

/* Reads one regular file (already opened) into the site; -1 with err. */
static int add_file(struct static_site *s, int fd, const char *rel, char *err, size_t errlen)
{
	struct stat st;
	struct static_file *f;
	size_t got = 0;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", rel);
		return -1;
	}
	if (s->n == STATIC_MAX_FILES) {
		snprintf(err, errlen, "more than %d files", STATIC_MAX_FILES);
		return -1;
	}
	if ((uint64_t)st.st_size > STATIC_MAX_BYTES - s->bytes) {
		snprintf(err, errlen, "the files are over %u bytes in all", STATIC_MAX_BYTES);
		return -1;
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 32;
		s->files = xrealloc(s->files, s->cap * sizeof *s->files);
	}
	f = &s->files[s->n];
	memset(f, 0, sizeof *f);
	f->data = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, f->data + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			snprintf(err, errlen, "%s: %s", rel, r < 0 ? strerror(errno) : "shrank");
			free(f->data);
			return -1;
		}
		got += (size_t)r;
	}
	f->len = got;
	f->path = xstrdup(rel);
	f->type = static_type(rel);
	/* Vendored packages live in versioned directories: a new version is a new URL. */
	f->immutable = strncmp(rel, "vendor/", 7) == 0;
	make_etag(f);
	s->bytes += got;
	s->n++;
	return 0;
}

/*
 * Walks dirfd (owned) below prefix ("" for the root). Nothing is followed:
 * every open is O_NOFOLLOW, so a symlink can never lead out of the tree.
 */
static int walk(struct static_site *s, int dirfd, const char *prefix, int depth, char *err,
		size_t errlen)
{
	DIR *d = fdopendir(dirfd);
	struct dirent *e;
	int rc = 0;

	if (d == NULL) {
		snprintf(err, errlen, "%s: %s", *prefix ? prefix : ".", strerror(errno));
		close(dirfd);
		return -1;
	}
	while (rc == 0 && (e = readdir(d)) != NULL) {
		struct stat st;
		char rel[STATIC_PATH_MAX];
		int fd;

		if (e->d_name[0] == '.')
			continue;
		if (snprintf(rel, sizeof rel, "%s%s%s", prefix, *prefix ? "/" : "", e->d_name) >=
		    (int)sizeof rel) {
			log_warn("static", "not served: a path over %d bytes", STATIC_PATH_MAX);
			continue;
		}
		if (!name_ok(e->d_name)) {
			log_warn("static", "not served: %s (a name outside [A-Za-z0-9._-])", rel);
			continue;
		}
		if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			log_warn("static", "not served: %s: %s", rel, strerror(errno));
			continue;
		}
		if (S_ISLNK(st.st_mode)) {
			log_warn("static", "not served: %s is a symbolic link", rel);
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			if (depth + 1 > STATIC_MAX_DEPTH || s->ndirs == STATIC_MAX_DIRS) {
				snprintf(err, errlen, "%s: more than %d levels or %d directories",
					 rel, STATIC_MAX_DEPTH, STATIC_MAX_DIRS);
				rc = -1;
				break;
			}
			fd = openat(dirfd, e->d_name,
				    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0) {
				snprintf(err, errlen, "%s: %s", rel, strerror(errno));
				rc = -1;
				break;
			}
			s->dirs[s->ndirs++] = xstrdup(rel);
			rc = walk(s, fd, rel, depth + 1, err, errlen);
			continue;
		}
		if (!S_ISREG(st.st_mode)) {
			log_warn("static", "not served: %s is not a regular file", rel);
			continue;
		}
		fd = openat(dirfd, e->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0) {
			snprintf(err, errlen, "%s: %s", rel, strerror(errno));
			rc = -1;
			break;
		}
		rc = add_file(s, fd, rel, err, errlen);
		close(fd);
	}
	closedir(d);
	return rc;
}

static int file_cmp(const void *a, const void *b)
{
	return strcmp(((const struct static_file *)a)->path, ((const struct static_file *)b)->path);
}

struct static_site *static_site_load(const char *root, char *err, size_t errlen)
{
	struct static_site *s = xcalloc(1, sizeof *s);
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", root, strerror(errno));
		goto fail;
	}
	if (walk(s, fd, "", 0, err, errlen) < 0)
		goto fail;
	qsort(s->files, s->n, sizeof *s->files, file_cmp);
	return s;
fail:
	static_site_free(s);
	return NULL;
}

void static_site_free(struct static_site *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++) {
		free(s->files[i].path);
		free(s->files[i].data);
	}
	for (size_t i = 0; i < s->ndirs; i++)
		free(s->dirs[i]);
	free(s->files);
	free(s->why);
	free(s);
}

size_t static_site_count(const struct static_site *s)
{
	return s ? s->n : 0;
}

size_t static_site_bytes(const struct static_site *s)
{
	return s ? s->bytes : 0;
}

const void *static_site_find(const struct static_site *s, const char *path, size_t *len,
			     const char **type, const char **etag, bool *immutable)
{
	struct static_file key = {.path = (char *)path};
	const struct static_file *f =
	    s && s->n ? bsearch(&key, s->files, s->n, sizeof *s->files, file_cmp) : NULL;

	if (f == NULL)
		return NULL;
	*len = f->len;
	*type = f->type;
	*etag = f->etag;
	*immutable = f->immutable;
	return f->data;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int static_path_resolve(const char *rest, char *out, size_t outlen)
{
	size_t n = 0;
	const char *seg;

	if (outlen < sizeof "index.html")
		return -1;
	if (*rest == '\0') {
		memcpy(out, "index.html", sizeof "index.html");
		return 0;
	}
	for (const char *p = rest; *p; p++) {
		char c = *p;

		if (c == '%') {
			int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);
			if (lo < 0)
				return -1;
			c = (char)(hi << 4 | lo);
			p += 2;
			if (c == '\0')
				return -1;
		}
		if (c == '\\' || n + 1 >= outlen)
			return -1;
		out[n++] = c;
	}
	out[n] = '\0';
	/* Decoded, every segment must be a plain name: no "", ".", ".." or hidden ones. */
	seg = out;
	for (;;) {
		const char *slash = strchr(seg, '/');
		size_t len = slash ? (size_t)(slash - seg) : strlen(seg);

		/* A trailing "/" names a directory: not refused, just never found (no listing). */
		if (len == 0 && slash == NULL && seg != out)
			break;
		if (len == 0 || seg[0] == '.')
			return -1;
		if (slash == NULL)
			break;
		seg = slash + 1;
	}
	return 0;
}

/* Headers every UI answer carries, whatever its status. */
static void security_headers(struct api_req *req)
{
	api_reply_header(req, "Content-Security-Policy", STATIC_CSP);
	api_reply_header(req, "X-Frame-Options", "DENY");
	api_reply_header(req, "Referrer-Policy", "no-referrer");
	api_reply_header(req, "Cross-Origin-Opener-Policy", "same-origin");
}

static void redirect(struct api_req *req, int status, const char *to)
{
	static const char body[] = "{\"message\":\"the admin UI is at /admin/\"}\n";

	api_reply_header(req, "Location", to);
	api_reply_data(req, status, "application/json", body, sizeof body - 1);
}

/* Whether an If-None-Match header names etag (or is "*"). */
static bool etag_matches(const char *inm, const char *etag)
{
	size_t len = strlen(etag);

	if (inm == NULL)
		return false;
	for (const char *p = inm; *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '*')
			return true;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		if (strncmp(p, etag, len) == 0 &&
		    (p[len] == '\0' || p[len] == ',' || p[len] == ' '))
			return true;
		while (*p && *p != ',')
			p++;
	}
	return false;
}

static void h_root(struct api_req *req, const char *rest, void *arg)
{
	redirect(req, 302, ADMIN);
}

static void h_file(struct api_req *req, const char *rest, void *arg)
{
	struct static_site *s = arg;
	const char *path = api_req_path(req), *type, *etag;
	char name[STATIC_PATH_MAX];
	const void *data;
	size_t len;
	bool immutable;

	if (strcmp(path, "/admin") == 0) {
		redirect(req, 301, ADMIN);
		return;
	}
	if (s->n == 0) {
		api_reply_error(req, 404, "not_found", "the admin UI is not installed: %s", s->why);
		return;
	}
	security_headers(req);
	if (static_path_resolve(path + strlen(ADMIN), name, sizeof name) < 0) {
		api_reply_error(req, 400, "bad_path", "refused path: %.200s", path);
		return;
	}
	data = static_site_find(s, name, &len, &type, &etag, &immutable);
	if (data == NULL) {
		/* A directory has no listing; it is as absent as a missing file. */
		api_reply_error(req, 404, "not_found", "no such file: %.200s", path);
		return;
	}
	api_reply_header(req, "ETag", etag);
	api_reply_header(req, "Cache-Control",
			 immutable ? "public, max-age=31536000, immutable" : "no-cache");
	if (etag_matches(api_req_header(req, "If-None-Match"), etag)) {
		api_reply_data(req, 304, type, NULL, 0);
		return;
	}
	api_reply_data(req, 200, type, data, len);
}

struct static_site *static_site_unavailable(const char *why)
{
	struct static_site *s = xcalloc(1, sizeof *s);

	s->why = xstrdup(why);
	return s;
}

void static_register(struct api *api, struct static_site *site)
{
	/* The UI's routes need no token: the page asks for one and sends it to the API. */
	api_route(api, "GET", "/", false, API_ROLE_NONE, h_root, NULL);
	api_route(api, "GET", ADMIN, true, API_ROLE_NONE, h_file, site);
	/* Routes match one segment below their prefix: one route per directory. */
	for (size_t i = 0; i < site->ndirs; i++) {
		char *p = xasprintf(ADMIN "%s/", site->dirs[i]);
		api_route(api, "GET", p, true, API_ROLE_NONE, h_file, site);
		free(p);
	}
}
