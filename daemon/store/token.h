/*
 * API tokens: random bearer tokens stored only as SHA-256 hashes in
 * api_tokens, each with a role (admin, service, viewer), revocable. An
 * in-memory cache, reloaded whenever the table changes (NOTIFY), lets the
 * API authenticate synchronously.
 */
#ifndef SS_TOKEN_H
#define SS_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

struct db;
struct token_cache;

#define TOKEN_HASH_HEX 65 /* 64 hex digits and NUL */

/*
 * What a token grants. The store knows nothing of HTTP: the front end maps
 * these to the roles its routes require (main.c wires the two).
 */
enum token_role {
	TOKEN_ROLE_NONE = 0, /* unknown or revoked */
	TOKEN_ROLE_VIEWER,
	TOKEN_ROLE_SERVICE,
	TOKEN_ROLE_ADMIN,
};

/* "admin" -> TOKEN_ROLE_ADMIN, ...; -1 for anything else. */
int token_role_parse(const char *s);
const char *token_role_name(int role);

/* Hex SHA-256 of token into out (TOKEN_HASH_HEX bytes). */
void token_hash(const char *token, char out[TOKEN_HASH_HEX]);
/* A new random token ("sst_" + 43 base64url characters) into out (64 bytes). */
void token_generate(char out[64]);

struct token_cache *token_cache_new(struct db *db);
void token_cache_free(struct token_cache *tc);
/* Sets the database reloads go to (db may be NULL until the pool exists). */
void token_cache_set_db(struct token_cache *tc, struct db *db);
/* Loads every live token synchronously with conn (a PGconn *), start-up only. */
int token_cache_load_sync(struct token_cache *tc, void *pgconn, char *err, size_t errlen);
/* Reloads asynchronously (on NOTIFY and after the database came back). */
void token_cache_reload(struct token_cache *tc);
/*
 * The token's role (enum token_role) and *name (valid until the next
 * reload), TOKEN_ROLE_NONE when unknown or revoked, -1 when the cache cannot
 * tell (never loaded, or the database is down and the token is not cached).
 * The token is the bearer credential as the front end extracted it; parsing
 * headers is not the store's business.
 */
int token_cache_auth(const char *token, void *tc, const char **name);

/*
 * `streamspaced token create --name N --role R`, `token list`,
 * `token revoke --name N`: argv[0] is "token". The database comes from
 * --database CONNINFO or STREAMSPACE_DATABASE. Returns the exit status.
 */
int token_cli(int argc, char **argv);

#endif
