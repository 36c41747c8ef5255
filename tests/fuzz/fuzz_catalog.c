/*
 * fuzz_catalog: catalog_parse (daemon/control/catalog_entry.c), the reader of
 * a repository's catalog.json, and the version choice made from what it
 * kept. Whatever it keeps must hold the entry rules (valid name and semantic
 * version, bounded fields), come sorted by name and newest version first
 * with no two equal versions under one name, and account for every skipped
 * entry; catalog_select must return the newest installable version.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_entry.h"
#include "names.h"
#include "semver.h"
#include "utf8.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_catalog: %s:%d: check failed: %s\n", __FILE__,       \
				__LINE__, #cond);                                                  \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_string(const char *s)
{
	if (s != NULL)
		CHECK(utf8_valid((const unsigned char *)s, strlen(s)));
}

static void check_entry(const struct catalog_entry *e)
{
	CHECK(name_plugin_valid(e->name));
	CHECK(semver_valid(e->version));
	CHECK(semver_compare(e->version, e->version) == 0);
	check_string(e->display_name);
	check_string(e->description);
	check_string(e->author);
	check_string(e->download_url);
	CHECK(e->sha256 == NULL || strlen(e->sha256) == 64);
	CHECK(e->arch == NULL || strcmp(e->arch, "any") != 0);
	CHECK(e->abi >= 0 && e->abi <= 65535);
	CHECK(e->tags != NULL && json_object_is_type(e->tags, json_type_array));
	CHECK(e->manifest == NULL || json_object_is_type(e->manifest, json_type_object));
	CHECK(e->json != NULL);
}

static void check_select(const struct catalog *c, const char *name, int abi, const char *arch)
{
	struct pkg_error err;
	const struct catalog_entry *e =
	    catalog_select(c->entries, c->n_entries, name, NULL, abi, arch, &err);

	if (e == NULL) {
		CHECK(err.check[0] != '\0' && err.message[0] != '\0');
		for (size_t i = 0; i < c->n_entries; i++)
			if (strcmp(c->entries[i].name, name) == 0)
				CHECK(!catalog_entry_installable(&c->entries[i], abi, arch, NULL));
		return;
	}
	CHECK(strcmp(e->name, name) == 0);
	CHECK(catalog_entry_installable(e, abi, arch, NULL));
	/* A release is chosen over any pre-release; among releases the newest. */
	for (size_t i = 0; i < c->n_entries; i++) {
		const struct catalog_entry *o = &c->entries[i];
		bool o_pre = strchr(o->version, '-') != NULL &&
			     (strchr(o->version, '+') == NULL ||
			      strchr(o->version, '-') < strchr(o->version, '+'));
		bool e_pre = strchr(e->version, '-') != NULL &&
			     (strchr(e->version, '+') == NULL ||
			      strchr(e->version, '-') < strchr(e->version, '+'));

		if (strcmp(o->name, name) != 0 || !catalog_entry_installable(o, abi, arch, NULL))
			continue;
		if (o_pre == e_pre)
			CHECK(semver_compare(o->version, e->version) <= 0);
		else
			CHECK(e_pre == false);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct catalog_limits lim = {.max_entries = 64};
	struct pkg_error err;
	struct catalog *c = catalog_parse((const char *)data, size, &lim, &err);

	if (c == NULL) {
		CHECK(strcmp(err.check, "catalog") == 0 && err.message[0] != '\0');
		return 0;
	}
	CHECK(c->n_problems <= CATALOG_MAX_PROBLEMS && c->n_problems <= c->n_skipped);
	CHECK(c->n_skipped >= CATALOG_MAX_PROBLEMS || c->n_problems == c->n_skipped);
	CHECK(c->n_entries + c->n_skipped <= lim.max_entries);
	for (size_t i = 0; i < c->n_problems; i++)
		CHECK(c->problems[i].message[0] != '\0');
	for (size_t i = 0; i < c->n_entries; i++) {
		check_entry(&c->entries[i]);
		if (i > 0) {
			const struct catalog_entry *a = &c->entries[i - 1], *b = &c->entries[i];
			int n = strcmp(a->name, b->name);

			CHECK(n < 0 || (n == 0 && semver_compare(a->version, b->version) > 0));
			CHECK(semver_compare(b->version, a->version) ==
			      -semver_compare(a->version, b->version));
		}
	}
	if (c->n_entries > 0) {
		check_select(c, c->entries[0].name, 1, catalog_host_arch());
		check_select(c, c->entries[c->n_entries - 1].name, 2, "aarch64");
	}
	catalog_free(c);
	return 0;
}
