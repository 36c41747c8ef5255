/*
 * Unit tests of proto/frame.c: the length prefix is checked before the body
 * is waited for, partial input is never mistaken for a frame, and a body is
 * exactly one strict JSON object in valid UTF-8 (PROTOCOL.md, "Framing").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/buffer.h>

#include "frame.h"
#include "json.h"
#include "utf8.h"

#define ERRLEN 160

/* Builds header + body in a new buffer; *len receives the total. */
static unsigned char *mkframe(const char *body, size_t n, size_t *len)
{
	unsigned char *buf = malloc(FRAME_HEADER_LEN + n + 1);
	assert_non_null(buf);
	frame_header(buf, (uint32_t)n);
	memcpy(buf + FRAME_HEADER_LEN, body, n);
	*len = FRAME_HEADER_LEN + n;
	return buf;
}

/* Parses a body wrapped in its frame; returns the result, *out as frame_parse. */
static enum frame_result parse_body_n(const char *body, size_t n, json_object **out, char *err)
{
	size_t len, consumed = 99;
	unsigned char *buf = mkframe(body, n, &len);
	enum frame_result r = frame_parse(buf, len, FRAME_MAX_DEFAULT, &consumed, out, err, ERRLEN);
	if (r == FRAME_OK)
		assert_int_equal(consumed, len);
	else
		assert_int_equal(consumed, 0);
	free(buf);
	return r;
}

/* Asserts that body is refused, and that the reason mentions want (if not NULL). */
static void assert_refused(const char *body, size_t n, const char *want)
{
	json_object *o = (json_object *)0x1;
	char err[ERRLEN] = "";
	enum frame_result r = parse_body_n(body, n, &o, err);
	if (r != FRAME_ERROR) {
		json_object_put(o);
		fail_msg("accepted %.*s (result %d)", (int)n, body, r);
	}
	assert_null(o);
	assert_true(err[0] != '\0');
	if (want != NULL && strstr(err, want) == NULL)
		fail_msg("error \"%s\" does not mention \"%s\" (body %.*s)", err, want, (int)n,
			 body);
}

static void assert_accepted(const char *body, size_t n)
{
	json_object *o = NULL;
	char err[ERRLEN] = "";
	if (parse_body_n(body, n, &o, err) != FRAME_OK)
		fail_msg("refused %.*s: %s", (int)n, body, err);
	assert_true(json_object_is_type(o, json_type_object));
	json_object_put(o);
}

static void test_header_is_big_endian(void **state)
{
	unsigned char h[FRAME_HEADER_LEN];
	(void)state;
	frame_header(h, 0x01020304u);
	assert_int_equal(h[0], 1);
	assert_int_equal(h[1], 2);
	assert_int_equal(h[2], 3);
	assert_int_equal(h[3], 4);
	frame_header(h, UINT32_MAX);
	for (int i = 0; i < FRAME_HEADER_LEN; i++)
		assert_int_equal(h[i], 0xff);
	frame_header(h, 2);
	assert_memory_equal(h, "\0\0\0\2", 4);
}

static void test_short_header_needs_more(void **state)
{
	const unsigned char buf[] = {0, 0, 0, 2, '{', '}'};
	json_object *o = (json_object *)0x1;
	size_t consumed = 7;
	(void)state;
	for (size_t n = 0; n < FRAME_HEADER_LEN; n++) {
		assert_int_equal(frame_parse(buf, n, 16, &consumed, &o, NULL, 0), FRAME_NEED_MORE);
		assert_null(o);
		assert_int_equal(consumed, 0);
	}
}

static void test_length_zero_is_error(void **state)
{
	const unsigned char buf[] = {0, 0, 0, 0, '{', '}'};
	json_object *o = NULL;
	size_t consumed;
	char err[ERRLEN] = "";
	(void)state;
	/* Refused on the header alone and with bytes behind it alike. */
	assert_int_equal(frame_parse(buf, 4, 1024, &consumed, &o, err, sizeof err), FRAME_ERROR);
	assert_non_null(strstr(err, "length 0"));
	assert_int_equal(frame_parse(buf, sizeof buf, 1024, &consumed, &o, err, sizeof err),
			 FRAME_ERROR);
	assert_null(o);
}

