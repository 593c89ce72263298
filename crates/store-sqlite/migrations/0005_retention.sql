-- Retention: find what is left to expire without rereading what already has.
CREATE INDEX message_with_payload ON message (id) WHERE payload IS NOT NULL;
CREATE INDEX dedup_by_expiry ON dedup (expires_at);
