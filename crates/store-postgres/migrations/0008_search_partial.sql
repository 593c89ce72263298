-- The trigram index holds indexed events only. GIN indexes NULLs too, so
-- every stored event (search NULL until the indexer comes) added an entry
-- to the index's pending list, and the request whose insert overflowed that
-- list flushed it into the index while its client waited. A LIKE on
-- `search` implies it is not NULL, so searches use the partial index as
-- they used the whole one. `fastupdate` off: only the indexer writes here,
-- each of its steps pays for its own entries, and searches have no pending
-- list to scan.
DROP INDEX inbound_event_search;
CREATE INDEX inbound_event_search ON inbound_event
    USING gin (search public.gin_trgm_ops) WITH (fastupdate = off)
    WHERE search IS NOT NULL;
