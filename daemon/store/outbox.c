#include "outbox.h"

#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include "db.h"
#include "log.h"
#include "pgarray.h"
#include "recent.h"
#include "xmalloc.h"

#define CHANNEL "ss_events"
/* Rows one read takes: bounded memory per turn, and the loop gets its turn back. */
#define READ_BATCH 5000
#define READ_BATCH_STR "5000"
/*
 * How long a hole in the ids is waited for before the reader steps over it.
 * An identity value is taken when a row is inserted and becomes visible at
 * commit, so a hole is a transaction still open (wait for it) or one rolled
 * back (nothing will come). A service's transaction that inserts into the
 * outbox and stays open longer than this may see its event skipped.
 */
#define GAP_WAIT_MS 5000
#define POLL_MS 1000
/*
 * The recent rows kept for catch-up (recent.h): at ~150 bytes a row, some
 * 50000 events, a dozen group commits of a busy door.
 */
#define RECENT_BYTES (8u << 20)

/* A growing buffer of the batch's texts, each NUL-terminated. */
struct lit {
	char *p;
	size_t len, cap;
};

static void lit_put(struct lit *l, const char *s, size_t n)
{
	if (l->len + n + 1 > l->cap) {
		l->cap = (l->len + n + 1) * 2;
		l->p = xrealloc(l->p, l->cap);
	}
	memcpy(l->p + l->len, s, n);
	l->len += n;
	l->p[l->len] = '\0';
}

struct append {
	STAILQ_ENTRY(append) entry;
	size_t n;
	outbox_done_fn done;
	void *arg;
};

/*
 * The events of one group commit, as appended: type and data of event i are
 * at buf + off[2i] and buf + off[2i+1] (each NUL-terminated, data dlen[i]
 * bytes). Kept until the commit so that, when the ids follow the reader's
 * position, the rows are handed on from here rather than read back.
 */
struct batch {
	struct outbox *ob;	    /* NULL once the outbox is freed: the result is dropped */
	struct pgarray types, data; /* the statement's parameters, built as events come */
	struct lit buf;
	size_t *off, *dlen;
	size_t n, cap;
	STAILQ_HEAD(, append) appends; /* in the order of their events */
};

struct outbox {
	struct event_base *base;
	struct db *db;
	outbox_row_fn row;
	void *row_arg;
	struct batch *pending; /* filling; NULL when empty */
	struct batch *inflight;
	size_t npending;
	struct event *kick;
	struct outbox_stats st;

	/* The reader. */
	int64_t hwm; /* every row up to here was handed on; -1 until known */
	bool reading, dirty;
	bool dead;	      /* freed by its owner: goes when its last query is answered */
	int64_t gap_since_ms; /* when the reader first waited at a hole, or 0 */
	/*
	 * The highest id a notification announced while a commit of ours was out
	 * (INT64_MAX: one that named none), read once that commit is answered.
	 */
	int64_t notified;
	struct recent *recent; /* the rows handed on last, for catch-up */
	struct event *poll;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct batch *batch_new(struct outbox *ob)
{
	struct batch *b = xcalloc(1, sizeof *b);

