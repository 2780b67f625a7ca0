//! `POST /admin/v1/tenants/{id}/encryption/open`: an operator reads sealed content-log fields
//! (`gwe1:` text that `telemetry.log_prompts_for_tenants` wrote under `[encryption]`) back in
//! clear. Admins only (`manage_config`: reading a tenant's prompts is gateway-wide power), and
//! every call is audited with how many values it opened — never with what they said. A value
//! of a shredded tenant answers `destroyed`; one that is not a sealed log value of this
//! tenant (another tenant's, tampered with, not `gwe1:` text) answers `invalid`.

use http::Response;
use hyper::body::Incoming;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use gateway_auth::{Permission, authorize};
use gateway_core::content_log::SEALED_RECORD;
use gateway_core::encryption::{CipherError, ContentCipher};
use gateway_core::{GatewayError, TenantId};

use super::encryption::{cipher_error, keyring};
use super::{Admin, Mutation, ok};
use crate::http::body::Body;

/// Values per call at most.
pub const MAX_VALUES: usize = 100;
/// Characters of one sealed value at most.
pub const MAX_VALUE_CHARS: usize = 1 << 20;

/// The body of `POST /admin/v1/tenants/{id}/encryption/open`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenSealed {
    /// Sealed log fields (`gwe1:...`), at most 100, each at most 1 MiB.
    pub values: Vec<String>,
}

/// What one value opened to.
#[derive(Debug, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OpenStatus {
    /// `plaintext` holds the content.
    Opened,
    /// The tenant's data key was destroyed (crypto-shredding): gone for good.
    Destroyed,
    /// Not a sealed log value of this tenant (not `gwe1:` text, tampered with, or sealed for
    /// another tenant).
    Invalid,
}

/// One value's result, in the order of the request.
#[derive(Debug, Serialize, JsonSchema)]
pub struct OpenedValue {
    pub status: OpenStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plaintext: Option<String>,
}

/// The answer of `POST /admin/v1/tenants/{id}/encryption/open`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct OpenedList {
    /// Always `list`.
    pub object: &'static str,
    pub tenant: String,
    pub data: Vec<OpenedValue>,
}

async fn open_one(
    cipher: &dyn ContentCipher,
    tenant: &TenantId,
    value: &str,
) -> Result<OpenedValue, GatewayError> {
    let invalid = OpenedValue {
        status: OpenStatus::Invalid,
        plaintext: None,
    };
    let Some(Ok(sealed)) = gateway_store::encryption::from_text(value.trim()) else {
        return Ok(invalid);
    };
    match cipher.open(tenant, SEALED_RECORD, &sealed).await {
        Ok(plain) => Ok(match String::from_utf8(plain) {
            Ok(text) => OpenedValue {
                status: OpenStatus::Opened,
                plaintext: Some(text),
            },
            Err(_) => invalid,
        }),
        Err(CipherError::Shredded) => Ok(OpenedValue {
            status: OpenStatus::Destroyed,
            plaintext: None,
        }),
        Err(CipherError::Corrupt) => Ok(invalid),
        Err(e) => Err(cipher_error(e)),
    }
}

/// `POST /admin/v1/tenants/{id}/encryption/open`.
pub async fn open(
    ctx: &Admin<'_>,
    id: &str,
    body: Incoming,
) -> Result<Response<Body>, GatewayError> {
    let mut m = Mutation::new("tenant.content.open");
    let tenant = TenantId::new(id);
    m.on(&tenant, id);
    ctx.audited(m, async |m| {
        authorize(&ctx.principal, Permission::ManageConfig, None)?;
        let keyring = keyring(ctx)?;
        let req: OpenSealed = ctx.json(body).await?;
        if req.values.is_empty() || req.values.len() > MAX_VALUES {
            return Err(GatewayError::invalid_param(
                "values",
                format!("Send between 1 and {MAX_VALUES} sealed values per call."),
            ));
        }
        if req.values.iter().any(|v| v.len() > MAX_VALUE_CHARS) {
            return Err(GatewayError::invalid_param(
                "values",
                "A sealed value is at most 1 MiB (1048576 characters).",
            ));
        }
        let mut data = Vec::with_capacity(req.values.len());
        for value in &req.values {
            data.push(open_one(keyring.as_ref(), &tenant, value).await?);
        }
        let count = |s: OpenStatus| data.iter().filter(|d| d.status == s).count();
        m.details.insert("values".to_owned(), data.len().into());
        m.details
            .insert("opened".to_owned(), count(OpenStatus::Opened).into());
        m.details
            .insert("destroyed".to_owned(), count(OpenStatus::Destroyed).into());
        m.details
            .insert("invalid".to_owned(), count(OpenStatus::Invalid).into());
        ok(
            200,
            &OpenedList {
                object: "list",
                tenant: tenant.as_str().to_owned(),
                data,
            },
        )
    })
    .await
}
