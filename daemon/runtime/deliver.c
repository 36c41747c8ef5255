/* Durable delivery: feeding the hosts from the outbox, cursors (see deliver.h). */
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

/* Ids one catch-up read covers at most. */
#define CATCHUP_ROWS 8192

struct feed *deliver_feed(struct deliver *dl, const char *name)
{
	struct feed *f;

	TAILQ_FOREACH(f, &dl->feeds, entry)
	{
		if (strcmp(f->name, name) == 0)
			return f;
	}
	return NULL;
}

/*
 * Queries hold the deliver as their arg: after deliver_free it stays, marked
 * dead, until the last answer comes back (db_free answers every pending one).
 */
bool deliver_answered(struct deliver *dl)
{
	dl->pending--;
	if (!dl->dead)
		return true;
	if (dl->pending == 0)
		free(dl);
	return false;
}

int deliver_query(struct deliver *dl, const char *sql, int n, const char *const *params,
		  db_result_fn fn)
{
	if (db_query(dl->db, sql, n, params, fn, dl) < 0)
		return -1;
	dl->pending++;
	return 0;
}

/* The cursor a feed's acknowledgements allow: before the oldest event it still holds. */
int64_t deliver_cursor(struct deliver *dl, struct feed *f)
{
	struct bus_sub *sub = bus_sub_find(dl->bus, f->name);
	int64_t low = sub ? bus_sub_oldest_id(sub, BUS_REQUEST_ID_BASE) : -1;

	if (low >= 0 && low - 1 < f->fed)
		return low - 1;
	return f->fed;
}

static void arr_put(char **p, size_t *len, size_t *cap, const char *s)
{
	size_t n = strlen(s);

	if (*len + n + 3 > *cap) {
		*cap = (*len + n + 3) * 2;
		*p = xrealloc(*p, *cap);
	}
	(*p)[*len] = *len ? ',' : '{';
	(*len)++;
	memcpy(*p + *len, s, n);
	*len += n;
	(*p)[*len] = '\0';
}

void deliver_arr_add(struct arrays *a, const char *name, int64_t id)
{
	char num[24];

	snprintf(num, sizeof num, "%" PRId64, id);
	arr_put(&a->names, &a->nl, &a->ncap, name);
	arr_put(&a->ids, &a->il, &a->icap, num);
	a->n++;
}

/* Closes both literals ("{}" when empty); the strings are the caller's to free. */
void deliver_arr_close(struct arrays *a)
{
	if (a->n == 0) {
		a->names = xstrdup("{}");
		a->ids = xstrdup("{}");
		return;
	}
	a->names[a->nl] = '}';
	a->names[a->nl + 1] = '\0';
	a->ids[a->il] = '}';
	a->ids[a->il + 1] = '\0';
}

void deliver_arr_free(struct arrays *a)
{
	free(a->names);
	free(a->ids);
}

/* Cursors: one UPDATE for every plugin that moved, one in flight at a time. */

static void schedule_flush(struct deliver *dl)
{
	dl->dirty = true;
	if (!dl->flushing)
		event_active(dl->flush, 0, 0);
}

static const char CURSOR_SQL[] = "UPDATE ss_event_cursors c SET acked_id = v.a, acked_at = now() "
				 "FROM unnest($2::text[], $3::bigint[]) AS v(p, a) "
				 "WHERE c.plugin = v.p AND c.owner = $1 AND c.acked_id < v.a "
				 /* computed before a replay the owner has yet to carry out */
				 "AND c.replay_from IS NULL";

