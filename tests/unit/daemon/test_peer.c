/*
 * The host peer (daemon/runtime/peer.c) over a real socketpair, the test
 * playing the host: the dispatch table lets each message in only in its
 * states, anything else ends the peer with the right cause, and every way
 * a conversation ends reaches lost exactly once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bus.h"
#include "call.h"
#include "clock.h"
#include "frame.h"
#include "hostlog.h"
#include "jobs.h"
#include "log.h"
#include "msg.h"
#include "peer.h"
#include "peer_route.h"
#include "proute.h"

struct world {
	struct event_base *base;
	struct bus *bus;
	struct bus_sub *sub;
	struct hostlog *out;
	struct peer *peer;
	int host; /* the test's end of the socketpair */
	struct evbuffer *from_daemon;
	int ready, lost;
	enum exit_cause cause;
	char reason[256];
	bool told;
	int config_done;
	bool config_ok;
	char config_code[64];
	struct jobs *jobs;
	struct call *held; /* a call the test's service holds unanswered */
	int route_done;	   /* answers to http.requests */
	int route_status;
	char route_code[32];
};

/* A permission setup grants beside read:sessions (routes' tests), or NULL. */
static const char *extra_perm;

static void on_ready(struct peer *peer, void *arg)
{
	struct world *w = arg;
	w->ready++;
	bus_sub_attach(w->sub);
}

static void on_lost(struct peer *peer, enum exit_cause cause, const char *reason, bool told,
		    void *arg)
{
	struct world *w = arg;
	w->lost++;
	w->cause = cause;
	w->told = told;
	snprintf(w->reason, sizeof w->reason, "%s", reason ? reason : "");
}

static void on_bus_ready(struct bus_sub *sub, void *arg)
{
	struct world *w = arg;
	if (w->peer != NULL)
		peer_kick(w->peer);
}

static void on_config(void *arg, bool ok, const char *code, const char *message)
{
	struct world *w = arg;
	w->config_done++;
	w->config_ok = ok;
	snprintf(w->config_code, sizeof w->config_code, "%s", code ? code : "");
}

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof *w);
	json_object *perms = json_object_new_array();
	int sv[2];

	log_set_level(LOG_LVL_ERROR);
	signal(SIGPIPE,
	       SIG_IGN); /* the host writes after the peer hung up, as the daemon would see */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	json_object_array_add(perms, json_object_new_string("read:sessions"));
	if (extra_perm != NULL)
		json_object_array_add(perms, json_object_new_string(extra_perm));
	w->host = sv[1];
	w->base = event_base_new();
	w->bus = bus_new(&(struct bus_options){.queue_max = 16, .window = 4});
	w->sub = bus_sub_new(w->bus, "p", on_bus_ready, w);
	w->out = hostlog_new("p");
	w->from_daemon = evbuffer_new();
	w->peer = peer_new(w->base, w->bus, w->sub, w->out, sv[0],
			   &(struct peer_params){.name = "p",
						 .permissions = perms,
						 .handshake_timeout_ms = 200,
						 .event_timeout_ms = 200,
						 .ping_interval_ms = 60000,
						 .ping_timeout_ms = 60000},
			   &(struct peer_owner){.ready = on_ready, .lost = on_lost, .arg = w});
	json_object_put(perms);
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;
	if (w == NULL)
		return 0;
	peer_free(w->peer);
	hostlog_free(w->out);
	bus_sub_free(w->sub, BUS_DROP_SHUTDOWN);
	bus_free(w->bus);
	evbuffer_free(w->from_daemon);
	event_base_free(w->base);
	close(w->host);
	free(w);
	return 0;
}

/* Runs the loop for a few turns, collecting what the daemon sent. */
static void turn(struct world *w, int ms)
{
	int64_t until = clock_mono_ms() + ms;
	do {
		event_base_loop(w->base, EVLOOP_NONBLOCK);
		evbuffer_read(w->from_daemon, w->host, 65536);
		if (ms > 0)
			usleep(1000);
	} while (clock_mono_ms() < until);
}

/* Sends one message as the host (text is a JSON object). */
static void host_says(struct world *w, const char *text)
{
	struct evbuffer *b = evbuffer_new();
	json_object *m = json_tokener_parse(text);

	assert_non_null(m);
	assert_int_equal(frame_append_obj(b, m, FRAME_MAX_DEFAULT), 0);
	size_t len = evbuffer_get_length(b);
	int n = evbuffer_write(b, w->host);
	/* Once the peer has hung up, what the host writes may not arrive at all. */
	if (w->lost == 0)
		assert_int_equal(n, (int)len);
	json_object_put(m);
	evbuffer_free(b);
}

