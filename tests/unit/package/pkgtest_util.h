/* Helpers the package tests share: temporary directories, commands, tree listings. */
#ifndef PKGTEST_UTIL_H
#define PKGTEST_UTIL_H

#include <stddef.h>

#include "minisign.h"

/* A new directory under $TMPDIR (or /tmp); the caller frees the path. */
char *pt_tempdir(void);
/* Removes a tree made by the tests (rm -rf). */
void pt_rmtree(const char *path);
/* Runs a shell command (printf-style); returns its exit status. */
int pt_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The environment variable name, which the test's meson.build sets; fails the test without it. */
const char *pt_env(const char *name);
/* Writes or reads a whole file (read: NUL-terminated, length in *len when non-NULL). */
void pt_write(const char *path, const char *data, size_t len);
char *pt_read(const char *path, size_t *len);
/*
 * Every entry below dir, one line each, sorted: relative path, type, mode,
 * size, and for regular files the SHA-256 of their contents. Two equal
 * listings mean a byte-for-byte equal tree.
 */
char *pt_listing(const char *dir);

/*
 * Two minisign key pairs made by Debian's minisign without a password,
 * dir/k1.{pub,key} and dir/k2.{pub,key}, and their public keys read back.
 */
void pt_make_keys(const char *dir, struct minisign_key *k1, struct minisign_key *k2);

#endif
