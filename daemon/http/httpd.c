/*
 * The HTTP/1.1 server under the API (see httpd.h).
 *
 * Why our own connection layer over http-parser rather than evhttp or
 * libmicrohttpd: both of those answer a request they cannot parse (framing,
 * oversize headers, a malformed Content-Length, an unknown method in evhttp)
 * with a fixed HTML page that no hook replaces, and both read header values
 * as C strings, so "Bearer <token>\0junk" arrives as "Bearer <token>".
 * http-parser only parses, strictly, and leaves every byte we send to us.
 * daemon/README.md has the full comparison.
 *
 * A connection is READING (parsing; a deadline runs from the first byte of a
 * request, or an idle timeout between requests), HANDLING (a complete request
 * is with the API; reading is off, so pipelined requests wait in the input
 * buffer and memory stays bounded) or CLOSING (the last answer is queued:
 * once written, our side is shut and the client's remaining bytes are read
 * and discarded for a moment, so a client still sending gets the answer
 * rather than a reset). A client that goes away while its request is
 * HANDLING leaves the connection object alive until the answer comes.
 * A request answered with a stream (httpd_stream_begin) is STREAMING: the
 * answer's head is sent without a length, the body ends with the
 * connection, what the client sends is read and dropped (so its close is
 * seen at once), and at most max_pending bytes wait for a client that does
 * not read: one more write ends the stream rather than grow the buffer.
 * A complete request that adds events (httpd_options.holds) while the bus
 * holds the ingress is kept (HANDLING, not yet with the API; gate.h) until
 * the hold lifts; a client that goes away meanwhile frees it at once.
 */
#define _GNU_SOURCE
#include "httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <http_parser.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "httpd_int.h"
#include "gate.h"
#include "log.h"
#include "xmalloc.h"

#define HTTPD_MAX_HEAD 16384  /* request line and headers, bytes */
#define HTTPD_MAX_HEADERS 100 /* header fields */
#define HTTPD_LINGER_MS 2000  /* reading what a refused client still sends */
#define HTTPD_ACCEPT_PAUSE_MS 200
#define HTTPD_OUT_MAX (256 * 1024) /* answers queued to a client that does not read */
#define HTTPD_TURN_REQUESTS 32	   /* requests per loop turn unless told (gate.h) */
#define HTTPD_HOLD_MAX_MS 500	   /* the longest hold unless told (gate.h) */

enum conn_state { C_READING, C_HANDLING, C_STREAMING, C_CLOSING };

struct httpd_conn {
	struct httpd *h;
	struct bufferevent *bev; /* NULL once the client is gone */
	struct event *timer;
	http_parser parser;
	enum conn_state state;
	bool in_request; /* a request has begun (its deadline runs) */
	bool keepalive;	 /* of the request being handled */
	bool last_value; /* the last header callback was a value */
	bool parsing;	 /* inside conn_parse */
	bool out_full;	 /* reading waits for the client to take HTTPD_OUT_MAX / 2 of its answers */
	bool kept;	 /* HANDLING: a request the hold keeps, not yet handed on */
	int fail_status; /* set by a parser callback that refuses the request */
	const char *fail_code, *fail_msg;
	char *target;
	size_t target_len;
	struct httpd_header *hdr;
	size_t nhdr, hdr_alloc, name_len, value_len;
	struct httpd_request req;
	size_t stream_max;		      /* STREAMING: bytes that may wait for the client */
	httpd_stream_closed_fn stream_closed; /* STREAMING: the client went away */
	void *stream_arg;
	struct gate_waiter turn; /* waits here for the gate when it may not go on */
	LIST_ENTRY(httpd_conn) entry;
};

struct httpd {
	struct event_base *base;
	struct evconnlistener *lev;
	struct event *resume; /* re-enables accepting after EMFILE */
	struct httpd_options o;
	int port;
	httpd_request_fn fn;
	void *arg;
	http_parser_settings settings;
	struct gate *gate; /* which connections may hand a request on now */
	LIST_HEAD(, httpd_conn) conns;
};

