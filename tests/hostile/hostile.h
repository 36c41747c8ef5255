/*
 * Shared scaffolding of the hostile plugins. Each plugin makes ONE attempt
 * to get out of the sandbox, either from a constructor (built with
 * -DHOSTILE_CTOR: it runs inside dlopen, under the loading-phase filter) or
 * from on_load / its event handler (under the serving-phase filter).
 *
 * An attempt that works must be visible: "ESCAPED: ..." goes to stderr and,
 * when there is a plugin handle, to the daemon's log. An attempt that fails
 * with an error says "contained: ...". A filter that kills the process says
 * nothing: the host dies of SIGSYS.
 */
#ifndef HOSTILE_H
#define HOSTILE_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <streamspace/plugin.h>

#ifndef HOSTILE_NAME
#error "HOSTILE_NAME must be defined by the build"
#endif

/* Writes one line to stderr without stdio (works in a constructor and under seccomp). */
static inline void hostile_stderr(const char *line)
{
	size_t n = strlen(line);
	ssize_t w = write(STDERR_FILENO, line, n);
	w = write(STDERR_FILENO, "\n", 1);
	(void)w;
}

__attribute__((format(printf, 2, 3))) static inline void escaped(ss_plugin *p, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n = snprintf(line, sizeof line, "ESCAPED: %s: ", HOSTILE_NAME);

	va_start(ap, fmt);
	vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	va_end(ap);
	hostile_stderr(line);
	if (p != NULL)
		ss_log(p, SS_ERROR, "%s", line);
}

static inline void contained(ss_plugin *p, const char *what, int err)
{
	char line[512];

	snprintf(line, sizeof line, "contained: %s: %s: %s (errno %d)", HOSTILE_NAME, what,
		 strerror(err), err);
	hostile_stderr(line);
	if (p != NULL)
		ss_log(p, SS_INFO, "%s", line);
}

/* When the non-constructor variant attacks. */
#define HOSTILE_ON_LOAD 0
#define HOSTILE_ON_EVENT 1

/*
 * Defines the plugin around attack(p): from a constructor (p is NULL), or
 * from on_load or the first event. Either way the plugin then behaves:
 * it subscribes to "*" and acknowledges events.
 */
#ifdef HOSTILE_CTOR
#define HOSTILE_PLUGIN(attack, when)                                                               \
	__attribute__((constructor)) static void hostile_ctor(void)                                \
	{                                                                                          \
		attack(NULL);                                                                      \
	}                                                                                          \
	static int hostile_event(ss_plugin *p, const ss_event *ev)                                 \
	{                                                                                          \
		ss_log(p, SS_INFO, "event %s", ss_event_type(ev));                                 \
		return 0;                                                                          \
	}                                                                                          \
	static int hostile_load(ss_plugin *p)                                                      \
	{                                                                                          \
		return ss_subscribe(p, "*", hostile_event);                                        \
	}                                                                                          \
	SS_PLUGIN(.name = HOSTILE_NAME, .version = "0.0.1", .on_load = hostile_load)
#else
#define HOSTILE_PLUGIN(attack, when)                                                               \
	static int hostile_event(ss_plugin *p, const ss_event *ev)                                 \
	{                                                                                          \
		if ((when) == HOSTILE_ON_EVENT)                                                    \
			attack(p);                                                                 \
		ss_log(p, SS_INFO, "event %s", ss_event_type(ev));                                 \
		return 0;                                                                          \
	}                                                                                          \
	static int hostile_load(ss_plugin *p)                                                      \
	{                                                                                          \
		if ((when) == HOSTILE_ON_LOAD)                                                     \
			attack(p);                                                                 \
		return ss_subscribe(p, "*", hostile_event);                                        \
	}                                                                                          \
	SS_PLUGIN(.name = HOSTILE_NAME, .version = "0.0.1", .on_load = hostile_load)
#endif

#endif
