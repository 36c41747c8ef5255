/*
 * libFuzzer target for everything the daemon does with bytes from a plugin
 * host: the input is what a host writes on its channel, fed to the real
 * peer (daemon/runtime/peer.c, with the real bus and host log) over a
 * socketpair. Frames, the handshake state machine, replies, logs,
 * subscriptions, events flowing to the host after a ready: whatever
 * arrives, the daemon must neither crash nor leak, must end the peer on
 * anything it refuses, and must report that end exactly once. Events are
 * published before and after the input so delivery paths run too.
 */
#include <event2/event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bus.h"
#include "hostlog.h"
#include "log.h"
#include "peer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int lost_calls, ready_calls;

static void on_ready(struct peer *peer, void *arg)
{
	(void)peer;
	ready_calls++;
	bus_sub_attach(arg);
}

static void on_lost(struct peer *peer, enum exit_cause cause, const char *reason, bool told,
		    void *arg)
{
	(void)peer;
	(void)told;
	lost_calls++;
	/* A cause the peer decided always comes with a sentence. */
	if (cause != CAUSE_NONE && reason == NULL)
		abort();
	bus_sub_detach(arg, cause != CAUSE_NONE);
}

static void on_bus_ready(struct bus_sub *sub, void *arg)
{
	(void)sub;
	if (*(struct peer **)arg != NULL)
		peer_kick(*(struct peer **)arg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct event_base *base;
	struct bus *bus;
	struct bus_sub *sub;
	struct hostlog *out;
	struct peer *peer = NULL;
	json_object *perms, *ev;
	char sink[4096];
	int sv[2];

	log_set_level(LOG_LVL_ERROR);
	lost_calls = ready_calls = 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	base = event_base_new();
	bus = bus_new(&(struct bus_options){.queue_max = 64, .window = 4});
	sub = bus_sub_new(bus, "fuzz", on_bus_ready, &peer);
	out = hostlog_new("fuzz");
	perms = json_object_new_array();
	json_object_array_add(perms, json_object_new_string("read:sessions"));
	json_object_array_add(perms, json_object_new_string("read:users"));
	peer = peer_new(base, bus, sub, out, sv[0],
			&(struct peer_params){.name = "fuzz",
					      .permissions = perms,
					      .handshake_timeout_ms = 60000,
					      .event_timeout_ms = 60000,
					      .ping_interval_ms = 60000,
					      .ping_timeout_ms = 60000},
			&(struct peer_owner){.ready = on_ready, .lost = on_lost, .arg = sub});
	ev = json_object_new_object();
	json_object_object_add(ev, "id", json_object_new_string("s1"));
	bus_publish(bus, "session.created", ev);

	/* The host's side: all of the input, then end of stream. */
	if (size > 0 && write(sv[1], data, size) < 0)
		abort();
	shutdown(sv[1], SHUT_WR);
	for (int i = 0; i < 64; i++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		if (i == 8)
			bus_publish(bus, "user.login", ev);
		/* Drain what the daemon sends so it never blocks on a full socket. */
		while (read(sv[1], sink, sizeof sink) > 0)
			;
	}
	/* End of stream reached the peer: it ended, once, and said so once. */
	if (lost_calls != 1 || ready_calls > 1)
		abort();

	peer_free(peer);
	peer = NULL;
	hostlog_free(out);
	bus_sub_free(sub, BUS_DROP_SHUTDOWN);
	bus_free(bus);
	event_base_free(base);
	json_object_put(ev);
	json_object_put(perms);
	close(sv[1]);
	return 0;
}