static void on_flushed(enum db_status st, PGresult *res, const char *err, void *arg)
{
	struct deliver *dl = arg;

	(void)res;
	if (!deliver_answered(dl))
		return;
	dl->flushing = false;
	if (st != DB_OK) {
		/* Kept in memory: the next flush writes the same cursors again. */
		log_warn("deliver", "writing cursors: %s", err ? err : "database down");
		struct feed *f;
		TAILQ_FOREACH(f, &dl->feeds, entry)
		f->acked_db = -1; /* unknown: write again */
	} else {
		dl->st.cursor_writes++;
	}
	if (dl->dirty && !dl->stopping)
		event_active(dl->flush, 0, 0);
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
	struct deliver *dl = arg;
	struct arrays a = {0};
	struct feed *f;
	int64_t *want;
	size_t i = 0, n = 0;

	(void)fd;
	(void)what;
	if (dl->flushing || !dl->dirty)
		return;
	dl->dirty = false;
	TAILQ_FOREACH(f, &dl->feeds, entry)
	n++;
	want = xcalloc(n ? n : 1, sizeof *want);
	TAILQ_FOREACH(f, &dl->feeds, entry)
	{
		want[i] = f->owned ? deliver_cursor(dl, f) : -1;
		if (want[i] > f->acked_db)
			deliver_arr_add(&a, f->name, want[i]);
		i++;
	}
	if (a.n > 0) {
		const char *params[3] = {dl->id, NULL, NULL};

		deliver_arr_close(&a);
		params[1] = a.names;
		params[2] = a.ids;
		if (deliver_query(dl, CURSOR_SQL, 3, params, on_flushed) == 0) {
			dl->flushing = true;
			i = 0;
			TAILQ_FOREACH(f, &dl->feeds, entry)
			{
				if (want[i] > f->acked_db)
					f->acked_db = want[i];
				i++;
			}
		} else {
			dl->dirty = true; /* the next heartbeat tries again */
		}
	}
	deliver_arr_free(&a);
	free(want);
}

static void on_tried(enum db_status st, PGresult *res, const char *err, void *arg)
{
	struct deliver *dl = arg;

	(void)res;
	if (!deliver_answered(dl))
		return;
	if (st != DB_OK)
		log_warn("deliver", "recording a crash: %s", err ? err : "database down");
}

/*
 * A host crashed handling event id: the count goes into the cursor row
 * (fenced by the lease, like the cursor), so whichever daemon delivers the
 * plugin next carries on from it (migration 0010).
 */
static void crashed_hook(struct bus_sub *sub, int64_t id, unsigned attempts, void *arg)
{
	static const char TRIED_SQL[] = "UPDATE ss_event_cursors SET try_id = $3::bigint, "
					"tries = $4::int WHERE plugin = $1 AND owner = $2";
	struct deliver *dl = arg;
	struct feed *f = deliver_feed(dl, bus_sub_name(sub));
	char sid[24], n[16];

	if (f == NULL || !f->owned || id >= BUS_REQUEST_ID_BASE)
		return;
	f->try_id = id;
	f->tries = attempts;
	snprintf(sid, sizeof sid, "%" PRId64, id);
	snprintf(n, sizeof n, "%u", attempts);
	deliver_query(dl, TRIED_SQL, 4, (const char *const[]){f->name, dl->id, sid, n}, on_tried);
}

bool deliver_push(struct deliver *dl, struct feed *f, struct bus_sub *sub, int64_t id,
		  struct bus_event *ev)
{
	(void)dl;
	if (id != f->try_id || f->tries == 0)
		return bus_sub_push(sub, ev);
	if (f->tries >= 2) {
		/* Set aside by the daemon before us, which died before its cursor moved. */
		log_warn(f->name, "event %" PRId64 " skipped: poison (%u crashes)", id, f->tries);
		return true;
	}
	return bus_sub_push_tried(sub, ev, f->tries);
}

/*
 * The plugin's subscriber goes (disabled, uninstalled, stopped): what it
 * still held was not handled, so its feed goes back to before the oldest
 * of those. The cursor written at the release (or, re-enabled before the
 * next heartbeat, the next feeding) starts there: with a database a
 * disable pauses delivery, and what was queued at the disable is
 * delivered after the re-enable, like what is accepted meanwhile.
 */
static void freed_hook(struct bus_sub *sub, void *arg)
{
	struct deliver *dl = arg;
	struct feed *f = deliver_feed(dl, bus_sub_name(sub));

	if (f == NULL || !f->owned)
		return;
	f->fed = deliver_cursor(dl, f);
	f->live = false;
	f->gen++; /* a catch-up read in flight was for what the queue held */
	schedule_flush(dl);
}

static void release_hook(struct bus_sub *sub, void *arg)
{
	struct deliver *dl = arg;

	(void)sub;
	schedule_flush(dl);
	event_active(dl->pump, 0, 0);
}

/* Feeding: the reader's rows to live feeds, catch-up reads for the others. */

