/*
 * counter: counts the events it receives and, for events whose data carries
 * an integer "t0_ns" (CLOCK_MONOTONIC nanoseconds stamped by the sender),
 * records the delivery latency in a histogram. On "plugin.counter.report" it
 * logs one line, count=N p50_us=X p99_us=Y max_us=Z, and starts over. The
 * benchmarks read that line. The scale benchmark builds it many times
 * with -DCOUNTER_NAME=\"counterNNN\": a host runs a plugin only under the
 * name it declares.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <streamspace/plugin.h>

#ifndef COUNTER_NAME
#define COUNTER_NAME "counter"
#endif

/*
 * A log-linear histogram of microseconds: exact below 1024 us, then 64
 * linear sub-buckets per power of two (under 1.6 % error), up to 2^40 us.
 */
#define EXACT 1024
#define SUB 64
#define EXPONENTS 30 /* 2^10 .. 2^39 */
#define BUCKETS (EXACT + EXPONENTS * SUB)

struct counter {
	uint64_t events;  /* events seen since the last report */
	uint64_t samples; /* of which carried t0_ns */
	uint64_t max_us;
	uint64_t hist[BUCKETS];
};

static size_t bucket_of(uint64_t us)
{
	int e;

	if (us < EXACT)
		return (size_t)us;
	e = 63 - __builtin_clzll(us); /* 10 .. */
	if (e >= 10 + EXPONENTS)
		return BUCKETS - 1;
	return EXACT + (size_t)(e - 10) * SUB + (size_t)((us >> (e - 6)) & (SUB - 1));
}

/* The largest value that falls in bucket b. */
static uint64_t bucket_top(size_t b)
{
	size_t e, sub;

	if (b < EXACT)
		return b;
	e = 10 + (b - EXACT) / SUB;
	sub = (b - EXACT) % SUB;
	return (1ull << e) + ((uint64_t)(sub + 1) << (e - 6)) - 1;
}

/* The value below which a fraction q of the samples lie (0 when there are none). */
static uint64_t percentile(const struct counter *c, double q)
{
	uint64_t rank, seen = 0;

	if (c->samples == 0)
		return 0;
	rank = (uint64_t)(q * (double)c->samples);
	if (rank >= c->samples)
		rank = c->samples - 1;
	for (size_t b = 0; b < BUCKETS; b++) {
		seen += c->hist[b];
		if (seen > rank) {
			uint64_t top = bucket_top(b);
			return top < c->max_us ? top : c->max_us;
		}
	}
	return c->max_us;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int on_event(ss_plugin *p, const ss_event *ev)
{
	struct counter *c = ss_userdata(p);
	json_object *t0 = NULL;
	uint64_t now = now_ns();

	if (strcmp(ss_event_type(ev), "plugin.counter.report") == 0) {
		ss_log(p, SS_INFO, "count=%llu p50_us=%llu p99_us=%llu max_us=%llu",
		       (unsigned long long)c->events, (unsigned long long)percentile(c, 0.50),
		       (unsigned long long)percentile(c, 0.99), (unsigned long long)c->max_us);
		memset(c, 0, sizeof *c);
		return 0;
	}
	c->events++;
	if (json_object_object_get_ex(ss_event_data(ev), "t0_ns", &t0) &&
	    json_object_is_type(t0, json_type_int)) {
		int64_t start = json_object_get_int64(t0);
		/* A stamp from the future (another clock) counts as zero latency. */
		uint64_t us =
		    start > 0 && (uint64_t)start < now ? (now - (uint64_t)start) / 1000 : 0;
		c->hist[bucket_of(us)]++;
		c->samples++;
		if (us > c->max_us)
			c->max_us = us;
	}
	return 0;
}

static int on_load(ss_plugin *p)
{
	struct counter *c = calloc(1, sizeof *c);

	if (c == NULL)
		return -1;
	ss_set_userdata(p, c);
	return ss_subscribe(p, "*", on_event);
}

static void on_unload(ss_plugin *p)
{
	free(ss_userdata(p));
	ss_set_userdata(p, NULL);
}

SS_PLUGIN(.name = COUNTER_NAME, .version = "1.0.0", .on_load = on_load, .on_unload = on_unload);
