#include "diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

static const char *name_ = "?";

void diag_set_name(const char *name)
{
	name_ = name;
}

const char *diag_name(void)
{
	return name_;
}

/* Formats into a stack buffer and writes it once, so lines never interleave. */
__attribute__((format(printf, 1, 0))) static void vdiag(const char *fmt, va_list ap)
{
	char line[1024];
	int n = snprintf(line, sizeof line, "plugin-host[%s]: ", name_);

	if (n < 0 || (size_t)n >= sizeof line)
		return;
	int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
	if (m < 0)
		return;
	size_t len = (size_t)n + (size_t)m;
	if (len > sizeof line - 2)
		len = sizeof line - 2;
	line[len++] = '\n';
	/* Best effort: a full or closed log pipe must not stop the host. */
	ssize_t w = write(STDERR_FILENO, line, len);
	(void)w;
}

void diag(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vdiag(fmt, ap);
	va_end(ap);
}

void die(int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vdiag(fmt, ap);
	va_end(ap);
	_exit(status);
}

void host_exit(int status)
{
	_exit(status);
}
