-- 0011: history on request (POST /api/plugins/marketplace/replay/{name}).
-- A replay is not written into acked_id: the daemon holding the plugin's
-- lease writes its cursor in batches from memory and would write it forward
-- again. It is a request the owner consumes: replay_from is the cursor to
-- go back to (the lowest of the requests not yet taken) and replay_seq
-- counts the requests, so the owner clears exactly the one it acted on and a
-- newer request is never lost. While replay_from is set, the owner's batched
-- cursor writes are refused (they were computed before it saw the request);
-- retention keeps what replay_from still needs.

ALTER TABLE ss_event_cursors
    ADD COLUMN replay_from BIGINT,
    ADD COLUMN replay_seq BIGINT NOT NULL DEFAULT 0;
