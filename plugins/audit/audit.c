/*
 * audit: a built-in plugin (compiled into the plugin host, see
 * plugin-host/builtin.h) that uses every part of the plugin API. It records
 * every event it may see (admin: session, user, plugin and platform events)
 * in its storage and writes one structured line per event to the daemon's
 * log; a scheduled job deletes the records older than the retention period
 * and announces each run as plugin.audit.retention-run; GET
 * /api/plugins/audit/events?type=&limit= serves the records, newest first.
 *
 * Records are keyed so that storage's byte order is newest first and the
 * key alone says when and what: "e/<inverted ms>/<inverted id>/<type>". A
 * listing page then is a page of the newest records, a type filter needs no
 * read of the values, and the clean-up finds old records by their key.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <streamspace/plugin.h>

#include "../common/walk.h"

#include "builtin.h"

static const char audit_manifest[] =
    "{\"name\": \"audit\", \"version\": \"1.1.0\", \"displayName\": \"Audit log\","
    " \"description\": \"Records every event (sessions, users, plugins and the platform's own) in"
    " its storage for a retention period and in the daemon's log, and serves them at GET"
    " /api/plugins/audit/events, for compliance and forensics.\","
    " \"author\": \"StreamSpace\", \"license\": \"Apache-2.0\", \"type\": \"extension\","
    " \"category\": \"Compliance\", \"tags\": [\"audit\", \"compliance\", \"security\"],"
    " \"permissions\": [\"admin\", \"read:sessions\", \"read:users\", \"storage\", \"routes\","
    "  \"scheduler\"],"
    " \"configSchema\": {\"type\": \"object\", \"additionalProperties\": false, \"properties\": {"
    "  \"includeData\": {\"type\": \"boolean\", \"title\": \"Include event data\","
    "   \"description\": \"Keep and log the whole event data with each record\","
    "   \"default\": false},"
    "  \"retentionSeconds\": {\"type\": \"integer\", \"minimum\": 1, \"maximum\": 315360000,"
    "   \"title\": \"Retention\", \"description\": \"Records older than this are deleted\","
    "   \"default\": 2592000},"
    "  \"cleanupIntervalSeconds\": {\"type\": \"integer\", \"minimum\": 1, \"maximum\": 86400,"
    "   \"title\": \"Clean-up interval\", \"description\": \"How often the retention job runs\","
    "   \"default\": 600}}},"
    " \"defaultConfig\": {\"includeData\": false, \"retentionSeconds\": 2592000,"
    "  \"cleanupIntervalSeconds\": 600}}";

#define KEY_PREFIX "e/"
#define INV_MS ((int64_t)9999999999999) /* 13 digits: ms since the epoch until the year 2286 */
#define PAGE 1000			/* keys per listing page (the API's maximum) */
#define SCAN_PAGES 20			/* a request or a clean-up reads at most this many pages */
#define LIMIT_DEFAULT 100
#define LIMIT_MAX 1000

/* What one host of the plugin counted (logged; the stored records are the truth). */
static struct {
	uint64_t recorded, not_recorded;
	bool refusing; /* storage refused the last record: logged once per run of refusals */
} counts;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The first of the keys that names who acted, or NULL. */
static const char *actor(const ss_event *ev)
{
	static const char *const keys[] = {"user", "userId", "username", "email"};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		const char *v = ss_event_str(ev, keys[i]);
		if (v != NULL)
			return v;
	}
	return NULL;
}

/* The key of a record: newest first in storage's byte order. */
static void record_key(char *key, size_t len, int64_t ts, int64_t id, const char *type)
{
	snprintf(key, len, KEY_PREFIX "%013" PRId64 "/%019" PRId64 "/%s", INV_MS - ts,
		 INT64_MAX - id, type);
}

/* A record key's time and type; false for a key of another shape. */
static bool parse_key(const char *key, int64_t *ts, const char **type)
{
	char *end;
	long long inv;

	if (strncmp(key, KEY_PREFIX, 2) != 0)
		return false;
	inv = strtoll(key + 2, &end, 10);
	if (end != key + 2 + 13 || *end != '/' || strlen(end) < 21 || end[20] != '/')
		return false;
	*ts = INV_MS - inv;
	*type = end + 21;
	return true;
}

