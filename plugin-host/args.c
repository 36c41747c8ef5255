#include "args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"

int args_parse_size(const char *s, uint64_t *out)
{
	char *end = NULL;
	unsigned long long v;
	uint64_t mult = 1;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s)
		return -1;
	if (*end != '\0') {
		switch (*end) {
		case 'K':
		case 'k':
			mult = 1024ull;
			break;
		case 'M':
		case 'm':
			mult = 1024ull * 1024;
			break;
		case 'G':
		case 'g':
			mult = 1024ull * 1024 * 1024;
			break;
		default:
			return -1;
		}
		if (end[1] != '\0')
			return -1;
	}
	if (v == 0 || v > UINT64_MAX / mult)
		return -1;
	*out = (uint64_t)v * mult;
	return 0;
}

/* Parses a plain positive decimal number of seconds. */
static int parse_seconds(const char *s, uint64_t *out)
{
	char *end = NULL;
	unsigned long long v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v == 0)
		return -1;
	*out = v;
	return 0;
}

int args_parse(int argc, char *const argv[], struct host_args *a, char *err, size_t errlen)
{
	memset(a, 0, sizeof *a);
	a->mem_limit = ARGS_MEM_LIMIT_DEFAULT;

	for (int i = 1; i < argc; i++) {
		const char *opt = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(opt, "--strict") == 0) {
			a->strict = true;
			continue;
		}
		if (strcmp(opt, "--sandbox-debug") == 0) {
			a->sandbox_debug = true;
			continue;
		}
		if (strcmp(opt, "--name") != 0 && strcmp(opt, "--plugin") != 0 &&
		    strcmp(opt, "--mem-limit") != 0 && strcmp(opt, "--cpu-limit") != 0) {
			snprintf(err, errlen, "unknown argument '%s'", opt);
			return -1;
		}
		if (val == NULL) {
			snprintf(err, errlen, "%s needs a value", opt);
			return -1;
		}
		i++;
		if (strcmp(opt, "--name") == 0) {
			a->name = val;
		} else if (strcmp(opt, "--plugin") == 0) {
			a->plugin = val;
		} else if (strcmp(opt, "--mem-limit") == 0) {
			if (args_parse_size(val, &a->mem_limit) < 0) {
				snprintf(err, errlen, "--mem-limit: '%s' is not a size", val);
				return -1;
			}
		} else if (parse_seconds(val, &a->cpu_limit) < 0) {
			snprintf(err, errlen, "--cpu-limit: '%s' is not a number of seconds", val);
			return -1;
		}
	}
	if (a->name == NULL || a->plugin == NULL) {
		snprintf(err, errlen, "--name and --plugin are required");
		return -1;
	}
	if (!name_plugin_valid(a->name)) {
		snprintf(err, errlen, "--name '%s' is not a valid plugin name", a->name);
		return -1;
	}
	/* builtin:<name> runs a plugin compiled into the host (builtin.h). */
	if (name_builtin(a->plugin) != NULL) {
		if (strcmp(name_builtin(a->plugin), a->name) != 0) {
			snprintf(err, errlen, "--plugin '%s' does not name the built-in '%s'",
				 a->plugin, a->name);
			return -1;
		}
	} else if (a->plugin[0] != '/') {
		snprintf(err, errlen, "--plugin '%s' is not an absolute path", a->plugin);
		return -1;
	}
	if (strlen(a->plugin) >= 4096) {
		snprintf(err, errlen, "--plugin path too long");
		return -1;
	}
	return 0;
}
