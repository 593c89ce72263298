-- A delivery's version, bumped by every claim and every resend or recover: a
-- try's outcome moves the delivery only if it is still at the version the try
-- was claimed at.
ALTER TABLE delivery ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
