-- Forwarding: routes from a source to a URL, and each event's forward down
-- each route. A forward's seq is its arrival order, which ordered routes
-- deliver in.
CREATE TABLE route (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    source     TEXT NOT NULL,
    url        TEXT NOT NULL,
    ordered    BOOLEAN NOT NULL,
    paused     BOOLEAN NOT NULL,
    options    TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX route_by_source ON route (source, name);

CREATE TABLE forward (
    seq              BIGSERIAL PRIMARY KEY,
    route_id         TEXT NOT NULL REFERENCES route (id) ON DELETE CASCADE,
    source           TEXT NOT NULL,
    event_id         TEXT NOT NULL,
    status           SMALLINT NOT NULL,
    attempts         INTEGER NOT NULL,
    next_attempt_at  BIGINT,
    manual           BOOLEAN NOT NULL,
    version          BIGINT NOT NULL,
    last_status      INTEGER,
    last_response    TEXT,
    last_duration_ms BIGINT,
    last_at          BIGINT,
    FOREIGN KEY (source, event_id) REFERENCES inbound_event (source, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX forward_key ON forward (route_id, event_id);
CREATE INDEX forward_by_event ON forward (source, event_id);
CREATE INDEX forward_due ON forward (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
CREATE INDEX forward_open ON forward (route_id, seq) WHERE status IN (1, 3);
