/* Durable delivery: the heartbeat, leases, the daemons table, status, retention (deliver.h). */
#include "deliver.h"

#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <unistd.h>

#include "bus.h"
#include "clock.h"
#include "db.h"
#include "deliver_int.h"
#include "json.h"
#include "log.h"
#include "outbox.h"
#include "xmalloc.h"

/* Rows one retention statement looks at (and so deletes at most). */
#define RETENTION_ROWS 10000
/* Retention runs every this many heartbeats (and again at once while it finds rows). */
#define RETENTION_EVERY 5
/* A daemon row not seen for this long is forgotten. */
#define DAEMON_FORGET "interval '10 minutes'"

/* The heartbeat: this daemon's row, claims and renewals, releases, status, retention. */

/*
 * One statement: the daemon's row; the release of plugins it stops
 * delivering (with their last cursors); the claim of the plugins it runs a
 * ready host for, new cursors made at the head of the outbox (a plugin
 * started here that no install created a cursor for: no history) and
 * renewed or lapsed leases taken; and the cursors of the --plugin plugins
 * started here ($9) made at the head if they have none, before their
 * hosts are ready (what is accepted from their start on waits for them). The rows returned are the
 * leases held now. A row a concurrent daemon claims first is re-checked after its commit (READ
 * COMMITTED), so two daemons never both take one lease.
 */
static const char BEAT_SQL[] =
    "WITH hb AS (INSERT INTO ss_daemons (id, host, pid, hosts) "
    "  VALUES ($1, $2, $3::int, $4::jsonb) "
    "  ON CONFLICT (id) DO UPDATE SET last_seen = now(), hosts = EXCLUDED.hosts RETURNING 1), "
    "gc AS (DELETE FROM ss_daemons WHERE last_seen < now() - " DAEMON_FORGET " RETURNING 1), "
    "rel AS (UPDATE ss_event_cursors c SET owner = NULL, lease_until = NULL, "
    "  acked_id = greatest(c.acked_id, v.a) "
    "  FROM unnest($7::text[], $8::bigint[]) AS v(p, a) "
    "  WHERE c.plugin = v.p AND c.owner = $1 RETURNING 1), "
    "want AS (SELECT DISTINCT unnest($5::text[]) AS p), "
    "mk AS (INSERT INTO ss_event_cursors (plugin, acked_id) "
    "  SELECT s.p, (SELECT coalesce(max(id), 0) FROM ss_events) FROM unnest($9::text[]) AS s(p) "
    "  WHERE s.p NOT IN (SELECT p FROM want) ON CONFLICT (plugin) DO NOTHING RETURNING 1), "
    "ins AS (INSERT INTO ss_event_cursors (plugin, acked_id, owner, lease_until) "
    "  SELECT p, (SELECT coalesce(max(id), 0) FROM ss_events), $1, "
    "    now() + $6::int * interval '1 millisecond' FROM want "
    "  ON CONFLICT (plugin) DO NOTHING RETURNING plugin, acked_id), "
    "upd AS (UPDATE ss_event_cursors c SET owner = $1, "
    "    lease_until = now() + $6::int * interval '1 millisecond' FROM want "
    "  WHERE c.plugin = want.p "
    "    AND (c.owner = $1 OR c.owner IS NULL OR c.lease_until < now()) "
    "  RETURNING c.plugin, c.acked_id, c.try_id, c.tries, c.replay_from, c.replay_seq) "
    "SELECT plugin, acked_id, NULL::bigint, 0, NULL::bigint, 0::bigint FROM ins "
    "UNION ALL SELECT plugin, acked_id, try_id, tries, replay_from, replay_seq FROM upd";

/*
 * What the API shows, and the backlog: the undelivered events are those
 * between the lowest cursor of a leased plugin and the outbox's head, and
 * never below the oldest row still there (a cursor behind what retention
 * deleted does not count the deleted ids; holes of rolled-back inserts
 * between still do: the figure is an upper bound).
 */
static const char STATUS_SQL[] =
    "SELECT json_build_object("
    " 'daemons', (SELECT coalesce(json_agg(json_build_object('id', id, 'host', host, "
    "   'pid', pid, 'startedAt', started_at, 'lastSeen', last_seen, "
    "   'alive', last_seen > now() - $1::int * interval '1 millisecond', 'hosts', hosts) "
    "   ORDER BY started_at, id), '[]'::json) FROM ss_daemons), "
    " 'cursors', (SELECT coalesce(json_object_agg(plugin, json_build_object("
    "   'owner', CASE WHEN lease_until > now() THEN owner END, 'ackedId', acked_id, "
    "   'leaseUntil', lease_until, 'replayFrom', replay_from)), '{}'::json) FROM "
    "ss_event_cursors), "
    " 'backlog', (SELECT greatest(0, r.hi - greatest(coalesce("
    "   (SELECT min(acked_id) FROM ss_event_cursors WHERE lease_until > now()), r.hi), "
    "   r.lo - 1)) FROM (SELECT coalesce(max(id), 0) AS hi, "
    "   coalesce(min(id), max(id) + 1, 1) AS lo FROM ss_events) r))::text";

