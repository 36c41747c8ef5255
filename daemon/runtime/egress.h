/*
 * The egress service (PROTOCOL.md, "Egress"): answers a host's
 * egress.request calls (ss_http_request) with one transfer of the base fetch
 * module on the reactor. The request is checked by egressreq (method, URL,
 * the manifest's allowedHosts, headers, sizes); the address rule is fetch's,
 * on every socket actually connected. Redirects are followed here, not by
 * curl, so that each hop goes through the same checks as the first request
 * (allowedHosts included) and a plugin's headers never follow it to another
 * host.
 */
#ifndef SS_EGRESS_H
#define SS_EGRESS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "call.h"

struct egress;
struct event_base;

#define EGRESS_REDIRECTS_MAX 5

struct egress_params {
	bool allow_private;	       /* the operator's --egress-allow-private */
	const char *extra_ca;	       /* NULL, or a PEM bundle trusted beside the system's */
	const char *const *connect_to; /* NULL-terminated, curl's --connect-to form */
	long timeout_ms;	       /* a request's limit and default */
	size_t max_bytes;	       /* of an answer's body */
	size_t max_request_body;       /* of a request's body */
};

/* NULL with err when the extra CA bundle cannot be read. */
struct egress *egress_new(struct event_base *base, const struct egress_params *p, char *err,
			  size_t errlen);
/* Ends every transfer; their calls are answered unavailable. NULL is fine. */
void egress_free(struct egress *eg);

/*
 * The manifest's allowedHosts of plugin (NULL: any host), set by whoever
 * starts it, before it runs; a reference is kept, replacing the last one. A
 * plugin never set here is refused egress (fail closed): main.c sets it for
 * --plugin plugins, the applier (control) for installed ones.
 */
void egress_set_hosts(struct egress *eg, const char *plugin, json_object *allowed_hosts);

/* A call_fn for egress.request (arg: the service). */
void egress_call(void *arg, struct call *call, json_object *m);

#endif
