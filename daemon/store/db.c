/*
 * The database pool. Each connection is a small state machine driven by
 * events on its socket: DOWN -> CONNECTING (PQconnectPoll) -> IDLE <-> BUSY,
 * and back to DOWN with a reconnect timer when anything fails. Queries wait
 * in one FIFO and go to the first idle connection. The listener connection
 * runs LISTEN for every channel each time it connects and then reports
 * notifications as they arrive.
 */
#include "db.h"

#include <event2/event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "xmalloc.h"

#define DB_BACKOFF_INITIAL_MS 100
#define DB_BACKOFF_MAX_MS 5000
#define DB_QUEUE_MAX 1024
/* A connection attempt or a statement that takes longer is treated as a lost connection. */
#define DB_CONNECT_TIMEOUT_MS 10000
#define DB_QUERY_TIMEOUT_MS 30000
/*
 * The listener asks "SELECT 1" this often; a server that has not answered
 * after DB_LIVENESS_TIMEOUT_MS is frozen (SIGSTOP, a hung host, a network
 * that drops without a reset): queries are refused (503) until it answers.
 * TCP keepalives cannot see this on a Unix socket, nor soon enough on TCP.
 */
#define DB_LIVENESS_INTERVAL_MS 1000
#define DB_LIVENESS_TIMEOUT_MS 3000

struct db_query {
	char *sql;
	int nparams;
	char **params;
	db_result_fn fn;
	void *arg;
	STAILQ_ENTRY(db_query) entry; /* while queued */
};
STAILQ_HEAD(db_queue, db_query);

enum conn_state { CONN_DOWN, CONN_CONNECTING, CONN_IDLE, CONN_BUSY };

struct db_conn {
	struct db *db;
	int index;
	bool listener;
	enum conn_state state;
	PGconn *pg;
	struct event *ev_poll;	   /* connecting: one-shot read or write */
	struct event *ev_read;	   /* connected: persistent */
	struct event *ev_write;	   /* connected: one-shot while PQflush has more */
	struct event *ev_retry;	   /* reconnect timer */
	struct event *ev_deadline; /* connect or query taking too long */
	int backoff_ms;
	struct db_query *q; /* in flight (query connections) */
	PGresult *res;	    /* last result of the statement in flight */
	bool listening;	    /* listener: LISTEN sent and answered */
	bool pinging;	    /* listener: the liveness query is out */
	struct timespec ping_sent;
};

struct db_channel {
	char *name;
	db_notify_fn fn;
	void *arg;
	SLIST_ENTRY(db_channel) entry;
};

struct db {
	struct event_base *base;
	char *conninfo;
	int nconns; /* query connections; conns[nconns] is the listener */
	struct db_conn *conns;
	struct db_queue queue; /* waiting for a connection, oldest first */
	size_t queued;
	SLIST_HEAD(, db_channel) channels;
	db_state_fn state_fn;
	bool reported_up;  /* what state_fn was last told */
	bool listen_dirty; /* a channel was added since the listener last sent LISTEN */
	void *state_arg;
	bool closing;
	bool was_down; /* for logging transitions once */
	bool frozen;   /* the liveness query is overdue: refuse queries until it answers */
	struct event *ev_live;
};

static void conn_start(struct db_conn *c);
static void conn_fail(struct db_conn *c, const char *why);
static void conn_read_cb(evutil_socket_t fd, short what, void *arg);
static void dispatch(struct db *db);

static void query_free(struct db_query *q)
{
	if (q == NULL)
		return;
	for (int i = 0; i < q->nparams; i++)
		free(q->params[i]);
	free(q->params);
	free(q->sql);
	free(q);
}

/* Ends a query with an outcome: the one place callbacks run. */
static void query_finish(struct db_query *q, enum db_status st, PGresult *res, const char *err)
{
	q->fn(st, res, err, q->arg);
	query_free(q);
}

void db_error_line(char *dst, size_t n, const char *what, const char *msg)
{
	if (msg == NULL || *msg == '\0')
		msg = "unknown error";
	if (what)
		snprintf(dst, n, "%s: %s", what, msg);
	else
		snprintf(dst, n, "%s", msg);
	/* libpq messages end with a newline and may go on with DETAIL lines. */
	dst[strcspn(dst, "\n")] = '\0';
}

static void one_line(char *dst, size_t n, const char *src)
{
	db_error_line(dst, n, NULL, src);
}

const char *db_sqlstate(const PGresult *res)
{
	const char *s = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	return s ? s : "";
}

