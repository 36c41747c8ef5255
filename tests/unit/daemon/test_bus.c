#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <event2/buffer.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bus.h"
#include "frame.h"

static int ready_calls;

static void on_ready(struct bus_sub *sub, void *arg)
{
	(void)sub;
	(void)arg;
	ready_calls++;
}

static json_object *data_with(int n)
{
	json_object *d = json_object_new_object();
	json_object_object_add(d, "n", json_object_new_int(n));
	return d;
}

/* Takes every frame out of buf and returns the event ids in order. */
static size_t drain_ids(struct evbuffer *buf, int64_t *ids, size_t max)
{
	size_t n = 0;
	json_object *m;
	while (frame_pull(buf, FRAME_MAX_DEFAULT, &m, NULL, 0) == FRAME_OK) {
		json_object *id;
		assert_true(json_object_object_get_ex(m, "id", &id));
		assert_true(n < max);
		ids[n++] = json_object_get_int64(id);
		json_object_put(m);
	}
	assert_int_equal(evbuffer_get_length(buf), 0);
	return n;
}

static struct bus_sub *sub_for(struct bus *bus, const char *name, const char *pattern)
{
	struct bus_sub *s = bus_sub_new(bus, name, on_ready, NULL);
	const char *p[] = {pattern};
	bus_sub_set_patterns(s, p, 1);
	bus_sub_attach(s);
	return s;
}

/* The same bytes reach every subscriber, in order, and only matching ones. */
static void fanout_in_order(void **state)
{
	struct bus *bus = bus_new(&(struct bus_options){.queue_max = 16, .window = 4});
	struct bus_sub *a = sub_for(bus, "a", "session.*");
	struct bus_sub *b = sub_for(bus, "b", "*");
	struct bus_sub *c = sub_for(bus, "c", "user.login");
	struct evbuffer *ba = evbuffer_new(), *bb = evbuffer_new(), *bc = evbuffer_new();
	int64_t ids[16];
	json_object *d = data_with(1);

	int64_t e1 = bus_publish(bus, "session.created", d);
	int64_t e2 = bus_publish(bus, "user.logout", d);
	int64_t e3 = bus_publish(bus, "session.deleted", d);
	assert_true(e1 > 0 && e2 > e1 && e3 > e2);
	assert_int_equal(bus_accepted(bus), 3);

	assert_int_equal(bus_sub_flush(a, ba), 2);
	assert_int_equal(bus_sub_flush(b, bb), 3);
	assert_int_equal(bus_sub_flush(c, bc), 0);
	/* Identical frames for the same event. */
	unsigned char fa[256], fb[256];
	size_t la = evbuffer_copyout(ba, fa, sizeof fa), lb = evbuffer_copyout(bb, fb, sizeof fb);
	assert_true(la > 8 && lb > la);
	uint32_t n1 = (uint32_t)fa[0] << 24 | fa[1] << 16 | fa[2] << 8 | fa[3];
	assert_memory_equal(fa, fb, n1 + 4);

	assert_int_equal(drain_ids(ba, ids, 16), 2);
	assert_int_equal(ids[0], e1);
	assert_int_equal(ids[1], e3);
	assert_int_equal(drain_ids(bb, ids, 16), 3);
	assert_int_equal(ids[2], e3);

	json_object_put(d);
	evbuffer_free(ba);
	evbuffer_free(bb);
	evbuffer_free(bc);
	bus_free(bus);
}

/* The window bounds what is in flight; acks open it again. */
static void window_and_acks(void **state)
{
	struct bus *bus = bus_new(&(struct bus_options){.queue_max = 100, .window = 3});
	struct bus_sub *s = sub_for(bus, "s", "*");
	struct evbuffer *out = evbuffer_new();
	int64_t ids[8], first = 0;
	struct bus_sub_stats st;

	for (int i = 0; i < 5; i++) {
		int64_t id = bus_publish(bus, "user.login", NULL);
		if (i == 0)
			first = id;
	}
	assert_int_equal(bus_sub_flush(s, out), 3);
	assert_int_equal(bus_sub_flush(s, out), 0);
	bus_sub_stats(s, &st);
	assert_int_equal(st.inflight, 3);
	assert_int_equal(st.queued, 2);
	assert_int_equal(drain_ids(out, ids, 8), 3);

	assert_int_equal(bus_sub_ack(s, first, true), 1);
	assert_int_equal(bus_sub_ack(s, first + 2, false), 0); /* out of order */
	assert_int_equal(bus_sub_ack(s, first, true), -1);     /* not in flight any more */
	assert_int_equal(bus_sub_ack(s, 999999, true), -1);
	assert_int_equal(bus_sub_flush(s, out), 2);
	bus_sub_stats(s, &st);
	assert_int_equal(st.delivered, 1);
	assert_int_equal(st.failed, 1);
	assert_int_equal(st.inflight, 3);
	assert_int_equal(st.queued, 0);
	assert_true(bus_busy(bus));
	evbuffer_free(out);
	bus_free(bus);
}

/* A full queue drops and counts, and does not disturb another subscriber. */
static void overflow_counted(void **state)
{
	struct bus *bus = bus_new(&(struct bus_options){.queue_max = 4, .window = 2});
	struct bus_sub *slow = sub_for(bus, "slow", "*");
	struct bus_sub *fast = sub_for(bus, "fast", "*");
	struct evbuffer *out = evbuffer_new();
	struct bus_sub_stats st;
	int64_t ids[16];

	for (int i = 0; i < 10; i++) {
		bus_publish(bus, "session.started", NULL);
		bus_sub_flush(fast, out);
		drain_ids(out, ids, 16);
		/* fast answers each event at once, so its window never fills. */
		assert_int_equal(bus_sub_ack(fast, ids[0], true), 1);
	}
	bus_sub_stats(slow, &st);
	assert_int_equal(st.queued, 4);
	assert_int_equal(st.dropped, 6);
	bus_sub_stats(fast, &st);
	assert_int_equal(st.dropped, 0);
	evbuffer_free(out);
	bus_free(bus);
}

