/*
 * The host's end of the protocol socket (fd 3): blocking, framed JSON in both
 * directions with the codec of proto/frame.h. One thread, one request at a
 * time, so plain read(2)/write(2) are all it needs: no event loop, and no
 * syscall the serving-phase seccomp filter would have to allow for one.
 */
#ifndef SS_HOST_CHANNEL_H
#define SS_HOST_CHANNEL_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct channel;

struct channel *channel_new(int fd);
void channel_free(struct channel *ch);

/* The largest frame body accepted or sent (init.limits.max_frame). */
void channel_set_max(struct channel *ch, size_t max);
size_t channel_max(const struct channel *ch);

/*
 * Sends msg as one frame. Returns 0; -1 with errno EMSGSIZE when the frame
 * would exceed the maximum (nothing is sent); -1 with another errno when the
 * socket failed (the daemon went away).
 */
int channel_send(struct channel *ch, json_object *msg);

/*
 * Cumulative acknowledgements (protocol 4). channel_ack records that the
 * event id was handled; the acks recorded since the last send go out as one
 * "ack" frame in front of the next frame channel_send writes (one writev),
 * or alone with channel_ack_flush, so they always precede whatever the host
 * says next. channel_ack_held is how many are held, with *age_ns how long
 * the oldest has waited (0 when none). channel_ack_flush returns 0 (also
 * when nothing was held) or -1 when the socket failed.
 */
void channel_ack(struct channel *ch, int64_t id);
int64_t channel_ack_held(const struct channel *ch, int64_t *age_ns);
int channel_ack_flush(struct channel *ch);

/* Whether a whole frame (or a bad length prefix) is already read: recv will not block. */
bool channel_has_frame(const struct channel *ch);

/*
 * Receives one message. Returns 1 with *out set (caller puts it), 0 on EOF,
 * -1 on a framing or socket error with a reason in err.
 */
int channel_recv(struct channel *ch, json_object **out, char *err, size_t errlen);

#endif
