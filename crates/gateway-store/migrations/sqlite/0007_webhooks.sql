-- Webhook endpoints of each tenant, the durable outbox of deliveries (claimed with a lease by
-- the dispatcher of any instance), the log of delivery attempts, and asynchronous calls.
CREATE TABLE webhook_endpoints (
    id                       TEXT PRIMARY KEY,
    tenant                   TEXT NOT NULL,
    url                      TEXT NOT NULL,
    description              TEXT NOT NULL,
    events                   TEXT NOT NULL,
    secret                   TEXT NOT NULL,
    previous_secret          TEXT,
    previous_secret_until_ms BIGINT,
    enabled                  BOOLEAN NOT NULL,
    created_at_ms            BIGINT NOT NULL,
    updated_at_ms            BIGINT NOT NULL
);
CREATE INDEX webhook_endpoints_by_tenant ON webhook_endpoints (tenant, id);

CREATE TABLE webhook_deliveries (
    id                 TEXT PRIMARY KEY,
    endpoint_id        TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    tenant             TEXT NOT NULL,
    event_type         TEXT NOT NULL,
    payload            TEXT NOT NULL,
    status             TEXT NOT NULL,
    attempts           BIGINT NOT NULL,
    next_attempt_at_ms BIGINT NOT NULL,
    expires_at_ms      BIGINT NOT NULL,
    lease_until_ms     BIGINT,
    last_status_code   BIGINT,
    last_error         TEXT,
    created_at_ms      BIGINT NOT NULL,
    updated_at_ms      BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at_ms);
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id, id);

CREATE TABLE webhook_attempts (
    delivery_id  TEXT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt      BIGINT NOT NULL,
    at_ms        BIGINT NOT NULL,
    status_code  BIGINT,
    latency_ms   BIGINT NOT NULL,
    error        TEXT,
    succeeded    BOOLEAN NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);

CREATE TABLE async_jobs (
    id             TEXT PRIMARY KEY,
    tenant         TEXT NOT NULL,
    route          TEXT NOT NULL,
    status         TEXT NOT NULL,
    request        TEXT NOT NULL,
    callback_url   TEXT,
    result_status  BIGINT,
    result_body    TEXT,
    attempts       BIGINT NOT NULL,
    lease_until_ms BIGINT,
    created_at_ms  BIGINT NOT NULL,
    updated_at_ms  BIGINT NOT NULL
);
CREATE INDEX async_jobs_by_status ON async_jobs (status, created_at_ms);
