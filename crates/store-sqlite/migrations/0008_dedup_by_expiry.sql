-- De-duplication keys in expiry order: each new key is appended near the end
-- of the tree instead of dirtying a random page, and the writer keeps an
-- in-memory index of the live keys (loaded at start) to find them.
CREATE TABLE dedup_v2 (
    expires_at INTEGER NOT NULL,
    source     TEXT NOT NULL,
    key        TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    PRIMARY KEY (expires_at, source, key)
) WITHOUT ROWID;
INSERT INTO dedup_v2 (expires_at, source, key, event_id)
    SELECT expires_at, source, key, event_id FROM dedup;
DROP TABLE dedup;
ALTER TABLE dedup_v2 RENAME TO dedup;
