/*
 * API tokens. A token is shown once, when created; the database keeps only
 * its SHA-256, so a leaked table does not leak credentials. The daemon keeps
 * every live token's hash in memory, reloaded on each NOTIFY from
 * api_tokens' trigger, so that authenticating a request never waits on the
 * database.
 */
#include "token.h"

#include <getopt.h>
#include <libpq-fe.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "migrate.h"
#include "xmalloc.h"

struct token_entry {
	char hash[TOKEN_HASH_HEX];
	char *name;
	int role;
};

struct token_cache {
	struct db *db;
	struct token_entry *v;
	size_t n;
	bool loaded;
	bool loading;
	bool again; /* a change arrived while loading: load once more */
};

static const char *const role_names[] = {
    [TOKEN_ROLE_VIEWER] = "viewer",
    [TOKEN_ROLE_SERVICE] = "service",
    [TOKEN_ROLE_ADMIN] = "admin",
};

int token_role_parse(const char *s)
{
	if (s == NULL)
		return -1;
	for (int r = TOKEN_ROLE_VIEWER; r <= TOKEN_ROLE_ADMIN; r++)
		if (strcmp(s, role_names[r]) == 0)
			return r;
	return -1;
}

const char *token_role_name(int role)
{
	return role >= TOKEN_ROLE_VIEWER && role <= TOKEN_ROLE_ADMIN ? role_names[role] : "none";
}

void token_hash(const char *token, char out[TOKEN_HASH_HEX])
{
	unsigned char digest[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(digest, (const unsigned char *)token, strlen(token));
	sodium_bin2hex(out, TOKEN_HASH_HEX, digest, sizeof digest);
}

void token_generate(char out[64])
{
	unsigned char raw[32];

	if (sodium_init() < 0)
		fatal("token_generate: libsodium failed to initialise");
	randombytes_buf(raw, sizeof raw);
	memcpy(out, "sst_", 4);
	sodium_bin2base64(out + 4, 60, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof raw);
}

static void cache_clear(struct token_cache *tc)
{
	for (size_t i = 0; i < tc->n; i++)
		free(tc->v[i].name);
	free(tc->v);
	tc->v = NULL;
	tc->n = 0;
}

/* Replaces the cache with rows (token_hash, name, role). */
static void cache_fill(struct token_cache *tc, const PGresult *res)
{
	int rows = PQntuples(res);

	cache_clear(tc);
	tc->v = xcalloc((size_t)rows + 1, sizeof *tc->v);
	for (int i = 0; i < rows; i++) {
		int role = token_role_parse(PQgetvalue(res, i, 2));
		struct token_entry *e = &tc->v[tc->n];

		if (role < 0 || strlen(PQgetvalue(res, i, 0)) != TOKEN_HASH_HEX - 1)
			continue;
		memcpy(e->hash, PQgetvalue(res, i, 0), TOKEN_HASH_HEX);
		e->name = xstrdup(PQgetvalue(res, i, 1));
		e->role = role;
		tc->n++;
	}
	tc->loaded = true;
}

static const char token_select[] =
    "SELECT token_hash, name, role FROM api_tokens WHERE revoked_at IS NULL";

struct token_cache *token_cache_new(struct db *db)
{
	struct token_cache *tc = xcalloc(1, sizeof *tc);

	if (sodium_init() < 0)
		fatal("token_cache_new: libsodium failed to initialise");
	tc->db = db;
	return tc;
}

void token_cache_set_db(struct token_cache *tc, struct db *db)
{
	tc->db = db;
}

void token_cache_free(struct token_cache *tc)
{
	if (tc == NULL)
		return;
	cache_clear(tc);
	free(tc);
}

int token_cache_load_sync(struct token_cache *tc, void *pgconn, char *err, size_t errlen)
{
	PGresult *res = PQexec(pgconn, token_select);

	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		db_error_line(err, errlen, "loading api_tokens", PQresultErrorMessage(res));
		PQclear(res);
		return -1;
	}
	cache_fill(tc, res);
	PQclear(res);
	return 0;
}

static void reload_done(enum db_status st, PGresult *res, const char *err, void *arg)
{
	struct token_cache *tc = arg;

	tc->loading = false;
	if (st == DB_OK) {
		cache_fill(tc, res);
		log_debug("token", "%zu live tokens cached", tc->n);
	} else {
		/* Keep the old cache; the next (re)connection reloads it. */
		log_warn("token", "reloading tokens failed: %s", err);
	}
	if (tc->again) {
		tc->again = false;
		token_cache_reload(tc);
	}
}

void token_cache_reload(struct token_cache *tc)
{
	if (tc->db == NULL)
		return;
	if (tc->loading) {
		tc->again = true;
		return;
	}
	if (db_query(tc->db, token_select, 0, NULL, reload_done, tc) == 0)
		tc->loading = true;
}

static const struct token_entry *cache_find(const struct token_cache *tc, const char *token)
{
	char hash[TOKEN_HASH_HEX];

	if (token == NULL || *token == '\0')
		return NULL;
	token_hash(token, hash);
	for (size_t i = 0; i < tc->n; i++)
		if (sodium_memcmp(tc->v[i].hash, hash, TOKEN_HASH_HEX - 1) == 0)
			return &tc->v[i];
	return NULL;
}