static void test_length_over_max_refused_on_header(void **state)
{
	unsigned char hdr[FRAME_HEADER_LEN];
	json_object *o = NULL;
	size_t consumed;
	char err[ERRLEN] = "";
	(void)state;
	/* Only the 4 header bytes: the decoder must not wait for 101 more. */
	frame_header(hdr, 101);
	assert_int_equal(frame_parse(hdr, sizeof hdr, 100, &consumed, &o, err, sizeof err),
			 FRAME_ERROR);
	assert_non_null(strstr(err, "101"));
	assert_non_null(strstr(err, "100"));
	/* Exactly max is allowed: the header alone needs the body. */
	frame_header(hdr, 100);
	assert_int_equal(frame_parse(hdr, sizeof hdr, 100, &consumed, &o, err, sizeof err),
			 FRAME_NEED_MORE);
	/* Default maximum: one over 1 MiB. */
	frame_header(hdr, FRAME_MAX_DEFAULT + 1);
	assert_int_equal(
	    frame_parse(hdr, sizeof hdr, FRAME_MAX_DEFAULT, &consumed, &o, err, sizeof err),
	    FRAME_ERROR);
	frame_header(hdr, FRAME_MAX_DEFAULT);
	assert_int_equal(
	    frame_parse(hdr, sizeof hdr, FRAME_MAX_DEFAULT, &consumed, &o, err, sizeof err),
	    FRAME_NEED_MORE);
}

static void test_4gib_prefix(void **state)
{
	const unsigned char hdr[] = {0xff, 0xff, 0xff, 0xff};
	const unsigned char hdr2[] = {0x80, 0x00, 0x00, 0x00};
	json_object *o = NULL;
	size_t consumed;
	char err[ERRLEN] = "";
	(void)state;
	assert_int_equal(
	    frame_parse(hdr, sizeof hdr, FRAME_MAX_DEFAULT, &consumed, &o, err, sizeof err),
	    FRAME_ERROR);
	assert_non_null(strstr(err, "4294967295"));
	/* A prefix with the top bit set must not turn negative anywhere. */
	assert_int_equal(
	    frame_parse(hdr2, sizeof hdr2, FRAME_MAX_DEFAULT, &consumed, &o, err, sizeof err),
	    FRAME_ERROR);
	assert_non_null(strstr(err, "2147483648"));
	assert_null(o);
}

static void test_exact_max_body_accepted(void **state)
{
	/* {"a":"xxx...x"} of exactly max bytes. */
	const size_t max = 300;
	char body[300];
	size_t len, consumed;
	unsigned char *buf;
	json_object *o = NULL;
	(void)state;
	memcpy(body, "{\"a\":\"", 6);
	memset(body + 6, 'x', max - 8);
	memcpy(body + max - 2, "\"}", 2);
	buf = mkframe(body, max, &len);
	assert_int_equal(frame_parse(buf, len, max, &consumed, &o, NULL, 0), FRAME_OK);
	assert_int_equal(consumed, len);
	assert_int_equal(json_object_get_string_len(json_object_object_get(o, "a")), max - 8);
	json_object_put(o);
	assert_int_equal(frame_parse(buf, len, max - 1, &consumed, &o, NULL, 0), FRAME_ERROR);
	free(buf);
}

static void test_split_byte_by_byte_parse(void **state)
{
	const char *body = "{\"t\":\"event\",\"id\":7,\"data\":{\"k\":[1,2,3]}}";
	size_t len, consumed;
	unsigned char *buf = mkframe(body, strlen(body), &len);
	json_object *o = NULL;
	(void)state;
	for (size_t n = 0; n < len; n++) {
		enum frame_result r =
		    frame_parse(buf, n, FRAME_MAX_DEFAULT, &consumed, &o, NULL, 0);
		if (r != FRAME_NEED_MORE)
			fail_msg("prefix of %zu of %zu bytes gave %d", n, len, r);
		assert_null(o);
	}
	assert_int_equal(frame_parse(buf, len, FRAME_MAX_DEFAULT, &consumed, &o, NULL, 0),
			 FRAME_OK);
	assert_int_equal(consumed, len);
	assert_int_equal(json_object_get_int(json_object_object_get(o, "id")), 7);
	json_object_put(o);
	free(buf);
}

