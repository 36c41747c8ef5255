/*
 * http_events: drives POST /api/events of a running daemon over one
 * keep-alive HTTP/1.1 connection on loopback (raw sockets, TCP_NODELAY).
 *
 *   http_events throughput PORT PLUGIN EVENTS BATCH [ROOM]
 *       Posts EVENTS events in batches of BATCH and times them from the
 *       first POST until the plugin's status says every one was delivered
 *       (acknowledged by the host). It never has more than ROOM events
 *       (default 4000, under the default queue_max 4096 + window 32)
 *       outstanding, reading "delivered" from the plugin's status, so the
 *       figure is delivered events, not dropped ones. Prints events_per_s
 *       and events_dropped.
 *   http_events latency PORT RATE SECONDS
 *       Posts single events at RATE per second, each stamped with t0_ns
 *       (CLOCK_MONOTONIC) just before it is sent; the counter plugin turns
 *       the stamps into latencies. Prints nothing on success.
 *   http_events fanout PORT PREFIX N EVENTS BATCH [ROOM]
 *       The same stream to N subscribed plugins whose names start with
 *       PREFIX: flow control and the clock follow the slowest of them,
 *       read from /metrics (one page for all). Prints two numbers:
 *       deliveries per second (EVENTS x N over the time until every
 *       plugin acknowledged every event) and the drops, summed.
 *   http_events post PORT TYPE
 *       Posts one event of TYPE (plugin.counter.report asks for the report).
 *
 * A bearer token, when the daemon wants one, comes from SS_TOKEN.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "writev_all.h"

#define RESP_MAX (1 << 20)

struct conn {
	int fd;
	int port;
	char buf[RESP_MAX];
	size_t len;
};

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int conn_open(struct conn *c, int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int one = 1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->port = port;
	c->len = 0;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		fprintf(stderr, "http_events: connect 127.0.0.1:%d: %s\n", port, strerror(errno));
		return -1;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return 0;
}

/*
 * One request and its response. Returns the status code, with the body
 * NUL-terminated in c->buf from *body_off, or -1 when the connection failed.
 */
static int http(struct conn *c, const char *method, const char *path, const char *body, size_t blen,
		size_t *body_off)
{
	const char *token = getenv("SS_TOKEN");
	char head[512], auth[300] = "";
	struct iovec iov[2];
	size_t hl, need = 0;
	int status = -1;
	char *end;

	if (token != NULL && token[0] != '\0')
		snprintf(auth, sizeof auth, "Authorization: Bearer %s\r\n", token);
	hl = (size_t)snprintf(head, sizeof head,
			      "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%s"
			      "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
			      method, path, c->port, auth, blen);
	iov[0] = (struct iovec){head, hl};
	iov[1] = (struct iovec){(void *)body, blen};
	if (writev_all(c->fd, iov, blen ? 2 : 1) < 0)
		return -1;
	c->len = 0;
	for (;;) {
		ssize_t n;
		if (c->len >= 4) {
			c->buf[c->len] = '\0';
			end = strstr(c->buf, "\r\n\r\n");
			if (end != NULL && status < 0) {
				char *cl = strcasestr(c->buf, "\r\nContent-Length:");
				if (sscanf(c->buf, "HTTP/1.%*d %d", &status) != 1 || cl == NULL ||
				    cl > end) {
					fprintf(stderr, "http_events: bad response head\n");
					return -1;
				}
				need = (size_t)(end + 4 - c->buf) + strtoul(cl + 17, NULL, 10);
				if (need >= sizeof c->buf) {
					fprintf(stderr, "http_events: response too large\n");
					return -1;
				}
			}
			if (status >= 0 && c->len >= need) {
				c->buf[need] = '\0';
				*body_off = (size_t)(end + 4 - c->buf);
				return status;
			}
		}
		n = read(c->fd, c->buf + c->len, sizeof c->buf - 1 - c->len);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			fprintf(stderr, "http_events: connection closed\n");
			return -1;
		}
		c->len += (size_t)n;
	}
}