/*
 * A row as the bus takes it, prepared once for every feed that wants it, or
 * NULL (logged: a row a service inserted by hand may be one the bus refuses).
 */
static struct bus_event *prepare_row(struct deliver *dl, const struct outbox_row *r)
{
	char err[256] = "";
	json_object *o = NULL;
	struct bus_event *ev = NULL;

	if (r->own && !r->platform && r->origin == NULL) {
		/* The bytes this daemon's bus made and checked at the door: not parsed again. */
		ev = bus_prepare_serialised(dl->bus, r->id, r->type, r->data, r->len, err,
					    sizeof err);
		if (ev == NULL)
			log_warn("deliver", "event %" PRId64 " (%.64s) not delivered: %s", r->id,
				 r->type, err);
		return ev;
	}
	o = json_read(r->data, r->len, JSON_MAX_DEPTH, err, sizeof err);
	if (o != NULL)
		ev = bus_prepare_id(dl->bus, r->id, r->type, o, r->platform, err, sizeof err);
	else if (err[0] == '\0')
		snprintf(err, sizeof err, "data is null");
	if (ev == NULL)
		log_warn("deliver", "event %" PRId64 " (%.64s) not delivered: %s", r->id, r->type,
			 err);
	json_object_put(o);
	return ev;
}

/* Whether f may be fed now (ours, a host declared what it takes, not stopping). */
static struct bus_sub *feedable(struct deliver *dl, struct feed *f)
{
	struct bus_sub *sub;

	if (!f->owned || dl->quiet)
		return NULL;
	sub = bus_sub_find(dl->bus, f->name);
	return sub && bus_sub_declared(sub) ? sub : NULL;
}

void deliver_row(const struct outbox_row *r, void *arg)
{
	struct deliver *dl = arg;
	int64_t id = r->id;
	struct bus_event *ev = NULL;
	bool prepared = false, moved = false;
	struct feed *f;

	TAILQ_FOREACH(f, &dl->feeds, entry)
	{
		struct bus_sub *sub;

		if (!f->live)
			continue;
		sub = feedable(dl, f);
		if (sub == NULL || id <= f->fed) {
			f->live = sub != NULL;
			continue;
		}
		if (bus_sub_takes(sub, r->type, r->platform, r->origin)) {
			if (!prepared) {
				ev = prepare_row(dl, r);
				prepared = true;
			}
			if (ev != NULL && !deliver_push(dl, f, sub, id, ev)) {
				/* Full: it reads this row and the next ones itself, later. */
				f->live = false;
				f->fed = id - 1;
				continue;
			}
		}
		f->fed = id;
		moved = true;
	}
	bus_discard(ev);
	if (moved)
		schedule_flush(dl);
}

/*
 * A range of ids, not a row count: the rows read are bounded by the range
 * whatever plan the server picks (with the statistics of a table filled a
 * moment ago, ORDER BY id LIMIT n may sort every row past the cursor).
 */
static const char CATCHUP_SQL[] = "SELECT " OUTBOX_ROW_COLS " FROM ss_events "
				  "WHERE id > $1::bigint AND id <= $2::bigint ORDER BY id";

struct catchup {
	struct deliver *dl;
	char *name;
	int64_t upto; /* the range's end: at most the reader's position when asked */
	unsigned gen;
};

/* A catch-up's feed, for catchup_row. */
struct scan {
	struct deliver *dl;
	struct feed *f;
	struct bus_sub *sub;
	bool full; /* stopped at a row the queue had no room for */
};

/* Queues a caught-up row to the feed's host; false when its queue is full. */
static bool catchup_row(const struct outbox_row *r, void *arg)
{
	struct scan *s = arg;

	if (r->id <= s->f->fed)
		return true;
	if (bus_sub_takes(s->sub, r->type, r->platform, r->origin)) {
		struct bus_event *ev = prepare_row(s->dl, r);
		bool ok = ev == NULL || deliver_push(s->dl, s->f, s->sub, r->id, ev);

		bus_discard(ev);
		if (!ok) {
			s->full = true;
			return false;
		}
	}
	s->f->fed = r->id;
	return true;
}

