-- 0010: the crashes an event caused are counted with the plugin's cursor,
-- not in the memory of the daemon that saw them: try_id is the event a
-- host of the plugin crashed handling, tries how many hosts did (issue 14).
-- The daemon that takes the plugin's delivery over carries on from that
-- count, so an event is set aside as poison after two crashes in all,
-- however often its delivery moves between daemons.

ALTER TABLE ss_event_cursors
    ADD COLUMN try_id BIGINT,
    ADD COLUMN tries INTEGER NOT NULL DEFAULT 0;
