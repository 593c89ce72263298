-- A source may also answer at an exact path of its own (unique), and keeps its
-- replies, event-type rule and request authentication as one JSON document.
ALTER TABLE source ADD COLUMN path TEXT;
ALTER TABLE source ADD COLUMN options TEXT NOT NULL DEFAULT '{}';
CREATE UNIQUE INDEX source_path ON source (path) WHERE path IS NOT NULL;
