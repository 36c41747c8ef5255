/*
 * A host's route.add (PROTOCOL.md, "Routes"): the routes permission, the
 * declaration checked by proute, the route's index in the reply. The peer
 * answers it at once with what this module says.
 */
#ifndef SS_ROUTE_ADD_H
#define SS_ROUTE_ADD_H

#include <json-c/json.h>
#include <stdint.h>

#include "proute.h"

/*
 * The reply (new) to route.add m with id: ok {"route": index} once the
 * declaration is in t, or permission_denied without "routes" (and a warn
 * line naming plugin), or bad_request with proute's sentence.
 */
json_object *route_add_answer(struct proutes *t, json_object *perms, const char *plugin,
			      json_object *m, int64_t id);

#endif
