/*
 * The daemon's log: one line per record on stderr (journald adds the time),
 * "<level> <where>: <message>", where is a module or a plugin's name.
 * Records above debug are rate-limited per call site (log.c): a message
 * repeated in a loop costs a few lines a second and one "suppressed K
 * similar" line, never a flood.
 */
#ifndef SS_LOG_H
#define SS_LOG_H

#include <stdarg.h>

enum log_level { LOG_LVL_DEBUG = 0, LOG_LVL_INFO, LOG_LVL_WARN, LOG_LVL_ERROR };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* "debug", "info", "warn", "error" -> level; -1 if unknown. */
int log_level_parse(const char *s);
const char *log_level_name(enum log_level level);

void log_msg(enum log_level level, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_msgv(enum log_level level, const char *where, const char *fmt, va_list ap);

/*
 * A record whose source limits its own rate (a plugin's lines, limited and
 * counted by hostlog): written as it is, never held back here.
 */
void log_line(enum log_level level, const char *where, const char *line);
/* Writes the "suppressed K similar" line of every key that held records back (at exit). */
void log_flush_suppressed(void);
/* Sends libevent's own messages (and its fatal errors) through this log. */
void log_route_libevent(void);

#define log_debug(where, ...) log_msg(LOG_LVL_DEBUG, where, __VA_ARGS__)
#define log_info(where, ...) log_msg(LOG_LVL_INFO, where, __VA_ARGS__)
#define log_warn(where, ...) log_msg(LOG_LVL_WARN, where, __VA_ARGS__)
#define log_error(where, ...) log_msg(LOG_LVL_ERROR, where, __VA_ARGS__)

/*
 * Replaces control characters (carriage returns, escape sequences, NUL-free
 * but anything below 0x20 except tab, and DEL) in place, so a line a plugin
 * wrote cannot forge another record or drive the operator's terminal.
 */
void log_sanitize(char *s);

/* A broken invariant inside the daemon: log and abort. Never for input errors. */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
