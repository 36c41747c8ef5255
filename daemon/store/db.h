/*
 * PostgreSQL on the reactor: a small pool of libpq connections in
 * non-blocking mode (PQconnectPoll, PQsendQueryParams, PQconsumeInput and
 * PQisBusy driven by events on PQsocket), parameterised queries only, one
 * more connection that LISTENs, and reconnection with exponential backoff.
 * Nothing here blocks the loop.
 */
#ifndef SS_DB_H
#define SS_DB_H

#include <libpq-fe.h>
#include <stdbool.h>

struct event_base;
struct db;

enum db_status {
	DB_OK = 0, /* res holds the result (tuples or command) */
	DB_DOWN,   /* no connection, or it was lost: try again later (503) */
	DB_ERROR,  /* the statement failed; res holds the error (SQLSTATE) */
};

/*
 * Called once per query. res is borrowed (freed after the call) and may be
 * NULL when st is DB_DOWN; err is a one-line message when st is not DB_OK.
 */
typedef void (*db_result_fn)(enum db_status st, PGresult *res, const char *err, void *arg);
/* A notification on a channel this db LISTENs on. */
typedef void (*db_notify_fn)(const char *channel, const char *payload, void *arg);
/*
 * The listening connection came up (after LISTEN took effect: the caller
 * should resynchronise, since notifications may have been missed) or went down.
 */
typedef void (*db_state_fn)(bool up, void *arg);

/* Starts connecting (pool_size query connections and one listener). */
struct db *db_new(struct event_base *base, const char *conninfo, int pool_size);
/* Closes every connection; queries still pending get DB_DOWN. */
void db_free(struct db *db);

/* Adds a channel to LISTEN on (before or after connecting). */
void db_listen(struct db *db, const char *channel, db_notify_fn fn, void *arg);
void db_on_state(struct db *db, db_state_fn fn, void *arg);

/*
 * Queues a statement with text parameters (NULL entries are SQL NULL). The
 * strings are copied. Returns 0 and calls fn later, exactly once; or -1
 * without calling it when no connection is up or being attempted (the
 * caller answers 503). A query queued while connections are being attempted
 * fails with DB_DOWN if every attempt fails.
 */
int db_query(struct db *db, const char *sql, int nparams, const char *const *params,
	     db_result_fn fn, void *arg);
/*
 * db_query for a caller whose arg is a context of its own on the heap,
 * which fn frees: on a refusal (-1) it is freed here, so no caller repeats
 * that.
 */
int db_query_ctx(struct db *db, const char *sql, int nparams, const char *const *params,
		 db_result_fn fn, void *ctx);

/* Whether a query connection is up right now. */
bool db_is_up(const struct db *db);

/*
 * A connection with the daemon's defaults (application_name, keepalives,
 * connect_timeout) under the operator's conninfo: started (PQconnectStart)
 * when nonblocking, else connected synchronously (start-up and CLI only).
 */
PGconn *db_connect_params(const char *conninfo, bool nonblocking);

/*
 * The one-line form of a libpq message (PQerrorMessage, PQresultErrorMessage:
 * they end with a newline and may carry DETAIL lines) into dst, after
 * "what: " when what is set.
 */
void db_error_line(char *dst, size_t n, const char *what, const char *msg);

/* The SQLSTATE of a failed result ("23505"), or "". */
const char *db_sqlstate(const PGresult *res);

#endif
