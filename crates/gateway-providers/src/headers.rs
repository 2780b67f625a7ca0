//! Upstream header construction with the provider named in any error.

use http::{HeaderName, HeaderValue};

use gateway_core::ProviderError;

/// A header for `provider`'s requests, or an error naming what was wrong (never the value).
pub(crate) fn header(
    provider: &str,
    name: &str,
    value: &str,
) -> Result<(HeaderName, HeaderValue), ProviderError> {
    let bad = |what: &str| {
        ProviderError::Unsupported(format!(
            "provider '{provider}': bad {what} for header '{name}'"
        ))
    };
    let name = HeaderName::try_from(name).map_err(|_| bad("name"))?;
    let value = HeaderValue::try_from(value).map_err(|_| bad("value"))?;
    Ok((name, value))
}
