/*
 * libcurl's multi interface on libevent, in the shape of curl's own
 * hiperfifo example: CURLMOPT_SOCKETFUNCTION keeps one event per socket curl
 * wants watched, CURLMOPT_TIMERFUNCTION one timer; both end in
 * curl_multi_socket_action, after which finished transfers are collected
 * from curl_multi_info_read and their done functions run. Nothing here
 * blocks: DNS goes through curl's threaded resolver, file:// reads are of
 * bounded size.
 */
#include "fetch.h"

#include <curl/curl.h>
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "netaddr.h"
#include "xmalloc.h"

#define DEFAULT_MAX_BYTES ((uint64_t)8 * 1024 * 1024)
#define MAX_REDIRECTS 10
#define ETAG_MAX 256
#define HEADERS_MAX 65536 /* bytes of an answer's header lines kept for egress */

struct fetch_xfer {
	struct fetch *f;
	CURL *easy;
	fetch_done_fn done;
	void *arg;
	uint64_t max_bytes;
	int fd;
	char *buf; /* memory transfers */
	size_t len, cap;
	bool too_large, io_failed;
	bool refuse_private;
	bool any_status;
	bool keep_headers, headers_over;
	char *hdrs; /* the final answer's header lines (keep_headers) */
	size_t hlen;
	char refused[96]; /* "10.0.0.1 (private)": the last address refused */
	int io_errno;
	char etag[ETAG_MAX];
	struct curl_slist *headers, *connect_to;
	char curl_err[CURL_ERROR_SIZE];
	LIST_ENTRY(fetch_xfer) entry;
};

struct fetch {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;
	char *ca_bundle;
	char *ca_blob; /* fetch_add_ca: the system's bundle and the extra one, PEM */
	size_t ca_blob_len;
	LIST_HEAD(, fetch_xfer) xfers;
};

/* One per socket curl watches; curl_multi_assign keeps it with the socket. */
struct sock {
	struct fetch *f;
	curl_socket_t fd;
	struct event *ev;
};

static void check_done(struct fetch *f);

static void xfer_free(struct fetch_xfer *x)
{
	LIST_REMOVE(x, entry);
	curl_multi_remove_handle(x->f->multi, x->easy);
	curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->headers);
	curl_slist_free_all(x->connect_to);
	free(x->hdrs);
	free(x->buf);
	free(x);
}

static void sock_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fetch *f = arg;
	int action =
	    (what & EV_READ ? CURL_CSELECT_IN : 0) | (what & EV_WRITE ? CURL_CSELECT_OUT : 0);
	int running;

	curl_multi_socket_action(f->multi, fd, action, &running);
	check_done(f);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fetch *f = arg;
	int running;

	(void)fd;
	(void)what;
	curl_multi_socket_action(f->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(f);
}

/* CURLMOPT_SOCKETFUNCTION: watch s for what, or stop watching it. */
static int curl_sock(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct fetch *f = userp;
	struct sock *k = socketp;
	short kind;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (k != NULL) {
			event_free(k->ev);
			free(k);
			curl_multi_assign(f->multi, s, NULL);
		}
		return 0;
	}
	kind = (short)(EV_PERSIST | (what & CURL_POLL_IN ? EV_READ : 0) |
		       (what & CURL_POLL_OUT ? EV_WRITE : 0));
	if (k == NULL) {
		k = xcalloc(1, sizeof *k);
		k->f = f;
		k->fd = s;
		curl_multi_assign(f->multi, s, k);
	} else {
		event_free(k->ev);
	}
	k->ev = event_new(f->base, s, kind, sock_cb, f);
	event_add(k->ev, NULL);
	return 0;
}

