/*
 * schema_validate_per_s: validations per second of a realistic plugin
 * config (a Slack-like schema: 10 properties, a URL pattern and format, an
 * enum, bounds, an array of $ref'd items) against one compiled schema, the
 * way a config is checked (schema_validate_cpu_us: the CPU time
 * of one, which a busy machine does not inflate). Also schema_compile_per_s,
 * what an install pays once.
 *
 *   schema_validate [N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "schema.h"

static const char *SCHEMA =
    "{\"type\":\"object\",\"required\":[\"webhookUrl\",\"channel\"],"
    "\"additionalProperties\":false,\"properties\":{"
    "\"webhookUrl\":{\"type\":\"string\",\"format\":\"uri\","
    "\"pattern\":\"^https://hooks\\\\.slack\\\\.com/services/[A-Z0-9]+/[A-Z0-9]+/[A-Za-z0-9]+$\"},"
    "\"channel\":{\"type\":\"string\",\"minLength\":2,\"maxLength\":80},"
    "\"username\":{\"type\":\"string\",\"maxLength\":80,\"default\":\"StreamSpace\"},"
    "\"iconEmoji\":{\"type\":\"string\",\"maxLength\":64},"
    "\"level\":{\"enum\":[\"debug\",\"info\",\"warning\",\"error\",\"critical\"]},"
    "\"notifyOnSessionCreated\":{\"type\":\"boolean\"},"
    "\"notifyOnSessionDeleted\":{\"type\":\"boolean\"},"
    "\"rateLimitPerMinute\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":600},"
    "\"mentions\":{\"type\":\"array\",\"maxItems\":20,\"uniqueItems\":true,"
    "\"items\":{\"$ref\":\"#/definitions/mention\"}},"
    "\"includeDetails\":{\"type\":\"boolean\"}},"
    "\"definitions\":{\"mention\":{\"type\":\"string\",\"minLength\":2,\"maxLength\":64}}}";

static const char *CONFIG =
    "{\"webhookUrl\":\"https://hooks.slack.com/services/T00000000/B00000000/"
    "XXXXXXXXXXXXXXXXXXXXXXXX\",\"channel\":\"#streamspace-ops\",\"username\":\"StreamSpace\","
    "\"iconEmoji\":\":robot_face:\",\"level\":\"warning\",\"notifyOnSessionCreated\":true,"
    "\"notifyOnSessionDeleted\":false,\"rateLimitPerMinute\":60,"
    "\"mentions\":[\"@oncall\",\"@platform\",\"@sre\"],\"includeDetails\":true}";

static double clock_s(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 200000;
	char err[512];
	json_object *doc = json_tokener_parse(SCHEMA), *config = json_tokener_parse(CONFIG);
	if (doc == NULL || config == NULL || n <= 0) {
		fprintf(stderr, "schema_validate: bad built-in JSON or N\n");
		return 1;
	}
	long compiles = n / 20 > 0 ? n / 20 : 1;
	double t0 = now();
	for (long i = 0; i < compiles; i++)
		schema_free(schema_compile(doc, err, sizeof(err)));
	double compile_s = now() - t0;

	struct schema *s = schema_compile(doc, err, sizeof(err));
	if (s == NULL) {
		fprintf(stderr, "schema_validate: %s\n", err);
		return 1;
	}
	size_t errors = 0;
	double cpu0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	t0 = now();
	for (long i = 0; i < n; i++) {
		struct schema_errors *e = schema_validate(s, config);
		errors += schema_errors_count(e);
		schema_errors_free(e);
	}
	double dt = now() - t0, cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
	if (errors != 0) {
		fprintf(stderr, "schema_validate: the benchmark config is not valid\n");
		return 1;
	}
	printf("schema_validate_per_s %.0f validations/s\n", (double)n / dt);
	printf("schema_validate_us %.2f us\n", dt * 1e6 / (double)n);
	/* CPU time: what one validation costs whatever else the machine runs. */
	printf("schema_validate_cpu_us %.2f us\n", cpu * 1e6 / (double)n);
	printf("schema_compile_per_s %.0f compiles/s\n", (double)compiles / compile_s);
	schema_free(s);
	json_object_put(doc);
	json_object_put(config);
	return 0;
}
