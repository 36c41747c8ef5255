/* The daemon's own appends to the outbox: emits and platform events (see outbox_from.h). */
#include "outbox_from.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "db.h"
#include "log.h"
#include "pgarray.h"
#include "xmalloc.h"

struct append {
	STAILQ_ENTRY(append) entry;
	outbox_from_done_fn done;
	void *arg;
};

/* The events of one group commit, answered in the order appended. */
struct batch {
	struct outbox_from *of; /* NULL once freed: the answer only reaches the appends */
	struct pgarray types, data, origins, platform;
	size_t n;
	STAILQ_HEAD(, append) appends;
};

struct outbox_from {
	struct db *db;
	struct batch *pending, *inflight;
	struct event *kick;
};

/* WITH ORDINALITY and ORDER BY keep the ids in the order appended. */
static const char INSERT_SQL[] =
    "INSERT INTO ss_events (type, data, origin, platform) "
    "SELECT t, d, o, p FROM unnest($1::text[], $2::jsonb[], $3::text[], $4::boolean[]) "
    "WITH ORDINALITY AS u(t, d, o, p, n) ORDER BY n RETURNING id";

static void batch_finish(struct batch *b, PGresult *res, const char *err)
{
	struct append *a;
	int i = 0;

	while ((a = STAILQ_FIRST(&b->appends)) != NULL) {
		STAILQ_REMOVE_HEAD(&b->appends, entry);
		if (a->done != NULL) {
			if (res != NULL)
				a->done(strtoll(PQgetvalue(res, i, 0), NULL, 10), NULL, a->arg);
			else
				a->done(-1, err, a->arg);
		}
		i++;
		free(a);
	}
	pgarray_free(&b->types);
	pgarray_free(&b->data);
	pgarray_free(&b->origins);
	pgarray_free(&b->platform);
	free(b);
}

static void flush(struct outbox_from *of);

static void on_committed(enum db_status st, PGresult *res, const char *err, void *arg)
{
	struct batch *b = arg;
	struct outbox_from *of = b->of;

	if (st == DB_OK && (size_t)PQntuples(res) != b->n) {
		st = DB_ERROR;
		err = "the database returned the wrong number of ids";
	}
	batch_finish(b, st == DB_OK ? res : NULL, err ? err : "the database is unavailable");
	if (of == NULL)
		return;
	of->inflight = NULL;
	flush(of);
}

static void flush(struct outbox_from *of)
{
	struct batch *b = of->pending;
	const char *params[4];

	if (b == NULL || of->inflight != NULL)
		return;
	of->pending = NULL;
	params[0] = pgarray_close(&b->types);
	params[1] = pgarray_close(&b->data);
	params[2] = pgarray_close(&b->origins);
	params[3] = pgarray_close(&b->platform);
	if (db_query(of->db, INSERT_SQL, 4, params, on_committed, b) < 0) {
		batch_finish(b, NULL, "the database is unavailable");
		return;
	}
	of->inflight = b;
}

static void on_kick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	flush(arg);
}

struct outbox_from *outbox_from_new(struct event_base *base, struct db *db)
{
	struct outbox_from *of = xcalloc(1, sizeof *of);

	of->db = db;
	of->kick = event_new(base, -1, 0, on_kick, of);
	if (of->kick == NULL)
		fatal("outbox_from_new: out of memory");
	return of;
}

void outbox_from_free(struct outbox_from *of)
{
	if (of == NULL)
		return;
	if (of->pending != NULL)
		batch_finish(of->pending, NULL, "the daemon is stopping");
	if (of->inflight != NULL)
		of->inflight->of = NULL;
	event_free(of->kick);
	free(of);
}

void outbox_from_append(struct outbox_from *of, const char *type, const char *data, size_t len,
			const char *origin, bool platform, outbox_from_done_fn done, void *arg)
{
	struct append *a = xcalloc(1, sizeof *a);
	struct batch *b = of->pending;

	if (b == NULL) {
		b = of->pending = xcalloc(1, sizeof *b);
		b->of = of;
		STAILQ_INIT(&b->appends);
		/* At the end of this loop turn, unless a commit is in flight. */
		if (of->inflight == NULL)
			event_active(of->kick, 0, 0);
	}
	pgarray_elem(&b->types, type, strlen(type));
	pgarray_elem(&b->data, data, len);
	if (origin != NULL)
		pgarray_elem(&b->origins, origin, strlen(origin));
	else
		pgarray_null(&b->origins);
	pgarray_elem(&b->platform, platform ? "t" : "f", 1);
	b->n++;
	a->done = done;
	a->arg = arg;
	STAILQ_INSERT_TAIL(&b->appends, a, entry);
}

size_t outbox_from_pending(const struct outbox_from *of)
{
	return (of->pending ? of->pending->n : 0) + (of->inflight ? of->inflight->n : 0);
}
