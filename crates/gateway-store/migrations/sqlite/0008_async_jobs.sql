-- Asynchronous calls (see gateway_core::store::AsyncJobStore): the holder of a running job's
-- lease, whether the job was taken over after its holder stopped (retried), whether its
-- async.completed deliveries are queued (notified), when it finished, and the headers of its
-- answer.
ALTER TABLE async_jobs ADD COLUMN lease_holder TEXT;
ALTER TABLE async_jobs ADD COLUMN retried BIGINT NOT NULL DEFAULT 0;
ALTER TABLE async_jobs ADD COLUMN notified BIGINT NOT NULL DEFAULT 0;
ALTER TABLE async_jobs ADD COLUMN completed_at_ms BIGINT;
ALTER TABLE async_jobs ADD COLUMN result_headers TEXT;
CREATE INDEX async_jobs_finished ON async_jobs (completed_at_ms);
CREATE INDEX async_jobs_by_tenant ON async_jobs (tenant, id);
