/*
 * A marketplace request waiting on the database: what its callbacks need,
 * and the helpers every marketplace handler shares (name checks, field
 * checks, 503 while the database is away).
 */
#ifndef SS_API_CALL_H
#define SS_API_CALL_H

#include <json-c/json.h>
#include <stdbool.h>

#include "db.h"
#include "names.h"

struct api_req;
struct registry;

#define API_MARKETPLACE_PREFIX "/api/plugins/marketplace/"

/* Whether $1 names a plugin of the catalog or an installed one (SQL boolean). */
#define API_CALL_KNOWN_SQL                                                                         \
	"(EXISTS (SELECT 1 FROM catalog_plugins WHERE name = $1) OR"                               \
	" EXISTS (SELECT 1 FROM installed_plugins WHERE name = $1))"

/* One request in flight: what its database callbacks need. */
struct call {
	struct registry *reg;
	struct api_req *req;
	char name[SS_NAME_MAX + 1];
	json_object *body;
	json_object *config;
	bool enable;
	bool version_asked; /* install named a version: an installed other version is upgraded */
	char *version;
	char *config_text; /* the configuration as stored (install) */
};

struct call *api_call_new(struct registry *reg, struct api_req *req, const char *name);
void api_call_free(struct call *c);
/* 503 with Retry-After: the database is away. */
void api_call_unavailable(struct api_req *req);
/*
 * The answer to a failed statement: 503 when the database went away, 400
 * for a value PostgreSQL refused (SQLSTATE class 22), else 500 (a bug).
 */
void api_call_db_failure(struct call *c, enum db_status st, const PGresult *res, const char *err);
/* true when st is DB_OK; otherwise answers as api_call_db_failure does and returns false. */
bool api_call_ok(struct call *c, enum db_status st, const PGresult *res, const char *err);
/* Queues a statement for c; on -1 it has answered 503 and freed c. */
int api_call_run(struct call *c, const char *sql, int n, const char *const *params,
		 db_result_fn fn);
/* The plugin name in the path into out: 0, or -1 after answering 400 bad_name. */
int api_call_name(struct api_req *req, const char *rest, char out[SS_NAME_MAX + 1]);
/*
 * The whole of a handler that needs only the plugin named in the path: checks
 * the name (400 bad_name) and runs sql with it as $1, fn answering.
 */
void api_call_by_name(struct api_req *req, const char *rest, struct registry *reg, const char *sql,
		      db_result_fn fn);
/* A JSON text column (NULL or empty: NULL), as a new object. */
json_object *api_call_parse(const char *text);
/* Each key of body must be in allowed (NULL-terminated): 0, or -1 after answering 400. */
int api_call_only_fields(struct api_req *req, json_object *body, const char *const *allowed);

/*
 * Whether v can be stored as it is (no NUL inside strings, finite numbers):
 * 0, or -1 after answering 400 bad_field naming what.
 */
int api_call_storable(struct api_req *req, const char *what, json_object *v);

#endif