static bool any_up(const struct db *db)
{
	for (int i = 0; i < db->nconns; i++)
		if (db->conns[i].state == CONN_IDLE || db->conns[i].state == CONN_BUSY)
			return true;
	return false;
}

/* Up, or trying to connect right now: a query may wait for the attempt's outcome. */
static bool any_usable(const struct db *db)
{
	for (int i = 0; i < db->nconns; i++)
		if (db->conns[i].state != CONN_DOWN)
			return true;
	return false;
}

/*
 * Tells state_fn when the pair "listener listening, a query connection up"
 * becomes true or false. Only then can the caller's resynchronisation both
 * see every later notification and run its queries.
 */
static void update_state(struct db *db)
{
	const struct db_conn *l = &db->conns[db->nconns];
	bool up = !db->closing && !db->frozen && l->listening && any_up(db);

	if (up == db->reported_up)
		return;
	db->reported_up = up;
	if (db->state_fn)
		db->state_fn(up, db->state_arg);
}

bool db_is_up(const struct db *db)
{
	return !db->closing && !db->frozen && any_up(db);
}

static void conn_clear_events(struct db_conn *c)
{
	if (c->ev_poll) {
		event_free(c->ev_poll);
		c->ev_poll = NULL;
	}
	if (c->ev_read) {
		event_free(c->ev_read);
		c->ev_read = NULL;
	}
	if (c->ev_write) {
		event_free(c->ev_write);
		c->ev_write = NULL;
	}
}

static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
	conn_start(arg);
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db_conn *c = arg;

	conn_fail(c, c->state == CONN_CONNECTING ? "connecting timed out" : "statement timed out");
}

static void arm_deadline(struct db_conn *c, int ms)
{
	struct timeval tv = clock_tv(ms);

	evtimer_add(c->ev_deadline, &tv);
}

/*
 * Settings every connection gets unless the operator's conninfo says
 * otherwise: a name in pg_stat_activity, TCP keepalives (a peer that
 * vanished is noticed even on the idle listener), a connect timeout.
 */
PGconn *db_connect_params(const char *conninfo, bool nonblocking)
{
	const char *keys[] = {"application_name",
			      "connect_timeout",
			      "keepalives",
			      "keepalives_idle",
			      "keepalives_interval",
			      "keepalives_count",
			      "tcp_user_timeout",
			      "dbname",
			      NULL};
	/* Over TCP a peer that vanished is noticed in about 10 s, unanswered writes in 5 s. */
	const char *vals[] = {"streamspaced", "10", "1", "5", "2", "3", "5000", conninfo, NULL};

	/* An empty conninfo means "the PG* variables": pass no dbname at all. */
	if (conninfo == NULL || *conninfo == '\0')
		keys[7] = NULL;
	return nonblocking ? PQconnectStartParams(keys, vals, 1) : PQconnectdbParams(keys, vals, 1);
}

/* Fails every queued query when no connection is left to run them. */
static void fail_queue(struct db *db, const char *why)
{
	struct db_query *q;

	while ((q = STAILQ_FIRST(&db->queue)) != NULL) {
		STAILQ_REMOVE_HEAD(&db->queue, entry);
		db->queued--;
		query_finish(q, DB_DOWN, NULL, why);
	}
}

/*
 * The connection is gone: report the query in flight as DB_DOWN (the caller
 * answers 503; nothing is silently dropped) and schedule a reconnect.
 */
static void conn_fail(struct db_conn *c, const char *why)
{
	struct db *db = c->db;
	struct db_query *q = c->q;
	bool was_up = c->state == CONN_IDLE || c->state == CONN_BUSY;
	struct timeval tv;
	char msg[256];

	one_line(msg, sizeof msg, why);
	conn_clear_events(c);
	evtimer_del(c->ev_deadline);
	if (c->pg) {
		PQfinish(c->pg);
		c->pg = NULL;
	}
	PQclear(c->res);
	c->res = NULL;
	c->q = NULL;
	c->state = CONN_DOWN;
	c->listening = false;
	c->pinging = false;
	if (!db->closing && (was_up || c->backoff_ms == 0 || c->backoff_ms >= DB_BACKOFF_MAX_MS))
		log_warn("db", "connection %d%s lost or refused: %s", c->index,
			 c->listener ? " (listener)" : "", msg);
	if (q)
		query_finish(q, DB_DOWN, NULL, "database connection lost");
	if (db->closing)
		return;
	c->backoff_ms = clock_double_delay(c->backoff_ms, DB_BACKOFF_INITIAL_MS, DB_BACKOFF_MAX_MS);
	tv = clock_tv(c->backoff_ms);
	evtimer_add(c->ev_retry, &tv);
	update_state(db);
	if (!c->listener && !any_usable(db)) {
		if (!db->was_down)
			log_error("db", "database unavailable; reconnecting with backoff");
		db->was_down = true;
		fail_queue(db, "database unavailable");
	}
}

