/*
 * POST /api/plugins/marketplace/replay/{name} (admin): gives a plugin again
 * the events retention still holds, from {"fromId": N} or {"since": "RFC
 * 3339 time"} on (runtime/deliver_replay.h). Registered by core_api.
 */
#ifndef SS_API_REPLAY_H
#define SS_API_REPLAY_H

struct api;
struct deliver;

/*
 * *dl is read at each call: the daemon's delivery, NULL without a database
 * (no history: the answer says so, 409) or once it has stopped.
 */
void api_replay_register(struct api *api, struct deliver *const *dl);

#endif