/* The next message the daemon sent, or NULL (new reference). */
static json_object *daemon_said(struct world *w)
{
	json_object *m = NULL;
	if (frame_pull(w->from_daemon, FRAME_MAX_DEFAULT, &m, NULL, 0) != FRAME_OK)
		return NULL;
	return m;
}

static void expect_type(struct world *w, const char *type)
{
	json_object *m = daemon_said(w);
	assert_non_null(m);
	assert_string_equal(msg_get_str(m, "t"), type);
	json_object_put(m);
}

#define HELLO                                                                                      \
	"{\"t\":\"hello\",\"protocol\":1,\"sdk_abi\":1,\"plugin\":{\"name\":\"p\",\"version\":"    \
	"\"1.0\"},\"subscriptions\":[],\"routes\":[],\"sandbox\":{\"layers\":[],\"missing\":[]}}"

static void handshake(struct world *w)
{
	host_says(w, HELLO);
	turn(w, 0);
	expect_type(w, "init");
	host_says(w, "{\"t\":\"ready\",\"subscriptions\":[\"session.*\"]}");
	turn(w, 0);
	assert_int_equal(w->ready, 1);
	assert_true(peer_serving(w->peer));
}

/* The table in order: hello, init, ready, events flow, replies ack them. */
static void handshake_then_events(void **state)
{
	struct world *w = *state;
	json_object *m;
	int64_t id;

	handshake(w);
	const char *version;
	json_object *sandbox, *subs;
	peer_declared(w->peer, &version, &sandbox, &subs);
	assert_string_equal(version, "1.0");
	assert_int_equal(json_object_array_length(subs), 1);
	id = bus_publish(w->bus, "session.created", NULL);
	turn(w, 0);
	m = daemon_said(w);
	assert_non_null(m);
	assert_string_equal(msg_get_str(m, "t"), "event");
	json_object_put(m);
	char reply[96];
	snprintf(reply, sizeof reply, "{\"t\":\"reply\",\"id\":%lld,\"ok\":true}", (long long)id);
	host_says(w, reply);
	turn(w, 0);
	struct bus_sub_stats st;
	bus_sub_stats(w->sub, &st);
	assert_int_equal(st.delivered, 1);
	assert_int_equal(w->lost, 0);
	/* A request not served yet is answered, not ignored. */
	host_says(w, "{\"t\":\"storage.get\",\"id\":7,\"key\":\"k\"}");
	turn(w, 0);
	m = daemon_said(w);
	assert_non_null(m);
	assert_string_equal(msg_get_str(msg_get_obj(m, "error"), "code"), "unimplemented");
	json_object_put(m);
	/* End of stream: lost once, the exit status decides the cause. */
	shutdown(w->host, SHUT_WR);
	turn(w, 10);
	assert_int_equal(w->lost, 1);
	assert_int_equal(w->cause, CAUSE_NONE);
}

/* Each message outside the states its row allows ends the peer as a protocol error. */
static void out_of_state_ends(void **state)
{
	static const char *const early[] = {
	    "{\"t\":\"ready\",\"subscriptions\":[]}",
	    "{\"t\":\"log\",\"level\":\"info\",\"msg\":\"x\"}",
	    "{\"t\":\"reply\",\"id\":1,\"ok\":true}",
	    "{\"t\":\"pong\",\"id\":1}",
	};
	for (size_t i = 0; i < sizeof early / sizeof early[0]; i++) {
		struct world *w;
		setup((void **)&w);
		host_says(w, early[i]);
		turn(w, 0);
		assert_int_equal(w->lost, 1);
		assert_int_equal(w->cause, CAUSE_PROTOCOL);
		assert_non_null(strstr(w->reason, "out of state"));
		assert_int_equal(w->ready, 0);
		/* Whatever the host does next, no second report. */
		host_says(w, HELLO);
		shutdown(w->host, SHUT_WR);
		turn(w, 10);
		assert_int_equal(w->lost, 1);
		teardown((void **)&w);
	}
	/* A second hello once serving is out of state too. */
	struct world *w = *state;
	handshake(w);
	host_says(w, HELLO);
	turn(w, 0);
	assert_int_equal(w->lost, 1);
	assert_int_equal(w->cause, CAUSE_PROTOCOL);
	assert_non_null(strstr(w->reason, "\"hello\" out of state"));
}