static void test_split_byte_by_byte_pull(void **state)
{
	/* Two frames trickled into an evbuffer one byte (one chain) at a time. */
	const char *b1 = "{\"t\":\"ping\",\"id\":1}";
	const char *b2 = "{\"t\":\"ping\",\"id\":2,\"pad\":\"\xc3\xa9\"}";
	size_t l1, l2;
	unsigned char *f1 = mkframe(b1, strlen(b1), &l1);
	unsigned char *f2 = mkframe(b2, strlen(b2), &l2);
	unsigned char *all = malloc(l1 + l2);
	struct evbuffer *in = evbuffer_new();
	json_object *o = NULL;
	int64_t seen = 0;
	(void)state;
	assert_non_null(all);
	memcpy(all, f1, l1);
	memcpy(all + l1, f2, l2);
	for (size_t i = 0; i < l1 + l2; i++) {
		enum frame_result r;
		char err[ERRLEN] = "";
		assert_int_equal(evbuffer_add(in, all + i, 1), 0);
		r = frame_pull(in, FRAME_MAX_DEFAULT, &o, err, sizeof err);
		if (r == FRAME_ERROR)
			fail_msg("byte %zu: %s", i, err);
		if (r == FRAME_NEED_MORE) {
			assert_null(o);
			continue;
		}
		seen++;
		assert_int_equal(json_object_get_int64(json_object_object_get(o, "id")), seen);
		json_object_put(o);
		/* Each frame completes on its last byte, and is drained whole. */
		assert_true(i + 1 == l1 || i + 1 == l1 + l2);
		assert_int_equal(evbuffer_get_length(in), 0);
	}
	assert_int_equal(seen, 2);
	evbuffer_free(in);
	free(all);
	free(f1);
	free(f2);
}

static void test_need_more_leaves_buffer(void **state)
{
	const char *body = "{\"t\":\"ping\",\"id\":1}";
	size_t len;
	unsigned char *f = mkframe(body, strlen(body), &len);
	struct evbuffer *in = evbuffer_new();
	json_object *o = NULL;
	(void)state;
	evbuffer_add(in, f, len - 1);
	assert_int_equal(frame_pull(in, FRAME_MAX_DEFAULT, &o, NULL, 0), FRAME_NEED_MORE);
	assert_int_equal(evbuffer_get_length(in), len - 1);
	evbuffer_add(in, f + len - 1, 1);
	assert_int_equal(frame_pull(in, FRAME_MAX_DEFAULT, &o, NULL, 0), FRAME_OK);
	assert_int_equal(evbuffer_get_length(in), 0);
	json_object_put(o);
	assert_int_equal(frame_pull(in, FRAME_MAX_DEFAULT, &o, NULL, 0), FRAME_NEED_MORE);
	assert_null(o);
	evbuffer_free(in);
	free(f);
}

static void test_pull_checks_length_before_body(void **state)
{
	unsigned char hdr[FRAME_HEADER_LEN];
	struct evbuffer *in = evbuffer_new();
	json_object *o = NULL;
	char err[ERRLEN] = "";
	(void)state;
	frame_header(hdr, 0xffffffffu);
	evbuffer_add(in, hdr, sizeof hdr);
	assert_int_equal(frame_pull(in, FRAME_MAX_DEFAULT, &o, err, sizeof err), FRAME_ERROR);
	assert_non_null(strstr(err, "maximum"));
	evbuffer_drain(in, evbuffer_get_length(in));
	frame_header(hdr, 0);
	evbuffer_add(in, hdr, sizeof hdr);
	assert_int_equal(frame_pull(in, FRAME_MAX_DEFAULT, &o, err, sizeof err), FRAME_ERROR);
	assert_non_null(strstr(err, "length 0"));
	evbuffer_drain(in, evbuffer_get_length(in));
	/* One over a small max, with only the header present. */
	frame_header(hdr, 65);
	evbuffer_add(in, hdr, sizeof hdr);
	assert_int_equal(frame_pull(in, 64, &o, err, sizeof err), FRAME_ERROR);
	assert_null(o);
	evbuffer_free(in);
}

