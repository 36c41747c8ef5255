/*
 * The marketplace REST API of the guide, under /api/plugins/marketplace/:
 * catalog, install, enable, disable, uninstall, installed, config, rate and
 * ratings. JSON in and out; errors as {"error": {"code", "message"}}.
 */
#ifndef SS_API_MARKETPLACE_H
#define SS_API_MARKETPLACE_H

struct api;
struct registry;

/* Registers every route on api; handlers use reg. */
void api_marketplace_register(struct api *api, struct registry *reg);

#endif
