#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static enum log_level current = LOG_LVL_INFO;
static const char *const names[] = {"debug", "info", "warn", "error"};

void log_set_level(enum log_level level)
{
	current = level;
}

enum log_level log_get_level(void)
{
	return current;
}

int log_level_parse(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	if (strcmp(s, "warning") == 0)
		return LOG_LVL_WARN;
	return -1;
}

const char *log_level_name(enum log_level level)
{
	return (unsigned)level < 4 ? names[level] : "info";
}

void log_sanitize(char *s)
{
	for (unsigned char *p = (unsigned char *)s; *p; p++)
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			*p = ' ';
}

void log_msgv(enum log_level level, const char *where, const char *fmt, va_list ap)
{
	char line[8192];
	int n;

	if (level < current)
		return;
	n = snprintf(line, sizeof line, "%s %s: ", names[level], where ? where : "streamspaced");
	if (n < 0)
		return;
	if ((size_t)n < sizeof line)
		vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	/* One fputs per record so lines from one process never interleave. */
	fprintf(stderr, "%s\n", line);
}

void log_msg(enum log_level level, const char *where, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_msgv(level, where, fmt, ap);
	va_end(ap);
}

void fatal(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_msgv(LOG_LVL_ERROR, "fatal", fmt, ap);
	va_end(ap);
	abort();
}
