/* The repositories' routes (see api_repos.h): validation here, the work in repos.c. */
#include "api_repos.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_call.h"
#include "repos.h"

#define PREFIX API_MARKETPLACE_PREFIX

static void h_list(struct api_req *req, const char *rest, void *arg)
{
	(void)rest;
	repos_list(arg, api_call_answered, req);
}

static void created(const struct verb_result *r, void *req)
{
	api_call_answer(req, r, 201);
}

static void h_add(struct api_req *req, const char *rest, void *arg)
{
	static const char *const allowed[] = {"name", "url", "enabled", NULL};
	json_object *body = NULL, *name, *url, *enabled = NULL;
	char why[256];

	(void)rest;
	if (api_read_json(req, false, &body) < 0)
		return;
	if (api_call_only_fields(req, body, allowed) < 0)
		goto out;
	if (!json_object_object_get_ex(body, "name", &name) ||
	    !json_object_is_type(name, json_type_string) ||
	    !json_object_object_get_ex(body, "url", &url) ||
	    !json_object_is_type(url, json_type_string)) {
		api_reply_error(req, 400, "bad_field", "name and url are required strings");
		goto out;
	}
	if (json_object_object_get_ex(body, "enabled", &enabled) &&
	    !json_object_is_type(enabled, json_type_boolean)) {
		api_reply_error(req, 400, "bad_field", "enabled must be true or false");
		goto out;
	}
	if (api_call_storable(req, "name", name) < 0 || api_call_storable(req, "url", url) < 0)
		goto out;
	if (repos_check(json_object_get_string(name), json_object_get_string(url), why,
			sizeof why) < 0) {
		api_reply_error(req, 400, "bad_field", "%s", why);
		goto out;
	}
	repos_add(arg, json_object_get_string(name), json_object_get_string(url),
		  enabled == NULL || json_object_get_boolean(enabled), created, req);
out:
	json_object_put(body);
}

/* A repository id: 1 to 9 decimal digits. */
static bool id_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 9 || s[0] == '0')
		return false;
	return strspn(s, "0123456789") == n;
}

static void h_delete(struct api_req *req, const char *rest, void *arg)
{
	if (!id_ok(rest)) {
		api_reply_error(req, 400, "bad_field", "a repository id is a positive integer");
		return;
	}
	repos_delete(arg, rest, api_call_answered, req);
}

static void h_sync(struct api_req *req, const char *rest, void *arg)
{
	char *id = api_query_param(req, "id");

	(void)rest;
	if (id != NULL && !id_ok(id))
		api_reply_error(req, 400, "bad_field", "id is a positive integer");
	else
		repos_sync(arg, id, api_call_answered, req); /* id is copied */
	free(id);
}

void api_repos_register(struct api *api, struct repos *r)
{
	api_route(api, "GET", PREFIX "repositories", false, API_ROLE_VIEWER, h_list, r);
	api_route(api, "POST", PREFIX "repositories", false, API_ROLE_ADMIN, h_add, r);
	api_route(api, "DELETE", PREFIX "repositories/", true, API_ROLE_ADMIN, h_delete, r);
	api_route(api, "POST", PREFIX "sync", false, API_ROLE_ADMIN, h_sync, r);
}
