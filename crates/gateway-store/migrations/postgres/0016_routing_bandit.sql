-- The routing bandit's posteriors (issue 29, docs/routing.md "The loop"): per rule, task type
-- and candidate, the weighted successes and failures observed by every instance (not the
-- prior, which comes from the configuration). Global, not per tenant: routing rules are.
-- Instances add their deltas (version counts the batches added); nothing is overwritten.
-- Keep in step with ../sqlite/0016_routing_bandit.sql.
CREATE TABLE routing_bandit_arms (
    rule          TEXT NOT NULL,
    task          TEXT NOT NULL,
    candidate     TEXT NOT NULL,
    successes     DOUBLE PRECISION NOT NULL,
    failures      DOUBLE PRECISION NOT NULL,
    version       BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    PRIMARY KEY (rule, task, candidate)
);