/*
 * After a crash the event being handled is redelivered once, ahead of the
 * rest; at a second crash on it, it is set aside as poison.
 */
static void redeliver_then_poison(void **state)
{
	struct bus *bus = bus_new(&(struct bus_options){.queue_max = 10, .window = 1});
	struct bus_sub *s = sub_for(bus, "s", "*");
	struct evbuffer *out = evbuffer_new();
	struct bus_sub_stats st;
	int64_t ids[8];
	int64_t e1 = bus_publish(bus, "user.created", NULL);
	int64_t e2 = bus_publish(bus, "user.updated", NULL);

	(void)bus_publish(bus, "user.deleted", NULL);
	assert_int_equal(bus_sub_flush(s, out), 1);
	drain_ids(out, ids, 8);
	assert_int_equal(bus_sub_detach(s, true), 0);
	assert_int_equal(bus_sub_flush(s, out), 0); /* detached: nothing sent */
	bus_sub_attach(s);
	assert_int_equal(bus_sub_flush(s, out), 1);
	assert_int_equal(drain_ids(out, ids, 8), 1);
	assert_int_equal(ids[0], e1);
	bus_sub_stats(s, &st);
	assert_int_equal(st.redelivered, 1);

	/* Second crash with e1 alone in flight again: poison. */
	assert_int_equal(bus_sub_detach(s, true), 1);
	bus_sub_attach(s);
	assert_int_equal(bus_sub_flush(s, out), 1);
	assert_int_equal(drain_ids(out, ids, 8), 1);
	assert_int_equal(ids[0], e2);
	bus_sub_stats(s, &st);
	assert_int_equal(st.poisoned, 1);
	json_object *p = bus_sub_poison_json(s);
	assert_int_equal(json_object_array_length(p), 1);
	assert_int_equal(json_object_get_int64(json_object_array_get_idx(p, 0)), e1);
	json_object_put(p);

	/* A clean stop requeues without counting an attempt. */
	assert_int_equal(bus_sub_detach(s, false), 0);
	bus_sub_attach(s);
	assert_int_equal(bus_sub_flush(s, out), 1);
	bus_sub_stats(s, &st);
	assert_int_equal(st.poisoned, 1);
	evbuffer_free(out);
	bus_free(bus);
}

static void assert_sum(const struct bus_sub_stats *st);

static int64_t crashed_id[8];
static unsigned crashed_tries[8], ncrashed;

static void on_crashed(struct bus_sub *sub, int64_t id, unsigned attempts, void *arg)
{
	(void)sub;
	(void)arg;
	assert_true(ncrashed < 8);
	crashed_id[ncrashed] = id;
	crashed_tries[ncrashed++] = attempts;
}

/* Flushes, expects exactly the ids want[0, n) sent, in order. */
static void expect_sent(struct bus_sub *s, struct evbuffer *out, const int64_t *want, size_t n)
{
	int64_t ids[8];

	assert_int_equal(bus_sub_flush(s, out), n);
	assert_int_equal(drain_ids(out, ids, 8), n);
	assert_memory_equal(ids, want, n * sizeof *ids);
}

/*
 * A crash with several events in flight (a protocol-4 host may hold the
 * acks of handled ones) charges none of them: they become suspects and go
 * one at a time until each is answered or crashes a host alone, and only
 * such a crash counts toward poison. Then the full window again.
 */
static void crash_suspects_window_one(void **state)
{
	struct bus *bus = bus_new(&(struct bus_options){.queue_max = 16, .window = 4});
	struct bus_sub *s = sub_for(bus, "s", "*");
	struct evbuffer *out = evbuffer_new();
	struct bus_sub_stats st;
	int64_t e[8];

	(void)state;
	ncrashed = 0;
	bus_set_hooks(bus, &(struct bus_hooks){.crashed = on_crashed});
	for (int i = 0; i < 7; i++)
		e[i] = bus_publish(bus, "user.login", NULL);
	expect_sent(s, out, e, 4);
	/* The third aborted the host, the acks of the first two held: nobody charged. */
	assert_int_equal(bus_sub_detach(s, true), 0);
	assert_int_equal(ncrashed, 0);
	bus_sub_stats(s, &st);
	assert_int_equal(st.redelivered, 1);
	bus_sub_attach(s);
	expect_sent(s, out, &e[0], 1);
	assert_int_equal(bus_sub_flush(s, out), 0); /* one at a time */
	assert_int_equal(bus_sub_ack_n(s, 1, e[0]), 0);
	expect_sent(s, out, &e[1], 1);
	assert_int_equal(bus_sub_ack(s, e[1], false), 1); /* a failure answers it too */
	expect_sent(s, out, &e[2], 1);
	/* Alone in flight: this crash names e[2] (one attempt). */
	assert_int_equal(bus_sub_detach(s, true), 0);
	assert_int_equal(ncrashed, 1);
	assert_int_equal(crashed_id[0], e[2]);
	assert_int_equal(crashed_tries[0], 1);
	bus_sub_attach(s);
	/* e[3] is still a suspect: e[2] again alone, and its second crash sets it aside. */
	expect_sent(s, out, &e[2], 1);
	assert_int_equal(bus_sub_detach(s, true), 1);
	assert_int_equal(ncrashed, 2);
	assert_int_equal(crashed_id[1], e[2]);
	assert_int_equal(crashed_tries[1], 2);
	bus_sub_attach(s);
	expect_sent(s, out, &e[3], 1);
	assert_int_equal(bus_sub_ack_n(s, 1, e[3]), 0);
	/* No suspect left: the full window. */
	expect_sent(s, out, &e[4], 3);
	assert_int_equal(bus_sub_ack_n(s, 2, e[5]), 0);
	/* One in flight at a crash counts as ever, and leaves the window whole. */
	assert_int_equal(bus_sub_detach(s, true), 0);
	assert_int_equal(ncrashed, 3);
	assert_int_equal(crashed_id[2], e[6]);
	bus_sub_attach(s);
	e[7] = bus_publish(bus, "user.login", NULL);
	expect_sent(s, out, &e[6], 2);
	bus_sub_stats(s, &st);
	assert_int_equal(st.poisoned, 1);
	assert_int_equal(st.delivered, 4);
	assert_int_equal(st.failed, 1);
	assert_sum(&st);
	/* Suspects that leave otherwise (handed over to another daemon) end the window of one. */
	assert_int_equal(bus_sub_detach(s, true), 0);
	assert_int_equal(ncrashed, 3);
	assert_int_equal(bus_sub_handover(s), 2);
	bus_sub_attach(s);
	e[0] = bus_publish(bus, "user.login", NULL);
	e[1] = bus_publish(bus, "user.login", NULL);
	expect_sent(s, out, e, 2);
	evbuffer_free(out);
	bus_free(bus);
}

