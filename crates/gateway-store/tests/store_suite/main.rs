//! One suite, two backends: every case runs against SQLite (a temporary file) and against
//! PostgreSQL (`GATEWAY_TEST_DATABASE_URL`, in a schema of its own that is dropped afterwards).
//! Without that variable the PostgreSQL cases print a skip line and pass, unless
//! `GATEWAY_REQUIRE_SERVICES=1`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod async_jobs;
mod audit;
mod backup;
mod bandit;
mod batches;
mod encryption;
mod feedback;
mod files;
mod harness;
mod keys;
mod responses;
mod templates;
mod tenants;
mod usage;
mod usage_minutes;
mod webhooks;

/// Declares each case once per backend: `sqlite::<case>` and `postgres::<case>`.
macro_rules! suite {
    ($($module:ident :: $case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let h = crate::harness::Harness::sqlite().await;
                    crate::$module::$case(&h).await;
                    h.finish().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let Some(h) = crate::harness::Harness::postgres().await else { return };
                    crate::$module::$case(&h).await;
                    h.finish().await;
                }
            )*
        }
    };
}

suite!(
    tenants::tenant_crud,
    tenants::duplicate_tenant_is_a_conflict,
    tenants::deleting_a_tenant_deletes_its_keys,
    tenants::ping_and_reconnect_keep_data,
    keys::key_round_trip_and_lookup_by_hash,
    keys::key_conflicts_and_missing_tenant,
    keys::list_keys_by_tenant,
    keys::update_and_revoke,
    keys::touch_only_moves_forward,
    usage::usage_totals_and_groups,
    usage::guardrail_findings_are_stored_and_summed,
    usage::usage_filters,
    usage::empty_usage,
    usage::large_batch_spans_several_statements,
    usage::retention_deletes_only_older_records,
    usage_minutes::minutes_add_up_across_writes,
    usage_minutes::aggregates_count_records_and_minutes_together,
    usage_minutes::retention_deletes_older_minutes,
    audit::audit_chain_appends_and_lists,
    audit::audit_tampering_is_detected,
    audit::concurrent_appends_from_two_instances_keep_one_chain,
    responses::responses_round_trip_within_their_tenant,
    responses::response_retention_deletes_only_older_ones,
    files::files_are_scoped_to_their_tenant,
    files::files_list_by_cursor_purpose_and_order,
    batches::batches_are_scoped_to_their_tenant,
    batches::lines_move_through_the_state_machine,
    batches::an_expired_lease_is_taken_over_once,
    batches::validation_failure_cancel_and_expiry,
    batches::two_instances_lease_disjoint_lines,
    batches::usage_groups_by_batch,
    webhooks::webhook_endpoints_round_trip,
    webhooks::webhook_outbox_claims_retries_and_dead_letters,
    webhooks::webhook_claims_are_disjoint_across_instances,
    backup::backup_restores_every_table_into_an_empty_store,
    backup::backup_covers_every_table_of_the_schema,
    backup::damaged_archives_and_wrong_targets_are_refused,
    async_jobs::async_jobs_are_scoped_and_cancelled_only_while_pending,
    async_jobs::async_jobs_move_through_the_state_machine,
    async_jobs::an_expired_async_lease_is_taken_over_once,
    async_jobs::two_instances_lease_disjoint_async_jobs,
    encryption::stored_content_is_sealed_and_bound_to_tenant_and_record,
    encryption::deleting_a_tenant_shreds_its_content_everywhere,
    encryption::data_key_rotation_reencrypts_and_kek_rotation_rewraps,
    templates::template_versions_are_numbered_and_scoped,
    templates::concurrent_template_writers_get_distinct_versions,
    templates::template_bodies_are_sealed_at_rest,
    feedback::usage_reports_carry_quality_and_task,
    feedback::feedback_is_scoped_replaced_listed_and_summarised,
    feedback::feedback_comments_are_sealed,
    feedback::judge_scores_land_on_their_records_and_in_reports,
    bandit::bandit_counts_add_up_across_instances,
);

#[tokio::test]
async fn sqlite_file_uses_wal() {
    let h = harness::Harness::sqlite().await;
    let mode = h.raw_scalar_text("PRAGMA journal_mode").await;
    assert_eq!(mode.to_lowercase(), "wal");
    h.finish().await;
}
