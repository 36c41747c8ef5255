/*
 * Platform events: what the daemon publishes about itself. Crashes are read
 * off the supervisor's watcher (a plugin's crash count grew: its last exit
 * says why), so the supervisor knows nothing of platform events; verbs and
 * start and stop are told by their owners.
 */
#include "platform.h"

#include <event2/event.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "bus.h"
#include "clock.h"
#include "exitcause.h"
#include "log.h"
#include "msg.h"
#include "sink.h"
#include "supervisor.h"
#include "xmalloc.h"

#define STARTUP_POLL_MS 100

/* The crashes already announced for a plugin the supervisor runs. */
struct seen {
	LIST_ENTRY(seen) entry;
	char *name;
	uint64_t crashes;
};

struct platform {
	struct bus *bus;
	const struct event_sink *sink; /* with a database: the outbox */
	struct supervisor *sup;
	char *version;
	LIST_HEAD(, seen) seen;
	struct event *startup;	  /* polls for the end of start-up */
	int64_t startup_until_ms; /* publish then at the latest */
	bool started, stopping;
};

static struct seen *seen_of(struct platform *pl, const char *name, bool create)
{
	struct seen *s;

	LIST_FOREACH(s, &pl->seen, entry)
	if (strcmp(s->name, name) == 0)
		return s;
	if (!create)
		return NULL;
	s = xcalloc(1, sizeof *s);
	s->name = xstrdup(name);
	LIST_INSERT_HEAD(&pl->seen, s, entry);
	return s;
}

static void seen_free(struct seen *s)
{
	LIST_REMOVE(s, entry);
	free(s->name);
	free(s);
}

static void stored(int64_t id, const char *err, void *arg)
{
	(void)id;
	if (err != NULL)
		log_error("bus", "platform event %s not stored: %s", (const char *)arg, err);
}

/*
 * Publishes a platform event: with a database into the outbox (delivered
 * like any event, to admin subscribers but the one it is about), else on
 * the bus. type is one of the static names below, so it outlives the append.
 */
static void publish(struct platform *pl, const char *type, const char *about, json_object *d)
{
	size_t len;
	const char *text;

	if (pl->sink == NULL) {
		bus_publish_platform(pl->bus, type, about, d);
		return;
	}
	text = json_object_to_json_string_length(d, JSON_C_TO_STRING_PLAIN, &len);
	pl->sink->append(pl->sink->ctx, type, text, len, about, true, stored, (void *)type);
}

void platform_set_sink(struct platform *pl, const struct event_sink *sink)
{
	if (pl != NULL)
		pl->sink = sink;
}

/* A plugin's state shows a change: a grown crash count is a crash to announce. */
static void watched(void *arg, const char *name)
{
	struct platform *pl = arg;
	struct supervisor_stats st;
	struct seen *s;
	json_object *d;

	if (supervisor_stats(pl->sup, name, &st) < 0) {
		/* Forgotten (disabled, uninstalled): a new run counts from 0. */
		if ((s = seen_of(pl, name, false)) != NULL)
			seen_free(s);
		return;
	}
	s = seen_of(pl, name, true);
	if (st.crashes <= s->crashes)
		return;
	s->crashes = st.crashes;
	d = json_object_new_object();
	msg_add_str(d, "plugin", st.name);
	if (st.version != NULL)
		msg_add_str(d, "version", st.version);
	msg_add_str(d, "cause", exit_cause_name(st.last_exit.cause));
	msg_add_str(d, "description", st.last_exit.description ? st.last_exit.description : "");
	msg_add_int(d, "crashes", (int64_t)st.crashes);
	msg_add_str(d, "state", supervisor_state_name(st.state));
	/* Not to the plugin itself: an admin plugin cannot loop on its own crash. */
	publish(pl, "plugin.crashed", st.name, d);
	json_object_put(d);
}

static void count_starting(const struct supervisor_stats *st, void *arg)
{
	int *n = arg;
	*n += st->state == SUP_STARTING;
}

static void count_running(const struct supervisor_stats *st, void *arg)
{
	int *n = arg;
	*n += st->state == SUP_RUNNING;
}

/* Start-up is over when no plugin is starting (or its time is up). */
static void startup_cb(evutil_socket_t fd, short what, void *arg)
{
	struct platform *pl = arg;
	int starting = 0, running = 0;
	struct timeval tv = clock_tv(STARTUP_POLL_MS);
	json_object *d;

	(void)fd;
	(void)what;
	/* Asked to stop before start-up was over: no startup after the shutdown. */
	if (pl->stopping)
		return;
	supervisor_foreach(pl->sup, count_starting, &starting);
	if (starting > 0 && clock_mono_ms() < pl->startup_until_ms) {
		evtimer_add(pl->startup, &tv);
		return;
	}
	supervisor_foreach(pl->sup, count_running, &running);
	pl->started = true;
	d = json_object_new_object();
	msg_add_str(d, "version", pl->version);
	msg_add_int(d, "plugins", running);
	publish(pl, "system.startup", NULL, d);
	json_object_put(d);
	log_info("streamspaced", "system.startup: %d plugin%s running%s", running,
		 running == 1 ? "" : "s", starting > 0 ? ", some still starting" : "");
}

struct platform *platform_new(struct event_base *base, struct bus *bus, struct supervisor *sup,
			      const char *daemon_version)
{
	struct platform *pl = xcalloc(1, sizeof *pl);

	pl->bus = bus;
	pl->sup = sup;
	pl->version = xstrdup(daemon_version);
	LIST_INIT(&pl->seen);
	pl->startup = evtimer_new(base, startup_cb, pl);
	if (pl->startup == NULL)
		fatal("platform_new: out of memory");
	supervisor_watch(sup, watched, pl);
	return pl;
}

void platform_free(struct platform *pl)
{
	if (pl == NULL)
		return;
	supervisor_unwatch(pl->sup, watched, pl);
	while (!LIST_EMPTY(&pl->seen))
		seen_free(LIST_FIRST(&pl->seen));
	event_free(pl->startup);
	free(pl->version);
	free(pl);
}

void platform_startup(struct platform *pl, int settle_ms)
{
	struct timeval now = {0, 0};

	pl->startup_until_ms = clock_mono_ms() + settle_ms;
	/* From the loop: the plugins started so far are in the supervisor by then. */
	evtimer_add(pl->startup, &now);
}

void platform_shutdown(struct platform *pl, const char *signal)
{
	json_object *d;

	if (pl == NULL || pl->stopping)
		return;
	pl->stopping = true;
	evtimer_del(pl->startup);
	d = json_object_new_object();
	msg_add_str(d, "version", pl->version);
	msg_add_str(d, "signal", signal);
	publish(pl, "system.shutdown", NULL, d);
	json_object_put(d);
}