int token_cache_auth(const char *token, void *arg, const char **name)
{
	struct token_cache *tc = arg;
	const struct token_entry *e;

	*name = NULL;
	if (!tc->loaded)
		return -1;
	e = cache_find(tc, token);
	if (e) {
		*name = e->name;
		return e->role;
	}
	/*
	 * Unknown here: it may have been created while the database was away,
	 * or a moment ago and the reload it caused has not finished yet.
	 */
	if (tc->loading || (tc->db && !db_is_up(tc->db)))
		return -1;
	return TOKEN_ROLE_NONE;
}

/* ---- streamspaced token ... ---- */

static void cli_usage(void)
{
	fprintf(stderr,
		"usage: streamspaced token create --name NAME --role admin|service|viewer "
		"[--database CONNINFO]\n"
		"       streamspaced token list [--database CONNINFO]\n"
		"       streamspaced token revoke --name NAME [--database CONNINFO]\n"
		"The database also comes from STREAMSPACE_DATABASE or the PG* variables.\n");
}

/* Prints a libpq failure and returns the exit status for it. */
static int cli_pgfail(const char *what, const PGresult *res, PGconn *conn)
{
	char line[512];

	db_error_line(line, sizeof line, what,
		      res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
	fprintf(stderr, "streamspaced token: %s\n", line);
	return 1;
}

static int cli_create(PGconn *conn, const char *name, const char *role)
{
	char token[64], hash[TOKEN_HASH_HEX];
	const char *params[3] = {name, hash, role};
	PGresult *res;
	int rc = 0;

	if (name == NULL || *name == '\0' || strlen(name) > 128 || token_role_parse(role) < 0) {
		cli_usage();
		return 64;
	}
	token_generate(token);
	token_hash(token, hash);
	res = PQexecParams(conn,
			   "INSERT INTO api_tokens (name, token_hash, role) VALUES ($1, $2, $3)", 3,
			   NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		if (strcmp(db_sqlstate(res), "23505") == 0) {
			fprintf(stderr,
				"streamspaced token: a live token named \"%s\" exists; "
				"revoke it first\n",
				name);
			rc = 1;
		} else {
			rc = cli_pgfail("create", res, conn);
		}
	} else {
		/* The only time the token exists in clear: stdout, alone on its line. */
		printf("%s\n", token);
		fprintf(stderr, "token \"%s\" (%s) created; it is not shown again\n", name, role);
	}
	PQclear(res);
	sodium_memzero(token, sizeof token);
	return rc;
}

static int cli_list(PGconn *conn)
{
	PGresult *res = PQexec(conn, "SELECT id, name, role, created_at, revoked_at FROM "
				     "api_tokens ORDER BY id");

	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		int rc = cli_pgfail("list", res, conn);

		PQclear(res);
		return rc;
	}
	printf("%-6s %-24s %-8s %-26s %s\n", "ID", "NAME", "ROLE", "CREATED", "REVOKED");
	for (int i = 0; i < PQntuples(res); i++)
		printf("%-6s %-24s %-8s %-26s %s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
		       PQgetvalue(res, i, 2), PQgetvalue(res, i, 3),
		       PQgetisnull(res, i, 4) ? "-" : PQgetvalue(res, i, 4));
	PQclear(res);
	return 0;
}

static int cli_revoke(PGconn *conn, const char *name)
{
	const char *params[1] = {name};
	PGresult *res;
	int rc = 0;

	if (name == NULL) {
		cli_usage();
		return 64;
	}
	res = PQexecParams(conn,
			   "UPDATE api_tokens SET revoked_at = NOW() WHERE name = $1 AND "
			   "revoked_at IS NULL",
			   1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		rc = cli_pgfail("revoke", res, conn);
	} else if (strcmp(PQcmdTuples(res), "0") == 0) {
		fprintf(stderr, "streamspaced token: no live token named \"%s\"\n", name);
		rc = 1;
	} else {
		fprintf(stderr, "token \"%s\" revoked\n", name);
	}
	PQclear(res);
	return rc;
}

int token_cli(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"name", required_argument, NULL, 'n'},
	    {"role", required_argument, NULL, 'r'},
	    {"database", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *name = NULL, *role = NULL, *conninfo = getenv("STREAMSPACE_DATABASE");
	const char *cmd;
	char err[512];
	PGconn *conn = NULL;
	int c, rc;

	if (argc < 2) {
		cli_usage();
		return 64;
	}
	cmd = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "n:r:d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			name = optarg;
			break;
		case 'r':
			role = optarg;
			break;
		case 'd':
			conninfo = optarg;
			break;
		case 'h':
			cli_usage();
			return 0;
		default:
			cli_usage();
			return 64;
		}
	}
	if (optind != argc || (strcmp(cmd, "create") != 0 && strcmp(cmd, "list") != 0 &&
			       strcmp(cmd, "revoke") != 0)) {
		cli_usage();
		return 64;
	}
	conn = db_connect_params(conninfo, false);
	if (PQstatus(conn) != CONNECTION_OK) {
		rc = cli_pgfail("connecting to the database", NULL, conn);
		goto out;
	}
	/* A fresh database gets its schema, so the first admin token can be made. */
	if (migrate_apply(conn, migration_table, migration_count, err, sizeof err) < 0) {
		fprintf(stderr, "streamspaced token: %s\n", err);
		rc = 1;
		goto out;
	}
	if (strcmp(cmd, "create") == 0)
		rc = cli_create(conn, name, role);
	else if (strcmp(cmd, "list") == 0)
		rc = cli_list(conn);
	else
		rc = cli_revoke(conn, name);
out:
	PQfinish(conn);
	return rc;
}
