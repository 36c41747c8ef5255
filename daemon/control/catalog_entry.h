/*
 * Catalog documents (a repository's catalog.json) and their entries: parsing,
 * validation, and the choice of the version to install.
 *
 * A document is a JSON array of entries or an object {"plugins": [...]}. An
 * entry carries the guide's fields (name, version, displayName, description,
 * author, category, type, tags, iconUrl, downloadUrl, manifest) and ours:
 * sha256 (64 hex digits, required to install), abi (the SS_SDK_ABI the .so
 * was built against), arch (the machine it was built for, as uname -m says:
 * x86_64, aarch64, ...; never "any", a shared object runs on one) and an
 * optional signature (the text of a minisign .minisig file over the archive).
 * Unknown fields are ignored. A bad entry is reported (index, name, what is
 * wrong) and skipped; only a document that is not JSON, not of either shape,
 * or over the limits is refused whole.
 *
 * These functions keep no global state, never log and take no locks: the
 * registry may call them on a worker thread. Errors come back in the
 * caller's struct pkg_error or struct catalog. A struct catalog holds json-c
 * objects, whose reference counts are not atomic: hand it from one thread to
 * the other (the worker parses, the reactor takes the result), never share it.
 */
#ifndef SS_CATALOG_ENTRY_H
#define SS_CATALOG_ENTRY_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "pkg_error.h"

#define CATALOG_MAX_BYTES_DEFAULT ((size_t)8 * 1024 * 1024)
#define CATALOG_MAX_ENTRIES_DEFAULT 4096u
#define CATALOG_MAX_PROBLEMS 64u

struct catalog_limits {
	size_t max_bytes;   /* document size; 0 = CATALOG_MAX_BYTES_DEFAULT */
	size_t max_entries; /* entries in the document; 0 = CATALOG_MAX_ENTRIES_DEFAULT */
};

struct catalog_entry {
	size_t index; /* position in the document's array */
	const char *name;
	const char *version;	  /* Semantic Versioning 2.0 */
	const char *display_name; /* NULL when absent, as every field below */
	const char *description;
	const char *author;
	const char *category;
	const char *type;
	const char *icon_url;
	/* http(s)://, file:// or relative to the repository (catalog_resolve_url). */
	const char *download_url;
	const char *sha256; /* 64 hex digits */
	const char *arch;
	const char *signature; /* minisign signature text */
	int abi;	       /* 0 when absent */
	json_object *tags;     /* array of strings, never NULL */
	json_object *manifest; /* object or NULL */
	json_object *json;     /* the entry (a reference); every pointer above lives in it */
};

/* A skipped entry: where it was, its name when it had a usable one, and why. */
struct catalog_problem {
	size_t index;
	char name[64];
	char message[256];
};

struct catalog {
	/* Valid entries, by name, then newest version first. */
	struct catalog_entry *entries;
	size_t n_entries;
	/* The first CATALOG_MAX_PROBLEMS skipped entries; the rest are only counted. */
	struct catalog_problem problems[CATALOG_MAX_PROBLEMS];
	size_t n_problems;
	size_t n_skipped; /* every skipped entry, n_problems of them described */
};

/*
 * Parses a document of len bytes (need not be NUL-terminated). limits may
 * be NULL for the defaults. NULL with err filled ("catalog" check) when the
 * document as a whole is refused; otherwise every valid entry, and the
 * invalid ones as problems. Two entries of one name with versions of equal
 * precedence keep the first; the second is a problem.
 */
struct catalog *catalog_parse(const char *bytes, size_t len, const struct catalog_limits *limits,
			      struct pkg_error *err);
void catalog_free(struct catalog *c);

/*
 * Validates one entry object (a reference is taken into e->json) and fills
 * e; false with a sentence in why. For entries read back from the database.
 */
bool catalog_entry_parse(json_object *obj, struct catalog_entry *e, char *why, size_t whylen);
/* Drops e's reference; e may be zeroed or parsed. */
void catalog_entry_clear(struct catalog_entry *e);

/*
 * Whether this daemon can install e: it has a sha256 and a downloadUrl, its
 * abi equals abi and its arch equals arch. False with the check that
 * failed ("sha256", "download", "abi", "arch") and a sentence in err.
 */
bool catalog_entry_installable(const struct catalog_entry *e, int abi, const char *arch,
			       struct pkg_error *err);

/*
 * The version of name to install among n entries (any order): the newest
 * installable one (catalog_entry_installable) that is a release, or the
 * newest installable pre-release when there is no such release. With version
 * non-NULL, only an entry of equal precedence will do. NULL with err filled:
 * "not-found" when no entry has that name (or version), otherwise the check
 * that ruled out the newest candidate.
 */
const struct catalog_entry *catalog_select(const struct catalog_entry *entries, size_t n,
					   const char *name, const char *version, int abi,
					   const char *arch, struct pkg_error *err);

/* The machine this daemon was built for, in the catalog's arch names. */
const char *catalog_host_arch(void);

/*
 * An entry's downloadUrl made absolute: returned as is when it has a scheme,
 * otherwise appended to repo_url (the repository's URL, the directory of its
 * catalog.json) with one "/". The caller frees the result.
 */
char *catalog_resolve_url(const char *repo_url, const char *download_url);

#endif
