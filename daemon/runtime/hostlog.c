#include "hostlog.h"

#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "log.h"
#include "xmalloc.h"

#define HOSTLOG_RATE 200
#define HOSTLOG_BURST 1000

struct hostlog {
	char *name;
	double tokens;
	int64_t refill_ms;
	uint64_t dropped, truncated;
	char *ring[HOSTLOG_KEEP];
	size_t head, len;
	char **secrets; /* longest first, so a secret inside another goes with it */
	size_t nsecrets;
};

#define HOSTLOG_MASK "********"

static void secrets_clear(struct hostlog *hl)
{
	for (size_t i = 0; i < hl->nsecrets; i++)
		free(hl->secrets[i]);
	free(hl->secrets);
	hl->secrets = NULL;
	hl->nsecrets = 0;
}

static void secret_add(struct hostlog *hl, const char *s)
{
	size_t i;

	if (*s == '\0')
		return;
	for (i = 0; i < hl->nsecrets; i++)
		if (strcmp(hl->secrets[i], s) == 0)
			return;
	hl->secrets = xrealloc(hl->secrets, (hl->nsecrets + 1) * sizeof *hl->secrets);
	for (i = hl->nsecrets; i > 0 && strlen(hl->secrets[i - 1]) < strlen(s); i--)
		hl->secrets[i] = hl->secrets[i - 1];
	hl->secrets[i] = xstrdup(s);
	hl->nsecrets++;
}

void hostlog_set_secrets(struct hostlog *hl, json_object *secrets)
{
	secrets_clear(hl);
	if (!json_object_is_type(secrets, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(secrets); i++) {
		json_object *v = json_object_array_get_idx(secrets, i), *tmp;
		const char *esc;
		size_t n;

		if (!json_object_is_type(v, json_type_string))
			continue;
		secret_add(hl, json_object_get_string(v));
		/* A plugin that logs its config as JSON writes "https:\/\/..." for "https://...".
		 */
		tmp = json_object_new_string(json_object_get_string(v));
		esc = json_object_to_json_string_ext(tmp, JSON_C_TO_STRING_PLAIN);
		n = strlen(esc);
		if (n >= 2) {
			char *inner = xstrndup(esc + 1, n - 2);
			secret_add(hl, inner);
			free(inner);
		}
		json_object_put(tmp);
	}
}

/* A copy of line with every secret replaced by the mask. */
static char *redact(const struct hostlog *hl, const char *line)
{
	char *cur = xstrdup(line);

	for (size_t i = 0; i < hl->nsecrets; i++) {
		const char *s = hl->secrets[i], *p, *from;
		size_t k = strlen(s), count = 0, n;
		char *out, *o;

		for (p = strstr(cur, s); p != NULL; p = strstr(p + k, s))
			count++;
		if (count == 0)
			continue;
		n = strlen(cur) - count * k + count * (sizeof HOSTLOG_MASK - 1);
		out = o = xmalloc(n + 1);
		for (from = cur; (p = strstr(from, s)) != NULL; from = p + k) {
			memcpy(o, from, (size_t)(p - from));
			o += p - from;
			memcpy(o, HOSTLOG_MASK, sizeof HOSTLOG_MASK - 1);
			o += sizeof HOSTLOG_MASK - 1;
		}
		strcpy(o, from);
		free(cur);
		cur = out;
	}
	return cur;
}

void hostlog_write(struct hostlog *hl, enum log_level level, const char *line)
{
	char *clean = redact(hl, line);

	log_sanitize(clean);
	/* Limited by the caller (hostlog_allow), so never held back again in log.c. */
	log_line(level, hl->name, clean);
	free(clean);
}

struct hostlog *hostlog_new(const char *name)
{
	struct hostlog *hl = xcalloc(1, sizeof *hl);
	hl->name = xstrdup(name);
	hl->tokens = HOSTLOG_BURST;
	hl->refill_ms = bus_now_ms();
	return hl;
}

static void ring_clear(struct hostlog *hl)
{
	for (size_t i = 0; i < HOSTLOG_KEEP; i++) {
		free(hl->ring[i]);
		hl->ring[i] = NULL;
	}
	hl->head = hl->len = 0;
}

void hostlog_free(struct hostlog *hl)
{
	if (hl == NULL)
		return;
	ring_clear(hl);
	secrets_clear(hl);
	free(hl->name);
	free(hl);
}

bool hostlog_allow(struct hostlog *hl)
{
	int64_t now = bus_now_ms();

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
	if (hl->len == HOSTLOG_KEEP) {
		free(hl->ring[hl->head]);
		hl->ring[hl->head] = xstrdup(line);
		hl->head = (hl->head + 1) % HOSTLOG_KEEP;
		return;
	}
	hl->ring[(hl->head + hl->len) % HOSTLOG_KEEP] = xstrdup(line);
	hl->len++;
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
			log_line(LOG_LVL_INFO, hl->name, clean);
		free(clean);
	}
}

void hostlog_count_truncated(struct hostlog *hl)
{
	hl->truncated++;
}

const char *hostlog_last(const struct hostlog *hl)
{
	return hl->len ? hl->ring[(hl->head + hl->len - 1) % HOSTLOG_KEEP] : NULL;
}

json_object *hostlog_take_tail(struct hostlog *hl)
{
	json_object *a = json_object_new_array();
	for (size_t i = 0; i < hl->len; i++)
		json_object_array_add(
		    a, json_object_new_string(hl->ring[(hl->head + i) % HOSTLOG_KEEP]));
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
