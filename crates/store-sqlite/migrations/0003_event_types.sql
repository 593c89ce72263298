-- Event types: names, descriptions, and optional JSON Schemas payloads must match.
CREATE TABLE event_type (
    name        TEXT PRIMARY KEY,
    description TEXT NOT NULL,
    schemas     TEXT,                       -- JSON object: version -> JSON Schema
    archived    INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