static int on_event(ss_plugin *p, const ss_event *ev)
{
	json_object *rec = json_object_new_object();
	const char *who = actor(ev), *session = ss_event_str(ev, "sessionId");
	int64_t ts = ss_event_ts(ev) > 0 ? ss_event_ts(ev) : now_ms();
	char key[256];
	int r;

	if (session == NULL && strncmp(ss_event_type(ev), "session.", 8) == 0)
		session = ss_event_str(ev, "id");
	json_object_object_add(rec, "id", json_object_new_int64(ss_event_id(ev)));
	json_object_object_add(rec, "type", json_object_new_string(ss_event_type(ev)));
	json_object_object_add(rec, "ts", json_object_new_int64(ts));
	if (who != NULL)
		json_object_object_add(rec, "actor", json_object_new_string(who));
	if (session != NULL)
		json_object_object_add(rec, "session", json_object_new_string(session));
	if (ss_config_bool(p, "includeData", 0))
		json_object_object_add(rec, "data", json_object_get(ss_event_data(ev)));

	/* The log record: "audit event=<type> event_id=<id> actor=... session=... [data=...]". */
	json_object *fields = json_object_new_object();
	json_object_object_add(fields, "event", json_object_new_string(ss_event_type(ev)));
	json_object_object_add(fields, "event_id", json_object_new_int64(ss_event_id(ev)));
	if (who != NULL)
		json_object_object_add(fields, "actor", json_object_new_string(who));
	if (session != NULL)
		json_object_object_add(fields, "session", json_object_new_string(session));
	if (ss_config_bool(p, "includeData", 0))
		json_object_object_add(fields, "data", json_object_get(ss_event_data(ev)));
	ss_log_fields(p, SS_INFO, fields, "audit");
	json_object_put(fields);

	record_key(key, sizeof key, ts, ss_event_id(ev), ss_event_type(ev));
	r = ss_storage_set(p, key, rec);
	json_object_put(rec);
	if (r != SS_OK) {
		/* The log line above still has it; a full quota waits for the clean-up. */
		counts.not_recorded++;
		if (!counts.refusing)
			ss_log(p, SS_WARN, "records not stored (%s): %s; %llu so far",
			       ss_error_code(p), ss_error_message(p),
			       (unsigned long long)counts.not_recorded);
		counts.refusing = true;
		return 0;
	}
	counts.recorded++;
	counts.refusing = false;
	return 0;
}

/* Whether a record's type is what ?type= asks for: exact, "prefix.*" or "*". */
static bool type_matches(const char *want, const char *type)
{
	size_t n;

	if (want == NULL || strcmp(want, "*") == 0)
		return true;
	n = strlen(want);
	if (n > 2 && strcmp(want + n - 2, ".*") == 0)
		return strncmp(type, want, n - 1) == 0;
	return strcmp(type, want) == 0;
}

/* A record walk's visitor, and what it is given. */
struct record_walk {
	bool (*visit)(ss_plugin *p, const char *key, int64_t ts, const char *type, void *arg);
	void *arg;
};

static int record_visit(ss_plugin *p, const char *key, void *arg)
{
	const struct record_walk *w = arg;
	const char *type;
	int64_t ts;

	if (!parse_key(key, &ts, &type))
		return 1;
	return w->visit(p, key, ts, type, w->arg) ? 1 : 0;
}

/*
 * Calls visit for each record key after cursor (NULL: from the newest),
 * newest first, page after page (pages of page_size keys, at most
 * SCAN_PAGES of them), until visit returns false. Returns 0, or -1 when
 * storage failed (its error is the plugin's last).
 */
static int walk(ss_plugin *p, const char *cursor, int page_size,
		bool (*visit)(ss_plugin *p, const char *key, int64_t ts, const char *type,
			      void *arg),
		void *arg)
{
	struct record_walk w = {visit, arg};

	return walk_keys_paged(p, KEY_PREFIX, cursor, page_size, SCAN_PAGES, record_visit, &w);
}

static int reply_error(ss_response *res, int status, const char *code, const char *message)
{
	json_object *body = json_object_new_object(), *e = json_object_new_object();

	json_object_object_add(e, "code", json_object_new_string(code));
	json_object_object_add(e, "message", json_object_new_string(message));
	json_object_object_add(body, "error", e);
	ss_res_json(res, status, body);
	json_object_put(body);
	return 0;
}

/* What a listing collects: records of the type asked for, up to limit. */
struct listing {
	const char *want;
	long limit;
	json_object *events;
};

static bool collect(ss_plugin *p, const char *key, int64_t ts, const char *type, void *arg)
{
	struct listing *l = arg;
	json_object *rec = NULL;

	(void)ts;
	if (!type_matches(l->want, type))
		return true;
	/* Gone meanwhile (the clean-up): skipped. */
	if (ss_storage_get(p, key, &rec) == SS_OK && rec != NULL)
		json_object_array_add(l->events, rec);
	return (long)json_object_array_length(l->events) < l->limit;
}

/* GET /api/plugins/audit/events?type=&limit=: the newest records first. */
static int get_events(ss_plugin *p, const ss_request *req, ss_response *res)
{
	const char *limit_s = ss_req_query(req, "limit");
	struct listing l = {.want = ss_req_query(req, "type"), .limit = LIMIT_DEFAULT};
	json_object *out;
	char *end;

	if (limit_s != NULL) {
		l.limit = strtol(limit_s, &end, 10);
		if (*limit_s == '\0' || *end != '\0' || l.limit < 1 || l.limit > LIMIT_MAX)
			return reply_error(res, 400, "bad_request",
					   "limit must be an integer from 1 to 1000");
	}
	if (l.want != NULL && (*l.want == '\0' || strlen(l.want) > 128))
		return reply_error(res, 400, "bad_request", "type must be 1 to 128 bytes");
	l.events = json_object_new_array();
	/* Without a filter every key is a record to return: a page of limit keys is enough. */
	if (walk(p, NULL, l.want == NULL ? (int)l.limit : PAGE, collect, &l) < 0) {
		json_object_put(l.events);
		return reply_error(res, 503, "unavailable", ss_error_message(p));
	}
	out = json_object_new_object();
	json_object_object_add(out, "count",
			       json_object_new_int64((int64_t)json_object_array_length(l.events)));
	json_object_object_add(out, "events", l.events);
	json_object_object_add(
	    out, "retentionSeconds",
	    json_object_new_int64(ss_config_int(p, "retentionSeconds", 2592000)));
	ss_res_json(res, 200, out);
	json_object_put(out);
	return 0;
}

