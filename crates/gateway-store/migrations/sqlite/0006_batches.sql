-- Batches of the OpenAI-compatible Batch API and their lines (see gateway_core::store::BatchStore).
-- A line moves pending -> leased -> done | failed; a lease names its holder and its expiry
-- (unix ms). The batch row is leased the same way for validation and finalization.
CREATE TABLE batches (
    id                TEXT PRIMARY KEY,
    tenant            TEXT NOT NULL,
    owner             TEXT NOT NULL,
    endpoint          TEXT NOT NULL,
    input_file_id     TEXT NOT NULL,
    completion_window TEXT NOT NULL,
    metadata          TEXT,
    status            TEXT NOT NULL,
    errors            TEXT,
    output_file_id    TEXT,
    error_file_id     TEXT,
    total             BIGINT NOT NULL DEFAULT 0,
    completed         BIGINT NOT NULL DEFAULT 0,
    failed            BIGINT NOT NULL DEFAULT 0,
    created_at_ms     BIGINT NOT NULL,
    expires_at_ms     BIGINT NOT NULL,
    in_progress_at_ms BIGINT,
    finalizing_at_ms  BIGINT,
    completed_at_ms   BIGINT,
    failed_at_ms      BIGINT,
    expired_at_ms     BIGINT,
    cancelling_at_ms  BIGINT,
    cancelled_at_ms   BIGINT,
    lease_holder      TEXT,
    lease_until_ms    BIGINT
);
CREATE INDEX batches_by_tenant ON batches (tenant, id);
CREATE INDEX batches_by_status ON batches (status);

CREATE TABLE batch_items (
    batch_id       TEXT NOT NULL,
    line           BIGINT NOT NULL,
    custom_id      TEXT NOT NULL,
    body           TEXT NOT NULL,
    state          TEXT NOT NULL,
    attempts       BIGINT NOT NULL DEFAULT 0,
    retried        BIGINT NOT NULL DEFAULT 0,
    lease_holder   TEXT,
    lease_until_ms BIGINT,
    not_before_ms  BIGINT NOT NULL DEFAULT 0,
    result         TEXT,
    PRIMARY KEY (batch_id, line)
);
CREATE INDEX batch_items_by_state ON batch_items (state, batch_id, line);

-- Usage of a batch's lines names the batch (`gatewayctl usage --group-by batch`).
ALTER TABLE usage_records ADD COLUMN batch_id TEXT;
