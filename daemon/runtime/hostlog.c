#define _GNU_SOURCE
#include "hostlog.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "msg.h"
#include "ring.h"
#include "xmalloc.h"

#define HOSTLOG_RATE 200
#define HOSTLOG_BURST 1000

struct hostlog {
	char *name;
	double tokens;
	int64_t refill_ms;
	uint64_t dropped, truncated;
	struct bufferevent *pipe;  /* the host's stdout/stderr, or NULL */
	char *lines[HOSTLOG_KEEP]; /* the last lines, oldest first from ring.head */
	struct ring ring;
	/*
	 * What was logged lately, output and records, across the host's
	 * restarts: HOSTLOG_RECENT slots, allocated with the first line (a
	 * plugin that logs nothing costs the daemon nothing for it).
	 */
	struct recent {
		char *line;
		int64_t at_ms; /* wall clock */
		enum log_level level;
	} * recent;
	struct ring rring;
	size_t rbytes; /* of the lines in recent, at most HOSTLOG_RECENT_BYTES */
	/*
	 * The secrets, longest first (a secret inside another goes with it),
	 * and for each first byte the indexes of those that start with it, so
	 * a line is redacted in one pass however many secrets there are.
	 */
	struct secret {
		char *s;
		size_t len;
	} * secrets;
	size_t nsecrets;
	struct secret_index {
		size_t *first[256];
		size_t nfirst[256];
	} * index; /* NULL without secrets: 4 KiB a plugin with none does not need */
};

#define HOSTLOG_MASK "********"
/*
 * Shorter secrets are not looked for: they would shred every line (the
 * control plane lists none shorter, see SECRETS_REDACT_MIN), and with it a
 * mask of 8 bytes never more than doubles a line.
 */
#define HOSTLOG_SECRET_MIN 4

static void secrets_clear(struct hostlog *hl)
{
	for (size_t i = 0; i < hl->nsecrets; i++)
		free(hl->secrets[i].s);
	free(hl->secrets);
	hl->secrets = NULL;
	hl->nsecrets = 0;
	if (hl->index != NULL)
		for (size_t b = 0; b < 256; b++)
			free(hl->index->first[b]);
	free(hl->index);
	hl->index = NULL;
}

static void secret_add(struct hostlog *hl, const char *s)
{
	if (strlen(s) < HOSTLOG_SECRET_MIN)
		return;
	hl->secrets = xrealloc(hl->secrets, (hl->nsecrets + 1) * sizeof *hl->secrets);
	hl->secrets[hl->nsecrets].s = xstrdup(s);
	hl->secrets[hl->nsecrets].len = strlen(s);
	hl->nsecrets++;
}

static int longer_first(const void *a, const void *b)
{
	const struct secret *x = a, *y = b;

	return x->len != y->len ? (x->len > y->len ? -1 : 1) : strcmp(x->s, y->s);
}

