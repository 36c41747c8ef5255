/*
 * The host's own diagnostics: plain lines on stderr, which the daemon logs
 * under the plugin's name, and the one way out of the process.
 */
#ifndef SS_HOST_DIAG_H
#define SS_HOST_DIAG_H

/* Exit statuses of PROTOCOL.md, "Host exit status". */
enum host_exit {
	HOST_EXIT_OK = 0,
	HOST_EXIT_USAGE = 64,
	HOST_EXIT_LOAD = 65,
	HOST_EXIT_ON_LOAD = 66,
	HOST_EXIT_INTERNAL = 70,
	HOST_EXIT_SANDBOX = 71,
	HOST_EXIT_PROTOCOL = 76,
};

/* The plugin name that prefixes every line (borrowed; set once from --name). */
void diag_set_name(const char *name);
const char *diag_name(void);

/* Writes "plugin-host[name]: <msg>\n" to stderr with one write(2). */
void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Prints the message and leaves with _exit(status): atexit handlers never run
 * (LeakSanitizer's would need ptrace, which seccomp forbids).
 */
__attribute__((noreturn)) void die(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* _exit(status) without a message. */
__attribute__((noreturn)) void host_exit(int status);

#endif