/* An integer field of the plugin's status, or -1. */
static int64_t status_field(struct conn *c, const char *plugin, const char *field)
{
	char path[256];
	size_t off;
	json_object *o, *v;
	int64_t r = -1;

	snprintf(path, sizeof path, "/api/plugins/marketplace/installed/%s", plugin);
	if (http(c, "GET", path, "", 0, &off) != 200)
		return -1;
	o = json_tokener_parse(c->buf + off);
	if (o != NULL && json_object_object_get_ex(o, field, &v) &&
	    json_object_is_type(v, json_type_int))
		r = json_object_get_int64(v);
	json_object_put(o);
	return r;
}

/* Appends one event object to buf at *len (buf has room). */
static void put_event(char *buf, size_t *len, int64_t seq)
{
	*len += (size_t)sprintf(buf + *len,
				"{\"type\":\"session.created\",\"data\":{\"t0_ns\":%" PRId64
				",\"session_id\":\"s-%08" PRId64 "\",\"user\":\"bench\"}}",
				now_ns(), seq);
}

static int post_ok(struct conn *c, const char *body, size_t len)
{
	size_t off;
	int st = http(c, "POST", "/api/events", body, len, &off);
	if (st != 202) {
		fprintf(stderr, "http_events: POST /api/events: %d %s\n", st,
			st > 0 ? c->buf + off : "");
		return -1;
	}
	return 0;
}

/*
 * The smallest value, over the plugins whose names start with prefix, of
 * /metrics' series streamspace_plugin_<series>, and their sum; -1 unless
 * exactly n plugins have one.
 */
static int64_t metrics_min(struct conn *c, const char *series, const char *prefix, long n,
			   int64_t *sum)
{
	char head[128];
	size_t off, hl, pl = strlen(prefix);
	int64_t min = -1;
	long seen = 0;

	if (http(c, "GET", "/metrics", "", 0, &off) != 200)
		return -1;
	hl = (size_t)snprintf(head, sizeof head, "streamspace_plugin_%s{plugin=\"", series);
	*sum = 0;
	for (char *line = c->buf + off; line != NULL && *line != '\0';) {
		char *nl = strchr(line, '\n');
		if (strncmp(line, head, hl) == 0 && strncmp(line + hl, prefix, pl) == 0) {
			char *sp = strchr(line, ' ');
			int64_t v = sp ? strtoll(sp + 1, NULL, 10) : -1;
			if (v < 0)
				return -1;
			if (min < 0 || v < min)
				min = v;
			*sum += v;
			seen++;
		}
		line = nl ? nl + 1 : NULL;
	}
	return seen == n ? min : -1;
}

/* Whose deliveries are counted: one plugin (n == 0) or the n named prefix*. */
struct target {
	const char *name;
	long n;
};

/* The target's delivered count (for n plugins the slowest one's), or -1. */
static int64_t delivered_of(struct conn *c, const struct target *t)
{
	int64_t sum;

	if (t->n == 0)
		return status_field(c, t->name, "delivered");
	return metrics_min(c, "delivered", t->name, t->n, &sum);
}

/* The target's drops (for n plugins summed), or -1. */
static int64_t dropped_of(struct conn *c, const struct target *t)
{
	int64_t sum;

	if (t->n == 0)
		return status_field(c, t->name, "dropped");
	return metrics_min(c, "dropped", t->name, t->n, &sum) < 0 ? -1 : sum;
}

/*
 * Posts events in batches, never more than room beyond what the target
 * has acknowledged, and times them until it acknowledged the last. The
 * elapsed nanoseconds and the drops go to *ns and *dropped.
 */
