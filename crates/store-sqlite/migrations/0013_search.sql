-- Inbox search. A contentless trigram index over each event's searchable
-- text (its body and header values: `hl_search_text`), keyed by the event's
-- rowid, so it stores no second copy of the body. An insert only queues its
-- rowid in `search_pending` (one small B-tree insert in the request's
-- commit); the indexer folds the queue into the index in batches, and a
-- search scans what is still queued, so its answer is exact either way.
-- Deleting an event (retention, the rejected cap) deletes its entries.
CREATE VIRTUAL TABLE event_search USING fts5(text, content = '', contentless_delete = 1, tokenize = 'trigram');
CREATE TABLE search_pending (rowid INTEGER PRIMARY KEY);
CREATE TRIGGER inbound_event_unsearch AFTER DELETE ON inbound_event BEGIN
    DELETE FROM event_search WHERE rowid = old.rowid;
    DELETE FROM search_pending WHERE rowid = old.rowid;
END;
INSERT INTO search_pending (rowid) SELECT rowid FROM inbound_event;
-- Every source's events, newest first (the inbox across sources).
CREATE INDEX inbound_event_by_id ON inbound_event (id);
