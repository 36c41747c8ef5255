#include "call.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "msg.h"
#include "xmalloc.h"

/* The wire's error codes and what a plugin sees of them (plugin.h, ss_result). */
static const struct {
	const char *code;
	int result;
} results[] = {
    {ERR_BAD_REQUEST, SS_ERR_INVALID}, {ERR_NOT_FOUND, SS_ERR_NOT_FOUND},
    {ERR_CONFLICT, SS_ERR_CONFLICT},   {ERR_PERMISSION, SS_ERR_PERMISSION},
    {ERR_TOO_LARGE, SS_ERR_LIMIT},     {ERR_QUOTA, SS_ERR_LIMIT},
    {ERR_RATE, SS_ERR_RATE},	       {ERR_UNAVAILABLE, SS_ERR_UNAVAILABLE},
    {ERR_TIMEOUT, SS_ERR_TIMEOUT},     {ERR_UNIMPLEMENTED, SS_ERR_UNIMPLEMENTED},
};

static int result_of(const char *code)
{
	for (size_t i = 0; i < sizeof results / sizeof results[0]; i++)
		if (strcmp(code, results[i].code) == 0)
			return results[i].result;
	return SS_ERR_INTERNAL;
}

static void set_error(struct ss_plugin *p, const char *code, const char *msg)
{
	snprintf(p->err_code, sizeof p->err_code, "%s", code);
	snprintf(p->err_msg, sizeof p->err_msg, "%s", msg);
}

void call_ok(struct ss_plugin *p)
{
	p->err_code[0] = '\0';
	p->err_msg[0] = '\0';
}

int call_fail(struct ss_plugin *p, int result, const char *code, const char *fmt, ...)
{
	va_list ap;

	snprintf(p->err_code, sizeof p->err_code, "%s", code);
	va_start(ap, fmt);
	vsnprintf(p->err_msg, sizeof p->err_msg, fmt, ap);
	va_end(ap);
	return result;
}

/* Keeps m (taken over) for the serving loop; a daemon that floods us is broken. */
static void defer(struct ss_plugin *p, json_object *m)
{
	if (p->n_deferred == CALL_DEFER_MAX)
		host_protocol_error(ERR_OUT_OF_STATE, "more than 1024 messages during one call", m);
	if (p->n_deferred == p->cap_deferred) {
		size_t cap = p->cap_deferred ? p->cap_deferred * 2 : 16;
		json_object **q = xcalloc(cap, sizeof *q);
		for (size_t i = 0; i < p->n_deferred; i++)
			q[i] = p->deferred[(p->first_deferred + i) % p->cap_deferred];
		free(p->deferred);
		p->deferred = q;
		p->cap_deferred = cap;
		p->first_deferred = 0;
	}
	p->deferred[(p->first_deferred + p->n_deferred) % p->cap_deferred] = m;
	p->n_deferred++;
}

json_object *call_take_deferred(struct ss_plugin *p)
{
	json_object *m;

	if (p->n_deferred == 0)
		return NULL;
	m = p->deferred[p->first_deferred];
	p->first_deferred = (p->first_deferred + 1) % p->cap_deferred;
	p->n_deferred--;
	return m;
}

/*
 * Reads until the reply to id. A ping is answered here (it asks whether the
 * host lives, which needs no plugin code); events, config, routes, jobs, shutdown
 * and replies to other requests (subscribe) wait for the serving loop, in
 * the order they came. init and reject cannot come now: protocol error.
 */
static json_object *wait_reply(struct ss_plugin *p, int64_t id)
{
	for (;;) {
		json_object *m = host_recv(p);
		int64_t mid;

		switch (msg_type_of(m)) {
		case MSG_REPLY:
			if (!msg_get_int(m, "id", &mid))
				host_protocol_error(ERR_BAD_MESSAGE, "id", m);
			if (mid == id)
				return m;
			defer(p, m);
			break;
		case MSG_PING:
			if (!msg_get_int(m, "id", &mid))
				host_protocol_error(ERR_BAD_MESSAGE, "id", m);
			json_object_put(m);
			m = msg_new_request(MSG_PONG, mid);
			if (host_send(p, m) < 0)
				die(HOST_EXIT_INTERNAL, "pong over max_frame");
			json_object_put(m);
			break;
		case MSG_EVENT:
		case MSG_CONFIG:
		case MSG_HTTP_REQUEST:
		case MSG_JOB:
		case MSG_SHUTDOWN:
			defer(p, m);
			break;
		default:
			host_protocol_error(ERR_OUT_OF_STATE, "not allowed during a call", m);
		}
	}
}

int call_request(struct ss_plugin *p, json_object *m, json_object **result)
{
	const char *t = msg_get_str(m, "t");
	json_object *reply, *err;
	int64_t id;
	int r;

	*result = NULL;
	if (p->protocol < 2) {
		r = call_fail(p, SS_ERR_UNIMPLEMENTED, ERR_UNIMPLEMENTED,
			      "the daemon speaks protocol %d, %s needs 2", p->protocol, t);
		json_object_put(m);
		return r;
	}
	if (p->in_call)
		die(HOST_EXIT_INTERNAL, "a call inside a call"); /* one thread: cannot happen */
	id = p->next_id++;
	json_object_object_add(m, "id", json_object_new_int64(id));
	if (host_send(p, m) < 0) {
		r = call_fail(p, SS_ERR_LIMIT, ERR_TOO_LARGE, "%s is over max_frame (%zu bytes)", t,
			      channel_max(p->ch));
		json_object_put(m);
		return r;
	}
	json_object_put(m);
	p->in_call = true;
	reply = wait_reply(p, id);
	p->in_call = false;

	err = msg_get_obj(reply, "error");
	if (err == NULL) {
		call_ok(p);
		*result = reply;
		return SS_OK;
	}
	const char *code = msg_get_str(err, "code"), *text = msg_get_str(err, "message");
	if (code == NULL)
		host_protocol_error(ERR_BAD_MESSAGE, "error without code", reply);
	set_error(p, code, text ? text : "");
	r = result_of(code);
	json_object_put(reply);
	return r;
}
