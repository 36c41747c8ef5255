/*
 * What a control-plane verb (registry_install, catalog_list, ...) says
 * happened, in words the control plane owns. The HTTP front end maps each
 * code to a status; nothing here knows what a status is.
 */
#ifndef SS_VERB_H
#define SS_VERB_H

#include <json-c/json.h>
#include <stdbool.h>

enum verb_code {
	VERB_OK = 0,
	VERB_BAD_VALUE,	      /* a value the database refused (the checks let it through) */
	VERB_NOT_FOUND,	      /* no plugin of that name anywhere (or no such version) */
	VERB_NOT_INSTALLED,   /* known, but not installed */
	VERB_ALREADY,	      /* already installed (at that version) */
	VERB_REJECTED,	      /* the plugin refused its new configuration: the old one stays */
	VERB_START_FAILED,    /* the plugin could not be started: nothing was left behind */
	VERB_PACKAGE_REFUSED, /* a catalog package failed a check (body {"check"}): nothing left */
	VERB_UNREADABLE,      /* the stored row cannot be read (see the message) */
	VERB_UNAVAILABLE,     /* the database is away: try again shortly */
	VERB_INTERNAL,	      /* a bug, logged */
	/* The configuration does not match the configSchema: body {"errors": [...]}. */
	VERB_INVALID_CONFIG,
	VERB_BUSY, /* another version change of the plugin is in progress, or just happened */
	VERB_NO_PREVIOUS, /* a rollback with no version named, and none ran before */
};

struct verb_result {
	enum verb_code code;
	const char *message; /* a sentence for the user ("" when there is nothing to add) */
	json_object *body;   /* what the verb produced (a view, a list), or NULL; borrowed */
	bool created;	     /* install: a new plugin (not an upgrade of an installed one) */
};

/* A verb's completion: called exactly once, on the reactor, maybe before the verb returns. */
typedef void (*verb_done_fn)(const struct verb_result *r, void *arg);

#endif
