/* Helpers shared by the marketplace handlers (api_marketplace.c, api_catalog.c). */
#include "api_call.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "json.h"
#include "log.h"
#include "registry.h"
#include "utf8.h"
#include "xmalloc.h"

struct call *api_call_new(struct registry *reg, struct api_req *req, const char *name)
{
	struct call *c = xcalloc(1, sizeof *c);

	c->reg = reg;
	c->req = req;
	if (name)
		snprintf(c->name, sizeof c->name, "%s", name);
	return c;
}

void api_call_free(struct call *c)
{
	json_object_put(c->body);
	json_object_put(c->config);
	free(c->version);
	free(c->config_text);
	free(c);
}

void api_call_unavailable(struct api_req *req)
{
	api_reply_error(req, 503, "unavailable", "the database is unavailable; try again shortly");
}

/* The answer to a failed statement: 503 when the database went away, else a bug. */
void api_call_db_failure(struct call *c, enum db_status st, const PGresult *res, const char *err)
{
	if (st == DB_DOWN) {
		api_call_unavailable(c->req);
	} else if (strncmp(db_sqlstate(res), "22", 2) == 0) {
		/* A data exception: a value the checks let through but PostgreSQL refuses. */
		api_reply_error(c->req, 400, "bad_field", "a value was refused: %s", err);
	} else {
		log_error("marketplace", "%s %s: %s", api_req_path(c->req), c->name, err);
		api_reply_error(c->req, 500, "internal", "the request failed inside the daemon");
	}
}

/* Queues a statement for c; on -1 it has answered 503 and freed c. */
bool api_call_ok(struct call *c, enum db_status st, const PGresult *res, const char *err)
{
	if (st == DB_OK)
		return true;
	api_call_db_failure(c, st, res, err);
	return false;
}

int api_call_run(struct call *c, const char *sql, int n, const char *const *params, db_result_fn fn)
{
	if (db_query(registry_db(c->reg), sql, n, params, fn, c) < 0) {
		api_call_unavailable(c->req);
		api_call_free(c);
		return -1;
	}
	return 0;
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

void api_call_by_name(struct api_req *req, const char *rest, struct registry *reg, const char *sql,
		      db_result_fn fn)
{
	char name[SS_NAME_MAX + 1];
	const char *params[1];
	struct call *c;

	if (api_call_name(req, rest, name) < 0)
		return;
	c = api_call_new(reg, req, name);
	params[0] = c->name;
	api_call_run(c, sql, 1, params, fn);
}

json_object *api_call_parse(const char *text)
{
	char err[JSON_ERR_MAX];
	json_object *v;

	if (text == NULL || *text == '\0')
		return NULL;
	/* We wrote it, within JSON_MAX_DEPTH; a row that does not read back is worth a line. */
	v = json_read(text, strlen(text), JSON_MAX_DEPTH, err, sizeof err);
	if (v == NULL && err[0] != '\0')
		log_error("api", "a row from the database does not read back: %s", err);
	return v;
}

/*
 * Checks a request body against the fields allowed: each key must be in
 * allowed; 0, or -1 after answering 400.
 */
int api_call_only_fields(struct api_req *req, json_object *body, const char *const *allowed)
{
	struct json_object_iter it;

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

/* Walks v: UTF-8 strings and keys without NUL (PostgreSQL text holds neither), finite numbers. */
static int json_storable(json_object *v, char *err, size_t errlen)
{
	switch (json_object_get_type(v)) {
	case json_type_string:
		if (strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v)) {
			snprintf(err, errlen, "strings may not contain NUL (\\u0000)");
			return -1;
		}
		if (!utf8_valid((const unsigned char *)json_object_get_string(v),
				(size_t)json_object_get_string_len(v))) {
			snprintf(err, errlen, "strings must be UTF-8");
			return -1;
		}
		return 0;
	case json_type_double:
		if (!isfinite(json_object_get_double(v))) {
			snprintf(err, errlen, "numbers must be finite");
			return -1;
		}
		return 0;
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(v); i++)
			if (json_storable(json_object_array_get_idx(v, i), err, errlen) < 0)
				return -1;
		return 0;
	case json_type_object: {
		struct json_object_iter it;

		json_object_object_foreachC(v, it)
		{
			if (!utf8_valid((const unsigned char *)it.key, strlen(it.key))) {
				snprintf(err, errlen, "keys must be UTF-8");
				return -1;
			}
			if (json_storable(it.val, err, errlen) < 0)
				return -1;
		}
		return 0;
	}
	default:
		return 0;
	}
}

int api_call_storable(struct api_req *req, const char *what, json_object *v)
{
	char err[128];

	if (json_storable(v, err, sizeof err) < 0) {
		api_reply_error(req, 400, "bad_field", "%s: %s", what, err);
		return -1;
	}
	return 0;
}
