/*
 * What the API shows of an installed plugin: its row with the
 * configuration's secrets masked, the supervisor's runtime status and the
 * last error; and of a plugin the supervisor runs that the database does
 * not list (started with --plugin for development).
 */
#ifndef SS_VIEW_H
#define SS_VIEW_H

#include <json-c/json.h>

struct plugin_row;
struct supervisor;

/*
 * A new object. schema is the configSchema to mask with when the row has
 * none (the plugin directory's manifest), may be NULL; error is the
 * registry's last error for the plugin, or NULL (the row's own comes first);
 * kept the versions kept on disk (a JSON array, taken; NULL: none).
 */
json_object *view_installed(const struct plugin_row *row, json_object *schema, const char *error,
			    json_object *kept, struct supervisor *sup);
/* {name, version, enabled: true, managed: false, runtime}, or NULL when sup does not know name. */
json_object *view_unmanaged(struct supervisor *sup, const char *name);

#endif
