/* The marketplace's error report (pkg_error.h). */
#include "pkg_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void pkg_error_clear(struct pkg_error *err)
{
	if (err != NULL)
		memset(err, 0, sizeof *err);
}

/* Copies s into dst, printable ASCII as is and every other byte as \xNN. */
static void escape(char *dst, size_t dstlen, const char *s)
{
	size_t o = 0;

	for (; *s != '\0' && o + 5 < dstlen; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x20 && c < 0x7f && c != '\\')
			dst[o++] = (char)c;
		else
			o += (size_t)snprintf(dst + o, dstlen - o, "\\x%02x", c);
	}
	dst[o] = '\0';
}

void pkg_error_set(struct pkg_error *err, const char *check, const char *subject, const char *fmt,
		   ...)
{
	char text[512];
	va_list ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	snprintf(err->check, sizeof err->check, "%s", check);
	escape(err->subject, sizeof err->subject, subject ? subject : "");
	if (err->subject[0] != '\0')
		snprintf(err->message, sizeof err->message, "%s: %s", err->subject, text);
	else
		snprintf(err->message, sizeof err->message, "%s", text);
}
