/*
 * HTTP(S) and file:// downloads on the reactor: one libcurl multi handle
 * driven by the daemon's libevent loop (curl tells us which sockets to watch
 * and when its timer is due; each event becomes curl_multi_socket_action).
 * Catalog sync (control) uses it today and plugin egress (runtime) can
 * tomorrow, which is why it lives in base.
 *
 * Every transfer is bounded: connect and total time, a minimum speed, the
 * bytes of the answer (counted as they arrive: a transfer past the limit is
 * aborted, whatever Content-Length said), the protocols (also after each
 * redirect, and a redirect never leads to file://) and the number of
 * redirects. TLS peer and host verification are always on; ca_bundle only
 * chooses which authorities are trusted.
 *
 * The answer goes to memory, or to a file descriptor (an archive in the
 * download cache). Writing to a regular file from the reactor is a deliberate
 * choice: curl hands over at most 16 KiB at a time and a download is bounded
 * (64 MiB by default), so each write() is a page-cache copy that does not
 * wait on the disk; the hashing of the whole archive, which is CPU work
 * proportional to its size, happens afterwards on the worker thread
 * (package_prepare).
 */
#ifndef SS_FETCH_H
#define SS_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct fetch;
struct fetch_xfer;

struct fetch_opts {
	const char *url;
	/* Allowed schemes, comma-separated (curl's names): NULL is "http,https". */
	const char *protocols;
	long connect_timeout_ms; /* 0: 10 s */
	long total_timeout_ms;	 /* 0: 60 s */
	/* Aborted when slower than low_speed_bytes/s for low_speed_s seconds; 0: 1 B/s for 30 s. */
	long low_speed_bytes, low_speed_s;
	uint64_t max_bytes;	   /* of the answer's body; 0: 8 MiB */
	long max_redirects;	   /* 0: none followed; at most 10 */
	const char *if_none_match; /* an ETag to send as If-None-Match, or NULL */
	int fd;			   /* -1: the body is kept in memory; else written to fd */
	/*
	 * Egress: refuse to connect to an address netaddr_refused_class names
	 * (loopback, private, link-local, metadata, ...). The check is made on
	 * the address each socket is opened for (after DNS and connect-to, for
	 * every redirect and every address curl tries), before it is created:
	 * nothing is sent to a refused address and no re-resolution gets past it.
	 * A transfer that found no allowed address ends with check "address".
	 * The one exception is the numeric CONNECT_HOST:CONNECT_PORT of a
	 * connect_to entry: a destination the operator pinned on purpose.
	 */
	bool refuse_private;
	/* The request: method (NULL: GET; HEAD asks for no body), extra header lines
	 * ("Name: value", NULL-terminated; checked to hold no CR or LF), body. */
	const char *method;
	const char *const *headers;
	const char *body; /* NULL: none */
	size_t body_len;
	/* Egress: any HTTP status is an answer (ok, the body kept), not a failure. */
	bool any_status;
	/* Keep the final answer's header lines (result.headers), at most 64 KiB. */
	bool keep_headers;
	/* NULL or a NULL-terminated list of "HOST:PORT:CONNECT_HOST:CONNECT_PORT" (curl's
	 * --connect-to). */
	const char *const *connect_to;
	/*
	 * Egress: the only authorities trusted for this transfer (PEM text, a
	 * cluster's CA), instead of the system's and fetch_add_ca's; NULL: those.
	 */
	const char *ca_pem;
};

struct fetch_result {
	bool ok;	   /* 2xx (or a file read) and within the limits */
	bool not_modified; /* 304 to If-None-Match: ok is true and there is no body */
	long http_code;	   /* 0 for file:// */
	/*
	 * When !ok, what failed: "timeout", "too-large", "protocol", "tls",
	 * "http-status", "not-found", "network", "io", "address" (refused by
	 * refuse_private); and a sentence in error.
	 */
	const char *check;
	const char *error;
	const char *etag; /* the answer's ETag, or NULL */
	const char *body; /* memory transfers: NUL-terminated (the NUL is not counted) */
	/* keep_headers: the final answer's header lines, "Name: value\r\n" each, or NULL. */
	const char *headers;
	size_t len; /* bytes received (to memory or to fd) */
};

/* Called exactly once per transfer, on the reactor, never inside fetch_start; r and its strings
 * live until it returns. */
typedef void (*fetch_done_fn)(const struct fetch_result *r, void *arg);

/* ca_bundle: a PEM file of the authorities to trust instead of the system's, or NULL. */
struct fetch *fetch_new(struct event_base *base, const char *ca_bundle);
/*
 * Trusts the authorities of the PEM file extra beside the system's (egress:
 * an operator's private CA must not replace the public ones). Read now, once;
 * -1 with err when the file or the system's bundle cannot be read.
 */
int fetch_add_ca(struct fetch *f, const char *extra, char *err, size_t errlen);
/* Ends every transfer; their done functions are not called. NULL is fine. */
void fetch_free(struct fetch *f);
/* Starts a transfer (the strings in o are copied). NULL with err when o is unusable. */
struct fetch_xfer *fetch_start(struct fetch *f, const struct fetch_opts *o, fetch_done_fn done,
			       void *arg, char *err, size_t errlen);
/* Ends a transfer whose done has not run yet; done is not called. */
void fetch_cancel(struct fetch_xfer *x);

#endif
