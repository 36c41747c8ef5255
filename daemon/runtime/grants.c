#include "grants.h"

#include <stdio.h>
#include <string.h>

#include "names.h"

/* The permission a subscription pattern needs, or NULL. */
static const char *pattern_permission(const char *pattern)
{
	if (strncmp(pattern, "session.", 8) == 0)
		return "read:sessions";
	if (strncmp(pattern, "user.", 5) == 0)
		return "read:users";
	return NULL;
}

bool grants_has(json_object *perms, const char *perm)
{
	size_t n = json_object_array_length(perms);
	for (size_t i = 0; i < n; i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(perms, i));
		if (s != NULL && (strcmp(s, perm) == 0 || strcmp(s, "admin") == 0))
			return true;
	}
	return false;
}

int grants_subscribe(json_object *perms, const char *pattern, char *why, size_t len)
{
	const char *need;

	if (!name_pattern_valid(pattern)) {
		snprintf(why, len, "invalid subscription pattern \"%.128s\"", pattern);
		return -1;
	}
	if (strcmp(pattern, "*") == 0) {
		if (grants_has(perms, "read:sessions") && grants_has(perms, "read:users"))
			return 0;
		snprintf(why, len, "subscribing to \"*\" needs read:sessions and read:users");
		return -1;
	}
	need = pattern_permission(pattern);
	if (need != NULL && !grants_has(perms, need)) {
		snprintf(why, len, "subscribing to \"%.128s\" needs %s", pattern, need);
		return -1;
	}
	return 0;
}
