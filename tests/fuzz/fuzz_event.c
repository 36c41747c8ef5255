/*
 * libFuzzer target for the way an event crosses the daemon: the input is a
 * POST /api/events body, decoded as the API decodes it (json-c, strict,
 * UTF-8 checked, 64 deep), prepared event by event with bus_prepare, and
 * what it accepts is published on a real bus (daemon/runtime/bus.c) with one
 * subscriber. Every frame the bus then hands to a host must decode with the
 * host's own decoder (frame_pull) into the same type and data: an event the
 * daemon accepts must never be one that ends every host that receives it.
 */
#include <event2/buffer.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "frame.h"
#include "json.h"
#include "msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_event: %s:%d: check failed: %s\n", __FILE__,         \
				__LINE__, #cond);                                                  \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#define MAX_EVENTS 64

static struct bus *bus;
static struct bus_sub *sub;

static void ready(struct bus_sub *s, void *arg)
{
	(void)s;
	(void)arg;
}

static void setup(void)
{
	static const char *const all[] = {"*"};

	bus = bus_new(&(struct bus_options){
	    .queue_max = 4 * MAX_EVENTS, .window = 4 * MAX_EVENTS, .max_frame = FRAME_MAX_DEFAULT});
	sub = bus_sub_new(bus, "fuzz", ready, NULL);
	bus_sub_set_patterns(sub, all, 1);
	bus_sub_attach(sub);
}

/* The body as api_read_json takes it: the same reader, the same depth. */
static json_object *decode_body(const uint8_t *data, size_t size)
{
	return json_read((const char *)data, size, JSON_INPUT_DEPTH, NULL, 0);
}

/* Publishes ev if the daemon would accept it; returns its id or 0. */
static int64_t offer(json_object *ev, const char **type, json_object **evdata)
{
	char err[256];
	json_object *d = NULL;
	const char *t;

	if (!json_object_is_type(ev, json_type_object))
		return 0;
	t = msg_get_str(ev, "type");
	json_object_object_get_ex(ev, "data", &d);
	struct bus_event *prepared = bus_prepare(bus, t, d, err, sizeof err);
	if (prepared == NULL)
		return 0;
	*type = t;
	*evdata = d;
	return bus_commit(bus, prepared);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object *body, *evdata[MAX_EVENTS];
	const char *types[MAX_EVENTS];
	int64_t ids[MAX_EVENTS];
	struct evbuffer *out;
	size_t n = 0, count;

	if (bus == NULL)
		setup();
	if (size == 0 || size > (1 << 20))
		return 0;
	body = decode_body(data, size);
	if (body == NULL)
		return 0;
	count = json_object_is_type(body, json_type_array) ? json_object_array_length(body) : 1;
	for (size_t i = 0; i < count && n < MAX_EVENTS; i++) {
		json_object *ev = json_object_is_type(body, json_type_array)
				      ? json_object_array_get_idx(body, i)
				      : body;
		int64_t id = offer(ev, &types[n], &evdata[n]);
		if (id != 0) {
			CHECK(id > 0);
			CHECK(n == 0 || id > ids[n - 1]);
			ids[n++] = id;
		}
	}

	/* What a host receives: each accepted event, in order, decodable, intact. */
	out = evbuffer_new();
	CHECK(bus_sub_flush(sub, out) == n);
	for (size_t i = 0; i < n; i++) {
		json_object *m = NULL, *d = NULL;
		char err[128] = "";
		int64_t id = 0;
		enum frame_result r = frame_pull(out, FRAME_MAX_DEFAULT, &m, err, sizeof err);

		if (r != FRAME_OK) {
			fprintf(stderr, "fuzz_event: an accepted event's frame is refused: %s\n",
				err);
			abort();
		}
		CHECK(msg_type_of(m) == MSG_EVENT);
		CHECK(msg_get_int(m, "id", &id) && id == ids[i]);
		CHECK(strcmp(msg_get_str(m, "type"), types[i]) == 0);
		d = msg_get_obj(m, "data");
		CHECK(d != NULL);
		/* Serialised text, not json_object_equal: NaN is not equal to itself. */
		CHECK(strcmp(json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN),
			     evdata[i]
				 ? json_object_to_json_string_ext(evdata[i], JSON_C_TO_STRING_PLAIN)
				 : "{}") == 0);
		json_object_put(m);
		CHECK(bus_sub_ack(sub, ids[i], true) == 1);
	}
	CHECK(evbuffer_get_length(out) == 0);
	evbuffer_free(out);
	json_object_put(body);
	return 0;
}
