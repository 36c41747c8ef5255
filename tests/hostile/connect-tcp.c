/* Connects to 127.0.0.1:<config "port"> over TCP (the test listens there). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "hostile.h"

static void attack(ss_plugin *p)
{
	struct sockaddr_in sa;
	/* A constructor has no configuration yet: any port will do, the socket is refused first. */
	int port = p != NULL ? (int)ss_config_int(p, "port", 9) : 9;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0) {
		contained(p, "socket(AF_INET)", errno);
		return;
	}
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		contained(p, "connect 127.0.0.1", errno);
		close(fd);
		return;
	}
	escaped(p, "connected to 127.0.0.1:%d", port);
	close(fd);
}

HOSTILE_PLUGIN(attack, HOSTILE_ON_LOAD);
