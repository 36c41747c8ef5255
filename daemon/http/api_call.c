/*
 * Helpers shared by the marketplace handlers (api_marketplace.c,
 * api_catalog.c): the checks of their input, and the one mapping from what a
 * control-plane verb says to an HTTP answer.
 */
#include "api_call.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "httpd.h"
#include "json.h"
#include "manifest.h"
#include "xmalloc.h"

/* The status and error code of each verb outcome, indexed by enum verb_code. */
static const struct {
	int status;
	const char *code;
} outcomes[] = {
    [VERB_OK] = {200, NULL},
    [VERB_BAD_VALUE] = {400, "bad_field"},
    [VERB_NOT_FOUND] = {404, "not_found"},
    [VERB_NOT_INSTALLED] = {409, "not_installed"},
    [VERB_ALREADY] = {409, "already_installed"},
    /* The request was understood and the plugin said no, or could not run it. */
    [VERB_REJECTED] = {422, "config_rejected"},
    [VERB_INVALID_CONFIG] = {422, "invalid_config"},
    [VERB_START_FAILED] = {422, "start_failed"},
    [VERB_PACKAGE_REFUSED] = {422, "package_refused"},
    /* What the database holds for the plugin cannot be used: a conflict, not a crash. */
    [VERB_UNREADABLE] = {409, "unreadable"},
    [VERB_UNAVAILABLE] = {503, "unavailable"},
    [VERB_INTERNAL] = {500, "internal"},
    [VERB_BUSY] = {409, "in_progress"},
    [VERB_NO_PREVIOUS] = {409, "nothing_to_roll_back"},
};

void api_call_answer(struct api_req *req, const struct verb_result *r, int ok_status)
{
	unsigned code = (unsigned)r->code;

	if (code >= sizeof outcomes / sizeof *outcomes)
		code = VERB_INTERNAL;
	if (code == VERB_OK) {
		api_reply_json(req, ok_status, json_object_get(r->body));
		return;
	}
	/* A refused configuration lists every error: {"error": {code, message, errors}}. */
	json_object *errors;
	if (code == VERB_INVALID_CONFIG && json_object_object_get_ex(r->body, "errors", &errors)) {
		json_object *body = httpd_error_body(outcomes[code].code, r->message), *e;
		json_object_object_get_ex(body, "error", &e);
		json_object_object_add(e, "errors", json_object_get(errors));
		api_reply_json(req, outcomes[code].status, body);
		return;
	}
	/* A refused package names the check that failed: {"error": {code, message, check}}. */
	if (code == VERB_PACKAGE_REFUSED && json_object_object_get_ex(r->body, "check", &errors)) {
		json_object *body = httpd_error_body(outcomes[code].code, r->message), *e;
		json_object_object_get_ex(body, "error", &e);
		json_object_object_add(e, "check", json_object_get(errors));
		api_reply_json(req, outcomes[code].status, body);
		return;
	}
	/* 503 carries Retry-After (api_reply_error adds it). */
	api_reply_error(req, outcomes[code].status, outcomes[code].code, "%s",
			r->message && *r->message ? r->message : "the request failed");
}

void api_call_answered(const struct verb_result *r, void *req)
{
	api_call_answer(req, r, 200);
}

/* The plugin name in the path: 0, or -1 after answering 400. */
int api_call_name(struct api_req *req, const char *rest, char out[SS_NAME_MAX + 1])
{
	if (rest == NULL || !name_plugin_valid(rest)) {
		api_reply_error(req, 400, "bad_name",
				"plugin names match ^[a-z0-9][a-z0-9-]{0,62}$ and \"marketplace\" "
				"is reserved");
		return -1;
	}
	snprintf(out, SS_NAME_MAX + 1, "%s", rest);
	return 0;
}

/*
 * Checks a request body against the fields allowed: an object, each key in
 * allowed; 0, or -1 after answering 400.
 */
int api_call_only_fields(struct api_req *req, json_object *body, const char *const *allowed)
{
	struct json_object_iter it;

	if (!json_object_is_type(body, json_type_object)) {
		api_reply_error(req, 400, "bad_field", "the body must be a JSON object");
		return -1;
	}
	json_object_object_foreachC(body, it)
	{
		const char *key = it.key;
		bool ok = false;

		for (size_t i = 0; allowed[i] && !ok; i++)
			ok = strcmp(key, allowed[i]) == 0;
		if (!ok) {
			api_reply_error(req, 400, "bad_field", "unknown field \"%.64s\"", key);
			return -1;
		}
	}
	return 0;
}

int api_call_version(struct api_req *req, json_object *body, const char **version)
{
	json_object *v;

	*version = NULL;
	if (!json_object_object_get_ex(body, "version", &v) || v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_string) ||
	    !manifest_version_valid(json_object_get_string(v))) {
		api_reply_error(req, 400, "bad_field", "version must be a version string");
		return -1;
	}
	*version = json_object_get_string(v);
	return 0;
}

int api_call_storable(struct api_req *req, const char *what, json_object *v)
{
	char err[192];

	/* What PostgreSQL's jsonb can hold and every reader reads back. */
	if (json_check(v, JSON_MAX_DEPTH, JSON_CHECK_NO_NUL, err, sizeof err) < 0) {
		api_reply_error(req, 400, "bad_field", "%s: %s", what, err);
		return -1;
	}
	return 0;
}
