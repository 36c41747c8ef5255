/*
 * The catalog and ratings routes of the marketplace API:
 * GET /api/plugins/marketplace/catalog, POST .../rate/{name}, GET .../ratings/{name}.
 */
#ifndef SS_API_CATALOG_H
#define SS_API_CATALOG_H

#include <stddef.h>

struct api;
struct registry;

void api_catalog_register(struct api *api, struct registry *reg);

/*
 * Checks a catalog listing's query parameters and returns the ORDER BY
 * clause for sort (NULL or "": by name), or NULL with a message in err.
 */
const char *api_catalog_order(const char *sort, const char *q, const char *category,
			      const char *type, char *err, size_t errlen);

#endif
