/*
 * httpd: the HTTP/1.1 server under the API, on our libevent loop. It owns the
 * listening socket and every connection: it parses requests with the
 * http-parser library (strict framing: one Content-Length, never beside
 * Transfer-Encoding, digits only; no control bytes in headers), enforces the
 * limits (header bytes, body bytes, a deadline for the whole request) and
 * writes every byte of every answer itself, so that each refusal, even of a
 * request too broken to route, is JSON. A complete request goes to one
 * callback; the answer may come later (httpd_respond).
 */
#ifndef SS_HTTPD_H
#define SS_HTTPD_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct evbuffer;
struct httpd;
struct httpd_conn;

struct httpd_header {
	char *name;
	char *value;
};

/* A complete request, valid until it is answered. */
struct httpd_request {
	const char *method; /* "GET", "HEAD", "PATCH", ... */
	bool head;	    /* HEAD: answered as GET, without the body */
	const char *path;   /* the request target up to '?' (printable ASCII) */
	const char *query;  /* after '?', or NULL */
	const struct httpd_header *headers;
	size_t nheaders;
	struct evbuffer *body;
};

typedef void (*httpd_request_fn)(struct httpd_conn *c, const struct httpd_request *r, void *arg);

struct httpd_options {
	const char *listen; /* numeric "ADDRESS:PORT", "[::1]:PORT" */
	size_t max_body;    /* 413 above this (by Content-Length or as chunks arrive) */
	int timeout_ms;	    /* a request must arrive whole within this; idle keep-alive too */
	const char *allow;  /* the Allow of a 405 for a method not known at all */
	/* Fairness with the plugin hosts (gate.h): requests a loop turn hands on (32), the
	 * longest hold (500 ms), and who is told when a hold ran out (may be NULL). */
	int turn_requests;
	int hold_max_ms;
	void (*hold_expired)(void *arg);
	void *hold_arg;
	/* Whether a hold keeps r (a request that adds events; arg: the request callback's).
	 * NULL: a hold keeps none. Every other request is served during a hold. */
	bool (*holds)(const struct httpd_request *r, void *arg);
};

struct httpd *httpd_new(struct event_base *base, const struct httpd_options *o, httpd_request_fn fn,
			void *arg, char *err, size_t errlen);
/* Closes every connection; a request still waiting for its answer is answered into the void. */
void httpd_free(struct httpd *h);
int httpd_port(const struct httpd *h);
/*
 * Holds (on) or lifts (off) the requests that add events (o->holds) not yet
 * handed on: each waits, parsed, its connection not read, until the hold
 * lifts; the rest go on. A hold lasts hold_max_ms at most (then hold_expired).
 */
void httpd_hold(struct httpd *h, bool on);
void httpd_close_listener(struct httpd *h);

/* The first header of that name (case-insensitive), or NULL. */
const char *httpd_header(const struct httpd_request *r, const char *name);

/*
 * Answers the request of c: status, content_type (may be NULL for no body),
 * n extra headers, and len bytes of body (not sent for HEAD). r and c are
 * not to be used afterwards. Exactly once per request.
 */
void httpd_respond(struct httpd_conn *c, int status, const char *content_type,
		   const struct httpd_header *extra, size_t n, const void *body, size_t len);

/*
 * Answers the request of c with a stream instead: the status line and the
 * headers now (content_type, n extra), no length and Connection: close, so
 * the body is whatever httpd_stream_write sends until the stream ends. At
 * most max_pending bytes are held for a client that does not read. closed
 * (arg) is called once if the stream ends from the loop (the client closed
 * or failed, a write stayed pending for the timeout, httpd_free), never
 * from inside these calls; c is not to be used after it. -1 when the
 * client has already gone (nothing is sent, closed is not called).
 */
typedef void (*httpd_stream_closed_fn)(void *arg);
int httpd_stream_begin(struct httpd_conn *c, int status, const char *content_type,
		       const struct httpd_header *extra, size_t n, size_t max_pending,
		       httpd_stream_closed_fn closed, void *arg);
/*
 * Queues len bytes of the stream. -1 when that would hold more than
 * max_pending bytes for the client: the stream is ended then and there (c
 * is gone, closed is not called).
 */
int httpd_stream_write(struct httpd_conn *c, const void *data, size_t len);
/* Ends the stream after what is queued is written; c is gone (closed is not called). */
void httpd_stream_close(struct httpd_conn *c);

/* {"error": {"code": code, "message": message}}, the one shape of every refusal. */
json_object *httpd_error_body(const char *code, const char *message);

#endif
