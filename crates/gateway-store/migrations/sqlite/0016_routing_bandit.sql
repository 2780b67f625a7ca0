-- The routing bandit's posteriors (issue 29, docs/routing.md "The loop"): per rule, task type
-- and candidate, the weighted successes and failures observed by every instance (not the
-- prior, which comes from the configuration). Global, not per tenant: routing rules are.
-- Instances add their deltas (version counts the batches added); nothing is overwritten.
-- Keep in step with ../postgres/0016_routing_bandit.sql.
CREATE TABLE routing_bandit_arms (
    rule          TEXT NOT NULL,
    task          TEXT NOT NULL,
    candidate     TEXT NOT NULL,
    successes     REAL NOT NULL,
    failures      REAL NOT NULL,
    version       INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    PRIMARY KEY (rule, task, candidate)
);
