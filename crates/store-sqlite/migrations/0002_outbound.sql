-- Sending: applications, endpoints, messages, deliveries, attempts.
CREATE TABLE app (
    id            TEXT PRIMARY KEY,
    uid           TEXT UNIQUE,
    name          TEXT NOT NULL,
    metadata      TEXT NOT NULL,
    throttle_rate INTEGER,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

CREATE TABLE endpoint (
    id            TEXT PRIMARY KEY,
    app_id        TEXT NOT NULL REFERENCES app (id) ON DELETE CASCADE,
    uid           TEXT,
    url           TEXT NOT NULL,
    description   TEXT NOT NULL,
    secrets       TEXT NOT NULL,            -- JSON [[key, expires_at|null], …], current first
    event_types   TEXT,                     -- JSON array or NULL (all)
    channels      TEXT,                     -- JSON array or NULL (all)
    headers       TEXT NOT NULL,            -- JSON object
    disabled      INTEGER NOT NULL,
    throttle_rate INTEGER,
    metadata      TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    UNIQUE (app_id, uid)
);
CREATE INDEX endpoint_by_app ON endpoint (app_id, id);

CREATE TABLE message (
    id         TEXT PRIMARY KEY,
    app_id     TEXT NOT NULL REFERENCES app (id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,
    event_id   TEXT,
    payload    TEXT,                        -- NULL once expired by retention
    channels   TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX message_by_app ON message (app_id, id);
CREATE UNIQUE INDEX message_event_id ON message (app_id, event_id) WHERE event_id IS NOT NULL;

-- next_attempt_at is also the lease: a claimed delivery is due again when its
-- lease ends, so a dead worker's deliveries are retried without a sweeper.
CREATE TABLE delivery (
    message_id      TEXT NOT NULL REFERENCES message (id) ON DELETE CASCADE,
    endpoint_id     TEXT NOT NULL REFERENCES endpoint (id) ON DELETE CASCADE,
    app_id          TEXT NOT NULL,
    status          INTEGER NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at INTEGER,
    PRIMARY KEY (message_id, endpoint_id)
) WITHOUT ROWID;
CREATE INDEX delivery_due ON delivery (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
CREATE INDEX delivery_by_endpoint ON delivery (endpoint_id);

CREATE TABLE attempt (
    id                   TEXT PRIMARY KEY,
    message_id           TEXT NOT NULL REFERENCES message (id) ON DELETE CASCADE,
    endpoint_id          TEXT NOT NULL,
    app_id               TEXT NOT NULL,
    url                  TEXT NOT NULL,
    status               INTEGER NOT NULL,
    response_status_code INTEGER NOT NULL,
    response             TEXT NOT NULL,
    duration_ms          INTEGER NOT NULL,
    trigger_type         INTEGER NOT NULL,
    created_at           INTEGER NOT NULL
);
CREATE INDEX attempt_by_message ON attempt (message_id, id);
CREATE INDEX attempt_by_endpoint ON attempt (endpoint_id, id);
