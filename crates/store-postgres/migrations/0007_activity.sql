-- Each node's counts per minute (received, delivered, forwarded), so every
-- node's dashboard shows the whole cluster. A few rows per node and minute;
-- retention drops what is two hours old.
CREATE TABLE activity (
    kind     TEXT             NOT NULL,
    minute   BIGINT           NOT NULL,
    node     TEXT             NOT NULL,
    ok       BIGINT           NOT NULL,
    failed   BIGINT           NOT NULL,
    total_ms DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (kind, minute, node)
);
