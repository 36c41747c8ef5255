/*
 * Mutation testing of the untrusted-input paths (manifest.json, request
 * configurations): thousands of corrupted variants of real manifests must
 * each be either accepted or refused with a message, never crash, leak or
 * read out of bounds (this runs under ASan and UBSan). Deterministic: a
 * fixed seed, so a failure reproduces.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "manifest.h"
#include "secrets.h"

static const char seed_full[] =
    "{\"name\": \"streamspace-slack\", \"version\": \"1.2.0\", \"displayName\": \"Slack\","
    " \"tags\": [\"chat\"], \"permissions\": [\"network\", \"read:sessions\"],"
    " \"configSchema\": {\"type\": \"object\", \"properties\": {\"webhookUrl\":"
    " {\"type\": \"string\", \"sensitive\": true}, \"n\": {\"type\": \"object\","
    " \"properties\": {\"pin\": {\"writeOnly\": true}}}}},"
    " \"defaultConfig\": {\"channel\": \"#general\", \"n\": {\"pin\": 1}},"
    " \"entrypoints\": {\"main\": \"slack.so\"}, \"requirements\": {}}";
static const char seed_small[] = "{\"name\":\"hello\",\"version\":\"1.0.0\"}";
static const char seed_text[] =
    "{\"name\": \"a\", \"version\": \"0.0.1-rc.1+b\", \"category\": \"X\", \"type\": \"t\","
    " \"author\": \"\\u00e9\", \"license\": \"MIT\", \"homepage\": \"h\", \"icon\": \"i\"}";
static const char *const seeds[] = {seed_full, seed_small, seed_text};

static uint64_t rng = 0x5eed5eed5eedULL;

static uint32_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

/* One random edit: flip, insert, delete, duplicate a span, or truncate. */
static size_t mutate(char *buf, size_t len, size_t cap)
{
	static const char interesting[] = "{}[]\",:\\0-.e9ntfu \x00\xff\xc3";
	size_t pos = len ? next() % len : 0;

	switch (next() % 6) {
	case 0:
		if (len)
			buf[pos] = (char)next();
		break;
	case 1:
		if (len < cap) {
			memmove(buf + pos + 1, buf + pos, len - pos);
			buf[pos] = interesting[next() % (sizeof interesting - 1)];
			len++;
		}
		break;
	case 2:
		if (len) {
			memmove(buf + pos, buf + pos + 1, len - pos - 1);
			len--;
		}
		break;
	case 3: {
		size_t n = len - pos < 16 ? len - pos : 16;

		if (len + n <= cap) {
			memmove(buf + pos + n, buf + pos, len - pos);
			len += n;
		}
		break;
	}
	case 4:
		len = pos;
		break;
	default:
		if (len)
			buf[pos] = interesting[next() % (sizeof interesting - 1)];
		break;
	}
	return len;
}

static void test_manifest_mutations(void **state)
{
	enum { CAP = 4096, ROUNDS = 20000 };
	char *buf = test_malloc(CAP);
	size_t accepted = 0, refused = 0;

	(void)state;
	for (int r = 0; r < ROUNDS; r++) {
		const char *seed = seeds[r % (sizeof seeds / sizeof *seeds)];
		size_t len = strlen(seed), edits = 1 + next() % 4;
		char err[256] = "";
		struct manifest *m;

		memcpy(buf, seed, len);
		for (size_t e = 0; e < edits; e++)
			len = mutate(buf, len, CAP);
		m = manifest_parse(buf, len, err, sizeof err);
		if (m == NULL) {
			if (err[0] == '\0')
				fail_msg("refused without a message: %.*s", (int)len, buf);
			refused++;
			continue;
		}
		accepted++;
		/* Whatever was accepted is consistent and usable. */
		assert_true(m->name != NULL && m->version != NULL && m->entry_main != NULL);
		assert_true(manifest_version_valid(m->version));
		assert_true(json_object_is_type(m->default_config, json_type_object));
		{
			json_object *masked = secrets_mask(m->default_config, m->config_schema);
			json_object *back =
			    secrets_unmask(masked, m->default_config, m->config_schema);
			json_object *merged = manifest_merge_config(m->default_config, back);

			json_object_put(merged);
			json_object_put(back);
			json_object_put(masked);
		}
		manifest_free(m);
	}
	test_free(buf);
	/* Both outcomes happen, or the mutations are not exercising anything. */
	assert_true(accepted > 100);
	assert_true(refused > 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_manifest_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
