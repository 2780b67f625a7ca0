//! AWS Signature Version 4 for Bedrock calls, with the AWS SDK's `aws-sigv4` signer: the
//! `Authorization`, `x-amz-date` and (with temporary credentials) `x-amz-security-token`
//! headers of one request, over its method, URL, `host`, `content-type` and body hash.
//! Credentials come from the provider's configuration, else from the standard environment
//! variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`).

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use http::{HeaderName, HeaderValue};

use gateway_core::{ProviderError, Secret};

/// An access key pair, and the session token of temporary credentials.
#[derive(Debug, Clone)]
pub struct AwsKeys {
    pub access_key_id: String,
    pub secret_access_key: Secret<String>,
    pub session_token: Option<Secret<String>>,
}

impl AwsKeys {
    /// The keys of the standard environment variables, when both are set.
    pub fn from_env(lookup: &dyn Fn(&str) -> Option<String>) -> Option<AwsKeys> {
        let set = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        Some(AwsKeys {
            access_key_id: set("AWS_ACCESS_KEY_ID")?,
            secret_access_key: Secret::new(set("AWS_SECRET_ACCESS_KEY")?),
            session_token: set("AWS_SESSION_TOKEN").map(Secret::new),
        })
    }
}

/// Signs requests for one service in one region with one identity.
pub struct Signer {
    identity: Identity,
    region: String,
    service: &'static str,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("region", &self.region)
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

fn signing_error(e: impl std::fmt::Display) -> ProviderError {
    ProviderError::Unsupported(format!("cannot sign the Bedrock request: {e}"))
}

impl Signer {
    pub fn new(keys: &AwsKeys, region: &str, service: &'static str) -> Self {
        let credentials = Credentials::new(
            keys.access_key_id.clone(),
            keys.secret_access_key.expose().clone(),
            keys.session_token.as_ref().map(|t| t.expose().clone()),
            None,
            "gateway-config",
        );
        Signer {
            identity: credentials.into(),
            region: region.to_owned(),
            service,
        }
    }

    /// The headers that sign `method uri` with `headers` (those signed: pass `host` and any
    /// other the request will carry unchanged) and `body`, at `time`.
    pub fn sign(
        &self,
        method: &str,
        uri: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        time: SystemTime,
    ) -> Result<Vec<(HeaderName, HeaderValue)>, ProviderError> {
        let params = v4::SigningParams::builder()
            .identity(&self.identity)
            .region(&self.region)
            .name(self.service)
            .time(time)
            .settings(SigningSettings::default())
            .build()
            .map_err(signing_error)?
            .into();
        let signable = SignableRequest::new(
            method,
            uri,
            headers.iter().copied(),
            SignableBody::Bytes(body),
        )
        .map_err(signing_error)?;
        let (instructions, _signature) =
            sign(signable, &params).map_err(signing_error)?.into_parts();
        instructions
            .headers()
            .map(|(name, value)| {
                let name = HeaderName::try_from(name).map_err(signing_error)?;
                let mut value = HeaderValue::try_from(value).map_err(signing_error)?;
                value.set_sensitive(
                    name == http::header::AUTHORIZATION || name == "x-amz-security-token",
                );
                Ok((name, value))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// `get-vanilla` of the AWS SigV4 test suite (`aws-signing-test-suite/v4/get-vanilla` in
    /// the aws-sigv4 crate; copied with its source in `tests/fixtures/sigv4/get-vanilla`).
    const VANILLA_CONTEXT: &str =
        include_str!("../../tests/fixtures/sigv4/get-vanilla/context.json");
    const VANILLA_SIGNED: &str =
        include_str!("../../tests/fixtures/sigv4/get-vanilla/header-signed-request.txt");

    #[test]
    fn get_vanilla_test_vector() {
        let context: serde_json::Value = serde_json::from_str(VANILLA_CONTEXT).unwrap();
        let creds = &context["credentials"];
        let keys = AwsKeys {
            access_key_id: creds["access_key_id"].as_str().unwrap().to_owned(),
            secret_access_key: Secret::new(creds["secret_access_key"].as_str().unwrap().to_owned()),
            session_token: None,
        };
        // 2015-08-30T12:36:00Z, the vector's timestamp.
        assert_eq!(context["timestamp"], "2015-08-30T12:36:00Z");
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160);
        let service: &'static str = "service";
        assert_eq!(context["service"], service);
        let signer = Signer::new(&keys, context["region"].as_str().unwrap(), service);
        let headers = signer
            .sign(
                "GET",
                "https://example.amazonaws.com/",
                &[("host", "example.amazonaws.com")],
                b"",
                time,
            )
            .unwrap();
        let get = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.to_str().unwrap().to_owned())
        };
        let expected = |name: &str| {
            VANILLA_SIGNED
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{name}:")))
                .unwrap()
                .to_owned()
        };
        assert_eq!(get("authorization").unwrap(), expected("Authorization"));
        assert_eq!(get("x-amz-date").unwrap(), expected("X-Amz-Date"));
        assert!(get("x-amz-security-token").is_none());
    }

    #[test]
    fn session_tokens_are_sent_and_signed() {
        let keys = AwsKeys {
            access_key_id: "AKIDEXAMPLE".to_owned(),
            secret_access_key: Secret::new("secret".to_owned()),
            session_token: Some(Secret::new("session-token".to_owned())),
        };
        let signer = Signer::new(&keys, "eu-west-1", "bedrock");
        let headers = signer
            .sign(
                "POST",
                "https://bedrock-runtime.eu-west-1.amazonaws.com/model/m/converse",
                &[
                    ("host", "bedrock-runtime.eu-west-1.amazonaws.com"),
                    ("content-type", "application/json"),
                ],
                b"{}",
                SystemTime::now(),
            )
            .unwrap();
        let auth = headers
            .iter()
            .find(|(n, _)| n == "authorization")
            .unwrap()
            .1
            .to_str()
            .unwrap();
        assert!(auth.contains("/eu-west-1/bedrock/aws4_request"), "{auth}");
        assert!(
            auth.contains("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token"),
            "{auth}"
        );
        assert!(
            headers
                .iter()
                .any(|(n, v)| n == "x-amz-security-token" && v == "session-token")
        );
        let env = |name: &str| match name {
            "AWS_ACCESS_KEY_ID" => Some("AKID".to_owned()),
            "AWS_SECRET_ACCESS_KEY" => Some("s".to_owned()),
            _ => None,
        };
        let from_env = AwsKeys::from_env(&env).unwrap();
        assert_eq!(from_env.access_key_id, "AKID");
        assert!(from_env.session_token.is_none());
        assert!(AwsKeys::from_env(&|_| None).is_none());
    }
}
