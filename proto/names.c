#include "names.h"

#include <string.h>

static const char *const core_events[] = {
    "session.created", "session.started", "session.stopped", "session.hibernated",
    "session.woken",   "session.deleted", "user.created",    "user.updated",
    "user.deleted",    "user.login",	  "user.logout",
};

static const char *const platform_events[] = {
    "plugin.installed",	  "plugin.upgraded", "plugin.enabled", "plugin.disabled",
    "plugin.uninstalled", "plugin.crashed",  "system.startup", "system.shutdown",
};

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* Checks a plugin name in the first n bytes of s. */
static bool plugin_name_valid_n(const char *s, size_t n)
{
	if (n == 0 || n > SS_NAME_MAX || !is_lower_alnum(s[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!is_lower_alnum(s[i]) && s[i] != '-')
			return false;
	return true;
}

bool name_plugin_valid(const char *name)
{
	if (name == NULL)
		return false;
	size_t n = strlen(name);
	if (!plugin_name_valid_n(name, n))
		return false;
	return strcmp(name, "marketplace") != 0;
}

bool name_event_is_core(const char *name)
{
	for (size_t i = 0; i < sizeof core_events / sizeof core_events[0]; i++)
		if (strcmp(name, core_events[i]) == 0)
			return true;
	return false;
}

bool name_event_is_platform(const char *name)
{
	for (size_t i = 0; name != NULL && i < sizeof platform_events / sizeof platform_events[0];
	     i++)
		if (strcmp(name, platform_events[i]) == 0)
			return true;
	return false;
}

bool name_event_valid(const char *name)
{
	const char *rest, *dot;
	size_t n;

	if (name == NULL)
		return false;
	n = strlen(name);
	if (n == 0 || n > SS_EVENT_NAME_MAX)
		return false;
	if (name_event_is_core(name))
		return true;
	if (strncmp(name, "plugin.", 7) != 0)
		return false;
	rest = name + 7;
	dot = strchr(rest, '.');
	if (dot == NULL || !plugin_name_valid_n(rest, (size_t)(dot - rest)))
		return false;
	if (dot[1] == '\0')
		return false;
	for (const char *p = dot + 1; *p; p++)
		if (!is_lower_alnum(*p) && *p != '_' && *p != '-' && *p != '.')
			return false;
	return true;
}

bool name_pattern_valid(const char *pattern)
{
	size_t n;

	if (pattern == NULL)
		return false;
	if (strcmp(pattern, "*") == 0)
		return true;
	n = strlen(pattern);
	if (n == 0 || n > SS_EVENT_NAME_MAX)
		return false;
	if (n > 2 && strcmp(pattern + n - 2, ".*") == 0) {
		/* A prefix: lower-case words separated by dots. */
		for (size_t i = 0; i < n - 2; i++) {
			char c = pattern[i];
			if (!is_lower_alnum(c) && c != '.' && c != '-' && c != '_')
				return false;
		}
		return pattern[0] != '.' && pattern[n - 3] != '.';
	}
	return name_event_valid(pattern) || name_event_is_platform(pattern);
}

bool name_pattern_match(const char *pattern, const char *name)
{
	size_t n;

	if (strcmp(pattern, "*") == 0)
		return true;
	n = strlen(pattern);
	if (n >= 2 && strcmp(pattern + n - 2, ".*") == 0)
		return strncmp(pattern, name, n - 1) == 0 && name[n - 1] != '\0';
	return strcmp(pattern, name) == 0;
}

const char *name_builtin(const char *path)
{
	const size_t n = sizeof SS_BUILTIN_PREFIX - 1;

	return path != NULL && strncmp(path, SS_BUILTIN_PREFIX, n) == 0 ? path + n : NULL;
}