/* Sends LISTEN for every channel on the listener connection. */
static void listener_send_listen(struct db_conn *c)
{
	char *sql = xstrdup("");
	struct db_channel *ch;

	c->db->listen_dirty = false;
	SLIST_FOREACH(ch, &c->db->channels, entry)
	{
		char *id = PQescapeIdentifier(c->pg, ch->name, strlen(ch->name));
		char *next;

		if (id == NULL) {
			free(sql);
			conn_fail(c, PQerrorMessage(c->pg));
			return;
		}
		next = xasprintf("%sLISTEN %s;", sql, id);
		PQfreemem(id);
		free(sql);
		sql = next;
	}
	if (sql[0] == '\0') {
		/* Nothing to listen to yet: the listener is simply up. */
		free(sql);
		c->state = CONN_IDLE;
		c->listening = true;
		update_state(c->db);
		return;
	}
	if (!PQsendQuery(c->pg, sql)) {
		free(sql);
		conn_fail(c, PQerrorMessage(c->pg));
		return;
	}
	free(sql);
	c->state = CONN_BUSY;
	if (PQflush(c->pg) == 1)
		event_add(c->ev_write, NULL);
}

static void conn_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db_conn *c = arg;
	int r = PQflush(c->pg);

	if (r < 0)
		conn_fail(c, PQerrorMessage(c->pg));
	else if (r == 1)
		event_add(c->ev_write, NULL);
}

/* Delivers notifications waiting in libpq's buffer. */
static void deliver_notifies(struct db_conn *c)
{
	PGnotify *n;

	while (c->pg && (n = PQnotifies(c->pg)) != NULL) {
		struct db_channel *ch;

		SLIST_FOREACH(ch, &c->db->channels, entry)
		if (strcmp(ch->name, n->relname) == 0)
			ch->fn(n->relname, n->extra ? n->extra : "", ch->arg);
		PQfreemem(n);
	}
}

static void conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db_conn *c = arg;
	struct db *db = c->db;

	if (!PQconsumeInput(c->pg)) {
		conn_fail(c, PQerrorMessage(c->pg));
		return;
	}
	if (PQflush(c->pg) == 1)
		event_add(c->ev_write, NULL);
	while (c->state == CONN_BUSY && !PQisBusy(c->pg)) {
		PGresult *res = PQgetResult(c->pg);
		struct db_query *q;

		if (res != NULL) {
			PQclear(c->res);
			c->res = res;
			continue;
		}
		/* The statement is complete: hand over its last result. */
		res = c->res;
		c->res = NULL;
		q = c->q;
		c->q = NULL;
		c->state = CONN_IDLE;
		evtimer_del(c->ev_deadline);
		if (c->listener && c->pinging) {
			/* The server answers: whatever froze it is over. */
			c->pinging = false;
			PQclear(res);
			if (db->frozen) {
				db->frozen = false;
				log_warn("db", "the database answers again");
				update_state(db);
			}
			if (db->listen_dirty && c->state == CONN_IDLE)
				listener_send_listen(c);
			break;
		}
		if (c->listener) {
			ExecStatusType st = PQresultStatus(res);

			PQclear(res);
			if (st != PGRES_COMMAND_OK) {
				conn_fail(c, "LISTEN failed");
				return;
			}
			c->listening = true;
			log_debug("db", "listening for notifications");
			update_state(db);
			if (db->listen_dirty && c->state == CONN_IDLE)
				listener_send_listen(c);
			break;
		}
		if (q) {
			ExecStatusType st = PQresultStatus(res);

			if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
				query_finish(q, DB_OK, res, NULL);
			} else {
				char msg[512];

				one_line(msg, sizeof msg,
					 res ? PQresultErrorMessage(res) : PQerrorMessage(c->pg));
				query_finish(q, DB_ERROR, res, msg);
			}
		}
		PQclear(res);
		/* A callback's new query may have failed this very connection. */
		if (c->state == CONN_DOWN)
			return;
		if (PQstatus(c->pg) == CONNECTION_BAD) {
			conn_fail(c, PQerrorMessage(c->pg));
			return;
		}
		dispatch(db);
		/* dispatch may have made c busy again; keep looping only then. */
	}
	if (c->pg && PQstatus(c->pg) == CONNECTION_BAD) {
		conn_fail(c, PQerrorMessage(c->pg));
		return;
	}
	deliver_notifies(c);
}

