#include "peer_route.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "msg.h"
#include "peer.h"
#include "pending.h"
#include "xmalloc.h"

json_object *peer_route_message(struct proute_match *match, const char *method, const char *path,
				json_object *query, json_object *headers, const char *body,
				size_t len, const struct peer_route_caller *caller)
{
	json_object *m = json_object_new_object(), *who = NULL;

	msg_add_int(m, "route", (int64_t)match->index);
	msg_add_str(m, "method", method);
	msg_add_str(m, "path", path[0] ? path : "/");
	json_object_object_add(m, "params", match->params);
	match->params = NULL;
	json_object_object_add(m, "query", query);
	json_object_object_add(m, "headers", headers);
	json_object_object_add(m, "body", json_object_new_string_len(body ? body : "", (int)len));
	if (caller != NULL && caller->name != NULL) {
		who = json_object_new_object();
		msg_add_str(who, "name", caller->name);
		msg_add_str(who, "role", caller->role);
	}
	json_object_object_add(m, "caller", who);
	return m;
}

/* Who waits for the answer. */
struct route_req {
	peer_route_fn answer;
	void *arg;
};

static void route_end(void *ctx, json_object *m, const char *code)
{
	struct route_req r = *(struct route_req *)ctx;

	free(ctx);
	r.answer(r.arg, m, code);
}

static void route_answered(void *ctx, json_object *m)
{
	route_end(ctx, m, NULL);
}

static void route_abandoned(void *ctx)
{
	route_end(ctx, NULL, "lost");
}

static void route_overdue(void *ctx)
{
	route_end(ctx, NULL, "timeout");
}

static const struct pending_kind route_kind = {
    .name = "http.request",
    .answer = MSG_REPLY,
    .missed = "answer to http.request",
    .answered = route_answered,
    .abandoned = route_abandoned,
    .overdue = route_overdue,
    .pauses = true,
};

int peer_route_send(struct peer *peer, json_object *m, int timeout_ms, peer_route_fn answer,
		    void *arg)
{
	struct route_req *r;

	if (!peer_serving(peer) || peer_outstanding(peer, &route_kind) >= PEER_ROUTE_WINDOW) {
		json_object_put(m);
		return -1;
	}
	r = xmalloc(sizeof *r);
	*r = (struct route_req){answer, arg};
	msg_add_int(m, "timeout_ms", timeout_ms);
	if (peer_request(peer, &route_kind, MSG_HTTP_REQUEST, m, timeout_ms, r) < 0) {
		free(r);
		return -1;
	}
	return 0;
}
