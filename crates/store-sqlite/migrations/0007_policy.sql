-- Per-endpoint overrides of the engine's defaults (NULL: the default).
ALTER TABLE endpoint ADD COLUMN retry_schedule TEXT;      -- JSON array of delays in ms
ALTER TABLE endpoint ADD COLUMN timeout_ms INTEGER;
ALTER TABLE endpoint ADD COLUMN max_concurrency INTEGER;
-- The next attempt was asked for by hand (resend, recover): recorded as trigger 1.
ALTER TABLE delivery ADD COLUMN manual INTEGER NOT NULL DEFAULT 0;
-- Settings that expire (app tokens, idempotency answers); retention sweeps them.
ALTER TABLE setting ADD COLUMN expires_at INTEGER;
CREATE INDEX setting_by_expiry ON setting (expires_at) WHERE expires_at IS NOT NULL;
