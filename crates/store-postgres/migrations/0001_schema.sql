-- hookline on PostgreSQL: the whole schema. Times are BIGINT milliseconds
-- since the Unix epoch; ids are the typed, time-sortable prefixed strings;
-- JSON values are kept as text, exactly as the API wrote them.

CREATE TABLE source (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    scheme          TEXT NOT NULL,
    secrets         TEXT NOT NULL,
    tolerance_ms    BIGINT NOT NULL,
    dedup           TEXT NOT NULL,
    dedup_window_ms BIGINT NOT NULL,
    allow_ips       TEXT NOT NULL,
    rate_limit      INTEGER,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);

-- The inbox: by (source, id), which is also by (source, time).
CREATE TABLE inbound_event (
    id             TEXT NOT NULL,
    source         TEXT NOT NULL,
    event_type     TEXT,
    method         TEXT NOT NULL,
    path           TEXT NOT NULL,
    query          TEXT,
    headers        TEXT NOT NULL,
    body           BYTEA NOT NULL,
    remote_addr    TEXT,
    received_at    BIGINT NOT NULL,
    verdict        TEXT NOT NULL,
    verdict_reason TEXT,
    dedup_key      TEXT,
    PRIMARY KEY (source, id)
);
CREATE INDEX inbound_event_rejected ON inbound_event (source, id) WHERE verdict = 'rejected';

CREATE TABLE dedup (
    source     TEXT NOT NULL,
    key        TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (source, key)
);
CREATE INDEX dedup_by_expiry ON dedup (expires_at);

CREATE TABLE setting (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    expires_at BIGINT
);
CREATE INDEX setting_by_expiry ON setting (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE app (
    id            TEXT PRIMARY KEY,
    uid           TEXT UNIQUE,
    name          TEXT NOT NULL,
    metadata      TEXT NOT NULL,
    throttle_rate INTEGER,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE endpoint (
    id              TEXT PRIMARY KEY,
    app_id          TEXT NOT NULL REFERENCES app (id) ON DELETE CASCADE,
    uid             TEXT,
    url             TEXT NOT NULL,
    description     TEXT NOT NULL,
    secrets         TEXT NOT NULL,
    event_types     TEXT,
    channels        TEXT,
    headers         TEXT NOT NULL,
    disabled        BOOLEAN NOT NULL,
    throttle_rate   INTEGER,
    metadata        TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    retry_schedule  TEXT,
    timeout_ms      BIGINT,
    max_concurrency INTEGER,
    failing_since   BIGINT,
    UNIQUE (app_id, uid)
);
CREATE INDEX endpoint_by_app ON endpoint (app_id, id);

CREATE TABLE event_type (
    name        TEXT PRIMARY KEY,
    description TEXT NOT NULL,
    schemas     TEXT,
    archived    BOOLEAN NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE message (
    id         TEXT PRIMARY KEY,
    app_id     TEXT NOT NULL REFERENCES app (id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,
    event_id   TEXT,
    payload    TEXT,
    channels   TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX message_by_app ON message (app_id, id);
CREATE UNIQUE INDEX message_event_id ON message (app_id, event_id) WHERE event_id IS NOT NULL;
CREATE INDEX message_with_payload ON message (id) WHERE payload IS NOT NULL;

-- next_attempt_at is also the lease: a claimed delivery is due again when its
-- lease ends, so a dead node's deliveries are retried by the others.
CREATE TABLE delivery (
    message_id      TEXT NOT NULL REFERENCES message (id) ON DELETE CASCADE,
    endpoint_id     TEXT NOT NULL REFERENCES endpoint (id) ON DELETE CASCADE,
    app_id          TEXT NOT NULL,
    status          SMALLINT NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at BIGINT,
    manual          BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (message_id, endpoint_id)
);
CREATE INDEX delivery_due ON delivery (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
CREATE INDEX delivery_by_endpoint ON delivery (endpoint_id);
CREATE INDEX delivery_failed ON delivery (endpoint_id) WHERE status = 2;

CREATE TABLE attempt (
    id                   TEXT PRIMARY KEY,
    message_id           TEXT NOT NULL REFERENCES message (id) ON DELETE CASCADE,
    endpoint_id          TEXT NOT NULL,
    app_id               TEXT NOT NULL,
    url                  TEXT NOT NULL,
    status               SMALLINT NOT NULL,
    response_status_code INTEGER NOT NULL,
    response             TEXT NOT NULL,
    duration_ms          BIGINT NOT NULL,
    trigger_type         SMALLINT NOT NULL,
    created_at           BIGINT NOT NULL
);
CREATE INDEX attempt_by_message ON attempt (message_id, id);
CREATE INDEX attempt_by_endpoint ON attempt (endpoint_id, id);
