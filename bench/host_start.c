/*
 * host_start: how long a plugin host takes from fork+exec to "ready", and
 * what an idle host costs in memory.
 *
 *     host_start HOST PLUGIN.so NAME [STARTS]
 *
 * Each start goes through the daemon's own spawn_host (socketpair, fd 3,
 * the log pipe on 1 and 2, nothing else open), then plays the daemon's side
 * of the handshake: reads hello, sends init, waits for ready, and stops the
 * host with shutdown. The clock runs from just before the fork to the
 * moment ready is parsed, so it includes exec, every sandbox layer, dlopen
 * and the plugin's on_load. A last host is left idle after ready and its
 * proportional set size (Pss, /proc/PID/smaps_rollup, with its children's:
 * the plugin runs in a child in the host's PID namespace) is read.
 *
 * Prints host_start_p50_ms, host_start_p99_ms, host_start_cpu_us and
 * host_idle_pss_kib as "name value unit" lines; exits non-zero if any host
 * misbehaves. host_start_cpu_us is the CPU time (user + system) the hosts'
 * processes used per start, from getrusage(RUSAGE_CHILDREN): the waiter and
 * the plugin's process, start to shutdown. Unlike the wall-clock figures it
 * barely moves with other load on the machine.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"
#include "msg.h"
#include "spawn.h"

#define IO_TIMEOUT_MS 10000
#define IDLE_SETTLE_MS 500

struct host {
	pid_t pid;
	int sock, logfd;
	unsigned char buf[65536];
	size_t len;
};

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Reads and drops what the host wrote on stdout/stderr, so it never blocks. */
static void drain_log(struct host *h)
{
	char junk[4096];
	while (read(h->logfd, junk, sizeof junk) > 0)
		;
}

/* Reads the next frame from the host; NULL (with a message) on error or timeout. */
static json_object *next_frame(struct host *h)
{
	for (;;) {
		json_object *m = NULL;
		size_t used = 0;
		char err[128] = "";
		enum frame_result r =
		    frame_parse(h->buf, h->len, FRAME_MAX_DEFAULT, &used, &m, err, sizeof err);
		struct pollfd pfd[2] = {{h->sock, POLLIN, 0}, {h->logfd, POLLIN, 0}};
		ssize_t n;

		if (r == FRAME_OK) {
			memmove(h->buf, h->buf + used, h->len - used);
			h->len -= used;
			return m;
		}
		if (r == FRAME_ERROR) {
			fprintf(stderr, "host_start: bad frame from the host: %s\n", err);
			return NULL;
		}
		if (h->len == sizeof h->buf) {
			fprintf(stderr, "host_start: frame larger than the bench's buffer\n");
			return NULL;
		}
		if (poll(pfd, 2, IO_TIMEOUT_MS) <= 0) {
			fprintf(stderr, "host_start: no frame from the host within %d ms\n",
				IO_TIMEOUT_MS);
			return NULL;
		}
		if (pfd[1].revents)
			drain_log(h);
		if (!pfd[0].revents)
			continue;
		n = read(h->sock, h->buf + h->len, sizeof h->buf - h->len);
		if (n > 0)
			h->len += (size_t)n;
		else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			fprintf(stderr, "host_start: the host closed its socket\n");
			return NULL;
		}
	}
}

static int send_msg(struct host *h, json_object *m)
{
	size_t len = 0, off = 0;
	unsigned char *f = frame_encode(m, FRAME_MAX_DEFAULT, &len);
	int rc = 0;

	json_object_put(m);
	if (f == NULL)
		return -1;
	while (off < len) {
		ssize_t n = write(h->sock, f + off, len - off);
		if (n > 0) {
			off += (size_t)n;
		} else if (n < 0 && errno == EAGAIN) {
			struct pollfd pfd = {h->sock, POLLOUT, 0};
			poll(&pfd, 1, IO_TIMEOUT_MS);
		} else if (n < 0 && errno != EINTR) {
			rc = -1;
			break;
		}
	}
	free(f);
	return rc;
}

/* The daemon's init for a plugin with no configuration and the read permissions. */
static json_object *init_msg(void)
{
	json_object *m = msg_new(MSG_INIT), *perms = json_object_new_array(), *limits;

	msg_add_int(m, "protocol", SS_PROTOCOL_VERSION);
	json_object_object_add(m, "config", json_object_new_object());
	json_object_array_add(perms, json_object_new_string("read:sessions"));
	json_object_array_add(perms, json_object_new_string("read:users"));
	json_object_object_add(m, "permissions", perms);
	limits = json_object_new_object();
	msg_add_int(limits, "max_frame", FRAME_MAX_DEFAULT);
	msg_add_int(limits, "event_timeout_ms", 5000);
	msg_add_int(limits, "ping_interval_ms", 10000);
	msg_add_int(limits, "log_line_max", 4096);
	json_object_object_add(m, "limits", limits);
	return m;
}

/*
 * Starts one host and completes its handshake. Returns the nanoseconds from
 * before the fork to ready, or -1.
 */
