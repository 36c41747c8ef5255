#include "log.h"
#include "log_clock.h"

#include <event2/event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static enum log_level current = LOG_LVL_INFO;
static const char *const names[] = {"debug", "info", "warn", "error"};

void log_set_level(enum log_level level)
{
	current = level;
}

enum log_level log_get_level(void)
{
	return current;
}

int log_level_parse(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	if (strcmp(s, "warning") == 0)
		return LOG_LVL_WARN;
	return -1;
}

const char *log_level_name(enum log_level level)
{
	return (unsigned)level < 4 ? names[level] : "info";
}

void log_sanitize(char *s)
{
	for (unsigned char *p = (unsigned char *)s; *p; p++)
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			*p = ' ';
}

/*
 * Rate limiting. A record's key is its call site: the format string (its
 * address) and where. Each key may write LOG_RATE records per second; past
 * that, records are counted, not written, and the key's next record after
 * its second has passed is preceded by one "suppressed K similar" line. So a
 * loop that fails the same way (accept() out of descriptors, a broken entry
 * seen on every scan) costs a few lines a second, while different messages
 * never crowd each other out. Keys live in a small table; when it is full
 * the key whose second is oldest gives its slot up (and its summary).
 */
#define LOG_RATE 10
#define LOG_KEYS 64
#define LOG_PROBE 8

struct log_key {
	const char *fmt; /* NULL: free */
	char where[48];
	enum log_level level;
	int64_t second;
	unsigned written, suppressed;
};

static struct log_key keys[LOG_KEYS];

static int64_t (*clock_now)(void);

void log_set_clock(int64_t (*now)(void))
{
	clock_now = now;
}

static int64_t now_second(void)
{
	struct timespec ts;

	if (clock_now != NULL)
		return clock_now();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

static void emit(enum log_level level, const char *where, const char *fmt, va_list ap)
{
	char line[8192];
	int n;

	n = snprintf(line, sizeof line, "%s %s: ", names[level], where ? where : "streamspaced");
	if (n < 0)
		return;
	if ((size_t)n < sizeof line)
		vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	/* One fputs per record so lines from one process never interleave. */
	fprintf(stderr, "%s\n", line);
}

static void emitf(enum log_level level, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void emitf(enum log_level level, const char *where, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	emit(level, where, fmt, ap);
	va_end(ap);
}

/* The summary of what a key held back, and a fresh second for it. */
static void key_flush(struct log_key *k, int64_t second)
{
	if (k->suppressed > 0) {
		char head[64];
		snprintf(head, sizeof head, "%s", k->fmt);
		log_sanitize(head);
		emitf(k->level, k->where, "suppressed %u similar messages (\"%s\")", k->suppressed,
		      head);
	}
	k->second = second;
	k->written = k->suppressed = 0;
}

static struct log_key *key_find(const char *where, const char *fmt, int64_t second)
{
	uint64_t h = (uint64_t)(uintptr_t)fmt * 0x9e3779b97f4a7c15u;
	struct log_key *oldest = NULL;

	for (const char *p = where; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3u;
	for (unsigned i = 0; i < LOG_PROBE; i++) {
		struct log_key *k = &keys[(h + i) % LOG_KEYS];
		if (k->fmt == fmt && strncmp(k->where, where, sizeof k->where - 1) == 0)
			return k;
		if (k->fmt == NULL) {
			oldest = k;
			break;
		}
		if (oldest == NULL || k->second < oldest->second)
			oldest = k;
	}
	if (oldest->fmt != NULL)
		key_flush(oldest, second);
	oldest->fmt = fmt;
	snprintf(oldest->where, sizeof oldest->where, "%s", where);
	oldest->second = second;
	oldest->written = oldest->suppressed = 0;
	return oldest;
}

void log_msgv(enum log_level level, const char *where, const char *fmt, va_list ap)
{
	int64_t second;
	struct log_key *k;

	if (level < current)
		return;
	if (where == NULL)
		where = "streamspaced";
	/* Debug output is asked for by an operator who wants every line. */
	if (level == LOG_LVL_DEBUG) {
		emit(level, where, fmt, ap);
		return;
	}
	second = now_second();
	k = key_find(where, fmt, second);
	if (k->second != second)
		key_flush(k, second);
	k->level = level;
	if (k->written == LOG_RATE) {
		k->suppressed++;
		return;
	}
	k->written++;
	emit(level, where, fmt, ap);
}

void log_flush_suppressed(void)
{
	int64_t second = now_second();

	for (size_t i = 0; i < LOG_KEYS; i++)
		if (keys[i].fmt != NULL && keys[i].suppressed > 0)
			key_flush(&keys[i], second);
}

void log_line(enum log_level level, const char *where, const char *line)
{
	if (level >= current)
		emitf(level, where ? where : "streamspaced", "%s", line);
}

/* libevent's own messages, as our records (rate-limited as one call site). */
static void libevent_log(int severity, const char *msg)
{
	enum log_level level = severity == EVENT_LOG_DEBUG  ? LOG_LVL_DEBUG
			       : severity == EVENT_LOG_MSG  ? LOG_LVL_INFO
			       : severity == EVENT_LOG_WARN ? LOG_LVL_WARN
							    : LOG_LVL_ERROR;
	char line[1024];

	snprintf(line, sizeof line, "%s", msg);
	log_sanitize(line);
	log_msg(level, "libevent", "%s", line);
}

static void libevent_fatal(int err)
{
	fatal("libevent: fatal error %d", err);
}

void log_route_libevent(void)
{
	event_set_log_callback(libevent_log);
	event_set_fatal_callback(libevent_fatal);
}

void log_msg(enum log_level level, const char *where, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_msgv(level, where, fmt, ap);
	va_end(ap);
}

void fatal(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	/* Never held back: this is the last line. */
	emit(LOG_LVL_ERROR, "fatal", fmt, ap);
	va_end(ap);
	abort();
}
