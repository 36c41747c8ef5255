/*
 * Schema migrations, applied synchronously at start-up (before the reactor
 * serves anything, so the blocking libpq calls here never stall the loop).
 */
#include "migrate.h"

#include <ctype.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "xmalloc.h"

/*
 * The advisory lock every streamspaced takes while migrating, so daemons
 * starting at once apply each migration exactly once ("SSMIGRAT").
 */
#define MIGRATE_LOCK_KEY "5353464947524154"

int migrate_parse_name(const char *name)
{
	size_t len;
	int v = 0;

	if (name == NULL)
		return -1;
	len = strlen(name);
	if (len < 10 || strcmp(name + len - 4, ".sql") != 0)
		return -1;
	for (int i = 0; i < 4; i++) {
		if (!isdigit((unsigned char)name[i]))
			return -1;
		v = v * 10 + (name[i] - '0');
	}
	if (name[4] != '_')
		return -1;
	for (size_t i = 5; i < len - 4; i++)
		if (!(islower((unsigned char)name[i]) || isdigit((unsigned char)name[i]) ||
		      name[i] == '_'))
			return -1;
	return v;
}

int migrate_check(const struct migration *m, size_t n, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		int v = migrate_parse_name(m[i].name);

		if (v < 0) {
			snprintf(err, errlen, "migration %zu: bad file name \"%s\"", i,
				 m[i].name ? m[i].name : "(null)");
			return -1;
		}
		if (v != m[i].version) {
			snprintf(err, errlen, "migration %s: version %d does not match its name",
				 m[i].name, m[i].version);
			return -1;
		}
		if (v != (int)i + 1) {
			snprintf(err, errlen,
				 "migration %s: expected version %04zu (versions start at 1, "
				 "increase by one, no duplicates)",
				 m[i].name, i + 1);
			return -1;
		}
		if (m[i].sql == NULL || m[i].sql[0] == '\0') {
			snprintf(err, errlen, "migration %s is empty", m[i].name);
			return -1;
		}
	}
	return 0;
}

int migrate_plan(const struct migration *m, size_t n, const int *applied, size_t napplied,
		 bool *pending, char *err, size_t errlen)
{
	int count = 0, known = n > 0 ? m[n - 1].version : 0;

	for (size_t j = 0; j < napplied; j++) {
		bool found = false;

		for (size_t i = 0; i < n; i++)
			if (m[i].version == applied[j])
				found = true;
		if (!found) {
			snprintf(
			    err, errlen,
			    "the database schema is at version %d, newer than this streamspaced "
			    "knows (%d): refusing to start; upgrade streamspaced",
			    applied[j], known);
			return -1;
		}
	}
	for (size_t i = 0; i < n; i++) {
		pending[i] = true;
		for (size_t j = 0; j < napplied; j++)
			if (applied[j] == m[i].version)
				pending[i] = false;
		if (pending[i])
			count++;
	}
	return count;
}

/* Runs one statement (or a script) and checks the outcome; -1 with a message. */
static int exec_ok(PGconn *conn, const char *sql, const char *what, char *err, size_t errlen)
{
	PGresult *res = PQexec(conn, sql);
	ExecStatusType st = PQresultStatus(res);
	int rc = 0;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		db_error_line(err, errlen, what, PQresultErrorMessage(res));
		rc = -1;
	}
	PQclear(res);
	return rc;
}

/* "relation schema_migrations already exists, skipping" is expected; keep it off stderr. */
static void quiet_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

int migrate_apply(void *pgconn, const struct migration *m, size_t n, char *err, size_t errlen)
{
	PGconn *conn = pgconn;
	PGresult *res = NULL;
	int *applied = NULL;
	bool *pending = NULL;
	int napplied, count = -1;

	if (migrate_check(m, n, err, errlen) < 0)
		return -1;
	PQsetNoticeProcessor(conn, quiet_notice, NULL);
	if (exec_ok(conn, "BEGIN", "begin", err, errlen) < 0)
		return -1;
	if (exec_ok(conn, "SELECT pg_advisory_xact_lock(x'" MIGRATE_LOCK_KEY "'::bigint)",
		    "advisory lock", err, errlen) < 0)
		goto fail;
	if (exec_ok(conn,
		    "CREATE TABLE IF NOT EXISTS schema_migrations ("
		    " version INTEGER PRIMARY KEY,"
		    " name TEXT NOT NULL,"
		    " applied_at TIMESTAMP NOT NULL DEFAULT NOW())",
		    "schema_migrations", err, errlen) < 0)
		goto fail;
	res = PQexec(conn, "SELECT version FROM schema_migrations ORDER BY version");
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		db_error_line(err, errlen, "reading schema_migrations", PQresultErrorMessage(res));
		goto fail;
	}
	napplied = PQntuples(res);
	applied = xcalloc((size_t)napplied + 1, sizeof *applied);
	for (int i = 0; i < napplied; i++)
		applied[i] = atoi(PQgetvalue(res, i, 0));
	PQclear(res);
	res = NULL;
	pending = xcalloc(n + 1, sizeof *pending);
	count = migrate_plan(m, n, applied, (size_t)napplied, pending, err, errlen);
	if (count < 0)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		char version[16];
		const char *params[2] = {version, m[i].name};

		if (!pending[i])
			continue;
		if (exec_ok(conn, m[i].sql, m[i].name, err, errlen) < 0)
			goto fail;
		snprintf(version, sizeof version, "%d", m[i].version);
		res = PQexecParams(conn,
				   "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
				   2, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			char what[96];

			snprintf(what, sizeof what, "recording %s", m[i].name);
			db_error_line(err, errlen, what, PQresultErrorMessage(res));
			goto fail;
		}
		PQclear(res);
		res = NULL;
	}
	if (exec_ok(conn, "COMMIT", "commit", err, errlen) < 0) {
		count = -1;
		goto out;
	}
	goto out;
fail:
	count = -1;
	PQclear(res);
	res = NULL;
	PQclear(PQexec(conn, "ROLLBACK"));
out:
	free(applied);
	free(pending);
	return count;
}