static int64_t start_host(const char *path, char *const argv[], struct host *h)
{
	char err[256];
	struct spawn_child c;
	json_object *m = NULL;
	int64_t t0 = now_ns();

	h->len = 0;
	if (spawn_host(path, argv, &c, err, sizeof err) < 0) {
		fprintf(stderr, "host_start: %s\n", err);
		return -1;
	}
	h->pid = c.pid;
	h->sock = c.sock;
	h->logfd = c.logfd;
	m = next_frame(h);
	if (m == NULL || msg_type_of(m) != MSG_HELLO) {
		fprintf(stderr, "host_start: expected hello\n");
		goto fail;
	}
	json_object_put(m);
	if (send_msg(h, init_msg()) < 0)
		goto fail;
	/* Log records may come before ready; anything else is a failure. */
	while ((m = next_frame(h)) != NULL && msg_type_of(m) == MSG_LOG)
		json_object_put(m);
	if (m == NULL || msg_type_of(m) != MSG_READY) {
		fprintf(stderr, "host_start: expected ready, got %s\n",
			m ? json_object_to_json_string(m) : "nothing");
		goto fail;
	}
	json_object_put(m);
	return now_ns() - t0;
fail:
	json_object_put(m);
	kill(h->pid, SIGKILL);
	waitpid(h->pid, NULL, 0);
	close(h->sock);
	close(h->logfd);
	return -1;
}

/* Sends shutdown and reaps the host; 0 when it exited 0. */
static int stop_host(struct host *h)
{
	int status = 0;

	send_msg(h, msg_new(MSG_SHUTDOWN));
	for (;;) {
		pid_t r = waitpid(h->pid, &status, WNOHANG);
		if (r == h->pid)
			break;
		drain_log(h);
		usleep(200);
	}
	close(h->sock);
	close(h->logfd);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "host_start: host ended with status %#x\n", (unsigned)status);
		return -1;
	}
	return 0;
}

/* The Pss line of /proc/PID/smaps_rollup in KiB, or -1. */
static long pss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/smaps_rollup", (int)pid);
	f = fopen(path, "r");
	if (f == NULL) {
		fprintf(stderr, "host_start: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "Pss: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/*
 * A host's Pss: its own and its children's. A host with a PID namespace is
 * two processes (plugin-host/README.md): the waiter the daemon started and
 * the child that runs the plugin.
 */
static long host_pss_kib(pid_t pid)
{
	char path[64];
	long total = pss_kib(pid), child;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid, (int)pid);
	f = fopen(path, "r");
	if (f == NULL || total < 0)
		goto out;
	while (fscanf(f, "%ld", &child) == 1) {
		long k = pss_kib((pid_t)child);
		if (k < 0) {
			total = -1;
			break;
		}
		total += k;
	}
out:
	if (f != NULL)
		fclose(f);
	return total;
}

/* CPU time of the reaped children so far, in microseconds. */
static int64_t children_cpu_us(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_CHILDREN, &ru) < 0)
		return 0;
	return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 + ru.ru_utime.tv_usec +
	       ru.ru_stime.tv_usec;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* The q-quantile of sorted v (nearest rank). */
static int64_t quantile(const int64_t *v, size_t n, double q)
{
	size_t rank = (size_t)(q * (double)n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return v[rank - 1];
}

int main(int argc, char **argv)
{
	char *hargv[] = {"streamspace-plugin-host", "--name", NULL, "--plugin", NULL, NULL};
	struct host h;
	int64_t *samples, cpu0;
	long starts = 200, kib;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: host_start HOST PLUGIN.so NAME [STARTS]\n");
		return 64;
	}
	if (argc == 5)
		starts = strtol(argv[4], NULL, 10);
	if (starts < 1) {
		fprintf(stderr, "host_start: STARTS must be positive\n");
		return 64;
	}
	hargv[2] = argv[3];
	hargv[4] = argv[2];
	samples = calloc((size_t)starts, sizeof *samples);
	if (samples == NULL)
		return 70;
	cpu0 = children_cpu_us();
	for (long i = 0; i < starts; i++) {
		samples[i] = start_host(argv[1], hargv, &h);
		if (samples[i] < 0 || stop_host(&h) < 0) {
			free(samples);
			return 1;
		}
	}
	qsort(samples, (size_t)starts, sizeof *samples, cmp_i64);
	printf("host_start_p50_ms %.3f ms\n",
	       (double)quantile(samples, (size_t)starts, 0.50) / 1e6);
	printf("host_start_p99_ms %.3f ms\n",
	       (double)quantile(samples, (size_t)starts, 0.99) / 1e6);
	printf("host_start_cpu_us %.0f us\n", (double)(children_cpu_us() - cpu0) / (double)starts);
	fflush(stdout);
	free(samples);

	/* One more host, left idle after ready, for its memory. */
	if (start_host(argv[1], hargv, &h) < 0)
		return 1;
	usleep(IDLE_SETTLE_MS * 1000);
	drain_log(&h);
	kib = host_pss_kib(h.pid);
	if (stop_host(&h) < 0 || kib < 0)
		return 1;
	printf("host_idle_pss_kib %ld KiB\n", kib);
	return 0;
}