static void conn_parse(struct httpd_conn *c);

json_object *httpd_error_body(const char *code, const char *message)
{
	json_object *body = json_object_new_object(), *e = json_object_new_object();

	json_object_object_add(e, "code", json_object_new_string(code));
	json_object_object_add(e, "message", json_object_new_string(message));
	json_object_object_add(body, "error", e);
	return body;
}

const char *httpd_header(const struct httpd_request *r, const char *name)
{
	for (size_t i = 0; i < r->nheaders; i++)
		if (strcasecmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	return NULL;
}

static void timer_arm(struct httpd_conn *c, int ms)
{
	struct timeval tv = clock_tv(ms);
	evtimer_add(c->timer, &tv);
}

static void request_clear(struct httpd_conn *c)
{
	for (size_t i = 0; i < c->nhdr; i++) {
		free(c->hdr[i].name);
		free(c->hdr[i].value);
	}
	c->nhdr = 0;
	c->name_len = c->value_len = 0;
	c->last_value = false;
	free(c->target);
	c->target = NULL;
	c->target_len = 0;
	if (c->req.body != NULL)
		evbuffer_drain(c->req.body, evbuffer_get_length(c->req.body));
	c->fail_status = 0;
	c->in_request = false;
}

static void conn_free(struct httpd_conn *c)
{
	gate_unwait(c->h->gate, &c->turn);
	request_clear(c);
	free(c->hdr);
	if (c->req.body != NULL)
		evbuffer_free(c->req.body);
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	event_free(c->timer);
	LIST_REMOVE(c, entry);
	free(c);
}

/* The client is gone or done: free now, or, while its request is handled, at the answer. */
static void conn_gone(struct httpd_conn *c)
{
	if (c->state == C_STREAMING) {
		httpd_stream_closed_fn fn = c->stream_closed;
		void *arg = c->stream_arg;

		conn_free(c);
		fn(arg);
		return;
	}
	if (c->state == C_HANDLING && !c->kept) {
		if (c->bev != NULL) {
			bufferevent_free(c->bev);
			c->bev = NULL;
		}
		evtimer_del(c->timer);
		return;
	}
	conn_free(c);
}

/*
 * The output went down to the write low-watermark. After the last answer
 * (CLOSING, watermark 0: all written) our side is shut and what the client
 * still sends is read and dropped (read_cb) until its EOF or the linger
 * timer, so it reads the answer instead of a reset. A client that pipelines
 * without reading its answers had reading paused (out_full): it resumes.
 */
static void write_done(struct bufferevent *bev, void *arg)
{
	struct httpd_conn *c = arg;

	if (c->state == C_CLOSING) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) > 0)
			return;
		shutdown(bufferevent_getfd(bev), SHUT_WR);
		timer_arm(c, HTTPD_LINGER_MS);
		bufferevent_enable(bev, EV_READ);
		return;
	}
	if (c->out_full) {
		c->out_full = false;
		bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
		bufferevent_enable(bev, EV_READ);
		if (evbuffer_get_length(bufferevent_get_input(bev)) > 0)
			bufferevent_trigger(bev, EV_READ,
					    BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
	}
}

/* The status line and Date (RFC 9110 6.6.1: an origin server with a clock sends it). */
static void status_line(struct evbuffer *out, int status)
{
	static time_t last;
	static char date[64];
	const char *reason = http_status_str((enum http_status)status);
	time_t now = time(NULL);
	struct tm tm;

	if (now != last && gmtime_r(&now, &tm) != NULL) {
		strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
		last = now;
	}
	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nDate: %s\r\n", status,
			    strcmp(reason, "<unknown>") == 0 ? "Unknown" : reason, date);
}

