/*
 * fetch: libcurl's multi interface on our libevent loop, against files and
 * a loopback HTTP server run by this test on the same loop (so every answer,
 * a silent one included, is decided here).
 */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fetch.h"

enum mode { M_OK, M_ETAG, M_SILENT, M_HUGE, M_HUGE_UNANNOUNCED, M_TO_FILE, M_404, M_ECHO };

struct server {
	struct event_base *base;
	struct evconnlistener *l;
	int port;
	enum mode mode;
	char last_request[4096];
	char last_body[256];
	int requests;
	int accepts;
	struct bufferevent *conns[32]; /* open connections, freed by server_stop */
};

struct got {
	bool called;
	struct fetch_result r;
	char check[32], etag[64], body[256], headers[512];
	bool has_headers;
	struct event_base *base;
};

static void answer(struct bufferevent *bev, struct server *s)
{
	struct evbuffer *out = bufferevent_get_output(bev);
	char *big;

	switch (s->mode) {
	case M_ECHO:
		evbuffer_add_printf(out,
				    "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n"
				    "X-Seen: yes\r\nContent-Type: text/plain\r\n\r\nsad!");
		break;
	case M_OK:
		evbuffer_add_printf(
		    out, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nETag: \"v1\"\r\n\r\nhello");
		break;
	case M_ETAG:
		if (strstr(s->last_request, "If-None-Match: \"v1\"\r\n"))
			evbuffer_add_printf(out,
					    "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n\r\n");
		else
			evbuffer_add_printf(out, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nno");
		break;
	case M_SILENT:
		break;
	case M_HUGE:
		evbuffer_add_printf(out, "HTTP/1.1 200 OK\r\nContent-Length: 104857600\r\n\r\n");
		break;
	case M_HUGE_UNANNOUNCED:
		big = calloc(1, 1 << 20);
		evbuffer_add_printf(out, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
		evbuffer_add(out, big, 1 << 20);
		free(big);
		break;
	case M_TO_FILE:
		evbuffer_add_printf(out, "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nabcdef");
		break;
	case M_404:
		evbuffer_add_printf(out, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
		break;
	}
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct server *s = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer_ptr p = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	size_t n;

	if (p.pos < 0)
		return;
	n = (size_t)p.pos + 4 < sizeof s->last_request - 1 ? (size_t)p.pos + 4
							   : sizeof s->last_request - 1;
	evbuffer_remove(in, s->last_request, n);
	s->last_request[n] = '\0';
	/* The body, if any, arrived with the headers (the tests send small ones). */
	n = evbuffer_get_length(in) < sizeof s->last_body - 1 ? evbuffer_get_length(in)
							      : sizeof s->last_body - 1;
	evbuffer_remove(in, s->last_body, n);
	s->last_body[n] = '\0';
	evbuffer_drain(in, evbuffer_get_length(in));
	s->requests++;
	answer(bev, s);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct server *s = arg;

	(void)what;
	for (size_t i = 0; i < sizeof s->conns / sizeof *s->conns; i++)
		if (s->conns[i] == bev)
			s->conns[i] = NULL;
	bufferevent_free(bev);
}

static void server_stop(struct server *s)
{
	for (size_t i = 0; i < sizeof s->conns / sizeof *s->conns; i++)
		if (s->conns[i] != NULL)
			bufferevent_free(s->conns[i]);
	evconnlistener_free(s->l);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len,
		      void *arg)
{
	struct server *s = arg;
	struct bufferevent *bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);

	(void)l;
	(void)sa;
	(void)len;
	s->accepts++;
	for (size_t i = 0; i < sizeof s->conns / sizeof *s->conns; i++)
		if (s->conns[i] == NULL) {
			s->conns[i] = bev;
			break;
		}
	bufferevent_setcb(bev, on_read, NULL, on_event, s);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

static void server_start(struct server *s, struct event_base *base)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof sin;

	s->base = base;
	s->l =
	    evconnlistener_new_bind(base, on_accept, s, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
				    16, (struct sockaddr *)&sin, sizeof sin);
	assert_non_null(s->l);
	getsockname(evconnlistener_get_fd(s->l), (struct sockaddr *)&sin, &len);
	s->port = ntohs(sin.sin_port);
}

static void done(const struct fetch_result *r, void *arg)
{
	struct got *g = arg;

	g->called = true;
	g->r = *r;
	snprintf(g->check, sizeof g->check, "%s", r->check ? r->check : "");
	snprintf(g->etag, sizeof g->etag, "%s", r->etag ? r->etag : "");
	snprintf(g->body, sizeof g->body, "%s", r->body ? r->body : "");
	snprintf(g->headers, sizeof g->headers, "%s", r->headers ? r->headers : "");
	g->has_headers = r->headers != NULL;
	event_base_loopbreak(g->base);
}

/* Runs one transfer to its end (at most 10 s) and returns what done saw. */
static struct got run(struct event_base *base, struct fetch *f, struct fetch_opts o)
{
	struct got g = {.base = base};
	char err[128];
	struct timeval limit = {10, 0};

	if (o.fd == 0)
		o.fd = -1;
	assert_non_null(fetch_start(f, &o, done, &g, err, sizeof err));
	assert_false(g.called); /* never inside fetch_start */
	event_base_loopexit(base, &limit);
	event_base_dispatch(base);
	assert_true(g.called);
	return g;
}

static char url[256];

static void test_file(void **state)
{
	struct event_base *base = event_base_new();
	struct fetch *f = fetch_new(base, NULL);
	char path[] = "/tmp/test_fetch_XXXXXX";
	int fd = mkstemp(path);
	struct got g;

	(void)state;
	assert_int_equal(write(fd, "[1,2,3]", 7), 7);
	close(fd);
	snprintf(url, sizeof url, "file://%s", path);
	g = run(base, f, (struct fetch_opts){.url = url, .protocols = "http,https,file"});
	assert_true(g.r.ok);
	assert_int_equal(g.r.len, 7);
	assert_string_equal(g.body, "[1,2,3]");
	assert_int_equal(g.r.http_code, 0);

	g = run(base, f, (struct fetch_opts){.url = url, .protocols = "file", .max_bytes = 6});
	assert_false(g.r.ok);
	assert_string_equal(g.check, "too-large");

	/* file:// is refused unless the caller allows it. */
	g = run(base, f, (struct fetch_opts){.url = url});
	assert_false(g.r.ok);
	assert_string_equal(g.check, "protocol");

	unlink(path);
	g = run(base, f, (struct fetch_opts){.url = url, .protocols = "file"});
	assert_false(g.r.ok);
	assert_string_equal(g.check, "not-found");
	fetch_free(f);
	event_base_free(base);
}

static void test_http(void **state)
{
	struct event_base *base = event_base_new();
	struct fetch *f = fetch_new(base, NULL);
	struct server s = {.mode = M_OK};
	struct got g;
	char path[] = "/tmp/test_fetch_XXXXXX";
	int fd = mkstemp(path);
	char back[16] = {0};

	(void)state;
	server_start(&s, base);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/catalog.json", s.port);

	g = run(base, f, (struct fetch_opts){.url = url});
	assert_true(g.r.ok);
	assert_int_equal(g.r.http_code, 200);
	assert_string_equal(g.body, "hello");
	assert_string_equal(g.etag, "\"v1\"");
	assert_null(strstr(s.last_request, "If-None-Match"));

	s.mode = M_ETAG;
	g = run(base, f, (struct fetch_opts){.url = url, .if_none_match = "\"v1\""});
	assert_true(g.r.ok);
	assert_true(g.r.not_modified);
	assert_int_equal(g.r.http_code, 304);
	assert_int_equal(g.r.len, 0);
	assert_non_null(strstr(s.last_request, "If-None-Match: \"v1\"\r\n"));

	s.mode = M_404;
	g = run(base, f, (struct fetch_opts){.url = url});
	assert_false(g.r.ok);
	assert_string_equal(g.check, "not-found");

	/* Announced over the limit: refused before the body; unannounced: cut as it arrives. */
	s.mode = M_HUGE;
	g = run(base, f, (struct fetch_opts){.url = url, .max_bytes = 65536});
	assert_false(g.r.ok);
	assert_string_equal(g.check, "too-large");
	s.mode = M_HUGE_UNANNOUNCED;
	g = run(base, f, (struct fetch_opts){.url = url, .max_bytes = 65536});
	assert_false(g.r.ok);
	assert_string_equal(g.check, "too-large");
	assert_true(g.r.len <= 65536);

	s.mode = M_SILENT;
	g = run(base, f, (struct fetch_opts){.url = url, .total_timeout_ms = 300});
	assert_false(g.r.ok);
	assert_string_equal(g.check, "timeout");

	s.mode = M_TO_FILE;
	g = run(base, f, (struct fetch_opts){.url = url, .fd = fd});
	assert_true(g.r.ok);
	assert_int_equal(g.r.len, 6);
	assert_int_equal(pread(fd, back, sizeof back, 0), 6);
	assert_string_equal(back, "abcdef");
	close(fd);
	unlink(path);

	/* Unusable options are refused at once. */
	{
		char err[128];
		struct fetch_opts o = {.url = url, .if_none_match = "x\r\nInjected: 1", .fd = -1};

		assert_null(fetch_start(f, &o, done, NULL, err, sizeof err));
	}
	fetch_free(f);
	server_stop(&s);
	event_base_free(base);
}

/* A transfer still running when the module is freed ends without its done. */
static void test_free_running(void **state)
{
	struct event_base *base = event_base_new();
	struct fetch *f = fetch_new(base, NULL);
	struct server s = {.mode = M_SILENT};
	struct got g = {.base = base};
	struct timeval t = {0, 200000};
	char err[128];

	(void)state;
	server_start(&s, base);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/x", s.port);
	assert_non_null(
	    fetch_start(f, &(struct fetch_opts){.url = url, .fd = -1}, done, &g, err, sizeof err));
	event_base_loopexit(base, &t);
	event_base_dispatch(base);
	assert_int_equal(s.requests, 1);
	fetch_free(f);
	assert_false(g.called);
	server_stop(&s);
	event_base_free(base);
}

/*
 * Egress's address rule: with refuse_private a loopback server is never
 * connected to, even under another name through connect-to (the address is
 * judged where the socket would go, not by the name in the URL); without it
 * connect-to reaches the server under the name the URL gives. A connection
 * left open by a transfer that allowed the address is not reused by one that
 * refuses it: the request is never sent (the server sees one request only).
 */
static void test_address(void **state)
{
	struct event_base *base = event_base_new();
	struct fetch *f = fetch_new(base, NULL);
	struct server s = {.mode = M_OK};
	char map[128];
	const char *connect_to[] = {map, NULL};
	struct got g;

	(void)state;
	server_start(&s, base);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/x", s.port);
	g = run(base, f, (struct fetch_opts){.url = url, .refuse_private = true});
	assert_false(g.r.ok);
	assert_string_equal(g.check, "address");
	assert_non_null(strstr(g.r.error, "127.0.0.1 (loopback)"));
	assert_int_equal(s.accepts, 0);

	snprintf(url, sizeof url, "http://hooks.example.test:%d/x", s.port);
	snprintf(map, sizeof map, "hooks.example.test:%d:127.0.0.1:%d", s.port, s.port);
	g = run(base, f, (struct fetch_opts){.url = url, .connect_to = connect_to});
	if (!g.r.ok)
		fail_msg("connect-to: %s: %s", g.check, g.r.error ? g.r.error : "");
	assert_string_equal(g.body, "hello");
	assert_int_equal(s.accepts, 1);
	assert_int_equal(s.requests, 1);
	assert_non_null(strstr(s.last_request, "Host: hooks.example.test:"));

	/* The numeric destination of a connect-to is the operator's pinned choice: it passes. */
	g = run(base, f,
		(struct fetch_opts){.url = url, .connect_to = connect_to, .refuse_private = true});
	if (!g.r.ok)
		fail_msg("pinned: %s: %s", g.check, g.r.error ? g.r.error : "");
	assert_int_equal(s.requests, 2);

	/* A connect-to by name is resolved and judged as any address: refused. */
	snprintf(map, sizeof map, "hooks.example.test:%d:localhost:%d", s.port, s.port);
	g = run(base, f,
		(struct fetch_opts){.url = url, .connect_to = connect_to, .refuse_private = true});
	assert_false(g.r.ok);
	assert_string_equal(g.check, "address");
	assert_int_equal(s.requests, 2);
	fetch_free(f);
	server_stop(&s);
	event_base_free(base);
}

/* Egress's request shape: a method, header lines and a body out; any status and headers back. */
static void test_request_shape(void **state)
{
	struct event_base *base = event_base_new();
	struct fetch *f = fetch_new(base, NULL);
	struct server s = {.mode = M_ECHO};
	const char *hdrs[] = {"X-Token: abc", "Content-Type: application/json", NULL};
	struct got g;
	char err[128];

	(void)state;
	server_start(&s, base);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", s.port);
	g = run(base, f,
		(struct fetch_opts){.url = url,
				    .method = "PUT",
				    .headers = hdrs,
				    .body = "{\"a\":1}",
				    .body_len = 7,
				    .any_status = true,
				    .keep_headers = true});
	assert_true(g.r.ok);
	assert_int_equal(g.r.http_code, 500);
	assert_string_equal(g.body, "sad!");
	assert_non_null(strstr(s.last_request, "PUT /hook HTTP/1.1\r\n"));
	assert_non_null(strstr(s.last_request, "X-Token: abc\r\n"));
	assert_null(strstr(s.last_request, "Expect:"));
	assert_string_equal(s.last_body, "{\"a\":1}");
	assert_true(g.has_headers);
	assert_non_null(strstr(g.headers, "X-Seen: yes\r\n"));
	assert_null(strstr(g.headers, "HTTP/1.1"));

	/* Without any_status a 500 is a failure; POST is implied by a body. */
	g = run(base, f, (struct fetch_opts){.url = url, .body = "x", .body_len = 1});
	assert_false(g.r.ok);
	assert_string_equal(g.check, "http-status");
	assert_non_null(strstr(s.last_request, "POST /hook"));
	assert_string_equal(s.last_body, "x");

	/* Headers and methods that could smuggle lines are refused before any transfer. */
	const char *bad[] = {"X-A: 1\r\nX-B: 2", NULL};
	const char *nocolon[] = {"X-A", NULL};
	assert_null(fetch_start(f, &(struct fetch_opts){.url = url, .headers = bad, .fd = -1}, done,
				NULL, err, sizeof err));
	assert_null(fetch_start(f, &(struct fetch_opts){.url = url, .headers = nocolon, .fd = -1},
				done, NULL, err, sizeof err));
	assert_null(fetch_start(f,
				&(struct fetch_opts){.url = url, .method = "GET /x\r\n", .fd = -1},
				done, NULL, err, sizeof err));
	assert_null(fetch_start(f, &(struct fetch_opts){.url = url, .method = "", .fd = -1}, done,
				NULL, err, sizeof err));
	fetch_free(f);
	server_stop(&s);
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_file),	  cmocka_unit_test(test_http),
	    cmocka_unit_test(test_free_running),  cmocka_unit_test(test_address),
	    cmocka_unit_test(test_request_shape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
