-- The search index moves to a file of its own beside the database (see
-- `indexer`): its writes then never hold this file's write lock, so a
-- request's commit never waits behind them. What stays here is what the
-- indexer needs to follow the inbox: this database's identity (an index
-- file built for another database is rebuilt) and the rowids of deleted
-- events, which the indexer takes out of the index. Nothing is queued per
-- insert: the indexer indexes the events past the highest rowid it has.
DROP TRIGGER inbound_event_unsearch;
DROP TABLE event_search;
DROP TABLE search_pending;
CREATE TABLE search_index (id TEXT NOT NULL);
INSERT INTO search_index (id) VALUES (lower(hex(randomblob(16))));
CREATE TABLE search_forget (seq INTEGER PRIMARY KEY AUTOINCREMENT, event INTEGER NOT NULL);
CREATE TRIGGER inbound_event_forget AFTER DELETE ON inbound_event BEGIN
    INSERT INTO search_forget (event) VALUES (old.rowid);
END;