/* 0 when bus_prepare accepts the event (then discarded), -1 when it refuses it. */
static int prepare_ok(struct bus *bus, const char *type, json_object *data, char *err, size_t len)
{
	struct bus_event *ev = bus_prepare(bus, type, data, err, len);
	bus_discard(ev);
	return ev ? 0 : -1;
}

static void prepare_rules(void **state)
{
	struct bus *bus = bus_new(&(struct bus_options){.max_frame = 4096});
	char err[256];
	json_object *big = json_object_new_object();
	char *blob = calloc(1, 5000);

	memset(blob, 'x', 4999);
	json_object_object_add(big, "blob", json_object_new_string(blob));
	assert_int_equal(prepare_ok(bus, "session.created", NULL, err, sizeof err), 0);
	assert_int_equal(prepare_ok(bus, "plugin.slack.sent", NULL, err, sizeof err), 0);
	assert_int_equal(prepare_ok(bus, "session.exploded", NULL, err, sizeof err), -1);
	assert_int_equal(prepare_ok(bus, NULL, NULL, err, sizeof err), -1);
	json_object *arr = json_object_new_array();
	assert_int_equal(prepare_ok(bus, "user.login", arr, err, sizeof err), -1);
	assert_int_equal(prepare_ok(bus, "user.login", big, err, sizeof err), -1);
	assert_non_null(strstr(err, "frame limit"));
	/* NaN and Infinity parse in json-c but are not JSON: refused, however deep. */
	json_object *nan = json_object_new_object(), *inner = json_object_new_array();
	json_object_array_add(inner, json_object_new_double(INFINITY));
	json_object_object_add(nan, "a", inner);
	assert_int_equal(prepare_ok(bus, "user.login", nan, err, sizeof err), -1);
	assert_non_null(strstr(err, "NaN"));
	json_object_put(nan);
	nan = json_object_new_object();
	json_object_object_add(nan, "x", json_object_new_double(NAN));
	assert_int_equal(prepare_ok(bus, "user.login", nan, err, sizeof err), -1);
	json_object_put(nan);
	nan = json_object_new_object();
	json_object_object_add(nan, "x", json_object_new_double(1.5));
	assert_int_equal(prepare_ok(bus, "user.login", nan, err, sizeof err), 0);
	json_object_put(nan);
	assert_int_equal(bus_publish(bus, "user.login", big), -1);
	/* Nothing prepared and discarded was accepted. */
	assert_int_equal(bus_accepted(bus), 0);
	json_object_put(arr);
	json_object_put(big);
	free(blob);
	bus_free(bus);
}

/*
 * Prepared events are queued only when committed, in commit order, with
 * the bytes prepared; discarded ones reach nobody.
 */
static void prepare_then_commit(void **state)
{
	struct bus *bus = bus_new(&(struct bus_options){.queue_max = 16, .window = 8});
	struct bus_sub *s = sub_for(bus, "s", "*");
	struct evbuffer *out = evbuffer_new();
	json_object *d = data_with(1);
	char err[64];
	int64_t ids[4];
	struct bus_event *a = bus_prepare(bus, "user.created", d, err, sizeof err);
	struct bus_event *b = bus_prepare(bus, "user.deleted", d, err, sizeof err);
	struct bus_event *c = bus_prepare(bus, "user.updated", d, err, sizeof err);

	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_int_equal(bus_sub_flush(s, out), 0);
	bus_discard(b);
	int64_t ia = bus_commit(bus, a), ic = bus_commit(bus, c);
	assert_int_equal(bus_accepted(bus), 2);
	assert_int_equal(bus_sub_flush(s, out), 2);
	assert_int_equal(drain_ids(out, ids, 4), 2);
	assert_int_equal(ids[0], ia);
	assert_int_equal(ids[1], ic);
	json_object_put(d);
	evbuffer_free(out);
	bus_free(bus);
}

/*
 * The wake-up contract (bus.h, bus_ready_fn): the subscriber's ready
 * callback runs whenever it has something to send and room to send it -
 * on attach with a queue, on a commit while attached with room in the
 * window, and on an ack that opens the window with events still queued -
 * and never while detached or with a full window. A bus that stops waking
 * its hosts delivers nothing, so each of those calls is checked.
 */
