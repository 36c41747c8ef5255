-- 0009: NOTIFY ss_events carries the last id the inserting statement took
-- (the session's currval of the identity: ids are taken in row order, so it
-- is the statement's highest), or '' when the session has taken none. A
-- daemon whose reader is already past that id (its own group commit, handed
-- on from memory) skips the read; '' still means "read". A hint only: the
-- daemons' poll reads whatever a notification failed to announce.

CREATE OR REPLACE FUNCTION ss_notify_events() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    last_id TEXT := '';
BEGIN
    BEGIN
        last_id := currval(pg_get_serial_sequence('ss_events', 'id'))::text;
    EXCEPTION WHEN object_not_in_prerequisite_state THEN
        last_id := '';
    END;
    PERFORM pg_notify('ss_events', last_id);
    RETURN NULL;
END
$$;