	b->ob = ob;
	STAILQ_INIT(&b->appends);
	return b;
}

/* Answers every append of the batch (the events stay for hand_on). */
static void batch_answer(struct batch *b, const int64_t *ids, const char *err)
{
	struct append *a;
	size_t off = 0;

	while ((a = STAILQ_FIRST(&b->appends)) != NULL) {
		STAILQ_REMOVE_HEAD(&b->appends, entry);
		a->done(ids ? ids + off : NULL, a->n, ids ? NULL : err, a->arg);
		off += a->n;
		free(a);
	}
}

static void batch_free(struct batch *b)
{
	pgarray_free(&b->types);
	pgarray_free(&b->data);
	free(b->buf.p);
	free(b->off);
	free(b->dlen);
	free(b);
}

static void batch_finish(struct batch *b, const int64_t *ids, const char *err)
{
	batch_answer(b, ids, err);
	batch_free(b);
}

static void read_more(struct outbox *ob);
static void flush(struct outbox *ob);

/*
 * Hands a committed batch's rows to the row callback from memory while their
 * ids follow the reader's position: no reading back of what this daemon just
 * wrote. Sound because every id up to the position was handed on and the
 * batch's rows are committed: the next id is the batch's, whoever else
 * inserts. Returns whether the whole batch went (else the reader reads the
 * rest: another daemon's or a service's row took an id in between, or
 * stands in a hole before them).
 */
static bool hand_on(struct outbox *ob, const struct batch *b, const int64_t *ids)
{
	size_t i;

	if (ob->hwm < 0)
		return false;
	for (i = 0; i < b->n && ids[i] == ob->hwm + 1; i++) {
		ob->hwm = ids[i];
		ob->gap_since_ms = 0;
		ob->st.handed++;
		/* The API's events: core events, no origin, serialised by the bus. */
		struct outbox_row row = {.id = ids[i],
					 .type = b->buf.p + b->off[2 * i],
					 .data = b->buf.p + b->off[2 * i + 1],
					 .len = b->dlen[i],
					 .own = true};

		ob->row(&row, ob->row_arg);
		recent_add(ob->recent, &row);
	}
	return i == b->n;
}

static void on_committed(enum db_status st, PGresult *res, const char *err, void *arg)
{
	struct batch *b = arg;
	struct outbox *ob = b->ob;
	int64_t *ids = NULL;
	bool read = true;

	if (st == DB_OK && (size_t)PQntuples(res) == b->n) {
		ids = xcalloc(b->n, sizeof *ids);
		for (size_t i = 0; i < b->n; i++)
			ids[i] = strtoll(PQgetvalue(res, (int)i, 0), NULL, 10);
	} else if (st == DB_OK) {
		err = "the database returned the wrong number of ids";
	}
	if (ob != NULL) {
		ob->inflight = NULL;
		if (ids != NULL) {
			ob->st.commits++;
			ob->st.events += b->n;
		} else {
			ob->st.failed++;
		}
		/*
		 * The next group commit goes out before anything else is done
		 * here: the server stores it while this one is answered and
		 * handed on (its parameters are built already).
		 */
		if (!ob->dead && ob->pending != NULL)
			flush(ob);
	}
	/* Then the 202s: the commit is what they waited for. */
	batch_answer(b, ids, err ? err : "the database is unavailable");
	if (ob != NULL && !ob->dead && ids != NULL)
		read = !hand_on(ob, b, ids);
	batch_free(b);
	free(ids);
	if (ob == NULL)
		return;
	if (ob->dead) {
		if (!ob->reading)
			free(ob);
		return;
	}
	/*
	 * Rows not handed on, or rows others inserted meanwhile (a notification
	 * that came while this commit was out waited for it): read them now.
	 */
	if (read || ob->notified > ob->hwm)
		read_more(ob);
}

/*
 * WITH ORDINALITY and ORDER BY keep the ids in the order appended, so the
 * i-th id returned is the i-th event's.
 */
static const char INSERT_SQL[] =
    "INSERT INTO ss_events (type, data) "
    "SELECT t, d FROM unnest($1::text[], $2::jsonb[]) WITH ORDINALITY AS u(t, d, o) "
    "ORDER BY o RETURNING id";

static void flush(struct outbox *ob)
{
	struct batch *b = ob->pending;
	const char *params[2];
	int rc;

	if (b == NULL || ob->inflight != NULL)
		return;
	ob->pending = NULL;
	ob->npending -= b->n;
	params[0] = pgarray_close(&b->types);
	params[1] = pgarray_close(&b->data);
	rc = db_query(ob->db, INSERT_SQL, 2, params, on_committed, b);
	/* db_query copied them. */
	pgarray_free(&b->types);
	pgarray_free(&b->data);
	if (rc < 0) {
		batch_finish(b, NULL, "the database is unavailable");
		return;
	}
	ob->inflight = b;
}

static void on_kick(evutil_socket_t fd, short what, void *arg)
{
	flush(arg);
}

/* Copies s (n bytes) and a NUL into the batch's buffer; returns its offset. */
static size_t batch_put(struct batch *b, const char *s, size_t n)
{
	size_t at = b->buf.len;

	lit_put(&b->buf, s, n);
	lit_put(&b->buf, "", 1); /* the NUL, counted: the next text starts after it */
	return at;
}

int outbox_append(struct outbox *ob, size_t n, const char *const *types, const char *const *data,
		  const size_t *len, outbox_done_fn done, void *arg)
{
	struct append *a;
	struct batch *b;

	if (n == 0)
		return -1;
	if (ob->pending == NULL) {
		ob->pending = batch_new(ob);
		/* At the end of this loop turn, unless a commit is in flight. */
		if (ob->inflight == NULL)
			event_active(ob->kick, 0, 0);
	}
	b = ob->pending;
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2;
		b->off = xrealloc(b->off, b->cap * 2 * sizeof *b->off);
		b->dlen = xrealloc(b->dlen, b->cap * sizeof *b->dlen);
	}
	for (size_t i = 0; i < n; i++) {
		pgarray_elem(&b->types, types[i], strlen(types[i]));
		pgarray_elem(&b->data, data[i], len[i]);
		b->off[2 * (b->n + i)] = batch_put(b, types[i], strlen(types[i]));
		b->off[2 * (b->n + i) + 1] = batch_put(b, data[i], len[i]);
		b->dlen[b->n + i] = len[i];
	}
	b->n += n;
	ob->npending += n;
	a = xcalloc(1, sizeof *a);
	a->n = n;
	a->done = done;
	a->arg = arg;
	STAILQ_INSERT_TAIL(&b->appends, a, entry);
	return 0;
}