static void wakeups(void **state)
{
	struct bus *bus = bus_new(&(struct bus_options){.queue_max = 16, .window = 2});
	struct bus_sub *s = bus_sub_new(bus, "s", on_ready, NULL);
	struct evbuffer *out = evbuffer_new();
	const char *all[] = {"*"};
	int64_t ids[4];

	bus_sub_set_patterns(s, all, 1);
	ready_calls = 0;
	/* Detached: queued, nobody woken. */
	int64_t e1 = bus_publish(bus, "user.login", NULL);
	assert_int_equal(ready_calls, 0);
	/* Attach with something queued: woken. */
	bus_sub_attach(s);
	assert_int_equal(ready_calls, 1);
	/* A commit while attached with room: woken. */
	int64_t e2 = bus_publish(bus, "user.login", NULL);
	assert_int_equal(ready_calls, 2);
	assert_int_equal(bus_sub_flush(s, out), 2);
	assert_int_equal(drain_ids(out, ids, 4), 2);
	/* Window full: a commit queues without waking. */
	bus_publish(bus, "user.login", NULL);
	assert_int_equal(ready_calls, 2);
	/* An ack that opens the window with events queued: woken. */
	assert_int_equal(bus_sub_ack(s, e1, true), 1);
	assert_int_equal(ready_calls, 3);
	/* An ack with nothing queued after the flush: not woken. */
	assert_int_equal(bus_sub_flush(s, out), 1);
	assert_int_equal(drain_ids(out, ids, 4), 1);
	assert_int_equal(bus_sub_ack(s, e2, true), 1);
	assert_int_equal(ready_calls, 3);
	/* Detached again: nothing wakes it. */
	bus_sub_detach(s, false);
	bus_publish(bus, "user.login", NULL);
	assert_int_equal(ready_calls, 3);
	evbuffer_free(out);
	bus_free(bus);
}

/* accepted == delivered + failed + poisoned + dropped + queued + inflight. */
static void assert_sum(const struct bus_sub_stats *st)
{
	uint64_t by = 0;
	for (int i = 0; i < BUS_DROP_COUNT; i++)
		by += st->dropped_by[i];
	assert_int_equal(by, st->dropped);
	assert_int_equal(st->accepted, st->delivered + st->failed + st->poisoned + st->dropped +
					   st->queued + st->inflight);
}

struct found {
	const char *name;
	struct bus_sub_stats st;
	int n;
};

static void find_account(const char *name, const struct bus_sub_stats *st, void *arg)
{
	struct found *f = arg;
	if (strcmp(name, f->name) == 0) {
		f->st = *st;
		f->n++;
	}
}

/*
 * Every accepted event is accounted per subscriber through a whole life:
 * delivered, failed, overflow (count and bytes), redelivered then poisoned
 * after crashes, and what was queued when it went away (disabled); the
 * counts outlive the subscriber and a new one carries on with them.
 */
static void every_event_accounted(void **state)
{
	struct bus *bus = bus_new(&(struct bus_options){
	    .queue_max = 8, .window = 2, .queue_bytes_max = 2000, .bytes_max = 1 << 20});
	struct bus_sub *s = sub_for(bus, "s", "*");
	struct evbuffer *out = evbuffer_new();
	struct bus_sub_stats st;
	struct found f = {.name = "s"};
	json_object *d = data_with(7), *big = json_object_new_object();
	char blob[1200];
	int64_t ids[16];

	memset(blob, 'b', sizeof blob - 1);
	blob[sizeof blob - 1] = '\0';
	json_object_object_add(big, "blob", json_object_new_string(blob));
	for (int i = 0; i < 4; i++)
		bus_publish(bus, "user.login", d);
	assert_int_equal(bus_sub_flush(s, out), 2);
	assert_int_equal(drain_ids(out, ids, 16), 2);
	assert_int_equal(bus_sub_ack(s, ids[0], true), 1);
	assert_int_equal(bus_sub_ack(s, ids[1], false), 1);
	/* One big event fits the bytes bound, the second does not: overflow by bytes. */
	bus_publish(bus, "user.login", big);
	bus_publish(bus, "user.login", big);
	bus_sub_stats(s, &st);
	assert_int_equal(st.dropped_by[BUS_DROP_OVERFLOW], 1);
	assert_true(st.bytes <= 2000);
	assert_sum(&st);
	/* Overflow by count. */
	for (int i = 0; i < 10; i++)
		bus_publish(bus, "user.login", d);
	bus_sub_stats(s, &st);
	assert_int_equal(st.queued, 8);
	assert_sum(&st);
	/*
	 * A crash with two in flight charges neither; then two crashes with
	 * the first alone in flight: redelivered twice, then poison.
	 */
	assert_int_equal(bus_sub_flush(s, out), 2);
	assert_int_equal(bus_sub_detach(s, true), 0);
	bus_sub_attach(s);
	assert_int_equal(bus_sub_flush(s, out), 1);
	assert_int_equal(bus_sub_detach(s, true), 0);
	bus_sub_attach(s);
	assert_int_equal(bus_sub_flush(s, out), 1);
	assert_int_equal(bus_sub_detach(s, true), 1);
	evbuffer_drain(out, evbuffer_get_length(out));
	bus_sub_stats(s, &st);
	assert_int_equal(st.poisoned, 1);
	assert_int_equal(st.redelivered, 2);
	assert_sum(&st);
	/* Disabled with events queued: each counted dropped (disabled), none lost. */
	size_t held = st.queued + st.inflight;
	assert_true(held > 0);
	bus_sub_free(s, BUS_DROP_DISABLED);
	bus_foreach(bus, find_account, &f);
	assert_int_equal(f.n, 1);
	assert_int_equal(f.st.dropped_by[BUS_DROP_DISABLED], held);
	assert_int_equal(f.st.queued + f.st.inflight, 0);
	assert_sum(&f.st);
	/* Enabled again: the same series go on. */
	s = sub_for(bus, "s", "*");
	bus_publish(bus, "user.login", d);
	bus_sub_stats(s, &st);
	assert_int_equal(st.accepted, f.st.accepted + 1);
	assert_int_equal(st.queued, 1);
	assert_sum(&st);
	json_object_put(d);
	json_object_put(big);
	evbuffer_free(out);
	bus_free(bus);
}

