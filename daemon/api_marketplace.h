/*
 * The marketplace REST API of the guide, under /api/plugins/marketplace/:
 * catalog, install, enable, disable, uninstall, installed, config, rate and
 * ratings. JSON in and out; errors as {"error": {"code", "message"}}.
 */
#ifndef SS_API_MARKETPLACE_H
#define SS_API_MARKETPLACE_H

#include <stdbool.h>
#include <stddef.h>

struct api;
struct registry;

/* Registers every route on api; handlers use reg. */
void api_marketplace_register(struct api *api, struct registry *reg);

/*
 * Checks a catalog listing's query parameters and returns the ORDER BY
 * clause for sort (NULL: by name), or NULL with a message in err.
 */
const char *api_marketplace_order(const char *sort, const char *q, const char *category,
				  const char *type, char *err, size_t errlen);

#endif
