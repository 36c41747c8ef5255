/* History on request: recording a replay, and the owner carrying it out (deliver_replay.h). */
#include "deliver.h"

#include "deliver_replay.h"

#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "bus.h"
#include "db.h"
#include "deliver_int.h"
#include "log.h"
#include "xmalloc.h"

/*
 * One statement: the effective start (the id asked for, or the first one
 * created at or after since; never below the oldest row retention kept),
 * the request recorded unless it is in the future or there is nothing to
 * give, and what the answer says. replay_from is a cursor (the id before
 * the first one given again).
 */
static const char REPLAY_SQL[] =
    "WITH h AS (SELECT coalesce(max(id), 0) AS hi, coalesce(min(id), max(id) + 1, 1) AS lo "
    "  FROM ss_events), "
    "w AS (SELECT CASE WHEN $3::timestamptz IS NULL THEN $2::bigint ELSE coalesce("
    "  (SELECT min(id) FROM ss_events WHERE created_at >= $3::timestamptz), h.hi + 1) END AS w, "
    "  coalesce($3::timestamptz > now(), false) AS later FROM h), "
    "e AS (SELECT greatest(w.w, h.lo, 1) AS f, h.hi, w.w > h.hi + 1 OR w.later AS future "
    "  FROM w, h), "
    "upd AS (UPDATE ss_event_cursors c SET replay_seq = c.replay_seq + 1, "
    "  replay_from = least(c.replay_from, e.f - 1) FROM e "
    "  WHERE c.plugin = $1 AND NOT e.future AND e.f <= e.hi RETURNING 1) "
    "SELECT (SELECT count(*) FROM ss_event_cursors WHERE plugin = $1), e.f, e.hi, e.future, "
    "  CASE WHEN e.future THEN 0 ELSE (SELECT count(*) FROM ss_events WHERE id >= e.f) END, "
    "  (SELECT count(*) FROM upd) FROM e";

struct request {
	struct deliver *dl;
	deliver_replay_fn fn;
	void *arg;
};

static void on_replay(enum db_status st, PGresult *res, const char *err, void *arg)
{
	struct request *rq = arg;
	struct deliver_replay_answer a = {.code = DELIVER_REPLAY_DOWN};

	/* Answered even when the deliver is gone (shutdown): the caller's request waits. */
	deliver_answered(rq->dl);
	if (st != DB_OK || PQntuples(res) != 1) {
		a.message = st == DB_OK ? "unexpected answer" : err ? err : "database down";
	} else if (strcmp(PQgetvalue(res, 0, 0), "0") == 0) {
		a.code = DELIVER_REPLAY_NOT_FOUND;
	} else {
		a.code = strcmp(PQgetvalue(res, 0, 3), "t") == 0 ? DELIVER_REPLAY_FUTURE
								 : DELIVER_REPLAY_OK;
		a.from_id = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
		a.head = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
		a.events = strtoll(PQgetvalue(res, 0, 4), NULL, 10);
	}
	rq->fn(&a, rq->arg);
	free(rq);
}

int deliver_replay(struct deliver *dl, const char *plugin, int64_t from_id, const char *since,
		   deliver_replay_fn fn, void *arg)
{
	char id[24];
	const char *params[3] = {plugin, id, since};
	struct request *rq;

	if (dl->dead)
		return -1;
	snprintf(id, sizeof id, "%" PRId64, from_id);
	rq = xcalloc(1, sizeof *rq);
	*rq = (struct request){dl, fn, arg};
	if (db_query(dl->db, REPLAY_SQL, 3, params, on_replay, rq) < 0) {
		free(rq);
		return -1;
	}
	dl->pending++;
	return 0;
}

/* The owner's side: a request seen in its heartbeat's answer. */

/*
 * Clears the request taken (only that one: a newer one bumped replay_seq)
 * and moves the cursor back to it, fenced by the lease like every cursor
 * write. Sent only once no cursor write computed before the reset is in
 * flight (a write that landed after this one would move the cursor past
 * the events being replayed).
 */
static const char TAKEN_SQL[] =
    "UPDATE ss_event_cursors SET acked_id = least(acked_id, $3::bigint), acked_at = now(), "
    "  replay_from = NULL, try_id = CASE WHEN $5::bool THEN NULL ELSE try_id END, "
    "  tries = CASE WHEN $5::bool THEN 0 ELSE tries END "
    "WHERE plugin = $1 AND owner = $2 AND replay_seq = $4::bigint";

struct taken {
	struct deliver *dl;
	char *name;
	int64_t seq;
};

static void on_taken(enum db_status st, PGresult *res, const char *err, void *arg)
{
	struct taken *t = arg;
	struct feed *f;

	(void)res;
	if (!deliver_answered(t->dl))
		goto out;
	f = deliver_feed(t->dl, t->name);
	if (st != DB_OK) {
		log_warn(t->name, "replay: clearing the request: %s", err ? err : "database down");
		/* Taken again at the next heartbeat: some events twice, none lost. */
		if (f != NULL && f->replay_seq == t->seq)
			f->replay_seq = -1;
	} else if (f != NULL && f->owned) {
		/*
		 * The writes refused while the request stood (and this one's
		 * least()) may have left the row behind what was acknowledged:
		 * written again from memory.
		 */
		f->acked_db = -1;
		t->dl->dirty = true;
		event_active(t->dl->flush, 0, 0);
	}
out:
	free(t->name);
	free(t);
}

static void send_taken(struct deliver *dl, struct feed *f)
{
	char from[24], seq[24];
	const char *params[5] = {f->name, dl->id, from, seq, f->replay_reset ? "t" : "f"};
	struct taken *t;

	snprintf(from, sizeof from, "%" PRId64, f->replay_due);
	snprintf(seq, sizeof seq, "%" PRId64, f->replay_seq);
	t = xcalloc(1, sizeof *t);
	*t = (struct taken){dl, xstrdup(f->name), f->replay_seq};
	if (db_query(dl->db, TAKEN_SQL, 5, params, on_taken, t) < 0) {
		free(t->name);
		free(t);
		return; /* the next heartbeat tries again */
	}
	dl->pending++;
	f->replay_due = -1;
}

void deliver_replay_seen(struct deliver *dl, struct feed *f, int64_t from, int64_t seq)
{
	if (!f->owned)
		return;
	if (from >= 0 && seq != f->replay_seq) {
		f->replay_seq = seq;
		f->replay_due = from;
		f->replay_reset = from < deliver_cursor(dl, f);
		if (f->replay_reset) {
			/* As a claim from an older cursor: what is queued is handed over. */
			deliver_lose(dl, f, "moved back for a replay");
			f->owned = true;
			f->gen++; /* a catch-up read in flight answers the old position */
			f->live = false;
			f->fed = from;
			f->acked_db = from;
			f->try_id = -1;
			f->tries = 0;
			log_info(f->name,
				 "replaying events after %" PRId64 " (request %" PRId64 ")", from,
				 seq);
		}
	}
	if (f->replay_due >= 0 && !dl->flushing)
		send_taken(dl, f);
}