/* Unknown types, the daemon's own types, bad frames and stray replies end it too. */
static void refused_messages(void **state)
{
	static const struct {
		const char *text, *word;
	} cases[] = {
	    {"{\"t\":\"teleport\"}", "unknown message type"},
	    {"{\"t\":\"init\"}", "unknown message type \"init\""},
	    {"{\"t\":\"reply\",\"id\":999,\"ok\":true}", "not outstanding"},
	    {"{\"t\":\"pong\",\"id\":5}", "pong to no ping"},
	    {"{\"t\":\"log\",\"level\":\"loud\",\"msg\":\"x\"}", "log message"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct world *w;
		setup((void **)&w);
		handshake(w);
		host_says(w, cases[i].text);
		turn(w, 0);
		assert_int_equal(w->lost, 1);
		assert_int_equal(w->cause, CAUSE_PROTOCOL);
		assert_non_null(strstr(w->reason, cases[i].word));
		teardown((void **)&w);
	}
	/* A frame of length 0. */
	struct world *w = *state;
	static const unsigned char zero[4] = {0, 0, 0, 0};
	assert_int_equal(write(w->host, zero, 4), 4);
	turn(w, 0);
	assert_int_equal(w->lost, 1);
	assert_int_equal(w->cause, CAUSE_PROTOCOL);
	assert_non_null(strstr(w->reason, "bad frame"));
}

/* Deadline, reject and the owner's own end: each reported once, with its cause. */
static void every_end_once(void **state)
{
	struct world *w = *state;

	/* No hello within the handshake timeout. */
	turn(w, 300);
	assert_int_equal(w->lost, 1);
	assert_int_equal(w->cause, CAUSE_DEADLINE);
	assert_non_null(strstr(w->reason, "no hello"));
	peer_end(w->peer, CAUSE_SIGNAL, "too late");
	shutdown(w->host, SHUT_WR);
	turn(w, 10);
	assert_int_equal(w->lost, 1);
	teardown(state);
	*state = NULL;

	/* A protocol version it does not speak: rejected, the host told why. */
	setup(state);
	w = *state;
	host_says(w, "{\"t\":\"hello\",\"protocol\":99,\"sdk_abi\":1,\"plugin\":{\"name\":\"p\","
		     "\"version\":\"1\"}}");
	turn(w, 0);
	assert_int_equal(w->lost, 1);
	assert_int_equal(w->cause, CAUSE_LOAD);
	assert_true(w->told);
	expect_type(w, "reject");
	shutdown(w->host, SHUT_WR);
	turn(w, 10);
	assert_int_equal(w->lost, 1);
	teardown(state);
	*state = NULL;

	/* The owner ends it: lost follows from the loop, not from inside peer_end. */
	setup(state);
	w = *state;
	handshake(w);
	peer_end(w->peer, CAUSE_SIGNAL, "killed by %s", "the test");
	assert_int_equal(w->lost, 0);
	turn(w, 0);
	assert_int_equal(w->lost, 1);
	assert_int_equal(w->cause, CAUSE_SIGNAL);
	assert_string_equal(w->reason, "killed by the test");
	peer_end(w->peer, CAUSE_PROTOCOL, "again");
	turn(w, 0);
	assert_int_equal(w->lost, 1);
	teardown(state);
	*state = NULL;

	/* An event not answered within its deadline. */
	setup(state);
	w = *state;
	handshake(w);
	bus_publish(w->bus, "session.created", NULL);
	turn(w, 400);
	assert_int_equal(w->lost, 1);
	assert_int_equal(w->cause, CAUSE_DEADLINE);
	assert_non_null(strstr(w->reason, "event not handled"));
	*state = w;
}

/* config is a request in the table: its reply, its rejection, or its loss reach done once. */
static void config_requests(void **state)
{
	struct world *w = *state;
	json_object *cfg = json_tokener_parse("{\"a\":1}"), *m;
	int64_t id;
	char text[128];

	assert_int_equal(peer_configure(w->peer, cfg, on_config, w), -1); /* not serving yet */
	handshake(w);
	assert_int_equal(peer_configure(w->peer, cfg, on_config, w), 0);
	turn(w, 0);
	m = daemon_said(w);
	assert_non_null(m);
	assert_string_equal(msg_get_str(m, "t"), "config");
	assert_true(msg_get_int(m, "id", &id));
	json_object_put(m);
	snprintf(text, sizeof text,
		 "{\"t\":\"reply\",\"id\":%lld,\"error\":{\"code\":\"handler_failed\","
		 "\"message\":\"no\"}}",
		 (long long)id);
	host_says(w, text);
	turn(w, 0);
	assert_int_equal(w->config_done, 1);
	assert_false(w->config_ok);
	assert_string_equal(w->config_code, "handler_failed");
	/* A second reply to the same id is no longer outstanding. */
	host_says(w, text);
	turn(w, 0);
	assert_int_equal(w->lost, 1);
	assert_int_equal(w->config_done, 1);
	teardown(state);
	*state = NULL;

	/* Outstanding when the host goes: done hears of it before lost. */
	setup(state);
	w = *state;
	handshake(w);
	assert_int_equal(peer_configure(w->peer, cfg, on_config, w), 0);
	shutdown(w->host, SHUT_WR);
	turn(w, 10);
	assert_int_equal(w->config_done, 1);
	assert_false(w->config_ok);
	assert_string_equal(w->config_code, "lost");
	assert_int_equal(w->lost, 1);
	json_object_put(cfg);
}

/* A call service that keeps the call unanswered until the test answers it. */
static void hold_call(void *arg, struct call *call, json_object *m)
{
	struct world *w = arg;
	(void)m;
	w->held = call;
}

static struct call_service job_rows[2];
static struct call_services job_services;

/* The world of setup, with the jobs service and a held emit call; runs must end in 400 ms. */
static int setup_jobs(void **state)
{
	struct world *w;
	json_object *perms = json_object_new_array();
	int sv[2];

	setup(state);
	w = *state;
	/* Replace the peer by one with services. */
	peer_free(w->peer);
	close(w->host);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	w->host = sv[1];
	w->jobs = jobs_new(w->base, 400);
	job_rows[0] = (struct call_service){.type = MSG_JOB_ADD,
					    .permission = "scheduler",
					    .timeout_ms = 1000,
					    .fn = jobs_call,
					    .arg = w->jobs};
	job_rows[1] =
	    (struct call_service){.type = MSG_EMIT, .timeout_ms = 60000, .fn = hold_call, .arg = w};
	job_services = (struct call_services){.rows = job_rows, .n = 2, .jobs = w->jobs};
	json_object_array_add(perms, json_object_new_string("scheduler"));
	w->peer = peer_new(w->base, w->bus, w->sub, w->out, sv[0],
			   &(struct peer_params){.name = "p",
						 .permissions = perms,
						 .handshake_timeout_ms = 2000,
						 .event_timeout_ms = 2000,
						 .ping_interval_ms = 60000,
						 .ping_timeout_ms = 60000,
						 .services = &job_services},
			   &(struct peer_owner){.ready = on_ready, .lost = on_lost, .arg = w});
	json_object_put(perms);
	return 0;
}

static int teardown_jobs(void **state)
{
	struct world *w = *state;
	struct jobs *js = w->jobs;

	teardown(state);
	jobs_free(js);
	return 0;
}

/* The first message of type t the daemon sent within ms, or NULL (others are dropped). */
static json_object *await(struct world *w, const char *t, int ms)
{
	int64_t until = clock_mono_ms() + ms;
	json_object *m;

	while (clock_mono_ms() < until) {
		turn(w, 10);
		while ((m = daemon_said(w)) != NULL) {
			if (strcmp(msg_get_str(m, "t"), t) == 0)
				return m;
			json_object_put(m);
		}
	}
	return NULL;
}

/* The one job's status object (new reference). */
static json_object *job_status(struct world *w)
{
	json_object *a = jobs_status(w->jobs, "p"), *j;

	assert_int_equal(json_object_array_length(a), 1);
	j = json_object_get(json_object_array_get_idx(a, 0));
	json_object_put(a);
	return j;
}

/*
 * job.add in init only; once ready the job runs through a job request, its
 * answer counted; after ready job.add ends the host; a run not answered in
 * time ends it (deadline), but not while the host waits in a call.
 */
static void jobs_through_the_peer(void **state)
{
	struct world *w = *state;
	json_object *m, *j;
	int64_t id, v;
	char text[160];

	host_says(w, "{\"t\":\"hello\",\"protocol\":3,\"sdk_abi\":1,\"plugin\":{\"name\":\"p\","
		     "\"version\":\"1.0\"},\"subscriptions\":[],\"routes\":[],\"sandbox\":{}}");
	turn(w, 0);
	expect_type(w, "init");
	host_says(w, "{\"t\":\"job.add\",\"id\":1,\"name\":\"tick\",\"schedule\":\"@every 1\"}");
	host_says(w, "{\"t\":\"job.add\",\"id\":2,\"name\":\"bad\",\"schedule\":\"@every x\"}");
	host_says(w, "{\"t\":\"ready\",\"subscriptions\":[]}");
	turn(w, 0);
	m = await(w, "reply", 100);
	assert_non_null(m);
	assert_null(msg_get_obj(m, "error"));
	json_object_put(m);
	m = await(w, "reply", 100);
	assert_string_equal(msg_get_str(msg_get_obj(m, "error"), "code"), "bad_request");
	json_object_put(m);
	assert_int_equal(w->ready, 1);

	/* Due within a second: answered ok, counted. */
	m = await(w, "job", 3000);
	assert_non_null(m);
	assert_string_equal(msg_get_str(m, "name"), "tick");
	assert_true(msg_get_int(m, "id", &id));
	json_object_put(m);
	j = job_status(w);
	assert_true(json_object_get_boolean(json_object_object_get(j, "running")));
	json_object_put(j);
	snprintf(text, sizeof text, "{\"t\":\"reply\",\"id\":%lld,\"ok\":true}", (long long)id);
	host_says(w, text);
	turn(w, 0);
	j = job_status(w);
	assert_false(json_object_get_boolean(json_object_object_get(j, "running")));
	assert_true(msg_get_int(j, "runs", &v) && v == 1);
	assert_true(msg_get_int(j, "failed", &v) && v == 0);
	json_object_put(j);

	/*
	 * The next run: the host makes a call (held by the test's service) and
	 * stays in it past the run's 400 ms: not a deadline, the daemon's work.
	 */
	m = await(w, "job", 3000);
	assert_non_null(m);
	assert_true(msg_get_int(m, "id", &id));
	json_object_put(m);
	host_says(w, "{\"t\":\"emit\",\"id\":3,\"event\":\"x\",\"data\":{}}");
	turn(w, 700);
	assert_int_equal(w->lost, 0);
	assert_non_null(w->held);
	call_ok(w->held, NULL);
	w->held = NULL;
	m = await(w, "reply", 100);
	assert_non_null(m);
	json_object_put(m);
	/* Then the run's clock goes on, and it is not answered: the host is ended as hung. */
	turn(w, 700);
	assert_int_equal(w->lost, 1);
	assert_int_equal(w->cause, CAUSE_DEADLINE);
	assert_non_null(strstr(w->reason, "no answer to a job run within 400 ms"));
	j = job_status(w);
	assert_false(json_object_get_boolean(json_object_object_get(j, "scheduled")));
	json_object_put(j);
}

/* job.add after ready is out of state: the set of jobs is on_load's. */
static void job_add_after_ready(void **state)
{
	struct world *w = *state;

	host_says(w, "{\"t\":\"hello\",\"protocol\":3,\"sdk_abi\":1,\"plugin\":{\"name\":\"p\","
		     "\"version\":\"1.0\"},\"subscriptions\":[],\"routes\":[],\"sandbox\":{}}");
	host_says(w, "{\"t\":\"ready\",\"subscriptions\":[]}");
	turn(w, 10);
	assert_int_equal(w->ready, 1);
	host_says(w, "{\"t\":\"job.add\",\"id\":1,\"name\":\"tick\",\"schedule\":\"@every 1\"}");
	turn(w, 10);
	assert_int_equal(w->lost, 1);
	assert_int_equal(w->cause, CAUSE_PROTOCOL);
	assert_non_null(strstr(w->reason, "job.add"));
}

static void on_route(void *arg, json_object *reply, const char *code)
{
	struct world *w = arg;
	int64_t st = 0;

	w->route_done++;
	w->route_status = reply != NULL && msg_get_int(reply, "status", &st) ? (int)st : 0;
	snprintf(w->route_code, sizeof w->route_code, "%s", code ? code : "");
}

static int setup_routes(void **state)
{
	extra_perm = "routes";
	setup(state);
	extra_perm = NULL;
	return 0;
}

/* The id of the next message the daemon sent, checked to be of type. */
static int64_t next_id_of(struct world *w, const char *type)
{
	json_object *m = daemon_said(w);
	int64_t id = -1;

	assert_non_null(m);
	assert_string_equal(msg_get_str(m, "t"), type);
	assert_true(msg_get_int(m, "id", &id));
	json_object_put(m);
	return id;
}

/*
 * route.add during on_load gets the route's index; an http.request is
 * answered through peer_route_send's callback; one left unanswered past its
 * deadline is told "timeout" (the caller's 504) and the peer ends (deadline).
 */
static void route_requests(void **state)
{
	struct world *w = *state;
	char text[160];
	int64_t id, idx = -1, t = 0;
	json_object *m;

	host_says(w, HELLO);
	turn(w, 0);
	expect_type(w, "init");
	host_says(w, "{\"t\":\"route.add\",\"id\":1,\"method\":\"GET\",\"path\":\"/x/:id\","
		     "\"public\":true}");
	turn(w, 0);
	m = daemon_said(w);
	assert_non_null(m);
	assert_true(msg_get_int(m, "route", &idx));
	assert_int_equal(idx, 0);
	json_object_put(m);
	host_says(w, "{\"t\":\"ready\",\"subscriptions\":[]}");
	turn(w, 0);
	assert_true(peer_serving(w->peer));
	assert_int_equal(proutes_count(peer_routes(w->peer)), 1);

	m = json_tokener_parse("{\"route\":0,\"method\":\"GET\",\"path\":\"/x/1\"}");
	assert_int_equal(peer_route_send(w->peer, m, 100, on_route, w), 0);
	turn(w, 0);
	m = daemon_said(w);
	assert_non_null(m);
	assert_string_equal(msg_get_str(m, "t"), "http.request");
	assert_true(msg_get_int(m, "id", &id) && msg_get_int(m, "timeout_ms", &t) && t == 100);
	json_object_put(m);
	snprintf(text, sizeof text, "{\"t\":\"reply\",\"id\":%lld,\"ok\":true,\"status\":201}",
		 (long long)id);
	host_says(w, text);
	turn(w, 0);
	assert_int_equal(w->route_done, 1);
	assert_int_equal(w->route_status, 201);
	assert_string_equal(w->route_code, "");

	m = json_tokener_parse("{\"route\":0,\"method\":\"GET\",\"path\":\"/x/2\"}");
	assert_int_equal(peer_route_send(w->peer, m, 100, on_route, w), 0);
	turn(w, 0);
	(void)next_id_of(w, "http.request");
	turn(w, 400);
	assert_int_equal(w->route_done, 2);
	assert_string_equal(w->route_code, "timeout");
	assert_int_equal(w->lost, 1);
	assert_int_equal(w->cause, CAUSE_DEADLINE);
	assert_non_null(strstr(w->reason, "http.request"));
	m = json_object_new_object();
	assert_int_equal(peer_route_send(w->peer, m, 100, on_route, w), -1); /* not serving */
}

/* Without the routes permission route.add is refused, and the host goes on. */
static void route_add_denied(void **state)
{
	struct world *w = *state;
	json_object *m;

	host_says(w, HELLO);
	turn(w, 0);
	expect_type(w, "init");
	host_says(w, "{\"t\":\"route.add\",\"id\":1,\"method\":\"GET\",\"path\":\"/x\"}");
	turn(w, 0);
	m = daemon_said(w);
	assert_non_null(m);
	assert_string_equal(msg_get_str(msg_get_obj(m, "error"), "code"), ERR_PERMISSION);
	json_object_put(m);
	assert_int_equal(w->lost, 0);
	assert_int_equal(proutes_count(peer_routes(w->peer)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(handshake_then_events, setup, teardown),
	    cmocka_unit_test_setup_teardown(out_of_state_ends, setup, teardown),
	    cmocka_unit_test_setup_teardown(refused_messages, setup, teardown),
	    cmocka_unit_test_setup_teardown(every_end_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(config_requests, setup, teardown),
	    cmocka_unit_test_setup_teardown(jobs_through_the_peer, setup_jobs, teardown_jobs),
	    cmocka_unit_test_setup_teardown(job_add_after_ready, setup_jobs, teardown_jobs),
	    cmocka_unit_test_setup_teardown(route_requests, setup_routes, teardown),
	    cmocka_unit_test_setup_teardown(route_add_denied, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
