/*
 * The checks of a host's handshake (PROTOCOL.md, "Handshake"): whether a
 * hello can be accepted and the init that answers it, and whether ready's
 * subscriptions are allowed. Pure functions of the messages and what the
 * daemon expects: the peer (peer.c) owns the state and acts on the verdict.
 */
#ifndef SS_HANDSHAKE_H
#define SS_HANDSHAKE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "exitcause.h"

#define SUBSCRIPTIONS_MAX 64 /* patterns one host may hold */

/* What the daemon expects of a hello and answers it with (all borrowed). */
struct handshake_expect {
	const char *name; /* the plugin the host was started for */
	bool strict;	  /* a missing sandbox layer is refused */
	json_object *config, *permissions;
	size_t max_frame;
	int event_timeout_ms, ping_interval_ms;
};

enum handshake_verdict {
	HS_ACCEPT, /* answer with init */
	HS_FAULT,  /* a malformed hello: the host is ended at once */
	HS_REJECT, /* a well-formed hello we cannot serve: the host is told why */
};

struct handshake_outcome {
	enum handshake_verdict verdict;
	enum exit_cause cause; /* fault or reject */
	const char *code;      /* reject: the error code sent (static) */
	char message[512];     /* fault or reject */
	/* accept: */
	json_object *init;    /* the answer (new reference, the caller sends it) */
	int protocol;	      /* the version both sides now speak */
	const char *version;  /* the plugin's version (borrowed from the hello) */
	json_object *sandbox; /* what the host reports of its sandbox (new reference) */
};

/* Checks hello against e and fills o. */
void handshake_hello(const struct handshake_expect *e, json_object *hello,
		     struct handshake_outcome *o);

/*
 * Checks ready's subscriptions against permissions: 0 with *subs (borrowed
 * from ready), else -1 with the cause (protocol or load) and why.
 */
int handshake_ready(json_object *permissions, json_object *ready, json_object **subs,
		    enum exit_cause *cause, char *why, size_t len);

#endif