void outbox_stats(const struct outbox *ob, struct outbox_stats *out)
{
	*out = ob->st;
}

int64_t outbox_hwm(const struct outbox *ob)
{
	return ob->hwm;
}

int outbox_recent(const struct outbox *ob, int64_t after, int64_t upto, recent_fn fn, void *arg)
{
	return ob->hwm < 0 ? -1 : recent_scan(ob->recent, after, upto, fn, arg);
}

size_t outbox_pending(const struct outbox *ob)
{
	return ob->npending + (ob->inflight ? ob->inflight->n : 0);
}

/* The reader: follows ss_events in id order from the high-water mark. */

bool outbox_row_read(const PGresult *res, int i, struct outbox_row *out)
{
	if (PQnfields(res) != 5)
		return false;
	out->id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
	out->type = PQgetvalue(res, i, 1);
	out->data = PQgetvalue(res, i, 2);
	out->len = (size_t)PQgetlength(res, i, 2);
	out->origin = PQgetisnull(res, i, 3) ? NULL : PQgetvalue(res, i, 3);
	out->platform = PQgetvalue(res, i, 4)[0] == 't';
	out->own = false; /* read from the table: whoever wrote it, parsed and checked again */
	return true;
}

static void on_read(enum db_status st, PGresult *res, const char *err, void *arg);

static void read_more(struct outbox *ob)
{
	char from[24];
	const char *params[1] = {from};
	int rc;

	if (ob->reading) {
		ob->dirty = true;
		return;
	}
	ob->dirty = false;
	ob->notified = 0;
	if (ob->hwm < 0) {
		rc = db_query(ob->db, "SELECT coalesce(max(id), 0) FROM ss_events", 0, NULL,
			      on_read, ob);
	} else {
		snprintf(from, sizeof from, "%" PRId64, ob->hwm);
		rc = db_query(ob->db,
			      "SELECT " OUTBOX_ROW_COLS " FROM ss_events WHERE id > $1::bigint "
			      "ORDER BY id LIMIT " READ_BATCH_STR,
			      1, params, on_read, ob);
	}
	ob->reading = rc == 0;
}

