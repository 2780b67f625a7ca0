-- The optional LLM judge of quality scoring (issue 29): the judge's score (0..1) of a sampled
-- call, set on the call's usage record by request id once the judge answered. Keep in step
-- with ../sqlite/0015_quality_judge.sql.
ALTER TABLE usage_records ADD COLUMN judge_score DOUBLE PRECISION;
