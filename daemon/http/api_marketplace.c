/*
 * The installed-plugin routes of the marketplace API. Each handler checks
 * everything it can without the database (name, body, fields: a 400 never
 * costs a query), calls one registry verb and answers with what it says.
 * A database that is away is a 503 with Retry-After; nothing is queued
 * behind the user's back.
 */
#include "api_marketplace.h"

#include "deliver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_call.h"
#include "manifest.h"
#include "msg.h"
#include "names.h"
#include "registry.h"

#define PREFIX API_MARKETPLACE_PREFIX

/* ---- POST install/{name} ---- */

static void installed_answer(const struct verb_result *r, void *arg)
{
	/* A new plugin is 201; another version of an installed one is 200. */
	api_call_answer(arg, r, r->created ? 201 : 200);
}

static void h_install(struct api_req *req, const char *rest, void *arg)
{
	static const char *const allowed[] = {"config", "version", NULL};
	char name[SS_NAME_MAX + 1];
	json_object *body = NULL, *v, *config = NULL;
	const char *version = NULL;

	if (api_call_name(req, rest, name) < 0 || api_read_json(req, true, &body) < 0)
		return;
	if (api_call_only_fields(req, body, allowed) < 0)
		goto out;
	if (json_object_object_get_ex(body, "config", &v) && v != NULL) {
		if (!json_object_is_type(v, json_type_object)) {
			api_reply_error(req, 400, "bad_field", "config must be a JSON object");
			goto out;
		}
		if (api_call_storable(req, "config", v) < 0)
			goto out;
		config = v;
	}
	if (api_call_version(req, body, &version) < 0)
		goto out;
	registry_install(arg, name, version, config, api_req_user(req), installed_answer, req);
out:
	json_object_put(body);
}

/* ---- POST rollback/{name} ---- */

/* Body optional: {"version": "1.0.0"}; without it, the previous version. */
static void h_rollback(struct api_req *req, const char *rest, void *arg)
{
	static const char *const allowed[] = {"version", NULL};
	char name[SS_NAME_MAX + 1];
	json_object *body = NULL;
	const char *version = NULL;

	if (api_call_name(req, rest, name) < 0 || api_read_json(req, true, &body) < 0)
		return;
	if (api_call_only_fields(req, body, allowed) < 0)
		goto out;
	if (api_call_version(req, body, &version) < 0)
		goto out;
	registry_rollback(arg, name, version, api_req_user(req), api_call_answered, req);
out:
	json_object_put(body);
}

/* ---- POST enable/{name}, POST disable/{name} ---- */

static void set_enabled(struct api_req *req, const char *rest, struct registry *reg, bool enable)
{
	char name[SS_NAME_MAX + 1];

	if (api_call_name(req, rest, name) < 0)
		return;
	registry_set_enabled(reg, name, enable, api_call_answered, req);
}

static void h_enable(struct api_req *req, const char *rest, void *arg)
{
	set_enabled(req, rest, arg, true);
}

static void h_disable(struct api_req *req, const char *rest, void *arg)
{
	set_enabled(req, rest, arg, false);
}

/* ---- DELETE uninstall/{name}[?purge=true] ---- */

/* The plugin's storage is kept unless purge=true asks for it to go too. */
static void h_uninstall(struct api_req *req, const char *rest, void *arg)
{
	char name[SS_NAME_MAX + 1], *purge = api_query_param(req, "purge");
	bool yes = purge != NULL && strcmp(purge, "true") == 0;

	if (purge != NULL && !yes && strcmp(purge, "false") != 0) {
		api_reply_error(req, 400, "bad_request", "purge must be true or false");
		free(purge);
		return;
	}
	free(purge);
	if (api_call_name(req, rest, name) < 0)
		return;
	registry_uninstall(arg, name, api_req_user(req), yes, api_call_answered, req);
}

/* ---- GET installed, GET installed/{name} ---- */

/*
 * The delivery state shown with one plugin (issue 14): main sets it once
 * the database's delivery exists; one daemon per process, so one pointer.
 */
static struct deliver *shown_delivery;

void api_marketplace_show_delivery(struct deliver *dl)
{
	shown_delivery = dl;
}

static void got_answer(const struct verb_result *r, void *arg)
{
	json_object *name, *dv;

	/* Reading one that is not installed is "not here" (404), not a conflict. */
	if (r->code == VERB_NOT_INSTALLED) {
		api_reply_error(arg, 404, "not_installed", "%s", r->message);
		return;
	}
	/* Which daemon delivers its events, from which cursor, and every daemon's host. */
	if (shown_delivery != NULL && r->code == VERB_OK && r->body != NULL &&
	    json_object_object_get_ex(r->body, "name", &name) &&
	    (dv = deliver_view(shown_delivery, json_object_get_string(name))) != NULL)
		json_object_object_add(r->body, "delivery", dv);
	api_call_answer(arg, r, 200);
}

static void h_installed(struct api_req *req, const char *rest, void *arg)
{
	char name[SS_NAME_MAX + 1];

	if (rest == NULL || *rest == '\0') {
		registry_list(arg, api_call_answered, req);
		return;
	}
	if (api_call_name(req, rest, name) < 0)
		return;
	registry_get(arg, name, got_answer, req);
}

/* ---- PUT config/{name} ---- */

static void h_config(struct api_req *req, const char *rest, void *arg)
{
	char name[SS_NAME_MAX + 1];
	json_object *body = NULL, *v, *config;

	if (api_call_name(req, rest, name) < 0 || api_read_json(req, false, &body) < 0)
		return;
	if (!json_object_is_type(body, json_type_object)) {
		api_reply_error(req, 400, "bad_field", "the body must be a JSON object");
		goto out;
	}
	/* {"config": {...}} as for install; a bare object is the configuration itself. */
	if (json_object_object_get_ex(body, "config", &v) && json_object_object_length(body) == 1) {
		if (!json_object_is_type(v, json_type_object)) {
			api_reply_error(req, 400, "bad_field", "config must be a JSON object");
			goto out;
		}
		config = v;
	} else {
		config = body;
	}
	if (api_call_storable(req, "config", config) < 0)
		goto out;
	registry_configure(arg, name, config, api_call_answered, req);
out:
	json_object_put(body);
}

void api_marketplace_register(struct api *api, struct registry *reg)
{
	api_route(api, "POST", PREFIX "install/", true, API_ROLE_ADMIN, h_install, reg);
	api_route(api, "POST", PREFIX "rollback/", true, API_ROLE_ADMIN, h_rollback, reg);
	api_route(api, "POST", PREFIX "enable/", true, API_ROLE_ADMIN, h_enable, reg);
	api_route(api, "POST", PREFIX "disable/", true, API_ROLE_ADMIN, h_disable, reg);
	api_route(api, "DELETE", PREFIX "uninstall/", true, API_ROLE_ADMIN, h_uninstall, reg);
	api_route(api, "GET", PREFIX "installed", false, API_ROLE_VIEWER, h_installed, reg);
	api_route(api, "GET", PREFIX "installed/", true, API_ROLE_VIEWER, h_installed, reg);
	api_route(api, "PUT", PREFIX "config/", true, API_ROLE_ADMIN, h_config, reg);
}
