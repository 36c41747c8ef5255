-- 0005: the durable event outbox. With a database, POST /api/events answers
-- 202 only after its events are committed here, and a core service that
-- shares the database emits an event by inserting a row in its own
-- transaction (a transactional outbox: the event exists iff its transaction
-- committed). Ids come from the identity: unique across daemons and restarts.
-- Every insert, whoever makes it, wakes the daemons with NOTIFY ss_events
-- (once per statement: a batch of 10000 rows is one notification).

CREATE TABLE ss_events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    type TEXT NOT NULL CHECK (length(type) BETWEEN 1 AND 128),
    data JSONB NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(data) = 'object'),
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

CREATE FUNCTION ss_notify_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('ss_events', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER ss_events_notify AFTER INSERT ON ss_events
    FOR EACH STATEMENT EXECUTE FUNCTION ss_notify_events();