/* The whole bus is bounded in bytes: full, it says so (and counts) instead of dropping. */
static void bus_bounded_in_bytes(void **state)
{
	struct bus *bus = bus_new(&(struct bus_options){
	    .queue_max = 1000, .window = 2, .queue_bytes_max = 1 << 20, .bytes_max = 4000});
	struct bus_sub *s = sub_for(bus, "s", "*");
	struct evbuffer *out = evbuffer_new();
	json_object *d = data_with(1);
	int64_t ids[4];
	int n = 0;

	while (!bus_full(bus, 1)) {
		assert_true(bus_publish(bus, "user.login", d) > 0);
		n++;
	}
	assert_true(n > 10);
	assert_int_equal(bus_shed(bus), 1);
	struct bus_sub_stats st;
	bus_sub_stats(s, &st);
	assert_int_equal(st.dropped, 0); /* nothing accepted was dropped */
	/* Delivering frees room. */
	assert_int_equal(bus_sub_flush(s, out), 2);
	assert_int_equal(drain_ids(out, ids, 4), 2);
	assert_int_equal(bus_sub_ack(s, ids[0], true), 1);
	assert_int_equal(bus_sub_ack(s, ids[1], true), 1);
	assert_false(bus_full(bus, 1));
	assert_int_equal(bus_shed(bus), 1);
	json_object_put(d);
	evbuffer_free(out);
	bus_free(bus);
}

/*
 * Platform events reach only the subscribers that take them (admin), never
 * the plugin they are about, and cannot be made by bus_prepare (POST
 * /api/events, emits).
 */
static void platform_events(void **state)
{
	struct bus *bus = bus_new(&(struct bus_options){.queue_max = 16, .window = 4});
	struct bus_sub *admin = sub_for(bus, "admin", "*");
	struct bus_sub *other = sub_for(bus, "other", "plugin.*");
	struct bus_sub *crashy = sub_for(bus, "crashy", "plugin.*");
	struct bus_sub *sys = sub_for(bus, "sys", "system.*");
	struct evbuffer *buf = evbuffer_new();
	json_object *d = data_with(1);
	int64_t ids[8];
	char err[160];
	struct bus_sub_stats st;

	(void)state;
	bus_sub_set_platform(admin, true);
	bus_sub_set_platform(crashy, true);
	bus_sub_set_platform(sys, true);
	assert_null(bus_prepare(bus, "plugin.crashed", d, err, sizeof err));
	assert_null(bus_prepare(bus, "system.startup", d, err, sizeof err));
	assert_true(bus_publish_platform(bus, "system.bogus", NULL, d) < 0);

	int64_t crashed = bus_publish_platform(bus, "plugin.crashed", "crashy", d);
	int64_t startup = bus_publish_platform(bus, "system.startup", NULL, d);
	int64_t custom = bus_publish(bus, "plugin.crashy.ping", d);
	assert_true(crashed > 0 && startup > crashed && custom > startup);
	/* The intake's count is the custom event's alone. */
	assert_int_equal(bus_accepted(bus), 1);

	assert_int_equal(bus_sub_flush(admin, buf), 3);
	assert_int_equal(drain_ids(buf, ids, 8), 3);
	assert_int_equal(ids[0], crashed);
	assert_int_equal(ids[1], startup);
	/* Without admin "plugin.*" brings plugin events only; nothing of the platform's. */
	assert_int_equal(bus_sub_flush(other, buf), 1);
	assert_int_equal(drain_ids(buf, ids, 8), 1);
	assert_int_equal(ids[0], custom);
	bus_sub_stats(other, &st);
	assert_int_equal(st.accepted, 1);
	/* The plugin a crash is about does not hear of it. */
	assert_int_equal(bus_sub_flush(crashy, buf), 1);
	assert_int_equal(drain_ids(buf, ids, 8), 1);
	assert_int_equal(ids[0], custom);
	assert_int_equal(bus_sub_flush(sys, buf), 1);
	assert_int_equal(drain_ids(buf, ids, 8), 1);
	assert_int_equal(ids[0], startup);

	json_object_put(d);
	evbuffer_free(buf);
	bus_sub_free(admin, BUS_DROP_SHUTDOWN);
	bus_sub_free(other, BUS_DROP_SHUTDOWN);
	bus_sub_free(crashy, BUS_DROP_SHUTDOWN);
	bus_sub_free(sys, BUS_DROP_SHUTDOWN);
	bus_free(bus);
}

static int pressure_on, pressure_calls;

static void on_pressure(bool on, void *arg)
{
	(void)arg;
	assert_true(on != pressure_on); /* only the changes are told */
	pressure_on = on;
	pressure_calls++;
}

/* Publishes n events to every subscriber. */
static void publish_n(struct bus *bus, int n)
{
	json_object *d = data_with(1);
	for (int i = 0; i < n; i++)
		assert_true(bus_publish(bus, "user.login", d) > 0);
	json_object_put(d);
}

/* Flushes and acknowledges everything s has, as a host that keeps up does. */
static void deliver_all(struct bus_sub *s, struct evbuffer *out)
{
	int64_t ids[64];
	while (bus_sub_flush(s, out) > 0) {
		size_t n = drain_ids(out, ids, 64);
		for (size_t i = 0; i < n; i++)
			assert_true(bus_sub_ack(s, ids[i], true) >= 0);
	}
}

/*
 * Pressure on the ingress: a serving plugin presses from half of its queue,
 * stops at a quarter; one that was pressing when a hold ran out (slower than
 * the ingress) does not press again until it is down to a quarter; a plugin
 * whose host is gone never presses. The hook hears each change once.
 */
