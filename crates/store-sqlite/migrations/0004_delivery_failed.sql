-- Failed (dead-letter) deliveries, for recover and for the queue-depth metric;
-- partial, so pending and delivered rows cost nothing.
CREATE INDEX delivery_failed ON delivery (endpoint_id) WHERE status = 2;
