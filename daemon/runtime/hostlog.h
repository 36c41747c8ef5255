/*
 * A plugin's output: the lines its host writes to stdout/stderr and the log
 * records it sends, rate-limited (200 lines/s, burst 1000) and truncated
 * (4 KiB), with the last lines kept for the report of how the host ended.
 * A plugin flooding its output costs bounded daemon memory and log volume.
 * Every line, kept or logged, first has the plugin's secrets (the strings of
 * its configuration that are secret, see control/secrets.h) replaced by
 * "********", as written and as JSON escapes them.
 */
#ifndef SS_HOSTLOG_H
#define SS_HOSTLOG_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "log.h"

struct evbuffer;
struct event_base;
struct hostlog;

#define HOSTLOG_LINE_MAX 4096
#define HOSTLOG_KEEP 20
/* The recent lines kept for the API (GET logs/{name}): at most this many, and bytes. */
#define HOSTLOG_RECENT 200
#define HOSTLOG_RECENT_BYTES (64 * 1024)

/* name is the plugin's, used as the log prefix (copied). */
struct hostlog *hostlog_new(const char *name);
void hostlog_free(struct hostlog *hl);

/*
 * The strings to blank out of every line from now on (a JSON array of
 * strings, copied; NULL for none). Replaces the previous set.
 */
void hostlog_set_secrets(struct hostlog *hl, json_object *secrets);

/* Logs one record of the plugin (line is its text): secrets blanked, sanitised. */
void hostlog_write(struct hostlog *hl, enum log_level level, const char *line);

/*
 * Reads the host's stdout/stderr pipe (fd, consumed) on base from now on,
 * draining it line by line; a previous pipe is closed first.
 */
void hostlog_open_pipe(struct hostlog *hl, struct event_base *base, int fd);
/*
 * The host is gone: takes what is left in the pipe (what it wrote last is
 * part of the report of its end), logs it and closes the pipe.
 */
void hostlog_close_pipe(struct hostlog *hl);

/* Whether one more line may be logged now (token bucket); counts the refusals. */
bool hostlog_allow(struct hostlog *hl);

/*
 * Takes whole lines off in (the host's stdout/stderr pipe), keeps the last
 * ones and logs them under the plugin's name. An endless line is cut at
 * HOSTLOG_LINE_MAX; at eof the rest is one last line.
 */
void hostlog_drain(struct hostlog *hl, struct evbuffer *in, bool eof);

/*
 * Logs a log message the host sent (PROTOCOL.md, log: level, msg, fields):
 * "<msg> key=value ...", cut to HOSTLOG_LINE_MAX, rate-limited like the
 * host's output. -1 when the message lacks a valid level or msg (a protocol
 * error of the host's).
 */
int hostlog_record(struct hostlog *hl, json_object *m);

/* The last line the host wrote, or NULL. */
const char *hostlog_last(const struct hostlog *hl);

/* Moves the kept lines out as a JSON array (new reference), emptying the ring. */
json_object *hostlog_take_tail(struct hostlog *hl);

/*
 * The last max lines logged for the plugin (its output and its records, as
 * the daemon's log shows them: secrets blanked, rate limit applied), oldest
 * first, as [{"at": ms since the epoch, "level", "line"}] (new reference).
 * They outlive the host (a crash's lines stay) and go with the plugin.
 */
json_object *hostlog_recent(const struct hostlog *hl, size_t max);
/* A successor's log takes its predecessor's recent lines before its own (from is emptied). */
void hostlog_carry_recent(struct hostlog *to, struct hostlog *from);

uint64_t hostlog_dropped(const struct hostlog *hl);
uint64_t hostlog_truncated(const struct hostlog *hl);

#endif
