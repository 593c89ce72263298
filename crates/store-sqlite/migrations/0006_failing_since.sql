-- When an endpoint's current run of failed attempts began (NULL after a success).
ALTER TABLE endpoint ADD COLUMN failing_since INTEGER;
