/*
 * libFuzzer target for the frame decoder (proto/frame.c), which reads every
 * byte a plugin host sends. The first input byte picks the frame limit; the
 * rest is a byte stream decoded twice: whole with frame_parse, and trickled
 * into an evbuffer in input-chosen pieces with frame_pull. Both must see the
 * same frames and end the same way, and every frame decoded must re-encode
 * to bytes that decode to the same object, and a fixed frame decoded after
 * it must decode as always. A difference aborts.
 */
#include <event2/buffer.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

#define MAX_FRAMES 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_frame: %s:%d: check failed: %s\n", __FILE__,         \
				__LINE__, #cond);                                                  \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

struct run {
	char *frames[MAX_FRAMES]; /* each frame's object, serialised */
	size_t n;
	enum frame_result end; /* FRAME_NEED_MORE or FRAME_ERROR */
};

static void run_free(struct run *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->frames[i]);
}

/* Checks one decoded object and records its serialisation. */
static void record(struct run *r, json_object *o)
{
	const char *s;
	size_t len = 0, enc_len = 0, consumed = 0;
	unsigned char *enc;
	json_object *again = NULL;
	char *copy;

	CHECK(o != NULL);
	CHECK(json_object_is_type(o, json_type_object));
	s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
	CHECK(s != NULL && len > 0);
	copy = malloc(len + 1);
	CHECK(copy != NULL);
	memcpy(copy, s, len + 1);

	/*
	 * Re-encoding what we accepted gives a frame we accept again, holding
	 * the same text (text, not json_object_equal: NaN is not equal to itself).
	 */
	enc = frame_encode(o, SIZE_MAX, &enc_len);
	CHECK(enc != NULL);
	CHECK(enc_len == FRAME_HEADER_LEN + len);
	CHECK(frame_parse(enc, enc_len, enc_len, &consumed, &again, NULL, 0) == FRAME_OK);
	CHECK(consumed == enc_len);
	CHECK(strcmp(json_object_to_json_string_ext(again, JSON_C_TO_STRING_PLAIN), copy) == 0);
	json_object_put(again);
	free(enc);
	r->frames[r->n++] = copy;
}

static void decode_whole(const uint8_t *buf, size_t len, size_t max, struct run *r)
{
	size_t off = 0;

	r->end = FRAME_NEED_MORE;
	while (r->n < MAX_FRAMES) {
		json_object *o = (json_object *)1;
		size_t consumed = 99;
		char err[128] = "";
		enum frame_result res =
		    frame_parse(buf + off, len - off, max, &consumed, &o, err, sizeof err);
		if (res != FRAME_OK) {
			CHECK(o == NULL && consumed == 0);
			/* An error always says why. */
			CHECK(res == FRAME_NEED_MORE || err[0] != '\0');
			r->end = res;
			return;
		}
		CHECK(consumed > FRAME_HEADER_LEN && consumed <= len - off);
		CHECK(consumed - FRAME_HEADER_LEN <= max);
		off += consumed;
		record(r, o);
		json_object_put(o);
	}
}

/* Piece sizes come from the input itself so the fuzzer steers the splits. */
static void decode_trickled(const uint8_t *buf, size_t len, size_t max, struct run *r)
{
	struct evbuffer *in = evbuffer_new();
	size_t off = 0, k = 0;

	CHECK(in != NULL);
	r->end = FRAME_NEED_MORE;
	while (r->n < MAX_FRAMES) {
		json_object *o = (json_object *)1;
		size_t before = evbuffer_get_length(in);
		enum frame_result res = frame_pull(in, max, &o, NULL, 0);
		if (res == FRAME_OK) {
			record(r, o);
			json_object_put(o);
			CHECK(evbuffer_get_length(in) < before);
			continue;
		}
		CHECK(o == NULL);
		CHECK(evbuffer_get_length(in) == before); /* nothing drained */
		if (res == FRAME_ERROR || off == len) {
			r->end = res;
			break;
		}
		{
			size_t piece = 1 + (size_t)(buf[k++ % len] % 7);
			if (piece > len - off)
				piece = len - off;
			CHECK(evbuffer_add(in, buf + off, piece) == 0);
			off += piece;
		}
	}
	evbuffer_free(in);
}

/*
 * Whatever the input did, the next frame decodes the same: the decoder keeps
 * no state from one frame to the next (it once kept a half-read \u escape).
 */
static void check_canary(void)
{
	static const char body[] = "{\"c\":\"\\u00e9\\ud83d\\ude00\"}";
	unsigned char frame[64];
	size_t used = 0;
	json_object *o = NULL;

	frame_header(frame, sizeof body - 1);
	memcpy(frame + FRAME_HEADER_LEN, body, sizeof body - 1);
	CHECK(frame_parse(frame, FRAME_HEADER_LEN + sizeof body - 1, 64, &used, &o, NULL, 0) ==
	      FRAME_OK);
	CHECK(strcmp(json_object_get_string(json_object_object_get(o, "c")),
		     "\xc3\xa9\xf0\x9f\x98\x80") == 0);
	json_object_put(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run whole = {0}, trickled = {0};
	size_t max;

	if (size < 1)
		return 0;
	/* Small limits reach the over-maximum path; 0xff means the default. */
	max = data[0] == 0xff ? FRAME_MAX_DEFAULT : (size_t)data[0] * 2 + 1;
	data++;
	size--;

	decode_whole(data, size, max, &whole);
	decode_trickled(data, size, max, &trickled);
	CHECK(whole.n == trickled.n);
	for (size_t i = 0; i < whole.n; i++)
		CHECK(strcmp(whole.frames[i], trickled.frames[i]) == 0);
	if (whole.n < MAX_FRAMES)
		CHECK(whole.end == trickled.end);
	run_free(&whole);
	run_free(&trickled);
	check_canary();
	return 0;
}
