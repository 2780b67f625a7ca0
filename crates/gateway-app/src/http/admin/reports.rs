//! `/admin/v1/usage`, `/admin/v1/audit` and `/admin/v1/audit/verify`.
//!
//! Usage needs `read_usage` and audit `read_audit` on the tenant asked for (without `tenant=`,
//! an admin sees every tenant and anyone else their own). Verifying the audit chain covers the
//! whole gateway, so it is for admins only.

use http::Response;

use gateway_auth::{Permission, authorize};
use gateway_core::GatewayError;
use gateway_core::store::{AuditQuery, UsageDimension, UsageQuery};

use super::auth::scope;
use super::query::Query;
use super::{Admin, ok, views};
use crate::http::body::Body;

/// Most audit records per page.
const MAX_AUDIT_PAGE: u64 = 1000;

fn dimension(name: &str) -> Result<UsageDimension, GatewayError> {
    match name {
        "tenant" => Ok(UsageDimension::Tenant),
        "key" | "subject" => Ok(UsageDimension::Subject),
        "model" => Ok(UsageDimension::Model),
        "day" => Ok(UsageDimension::Day),
        "batch" => Ok(UsageDimension::Batch),
        "task" => Ok(UsageDimension::Task),
        other => Err(GatewayError::invalid_param(
            "group_by",
            format!("Cannot group usage by '{other}'; use tenant, key, model, day, batch or task."),
        )),
    }
}

/// `GET /admin/v1/usage?tenant=&key=&model=&from=&to=&group_by=day,model`.
pub async fn usage(ctx: &Admin<'_>, query: Option<&str>) -> Result<Response<Body>, GatewayError> {
    let q = Query::parse(query, &["tenant", "key", "model", "from", "to", "group_by"])?;
    let tenant = scope(&ctx.principal, Permission::ReadUsage, q.text("tenant"))?;
    let mut group_by = Vec::new();
    for name in q.list("group_by") {
        let d = dimension(name)?;
        if !group_by.contains(&d) {
            group_by.push(d);
        }
    }
    let usage_query = UsageQuery {
        tenant,
        subject: q.text("key").map(str::to_owned),
        model: q.text("model").map(str::to_owned),
        from: q.start("from")?,
        until: q.end("to")?,
        group_by,
    };
    let rows = ctx.state.store.query_usage(&usage_query).await?;
    let body = views::UsageReport {
        object: "list",
        data: rows.iter().map(views::usage).collect(),
        group_by: q.list("group_by").into_iter().map(str::to_owned).collect(),
    };
    ok(200, &body)
}

/// `GET /admin/v1/audit?tenant=&actor=&action=&from=&to=&after=&limit=&order=`.
pub async fn audit(ctx: &Admin<'_>, query: Option<&str>) -> Result<Response<Body>, GatewayError> {
    let q = Query::parse(
        query,
        &[
            "tenant", "actor", "action", "from", "to", "after", "limit", "order",
        ],
    )?;
    let tenant = scope(&ctx.principal, Permission::ReadAudit, q.text("tenant"))?;
    let limit = q.number("limit")?.unwrap_or(100);
    if !(1..=MAX_AUDIT_PAGE).contains(&limit) {
        return Err(GatewayError::invalid_param(
            "limit",
            format!("'limit' must be between 1 and {MAX_AUDIT_PAGE}."),
        ));
    }
    let newest_first = match q.text("order").unwrap_or("oldest") {
        "oldest" => false,
        "newest" => true,
        _ => {
            return Err(GatewayError::invalid_param(
                "order",
                "'order' is 'oldest' or 'newest'.",
            ));
        }
    };
    let audit_query = AuditQuery {
        tenant,
        actor: q.text("actor").map(str::to_owned),
        action: q.text("action").map(str::to_owned),
        from: q.start("from")?,
        until: q.end("to")?,
        after_seq: q.number("after")?,
        limit: u32::try_from(limit).unwrap_or(100),
        newest_first,
    };
    let records = ctx.state.store.list_audit(&audit_query).await?;
    let next_after = (!newest_first && records.len() as u64 == limit)
        .then(|| records.last().map(|r| r.seq))
        .flatten();
    let body = views::AuditPage {
        object: "list",
        data: records.iter().map(views::audit).collect(),
        next_after,
    };
    ok(200, &body)
}

/// `GET /admin/v1/audit/verify`: re-compute the whole chain.
pub async fn verify(ctx: &Admin<'_>) -> Result<Response<Body>, GatewayError> {
    authorize(&ctx.principal, Permission::ReadAudit, None)?;
    let result = ctx.state.store.verify_audit().await?;
    ok(200, &views::verification(&result))
}