/* What a retention run counts. */
struct sweep {
	int64_t cutoff, deleted, kept;
	bool failed;
};

/* Counts the records still kept, newest first, up to the first one past the cutoff. */
static bool count_kept(ss_plugin *p, const char *key, int64_t ts, const char *type, void *arg)
{
	struct sweep *sw = arg;

	(void)p;
	(void)key;
	(void)type;
	if (ts < sw->cutoff)
		return false;
	sw->kept++;
	return true;
}

static bool expire(ss_plugin *p, const char *key, int64_t ts, const char *type, void *arg)
{
	struct sweep *sw = arg;
	int r;

	(void)type;
	if (ts >= sw->cutoff) {
		sw->kept++;
		return true;
	}
	r = ss_storage_delete(p, key);
	if (r == SS_OK)
		sw->deleted++;
	else if (r != SS_ERR_NOT_FOUND)
		sw->failed = true;
	return true;
}

/*
 * The retention job: counts the records kept (the newest, up to SCAN_PAGES
 * pages of them), then deletes every record older than retentionSeconds
 * (found by its key: no value is read), from the first one past the cutoff
 * on, SCAN_PAGES pages a run (the next run goes on). Walking from the
 * newest to find them read only the newest 20,000 records: past that many
 * the old ones were never reached, so never deleted. Then publishes
 * plugin.audit.retention-run {deleted, kept, retentionSeconds, cutoff, ok}.
 */
static int retention(ss_plugin *p, const char *job)
{
	int64_t keep_s = ss_config_int(p, "retentionSeconds", 2592000);
	struct sweep sw = {.cutoff = now_ms() - keep_s * 1000};
	char from[64];
	json_object *d;

	(void)job;
	/* After every key of a record at the cutoff itself ('~' sorts after its digits). */
	snprintf(from, sizeof from, KEY_PREFIX "%013" PRId64 "/~", INV_MS - sw.cutoff);
	if (walk(p, NULL, PAGE, count_kept, &sw) < 0 || walk(p, from, PAGE, expire, &sw) < 0)
		sw.failed = true;
	d = json_object_new_object();
	json_object_object_add(d, "deleted", json_object_new_int64(sw.deleted));
	json_object_object_add(d, "kept", json_object_new_int64(sw.kept));
	json_object_object_add(d, "retentionSeconds", json_object_new_int64(keep_s));
	json_object_object_add(d, "cutoff", json_object_new_int64(sw.cutoff));
	json_object_object_add(d, "ok", json_object_new_boolean(!sw.failed));
	if (ss_emit(p, "retention-run", d) != SS_OK)
		ss_log(p, SS_WARN, "retention-run not announced: %s", ss_error_message(p));
	json_object_put(d);
	ss_log(p, SS_INFO, "retention: %lld deleted, %lld kept (older than %llds)",
	       (long long)sw.deleted, (long long)sw.kept, (long long)keep_s);
	return sw.failed ? 1 : 0;
}

static int on_load(ss_plugin *p)
{
	int64_t every = ss_config_int(p, "cleanupIntervalSeconds", 600);

	/* Every event it may see: with admin, the platform's too. */
	if (ss_subscribe(p, "*", on_event) < 0)
		return -1;
	if (ss_route(p, "GET", "/events", SS_ROUTE_VIEWER, get_events) != SS_OK ||
	    ss_every(p, "retention", every, retention) != SS_OK) {
		ss_log(p, SS_ERROR, "cannot serve: %s", ss_error_message(p));
		return -1;
	}
	return 0;
}

/*
 * includeData and retentionSeconds are read per event and per run, so a new
 * configuration takes effect at once. The clean-up interval is the job's
 * schedule, declared in on_load: a new one applies from the host's next
 * start (jobs are a host's, and are declared once).
 */
static int on_config(ss_plugin *p, json_object *config)
{
	json_object *v = NULL;

	if (json_object_object_get_ex(config, "cleanupIntervalSeconds", &v) &&
	    json_object_get_int64(v) != ss_config_int(p, "cleanupIntervalSeconds", 600))
		ss_log(p, SS_INFO, "cleanupIntervalSeconds %lld applies from the next start",
		       (long long)json_object_get_int64(v));
	return 0;
}

static const struct ss_plugin_def audit_def = {
    .abi = SS_SDK_ABI,
    .size = sizeof(struct ss_plugin_def),
    .name = "audit",
    .version = "1.1.0",
    .on_load = on_load,
    .on_config = on_config,
};

SS_BUILTIN(audit_def, audit_manifest)