static void test_two_frames_in_one_buffer(void **state)
{
	const char *b1 = "{\"n\":1}";
	const char *b2 = "{\"n\":2,\"s\":\"two\"}";
	size_t l1, l2, consumed;
	unsigned char *f1 = mkframe(b1, strlen(b1), &l1);
	unsigned char *f2 = mkframe(b2, strlen(b2), &l2);
	unsigned char buf[64];
	json_object *o = NULL;
	struct evbuffer *in = evbuffer_new();
	(void)state;
	memcpy(buf, f1, l1);
	memcpy(buf + l1, f2, l2);
	/* frame_parse takes the first and says how far it went. */
	assert_int_equal(frame_parse(buf, l1 + l2, 64, &consumed, &o, NULL, 0), FRAME_OK);
	assert_int_equal(consumed, l1);
	assert_int_equal(json_object_get_int(json_object_object_get(o, "n")), 1);
	json_object_put(o);
	assert_int_equal(
	    frame_parse(buf + consumed, l1 + l2 - consumed, 64, &consumed, &o, NULL, 0), FRAME_OK);
	assert_int_equal(consumed, l2);
	assert_int_equal(json_object_get_int(json_object_object_get(o, "n")), 2);
	json_object_put(o);
	/* frame_pull drains one frame per call. */
	evbuffer_add(in, buf, l1 + l2);
	assert_int_equal(frame_pull(in, 64, &o, NULL, 0), FRAME_OK);
	assert_int_equal(json_object_get_int(json_object_object_get(o, "n")), 1);
	json_object_put(o);
	assert_int_equal(evbuffer_get_length(in), l2);
	assert_int_equal(frame_pull(in, 64, &o, NULL, 0), FRAME_OK);
	assert_int_equal(json_object_get_int(json_object_object_get(o, "n")), 2);
	json_object_put(o);
	assert_int_equal(frame_pull(in, 64, &o, NULL, 0), FRAME_NEED_MORE);
	evbuffer_free(in);
	free(f1);
	free(f2);
}

static void test_good_frame_then_bad_frame(void **state)
{
	/* A valid frame followed by a zero-length one: the first still decodes. */
	const char *b1 = "{\"n\":1}";
	size_t l1;
	unsigned char *f1 = mkframe(b1, strlen(b1), &l1);
	const unsigned char zero[] = {0, 0, 0, 0};
	struct evbuffer *in = evbuffer_new();
	json_object *o = NULL;
	(void)state;
	evbuffer_add(in, f1, l1);
	evbuffer_add(in, zero, sizeof zero);
	assert_int_equal(frame_pull(in, 64, &o, NULL, 0), FRAME_OK);
	json_object_put(o);
	assert_int_equal(frame_pull(in, 64, &o, NULL, 0), FRAME_ERROR);
	assert_null(o);
	evbuffer_free(in);
	free(f1);
}

static void test_body_spanning_chains(void **state)
{
	/* A body added in many small evbuffer chains is pulled up correctly. */
	char body[2048];
	unsigned char hdr[FRAME_HEADER_LEN];
	struct evbuffer *in = evbuffer_new();
	json_object *o = NULL;
	size_t n;
	(void)state;
	n = (size_t)snprintf(body, sizeof body, "{\"a\":\"%01500d\"}", 0);
	frame_header(hdr, (uint32_t)n);
	evbuffer_add(in, hdr, 2);
	evbuffer_add(in, hdr + 2, 2);
	for (size_t i = 0; i < n; i += 7)
		evbuffer_add(in, body + i, n - i < 7 ? n - i : 7);
	evbuffer_add(in, "\0\0", 2); /* the start of a next frame stays */
	assert_int_equal(frame_pull(in, FRAME_MAX_DEFAULT, &o, NULL, 0), FRAME_OK);
	assert_int_equal(json_object_get_string_len(json_object_object_get(o, "a")), 1500);
	assert_int_equal(evbuffer_get_length(in), 2);
	json_object_put(o);
	evbuffer_free(in);
}