/*
 * How long the cursor of a plugin that is not installed (a --plugin one)
 * keeps holding retention once no daemon delivers it: a plugin run once by
 * hand must not keep the whole outbox for --event-retention.
 */
#define STALE_CURSOR "interval '1 hour'"

/*
 * Deletes, oldest first and at most RETENTION_ROWS at a time, the events
 * every cursor that holds retention has passed (once keep_delivered_s
 * old) and those older than retention_s whoever has not had them. A
 * cursor holds retention while its plugin is installed (enabled or not),
 * or its lease or its last acknowledgement is less than STALE_CURSOR old;
 * a replay not yet carried out holds from where it goes back to.
 */
static const char RETAIN_SQL[] =
    "WITH lo AS (SELECT coalesce((SELECT min(least(acked_id, replay_from)) FROM ss_event_cursors c "
    "  WHERE c.lease_until > now() - " STALE_CURSOR " OR c.acked_at > now() - " STALE_CURSOR
    "  OR EXISTS (SELECT 1 FROM installed_plugins i WHERE i.name = c.plugin)), "
    "  (SELECT coalesce(max(id), 0) FROM ss_events)) AS v), "
    "head AS (SELECT id, created_at FROM ss_events ORDER BY id LIMIT $1::int), "
    "del AS (DELETE FROM ss_events e USING head, lo WHERE e.id = head.id AND "
    "  ((head.id <= lo.v AND head.created_at < now() - $2::bigint * interval '1 second') "
    "   OR head.created_at < now() - $3::bigint * interval '1 second') RETURNING 1) "
    "SELECT count(*) FROM del";

static void retain(struct deliver *dl);

static void on_retained(enum db_status st, PGresult *res, const char *err, void *arg)
{
	struct deliver *dl = arg;
	long n;

	if (!deliver_answered(dl))
		return;
	dl->retaining = false;
	if (st != DB_OK) {
		log_warn("deliver", "retention: %s", err ? err : "database down");
		return;
	}
	n = PQntuples(res) == 1 ? strtol(PQgetvalue(res, 0, 0), NULL, 10) : 0;
	dl->st.retention_deleted += (uint64_t)n;
	/* A full batch: more is due; the loop gets its turn between batches. */
	if (n == RETENTION_ROWS && !dl->stopping)
		retain(dl);
}

static void retain(struct deliver *dl)
{
	char rows[16], keep[24], ret[24];
	const char *params[3] = {rows, keep, ret};

	if (dl->retaining)
		return;
	snprintf(rows, sizeof rows, "%d", RETENTION_ROWS);
	snprintf(keep, sizeof keep, "%" PRId64, dl->o.keep_delivered_s);
	snprintf(ret, sizeof ret, "%" PRId64, dl->o.retention_s);
	dl->retaining = deliver_query(dl, RETAIN_SQL, 3, params, on_retained) == 0;
}

static void on_status(enum db_status st, PGresult *res, const char *err, void *arg)
{
	struct deliver *dl = arg;
	json_object *o, *b;
	char why[128];

	(void)err;
	if (!deliver_answered(dl))
		return;
	dl->status_q = false;
	if (st != DB_OK || PQntuples(res) != 1)
		return;
	o = json_read(PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0), JSON_MAX_DEPTH, why,
		      sizeof why);
	if (o == NULL)
		return;
	if (json_object_object_get_ex(o, "backlog", &b))
		dl->backlog = json_object_get_int64(b);
	json_object_put(dl->status);
	dl->status = o;
}

/* The feeds this daemon no longer delivers: queues handed over, leases gone. */
void deliver_lose(struct deliver *dl, struct feed *f, const char *why)
{
	struct bus_sub *sub = bus_sub_find(dl->bus, f->name);
	size_t n = sub ? bus_sub_handover(sub) : 0;

	if (f->owned)
		log_info(f->name, "delivery %s at event %" PRId64 " (%zu queued handed over)", why,
			 f->acked_db, n);
	f->owned = false;
	f->live = false;
}

static void beat(struct deliver *dl);

