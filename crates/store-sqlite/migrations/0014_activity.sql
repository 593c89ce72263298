-- Each node's counts per minute (received, delivered, forwarded), so every
-- node's dashboard shows the whole cluster. A few rows per node and minute;
-- retention drops what is two hours old.
CREATE TABLE activity (
    kind     TEXT    NOT NULL,
    minute   INTEGER NOT NULL,
    node     TEXT    NOT NULL,
    ok       INTEGER NOT NULL,
    failed   INTEGER NOT NULL,
    total_ms REAL    NOT NULL,
    PRIMARY KEY (kind, minute, node)
) WITHOUT ROWID;
