-- Behavioural anomaly detection: each tracked entity's learned baseline (the detector's
-- state as JSON), saved periodically and on shutdown and read at start; rows of entities
-- idle for long are pruned, and at most `[anomaly] max_entities` are read back.
CREATE TABLE anomaly_baselines (
    kind          TEXT NOT NULL,
    id            TEXT NOT NULL,
    tenant        TEXT,
    state         TEXT NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX anomaly_baselines_updated ON anomaly_baselines (updated_at);

-- Keys held to a lower rate limit by anomaly detection, and the limit to give back.
CREATE TABLE anomaly_throttles (
    key_id        TEXT PRIMARY KEY,
    previous_rpm  BIGINT,
    throttled_rpm BIGINT NOT NULL,
    until         BIGINT NOT NULL
);
