/*
 * The catalog and ratings routes of the marketplace API:
 * GET /api/plugins/marketplace/catalog, POST .../rate/{name}, GET .../ratings/{name},
 * GET .../readme/{name}.
 */
#ifndef SS_API_CATALOG_H
#define SS_API_CATALOG_H

#include <stddef.h>

#include "catalog_store.h"

struct api;
struct market;
struct readme;

/* Registers the routes on api; the handlers call cat's verbs. */
void api_catalog_register(struct api *api, struct market *cat);
/* GET readme/{name}: {"plugin", "format": "markdown", "readme"}, 404 without one. */
void api_catalog_register_readme(struct api *api, struct readme *rd);

/*
 * Checks a catalog listing's query parameters into f (the strings are
 * borrowed: empty ones become NULL, no filter): 0, or -1 with a message.
 */
int api_catalog_filter(const char *sort, const char *q, const char *category, const char *type,
		       struct catalog_filter *f, char *err, size_t errlen);

#endif
