-- Sources, the inbox, de-duplication keys and server settings.
CREATE TABLE source (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    scheme          TEXT NOT NULL,
    secrets         TEXT NOT NULL,          -- JSON array of strings, newest first
    tolerance_ms    INTEGER NOT NULL,
    dedup           TEXT NOT NULL,
    dedup_window_ms INTEGER NOT NULL,
    allow_ips       TEXT NOT NULL,          -- JSON array of CIDRs
    rate_limit      INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

-- Keyed by (source, id): the primary key is also the index every inbox query
-- uses, so an insert touches two B-trees, not three.
CREATE TABLE inbound_event (
    id             TEXT NOT NULL,
    source         TEXT NOT NULL,
    event_type     TEXT,
    method         TEXT NOT NULL,
    path           TEXT NOT NULL,
    query          TEXT,
    headers        TEXT NOT NULL,           -- JSON array of [name, value]
    body           BLOB NOT NULL,           -- byte-exact
    remote_addr    TEXT,
    received_at    INTEGER NOT NULL,
    verdict        TEXT NOT NULL,
    verdict_reason TEXT,
    dedup_key      TEXT,
    PRIMARY KEY (source, id)
);
-- Only rejected events are indexed by verdict (for the per-source cap): a
-- partial index costs accepted events nothing.
CREATE INDEX inbound_event_rejected ON inbound_event (source, id) WHERE verdict = 'rejected';

CREATE TABLE dedup (
    source     TEXT NOT NULL,
    key        TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (source, key)
) WITHOUT ROWID;

CREATE TABLE setting (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
