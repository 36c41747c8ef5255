/*
 * What every marketplace handler shares: the checks of its input (name,
 * fields, storable values) and the answer to a control-plane verb's result.
 * A handler validates, calls one verb and answers with api_call_answer.
 */
#ifndef SS_API_CALL_H
#define SS_API_CALL_H

#include <json-c/json.h>
#include <stdbool.h>

#include "names.h"
#include "verb.h"

struct api_req;

#define API_MARKETPLACE_PREFIX "/api/plugins/marketplace/"

/*
 * Answers req with r: ok_status and r->body on VERB_OK, else the error the
 * outcome maps to (400, 404, 409, 422, 503 with Retry-After, 500).
 */
void api_call_answer(struct api_req *req, const struct verb_result *r, int ok_status);
/* A verb_done_fn whose arg is the request: api_call_answer with 200. */
void api_call_answered(const struct verb_result *r, void *req);
/* The plugin name in the path into out: 0, or -1 after answering 400 bad_name. */
int api_call_name(struct api_req *req, const char *rest, char out[SS_NAME_MAX + 1]);
/*
 * body must be an object whose every key is in allowed (NULL-terminated):
 * 0, or -1 after answering 400 bad_field.
 */
int api_call_only_fields(struct api_req *req, json_object *body, const char *const *allowed);
/*
 * body's optional "version" (null or absent: *version NULL), a version
 * string (manifest_version_valid) borrowed from body: 0, or -1 after
 * answering 400 bad_field.
 */
int api_call_version(struct api_req *req, json_object *body, const char **version);
/*
 * Whether v can be stored as it is (no NUL inside strings, finite numbers):
 * 0, or -1 after answering 400 bad_field naming what.
 */
int api_call_storable(struct api_req *req, const char *what, json_object *v);

#endif