/* The connection finished its handshake: switch to the serving events. */
static void conn_ready(struct db_conn *c)
{
	struct db *db = c->db;
	evutil_socket_t fd = PQsocket(c->pg);

	if (PQsetnonblocking(c->pg, 1) != 0) {
		conn_fail(c, PQerrorMessage(c->pg));
		return;
	}
	evtimer_del(c->ev_deadline);
	c->ev_read = event_new(db->base, fd, EV_READ | EV_PERSIST, conn_read_cb, c);
	c->ev_write = event_new(db->base, fd, EV_WRITE, conn_write_cb, c);
	event_add(c->ev_read, NULL);
	c->backoff_ms = 0;
	c->state = CONN_IDLE;
	if (c->listener) {
		listener_send_listen(c);
		return;
	}
	if (db->was_down) {
		log_info("db", "database connection restored");
		db->was_down = false;
	}
	dispatch(db);
	update_state(db);
}

static void conn_poll_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db_conn *c = arg;
	PostgresPollingStatusType st = PQconnectPoll(c->pg);
	short ev;

	event_free(c->ev_poll);
	c->ev_poll = NULL;
	switch (st) {
	case PGRES_POLLING_OK:
		conn_ready(c);
		return;
	case PGRES_POLLING_READING:
		ev = EV_READ;
		break;
	case PGRES_POLLING_WRITING:
		ev = EV_WRITE;
		break;
	default:
		conn_fail(c, PQerrorMessage(c->pg));
		return;
	}
	/* The socket may change between steps (another address was tried). */
	c->ev_poll = event_new(c->db->base, PQsocket(c->pg), ev, conn_poll_cb, c);
	event_add(c->ev_poll, NULL);
}

/* libpq's notices (RAISE NOTICE, "already exists, skipping") go to our log, quietly. */
static void notice_cb(void *arg, const char *message)
{
	char msg[512];

	one_line(msg, sizeof msg, message);
	log_debug("db", "%s", msg);
}

static void conn_start(struct db_conn *c)
{
	c->pg = db_connect_params(c->db->conninfo, true);
	if (c->pg)
		PQsetNoticeProcessor(c->pg, notice_cb, NULL);
	if (c->pg == NULL) {
		conn_fail(c, "out of memory");
		return;
	}
	if (PQstatus(c->pg) == CONNECTION_BAD || PQsocket(c->pg) < 0) {
		conn_fail(c, PQerrorMessage(c->pg));
		return;
	}
	c->state = CONN_CONNECTING;
	arm_deadline(c, DB_CONNECT_TIMEOUT_MS);
	/* PQconnectStart leaves us as if PQconnectPoll had said "writing". */
	c->ev_poll = event_new(c->db->base, PQsocket(c->pg), EV_WRITE, conn_poll_cb, c);
	event_add(c->ev_poll, NULL);
}

/* Sends the next queued query on each idle connection. */
static void dispatch(struct db *db)
{
	for (int i = 0; i < db->nconns && !STAILQ_EMPTY(&db->queue); i++) {
		struct db_conn *c = &db->conns[i];
		struct db_query *q;

		if (c->state != CONN_IDLE)
			continue;
		q = STAILQ_FIRST(&db->queue);
		STAILQ_REMOVE_HEAD(&db->queue, entry);
		db->queued--;
		if (!PQsendQueryParams(c->pg, q->sql, q->nparams, NULL,
				       (const char *const *)q->params, NULL, NULL, 0)) {
			char msg[256];

			one_line(msg, sizeof msg, PQerrorMessage(c->pg));
			/* Put it back: another connection (or this one, later) takes it. */
			STAILQ_INSERT_HEAD(&db->queue, q, entry);
			db->queued++;
			conn_fail(c, msg);
			continue;
		}
		c->q = q;
		c->state = CONN_BUSY;
		arm_deadline(c, DB_QUERY_TIMEOUT_MS);
		if (PQflush(c->pg) == 1)
			event_add(c->ev_write, NULL);
	}
}

int db_query(struct db *db, const char *sql, int nparams, const char *const *params,
	     db_result_fn fn, void *arg)
{
	struct db_query *q;

	if (db->closing || db->frozen || !any_usable(db) || db->queued >= DB_QUEUE_MAX)
		return -1;
	q = xcalloc(1, sizeof *q);
	q->sql = xstrdup(sql);
	q->nparams = nparams;
	q->params = xcalloc((size_t)nparams + 1, sizeof *q->params);
	for (int i = 0; i < nparams; i++)
		q->params[i] = params[i] ? xstrdup(params[i]) : NULL;
	q->fn = fn;
	q->arg = arg;
	STAILQ_INSERT_TAIL(&db->queue, q, entry);
	db->queued++;
	dispatch(db);
	return 0;
}