/* CURLMOPT_TIMERFUNCTION: -1 stops the timer, anything else (re)arms it. */
static int curl_timer(CURLM *multi, long ms, void *userp)
{
	struct fetch *f = userp;
	(void)multi;
	if (ms < 0) {
		evtimer_del(f->timer);
	} else {
		struct timeval tv = clock_tv(ms);
		evtimer_add(f->timer, &tv);
	}
	return 0;
}

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct fetch_xfer *x = arg;
	size_t len = size * n, off = 0;

	if (len > x->max_bytes - x->len) {
		x->too_large = true;
		return 0; /* curl aborts with CURLE_WRITE_ERROR */
	}
	if (x->fd < 0) {
		if (x->len + len + 1 > x->cap) {
			size_t cap = x->cap ? x->cap : 16384;

			while (cap < x->len + len + 1)
				cap *= 2;
			x->buf = xrealloc(x->buf, cap);
			x->cap = cap;
		}
		memcpy(x->buf + x->len, p, len);
		x->buf[x->len + len] = '\0';
	} else {
		while (off < len) {
			ssize_t w = write(x->fd, p + off, len - off);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				x->io_failed = true;
				x->io_errno = w < 0 ? errno : ENOSPC;
				return 0;
			}
			off += (size_t)w;
		}
	}
	x->len += len;
	return len;
}

/* Keeps the ETag of the last answer (a redirect's own answer is forgotten). */
static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct fetch_xfer *x = arg;
	size_t len = size * n, v;

	if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		/* A new answer (after a redirect or a 1xx): forget the last one's headers. */
		x->etag[0] = '\0';
		x->hlen = 0;
		x->headers_over = false;
		return size * n;
	}
	if (x->keep_headers && len > 2) {
		if (x->hlen + len + 1 > HEADERS_MAX) {
			x->headers_over = true;
			return 0; /* ends the transfer: too-large */
		}
		x->hdrs = xrealloc(x->hdrs, x->hlen + len + 1);
		memcpy(x->hdrs + x->hlen, p, len);
		x->hlen += len;
		x->hdrs[x->hlen] = '\0';
	}
	if (len > 5 && strncasecmp(p, "etag:", 5) == 0) {
		for (v = 5; v < len && (p[v] == ' ' || p[v] == '\t'); v++)
			;
		while (len > v && (p[len - 1] == '\r' || p[len - 1] == '\n' || p[len - 1] == ' '))
			len--;
		if (len - v < sizeof x->etag) {
			memcpy(x->etag, p + v, len - v);
			x->etag[len - v] = '\0';
		}
	}
	return size * n;
}

/*
 * CURLOPT_OPENSOCKETFUNCTION: curl asks for a socket to connect to address.
 * Refusing here (before the socket exists) is what makes the check hold on
 * the connected address: curl connects exactly where it opened the socket
 * for, whatever DNS says next time, and a refused address never sees a byte.
 */
/*
 * Whether ip:port is the numeric destination of one of the transfer's
 * connect-to overrides: the operator pinned that destination on purpose
 * (tests reach loopback receivers that way), so the address rule lets it
 * through - it and nothing else, even for a private address.
 */
static bool pinned(const struct fetch_xfer *x, const char *ip, int port)
{
	for (const struct curl_slist *l = x->connect_to; l != NULL; l = l->next) {
		const char *c = strchr(l->data, ':'), *ch, *cp;
		if (c == NULL || (c = strchr(c + 1, ':')) == NULL)
			continue;
		ch = c + 1;
		if ((cp = strchr(ch, ':')) == NULL)
			continue;
		if ((size_t)(cp - ch) == strlen(ip) && strncmp(ch, ip, strlen(ip)) == 0 &&
		    atoi(cp + 1) == port)
			return true;
	}
	return false;
}

static int sockaddr_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)(const void *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)(const void *)sa)->sin6_port);
	return -1;
}

static curl_socket_t open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct fetch_xfer *x = arg;
	const char *cls;

	(void)purpose;
	if (x->refuse_private) {
		cls = netaddr_refused_class(&a->addr, a->addrlen);
		if (cls != NULL) {
			char num[64];

			netaddr_format(&a->addr, a->addrlen, num, sizeof num);
			if (pinned(x, num, sockaddr_port(&a->addr)))
				return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
			snprintf(x->refused, sizeof x->refused, "%s (%s)", num, cls);
			return CURL_SOCKET_BAD;
		}
	}
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

/*
 * CURLOPT_PREREQFUNCTION: runs before the request is sent on a new or a
 * reused connection. open_socket never sees a reused one (opened for an
 * earlier transfer, perhaps one not refusing private addresses), so the
 * connection's address is judged again here; nothing has been sent yet.
 */
