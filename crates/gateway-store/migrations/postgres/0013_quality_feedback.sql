-- Quality scoring and feedback (issue 29). Each call's heuristic quality score (0..1) and
-- flags (comma-separated names), the classifier's task and the route reason of a virtual
-- model; and callers' feedback on their own calls, one row per (tenant, call). `id` is a
-- digest of tenant and request id (fixed, so a repeated feedback replaces the row and its
-- sealed comment keeps its record id). Keep in step with ../sqlite/0013_quality_feedback.sql.
ALTER TABLE usage_records ADD COLUMN quality_score DOUBLE PRECISION;
ALTER TABLE usage_records ADD COLUMN quality_flags TEXT;
ALTER TABLE usage_records ADD COLUMN task TEXT;
ALTER TABLE usage_records ADD COLUMN route_reason TEXT;
CREATE INDEX usage_records_tenant_request ON usage_records (tenant, request_id);

CREATE TABLE feedback (
    id             TEXT PRIMARY KEY NOT NULL,
    tenant         TEXT NOT NULL,
    request_id     TEXT NOT NULL,
    subject        TEXT NOT NULL,
    at_ms          BIGINT NOT NULL,
    score          DOUBLE PRECISION NOT NULL,
    tags           TEXT NOT NULL,
    comment        TEXT,
    model          TEXT NOT NULL,
    provider       TEXT,
    upstream_model TEXT,
    task           TEXT,
    quality_score  DOUBLE PRECISION,
    route_reason   TEXT
);
CREATE UNIQUE INDEX feedback_tenant_request ON feedback (tenant, request_id);
CREATE INDEX feedback_tenant_at ON feedback (tenant, at_ms);
CREATE INDEX feedback_at ON feedback (at_ms);