void httpd_respond(struct httpd_conn *c, int status, const char *content_type,
		   const struct httpd_header *extra, size_t n, const void *body, size_t len)
{
	struct evbuffer *out;
	bool head = c->req.head;

	if (c->state != C_HANDLING)
		fatal("httpd_respond: no request to answer");
	if (c->bev == NULL) {
		/* The client went away meanwhile: the answer has nowhere to go. */
		conn_free(c);
		return;
	}
	out = bufferevent_get_output(c->bev);
	status_line(out, status);
	if (content_type != NULL)
		evbuffer_add_printf(out, "Content-Type: %s\r\n", content_type);
	/* 204 and 304 have no body, and no Content-Length to announce one (RFC 9110 8.6). */
	if (status == 204 || status == 304)
		len = 0;
	else
		evbuffer_add_printf(out, "Content-Length: %zu\r\n", len);
	for (size_t i = 0; i < n; i++)
		evbuffer_add_printf(out, "%s: %s\r\n", extra[i].name, extra[i].value);
	if (!c->keepalive)
		evbuffer_add_printf(out, "Connection: close\r\n");
	else if (c->parser.http_minor == 0)
		evbuffer_add_printf(out, "Connection: keep-alive\r\n");
	evbuffer_add(out, "\r\n", 2);
	if (!head && len > 0)
		evbuffer_add(out, body, len);
	request_clear(c);
	if (!c->keepalive) {
		/* No deadline now: the write timeout, then write_done's linger, end it. */
		evtimer_del(c->timer);
		c->state = C_CLOSING;
		bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
		return;
	}
	c->state = C_READING;
	timer_arm(c, c->h->o.timeout_ms);
	if (evbuffer_get_length(out) > HTTPD_OUT_MAX) {
		/* Memory per client stays bounded: no more requests until it reads. */
		c->out_full = true;
		bufferevent_setwatermark(c->bev, EV_WRITE, HTTPD_OUT_MAX / 2, 0);
		return;
	}
	bufferevent_enable(c->bev, EV_READ);
	/* Requests already buffered (pipelined) are parsed from the loop, not from here. */
	if (!c->parsing && evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
		bufferevent_trigger(c->bev, EV_READ,
				    BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
}

int httpd_stream_begin(struct httpd_conn *c, int status, const char *content_type,
		       const struct httpd_header *extra, size_t n, size_t max_pending,
		       httpd_stream_closed_fn closed, void *arg)
{
	struct evbuffer *out;

	if (c->state != C_HANDLING || closed == NULL)
		fatal("httpd_stream_begin: no request to answer");
	if (c->bev == NULL) {
		conn_free(c);
		return -1;
	}
	out = bufferevent_get_output(c->bev);
	status_line(out, status);
	evbuffer_add_printf(out, "Content-Type: %s\r\n", content_type);
	for (size_t i = 0; i < n; i++)
		evbuffer_add_printf(out, "%s: %s\r\n", extra[i].name, extra[i].value);
	/* No length: the body is everything until the connection closes (RFC 9112 6.3). */
	evbuffer_add_printf(out, "Connection: close\r\n\r\n");
	request_clear(c);
	evtimer_del(c->timer);
	c->state = C_STREAMING;
	c->stream_max = max_pending;
	c->stream_closed = closed;
	c->stream_arg = arg;
	/* Pipelined bytes after this request are dropped; reading shows the client's close. */
	evbuffer_drain(bufferevent_get_input(c->bev),
		       evbuffer_get_length(bufferevent_get_input(c->bev)));
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	bufferevent_enable(c->bev, EV_READ);
	return 0;
}

int httpd_stream_write(struct httpd_conn *c, const void *data, size_t len)
{
	struct evbuffer *out;

	if (c->state != C_STREAMING)
		fatal("httpd_stream_write: not a stream");
	out = bufferevent_get_output(c->bev);
	if (evbuffer_get_length(out) + len > c->stream_max) {
		/* It does not read: ending it is the bound on what it costs us. */
		log_debug("httpd", "a stream client fell %zu bytes behind: closed",
			  evbuffer_get_length(out));
		conn_free(c);
		return -1;
	}
	evbuffer_add(out, data, len);
	return 0;
}

void httpd_stream_close(struct httpd_conn *c)
{
	if (c->state != C_STREAMING)
		fatal("httpd_stream_close: not a stream");
	/* What is queued is still written; then write_done shuts our side and lingers. */
	c->state = C_CLOSING;
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		write_done(c->bev, c);
}

/* A refusal of what the client sent: JSON, and the connection closes after it. */
static void conn_refuse(struct httpd_conn *c, int status, const char *code, const char *msg)
{
	struct httpd_header hdrs[] = {{"Cache-Control", "no-store"},
				      {"X-Content-Type-Options", "nosniff"},
				      {"Allow", (char *)c->h->o.allow}};
	json_object *body = httpd_error_body(code, msg);
	size_t len = 0;
	const char *s = json_object_to_json_string_length(body, JSON_C_TO_STRING_PLAIN, &len);
	char *text = xasprintf("%s\n", s);

	log_debug("httpd", "refused with %d: %s", status, msg);
	c->state = C_HANDLING;
	c->keepalive = false;
	c->req.head = false;
	bufferevent_disable(c->bev, EV_READ);
	/* A method the parser does not know: Allow says what this server speaks at all. */
	httpd_respond(c, status, "application/json", hdrs, status == 405 && c->h->o.allow ? 3 : 2,
		      text, len + 1);
	free(text);
	json_object_put(body);
}

/* Parser callbacks. A refusal is recorded in c->fail_* and stops the parser. */
static int refuse_cb(struct httpd_conn *c, int status, const char *code, const char *msg)
{
	c->fail_status = status;
	c->fail_code = code;
	c->fail_msg = msg;
	return -1;
}

static int on_message_begin(http_parser *p)
{
	struct httpd_conn *c = p->data;

	request_clear(c);
	c->in_request = true;
	timer_arm(c, c->h->o.timeout_ms);
	return 0;
}

static void append(char **s, size_t *len, const char *at, size_t n)
{
	*s = xrealloc(*s, *len + n + 1);
	memcpy(*s + *len, at, n);
	*len += n;
	(*s)[*len] = '\0';
}

static int on_url(http_parser *p, const char *at, size_t n)
{
	struct httpd_conn *c = p->data;

	if (c->target_len + n > HTTPD_MAX_HEAD)
		return refuse_cb(c, 414, "uri_too_long", "the request target is too long");
	append(&c->target, &c->target_len, at, n);
	return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t n)
{
	struct httpd_conn *c = p->data;
	struct httpd_header *h;

	if (c->nhdr == 0 || c->last_value) {
		if (c->nhdr == HTTPD_MAX_HEADERS)
			return refuse_cb(c, 431, "headers_too_large", "too many header fields");
		if (c->nhdr == c->hdr_alloc) {
			c->hdr_alloc = c->hdr_alloc ? c->hdr_alloc * 2 : 16;
			c->hdr = xrealloc(c->hdr, c->hdr_alloc * sizeof *c->hdr);
		}
		c->hdr[c->nhdr++] = (struct httpd_header){xstrdup(""), xstrdup("")};
		c->name_len = c->value_len = 0;
		c->last_value = false;
	}
	h = &c->hdr[c->nhdr - 1];
	append(&h->name, &c->name_len, at, n);
	return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t n)
{
	struct httpd_conn *c = p->data;

	if (c->nhdr == 0)
		return refuse_cb(c, 400, "bad_request", "a header value without a name");
	append(&c->hdr[c->nhdr - 1].value, &c->value_len, at, n);
	c->last_value = true;
	return 0;
}

static int on_headers_complete(http_parser *p)
{
	struct httpd_conn *c = p->data;
	struct httpd *h = c->h;
	char *q;

	if (p->http_major != 1)
		return refuse_cb(c, 400, "bad_request",
				 "only HTTP/1.0 and HTTP/1.1 are spoken here");
	/* RFC 9112: the request target is ASCII; anything else is not echoed or routed. */
	for (size_t i = 0; i < c->target_len; i++) {
		unsigned char ch = (unsigned char)c->target[i];
		if (ch <= 0x20 || ch >= 0x7f)
			return refuse_cb(c, 400, "bad_request",
					 "the request target must be printable ASCII");
	}
	if (c->target == NULL || c->target[0] != '/')
		return refuse_cb(c, 400, "bad_request", "malformed request path");
	/* Trailing white space of a value is not part of it (RFC 9110 5.5). */
	for (size_t i = 0; i < c->nhdr; i++) {
		char *v = c->hdr[i].value;
		size_t len = strlen(v);
		while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
			v[--len] = '\0';
	}
	/* RFC 9112 3.2: HTTP/1.1 names exactly one Host; no version names two. */
	{
		size_t hosts = 0;
		for (size_t i = 0; i < c->nhdr; i++)
			hosts += strcasecmp(c->hdr[i].name, "Host") == 0;
		if (hosts > 1 || (hosts == 0 && p->http_minor >= 1))
			return refuse_cb(c, 400, "bad_request",
					 "an HTTP/1.1 request names exactly one Host");
	}
	q = strchr(c->target, '?');
	if (q != NULL)
		*q++ = '\0';
	c->req = (struct httpd_request){
	    .method = http_method_str((enum http_method)p->method),
	    .head = p->method == HTTP_HEAD,
	    .path = c->target,
	    .query = q,
	    .headers = c->hdr,
	    .nheaders = c->nhdr,
	    .body = c->req.body,
	};
	if ((p->flags & F_CONTENTLENGTH) && p->content_length > h->o.max_body)
		return refuse_cb(c, 413, "too_large", "request body over the limit");
	/* The client waits for our word before sending the body: give it, unless refused above. */
	{
		const char *expect = httpd_header(&c->req, "Expect");
		if (expect != NULL && strcasecmp(expect, "100-continue") == 0 && p->http_minor >= 1)
			evbuffer_add_printf(bufferevent_get_output(c->bev),
					    "HTTP/1.1 100 Continue\r\n\r\n");
		else if (expect != NULL)
			return refuse_cb(c, 417, "expectation_failed",
					 "only Expect: 100-continue is understood");
	}
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
	struct httpd_conn *c = p->data;

	if (evbuffer_get_length(c->req.body) + n > c->h->o.max_body)
		return refuse_cb(c, 413, "too_large", "request body over the limit");
	evbuffer_add(c->req.body, at, n);
	return 0;
}

static int on_message_complete(http_parser *p)
{
	struct httpd_conn *c = p->data;

	evtimer_del(c->timer);
	c->keepalive = http_should_keep_alive(p) && !p->upgrade;
	c->state = C_HANDLING;
	/* One request at a time: the parser stops here and resumes after the answer. */
	http_parser_pause(p, 1);
	return 0;
}

/* c's complete request goes to the API (c is HANDLING, and may be answered on return). */
static void conn_hand_on(struct httpd_conn *c)
{
	gate_spend(c->h->gate);
	c->h->fn(c, &c->req, c->h->arg);
}

/* Parses what has arrived, handing each complete request to the API. */
static void conn_parse(struct httpd_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	c->parsing = true;
	while (c->state == C_READING && !c->out_full && evbuffer_get_length(in) > 0) {
		size_t len = evbuffer_get_contiguous_space(in), done;
		const char *data;
		enum http_errno e;

		if (!gate_open(c->h->gate, &c->turn)) {
			/* Reading off while it waits: epoll stops reporting it (gate.c). */
			bufferevent_disable(c->bev, EV_READ);
			gate_wait(c->h->gate, &c->turn);
			break;
		}
		data = (const char *)evbuffer_pullup(in, (ev_ssize_t)len);
		done = http_parser_execute(&c->parser, &c->h->settings, data, len);
		e = HTTP_PARSER_ERRNO(&c->parser);
		if (e == HPE_PAUSED) {
			evbuffer_drain(in, done);
			http_parser_pause(&c->parser, 0);
			bufferevent_disable(c->bev, EV_READ);
			if (c->parser.upgrade)
				evbuffer_drain(in, evbuffer_get_length(in));
			if (gate_held(c->h->gate) && c->h->o.holds != NULL &&
			    c->h->o.holds(&c->req, c->h->arg)) {
				/* It adds events: it waits for the hold to lift (gate.c). */
				c->kept = true;
				gate_wait_hold(c->h->gate, &c->turn);
				break;
			}
			conn_hand_on(c);
			/* c may be answered (READING/CLOSING again) or still HANDLING. */
			continue;
		}
		if (e != HPE_OK) {
			int status;
			const char *code, *msg;

			if (c->fail_status != 0) {
				status = c->fail_status;
				code = c->fail_code;
				msg = c->fail_msg;
			} else {
				httpd_refusal(e, data + done, len - done, &status, &code, &msg);
			}
			evbuffer_drain(in, evbuffer_get_length(in));
			conn_refuse(c, status, code, msg);
			break;
		}
		evbuffer_drain(in, done);
	}
	c->parsing = false;
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct httpd_conn *c = arg;

	if (c->state == C_CLOSING || c->state == C_STREAMING) {
		evbuffer_drain(bufferevent_get_input(bev),
			       evbuffer_get_length(bufferevent_get_input(bev)));
		return;
	}
	/* One that waits for the gate goes on in its turn (conn_turn), not ahead of the others. */
	if (c->state == C_READING && !c->turn.waiting)
		conn_parse(c);
}

/*
 * The gate lets c go on: a kept request goes to the API (unless a new hold
 * came on meanwhile), then c parses what it holds, and reads again unless it
 * waits once more.
 */
static void conn_turn(struct gate_waiter *w, void *arg)
{
	struct httpd_conn *c = (struct httpd_conn *)((char *)w - offsetof(struct httpd_conn, turn));

	(void)arg;
	if (c->kept) {
		if (gate_held(c->h->gate)) {
			gate_wait_hold(c->h->gate, &c->turn);
			return;
		}
		c->kept = false;
		c->parsing = true; /* pipelined requests are parsed below, not from httpd_respond */
		conn_hand_on(c);
		c->parsing = false;
	}
	if (c->state != C_READING)
		return;
	conn_parse(c);
	if (c->state == C_READING && !c->turn.waiting && !c->out_full)
		bufferevent_enable(c->bev, EV_READ);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct httpd_conn *c = arg;

	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		conn_gone(c);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct httpd_conn *c = arg;

	(void)fd;
	(void)what;
	if (c->state == C_READING && c->in_request) {
		/* The whole request had its time: a client trickling bytes holds nothing longer. */
		conn_refuse(c, 408, "request_timeout", "the request did not arrive in time");
		return;
	}
	/* Idle between requests, or done lingering. */
	conn_gone(c);
}

static void accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa, int slen,
		      void *arg)
{
	struct httpd *h = arg;
	struct httpd_conn *c = xcalloc(1, sizeof *c);
	struct timeval wtv = clock_tv(h->o.timeout_ms);
	int one = 1;

	(void)lev;
	(void)sa;
	(void)slen;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c->h = h;
	c->bev = bufferevent_socket_new(h->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		log_warn("httpd", "bufferevent_socket_new failed: closing a new connection");
		evutil_closesocket(fd);
		free(c);
		return;
	}
	c->timer = evtimer_new(h->base, timer_cb, c);
	c->req.body = evbuffer_new();
	http_parser_init(&c->parser, HTTP_REQUEST);
	c->parser.data = c;
	LIST_INSERT_HEAD(&h->conns, c, entry);
	bufferevent_setcb(c->bev, read_cb, write_done, event_cb, c);
	bufferevent_set_timeouts(c->bev, NULL, &wtv);
	bufferevent_enable(c->bev, EV_READ);
	timer_arm(c, h->o.timeout_ms);
}

static void resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct httpd *h = arg;

	(void)fd;
	(void)what;
	if (h->lev != NULL)
		evconnlistener_enable(h->lev);
}

