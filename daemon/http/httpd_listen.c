/* httpd's listening socket (httpd_int.h). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "httpd_int.h"
#include "xmalloc.h"

/*
 * ADDRESS:PORT, numeric, with a port ("127.0.0.1:8080", "[::1]:8080"). Port
 * 0 (any free port: tests) is given as the address alone, the one form in
 * which evutil_parse_sockaddr_port accepts it.
 */
static int parse_listen(const char *s, struct sockaddr_storage *ss, int *len, char *err,
			size_t errlen)
{
	const char *colon = s ? strrchr(s, ':') : NULL, *bracket = s ? strrchr(s, ']') : NULL;
	char *addr = NULL;
	int rc = -1;

	*len = (int)sizeof *ss;
	if (s == NULL || colon == NULL || (bracket != NULL && colon < bracket) || colon[1] == '\0')
		goto out;
	addr = strcmp(colon + 1, "0") == 0 ? xstrndup(s, (size_t)(colon - s)) : xstrdup(s);
	rc = evutil_parse_sockaddr_port(addr, (struct sockaddr *)ss, len);
out:
	if (rc < 0)
		snprintf(err, errlen,
			 "--listen wants a numeric ADDRESS:PORT (127.0.0.1:8080, [::1]:8080), "
			 "got \"%s\"",
			 s ? s : "");
	free(addr);
	return rc < 0 ? -1 : 0;
}

int httpd_listen_socket(const char *listen_at, int *port, char *err, size_t errlen)
{
	struct sockaddr_storage ss = {0};
	socklen_t sl;
	int len, fd, one = 1;

	if (parse_listen(listen_at, &ss, &len, err, errlen) < 0)
		return -1;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(fd, (struct sockaddr *)&ss, (socklen_t)len) < 0 || listen(fd, 511) < 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", listen_at, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	sl = sizeof ss;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		*port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						       : ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}