static int prereq(void *arg, char *primary_ip, char *local_ip, int primary_port, int local_port)
{
	struct fetch_xfer *x = arg;
	const char *cls;

	(void)local_ip;
	(void)local_port;
	if (!x->refuse_private)
		return CURL_PREREQFUNC_OK;
	cls = netaddr_refused_class_text(primary_ip);
	if (cls == NULL || pinned(x, primary_ip, primary_port))
		return CURL_PREREQFUNC_OK;
	snprintf(x->refused, sizeof x->refused, "%.63s (%s)", primary_ip, cls);
	return CURL_PREREQFUNC_ABORT;
}

static void classify(struct fetch_xfer *x, CURLcode rc, struct fetch_result *r, char *msg,
		     size_t msglen)
{
	long code = 0;

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
	r->http_code = code;
	if (x->headers_over) {
		r->check = "too-large";
		snprintf(msg, msglen, "the answer's headers are over %d bytes", HEADERS_MAX);
	} else if (x->refused[0] != '\0' && rc != CURLE_OK) {
		r->check = "address";
		snprintf(msg, msglen, "refused to connect to %s", x->refused);
	} else if (x->too_large || rc == CURLE_FILESIZE_EXCEEDED) {
		r->check = "too-large";
		snprintf(msg, msglen, "the answer is over the limit of %llu bytes",
			 (unsigned long long)x->max_bytes);
	} else if (x->io_failed) {
		r->check = "io";
		snprintf(msg, msglen, "writing the download failed: %s", strerror(x->io_errno));
	} else if (rc == CURLE_OPERATION_TIMEDOUT) {
		r->check = "timeout";
		snprintf(msg, msglen, "timed out: %s",
			 x->curl_err[0] ? x->curl_err : curl_easy_strerror(rc));
	} else if (rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_TOO_MANY_REDIRECTS) {
		r->check = "protocol";
		snprintf(msg, msglen, "%s", x->curl_err[0] ? x->curl_err : curl_easy_strerror(rc));
	} else if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CONNECT_ERROR ||
		   rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_SSL_CERTPROBLEM) {
		r->check = "tls";
		snprintf(msg, msglen, "TLS: %s",
			 x->curl_err[0] ? x->curl_err : curl_easy_strerror(rc));
	} else if (rc == CURLE_FILE_COULDNT_READ_FILE) {
		r->check = "not-found";
		snprintf(msg, msglen, "%s", x->curl_err[0] ? x->curl_err : curl_easy_strerror(rc));
	} else if (rc != CURLE_OK) {
		r->check = "network";
		snprintf(msg, msglen, "%s", x->curl_err[0] ? x->curl_err : curl_easy_strerror(rc));
	} else if (code == 304) {
		r->ok = r->not_modified = true;
	} else if (code != 0 && (code < 200 || code > 299) && !x->any_status) {
		r->check = code == 404 ? "not-found" : "http-status";
		snprintf(msg, msglen, "the server answered HTTP %ld", code);
	} else {
		r->ok = true;
	}
	r->error = r->ok ? NULL : msg;
}

static void check_done(struct fetch *f)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(f->multi, &left)) != NULL) {
		struct fetch_xfer *x = NULL;
		struct fetch_result r = {0};
		char msg[CURL_ERROR_SIZE + 128];

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		classify(x, m->data.result, &r, msg, sizeof msg);
		r.etag = x->etag[0] ? x->etag : NULL;
		r.body = r.ok && !r.not_modified ? (x->buf ? x->buf : "") : NULL;
		r.len = x->len;
		r.headers = r.ok && x->keep_headers ? (x->hdrs ? x->hdrs : "") : NULL;
		x->done(&r, x->arg);
		xfer_free(x);
	}
}

struct fetch *fetch_new(struct event_base *base, const char *ca_bundle)
{
	static bool global;
	struct fetch *f = xcalloc(1, sizeof *f);

