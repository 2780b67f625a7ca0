-- Tenants, API keys, usage and audit (SQLite). Times are unix milliseconds (INTEGER);
-- lists and metadata are JSON text. Keep in step with ../postgres/0001_init.sql.

CREATE TABLE tenants (
    id              TEXT PRIMARY KEY NOT NULL,
    name            TEXT NOT NULL,
    enabled         INTEGER NOT NULL,
    allowed_models  TEXT,
    allowed_regions TEXT,
    rpm             INTEGER,
    tpm             INTEGER,
    max_concurrency INTEGER,
    budget_usd_daily   REAL,
    budget_usd_monthly REAL,
    created_at_ms   INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id              TEXT PRIMARY KEY NOT NULL,
    tenant          TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    prefix          TEXT NOT NULL,
    hash            TEXT NOT NULL UNIQUE,
    roles           TEXT NOT NULL,
    allowed_models  TEXT,
    rpm             INTEGER,
    tpm             INTEGER,
    max_concurrency INTEGER,
    budget_usd_daily   REAL,
    budget_usd_monthly REAL,
    expires_at_ms   INTEGER,
    metadata        TEXT NOT NULL,
    enabled         INTEGER NOT NULL,
    created_at_ms   INTEGER NOT NULL,
    last_used_at_ms INTEGER,
    revoked_at_ms   INTEGER
);
CREATE INDEX api_keys_tenant ON api_keys (tenant, created_at_ms);

CREATE TABLE usage_records (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id        TEXT NOT NULL,
    at_ms             INTEGER NOT NULL,
    tenant            TEXT NOT NULL,
    subject           TEXT NOT NULL,
    endpoint          TEXT NOT NULL,
    model             TEXT NOT NULL,
    provider          TEXT,
    upstream_model    TEXT,
    prompt_tokens     INTEGER,
    completion_tokens INTEGER,
    total_tokens      INTEGER,
    cached_tokens     INTEGER,
    reasoning_tokens  INTEGER,
    cost_usd          REAL,
    status            INTEGER NOT NULL,
    latency_ms        INTEGER NOT NULL,
    ttft_ms           INTEGER,
    stream            INTEGER NOT NULL,
    cache_hit         INTEGER NOT NULL,
    cancelled         INTEGER NOT NULL
);
CREATE INDEX usage_records_tenant_at ON usage_records (tenant, at_ms);
CREATE INDEX usage_records_at ON usage_records (at_ms);

CREATE TABLE audit_events (
    seq        INTEGER PRIMARY KEY NOT NULL,
    at_ms      INTEGER NOT NULL,
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