int db_query_ctx(struct db *db, const char *sql, int nparams, const char *const *params,
		 db_result_fn fn, void *ctx)
{
	if (db_query(db, sql, nparams, params, fn, ctx) < 0) {
		free(ctx);
		return -1;
	}
	return 0;
}

static int64_t ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)(now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

/*
 * The liveness check, on the listener (idle but for notifications): sends
 * SELECT 1 when none is out; one out for too long freezes the pool. Queries
 * in flight on a frozen server end now as DB_DOWN (their callers answer 503)
 * instead of at the statement deadline.
 */
static void live_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db *db = arg;
	struct db_conn *l = &db->conns[db->nconns];

	(void)fd;
	(void)what;
	if (l->state == CONN_IDLE && l->listening) {
		if (!PQsendQuery(l->pg, "SELECT 1")) {
			conn_fail(l, PQerrorMessage(l->pg));
			return;
		}
		l->state = CONN_BUSY;
		l->pinging = true;
		clock_gettime(CLOCK_MONOTONIC, &l->ping_sent);
		arm_deadline(l, DB_QUERY_TIMEOUT_MS);
		if (PQflush(l->pg) == 1)
			event_add(l->ev_write, NULL);
		return;
	}
	if (!l->pinging || db->frozen || ms_since(&l->ping_sent) < DB_LIVENESS_TIMEOUT_MS)
		return;
	log_error("db",
		  "the database has not answered for %d ms: refusing queries (503) until it does",
		  DB_LIVENESS_TIMEOUT_MS);
	db->frozen = true;
	for (int i = 0; i < db->nconns; i++)
		if (db->conns[i].state == CONN_BUSY)
			conn_fail(&db->conns[i], "the database stopped answering");
	fail_queue(db, "the database stopped answering");
	update_state(db);
}

void db_listen(struct db *db, const char *channel, db_notify_fn fn, void *arg)
{
	struct db_channel *ch = xcalloc(1, sizeof *ch);
	struct db_conn *l = &db->conns[db->nconns];

	ch->name = xstrdup(channel);
	ch->fn = fn;
	ch->arg = arg;
	SLIST_INSERT_HEAD(&db->channels, ch, entry);
	/*
	 * A listener that is up LISTENs again now, or as soon as its current
	 * statement completes; one that is down LISTENs to all when it connects.
	 */
	db->listen_dirty = true;
	if (l->state == CONN_IDLE && l->listening)
		listener_send_listen(l);
}

void db_on_state(struct db *db, db_state_fn fn, void *arg)
{
	db->state_fn = fn;
	db->state_arg = arg;
}

struct db *db_new(struct event_base *base, const char *conninfo, int pool_size)
{
	struct db *db = xcalloc(1, sizeof *db);

	STAILQ_INIT(&db->queue);
	SLIST_INIT(&db->channels);
	db->base = base;
	db->conninfo = xstrdup(conninfo ? conninfo : "");
	db->nconns = pool_size > 0 ? pool_size : 4;
	db->conns = xcalloc((size_t)db->nconns + 1, sizeof *db->conns);
	for (int i = 0; i <= db->nconns; i++) {
		struct db_conn *c = &db->conns[i];

		c->db = db;
		c->index = i;
		c->listener = i == db->nconns;
		c->ev_retry = evtimer_new(base, retry_cb, c);
		c->ev_deadline = evtimer_new(base, deadline_cb, c);
	}
	for (int i = 0; i <= db->nconns; i++)
		conn_start(&db->conns[i]);
	db->ev_live = event_new(base, -1, EV_PERSIST, live_cb, db);
	struct timeval live = clock_tv(DB_LIVENESS_INTERVAL_MS);
	event_add(db->ev_live, &live);
	return db;
}

void db_free(struct db *db)
{
	if (db == NULL)
		return;
	db->closing = true;
	event_free(db->ev_live);
	for (int i = 0; i <= db->nconns; i++) {
		struct db_conn *c = &db->conns[i];

		conn_fail(c, "closing");
		event_free(c->ev_retry);
		event_free(c->ev_deadline);
	}
	fail_queue(db, "closing");
	while (!SLIST_EMPTY(&db->channels)) {
		struct db_channel *ch = SLIST_FIRST(&db->channels);

		SLIST_REMOVE_HEAD(&db->channels, entry);
		free(ch->name);
		free(ch);
	}
	free(db->conns);
	free(db->conninfo);
	free(db);
}