static void on_beat(enum db_status st, PGresult *res, const char *err, void *arg)
{
	struct deliver *dl = arg;
	struct feed *f;
	int n;

	if (!deliver_answered(dl))
		return;
	dl->beating = false;
	if (st != DB_OK) {
		/*
		 * Leases are kept until they lapse by the database's clock; a
		 * daemon that cannot renew stops feeding well before that.
		 */
		log_warn("deliver", "heartbeat: %s", err ? err : "database down");
		dl->beat_again = false;
		return;
	}
	n = PQntuples(res);
	TAILQ_FOREACH(f, &dl->feeds, entry)
	f->seen = false; /* reused: held in this answer */
	for (int i = 0; i < n; i++) {
		const char *name = PQgetvalue(res, i, 0);
		int64_t acked = strtoll(PQgetvalue(res, i, 1), NULL, 10);

		int64_t replay =
		    PQgetisnull(res, i, 4) ? -1 : strtoll(PQgetvalue(res, i, 4), NULL, 10);
		int64_t seq = strtoll(PQgetvalue(res, i, 5), NULL, 10);

		f = deliver_feed(dl, name);
		if (f == NULL)
			continue;
		f->seen = true;
		if (f->owned) {
			deliver_replay_seen(dl, f, replay, seq);
			continue;
		}
		/* Ours from acked: what another daemon (or we, before) did not see acknowledged. */
		deliver_lose(dl, f, "reset"); /* stale queue from an earlier ownership */
		f->owned = true;
		f->gen++;
		f->live = false;
		f->fed = acked;
		f->acked_db = acked;
		/* The crashes its hosts had on one event, whichever daemon saw them. */
		f->try_id = PQgetisnull(res, i, 2) ? -1 : strtoll(PQgetvalue(res, i, 2), NULL, 10);
		f->tries = (unsigned)strtoul(PQgetvalue(res, i, 3), NULL, 10);
		f->replay_seq = -1; /* a replay still in the row is this ownership's to carry out */
		f->replay_due = -1;
		dl->st.takeovers++;
		log_info(f->name, "delivering events after %" PRId64 " (lease of %s)", acked,
			 dl->id);
		deliver_replay_seen(dl, f, replay, seq);
	}
	TAILQ_FOREACH(f, &dl->feeds, entry)
	{
		if (f->owned && !f->seen) {
			dl->st.lost++;
			deliver_lose(dl, f, "taken by another daemon");
		}
	}
	event_active(dl->pump, 0, 0);
	if (dl->beat_again && !dl->stopping) {
		dl->beat_again = false;
		beat(dl);
	}
}

/* Adds a feed for every subscriber name the bus knows (live or not). */
static void note_name(const char *name, const struct bus_sub_stats *st, void *arg)
{
	struct deliver *dl = arg;
	struct feed *f = deliver_feed(dl, name);

	(void)st;
	if (f == NULL) {
		f = xcalloc(1, sizeof *f);
		f->name = xstrdup(name);
		f->acked_db = -1;
		f->try_id = -1;
		f->replay_seq = -1;
		f->replay_due = -1;
		TAILQ_INSERT_TAIL(&dl->feeds, f, entry);
	}
}

static void beat(struct deliver *dl)
{
	struct arrays want = {0}, rel = {0}, starts = {0};
	char pid[16], lease[16], *hosts;
	json_object *h;
	int64_t now = clock_mono_ms();
	struct feed *f, *next;
	const char *params[9];

	bus_foreach(dl->bus, note_name, dl);
	for (f = TAILQ_FIRST(&dl->feeds); f != NULL; f = next) {
		struct bus_sub *sub = bus_sub_find(dl->bus, f->name);

		next = TAILQ_NEXT(f, entry);
		if (sub != NULL && bus_sub_attached(sub))
			f->attached_ms = now;
		/*
		 * Held through a short restart of its host; released when the
		 * host is gone longer than a lease (crash loop, failed,
		 * disabled), so a daemon whose host serves takes over.
		 */
		bool keep =
		    sub != NULL && bus_sub_declared(sub) &&
		    (bus_sub_attached(sub) || (f->owned && now - f->attached_ms < dl->o.lease_ms));
		/* Stopping: what is owned stays owned while the queues drain, nothing new. */
		if (dl->quiet)
			keep = f->owned && sub != NULL;
		if (keep) {
			deliver_arr_add(&want, f->name, 0);
			continue;
		}
		if (f->owned) {
			deliver_arr_add(&rel, f->name, deliver_cursor(dl, f));
			deliver_lose(dl, f, "released");
		}
		if (sub == NULL && !f->catching) {
			TAILQ_REMOVE(&dl->feeds, f, entry);
			free(f->name);
			free(f);
		}
	}
	for (size_t i = 0; i < dl->nstarts; i++)
		deliver_arr_add(&starts, dl->starts[i], 0);
	deliver_arr_close(&want);
	deliver_arr_close(&rel);
	deliver_arr_close(&starts);
	h = dl->o.hosts ? dl->o.hosts(dl->o.hosts_arg) : json_object_new_object();
	hosts = xstrdup(json_object_to_json_string_ext(h, JSON_C_TO_STRING_PLAIN));
	json_object_put(h);
	snprintf(pid, sizeof pid, "%d", (int)getpid());
	snprintf(lease, sizeof lease, "%d", dl->o.lease_ms);
	params[0] = dl->id;
	params[1] = dl->host;
	params[2] = pid;
	params[3] = hosts;
	params[4] = want.names;
	params[5] = lease;
	params[6] = rel.names;
	params[7] = rel.ids;
	params[8] = starts.names;
	dl->beating = deliver_query(dl, BEAT_SQL, 9, params, on_beat) == 0;
	if (!dl->status_q)
		dl->status_q =
		    deliver_query(dl, STATUS_SQL, 1, (const char *const[]){lease}, on_status) == 0;
	free(hosts);
	deliver_arr_free(&want);
	deliver_arr_free(&rel);
	deliver_arr_free(&starts);
}

