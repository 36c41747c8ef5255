#include "walk.h"

#include <stdlib.h>
#include <string.h>

#define WALK_PAGE 1000

int walk_keys(ss_plugin *p, const char *prefix, const char *cursor, walk_fn visit, void *arg)
{
	return walk_keys_paged(p, prefix, cursor, WALK_PAGE, 0, visit, arg);
}

int walk_keys_paged(ss_plugin *p, const char *prefix, const char *cursor, int limit, int max_pages,
		    walk_fn visit, void *arg)
{
	char *cur = cursor ? strdup(cursor) : NULL;
	int rc = 1, pages = 0;
	do {
		json_object *page = NULL, *keys = NULL, *next = NULL;
		if (ss_storage_list(p, prefix, cur, limit, &page) != SS_OK) {
			ss_log(p, SS_ERROR, "storage: listing %s: %s", prefix, ss_error_code(p));
			free(cur);
			return -1;
		}
		free(cur);
		cur = NULL;
		json_object_object_get_ex(page, "keys", &keys);
		for (size_t i = 0; rc == 1 && i < json_object_array_length(keys); i++)
			rc = visit(p, json_object_get_string(json_object_array_get_idx(keys, i)),
				   arg);
		if (rc == 1 && ++pages != max_pages &&
		    json_object_object_get_ex(page, "next", &next) &&
		    json_object_is_type(next, json_type_string))
			cur = strdup(json_object_get_string(next));
		json_object_put(page);
	} while (cur);
	return rc < 0 ? -1 : 0;
}
