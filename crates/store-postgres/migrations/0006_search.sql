-- Inbox search: each event's searchable text (its body and header values,
-- case-folded: `search_text` in hookline's core) under a trigram index, so
-- `LIKE '%…%'` is an index lookup. Events are stored with `search` NULL and
-- the indexer fills it in off the request path (the partial index finds
-- those still to do); a search scans them meanwhile. pg_trgm goes to
-- `public` so that every schema shares the one copy.
CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;
ALTER TABLE inbound_event ADD COLUMN search TEXT;
CREATE INDEX inbound_event_search ON inbound_event USING gin (search public.gin_trgm_ops);
CREATE INDEX inbound_event_unsearched ON inbound_event (id) WHERE search IS NULL;
-- Every source's events, newest first (the inbox across sources).
CREATE INDEX inbound_event_by_id ON inbound_event (id);
-- A body as text for the scan of events not indexed yet: UTF-8 if it is,
-- else its escaped bytes.
CREATE FUNCTION hl_body_text(b BYTEA) RETURNS TEXT IMMUTABLE LANGUAGE plpgsql AS $$
BEGIN
    RETURN convert_from(b, 'UTF8');
EXCEPTION WHEN others THEN
    RETURN encode(b, 'escape');
END $$;
