/* What a request http-parser refuses is answered (httpd_int.h). */
#include <stdbool.h>

#include "httpd_int.h"

/* Whether s starts with what could be a method: upper-case letters, then a space. */
static bool method_like(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && s[i] >= 'A' && s[i] <= 'Z')
		i++;
	return i > 0 && i < n && s[i] == ' ';
}

void httpd_refusal(enum http_errno e, const char *rest, size_t n, int *status, const char **code,
		   const char **msg)
{
	*status = 400;
	*code = "bad_request";
	*msg = http_errno_description(e);
	switch (e) {
	case HPE_HEADER_OVERFLOW:
		*status = 431;
		*code = "headers_too_large";
		*msg = "request line and headers over 16384 bytes";
		break;
	case HPE_INVALID_METHOD:
		if (!method_like(rest, n)) {
			/* Not a method we do not know, but no HTTP at all. */
			*msg = "not an HTTP request";
			break;
		}
		*status = 405;
		*code = "method_not_allowed";
		*msg = "unknown method";
		break;
	case HPE_UNEXPECTED_CONTENT_LENGTH:
		*msg =
		    "conflicting framing: several Content-Length, or one beside Transfer-Encoding";
		break;
	case HPE_INVALID_CONTENT_LENGTH:
		*msg = "Content-Length must be decimal digits";
		break;
	case HPE_INVALID_TRANSFER_ENCODING:
		*msg = "Transfer-Encoding must end with chunked";
		break;
	default:
		break;
	}
}
