-- Guardrail findings per call (issue 31, anomaly signal `guardrail_findings`): how many
-- flags, redactions and blocks the guardrails raised on the call's input and output, and
-- the kinds of guardrail they came from (comma-separated names, NULL when none). The
-- per-minute totals carry the count too. Keep in step with ../postgres/0017_guardrail_findings.sql.
ALTER TABLE usage_records ADD COLUMN guardrail_findings INTEGER NOT NULL DEFAULT 0;
ALTER TABLE usage_records ADD COLUMN guardrail_kinds TEXT;
ALTER TABLE usage_minutes ADD COLUMN guardrail_findings INTEGER NOT NULL DEFAULT 0;
