#include "bus.h"

#include <errno.h>
#include <event2/buffer.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/queue.h>

#include "bus_int.h"
#include "clock.h"
#include "frame.h"
#include "log.h"
#include "json.h"
#include "names.h"
#include "ring.h"
#include "xmalloc.h"

/*
 * The slots come from an anonymous mapping, not calloc: a ring holds room
 * for queue_max events (about 100 KiB per plugin by default), and calloc
 * writes its zeros into recycled heap, making all of it resident at once.
 * A fresh mapping's pages cost nothing until a queue grows into them, so
 * an idle plugin's queue costs a page or two.
 */
static void ring_new(struct bus_ring *q, size_t cap)
{
	q->bytes = cap * sizeof *q->slots;
	q->slots = mmap(NULL, q->bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (q->slots == MAP_FAILED)
		fatal("bus: mmap %zu bytes for a queue: %s", q->bytes, strerror(errno));
	ring_init(&q->r, cap);
}

static struct bus_slot *ring_slot(struct bus_ring *q, size_t i)
{
	return &q->slots[ring_at(&q->r, i)];
}

static void ring_push_back_slot(struct bus_ring *q, struct bus_slot s)
{
	q->slots[ring_push_back(&q->r)] = s;
}

static void ring_push_front_slot(struct bus_ring *q, struct bus_slot s)
{
	q->slots[ring_push_front(&q->r)] = s;
}

static struct bus_slot ring_pop_front_slot(struct bus_ring *q)
{
	return q->slots[ring_pop_front(&q->r)];
}

static struct bus_slot ring_pop_back_slot(struct bus_ring *q)
{
	return q->slots[ring_pop_back(&q->r)];
}

/* Removes element i, keeping the order of the rest. */
static struct bus_slot ring_remove(struct bus_ring *q, size_t i)
{
	struct bus_slot s = *ring_slot(q, i);
	for (size_t j = i; j + 1 < q->r.len; j++)
		*ring_slot(q, j) = *ring_slot(q, j + 1);
	q->r.len--;
	return s;
}

static void event_unref(struct bus_event *ev)
{
	if (ev != NULL && --ev->refs == 0) {
		ev->bus->bytes -= ev->len;
		free(ev); /* the frame is in the same allocation */
	}
}

static void event_unref_cb(const void *data, size_t len, void *arg)
{
	(void)data;
	(void)len;
	event_unref(arg);
}

static void ring_clear(struct bus_ring *q)
{
	while (q->r.len > 0)
		event_unref(ring_pop_front_slot(q).ev);
	if (q->slots != NULL)
		munmap(q->slots, q->bytes);
	q->slots = NULL;
}

struct bus *bus_new(const struct bus_options *opts)
{
	struct bus *bus = xcalloc(1, sizeof *bus);
	bus->opts.queue_max = opts && opts->queue_max ? opts->queue_max : 4096;
	bus->opts.window = opts && opts->window ? opts->window : 32;
	bus->opts.max_frame = opts && opts->max_frame ? opts->max_frame : FRAME_MAX_DEFAULT;
	bus->opts.queue_bytes_max =
	    opts && opts->queue_bytes_max ? opts->queue_bytes_max : (size_t)64 << 20;
	bus->opts.bytes_max = opts && opts->bytes_max ? opts->bytes_max : (size_t)256 << 20;
	bus->next_id = 1;
	bus->next_request_id = BUS_REQUEST_ID_BASE + (BUS_REQUEST_ID_BASE >> 1);
	TAILQ_INIT(&bus->subs);
	TAILQ_INIT(&bus->accounts);
	return bus;
}

void bus_free(struct bus *bus)
{
	struct bus_account *a;

	if (bus == NULL)
		return;
	bus->pressure = NULL; /* whoever listened may be gone already */
	while (!TAILQ_EMPTY(&bus->subs))
		bus_sub_free(TAILQ_FIRST(&bus->subs), BUS_DROP_SHUTDOWN);
	while ((a = TAILQ_FIRST(&bus->accounts)) != NULL) {
		TAILQ_REMOVE(&bus->accounts, a, entry);
		free(a->name);
		free(a);
	}
	free(bus);
}

int64_t bus_next_id(struct bus *bus)
{
	return bus->next_request_id++;
}

uint64_t bus_accepted(const struct bus *bus)
{
	return bus->accepted;
}

/* Frames up to this size are copied into a host's output, larger ones referenced. */
#define BUS_COPY_MAX 1024

/* Room for the envelope around the data: {"t":"event","id":..,"type":..,"ts":..,"data":} */
#define BUS_ENVELOPE_MAX (96 + SS_EVENT_NAME_MAX)

static void head_put(char *head, size_t *len, const char *s, size_t n)
{
	memcpy(head + *len, s, n);
	*len += n;
}

#define HEAD_LIT(head, len, lit) head_put((head), (len), (lit), sizeof(lit) - 1)

/* Decimal v at head + *len (at most 20 characters). */
static void head_int(char *head, size_t *len, int64_t v)
{
	char digits[24];
	size_t n = 0;
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	do {
		digits[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u > 0);
	if (v < 0)
		head[(*len)++] = '-';
	while (n > 0)
		head[(*len)++] = digits[--n];
}

static struct bus_event *frame_event(struct bus *bus, int64_t id, const char *type, const char *d,
				     size_t dlen, bool platform, char *err, size_t errlen);

static struct bus_event *prepare(struct bus *bus, int64_t id, const char *type, json_object *data,
				 bool platform, char *err, size_t errlen)
{
	size_t dlen = 2;
	const char *d = "{}";

	if (type == NULL || !(platform ? name_event_is_platform(type) : name_event_valid(type))) {
		snprintf(err, errlen,
			 "unknown event type (want a core event such as session.created, "
			 "or plugin.<name>.<event>)");
		return NULL;
	}
	if (data != NULL && !json_object_is_type(data, json_type_object)) {
		snprintf(err, errlen, "\"data\" must be an object");
		return NULL;
	}
	/*
	 * Every host refuses a frame it cannot parse and is ended for it, so an
	 * event it would refuse must not be accepted: json-c lets malformed
	 * UTF-8 through, and the HTTP body may nest deeper than a frame. The
	 * data is serialised here, once; the frame is built from these bytes.
	 */
	if (data != NULL) {
		char why[160];

		/* The event frame puts data one level down: {"t":"event",...,"data":...}. */
		if (json_check(data, JSON_MAX_DEPTH - 1, 0, why, sizeof why) < 0) {
			/* err may be shorter than why (a warning at -O3 once inlined). */
			snprintf(err, errlen, "\"data\": %.140s", why);
			return NULL;
		}
		d = json_object_to_json_string_length(data, JSON_C_TO_STRING_PLAIN, &dlen);
	}
	return frame_event(bus, id, type, d, dlen, platform, err, errlen);
}

/*
 * The frame of an event whose type is a validated name and whose data (dlen
 * bytes) is JSON a host accepts: refused only when over the frame limit.
 */
static struct bus_event *frame_event(struct bus *bus, int64_t id, const char *type, const char *d,
				     size_t dlen, bool platform, char *err, size_t errlen)
{
	size_t tlen, hlen;
	char head[BUS_ENVELOPE_MAX + 32];
	struct bus_event *ev;

	if (dlen + BUS_ENVELOPE_MAX > bus->opts.max_frame) {
		snprintf(err, errlen, "event data of %zu bytes is over the frame limit of %zu",
			 dlen, bus->opts.max_frame);
		return NULL;
	}
	/*
	 * The type is a validated event name (no characters that need
	 * escaping), so the envelope is printed around the data's own
	 * serialisation rather than building a second JSON tree; by hand, not
	 * snprintf, which was a tenth of the daemon's time per event.
	 */
	tlen = strlen(type);
	hlen = 0;
	HEAD_LIT(head, &hlen, "{\"t\":\"event\",\"id\":");
	head_int(head, &hlen, id);
	HEAD_LIT(head, &hlen, ",\"type\":\"");
	head_put(head, &hlen, type, tlen);
	HEAD_LIT(head, &hlen, "\",\"ts\":");
	head_int(head, &hlen, clock_real_ms());
	HEAD_LIT(head, &hlen, ",\"data\":");
	/* One allocation: the event, its type, then its frame. */
	ev = xmalloc(sizeof *ev + tlen + 1 + FRAME_HEADER_LEN + hlen + dlen + 1);
	memcpy(ev->type, type, tlen + 1);
	ev->bus = bus;
	ev->refs = 1;
	ev->id = id;
	ev->platform = platform;
	ev->data_off = FRAME_HEADER_LEN + hlen;
	ev->data_len = dlen;
	ev->len = FRAME_HEADER_LEN + hlen + dlen + 1;
	ev->frame = (unsigned char *)ev->type + tlen + 1;
	bus->bytes += ev->len;
	frame_header(ev->frame, (uint32_t)(hlen + dlen + 1));
	memcpy(ev->frame + FRAME_HEADER_LEN, head, hlen);
	memcpy(ev->frame + FRAME_HEADER_LEN + hlen, d, dlen);
	ev->frame[ev->len - 1] = '}';
	return ev;
}

struct bus_event *bus_prepare(struct bus *bus, const char *type, json_object *data, char *err,
			      size_t errlen)
{
	struct bus_event *ev = prepare(bus, bus->next_id, type, data, false, err, errlen);

	if (ev != NULL)
		bus->next_id++;
	return ev;
}

struct bus_event *bus_prepare_id(struct bus *bus, int64_t id, const char *type, json_object *data,
				 bool platform, char *err, size_t errlen)
{
	return prepare(bus, id, type, data, platform, err, errlen);
}

struct bus_event *bus_prepare_serialised(struct bus *bus, int64_t id, const char *type,
					 const char *data, size_t len, char *err, size_t errlen)
{
	if (type == NULL || !name_event_valid(type)) {
		snprintf(err, errlen, "unknown event type");
		return NULL;
	}
	return frame_event(bus, id, type, data, len, false, err, errlen);
}

bool bus_event_platform(const struct bus_event *ev)
{
	return ev->platform;
}

void bus_use_external_ids(struct bus *bus)
{
	if (bus->next_id < BUS_REQUEST_ID_BASE)
		bus->next_id = BUS_REQUEST_ID_BASE;
}

const char *bus_event_data(const struct bus_event *ev, size_t *len)
{
	*len = ev->data_len;
	return (const char *)ev->frame + ev->data_off;
}

const char *bus_event_type(const struct bus_event *ev)
{
	return ev->type;
}

static void drop(struct bus_sub *sub, enum bus_drop why, uint64_t n)
{
	sub->acct->st.dropped += n;
	sub->acct->st.dropped_by[why] += n;
}

/* An event leaves the subscriber's queue or window for good. */
static void release(struct bus_sub *sub, struct bus_event *ev)
{
	sub->bytes -= ev->len;
	if (sub->suspects.n > 0)
		bus_suspects_gone(&sub->suspects, ev->id);
	event_unref(ev);
}

bool bus_full(struct bus *bus, size_t n)
{
	if (bus->bytes < bus->opts.bytes_max)
		return false;
	bus->shed += n;
	return true;
}

uint64_t bus_shed(const struct bus *bus)
{
	return bus->shed;
}

const char *bus_drop_name(enum bus_drop why)
{
	static const char *const names[BUS_DROP_COUNT] = {"overflow", "disabled", "uninstalled",
							  "shutdown", "handover"};
	return (unsigned)why < BUS_DROP_COUNT ? names[why] : "unknown";
}

void bus_discard(struct bus_event *ev)
{
	event_unref(ev);
}

/*
 * Whether the emitter origin takes back its own event: only through a
 * pattern of its own namespace ("plugin.<origin>." ...), never through
 * "*" or "plugin.*" alone, so an emit cannot loop by accident.
 */
static bool wants_own(const struct bus_sub *sub, const char *type, const char *origin)
{
	size_t n = strlen(origin);

	for (size_t i = 0; i < sub->npatterns; i++) {
		const char *p = sub->patterns[i];
		if (strncmp(p, "plugin.", 7) == 0 && strncmp(p + 7, origin, n) == 0 &&
		    p[7 + n] == '.' && name_pattern_match(p, type))
			return true;
	}
	return false;
}

bool bus_sub_takes(const struct bus_sub *sub, const char *type, bool platform, const char *origin)
{
	if (!bus_sub_matches(sub, type) || (platform && !sub->platform))
		return false;
	return origin == NULL || strcmp(sub->name, origin) != 0 || wants_own(sub, type, origin);
}

int64_t bus_commit(struct bus *bus, struct bus_event *ev)
{
	return bus_commit_from(bus, ev, NULL);
}

int64_t bus_commit_from(struct bus *bus, struct bus_event *ev, const char *origin)
{
	struct bus_sub *sub;
	int64_t id = ev->id;

	/* The intake's count: a platform event is the daemon's own, not accepted from anyone. */
	if (!ev->platform)
		bus->accepted++;
	TAILQ_FOREACH(sub, &bus->subs, entry)
	{
		if (!bus_sub_takes(sub, ev->type, ev->platform, origin))
			continue;
		sub->acct->st.accepted++;
		if (sub->queue.r.len >= bus->opts.queue_max ||
		    sub->bytes + ev->len > bus->opts.queue_bytes_max) {
			drop(sub, BUS_DROP_OVERFLOW, 1);
			continue;
		}
		ev->refs++;
		sub->bytes += ev->len;
		ring_push_back_slot(&sub->queue, (struct bus_slot){.ev = ev});
		bus_pressure_update(sub);
		/* The host's peer flushes when it gets its turn of the loop. */
		if (sub->attached && sub->ready != NULL && sub->inflight.r.len < bus->opts.window)
			sub->ready(sub, sub->ready_arg);
	}
	event_unref(ev);
	return id;
}

int64_t bus_publish(struct bus *bus, const char *type, json_object *data)
{
	char err[8];
	struct bus_event *ev = bus_prepare(bus, type, data, err, sizeof err);
	return ev ? bus_commit(bus, ev) : -1;
}

int64_t bus_publish_platform(struct bus *bus, const char *type, const char *about,
			     json_object *data)
{
	char err[160];
	struct bus_event *ev = prepare(bus, bus->next_id, type, data, true, err, sizeof err);

	if (ev == NULL) {
		log_error("bus", "platform event %s not published: %s", type, err);
		return -1;
	}
	bus->next_id++;
	return bus_commit_from(bus, ev, about);
}

void bus_sub_set_platform(struct bus_sub *sub, bool platform)
{
	sub->platform = platform;
}

/* The account kept under name, made on first use. */
static struct bus_account *account(struct bus *bus, const char *name)
{
	struct bus_account *a;

	TAILQ_FOREACH(a, &bus->accounts, entry)
	{
		if (strcmp(a->name, name) == 0)
			return a;
	}
	a = xcalloc(1, sizeof *a);
	a->name = xstrdup(name);
	TAILQ_INSERT_TAIL(&bus->accounts, a, entry);
	return a;
}

struct bus_sub *bus_sub_new(struct bus *bus, const char *name, bus_ready_fn ready, void *arg)
{
	struct bus_sub *sub = xcalloc(1, sizeof *sub);
	sub->bus = bus;
	sub->acct = account(bus, name);
	sub->acct->live = true;
	sub->name = xstrdup(name);
	sub->ready = ready;
	sub->ready_arg = arg;
	/* Room for a full queue plus a window put back after a crash. */
	ring_new(&sub->queue, bus->opts.queue_max + bus->opts.window);
	ring_new(&sub->inflight, bus->opts.window);
	bus_suspects_init(&sub->suspects, bus->opts.window);
	TAILQ_INSERT_TAIL(&bus->subs, sub, entry);
	return sub;
}

static void patterns_clear(struct bus_sub *sub)
{
	for (size_t i = 0; i < sub->npatterns; i++)
		free(sub->patterns[i]);
	free(sub->patterns);
	sub->patterns = NULL;
	sub->npatterns = 0;
}

void bus_sub_free(struct bus_sub *sub, enum bus_drop why)
{
	if (sub == NULL)
		return;
	if (sub->bus->hooks.freed != NULL)
		sub->bus->hooks.freed(sub, sub->bus->hooks.arg);
	TAILQ_REMOVE(&sub->bus->subs, sub, entry);
	bus_press_stop(sub);
	/* Accepted for this plugin and never to reach it: counted, not lost. */
	if (sub->queue.r.len + sub->inflight.r.len > 0)
		log_warn(sub->name, "%zu accepted events not delivered: counted dropped (%s)",
			 sub->queue.r.len + sub->inflight.r.len, bus_drop_name(why));
	drop(sub, why, sub->queue.r.len + sub->inflight.r.len);
	sub->acct->live = false;
	ring_clear(&sub->queue);
	ring_clear(&sub->inflight);
	bus_suspects_free(&sub->suspects);
	patterns_clear(sub);
	free(sub->name);
	free(sub);
}

void bus_sub_set_patterns(struct bus_sub *sub, const char *const *patterns, size_t n)
{
	patterns_clear(sub);
	sub->declared = true;
	if (n > BUS_PATTERNS_MAX)
		n = BUS_PATTERNS_MAX;
	sub->patterns = xcalloc(n ? n : 1, sizeof *sub->patterns);
	for (size_t i = 0; i < n; i++)
		sub->patterns[i] = xstrdup(patterns[i]);
	sub->npatterns = n;
}

void bus_sub_set_patterns_json(struct bus_sub *sub, json_object *patterns)
{
	size_t n = json_object_array_length(patterns), k = 0;
	const char **pats = xcalloc(n ? n : 1, sizeof *pats);

	for (size_t i = 0; i < n; i++) {
		json_object *p = json_object_array_get_idx(patterns, i);
		if (json_object_is_type(p, json_type_string))
			pats[k++] = json_object_get_string(p);
	}
	bus_sub_set_patterns(sub, pats, k);
	free(pats);
}

bool bus_sub_matches(const struct bus_sub *sub, const char *type)
{
	for (size_t i = 0; i < sub->npatterns; i++)
		if (name_pattern_match(sub->patterns[i], type))
			return true;
	return false;
}

void bus_sub_attach(struct bus_sub *sub)
{
	sub->attached = true;
	if (sub->bus->hooks.attach != NULL)
		sub->bus->hooks.attach(sub, sub->bus->hooks.arg);
	bus_pressure_update(sub);
	if (sub->queue.r.len > 0 && sub->ready != NULL)
		sub->ready(sub, sub->ready_arg);
}

void bus_sub_hold(struct bus_sub *sub)
{
	sub->attached = false;
	bus_pressure_update(sub);
}

void bus_sub_set_ready(struct bus_sub *sub, bus_ready_fn ready, void *arg)
{
	sub->ready = ready;
	sub->ready_arg = arg;
}

static void poison_record(struct bus_sub *sub, int64_t id)
{
	if (sub->npoison == BUS_POISON_KEEP) {
		memmove(sub->poison, sub->poison + 1,
			(BUS_POISON_KEEP - 1) * sizeof sub->poison[0]);
		sub->npoison--;
	}
	sub->poison[sub->npoison++] = id;
	sub->acct->st.poisoned++;
}

size_t bus_sub_detach(struct bus_sub *sub, bool crashed)
{
	size_t poisoned = 0;

	sub->attached = false;
	bus_pressure_update(sub);
	if (sub->inflight.r.len == 0)
		return 0;
	if (crashed) {
		/* Charged only to an event alone in flight (bus_suspect.c). */
		struct bus_slot *blamed = bus_suspects_blame(sub);
		if (blamed != NULL) {
			blamed->attempts++;
			if (sub->bus->hooks.crashed != NULL)
				sub->bus->hooks.crashed(sub, blamed->ev->id, blamed->attempts,
							sub->bus->hooks.arg);
		}
		if (blamed != NULL && blamed->attempts >= 2) {
			struct bus_slot s = ring_pop_front_slot(&sub->inflight);
			poison_record(sub, s.ev->id);
			release(sub, s.ev);
			poisoned = 1;
			if (sub->bus->hooks.release != NULL)
				sub->bus->hooks.release(sub, sub->bus->hooks.arg);
		} else {
			sub->acct->st.redelivered++;
		}
	}
	/* Back to the front of the queue, newest first, so the order holds. */
	while (sub->inflight.r.len > 0) {
		/* The queue has room for a full window on top of queue_max. */
		ring_push_front_slot(&sub->queue, ring_pop_back_slot(&sub->inflight));
	}
	return poisoned;
}

size_t bus_sub_flush(struct bus_sub *sub, struct evbuffer *out)
{
	size_t n = 0, window = bus_suspects_window(&sub->suspects, sub->inflight.r.cap);
	int64_t now = clock_mono_ms();

	if (!sub->attached)
		return 0;
	while (sub->queue.r.len > 0 && sub->inflight.r.len < window) {
		struct bus_slot s = ring_pop_front_slot(&sub->queue);
		int r;
		/*
		 * A small frame is copied: a reference costs a chain allocation,
		 * a callback and a held event per frame, more than copying a few
		 * hundred bytes. Large ones are shared with every host, as is.
		 */
		if (s.ev->len <= BUS_COPY_MAX) {
			r = evbuffer_add(out, s.ev->frame, s.ev->len);
		} else {
			s.ev->refs++;
			r = evbuffer_add_reference(out, s.ev->frame, s.ev->len, event_unref_cb,
						   s.ev);
			if (r < 0)
				s.ev->refs--;
		}
		if (r < 0) {
			ring_push_front_slot(&sub->queue, s);
			break;
		}
		s.since_ms = now;
		ring_push_back_slot(&sub->inflight, s);
		n++;
	}
	if (n > 0)
		bus_pressure_update(sub);
	return n;
}

int bus_sub_ack(struct bus_sub *sub, int64_t id, bool ok)
{
	for (size_t i = 0; i < sub->inflight.r.len; i++) {
		struct bus_slot *s = ring_slot(&sub->inflight, i);
		if (s->ev->id != id)
			continue;
		release(sub, ring_remove(&sub->inflight, i).ev);
		if (sub->pressing || sub->slow)
			bus_pressure_update(sub); /* the bytes went down */
		if (ok)
			sub->acct->st.delivered++;
		else
			sub->acct->st.failed++;
		/* The next event's deadline starts when the host can begin on it. */
		if (i == 0 && sub->inflight.r.len > 0)
			ring_slot(&sub->inflight, 0)->since_ms = clock_mono_ms();
		if (sub->bus->hooks.release != NULL)
			sub->bus->hooks.release(sub, sub->bus->hooks.arg);
		if (sub->queue.r.len > 0 && sub->ready != NULL)
			sub->ready(sub, sub->ready_arg);
		return i == 0 ? 1 : 0;
	}
	return -1;
}

int bus_sub_ack_n(struct bus_sub *sub, int64_t n, int64_t last)
{
	/* Checked whole before anything moves: a bad ack changes no count. */
	if (n < 1 || (uint64_t)n > sub->inflight.r.len ||
	    ring_slot(&sub->inflight, (size_t)n - 1)->ev->id != last)
		return -1;
	for (int64_t i = 0; i < n; i++)
		release(sub, ring_pop_front_slot(&sub->inflight).ev);
	sub->acct->st.delivered += (uint64_t)n;
	if (sub->pressing || sub->slow)
		bus_pressure_update(sub);
	/* As for one answer: the next event's deadline starts now. */
	if (sub->inflight.r.len > 0)
		ring_slot(&sub->inflight, 0)->since_ms = clock_mono_ms();
	if (sub->bus->hooks.release != NULL)
		sub->bus->hooks.release(sub, sub->bus->hooks.arg);
	if (sub->queue.r.len > 0 && sub->ready != NULL)
		sub->ready(sub, sub->ready_arg);
	return 0;
}

bool bus_sub_push(struct bus_sub *sub, struct bus_event *ev)
{
	return bus_sub_push_tried(sub, ev, 0);
}

bool bus_sub_push_tried(struct bus_sub *sub, struct bus_event *ev, unsigned attempts)
{
	struct bus *bus = sub->bus;

	if (sub->queue.r.len >= bus->opts.queue_max ||
	    sub->bytes + ev->len > bus->opts.queue_bytes_max)
		return false;
	bus->accepted++;
	sub->acct->st.accepted++;
	sub->durable = true;
	ev->refs++;
	sub->bytes += ev->len;
	ring_push_back_slot(&sub->queue, (struct bus_slot){.ev = ev, .attempts = attempts});
	if (sub->attached && sub->ready != NULL && sub->inflight.r.len < bus->opts.window)
		sub->ready(sub, sub->ready_arg);
	return true;
}

size_t bus_sub_handover(struct bus_sub *sub)
{
	size_t n = sub->queue.r.len;

	while (sub->queue.r.len > 0)
		release(sub, ring_pop_front_slot(&sub->queue).ev);
	drop(sub, BUS_DROP_HANDOVER, n);
	return n;
}

void bus_set_hooks(struct bus *bus, const struct bus_hooks *hooks)
{
	if (hooks != NULL)
		bus->hooks = *hooks;
	else
		memset(&bus->hooks, 0, sizeof bus->hooks);
}

size_t bus_sub_inflight(const struct bus_sub *sub)
{
	return sub->inflight.r.len;
}

void bus_sub_pause(struct bus_sub *sub, int64_t ms)
{
	if (sub->inflight.r.len > 0)
		ring_slot(&sub->inflight, 0)->since_ms += ms;
}

int64_t bus_sub_oldest_age_ms(const struct bus_sub *sub, int64_t now_ms)
{
	if (sub->inflight.r.len == 0)
		return -1;
	return now_ms - sub->inflight.slots[sub->inflight.r.head].since_ms;
}

void bus_sub_stats(const struct bus_sub *sub, struct bus_sub_stats *out)
{
	*out = sub->acct->st;
	out->queued = sub->queue.r.len;
	out->inflight = sub->inflight.r.len;
	out->bytes = sub->bytes;
}

void bus_foreach(const struct bus *bus,
		 void (*fn)(const char *name, const struct bus_sub_stats *st, void *arg), void *arg)
{
	struct bus_account *a;
	struct bus_sub *sub;
	struct bus_sub_stats st;

	TAILQ_FOREACH(a, &bus->accounts, entry)
	{
		st = a->st;
		TAILQ_FOREACH(sub, &bus->subs, entry)
		{
			if (sub->acct == a)
				bus_sub_stats(sub, &st);
		}
		fn(a->name, &st, arg);
	}
}

json_object *bus_sub_poison_json(const struct bus_sub *sub)
{
	json_object *a = json_object_new_array();
	for (size_t i = 0; i < sub->npoison; i++)
		json_object_array_add(a, json_object_new_int64(sub->poison[i]));
	return a;
}

bool bus_busy(const struct bus *bus)
{
	struct bus_sub *sub;
	TAILQ_FOREACH(sub, &bus->subs, entry)
	{
		if (sub->attached && (sub->queue.r.len > 0 || sub->inflight.r.len > 0))
			return true;
	}
	return false;
}
