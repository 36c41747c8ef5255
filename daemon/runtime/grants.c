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
	/*
	 * Platform events go to admin plugins only. A pattern that can match
	 * nothing else needs admin; "*" and "plugin.*" also match other events
	 * and are allowed, and the bus leaves the platform's out for a plugin
	 * without admin (bus_sub_set_platform).
	 */
	if (name_event_is_platform(pattern) || strncmp(pattern, "system.", 7) == 0) {
		if (grants_has(perms, "admin"))
			return 0;
		snprintf(
		    why, len,
		    "subscribing to \"%.128s\" needs the \"admin\" permission (platform events)",
		    pattern);
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

int grants_emit(json_object *perms, const char *plugin, const char *event, char *why, size_t len)
{
	size_t n = strlen(plugin);
	const char *need = NULL;

	if (strncmp(event, "plugin.", 7) == 0 && strncmp(event + 7, plugin, n) == 0 &&
	    event[7 + n] == '.')
		return 0;
	if (strncmp(event, "session.", 8) == 0)
		need = "write:sessions";
	else if (strncmp(event, "user.", 5) == 0)
		need = "write:users";
	if (need == NULL) {
		snprintf(why, len, "emitting \"%.128s\": a plugin emits in plugin.%s.* only", event,
			 plugin);
		return -1;
	}
	if (!grants_has(perms, need)) {
		snprintf(why, len, "emitting \"%.128s\" needs the \"%s\" permission", event, need);
		return -1;
	}
	return 0;
}