void hostlog_set_secrets(struct hostlog *hl, json_object *secrets)
{
	size_t n = 0;

	secrets_clear(hl);
	if (!json_object_is_type(secrets, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(secrets); i++) {
		json_object *v = json_object_array_get_idx(secrets, i), *tmp;
		const char *esc;
		size_t k;

		if (!json_object_is_type(v, json_type_string))
			continue;
		secret_add(hl, json_object_get_string(v));
		/* A plugin that logs its config as JSON writes "https:\/\/..." for "https://...".
		 */
		tmp = json_object_new_string(json_object_get_string(v));
		esc = json_object_to_json_string_ext(tmp, JSON_C_TO_STRING_PLAIN);
		k = strlen(esc);
		if (k >= 2 && (k - 2 != strlen(json_object_get_string(v)) ||
			       memcmp(esc + 1, json_object_get_string(v), k - 2) != 0)) {
			char *inner = xstrndup(esc + 1, k - 2);
			secret_add(hl, inner);
			free(inner);
		}
		json_object_put(tmp);
	}
	if (hl->nsecrets == 0)
		return;
	/* Sorted, repeats are neighbours: drop them, then index by first byte. */
	qsort(hl->secrets, hl->nsecrets, sizeof *hl->secrets, longer_first);
	for (size_t i = 0; i < hl->nsecrets; i++) {
		if (n > 0 && strcmp(hl->secrets[n - 1].s, hl->secrets[i].s) == 0) {
			free(hl->secrets[i].s);
			continue;
		}
		hl->secrets[n++] = hl->secrets[i];
	}
	hl->nsecrets = n;
	hl->index = xcalloc(1, sizeof *hl->index);
	for (size_t i = 0; i < n; i++) {
		struct secret_index *x = hl->index;
		unsigned char b = (unsigned char)hl->secrets[i].s[0];

		x->first[b] = xrealloc(x->first[b], (x->nfirst[b] + 1) * sizeof *x->first[b]);
		x->first[b][x->nfirst[b]++] = i;
	}
}

/* Length of the longest secret that starts at line[i] (n bytes in all), or 0. */
static size_t match_at(const struct hostlog *hl, const char *line, size_t n, size_t i)
{
	unsigned char b = (unsigned char)line[i];
	const struct secret_index *x = hl->index; /* there are secrets: redact checked */

	for (size_t k = 0; k < x->nfirst[b]; k++) {
		const struct secret *sc = &hl->secrets[x->first[b][k]];

		if (sc->len <= n - i && memcmp(line + i, sc->s, sc->len) == 0)
			return sc->len;
	}
	return 0;
}

/*
 * A copy of line with every secret replaced by the mask, in one pass: where
 * secrets overlap ("abcd-1111" and "1111-wxyz" in "abcd-1111-wxyz") the
 * whole stretch they cover becomes one mask, so no part of either shows.
 */
static char *redact(const struct hostlog *hl, const char *line)
{
	size_t n = strlen(line), o = 0;
	/* Each mask replaces at least HOSTLOG_SECRET_MIN bytes: at most twice the length. */
	char *out;

	if (hl->nsecrets == 0)
		return xstrdup(line);
	out = xmalloc(2 * n + sizeof HOSTLOG_MASK);
	for (size_t i = 0; i < n;) {
		size_t end = i + match_at(hl, line, n, i);

		if (end == i) {
			out[o++] = line[i++];
			continue;
		}
		for (size_t j = i + 1; j < end; j++) {
			size_t m = match_at(hl, line, n, j);
			if (j + m > end)
				end = j + m;
		}
		memcpy(out + o, HOSTLOG_MASK, sizeof HOSTLOG_MASK - 1);
		o += sizeof HOSTLOG_MASK - 1;
		i = end;
	}
	out[o] = '\0';
	return out;
}

/* Keeps a logged line (clean: redacted and sanitised) in the recent ring, within its bytes. */
static void recent_keep(struct hostlog *hl, enum log_level level, const char *clean, int64_t at_ms)
{
	size_t len = strlen(clean), at;

	if (hl->recent == NULL)
		hl->recent = xcalloc(HOSTLOG_RECENT, sizeof *hl->recent);
	while (hl->rring.len > 0 &&
	       (ring_full(&hl->rring) || hl->rbytes + len > HOSTLOG_RECENT_BYTES)) {
		at = ring_pop_front(&hl->rring);
		hl->rbytes -= strlen(hl->recent[at].line);
		free(hl->recent[at].line);
		hl->recent[at].line = NULL;
	}
	at = ring_push_back(&hl->rring);
	hl->recent[at] = (struct recent){xstrdup(clean), at_ms, level};
	hl->rbytes += len;
}

void hostlog_carry_recent(struct hostlog *to, struct hostlog *from)
{
	struct recent mine[HOSTLOG_RECENT];
	size_t n = to->rring.len;

	/* from's lines are the older ones: they go first, then to's, within the bounds. */
	for (size_t i = 0; i < n; i++) {
		struct recent *r = &to->recent[ring_pop_front(&to->rring)];

		mine[i] = *r;
		r->line = NULL;
	}
	to->rbytes = 0;
	while (from->rring.len > 0) {
		struct recent *r = &from->recent[ring_pop_front(&from->rring)];

		recent_keep(to, r->level, r->line, r->at_ms);
		free(r->line);
		r->line = NULL;
	}
	from->rbytes = 0;
	for (size_t i = 0; i < n; i++) {
		recent_keep(to, mine[i].level, mine[i].line, mine[i].at_ms);
		free(mine[i].line);
	}
}

/* Logs a clean line under the plugin's name and keeps it among the recent ones. */
static void logged(struct hostlog *hl, enum log_level level, const char *clean)
{
	/* Limited by the caller (hostlog_allow), so never held back again in log.c. */
	log_line(level, hl->name, clean);
	recent_keep(hl, level, clean, clock_real_ms());
}

void hostlog_write(struct hostlog *hl, enum log_level level, const char *line)
{
	char *clean = redact(hl, line);

	log_sanitize(clean);
	logged(hl, level, clean);
	free(clean);
}

json_object *hostlog_recent(const struct hostlog *hl, size_t max)
{
	json_object *a = json_object_new_array();
	size_t from = hl->rring.len > max ? hl->rring.len - max : 0;

	for (size_t i = from; i < hl->rring.len; i++) {
		const struct recent *r = &hl->recent[ring_at(&hl->rring, i)];
		json_object *o = json_object_new_object();

		json_object_object_add(o, "at", json_object_new_int64(r->at_ms));
		json_object_object_add(o, "level",
				       json_object_new_string(log_level_name(r->level)));
		json_object_object_add(o, "line", json_object_new_string(r->line));
		json_object_array_add(a, o);
	}
	return a;
}

struct hostlog *hostlog_new(const char *name)
{
	struct hostlog *hl = xcalloc(1, sizeof *hl);
	hl->name = xstrdup(name);
	hl->tokens = HOSTLOG_BURST;
	hl->refill_ms = clock_mono_ms();
	ring_init(&hl->ring, HOSTLOG_KEEP);
	ring_init(&hl->rring, HOSTLOG_RECENT);
	return hl;
}

static void ring_clear(struct hostlog *hl)
{
	for (size_t i = 0; i < HOSTLOG_KEEP; i++) {
		free(hl->lines[i]);
		hl->lines[i] = NULL;
	}
	ring_init(&hl->ring, HOSTLOG_KEEP);
}

void hostlog_free(struct hostlog *hl)
{
	if (hl == NULL)
		return;
	hostlog_close_pipe(hl);
	ring_clear(hl);
	for (size_t i = 0; hl->recent != NULL && i < HOSTLOG_RECENT; i++)
		free(hl->recent[i].line);
	free(hl->recent);
	secrets_clear(hl);
	free(hl->name);
	free(hl);
}

bool hostlog_allow(struct hostlog *hl)
{
	int64_t now = clock_mono_ms();

	hl->tokens += (double)(now - hl->refill_ms) * HOSTLOG_RATE / 1000.0;
	if (hl->tokens > HOSTLOG_BURST)
		hl->tokens = HOSTLOG_BURST;
	hl->refill_ms = now;
	if (hl->tokens < 1.0) {
		/* Say so once per thousand dropped lines, not once per line. */
		if (hl->dropped++ % 1000 == 0)
			log_warn(hl->name, "log rate limit reached (%d lines/s): dropping lines",
				 HOSTLOG_RATE);
		return false;
	}
	hl->tokens -= 1.0;
	return true;
}

static void keep(struct hostlog *hl, const char *line)
{
	size_t at = ring_push_overwrite(&hl->ring);
	free(hl->lines[at]);
	hl->lines[at] = xstrdup(line);
}

void hostlog_drain(struct hostlog *hl, struct evbuffer *in, bool eof)
{
	char line[HOSTLOG_LINE_MAX + 1], *clean;

	for (;;) {
		struct evbuffer_ptr eol = evbuffer_search_eol(in, NULL, NULL, EVBUFFER_EOL_LF);
		size_t len = evbuffer_get_length(in), take, skip;

		if (len == 0)
			break;
		if (eol.pos >= 0) {
			take = (size_t)eol.pos;
			skip = take + 1;
		} else if (len > HOSTLOG_LINE_MAX || eof) {
			take = len;
			skip = len;
		} else {
			break; /* wait for the rest of the line */
		}
		if (take > HOSTLOG_LINE_MAX) {
			hl->truncated++;
			take = HOSTLOG_LINE_MAX;
		}
		evbuffer_copyout(in, line, take);
		line[take] = '\0';
		evbuffer_drain(in, skip);
		clean = redact(hl, line);
		log_sanitize(clean);
		keep(hl, clean);
		if (hostlog_allow(hl))
			logged(hl, LOG_LVL_INFO, clean);
		free(clean);
	}
}

int hostlog_record(struct hostlog *hl, json_object *m)
{
	const char *lvl = msg_get_str(m, "level"), *text = msg_get_str(m, "msg");
	json_object *fields = NULL;
	enum log_level level;
	char *line = NULL;
	size_t size = 0;
	FILE *f;
	int parsed;

	if (lvl == NULL || text == NULL || (parsed = log_level_parse(lvl)) < 0 ||
	    (json_object_object_get_ex(m, "fields", &fields) &&
	     !json_object_is_type(fields, json_type_object)))
		return -1;
	level = (enum log_level)parsed;
	if (level < log_get_level() || !hostlog_allow(hl))
		return 0;
	f = open_memstream(&line, &size);
	if (f == NULL)
		return 0;
	fprintf(f, "%.*s", HOSTLOG_LINE_MAX, text);
	if (fields != NULL) {
		struct json_object_iter it;
		json_object_object_foreachC(fields, it)
		{
			if (json_object_is_type(it.val, json_type_string))
				fprintf(f, " %s=%s", it.key, json_object_get_string(it.val));
			else
				fprintf(
				    f, " %s=%s", it.key,
				    json_object_to_json_string_ext(it.val, JSON_C_TO_STRING_PLAIN));
		}
	}
	fclose(f);
	if (size > HOSTLOG_LINE_MAX) {
		line[HOSTLOG_LINE_MAX] = '\0';
		hl->truncated++;
	}
	hostlog_write(hl, level, line);
	free(line);
	return 0;
}

const char *hostlog_last(const struct hostlog *hl)
{
	return hl->ring.len ? hl->lines[ring_at(&hl->ring, hl->ring.len - 1)] : NULL;
}

json_object *hostlog_take_tail(struct hostlog *hl)
{
	json_object *a = json_object_new_array();
	for (size_t i = 0; i < hl->ring.len; i++)
		json_object_array_add(a, json_object_new_string(hl->lines[ring_at(&hl->ring, i)]));
	ring_clear(hl);
	return a;
}

uint64_t hostlog_dropped(const struct hostlog *hl)
{
	return hl->dropped;
}

uint64_t hostlog_truncated(const struct hostlog *hl)
{
	return hl->truncated;
}

static void pipe_read(struct bufferevent *bev, void *arg)
{
	hostlog_drain(arg, bufferevent_get_input(bev), false);
}

static void pipe_event(struct bufferevent *bev, short what, void *arg)
{
	struct hostlog *hl = arg;
	hostlog_drain(hl, bufferevent_get_input(bev), true);
	bufferevent_free(hl->pipe);
	hl->pipe = NULL;
}

void hostlog_open_pipe(struct hostlog *hl, struct event_base *base, int fd)
{
	hostlog_close_pipe(hl);
	hl->pipe = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (hl->pipe == NULL)
		fatal("hostlog_open_pipe: out of memory");
	/* Bounded: a host that writes faster than we log waits on its pipe. */
	bufferevent_setwatermark(hl->pipe, EV_READ, 0, HOSTLOG_LINE_MAX * 4);
	bufferevent_setcb(hl->pipe, pipe_read, NULL, pipe_event, hl);
	bufferevent_enable(hl->pipe, EV_READ);
}

void hostlog_close_pipe(struct hostlog *hl)
{
	struct evbuffer *in;

	if (hl->pipe == NULL)
		return;
	in = bufferevent_get_input(hl->pipe);
	evbuffer_read(in, bufferevent_getfd(hl->pipe), HOSTLOG_LINE_MAX * 4);
	pipe_event(hl->pipe, BEV_EVENT_EOF, hl);
}
