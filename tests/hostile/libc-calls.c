/*
 * Calls the libc functions a plugin author reaches for and that reach
 * system calls the serving filter does not allow: qsort of more than 1 KiB
 * (glibc asks sysinfo for the machine's memory), sysinfo itself, the
 * processor count (a /sys read, then sched_getaffinity), localtime (a stat
 * and open of /etc/localtime), fopen, isatty, gethostname (uname), the
 * process's ids, and the calls that are allowed (time, clock_gettime,
 * getrandom, getpid, printf). Each either works or fails with an errno;
 * none may kill the host. The results are logged as "<phase>: <call> <what
 * happened>" from a constructor (the loading-phase filter), from on_load
 * and from the first event (the serving filter); run_host.py checks them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include <streamspace/plugin.h>

#define N_SORT 4096 /* 16 KiB of ints: well over glibc's 1 KiB threshold */
#define LINES 16
#define LINE_MAX_ 160

/* The constructor cannot log (no plugin handle yet): its lines wait here for on_load. */
static char ctor_lines[LINES][LINE_MAX_];
static int n_ctor;

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

/* "-1 EPERM" or "0": what a call returned, with its errno's name when it failed. */
static const char *outcome(char *buf, size_t n, long rc, int err)
{
	if (rc < 0)
		snprintf(buf, n, "-1 %s",
			 err == EPERM	 ? "EPERM"
			 : err == EACCES ? "EACCES"
			 : err == ENOSYS ? "ENOSYS"
			 : err == ENOTTY ? "ENOTTY"
			 : err == ENOENT ? "ENOENT"
					 : strerror(err));
	else
		snprintf(buf, n, "%ld", rc);
	return buf;
}

/* Runs every call once; say(line) reports each result. */
static void run_calls(const char *phase, void (*say)(void *, const char *), void *ctx)
{
	static int v[N_SORT];
	char line[LINE_MAX_], o[64];
	struct sysinfo si;
	struct tm tm, *tmp;
	time_t now = time(NULL);
	unsigned char rnd[16];
	struct timespec ts;
	char host[128];
	FILE *f;
	int sorted = 1, rc;

	for (int i = 0; i < N_SORT; i++)
		v[i] = (int)((i * 2654435761u) % 100003u);
	qsort(v, N_SORT, sizeof v[0], cmp_int);
	for (int i = 1; i < N_SORT; i++)
		sorted &= v[i - 1] <= v[i];
	snprintf(line, sizeof line, "%s: qsort %s %d", phase, sorted ? "sorted" : "UNSORTED",
		 N_SORT);
	say(ctx, line);

	errno = 0;
	rc = sysinfo(&si);
	snprintf(line, sizeof line, "%s: sysinfo %s", phase, outcome(o, sizeof o, rc, errno));
	say(ctx, line);

	(void)sysconf(_SC_PHYS_PAGES); /* what qsort asks, directly */
	snprintf(line, sizeof line, "%s: nprocs %s", phase,
		 sysconf(_SC_NPROCESSORS_ONLN) >= 1 ? "ok" : "none");
	say(ctx, line);

	tmp = localtime(&now);
	snprintf(line, sizeof line, "%s: localtime %s %s", phase, tmp ? "ok" : "NULL",
		 localtime_r(&now, &tm) ? "ok" : "NULL");
	say(ctx, line);

	errno = 0;
	f = fopen("/etc/hostname", "r");
	snprintf(line, sizeof line, "%s: fopen %s", phase, outcome(o, sizeof o, f ? 0 : -1, errno));
	if (f != NULL)
		fclose(f);
	say(ctx, line);

	errno = 0;
	rc = isatty(STDIN_FILENO);
	snprintf(line, sizeof line, "%s: isatty %d", phase, rc);
	say(ctx, line);

	errno = 0;
	rc = gethostname(host, sizeof host);
	snprintf(line, sizeof line, "%s: gethostname %s", phase,
		 rc == 0 ? "0" : outcome(o, sizeof o, rc, errno));
	say(ctx, line);

	snprintf(line, sizeof line, "%s: ids %s", phase,
		 getuid() == geteuid() && getgid() == getegid() ? "ok" : "differ");
	say(ctx, line);

	snprintf(line, sizeof line, "%s: allowed %s", phase,
		 getrandom(rnd, sizeof rnd, 0) == (ssize_t)sizeof rnd &&
			 clock_gettime(CLOCK_MONOTONIC, &ts) == 0 && getpid() > 0 &&
			 printf("libc-calls %s\n", phase) > 0 && fflush(stdout) == 0
		     ? "ok"
		     : "FAILED");
	say(ctx, line);
}

static void keep(void *ctx, const char *line)
{
	(void)ctx;
	if (n_ctor < LINES)
		snprintf(ctor_lines[n_ctor++], LINE_MAX_, "%s", line);
}

static void log_line(void *ctx, const char *line)
{
	ss_log((ss_plugin *)ctx, SS_INFO, "%s", line);
}

__attribute__((constructor)) static void libc_ctor(void)
{
	run_calls("ctor", keep, NULL);
}

static int seen;

static int on_event(ss_plugin *p, const ss_event *ev)
{
	(void)ev;
	if (seen++ == 0)
		run_calls("event", log_line, p);
	ss_log(p, SS_INFO, "served %d", seen);
	return 0;
}

static int on_load(ss_plugin *p)
{
	for (int i = 0; i < n_ctor; i++)
		ss_log(p, SS_INFO, "%s", ctor_lines[i]);
	run_calls("load", log_line, p);
	return ss_subscribe(p, "*", on_event);
}

SS_PLUGIN(.name = "libc-calls", .version = "0.0.1", .on_load = on_load);