/*
 * accept() failed. Out of descriptors (EMFILE, ENFILE) or memory, the
 * pending connection stays queued and the socket stays readable: retrying at
 * once would spin the loop and log without end, so accepting pauses briefly.
 */
static void accept_error_cb(struct evconnlistener *lev, void *arg)
{
	struct httpd *h = arg;
	int e = EVUTIL_SOCKET_ERROR();
	struct timeval tv = clock_tv(HTTPD_ACCEPT_PAUSE_MS);

	log_warn("httpd", "accept: %s; pausing new connections for %d ms", strerror(e),
		 HTTPD_ACCEPT_PAUSE_MS);
	evconnlistener_disable(lev);
	evtimer_add(h->resume, &tv);
}

struct httpd *httpd_new(struct event_base *base, const struct httpd_options *o, httpd_request_fn fn,
			void *arg, char *err, size_t errlen)
{
	struct httpd *h = xcalloc(1, sizeof *h);
	int fd = -1;

	h->base = base;
	h->o = *o;
	h->fn = fn;
	h->arg = arg;
	LIST_INIT(&h->conns);
	h->gate = gate_new(
	    base, &(struct gate_params){
		      .per_turn = o->turn_requests > 0 ? o->turn_requests : HTTPD_TURN_REQUESTS,
		      .hold_max_ms = o->hold_max_ms > 0 ? o->hold_max_ms : HTTPD_HOLD_MAX_MS,
		      .serve = conn_turn,
		      .expired = o->hold_expired,
		      .arg = o->hold_arg,
		  });
	http_parser_settings_init(&h->settings);
	h->settings.on_message_begin = on_message_begin;
	h->settings.on_url = on_url;
	h->settings.on_header_field = on_header_field;
	h->settings.on_header_value = on_header_value;
	h->settings.on_headers_complete = on_headers_complete;
	h->settings.on_body = on_body;
	h->settings.on_message_complete = on_message_complete;
	/* http-parser counts the request line and headers against this (HPE_HEADER_OVERFLOW). */
	http_parser_set_max_header_size(HTTPD_MAX_HEAD);
	h->resume = evtimer_new(base, resume_cb, h);
	fd = httpd_listen_socket(o->listen, &h->port, err, errlen);
	if (fd < 0)
		goto fail;
	h->lev = evconnlistener_new(base, accept_cb, h, LEV_OPT_CLOSE_ON_FREE, -1, fd);
	if (h->lev == NULL) {
		snprintf(err, errlen, "cannot listen on %s: evconnlistener_new failed", o->listen);
		goto fail;
	}
	fd = -1;
	evconnlistener_set_error_cb(h->lev, accept_error_cb);
	return h;
fail:
	if (fd >= 0)
		close(fd);
	httpd_free(h);
	return NULL;
}

int httpd_port(const struct httpd *h)
{
	return h->port;
}

void httpd_close_listener(struct httpd *h)
{
	if (h->lev != NULL) {
		evconnlistener_free(h->lev);
		h->lev = NULL;
	}
}

void httpd_free(struct httpd *h)
{
	if (h == NULL)
		return;
	httpd_close_listener(h);
	while (!LIST_EMPTY(&h->conns)) {
		struct httpd_conn *c = LIST_FIRST(&h->conns);

		if (c->state == C_STREAMING)
			conn_gone(c); /* its owner hears of it */
		else
			conn_free(c);
	}
	if (h->resume != NULL)
		event_free(h->resume);
	gate_free(h->gate);
	free(h);
}

void httpd_hold(struct httpd *h, bool on)
{
	gate_hold(h->gate, on);
}
