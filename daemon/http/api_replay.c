/* POST /api/plugins/marketplace/replay/{name}: history on request (api_replay.h). */
#include "api_replay.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_call.h"
#include "deliver_replay.h"
#include "msg.h"
#include "names.h"
#include "xmalloc.h"

#define API_REPLAY_PREFIX "/api/plugins/marketplace/replay/"

/* Digits at s[0..n), as a number. */
static bool digits(const char *s, int n, int *out)
{
	*out = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		*out = *out * 10 + (s[i] - '0');
	}
	return true;
}

/* An RFC 3339 date-time: 2026-12-01T20:11:07(.52)?(Z|+01:00); PostgreSQL parses it after. */
static bool rfc3339(const char *s)
{
	int y, mo, d, h, mi, sec, oh, om;

	if (strlen(s) < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
	    s[7] != '-' || !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
	    !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
	    !digits(s + 17, 2, &sec))
		return false;
	if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return false;
	s += 19;
	if (*s == '.') {
		s++;
		if (!isdigit((unsigned char)*s))
			return false;
		while (isdigit((unsigned char)*s))
			s++;
	}
	if ((*s == 'Z' || *s == 'z') && s[1] == '\0')
		return true;
	return (*s == '+' || *s == '-') && digits(s + 1, 2, &oh) && s[3] == ':' &&
	       digits(s + 4, 2, &om) && s[6] == '\0' && oh <= 23 && om <= 59;
}

struct ask {
	struct api_req *req;
	char name[SS_NAME_MAX + 1];
};

static void answer(struct api_req *req, const char *name, const struct deliver_replay_answer *a)
{
	json_object *o;

	switch (a->code) {
	case DELIVER_REPLAY_NOT_FOUND:
		api_reply_error(req, 404, "not_installed",
				"the plugin has no event cursor: it is not installed (and no "
				"daemon ever delivered it)");
		return;
	case DELIVER_REPLAY_FUTURE:
		api_reply_error(req, 400, "bad_field",
				"nothing to replay from the future: the newest event is %" PRId64
				" (fromId may be at most %" PRId64 ", since at most now)",
				a->head, a->head + 1);
		return;
	case DELIVER_REPLAY_DOWN:
		api_reply_header(req, "Retry-After", "1");
		api_reply_error(req, 503, "database_unavailable", "replay not recorded: %s",
				a->message);
		return;
	case DELIVER_REPLAY_OK:
		break;
	}
	o = json_object_new_object();
	msg_add_str(o, "plugin", name);
	json_object_object_add(o, "fromId", json_object_new_int64(a->from_id));
	json_object_object_add(o, "headId", json_object_new_int64(a->head));
	json_object_object_add(o, "events", json_object_new_int64(a->events));
	api_reply_json(req, a->events > 0 ? 202 : 200, o);
}

static void answered(const struct deliver_replay_answer *a, void *arg)
{
	struct ask *ask = arg;

	answer(ask->req, ask->name, a);
	free(ask);
}

static void h_replay(struct api_req *req, const char *rest, void *arg)
{
	static const char *const allowed[] = {"fromId", "since", NULL};
	struct deliver *const *dlp = arg; /* the daemon's: NULL without a database */
	char name[SS_NAME_MAX + 1];
	json_object *body = NULL, *from = NULL, *since = NULL;
	int64_t id = 0;
	const char *when = NULL;
	struct ask *ask;

	if (api_call_name(req, rest, name) < 0 || api_read_json(req, false, &body) < 0)
		return;
	if (api_call_only_fields(req, body, allowed) < 0)
		goto out;
	json_object_object_get_ex(body, "fromId", &from);
	json_object_object_get_ex(body, "since", &since);
	if ((from == NULL) == (since == NULL)) {
		api_reply_error(req, 400, "bad_field",
				"give exactly one of fromId (the first event id to deliver "
				"again) and since (an RFC 3339 time)");
		goto out;
	}
	if (from != NULL) {
		id = json_object_get_int64(from);
		if (!json_object_is_type(from, json_type_int) || id < 0) {
			api_reply_error(req, 400, "bad_field",
					"fromId must be an event id: an integer >= 0");
			goto out;
		}
	} else {
		when = json_object_get_string(since);
		if (!json_object_is_type(since, json_type_string) || !rfc3339(when)) {
			api_reply_error(req, 400, "bad_field",
					"since must be an RFC 3339 time, e.g. "
					"2026-12-01T20:11:07Z or 2026-12-01T21:11:07.5+01:00");
			goto out;
		}
	}
	if (*dlp == NULL) {
		api_reply_error(req, 409, "no_database",
				"no history without a database: in-memory events are not kept "
				"after delivery (run with --database)");
		goto out;
	}
	ask = xcalloc(1, sizeof *ask);
	ask->req = req;
	snprintf(ask->name, sizeof ask->name, "%s", name);
	if (deliver_replay(*dlp, name, id, when, answered, ask) < 0) {
		free(ask);
		api_reply_header(req, "Retry-After", "1");
		api_reply_error(req, 503, "database_unavailable",
				"replay not recorded: the database is not connected");
	}
out:
	json_object_put(body);
}

void api_replay_register(struct api *api, struct deliver *const *dl)
{
	api_route(api, "POST", API_REPLAY_PREFIX, true, API_ROLE_ADMIN, h_replay, (void *)dl);
}
