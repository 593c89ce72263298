-- Forwarding: routes from a source to a URL, and each event's forward down
-- each route. A forward's rowid (seq) is its arrival order, which ordered
-- routes deliver in.
CREATE TABLE route (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    source     TEXT NOT NULL,
    url        TEXT NOT NULL,
    ordered    INTEGER NOT NULL,
    paused     INTEGER NOT NULL,
    options    TEXT NOT NULL,          -- JSON: filter, policy, headers, signing
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX route_by_source ON route (source, name);

CREATE TABLE forward (
    seq              INTEGER PRIMARY KEY,
    route_id         TEXT NOT NULL REFERENCES route (id) ON DELETE CASCADE,
    source           TEXT NOT NULL,
    event_id         TEXT NOT NULL,
    status           INTEGER NOT NULL,
    attempts         INTEGER NOT NULL,
    next_attempt_at  INTEGER,
    manual           INTEGER NOT NULL,
    version          INTEGER NOT NULL,
    last_status      INTEGER,
    last_response    TEXT,
    last_duration_ms INTEGER,
    last_at          INTEGER,
    FOREIGN KEY (source, event_id) REFERENCES inbound_event (source, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX forward_key ON forward (route_id, event_id);
CREATE INDEX forward_by_event ON forward (source, event_id);
CREATE INDEX forward_due ON forward (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
-- The heads of ordered routes: their earliest forward not yet finished.
CREATE INDEX forward_open ON forward (route_id, seq) WHERE status IN (1, 3);