static void on_catchup(enum db_status st, PGresult *res, const char *err, void *arg)
{
	struct catchup *c = arg;
	struct deliver *dl = c->dl;
	struct feed *f;
	struct bus_sub *sub;
	struct scan s;
	int n, i;

	if (!deliver_answered(dl))
		goto out;
	f = deliver_feed(dl, c->name);
	if (f == NULL)
		goto out;
	f->catching = false;
	if (c->gen != f->gen)
		goto out; /* asked for an earlier ownership */
	if (st != DB_OK) {
		log_warn("deliver", "%s: reading events: %s", c->name, err ? err : "database down");
		goto out; /* the next heartbeat pumps again */
	}
	sub = feedable(dl, f);
	if (sub == NULL)
		goto out;
	n = PQntuples(res);
	s = (struct scan){dl, f, sub, false};
	for (i = 0; i < n; i++) {
		struct outbox_row r;

		if (!outbox_row_read(res, i, &r) || !catchup_row(&r, &s))
			break;
	}
	if (i == n && c->upto > f->fed)
		f->fed = c->upto; /* the whole range was read (holes below the reader's position are
				     final) */
	schedule_flush(dl);
	event_active(dl->pump, 0, 0);
out:
	free(c->name);
	free(c);
}

/*
 * A catch-up from the outbox's recent rows, when it still holds (fed, upto]:
 * the rows a feed missed while its queue was full are the last ones
 * committed, most of the time. Returns false when they must be read.
 */
static bool catchup_recent(struct deliver *dl, struct feed *f, struct bus_sub *sub, int64_t upto)
{
	struct scan s = {dl, f, sub, false};
	int64_t from = f->fed;

	if (dl->ob == NULL || outbox_recent(dl->ob, from, upto, catchup_row, &s) < 0)
		return false;
	dl->st.catchup_mem++;
	if (!s.full && f->fed < upto)
		f->fed = upto; /* every row of the range was held (the rest are holes) */
	if (f->fed == from)
		return true; /* nothing fitted: the next release pumps again */
	schedule_flush(dl);
	event_active(dl->pump, 0, 0);
	return true;
}

/* Starts catch-up reads for owned feeds behind the reader, or makes them live. */
static void on_pump(evutil_socket_t fd, short what, void *arg)
{
	struct deliver *dl = arg;
	int64_t hwm = dl->ob ? outbox_hwm(dl->ob) : -1;
	struct feed *f;

	(void)fd;
	(void)what;
	if (hwm < 0)
		return;
	TAILQ_FOREACH(f, &dl->feeds, entry)
	{
		struct bus_sub *sub;
		size_t room;
		char from[24], upto[24];
		const char *params[2] = {from, upto};
		struct catchup *c;
		int64_t upto_id;

		if (f->live || f->catching || (sub = feedable(dl, f)) == NULL)
			continue;
		if (f->fed >= hwm) {
			f->live = true;
			continue;
		}
		room = bus_sub_room(sub);
		/*
		 * The next read goes out once the queue is half empty: large reads,
		 * and the host still has half a queue to work on while it comes.
		 */
		if (room == 0 || room < bus_sub_queued(sub))
			continue;
		if (room > CATCHUP_ROWS)
			room = CATCHUP_ROWS;
		/* Ids are dense but for holes: a range of room ids holds at most room rows. */
		upto_id = hwm - f->fed > (int64_t)room ? f->fed + (int64_t)room : hwm;
		if (catchup_recent(dl, f, sub, upto_id))
			continue;
		c = xcalloc(1, sizeof *c);
		c->dl = dl;
		c->name = xstrdup(f->name);
		c->upto = upto_id;
		c->gen = f->gen;
		snprintf(from, sizeof from, "%" PRId64, f->fed);
		snprintf(upto, sizeof upto, "%" PRId64, c->upto);
		if (db_query(dl->db, CATCHUP_SQL, 2, params, on_catchup, c) < 0) {
			free(c->name);
			free(c);
			continue;
		}
		dl->pending++;
		f->catching = true;
		dl->st.catchup_reads++;
	}
}

/*
 * A host became ready: a plugin not delivered here may be claimable now, so
 * the heartbeat runs at once (a new plugin's first events are not held for
 * up to a heartbeat).
 */