	/* Once per process, before any thread but the worker exists (it never uses curl). */
	if (!global) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		global = true;
	}
	f->base = base;
	f->multi = curl_multi_init();
	f->timer = evtimer_new(base, timer_cb, f);
	f->ca_bundle = ca_bundle ? xstrdup(ca_bundle) : NULL;
	LIST_INIT(&f->xfers);
	curl_multi_setopt(f->multi, CURLMOPT_SOCKETFUNCTION, curl_sock);
	curl_multi_setopt(f->multi, CURLMOPT_SOCKETDATA, f);
	curl_multi_setopt(f->multi, CURLMOPT_TIMERFUNCTION, curl_timer);
	curl_multi_setopt(f->multi, CURLMOPT_TIMERDATA, f);
	return f;
}

/* Appends the file at path to *buf; -1 with err. */
static int append_file(const char *path, char **buf, size_t *len, char *err, size_t errlen)
{
	char chunk[16384];
	size_t n;
	FILE *fp = fopen(path, "re");

	if (fp == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0) {
		if (*len + n > (64u << 20)) {
			snprintf(err, errlen, "%s: over 64 MiB of certificates", path);
			fclose(fp);
			return -1;
		}
		*buf = xrealloc(*buf, *len + n + 2);
		memcpy(*buf + *len, chunk, n);
		*len += n;
	}
	if (ferror(fp)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		fclose(fp);
		return -1;
	}
	fclose(fp);
	/* A file without a final newline must not glue its last line to the next file's. */
	*buf = xrealloc(*buf, *len + 2);
	(*buf)[(*len)++] = '\n';
	return 0;
}

int fetch_add_ca(struct fetch *f, const char *extra, char *err, size_t errlen)
{
	const curl_version_info_data *info = curl_version_info(CURLVERSION_NOW);
	const char *system = f->ca_bundle != NULL   ? f->ca_bundle
			     : info->cainfo != NULL ? info->cainfo
						    : "/etc/ssl/certs/ca-certificates.crt";
	char *buf = NULL;
	size_t len = 0;

	if (append_file(system, &buf, &len, err, errlen) < 0 ||
	    append_file(extra, &buf, &len, err, errlen) < 0) {
		free(buf);
		return -1;
	}
	free(f->ca_blob);
	f->ca_blob = buf;
	f->ca_blob_len = len;
	return 0;
}

void fetch_free(struct fetch *f)
{
	if (f == NULL)
		return;
	while (!LIST_EMPTY(&f->xfers))
		xfer_free(LIST_FIRST(&f->xfers));
	curl_multi_cleanup(f->multi);
	event_free(f->timer);
	free(f->ca_bundle);
	free(f->ca_blob);
	free(f);
}

void fetch_cancel(struct fetch_xfer *x)
{
	if (x != NULL)
		xfer_free(x);
}

