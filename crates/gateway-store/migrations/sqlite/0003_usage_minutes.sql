-- Per-minute usage totals (`[telemetry.usage] detail = "minute"`): one row per UTC minute,
-- tenant, subject and public model, added to by every flush of every gateway instance.
CREATE TABLE usage_minutes (
    minute_ms         BIGINT NOT NULL,
    tenant            TEXT NOT NULL,
    subject           TEXT NOT NULL,
    model             TEXT NOT NULL,
    requests          BIGINT NOT NULL,
    errors            BIGINT NOT NULL,
    cache_hits        BIGINT NOT NULL,
    prompt_tokens     BIGINT NOT NULL,
    completion_tokens BIGINT NOT NULL,
    total_tokens      BIGINT NOT NULL,
    cost_usd          DOUBLE PRECISION NOT NULL,
    unpriced          BIGINT NOT NULL,
    PRIMARY KEY (tenant, minute_ms, subject, model)
);
CREATE INDEX usage_minutes_at ON usage_minutes (minute_ms);
