-- The search text moves out of the event's row into a table of its own:
-- indexing an event then inserts one row there instead of rewriting the
-- event's row (and every index on it), and storing an event no longer
-- touches the trigram index at all (a NULL `search` was an entry of its
-- own in the GIN index, whose pending list a request's insert could be the
-- one to flush). An event's commit queues it in `search_pending` (ordered
-- by id, so the indexer takes the oldest first); deleting an event deletes
-- its search row (the foreign key), and a queued one whose event is gone is
-- dropped by the indexer.
CREATE TABLE inbound_search (
    source TEXT NOT NULL,
    id     TEXT NOT NULL,
    search TEXT NOT NULL,
    PRIMARY KEY (source, id),
    FOREIGN KEY (source, id) REFERENCES inbound_event (source, id) ON DELETE CASCADE
);
CREATE TABLE search_pending (
    id     TEXT NOT NULL,
    source TEXT NOT NULL,
    PRIMARY KEY (id, source)
);
INSERT INTO inbound_search (source, id, search)
    SELECT source, id, search FROM inbound_event WHERE search IS NOT NULL;
INSERT INTO search_pending (id, source)
    SELECT id, source FROM inbound_event WHERE search IS NULL;
DROP INDEX inbound_event_search;
DROP INDEX inbound_event_unsearched;
ALTER TABLE inbound_event DROP COLUMN search;
CREATE INDEX inbound_search_text ON inbound_search USING gin (search public.gin_trgm_ops);
