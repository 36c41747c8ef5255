/* The host's command line (PROTOCOL.md, "Host exit status": 64 when it is wrong). */
#ifndef SS_HOST_ARGS_H
#define SS_HOST_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARGS_MEM_LIMIT_DEFAULT (256ull * 1024 * 1024)

struct host_args {
	const char *name;   /* --name: the plugin name the daemon expects */
	const char *plugin; /* --plugin: absolute path of the shared object */
	bool strict;	    /* --strict: a missing sandbox layer is fatal */
	bool sandbox_debug; /* --sandbox-debug: name the forbidden syscall, then exit */
	uint64_t mem_limit; /* --mem-limit BYTES (K/M/G suffixes), RLIMIT_AS */
	uint64_t cpu_limit; /* --cpu-limit SECONDS, RLIMIT_CPU; 0 = none */
};

/*
 * Parses argv into a. On error returns -1 and writes a one-line reason to err;
 * the caller prints it with the usage and exits 64.
 */
int args_parse(int argc, char *const argv[], struct host_args *a, char *err, size_t errlen);

/* Parses "123", "64K", "256M", "1G" into bytes; -1 on junk, zero or overflow. */
int args_parse_size(const char *s, uint64_t *out);

#endif
