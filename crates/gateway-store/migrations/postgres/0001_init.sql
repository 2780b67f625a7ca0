-- Tenants, API keys, usage and audit (PostgreSQL). Times are unix milliseconds (BIGINT);
-- lists and metadata are JSON text. Keep in step with ../sqlite/0001_init.sql.

CREATE TABLE tenants (
    id              TEXT PRIMARY KEY NOT NULL,
    name            TEXT NOT NULL,
    enabled         BOOLEAN NOT NULL,
    allowed_models  TEXT,
    allowed_regions TEXT,
    rpm             BIGINT,
    tpm             BIGINT,
    max_concurrency BIGINT,
    budget_usd_daily   DOUBLE PRECISION,
    budget_usd_monthly DOUBLE PRECISION,
    created_at_ms   BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id              TEXT PRIMARY KEY NOT NULL,
    tenant          TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    prefix          TEXT NOT NULL,
    hash            TEXT NOT NULL UNIQUE,
    roles           TEXT NOT NULL,
    allowed_models  TEXT,
    rpm             BIGINT,
    tpm             BIGINT,
    max_concurrency BIGINT,
    budget_usd_daily   DOUBLE PRECISION,
    budget_usd_monthly DOUBLE PRECISION,
    expires_at_ms   BIGINT,
    metadata        TEXT NOT NULL,
    enabled         BOOLEAN NOT NULL,
    created_at_ms   BIGINT NOT NULL,
    last_used_at_ms BIGINT,
    revoked_at_ms   BIGINT
);
CREATE INDEX api_keys_tenant ON api_keys (tenant, created_at_ms);

CREATE TABLE usage_records (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id        TEXT NOT NULL,
    at_ms             BIGINT NOT NULL,
    tenant            TEXT NOT NULL,
    subject           TEXT NOT NULL,
    endpoint          TEXT NOT NULL,
    model             TEXT NOT NULL,
    provider          TEXT,
    upstream_model    TEXT,
    prompt_tokens     BIGINT,
    completion_tokens BIGINT,
    total_tokens      BIGINT,
    cached_tokens     BIGINT,
    reasoning_tokens  BIGINT,
    cost_usd          DOUBLE PRECISION,
    status            BIGINT NOT NULL,
    latency_ms        BIGINT NOT NULL,
    ttft_ms           BIGINT,
    stream            BOOLEAN NOT NULL,
    cache_hit         BOOLEAN NOT NULL,
    cancelled         BOOLEAN NOT NULL
);
CREATE INDEX usage_records_tenant_at ON usage_records (tenant, at_ms);
CREATE INDEX usage_records_at ON usage_records (at_ms);

CREATE TABLE audit_events (
    seq        BIGINT PRIMARY KEY NOT NULL,
    at_ms      BIGINT NOT NULL,
    tenant     TEXT,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    target     TEXT,
    outcome    TEXT NOT NULL,
    ip         TEXT,
    details    TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL UNIQUE
);
CREATE INDEX audit_events_tenant ON audit_events (tenant, seq);
CREATE INDEX audit_events_at ON audit_events (at_ms);
