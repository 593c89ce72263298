-- Inbox search: each event's searchable text (its body and header values,
-- see `search_text`) under a trigram index, so `LIKE '%…%'` is an index
-- lookup. pg_trgm goes to `public` so that every schema shares the one copy.
CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;
ALTER TABLE inbound_event ADD COLUMN search TEXT NOT NULL DEFAULT '';
UPDATE inbound_event SET search = lower(encode(body, 'escape') || E'\n' || headers);
CREATE INDEX inbound_event_search ON inbound_event USING gin (search public.gin_trgm_ops);
-- Every source's events, newest first (the inbox across sources).
CREATE INDEX inbound_event_by_id ON inbound_event (id);
