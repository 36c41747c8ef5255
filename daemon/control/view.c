/* Views of plugins for the API (see view.h). */
#include "view.h"

#include "plugin_store.h"
#include "secrets.h"
#include "supervisor.h"

static json_object *str_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

json_object *view_installed(const struct plugin_row *row, json_object *schema, const char *error,
			    json_object *kept, struct supervisor *sup)
{
	json_object *out = json_object_new_object();

	if (row->schema != NULL)
		schema = row->schema;
	json_object_object_add(out, "name", json_object_new_string(row->name));
	json_object_object_add(out, "version", str_or_null(row->version));
	json_object_object_add(out, "previousVersion", str_or_null(row->previous_version));
	/* The versions a rollback can switch to without a download (and the one running). */
	json_object_object_add(out, "keptVersions", kept ? kept : json_object_new_array());
	json_object_object_add(out, "enabled", json_object_new_boolean(row->enabled));
	/* An unreadable row has no configuration to show: null, and the error says why. */
	json_object_object_add(out, "config",
			       row->config ? secrets_mask(row->config, schema) : NULL);
	json_object_object_add(out, "installedBy", str_or_null(row->installed_by));
	json_object_object_add(out, "installedAt", str_or_null(row->installed_at));
	json_object_object_add(out, "updatedAt", str_or_null(row->updated_at));
	json_object_object_add(out, "runtime", supervisor_status(sup, row->name));
	json_object_object_add(out, "error", str_or_null(row->error ? row->error : error));
	return out;
}

json_object *view_unmanaged(struct supervisor *sup, const char *name)
{
	struct supervisor_stats st;
	json_object *o;

	if (supervisor_stats(sup, name, &st) < 0)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "version", str_or_null(st.version));
	json_object_object_add(o, "enabled", json_object_new_boolean(1));
	json_object_object_add(o, "managed", json_object_new_boolean(0));
	json_object_object_add(o, "runtime", supervisor_status(sup, name));
	return o;
}