void deliver_tick(evutil_socket_t fd, short what, void *arg)
{
	struct deliver *dl = arg;
	struct timeval tv = clock_tv(dl->o.heartbeat_ms);

	(void)fd;
	(void)what;
	if (dl->beating)
		dl->beat_again = true; /* a host became ready meanwhile: once more at the answer */
	else if (!dl->stopping)
		beat(dl);
	if (dl->beats++ % RETENTION_EVERY == 0 && !dl->stopping)
		retain(dl);
	if (dl->dirty)
		event_active(dl->flush, 0, 0);
	event_active(dl->pump, 0, 0);
	event_add(dl->tick, &tv);
}

static const char STOP_SQL[] =
    "WITH rel AS (UPDATE ss_event_cursors c SET owner = NULL, lease_until = NULL, "
    "  acked_id = greatest(c.acked_id, coalesce((SELECT max(v.a) FROM "
    "    unnest($2::text[], $3::bigint[]) AS v(p, a) WHERE v.p = c.plugin), c.acked_id)) "
    "  WHERE c.owner = $1 RETURNING 1) "
    "DELETE FROM ss_daemons WHERE id = $1";

static void on_stopped(enum db_status st, PGresult *res, const char *err, void *arg)
{
	struct deliver *dl = arg;
	void (*done)(void *) = dl->stop_done;

	(void)res;
	if (!deliver_answered(dl))
		return;
	if (st != DB_OK)
		log_warn("deliver", "releasing leases: %s (they lapse in %d ms)",
			 err ? err : "database down", dl->o.lease_ms);
	else
		log_info("deliver", "leases released");
	dl->stop_done = NULL;
	if (done)
		done(dl->stop_arg);
}

void deliver_stop(struct deliver *dl, void (*done)(void *arg), void *arg)
{
	struct arrays a = {0};
	struct feed *f;
	const char *params[3];

	dl->quiet = true;
	dl->stopping = true;
	TAILQ_FOREACH(f, &dl->feeds, entry)
	{
		if (f->owned)
			deliver_arr_add(&a, f->name, deliver_cursor(dl, f));
	}
	deliver_arr_close(&a);
	params[0] = dl->id;
	params[1] = a.names;
	params[2] = a.ids;
	dl->stop_done = done;
	dl->stop_arg = arg;
	if (deliver_query(dl, STOP_SQL, 3, params, on_stopped) < 0) {
		dl->stop_done = NULL;
		done(arg);
	}
	deliver_arr_free(&a);
}

int64_t deliver_backlog(const struct deliver *dl)
{
	return dl->backlog;
}

json_object *deliver_view(const struct deliver *dl, const char *plugin)
{
	json_object *out, *cursors, *c, *daemons, *list, *v;

	if (dl->status == NULL)
		return NULL;
	out = json_object_new_object();
	json_object_object_add(out, "daemon", json_object_new_string(dl->id));
	if (json_object_object_get_ex(dl->status, "cursors", &cursors) &&
	    json_object_object_get_ex(cursors, plugin, &c)) {
		json_object_object_foreach(c, k, val)
		    json_object_object_add(out, k, json_object_get(val));
	} else {
		json_object_object_add(out, "owner", NULL);
		json_object_object_add(out, "ackedId", NULL);
	}
	list = json_object_new_array();
	if (json_object_object_get_ex(dl->status, "daemons", &daemons)) {
		for (size_t i = 0; i < json_object_array_length(daemons); i++) {
			json_object *d = json_object_array_get_idx(daemons, i), *e, *hosts;

			e = json_object_new_object();
			json_object_object_foreach(d, k, val)
			{
				if (strcmp(k, "hosts") != 0)
					json_object_object_add(e, k, json_object_get(val));
			}
			v = NULL;
			if (json_object_object_get_ex(d, "hosts", &hosts))
				json_object_object_get_ex(hosts, plugin, &v);
			json_object_object_add(e, "hostState", json_object_get(v));
			json_object_array_add(list, e);
		}
	}
	json_object_object_add(out, "daemons", list);
	return out;
}
