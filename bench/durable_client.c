/*
 * durable_client: the clients of bench/durable.py, in C, so that the figure
 * is the daemon's and the database's, not the client's (8 Python threads
 * on the 2 cores of the bench machine took ~1.7 us of CPU per event, as much
 * as a third of the daemon's). Each client is a thread with one keep-alive
 * HTTP/1.1 connection on loopback (TCP_NODELAY) and one request in flight.
 *
 *   durable_client batches PORTS CLIENTS REQUESTS BATCH
 *       CLIENTS clients (spread over the comma-separated PORTS, client i on
 *       port i mod n) each post REQUESTS arrays of BATCH events and want 202
 *       for every one. Prints events_per_s (every client's events over the
 *       time from the first POST to the last 202).
 *   durable_client single PORT CLIENTS REQUESTS
 *       CLIENTS clients each post REQUESTS single events, one at a time.
 *       Prints latency_p99_us and latency_p50_us over every POST.
 *
 * The event is bench/durable.py's and the COPY baseline's row. A bearer
 * token comes from SS_TOKEN. Exit status 1 on any answer but 202.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "writev_all.h"

#define EVENT                                                                                      \
	"{\"type\": \"session.created\", \"data\": {\"session_id\": \"s-0001\", \"user\": "        \
	"\"alice\", \"n\": 1}}"
#define RESP_MAX (1 << 20)
#define CLIENTS_MAX 64

struct client {
	pthread_t thread;
	int port;
	long requests;
	const char *body;
	size_t blen;
	int64_t *lat_ns; /* requests entries, or NULL */
	int failed;
	char buf[RESP_MAX];
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int dial(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		fprintf(stderr, "durable_client: connect 127.0.0.1:%d: %s\n", port,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

/* One POST /api/events; its status, or -1 when the connection failed. */
static int post(struct client *c, int fd, const char *head, size_t hl)
{
	struct iovec iov[2] = {{(void *)head, hl}, {(void *)c->body, c->blen}};
	size_t len = 0, need = 0;
	int status = -1;

	if (writev_all(fd, iov, 2) < 0)
		return -1;
	for (;;) {
		ssize_t n = read(fd, c->buf + len, sizeof c->buf - 1 - len);
		char *end;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		len += (size_t)n;
		c->buf[len] = '\0';
		end = strstr(c->buf, "\r\n\r\n");
		if (end == NULL)
			continue;
		if (status < 0) {
			char *cl = strcasestr(c->buf, "\r\nContent-Length:");

			if (sscanf(c->buf, "HTTP/1.%*d %d", &status) != 1 || cl == NULL || cl > end)
				return -1;
			need = (size_t)(end + 4 - c->buf) + strtoul(cl + 17, NULL, 10);
			if (need >= sizeof c->buf)
				return -1;
		}
		if (len >= need)
			return len == need ? status
					   : -1; /* one request in flight: nothing after it */
	}
}

static void *run(void *arg)
{
	struct client *c = arg;
	const char *token = getenv("SS_TOKEN");
	char head[512], auth[300] = "";
	size_t hl;
	int fd = dial(c->port);

	if (fd < 0) {
		c->failed = 1;
		return NULL;
	}
	if (token != NULL && token[0] != '\0')
		snprintf(auth, sizeof auth, "Authorization: Bearer %.250s\r\n", token);
	hl = (size_t)snprintf(head, sizeof head,
			      "POST /api/events HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%s"
			      "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
			      c->port, auth, c->blen);
	for (long i = 0; i < c->requests; i++) {
		int64_t t0 = now_ns();
		int st = post(c, fd, head, hl);

		if (c->lat_ns != NULL)
			c->lat_ns[i] = now_ns() - t0;
		if (st != 202) {
			fprintf(stderr, "durable_client: POST /api/events: %d %.300s\n", st,
				st > 0 ? c->buf : "");
			c->failed = 1;
			break;
		}
	}
	close(fd);
	return NULL;
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Runs nclients clients over ports; the elapsed ns, or -1 when one failed. */
static int64_t run_all(struct client *cs, int nclients)
{
	int64_t t0 = now_ns();
	int failed = 0;

	for (int i = 0; i < nclients; i++)
		if (pthread_create(&cs[i].thread, NULL, run, &cs[i]) != 0)
			return -1;
	for (int i = 0; i < nclients; i++) {
		pthread_join(cs[i].thread, NULL);
		failed |= cs[i].failed;
	}
	return failed ? -1 : now_ns() - t0;
}

int main(int argc, char **argv)
{
	int ports[CLIENTS_MAX], nports = 0, nclients;
	bool single = argc == 5 && strcmp(argv[1], "single") == 0;
	long requests, batch = 1;
	struct client *cs = NULL;
	char *body = NULL, *list, *tok, *save = NULL;
	size_t blen = 0, el = strlen(EVENT);
	int64_t ns, *lat = NULL;
	int rc = 1;

	if (!single && !(argc == 6 && strcmp(argv[1], "batches") == 0)) {
		fprintf(stderr, "usage: durable_client batches PORTS CLIENTS REQUESTS BATCH\n"
				"       durable_client single PORT CLIENTS REQUESTS\n");
		return 64;
	}
	list = strdup(argv[2]);
	for (tok = strtok_r(list, ",", &save); tok && nports < CLIENTS_MAX;
	     tok = strtok_r(NULL, ",", &save))
		ports[nports++] = atoi(tok);
	free(list);
	nclients = atoi(argv[3]);
	requests = atol(argv[4]);
	if (!single)
		batch = atol(argv[5]);
	if (nports == 0 || nclients < 1 || nclients > CLIENTS_MAX || requests < 1 || batch < 1)
		return 64;
	/* The same bytes for every request: [EVENT, EVENT, ...], or EVENT alone. */
	body = malloc((size_t)batch * (el + 2) + 2);
	cs = calloc((size_t)nclients, sizeof *cs);
	if (single)
		lat = calloc((size_t)(nclients * requests), sizeof *lat);
	if (body == NULL || cs == NULL || (single && lat == NULL))
		goto out;
	if (!single)
		body[blen++] = '[';
	for (long i = 0; i < batch; i++) {
		if (i > 0) {
			memcpy(body + blen, ", ", 2);
			blen += 2;
		}
		memcpy(body + blen, EVENT, el);
		blen += el;
	}
	if (!single)
		body[blen++] = ']';
	for (int i = 0; i < nclients; i++) {
		cs[i].port = ports[i % nports];
		cs[i].requests = requests;
		cs[i].body = body;
		cs[i].blen = blen;
		cs[i].lat_ns = single ? lat + (size_t)i * (size_t)requests : NULL;
	}
	ns = run_all(cs, nclients);
	if (ns <= 0)
		goto out;
	if (single) {
		size_t n = (size_t)(nclients * requests);

		qsort(lat, n, sizeof *lat, cmp64);
		printf("latency_p99_us %.0f us\n", (double)lat[n * 99 / 100] / 1e3);
		printf("latency_p50_us %.0f us\n", (double)lat[n / 2] / 1e3);
	} else {
		printf("events_per_s %.0f events/s\n",
		       (double)nclients * (double)requests * (double)batch * 1e9 / (double)ns);
	}
	rc = 0;
out:
	free(lat);
	free(cs);
	free(body);
	return rc;
}