static void attach_hook(struct bus_sub *sub, void *arg)
{
	struct deliver *dl = arg;
	struct feed *f = deliver_feed(dl, bus_sub_name(sub));

	if ((f == NULL || !f->owned) && !dl->stopping)
		event_active(dl->tick, 0, 0);
}

struct deliver *deliver_new(struct event_base *base, struct db *db, struct bus *bus,
			    const struct deliver_options *opts)
{
	struct deliver *dl = xcalloc(1, sizeof *dl);
	struct timeval now = {0, 0};
	unsigned char rnd[6] = {0};
	FILE *ur;

	dl->base = base;
	dl->db = db;
	dl->bus = bus;
	if (opts)
		dl->o = *opts;
	if (dl->o.lease_ms <= 0)
		dl->o.lease_ms = 5000;
	if (dl->o.heartbeat_ms <= 0)
		dl->o.heartbeat_ms = 1000;
	if (dl->o.retention_s <= 0)
		dl->o.retention_s = 7 * 86400;
	if (dl->o.keep_delivered_s < 0)
		dl->o.keep_delivered_s = 60;
	dl->backlog = -1;
	TAILQ_INIT(&dl->feeds);
	if (gethostname(dl->host, sizeof dl->host - 1) < 0)
		snprintf(dl->host, sizeof dl->host, "unknown");
	/* Unique per run: host, pid and 48 random bits (a pid is reused after a restart). */
	ur = fopen("/dev/urandom", "rbe");
	if (ur != NULL) {
		if (fread(rnd, 1, sizeof rnd, ur) != sizeof rnd)
			memset(rnd, 0, sizeof rnd);
		fclose(ur);
	}
	snprintf(dl->id, sizeof dl->id, "%.64s:%d:%02x%02x%02x%02x%02x%02x", dl->host,
		 (int)getpid(), rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
	dl->tick = event_new(base, -1, 0, deliver_tick, dl);
	dl->pump = event_new(base, -1, 0, on_pump, dl);
	dl->flush = event_new(base, -1, 0, on_flush, dl);
	bus_set_hooks(bus, &(struct bus_hooks){.release = release_hook,
					       .attach = attach_hook,
					       .crashed = crashed_hook,
					       .freed = freed_hook,
					       .arg = dl});
	event_add(dl->tick, &now);
	log_info("deliver", "daemon %s: leases of %d ms, heartbeat %d ms", dl->id, dl->o.lease_ms,
		 dl->o.heartbeat_ms);
	return dl;
}

void deliver_set_outbox(struct deliver *dl, struct outbox *ob)
{
	dl->ob = ob;
}

void deliver_start_cursor(struct deliver *dl, const char *name)
{
	for (size_t i = 0; i < dl->nstarts; i++)
		if (strcmp(dl->starts[i], name) == 0)
			return;
	dl->starts = xrealloc(dl->starts, (dl->nstarts + 1) * sizeof *dl->starts);
	dl->starts[dl->nstarts++] = xstrdup(name);
	if (!dl->stopping)
		event_active(dl->tick, 0, 0);
}

void deliver_quiesce(struct deliver *dl)
{
	if (dl != NULL)
		dl->quiet = true;
}

void deliver_free(struct deliver *dl)
{
	struct feed *f;

	if (dl == NULL)
		return;
	bus_set_hooks(dl->bus, NULL);
	event_free(dl->tick);
	event_free(dl->pump);
	event_free(dl->flush);
	while ((f = TAILQ_FIRST(&dl->feeds)) != NULL) {
		TAILQ_REMOVE(&dl->feeds, f, entry);
		free(f->name);
		free(f);
	}
	json_object_put(dl->status);
	dl->status = NULL;
	for (size_t i = 0; i < dl->nstarts; i++)
		free(dl->starts[i]);
	free(dl->starts);
	dl->starts = NULL;
	dl->nstarts = 0;
	dl->dead = true;
	dl->stop_done = NULL;
	if (dl->pending == 0)
		free(dl);
}

void deliver_stats(const struct deliver *dl, struct deliver_stats *out)
{
	struct feed *f;

	*out = dl->st;
	out->owned = 0;
	TAILQ_FOREACH(f, &dl->feeds, entry)
	out->owned += f->owned;
}

const char *deliver_daemon_id(const struct deliver *dl)
{
	return dl->id;
}
