/*
 * manifest.json: parsing, validation (refusing what is malformed before
 * anything is installed), and the configuration helpers that depend on the
 * manifest's configSchema (defaults; secrets are secrets.h's).
 */
#ifndef SS_MANIFEST_H
#define SS_MANIFEST_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct schema;

#define MANIFEST_MAX_BYTES (1024 * 1024)

struct manifest {
	const char *name;
	const char *version;
	const char *display_name; /* NULL when absent, as the ones below */
	const char *description;
	const char *author;
	const char *license;
	const char *homepage;
	const char *icon;
	const char *type;
	const char *category;
	const char *entry_main;	     /* entrypoints.main, default "<name>.so" */
	json_object *tags;	     /* array of strings, never NULL */
	json_object *permissions;    /* array of strings, never NULL */
	json_object *allowed_hosts;  /* "allowedHosts": egress host names, or NULL (any) */
	json_object *config_schema;  /* object or NULL */
	struct schema *schema;	     /* config_schema compiled (schema.h), or NULL */
	json_object *default_config; /* object, never NULL */
	json_object *requirements;   /* object or NULL */
	/*
	 * "scheduler": {"jobs": [{"name", "schedule", "description"}]}: the
	 * jobs array (names valid and unique, schedules parsed; needs the
	 * scheduler permission), or NULL when none are declared.
	 */
	json_object *jobs;
	/*
	 * "limits": {"memoryMB", "eventTimeoutMs", "handshakeTimeoutMs"}, the
	 * per-plugin overrides of the daemon's defaults; 0 where absent.
	 */
	uint64_t mem_limit; /* bytes */
	int event_timeout_ms;
	int handshake_timeout_ms;
	json_object *json; /* the whole document; every pointer above lives in it */
	char *entry_default;
};

/* Parses and validates text (not NUL-terminated); NULL with a message. */
struct manifest *manifest_parse(const char *text, size_t len, char *err, size_t errlen);
/* Validates obj (a reference is taken); NULL with a message. */
struct manifest *manifest_from_json(json_object *obj, char *err, size_t errlen);
void manifest_free(struct manifest *m);
/*
 * Reads and parses the manifest file at path: only a regular file of at most
 * MANIFEST_MAX_BYTES, never blocking (a FIFO, a device or a symlink there is
 * refused at once). NULL with a message.
 */
struct manifest *manifest_read_file(const char *path, char *err, size_t errlen);

/* 1.2.3, 1.0.0-beta.1, 2.0.1+build: starts with a digit, [0-9A-Za-z.+-], at most 64. */
bool manifest_version_valid(const char *v);
/* One of the permissions the daemon enforces (PROTOCOL.md, "Permissions"). */
bool manifest_permission_valid(const char *p);

/* defaults overlaid with config (top-level keys), as a new object. */
json_object *manifest_merge_config(json_object *defaults, json_object *config);

#endif