static void on_read(enum db_status st, PGresult *res, const char *err, void *arg)
{
	struct outbox *ob = arg;
	int n, i;
	bool again = false;

	ob->reading = false;
	if (ob->dead) {
		if (ob->inflight == NULL)
			free(ob);
		return;
	}
	if (st != DB_OK) {
		/* The poll timer tries again. */
		log_warn("outbox", "reading events: %s", err ? err : "database down");
		return;
	}
	n = PQntuples(res);
	if (ob->hwm < 0) {
		ob->hwm = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		recent_reset(ob->recent, ob->hwm);
		log_info("outbox", "delivering events after id %" PRId64, ob->hwm);
		again = true;
		n = 0; /* that answer was the position, not rows */
	}
	for (i = 0; i < n; i++) {
		struct outbox_row row;
		int64_t id;

		if (!outbox_row_read(res, i, &row))
			break;
		id = row.id;
		if (id <= ob->hwm)
			continue; /* handed on from memory while this read was out */
		if (id != ob->hwm + 1) {
			int64_t now = now_ms();

			if (ob->gap_since_ms == 0)
				ob->gap_since_ms = now;
			if (now - ob->gap_since_ms < GAP_WAIT_MS)
				break; /* wait for the transaction holding the hole */
			log_warn("outbox",
				 "events %" PRId64 "..%" PRId64
				 " never committed (rolled back or held open over %d ms): skipped",
				 ob->hwm + 1, id - 1, GAP_WAIT_MS);
		}
		ob->gap_since_ms = 0;
		ob->hwm = id;
		ob->row(&row, ob->row_arg);
		recent_add(ob->recent, &row);
	}
	if (i < n) {
		/* Stopped at a hole: look again soon. */
		struct timeval tv = {0, 20 * 1000};
		event_add(ob->poll, &tv);
		return;
	}
	if (again || n == READ_BATCH || ob->dirty)
		read_more(ob);
}

/*
 * NOTIFY ss_events carries the last id the inserting statement took (since
 * migration 0009; empty before, or when unknown). Ids up to the reader's
 * position need no read: this daemon's own commits, handed on from memory,
 * are most of them. While a commit of ours is out the read waits for its
 * answer, since the notification is often that commit's.
 */
static void on_notify(const char *channel, const char *payload, void *arg)
{
	struct outbox *ob = arg;
	char *end;
	long long id;

	(void)channel;
	errno = 0;
	id = payload ? strtoll(payload, &end, 10) : 0;
	if (payload == NULL || *payload == '\0' || *end != '\0' || errno != 0 || id <= 0)
		id = INT64_MAX;
	if (ob->hwm >= 0 && id <= ob->hwm)
		return;
	if (ob->inflight != NULL && ob->hwm >= 0) {
		if (id > ob->notified)
			ob->notified = id;
		return;
	}
	read_more(ob);
}

static void on_poll(evutil_socket_t fd, short what, void *arg)
{
	struct outbox *ob = arg;
	struct timeval tv = {POLL_MS / 1000, (POLL_MS % 1000) * 1000};

	/* A notification missed while the listener was reconnecting is caught here. */
	read_more(ob);
	event_add(ob->poll, &tv);
}

struct outbox *outbox_new(struct event_base *base, struct db *db, outbox_row_fn row, void *arg)
{
	struct outbox *ob = xcalloc(1, sizeof *ob);
	struct timeval tv = {0, 0};

	ob->base = base;
	ob->db = db;
	ob->row = row;
	ob->row_arg = arg;
	ob->hwm = -1;
	ob->recent = recent_new(RECENT_BYTES, 0);
	ob->kick = event_new(base, -1, 0, on_kick, ob);
	ob->poll = event_new(base, -1, 0, on_poll, ob);
	db_listen(db, CHANNEL, on_notify, ob);
	event_add(ob->poll, &tv);
	return ob;
}

void outbox_free(struct outbox *ob)
{
	if (ob == NULL)
		return;
	if (ob->pending)
		batch_finish(ob->pending, NULL, "the daemon is stopping");
	ob->pending = NULL;
	event_free(ob->kick);
	event_free(ob->poll);
	recent_free(ob->recent);
	ob->recent = NULL;
	/* Answers still to come find it and free it (the batch's appends are answered). */
	ob->dead = true;
	if (ob->inflight == NULL && !ob->reading)
		free(ob);
}
