/*
 * httpd's helpers that hold no connection state, for httpd.c only: the
 * answer to a request http-parser refuses (httpd_refusal.c) and the
 * listening socket (httpd_listen.c).
 */
#ifndef SS_HTTPD_INT_H
#define SS_HTTPD_INT_H

#include <http_parser.h>
#include <stddef.h>

/*
 * The status, JSON error code and message for parse error e; rest (n
 * bytes) is the input from where the parser stopped, which tells an
 * unknown method (405) from no HTTP at all (400).
 */
void httpd_refusal(enum http_errno e, const char *rest, size_t n, int *status, const char **code,
		   const char **msg);

/*
 * A non-blocking listening socket on listen, a numeric ADDRESS:PORT
 * ("127.0.0.1:8080", "[::1]:8080", port 0 for any), and the port bound in
 * *port; -1 with a message in err.
 */
int httpd_listen_socket(const char *listen, int *port, char *err, size_t errlen);

#endif
