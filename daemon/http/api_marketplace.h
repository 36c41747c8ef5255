/*
 * The installed-plugin routes of the guide's marketplace API, under
 * /api/plugins/marketplace/: install, enable, disable, uninstall, installed,
 * config (the catalog and ratings are api_catalog.h's). JSON in and out;
 * errors as {"error": {"code", "message"}}.
 */
#ifndef SS_API_MARKETPLACE_H
#define SS_API_MARKETPLACE_H

struct api;
struct registry;

/* Registers the routes on api; the handlers call reg's verbs. */
void api_marketplace_register(struct api *api, struct registry *reg);
/* GET installed/{name} shows dl's view of the plugin's delivery as "delivery" (NULL: none). */
struct deliver;
void api_marketplace_show_delivery(struct deliver *dl);

#endif