static void test_invalid_utf8(void **state)
{
	(void)state;
	assert_refused("{\"a\":\"\xff\"}", 9, "utf-8");
	assert_refused("{\"\xfe\":1}", 8, "utf-8");
	/* A truncated multi-byte sequence. */
	assert_refused("{\"a\":\"\xe2\x82\"}", 10, "utf-8");
	/* A lone continuation byte. */
	assert_refused("{\"a\":\"\x80\"}", 9, "utf-8");
	/* Valid two-, three- and four-byte sequences pass. */
	assert_accepted("{\"a\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}", 17);
}

/*
 * RFC 3629 UTF-8: the decoder must refuse what json-c's own check lets
 * through: overlong forms, encoded surrogates and code points past U+10FFFF.
 */
static void test_invalid_utf8_strict(void **state)
{
	(void)state;
	/* Overlong NUL and overlong '/'. */
	assert_refused("{\"a\":\"\xc0\x80\"}", 10, "utf-8");
	assert_refused("{\"a\":\"\xe0\x80\xaf\"}", 11, "utf-8");
	/* U+D800, a surrogate, encoded directly. */
	assert_refused("{\"a\":\"\xed\xa0\x80\"}", 11, "utf-8");
	/* U+110000 and the bytes that can never appear. */
	assert_refused("{\"a\":\"\xf4\x90\x80\x80\"}", 12, "utf-8");
	assert_refused("{\"a\":\"\xf5\x80\x80\x80\"}", 12, "utf-8");
	assert_refused("{\"a\":\"\xc1\xbf\"}", 10, "utf-8");
	/* The largest code point and the last before the surrogates pass. */
	assert_accepted("{\"a\":\"\xf4\x8f\xbf\xbf\xed\x9f\xbf\"}", 15);
}

