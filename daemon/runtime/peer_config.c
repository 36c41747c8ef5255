/*
 * The config request (PROTOCOL.md, "config"): a new configuration for a
 * serving host, answered by a reply. A kind of daemon request on top of
 * peer_request, as routes and jobs are.
 */
#include <stdlib.h>

#include "peer.h"
#include "pending.h"
#include "xmalloc.h"

/* Who waits for the answer. */
struct config_req {
	peer_config_fn done;
	void *arg;
};

static void config_answered(void *ctx, json_object *m)
{
	json_object *error = msg_get_obj(m, "error");
	const char *code = msg_get_str(error, "code"), *text = msg_get_str(error, "message");
	struct config_req c = *(struct config_req *)ctx;

	free(ctx);
	if (error != NULL && code == NULL)
		code = ERR_HANDLER;
	if (c.done != NULL)
		c.done(c.arg, error == NULL, code, error ? (text ? text : "rejected") : NULL);
}

static void config_abandoned(void *ctx)
{
	struct config_req c = *(struct config_req *)ctx;

	free(ctx);
	if (c.done != NULL)
		c.done(c.arg, false, "lost", "the host ended before answering");
}

static const struct pending_kind config_kind = {
    .name = "config",
    .answer = MSG_REPLY,
    .missed = "answer to config",
    .answered = config_answered,
    .abandoned = config_abandoned,
};

int peer_configure(struct peer *peer, json_object *config, peer_config_fn done, void *arg)
{
	struct config_req *c;
	json_object *body;

	if (!peer_serving(peer))
		return -1;
	c = xmalloc(sizeof *c);
	*c = (struct config_req){done, arg};
	body = json_object_new_object();
	json_object_object_add(body, "config", json_object_get(config));
	if (peer_request(peer, &config_kind, MSG_CONFIG, body, 0, c) < 0) {
		free(c);
		return -1;
	}
	return 0;
}
