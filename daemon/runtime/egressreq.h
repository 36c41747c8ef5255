/*
 * egressreq: what a plugin may ask the daemon to fetch for it (egress.request,
 * ss_http_request), checked before anything is resolved or connected, and
 * described for logs without its secrets. The transfer itself is the base
 * fetch module's (one libcurl multi handle for the daemon), with its address
 * rule on the connected socket (netaddr).
 */
#ifndef SS_EGRESSREQ_H
#define SS_EGRESSREQ_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#define EGRESS_HEADERS_MAX 64
#define EGRESS_CA_MAX (64 * 1024)

struct egress_limits {
	size_t body_max;	 /* bytes of the request body */
	long timeout_max_ms;	 /* the most a plugin may ask for */
	long timeout_default_ms; /* when it does not ask */
};

/* A checked request; every string is owned. */
struct egress_req {
	char *method;	/* GET, HEAD, POST, PUT, PATCH, DELETE */
	char *url;	/* http(s), no user:password part, no fragment */
	char *host;	/* lower-case, IPv6 in brackets */
	char **headers; /* NULL-terminated "Name: value" lines */
	size_t nheaders;
	char *body; /* NULL: none */
	size_t body_len;
	long timeout_ms;
	char *ca; /* PEM: the only authorities trusted for it; NULL: the daemon's */
};

/*
 * Checks request m ({method, url, headers, body, timeout_ms, ca}; only url
 * is required; ca is PEM text of at most EGRESS_CA_MAX bytes holding a
 * certificate) against the plugin's allowed_hosts (the manifest's allowedHosts:
 * NULL or absent allows any host; entries are host names, "*.example.com"
 * allowing every name under example.com but not example.com itself) and
 * the limits. Returns 0 with out filled (egress_req_clear releases it), or -1
 * with why in a sentence and *code the protocol's error code ("bad_request",
 * "too_large", "permission_denied" for a host outside allowedHosts).
 */
int egress_req_parse(json_object *m, json_object *allowed_hosts, const struct egress_limits *lim,
		     struct egress_req *out, const char **code, char *why, size_t len);
void egress_req_clear(struct egress_req *r);

/* Whether host (as egress_req.host) is allowed by allowed_hosts (as above). */
bool egress_host_allowed(json_object *allowed_hosts, const char *host);

/*
 * "POST https://hooks.example.test/..." for a log line: the origin only, no
 * path (a webhook's credential is its path), query string, headers or body
 * (where tokens and signatures live).
 */
void egress_req_describe(const struct egress_req *r, char *buf, size_t len);

#endif