static int drive(struct conn *c, const struct target *t, long events, long batch, long room,
		 int64_t *ns, int64_t *dropped)
{
	size_t cap = (size_t)batch * 128 + 16, len;
	char *body = malloc(cap);
	int64_t base, delivered, posted = 0, t0, dropped0;
	int rc = 1;

	if (body == NULL)
		return 70;
	base = delivered_of(c, t);
	dropped0 = dropped_of(c, t);
	if (base < 0 || dropped0 < 0) {
		fprintf(stderr, "http_events: no counts for %s%s\n", t->name, t->n ? "*" : "");
		goto out;
	}
	/* For n plugins every one starts from the same count: each saw the same events. */
	delivered = base;
	t0 = now_ns();
	while (posted < events) {
		long n = events - posted < batch ? (long)(events - posted) : batch;
		/* Flow control: never more outstanding than the plugin's queue takes. */
		while (posted - (delivered - base) + n > room) {
			delivered = delivered_of(c, t);
			if (delivered < 0)
				goto out;
			if (posted - (delivered - base) + n > room)
				usleep(200);
		}
		len = 0;
		body[len++] = '[';
		for (long i = 0; i < n; i++) {
			if (i > 0)
				body[len++] = ',';
			put_event(body, &len, posted + i);
		}
		body[len++] = ']';
		if (post_ok(c, body, len) < 0)
			goto out;
		posted += n;
	}
	while ((delivered = delivered_of(c, t)) - base < events) {
		if (delivered < 0)
			goto out;
		usleep(200);
	}
	*ns = now_ns() - t0;
	if ((*dropped = dropped_of(c, t)) < 0)
		goto out;
	*dropped -= dropped0;
	rc = 0;
out:
	free(body);
	return rc;
}

static int throughput(struct conn *c, const char *plugin, long events, long batch, long room)
{
	int64_t ns, dropped;
	int rc = drive(c, &(struct target){plugin, 0}, events, batch, room, &ns, &dropped);

	if (rc == 0) {
		printf("events_per_s %.0f events/s\n", (double)events * 1e9 / (double)ns);
		printf("events_dropped %" PRId64 " events\n", dropped);
	}
	return rc;
}

static int fanout(struct conn *c, const char *prefix, long nplugins, long events, long batch,
		  long room)
{
	int64_t ns, dropped;
	int rc = drive(c, &(struct target){prefix, nplugins}, events, batch, room, &ns, &dropped);

	if (rc == 0)
		printf("%.0f %" PRId64 "\n", (double)events * (double)nplugins * 1e9 / (double)ns,
		       dropped);
	return rc;
}

static int latency(struct conn *c, long rate, long seconds)
{
	int64_t period = 1000000000 / rate, start = now_ns() + 1000000;
	long total = rate * seconds;
	char body[256];

	for (long i = 0; i < total; i++) {
		int64_t due = start + i * period;
		struct timespec ts = {(time_t)(due / 1000000000), (long)(due % 1000000000)};
		size_t len = 0;

		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
		put_event(body, &len, i);
		if (post_ok(c, body, len) < 0)
			return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct conn *c = calloc(1, sizeof *c);
	int rc = 64;

	if (c == NULL)
		return 70;
	c->fd = -1;
	if (argc >= 6 && argc <= 7 && strcmp(argv[1], "throughput") == 0) {
		rc = conn_open(c, atoi(argv[2])) < 0
			 ? 1
			 : throughput(c, argv[3], atol(argv[4]), atol(argv[5]),
				      argc == 7 ? atol(argv[6]) : 4000);
	} else if (argc >= 7 && argc <= 8 && strcmp(argv[1], "fanout") == 0) {
		rc = conn_open(c, atoi(argv[2])) < 0
			 ? 1
			 : fanout(c, argv[3], atol(argv[4]), atol(argv[5]), atol(argv[6]),
				  argc == 8 ? atol(argv[7]) : 4000);
	} else if (argc == 5 && strcmp(argv[1], "latency") == 0) {
		rc = conn_open(c, atoi(argv[2])) < 0 ? 1 : latency(c, atol(argv[3]), atol(argv[4]));
	} else if (argc == 4 && strcmp(argv[1], "post") == 0) {
		char body[256];
		snprintf(body, sizeof body, "{\"type\":\"%.200s\"}", argv[3]);
		rc = conn_open(c, atoi(argv[2])) < 0 || post_ok(c, body, strlen(body)) < 0 ? 1 : 0;
	} else {
		fprintf(stderr, "usage: http_events throughput PORT PLUGIN EVENTS BATCH [ROOM]\n"
				"       http_events fanout PORT PREFIX N EVENTS BATCH [ROOM]\n"
				"       http_events latency PORT RATE SECONDS\n"
				"       http_events post PORT TYPE\n");
	}
	if (c->fd >= 0)
		close(c->fd);
	free(c);
	return rc;
}