static void pressure_half_and_quarter(void **state)
{
	struct bus *bus = bus_new(&(struct bus_options){.queue_max = 16, .window = 4});
	struct bus_sub *a = sub_for(bus, "a", "*"), *b = sub_for(bus, "b", "*");
	struct evbuffer *out = evbuffer_new();
	struct bus_sub_stats st;
	int64_t ids[16];

	(void)state;
	pressure_on = pressure_calls = 0;
	bus_set_pressure(bus, on_pressure, NULL);
	publish_n(bus, 7);
	assert_int_equal(pressure_calls, 0);
	publish_n(bus, 1); /* 8 of 16 queued, both */
	assert_true(pressure_on);
	assert_int_equal(pressure_calls, 1);
	/* a catches up: b still presses. */
	deliver_all(a, out);
	assert_true(pressure_on);
	/* b down to 8 - 4 in flight = 4, a quarter: the last one stops. */
	assert_int_equal(bus_sub_flush(b, out), 4);
	assert_false(pressure_on);
	assert_int_equal(pressure_calls, 2);
	assert_int_equal(drain_ids(out, ids, 16), 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(bus_sub_ack(b, ids[i], true), 1);
	deliver_all(b, out);

	/* A hold runs out while b presses: b is slow, a (caught up) is not. */
	publish_n(bus, 8);
	assert_true(pressure_on);
	deliver_all(a, out);
	bus_pressure_expired(bus);
	assert_false(pressure_on);
	assert_int_equal(pressure_calls, 4);
	/* a, which keeps up, presses again when behind; slow b, behind, does not. */
	publish_n(bus, 20);
	assert_true(pressure_on);
	assert_int_equal(pressure_calls, 5);
	deliver_all(a, out);
	assert_false(pressure_on);
	/* b's overflow is dropped and counted, as for any plugin slower than the ingress. */
	bus_sub_stats(b, &st);
	assert_true(st.queued == 16 && st.dropped_by[BUS_DROP_OVERFLOW] > 0);
	/* Once caught up, b is forgiven and presses again when behind. */
	deliver_all(b, out);
	publish_n(bus, 8);
	assert_true(pressure_on);
	/* A host that is gone does not hold the ingress: its events wait. */
	deliver_all(a, out);
	assert_true(pressure_on);
	bus_sub_detach(b, false);
	assert_false(pressure_on);
	publish_n(bus, 4);
	assert_false(pressure_on);
	bus_sub_attach(b);
	assert_true(pressure_on);
	/* Freed while pressing: the hook hears it stop. */
	bus_sub_free(b, BUS_DROP_DISABLED);
	assert_false(pressure_on);
	uint64_t holds, expired;
	bus_pressure_counts(bus, &holds, &expired);
	assert_int_equal(holds, 5);
	assert_int_equal(expired, 1);
	assert_int_equal(pressure_calls, 10);
	evbuffer_free(out);
	bus_free(bus);
}

static int releases, attaches;

static void on_release(struct bus_sub *sub, void *arg)
{
	(void)sub;
	(void)arg;
	releases++;
}

static void on_attach(struct bus_sub *sub, void *arg)
{
	(void)sub;
	(void)arg;
	attaches++;
}

/*
 * Durable delivery's per-subscriber feed: bus_sub_push queues to one
 * subscriber only and refuses (uncounted) when full; the oldest durable id
 * held bounds the cursor, in flight first; hooks see acks, poison and
 * attach; a handover drops what is queued (counted) and keeps what is in
 * flight.
 */
static void push_feed_and_cursor(void **state)
{
	struct bus *bus = bus_new(&(struct bus_options){.queue_max = 4, .window = 2});
	struct bus_sub *a = bus_sub_new(bus, "a", on_ready, NULL);
	struct bus_sub *b = sub_for(bus, "b", "*");
	struct evbuffer *out = evbuffer_new();
	struct bus_sub_stats st;
	char err[128];
	int64_t ids[8];

	bus_set_hooks(bus, &(struct bus_hooks){.release = on_release, .attach = on_attach});
	bus_set_pressure(bus, on_pressure, NULL);
	releases = attaches = 0;
	pressure_on = false;
	assert_false(bus_sub_declared(a));
	assert_ptr_equal(bus_sub_find(bus, "a"), a);
	assert_null(bus_sub_find(bus, "nobody"));
	const char *p[] = {"session.*"};
	bus_sub_set_patterns(a, p, 1);
	assert_true(bus_sub_declared(a));
	bus_sub_attach(a);
	assert_int_equal(attaches, 1);
	assert_true(bus_sub_attached(a));
	assert_int_equal(bus_sub_room(a), 4);
	assert_int_equal(bus_sub_oldest_id(a, BUS_REQUEST_ID_BASE), -1);

	for (int64_t id = 10; id < 15; id++) {
		struct bus_event *ev =
		    bus_prepare_id(bus, id, "session.created", NULL, false, err, sizeof err);
		assert_non_null(ev);
		/* The fifth does not fit: refused, not dropped. */
		assert_int_equal(bus_sub_push(a, ev), id < 14);
		bus_discard(ev);
	}
	bus_sub_stats(a, &st);
	assert_int_equal(st.accepted, 4);
	assert_int_equal(st.dropped, 0);
	assert_int_equal(st.queued, 4);
	assert_int_equal(bus_sub_room(a), 0);
	assert_int_equal(bus_sub_queued(a), 4);
	/* A full durable queue is read again later: it never holds the ingress. */
	assert_false(pressure_on);
	bus_sub_stats(b, &st);
	assert_int_equal(st.accepted, 0); /* not broadcast */

	/* A platform or emitted event's id (request range) does not bound the cursor. */
	assert_int_equal(bus_sub_oldest_id(a, BUS_REQUEST_ID_BASE), 10);
	assert_int_equal(bus_sub_flush(a, out), 2);
	assert_int_equal(drain_ids(out, ids, 8), 2);
	assert_false(pressure_on);
	assert_int_equal(bus_sub_ack(a, 11, true), 0); /* out of order: 10 still held */
	assert_int_equal(releases, 1);
	assert_int_equal(bus_sub_oldest_id(a, BUS_REQUEST_ID_BASE), 10);
	assert_int_equal(bus_sub_ack(a, 10, true), 1);
	assert_int_equal(bus_sub_oldest_id(a, BUS_REQUEST_ID_BASE), 12);
	assert_int_equal(releases, 2);

	/* Handed over: the queued go (counted), the ones in flight stay. */
	struct bus_event *ev =
	    bus_prepare_id(bus, 15, "session.created", NULL, false, err, sizeof err);
	assert_true(bus_sub_push(a, ev));
	bus_discard(ev);
	assert_int_equal(bus_sub_flush(a, out), 2);
	assert_int_equal(drain_ids(out, ids, 8), 2);
	assert_int_equal(bus_sub_handover(a), 1);
	bus_sub_stats(a, &st);
	assert_int_equal(st.dropped_by[BUS_DROP_HANDOVER], 1);
	assert_int_equal(st.inflight, 2);
	assert_int_equal(bus_sub_oldest_id(a, BUS_REQUEST_ID_BASE), 12);
	assert_string_equal(bus_drop_name(BUS_DROP_HANDOVER), "handover");
	/* Every accepted event accounted for. */
	assert_int_equal(st.accepted, st.delivered + st.failed + st.poisoned + st.dropped +
					  st.queued + st.inflight);

	evbuffer_free(out);
	bus_free(bus);
}

/* Flushes and acknowledges window after window until s holds at most left queued. */
static void deliver_until(struct bus_sub *s, struct evbuffer *out, size_t left)
{
	struct bus_sub_stats st;
	int64_t ids[64];

	for (;;) {
		bus_sub_stats(s, &st);
		if (st.queued <= left)
			return;
		assert_true(bus_sub_flush(s, out) > 0);
		size_t n = drain_ids(out, ids, 64);
		for (size_t i = 0; i < n; i++)
			assert_true(bus_sub_ack(s, ids[i], true) >= 0);
	}
}

/*
 * What a hold asks of a plugin does not grow with the queue: with 8,192 it
 * presses at 4,096 and stops 1,024 below, not at a quarter; a slow one is
 * forgiven only at a quarter (2,048).
 */
static void pressure_band_bounded(void **state)
{
	struct bus *bus = bus_new(&(struct bus_options){.queue_max = 8192, .window = 1});
	struct bus_sub *a = sub_for(bus, "a", "*");
	struct evbuffer *out = evbuffer_new();

	(void)state;
	pressure_on = pressure_calls = 0;
	bus_set_pressure(bus, on_pressure, NULL);
	publish_n(bus, 4096);
	assert_true(pressure_on);
	deliver_until(a, out, 3073);
	assert_true(pressure_on);
	deliver_until(a, out, 3072);
	assert_false(pressure_on);
	/* Slow: not again at half, until it was down to a quarter. */
	publish_n(bus, 4096 - 3072);
	assert_true(pressure_on);
	bus_pressure_expired(bus);
	publish_n(bus, 1024);
	assert_false(pressure_on);
	deliver_until(a, out, 2049);
	publish_n(bus, 4096 - 2049);
	assert_false(pressure_on);
	deliver_until(a, out, 2048);
	publish_n(bus, 4096 - 2048);
	assert_true(pressure_on);
	evbuffer_free(out);
	bus_free(bus);
}

/*
 * Cumulative acks (protocol 4): n oldest in flight, the n-th being last.
 * Anything else (beyond what was sent, backwards, another id, n < 1) is
 * refused whole, with no count changed; accepted ones keep the sum exact,
 * and a failure reported by reply between two acks is attributed.
 */
static void cumulative_acks(void **state)
{
	struct bus *bus = bus_new(&(struct bus_options){.queue_max = 100, .window = 4});
	struct bus_sub *s = sub_for(bus, "s", "*");
	struct evbuffer *out = evbuffer_new();
	int64_t ids[8];
	struct bus_sub_stats st, before;

	(void)state;
	for (int i = 0; i < 6; i++)
		bus_publish(bus, "user.login", NULL);
	assert_int_equal(bus_sub_flush(s, out), 4);
	assert_int_equal(drain_ids(out, ids, 8), 4);
	bus_sub_stats(s, &before);
	/* Beyond what was sent, another id, backwards, n out of range: refused, nothing moved. */
	assert_int_equal(bus_sub_ack_n(s, 5, ids[3] + 1), -1);
	assert_int_equal(bus_sub_ack_n(s, 5, ids[3]), -1);
	assert_int_equal(bus_sub_ack_n(s, 2, ids[2]), -1);
	assert_int_equal(bus_sub_ack_n(s, 2, ids[0]), -1);
	assert_int_equal(bus_sub_ack_n(s, 0, ids[0]), -1);
	assert_int_equal(bus_sub_ack_n(s, -1, ids[0]), -1);
	assert_int_equal(bus_sub_ack_n(s, INT64_MAX, ids[3]), -1);
	assert_int_equal(bus_sub_ack_n(s, INT64_MIN, ids[3]), -1);
	bus_sub_stats(s, &st);
	assert_memory_equal(&st, &before, sizeof st);

	/* Two handled, then the third failed (its reply), then the fourth. */
	assert_int_equal(bus_sub_ack_n(s, 2, ids[1]), 0);
	/* Going back to what was just acknowledged is refused. */
	assert_int_equal(bus_sub_ack_n(s, 1, ids[1]), -1);
	assert_int_equal(bus_sub_ack(s, ids[2], false), 1);
	assert_int_equal(bus_sub_ack_n(s, 1, ids[3]), 0);
	bus_sub_stats(s, &st);
	assert_int_equal(st.delivered, 3);
	assert_int_equal(st.failed, 1);
	assert_int_equal(st.inflight, 0);
	assert_sum(&st);
	/* The window opened: the last two go out, and one ack takes both. */
	assert_int_equal(bus_sub_flush(s, out), 2);
	assert_int_equal(drain_ids(out, ids, 8), 2);
	assert_int_equal(bus_sub_ack_n(s, 2, ids[1]), 0);
	assert_int_equal(bus_sub_ack_n(s, 1, ids[1]), -1); /* nothing in flight */
	bus_sub_stats(s, &st);
	assert_int_equal(st.delivered, 5);
	assert_int_equal(st.accepted, 6);
	assert_sum(&st);
	evbuffer_free(out);
	bus_free(bus);
}

/*
 * The frame a host gets is the envelope printed around the data's own
 * serialisation: exact bytes up to "ts", then the data, and it decodes as
 * one event object (ids at both ends of the range the bus uses).
 */
static void frame_bytes(void **state)
{
	static const int64_t ids[] = {1, 9, 10, 4611686018427387904, INT64_MAX};
	struct bus *bus = bus_new(NULL);
	struct bus_sub *s = sub_for(bus, "s", "*");
	char err[160], want[128];

	(void)state;
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		json_object *data = json_tokener_parse("{\"a\":[1,\"\\u00e9\"],\"b\":null}");
		struct bus_event *ev =
		    bus_prepare_id(bus, ids[i], "plugin.x.y-z", data, false, err, sizeof err);
		struct evbuffer *out = evbuffer_new();
		unsigned char *f;
		size_t len, wl;
		json_object *m = NULL, *v;

		assert_non_null(ev);
		bus_commit(bus, ev);
		assert_int_equal(bus_sub_flush(s, out), 1);
		len = evbuffer_get_length(out);
		f = evbuffer_pullup(out, -1);
		wl = (size_t)snprintf(want, sizeof want,
				      "{\"t\":\"event\",\"id\":%" PRId64
				      ",\"type\":\"plugin.x.y-z\",\"ts\":",
				      ids[i]);
		assert_true(len > 4 + wl);
		assert_memory_equal(f + 4, want, wl);
		assert_int_equal(frame_pull(out, 1 << 20, &m, err, sizeof err), FRAME_OK);
		assert_true(json_object_object_get_ex(m, "id", &v));
		assert_true(json_object_get_int64(v) == ids[i]);
		assert_true(json_object_object_get_ex(m, "data", &v));
		assert_string_equal(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN),
				    json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN));
		assert_true(json_object_object_get_ex(m, "ts", &v));
		assert_true(json_object_is_type(v, json_type_int) && json_object_get_int64(v) > 0);
		assert_int_equal(bus_sub_ack_n(s, 1, ids[i]), 0);
		json_object_put(m);
		json_object_put(data);
		evbuffer_free(out);
	}
	bus_free(bus);
}

