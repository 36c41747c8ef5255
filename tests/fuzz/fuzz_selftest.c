/*
 * A fuzz target that fails on purpose, for tests/fuzz/run_test.py: the
 * first word of the input picks the way it fails (a failed check, a leak,
 * a hang, an allocation over libFuzzer's limit, undefined behaviour, an
 * exit with meson's "skipped" status), and any other input passes. It is
 * built like the real targets and never run as a campaign: it shows that
 * each way a target can fail reaches meson as FAIL, not SKIP.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Kept out of the optimiser's sight, so the leak and the overflow happen. */
static void *volatile leaked;
static volatile int big = 0x7fffffff;

static int is(const uint8_t *data, size_t size, const char *word)
{
	size_t n = strlen(word);
	return size >= n && memcmp(data, word, n) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (is(data, size, "abort")) {
		fprintf(stderr, "fuzz_selftest: check failed on purpose\n");
		abort();
	}
	if (is(data, size, "leak")) {
		leaked = malloc(64);
		leaked = NULL;
	}
	if (is(data, size, "hang"))
		for (;;)
			leaked = (void *)data;
	if (is(data, size, "oom")) {
		/* Over -malloc_limit_mb (by default -rss_limit_mb, 2048). */
		leaked = malloc((size_t)3 << 30);
		free(leaked);
	}
	if (is(data, size, "ubsan")) {
		int v = big;
		big = v + (int)size; /* signed overflow: -fno-sanitize-recover stops here */
	}
	if (is(data, size, "exit77"))
		exit(77);
	return 0;
}