/* Whether the comma-separated list has name as one of its items. */
static bool has_item(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; p != NULL; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (strncmp(p, name, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return true;
	return false;
}

/* The schemes a redirect may lead to: the http ones of protos, or NULL (none: not followed). */
static const char *redirect_protocols(const char *protos)
{
	bool http = has_item(protos, "http"), https = has_item(protos, "https");

	return http && https ? "http,https" : https ? "https" : http ? "http" : NULL;
}

struct fetch_xfer *fetch_start(struct fetch *f, const struct fetch_opts *o, fetch_done_fn done,
			       void *arg, char *err, size_t errlen)
{
	const char *protos = o->protocols ? o->protocols : "http,https", *redir;
	struct fetch_xfer *x;
	CURL *e;

	if (o->url == NULL || o->max_redirects < 0 || o->max_redirects > MAX_REDIRECTS) {
		snprintf(err, errlen, "a URL is required and at most %d redirects", MAX_REDIRECTS);
		return NULL;
	}
	for (size_t i = 0; o->connect_to && o->connect_to[i]; i++)
		if (strpbrk(o->connect_to[i], "\r\n") != NULL || strlen(o->connect_to[i]) > 512) {
			snprintf(err, errlen, "a connect-to entry is not usable");
			return NULL;
		}
	if (o->method != NULL &&
	    (o->method[0] == '\0' || strlen(o->method) > 16 ||
	     strspn(o->method, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != strlen(o->method))) {
		snprintf(err, errlen, "a method is 1 to 16 capital letters");
		return NULL;
	}
	for (size_t i = 0; o->headers && o->headers[i]; i++)
		if (strpbrk(o->headers[i], "\r\n") != NULL || strchr(o->headers[i], ':') == NULL) {
			snprintf(err, errlen, "a request header is not a \"Name: value\" line");
			return NULL;
		}
	if (o->if_none_match &&
	    (strlen(o->if_none_match) >= ETAG_MAX || strpbrk(o->if_none_match, "\r\n") != NULL)) {
		snprintf(err, errlen, "the ETag is not a usable header value");
		return NULL;
	}
	x = xcalloc(1, sizeof *x);
	x->f = f;
	x->done = done;
	x->arg = arg;
	x->fd = o->fd;
	x->max_bytes = o->max_bytes ? o->max_bytes : DEFAULT_MAX_BYTES;
	x->easy = e = curl_easy_init();
	curl_easy_setopt(e, CURLOPT_URL, o->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->curl_err);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, protos);
	/* A redirect may go to http(s) only (of those allowed), never to a file on this machine. */
	redir = redirect_protocols(protos);
	if (redir != NULL)
		curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, redir);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, o->max_redirects > 0 && redir ? 1L : 0L);
	curl_easy_setopt(e, CURLOPT_MAXREDIRS, o->max_redirects);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
			 o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 10000L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
			 o->total_timeout_ms > 0 ? o->total_timeout_ms : 60000L);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT,
			 o->low_speed_bytes > 0 ? o->low_speed_bytes : 1L);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, o->low_speed_s > 0 ? o->low_speed_s : 30L);
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->max_bytes);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (f->ca_bundle)
		curl_easy_setopt(e, CURLOPT_CAINFO, f->ca_bundle);
	if (f->ca_blob != NULL) {
		struct curl_blob blob = {
		    .data = f->ca_blob, .len = f->ca_blob_len, .flags = CURL_BLOB_NOCOPY};
		curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &blob);
	}
	if (o->ca_pem != NULL) {
		/* This CA alone: the blob replaces CAINFO, and no CA directory is searched. */
		struct curl_blob blob = {
		    .data = (void *)o->ca_pem, .len = strlen(o->ca_pem), .flags = CURL_BLOB_COPY};
		curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &blob);
		curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
	}
	curl_easy_setopt(e, CURLOPT_USERAGENT, "streamspaced");
	x->refuse_private = o->refuse_private;
	/*
	 * No proxy from the environment for egress: the address judged would be
	 * the proxy's, and a proxy would reach private addresses for us.
	 */
	if (o->refuse_private)
		curl_easy_setopt(e, CURLOPT_PROXY, "");
	curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, x);
	curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, prereq);
	curl_easy_setopt(e, CURLOPT_PREREQDATA, x);
	for (size_t i = 0; o->connect_to && o->connect_to[i]; i++)
		x->connect_to = curl_slist_append(x->connect_to, o->connect_to[i]);
	if (x->connect_to)
		curl_easy_setopt(e, CURLOPT_CONNECT_TO, x->connect_to);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	if (o->if_none_match) {
		char h[ETAG_MAX + 32];

		snprintf(h, sizeof h, "If-None-Match: %s", o->if_none_match);
		x->headers = curl_slist_append(x->headers, h);
	}
	for (size_t i = 0; o->headers && o->headers[i]; i++)
		x->headers = curl_slist_append(x->headers, o->headers[i]);
	if (o->body != NULL) {
		/* No "Expect: 100-continue" round trip before a body. */
		x->headers = curl_slist_append(x->headers, "Expect:");
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)o->body_len);
		curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, o->body);
	}
	if (x->headers)
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
	if (o->method != NULL && strcmp(o->method, "HEAD") == 0)
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	else if (o->method != NULL && strcmp(o->method, o->body ? "POST" : "GET") != 0)
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, o->method);
	x->any_status = o->any_status;
	x->keep_headers = o->keep_headers;
	LIST_INSERT_HEAD(&f->xfers, x, entry);
	/* The transfer starts from the timer curl arms now: done never runs inside this call. */
	curl_multi_add_handle(f->multi, e);
	return x;
}
