/*
 * libFuzzer target for everything the daemon does with bytes from a plugin
 * host: the input is what a host writes on its channel, fed to the real
 * supervisor (daemon/runtime/supervisor.c, hostchan.c, bus.c) over a socketpair with
 * no process behind it (supervisor_adopt). Frames, the handshake state
 * machine, replies, logs, subscriptions, events flowing to the host after a
 * ready: whatever arrives, the daemon must neither crash nor leak, and ends
 * the channel on anything it refuses. Events are published before and after
 * the input so delivery paths run too.
 */
#include <event2/event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bus.h"
#include "log.h"
#include "supervisor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct event_base *base;
	struct bus *bus;
	struct supervisor *sup;
	json_object *perms, *ev;
	char sink[4096];
	int sv[2];

	log_set_level(LOG_LVL_ERROR);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	base = event_base_new();
	bus = bus_new(&(struct bus_options){.queue_max = 64, .window = 4});
	sup = supervisor_new(base, bus,
			     &(struct supervisor_options){.host_path = "/nonexistent/host",
							  .handshake_timeout_ms = 60000,
							  .event_timeout_ms = 60000});
	perms = json_object_new_array();
	json_object_array_add(perms, json_object_new_string("read:sessions"));
	json_object_array_add(perms, json_object_new_string("read:users"));
	if (supervisor_adopt(
		sup,
		&(struct plugin_spec){.name = "fuzz", .path = "builtin:fuzz", .permissions = perms},
		sv[0]) < 0)
		abort();
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
	json_object *st = supervisor_status(sup, "fuzz");
	if (st == NULL)
		abort();
	json_object_put(st);

	supervisor_free(sup);
	bus_free(bus);
	event_base_free(base);
	json_object_put(ev);
	json_object_put(perms);
	close(sv[1]);
	return 0;
}