/*
 * An outbox row this daemon's door appended is framed from the bytes the bus
 * serialised at the door (bus_prepare_serialised), not parsed again: the same
 * data, the outbox's id, and still refused for a bad type or over the frame.
 */
static void prepare_serialised(void **state)
{
	struct bus *bus = bus_new(&(struct bus_options){.max_frame = 4096});
	json_object *data = json_tokener_parse("{\"q\": \"a\\\"b\", \"n\": [1, 2.5]}");
	char err[256], big[5000];
	struct bus_event *door, *ev;
	const char *d, *d2;
	size_t len, len2;

	(void)state;
	door = bus_prepare(bus, "session.created", data, err, sizeof err);
	assert_non_null(door);
	d = bus_event_data(door, &len);
	ev = bus_prepare_serialised(bus, 77, "session.created", d, len, err, sizeof err);
	assert_non_null(ev);
	d2 = bus_event_data(ev, &len2);
	assert_int_equal(len2, len);
	assert_memory_equal(d2, d, len);
	assert_string_equal(bus_event_type(ev), "session.created");
	assert_false(bus_event_platform(ev));
	bus_discard(ev);
	assert_null(bus_prepare_serialised(bus, 78, "nope", d, len, err, sizeof err));
	memset(big, ' ', sizeof big);
	big[0] = '{';
	big[sizeof big - 1] = '}';
	assert_null(
	    bus_prepare_serialised(bus, 79, "session.created", big, sizeof big, err, sizeof err));
	assert_non_null(strstr(err, "over the frame limit"));
	bus_discard(door);
	json_object_put(data);
	bus_free(bus);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(fanout_in_order),
	    cmocka_unit_test(window_and_acks),
	    cmocka_unit_test(cumulative_acks),
	    cmocka_unit_test(frame_bytes),
	    cmocka_unit_test(overflow_counted),
	    cmocka_unit_test(redeliver_then_poison),
	    cmocka_unit_test(crash_suspects_window_one),
	    cmocka_unit_test(prepare_rules),
	    cmocka_unit_test(prepare_then_commit),
	    cmocka_unit_test(wakeups),
	    cmocka_unit_test(every_event_accounted),
	    cmocka_unit_test(bus_bounded_in_bytes),
	    cmocka_unit_test(platform_events),
	    cmocka_unit_test(pressure_half_and_quarter),
	    cmocka_unit_test(push_feed_and_cursor),
	    cmocka_unit_test(pressure_band_bounded),
	    cmocka_unit_test(prepare_serialised),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