/* The validator on its own, as the daemon uses it on data it did not parse with us. */
static void test_utf8_valid_function(void **state)
{
	static const struct {
		const char *s;
		size_t n;
		bool ok;
	} cases[] = {
	    {"", 0, true},
	    {"plain ascii", 11, true},
	    {"\x00", 1, true},
	    {"\xc2\x80", 2, true},
	    {"\xdf\xbf", 2, true},
	    {"\xe0\xa0\x80", 3, true},
	    {"\xed\x9f\xbf", 3, true},
	    {"\xee\x80\x80", 3, true},
	    {"\xef\xbf\xbd", 3, true},
	    {"\xf0\x90\x80\x80", 4, true},
	    {"\xf4\x8f\xbf\xbf", 4, true},
	    {"\x80", 1, false},
	    {"\xbf", 1, false},
	    {"\xc0\x80", 2, false},
	    {"\xc1\xbf", 2, false},
	    {"\xc2", 1, false},
	    {"\xc2\x41", 2, false},
	    {"\xe0\x80\x80", 3, false},
	    {"\xe0\x9f\xbf", 3, false},
	    {"\xed\xa0\x80", 3, false},
	    {"\xed\xbf\xbf", 3, false},
	    {"\xe2\x82", 2, false},
	    {"\xf0\x80\x80\x80", 4, false},
	    {"\xf0\x8f\xbf\xbf", 4, false},
	    {"\xf4\x90\x80\x80", 4, false},
	    {"\xf5\x80\x80\x80", 4, false},
	    {"\xf8\x88\x80\x80\x80", 5, false},
	    {"\xfe", 1, false},
	    {"\xff", 1, false},
	    {"ok\xe2\x82\xac then \xe2\x82", 14, false},
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (utf8_valid((const unsigned char *)cases[i].s, cases[i].n) != cases[i].ok)
			fail_msg("case %zu: want %d", i, cases[i].ok);
}

static void test_not_json(void **state)
{
	(void)state;
	assert_refused("{", 1, NULL);
	assert_refused("{\"a\":", 5, NULL);
	assert_refused("}", 1, NULL);
	assert_refused("hello", 5, NULL);
	assert_refused("{\"a\":1 \"b\":2}", 13, NULL);
	/* Strict mode: no single quotes, trailing commas, comments, bare words. */
	assert_refused("{\"a\":'x'}", 9, NULL);
	assert_refused("{\"a\":1,}", 8, NULL);
	assert_refused("{/*c*/}", 7, NULL);
	assert_refused("{\"a\":True}", 10, NULL);
	assert_refused("{\"a\":01}", 8, NULL);
	assert_refused("{\"a\":.5}", 8, NULL);
	assert_refused("{\"a\":\"\\x41\"}", 12, NULL);
	assert_refused("{a:1}", 5, NULL);
}

static void test_trailing_bytes(void **state)
{
	(void)state;
	assert_refused("{}x", 3, NULL);
	assert_refused("{}{}", 4, NULL);
	assert_refused("{} x", 4, NULL);
	assert_refused("{\"a\":1}]", 8, NULL);
	/* A NUL after the object is a byte too. */
	assert_refused("{}\0", 3, "trailing");
	assert_refused("{\"a\":1}\0\0\0\0", 11, "trailing");
	/* JSON whitespace around the value is part of the value's text. */
	assert_accepted(" {} ", 4);
	assert_accepted("{}\n", 3);
}

static void test_not_an_object(void **state)
{
	(void)state;
	assert_refused("[]", 2, "object");
	assert_refused("[{}]", 4, "object");
	assert_refused("\"s\"", 3, "object");
	assert_refused("true", 4, NULL);
	/* Scalars without a delimiter are refused too (the body ends inside them). */
	assert_refused("1", 1, NULL);
	assert_refused("null", 4, NULL);
	assert_refused(" ", 1, NULL);
}

/*
 * Depth: a value nested inside k containers is at depth k+1, and no value may
 * be deeper than JSON_MAX_DEPTH (the innermost scalar counts as a level).
 */
static size_t nest(char *out, int containers, const char *inner)
{
	size_t k = 0;
	for (int i = 0; i < containers; i++) {
		memcpy(out + k, "{\"a\":", 5);
		k += 5;
	}
	k += (size_t)sprintf(out + k, "%s", inner);
	for (int i = 0; i < containers; i++)
		out[k++] = '}';
	return k;
}

static void test_depth_limit(void **state)
{
	char buf[2048];
	size_t n;
	(void)state;
	n = nest(buf, JSON_MAX_DEPTH - 1, "1");
	assert_accepted(buf, n);
	n = nest(buf, JSON_MAX_DEPTH - 1, "{}");
	assert_accepted(buf, n);
	n = nest(buf, JSON_MAX_DEPTH, "1");
	assert_refused(buf, n, "deep");
	n = nest(buf, JSON_MAX_DEPTH, "{}");
	assert_refused(buf, n, "deep");
	n = nest(buf, 200, "1");
	assert_refused(buf, n, "deep");
	/* Arrays count the same as objects. */
	for (int depth = JSON_MAX_DEPTH - 1; depth <= JSON_MAX_DEPTH; depth++) {
		n = 0;
		buf[n++] = '{';
		memcpy(buf + n, "\"a\":", 4);
		n += 4;
		memset(buf + n, '[', (size_t)depth);
		n += (size_t)depth;
		memset(buf + n, ']', (size_t)depth);
		n += (size_t)depth;
		buf[n++] = '}';
		if (depth == JSON_MAX_DEPTH - 1)
			assert_accepted(buf, n);
		else
			assert_refused(buf, n, "deep");
	}
}

/*
 * A body that fails inside a \u escape must leave nothing behind for the next
 * one (which may come from another peer): no U+FFFD out of a stale surrogate.
 */
static void test_no_state_after_failed_body(void **state)
{
	static const char *const broken[] = {
	    "{\"a\":\"\\ud800",	     "{\"a\":\"\\ud800\\", "{\"a\":\"\\ud800\\u",
	    "{\"a\":\"\\ud800\\ud8", "{\"\\udbff",	   "{\"a\":[\"\\ud800\"",
	};
	(void)state;
	for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
		json_object *o = NULL;
		char err[ERRLEN] = "";
		const char *good = "{\"b\":\"\\u00e9\"}";
		assert_int_equal(parse_body_n(broken[i], strlen(broken[i]), &o, err), FRAME_ERROR);
		assert_int_equal(parse_body_n(good, strlen(good), &o, err), FRAME_OK);
		if (strcmp(json_object_get_string(json_object_object_get(o, "b")), "\xc3\xa9") !=
		    0) {
			json_object_put(o);
			fail_msg("after %s the next body decoded differently", broken[i]);
		}
		json_object_put(o);
	}
}

