/*
 * jsonpath: the lookups the notifier message tests share: at(o, "a/0/b")
 * walks keys and array indexes separated by '/', str_at() is its string,
 * parse() a literal that must parse. Included by one test file each.
 */
#ifndef SS_TEST_JSONPATH_H
#define SS_TEST_JSONPATH_H

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline json_object *at(json_object *o, const char *path)
{
	char buf[256];
	snprintf(buf, sizeof buf, "%s", path);
	for (char *tok = strtok(buf, "/"); tok && o; tok = strtok(NULL, "/")) {
		if (json_object_is_type(o, json_type_array))
			o = json_object_array_get_idx(o, (size_t)atoi(tok));
		else if (!json_object_object_get_ex(o, tok, &o))
			return NULL;
	}
	return o;
}

static inline const char *str_at(json_object *o, const char *path)
{
	json_object *v = at(o, path);
	return v ? json_object_get_string(v) : NULL;
}

static inline json_object *parse(const char *s)
{
	json_object *o = json_tokener_parse(s);
	assert_non_null(o);
	return o;
}

#endif