static void test_err_optional_and_truncated(void **state)
{
	const unsigned char zero[] = {0, 0, 0, 0};
	char small[8];
	size_t consumed;
	json_object *o = NULL;
	(void)state;
	/* err may be NULL, or too small for the message. */
	assert_int_equal(frame_parse(zero, 4, 16, &consumed, &o, NULL, 0), FRAME_ERROR);
	memset(small, 'z', sizeof small);
	assert_int_equal(frame_parse(zero, 4, 16, &consumed, &o, small, sizeof small), FRAME_ERROR);
	assert_int_equal(small[sizeof small - 1], '\0');
	assert_int_equal(strlen(small), sizeof small - 1);
}

static void test_append_and_pull_round_trip(void **state)
{
	struct evbuffer *out = evbuffer_new();
	json_object *m = json_object_new_object();
	json_object *o = NULL;
	const char *raw = "{\"t\":\"log\",\"msg\":\"h\\u00e9\"}";
	(void)state;
	json_object_object_add(m, "t", json_object_new_string("event"));
	json_object_object_add(m, "id", json_object_new_int64(INT64_MAX));
	json_object_object_add(m, "s", json_object_new_string("caf\xc3\xa9 \"quoted\" \\ \n"));
	assert_int_equal(frame_append_obj(out, m, FRAME_MAX_DEFAULT), 0);
	assert_int_equal(frame_append(out, raw, strlen(raw), FRAME_MAX_DEFAULT), 0);
	assert_int_equal(frame_pull(out, FRAME_MAX_DEFAULT, &o, NULL, 0), FRAME_OK);
	assert_true(json_object_equal(m, o));
	json_object_put(o);
	assert_int_equal(frame_pull(out, FRAME_MAX_DEFAULT, &o, NULL, 0), FRAME_OK);
	assert_string_equal(json_object_get_string(json_object_object_get(o, "msg")), "h\xc3\xa9");
	json_object_put(o);
	assert_int_equal(evbuffer_get_length(out), 0);
	json_object_put(m);
	evbuffer_free(out);
}

static void test_append_limits(void **state)
{
	struct evbuffer *out = evbuffer_new();
	json_object *m = json_object_new_object();
	(void)state;
	assert_int_equal(frame_append(out, "", 0, 16), -1);
	assert_int_equal(frame_append(out, "{\"a\":\"0123456\"}", 15, 14), -1);
	assert_int_equal(evbuffer_get_length(out), 0);
	assert_int_equal(frame_append(out, "{\"a\":\"0123456\"}", 15, 15), 0);
	assert_int_equal(evbuffer_get_length(out), 19);
	/* The header holds the body's length, big-endian. */
	assert_memory_equal(evbuffer_pullup(out, 4), "\0\0\0\x0f", 4);
	json_object_object_add(m, "k", json_object_new_string("0123456789"));
	/* {"k":"0123456789"} is 18 bytes. */
	assert_int_equal(frame_append_obj(out, m, 17), -1);
	assert_int_equal(evbuffer_get_length(out), 19);
	assert_int_equal(frame_append_obj(out, m, 18), 0);
	assert_int_equal(evbuffer_get_length(out), 19 + 22);
	json_object_put(m);
	evbuffer_free(out);
}

static void test_encode_round_trip(void **state)
{
	json_object *m = json_object_new_object();
	json_object *arr = json_object_new_array();
	json_object *o = NULL;
	struct evbuffer *out = evbuffer_new();
	unsigned char *buf;
	size_t len = 0, consumed;
	(void)state;
	json_object_array_add(arr, json_object_new_int(-1));
	json_object_array_add(arr, json_object_new_double(0.5));
	json_object_array_add(arr, NULL);
	json_object_object_add(m, "t", json_object_new_string("event"));
	json_object_object_add(m, "data", arr);
	buf = frame_encode(m, FRAME_MAX_DEFAULT, &len);
	assert_non_null(buf);
	assert_true(len > FRAME_HEADER_LEN);
	/* frame_encode and frame_append_obj produce the same bytes. */
	assert_int_equal(frame_append_obj(out, m, FRAME_MAX_DEFAULT), 0);
	assert_int_equal(evbuffer_get_length(out), len);
	assert_memory_equal(evbuffer_pullup(out, -1), buf, len);
	assert_int_equal(frame_parse(buf, len, FRAME_MAX_DEFAULT, &consumed, &o, NULL, 0),
			 FRAME_OK);
	assert_int_equal(consumed, len);
	assert_true(json_object_equal(m, o));
	json_object_put(o);
	free(buf);
	/* Over the limit: NULL, and len left alone. */
	len = 12345;
	assert_null(frame_encode(m, 10, &len));
	assert_int_equal(len, 12345);
	json_object_put(m);
	evbuffer_free(out);
}

static void test_encode_large_round_trip(void **state)
{
	/* A body near the default maximum survives encode, split delivery and parse. */
	const size_t n = FRAME_MAX_DEFAULT - 64;
	char *s = malloc(n + 1);
	json_object *m = json_object_new_object();
	json_object *o = NULL;
	struct evbuffer *in = evbuffer_new();
	unsigned char *buf;
	size_t len = 0;
	(void)state;
	assert_non_null(s);
	for (size_t i = 0; i < n; i++)
		s[i] = (char)('a' + i % 26);
	s[n] = '\0';
	json_object_object_add(m, "s", json_object_new_string(s));
	buf = frame_encode(m, FRAME_MAX_DEFAULT, &len);
	assert_non_null(buf);
	for (size_t off = 0; off < len; off += 65536) {
		size_t k = len - off < 65536 ? len - off : 65536;
		assert_int_equal(frame_pull(in, FRAME_MAX_DEFAULT, &o, NULL, 0), FRAME_NEED_MORE);
		evbuffer_add(in, buf + off, k);
	}
	assert_int_equal(frame_pull(in, FRAME_MAX_DEFAULT, &o, NULL, 0), FRAME_OK);
	assert_true(json_object_equal(m, o));
	json_object_put(o);
	/* One byte of slack less and it is refused. */
	assert_null(frame_encode(m, len - FRAME_HEADER_LEN - 1, &len));
	free(buf);
	free(s);
	json_object_put(m);
	evbuffer_free(in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_header_is_big_endian),
	    cmocka_unit_test(test_short_header_needs_more),
	    cmocka_unit_test(test_length_zero_is_error),
	    cmocka_unit_test(test_length_over_max_refused_on_header),
	    cmocka_unit_test(test_4gib_prefix),
	    cmocka_unit_test(test_exact_max_body_accepted),
	    cmocka_unit_test(test_split_byte_by_byte_parse),
	    cmocka_unit_test(test_split_byte_by_byte_pull),
	    cmocka_unit_test(test_need_more_leaves_buffer),
	    cmocka_unit_test(test_pull_checks_length_before_body),
	    cmocka_unit_test(test_two_frames_in_one_buffer),
	    cmocka_unit_test(test_good_frame_then_bad_frame),
	    cmocka_unit_test(test_body_spanning_chains),
	    cmocka_unit_test(test_invalid_utf8),
	    cmocka_unit_test(test_invalid_utf8_strict),
	    cmocka_unit_test(test_utf8_valid_function),
	    cmocka_unit_test(test_not_json),
	    cmocka_unit_test(test_trailing_bytes),
	    cmocka_unit_test(test_not_an_object),
	    cmocka_unit_test(test_depth_limit),
	    cmocka_unit_test(test_no_state_after_failed_body),
	    cmocka_unit_test(test_err_optional_and_truncated),
	    cmocka_unit_test(test_append_and_pull_round_trip),
	    cmocka_unit_test(test_append_limits),
	    cmocka_unit_test(test_encode_round_trip),
	    cmocka_unit_test(test_encode_large_round_trip),
	};
	return cmocka_run_group_tests_name("proto/frame", tests, NULL, NULL);
}
