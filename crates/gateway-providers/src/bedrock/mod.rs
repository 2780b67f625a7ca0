//! The AWS Bedrock provider (Bedrock Runtime `Converse` and `ConverseStream`), for the
//! Anthropic, Llama, Mistral, Titan (and other) models Bedrock serves:
//! `POST {base}/model/{modelId}/converse` and `/converse-stream`, the model id (or inference
//! profile, or ARN) percent-encoded into the path. Every call is signed with SigV4
//! ([`sign`], service `bedrock`) from the configured or environment credentials, or carries a
//! Bedrock API key as a bearer token. Streams are `application/vnd.amazon.eventstream`
//! ([`eventstream`]) decoded by [`stream`].

pub mod error;
pub mod eventstream;
pub mod request;
pub mod response;
pub mod sign;
pub mod stream;

use std::borrow::Cow;
use std::fmt::Write as _;
use std::time::SystemTime;

use bytes::Bytes;
use http::header::ACCEPT;
use http::{HeaderMap, HeaderValue, StatusCode};

use gateway_core::types::ModelInfo;
use gateway_core::{ChatRequest, ChatResponse, ChatStream, ProviderError, Secret};

use crate::client::{HttpClient, Timeouts};
use crate::codec::{AuthorizeFuture, Encoded, UpstreamEvents, VendorCodec};
use crate::http_provider::HttpProvider;
use crate::upstream_url::{UpstreamUrl, secret_header};
use crate::vendor_stream::decode_framed;

pub use sign::AwsKeys;

/// The signing name of Bedrock (runtime and control plane alike).
pub const SERVICE: &str = "bedrock";
/// The content type of ConverseStream answers.
pub const EVENT_STREAM: &str = "application/vnd.amazon.eventstream";

/// The Bedrock Runtime endpoint of `region`.
pub fn runtime_url(region: &str) -> String {
    format!("https://bedrock-runtime.{region}.amazonaws.com")
}

/// How calls are authenticated.
#[derive(Debug, Clone)]
pub enum BedrockAuth {
    /// SigV4 with these keys.
    Keys(AwsKeys),
    /// A Bedrock API key, sent as `Authorization: Bearer`.
    ApiKey(Secret<String>),
}

/// Settings of one Bedrock upstream.
#[derive(Debug, Clone)]
pub struct BedrockConfig {
    pub name: String,
    /// The region signed for (`us-east-1`).
    pub region: String,
    /// Default: [`runtime_url`] of the region.
    pub base_url: Option<String>,
    pub auth: BedrockAuth,
    pub timeouts: Timeouts,
}

/// Bedrock's Converse wire format at per-model URLs, signed per call.
#[derive(Debug)]
pub struct BedrockCodec {
    base: UpstreamUrl,
    prefix: String,
    /// The `host` header the requests carry (signed).
    host: String,
    signer: Option<sign::Signer>,
}

/// A Bedrock upstream.
pub type BedrockProvider = HttpProvider<BedrockCodec>;

/// A model id, inference profile or ARN as one path segment: everything but RFC 3986's
/// unreserved characters percent-encoded (`:` -> `%3A`, `/` -> `%2F`), as the AWS SDKs send it.
fn model_segment(model: &str) -> Result<String, ProviderError> {
    if model.is_empty() || model.len() > 2048 || model == "." || model == ".." {
        return Err(ProviderError::Unsupported(format!(
            "invalid Bedrock model id '{model}'"
        )));
    }
    let mut out = String::with_capacity(model.len() + 8);
    for b in model.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    Ok(out)
}

impl BedrockProvider {
    pub fn new(config: BedrockConfig, client: HttpClient) -> Result<Self, ProviderError> {
        let base_url = config
            .base_url
            .clone()
            .unwrap_or_else(|| runtime_url(&config.region));
        let mut headers = Vec::with_capacity(1);
        let signer = match &config.auth {
            BedrockAuth::Keys(keys) => Some(sign::Signer::new(keys, &config.region, SERVICE)),
            BedrockAuth::ApiKey(key) => {
                let bearer = format!("Bearer {}", key.expose());
                headers.push(secret_header(&config.name, "authorization", &bearer)?);
                None
            }
        };
        let base = UpstreamUrl::new(base_url.trim_end_matches('/'), headers)?;
        let prefix = base.path().trim_end_matches('/').to_owned();
        let host = base
            .uri
            .authority()
            .map(|a| a.as_str().to_owned())
            .unwrap_or_default();
        let codec = BedrockCodec {
            base,
            prefix,
            host,
            signer,
        };
        Ok(HttpProvider::from_codec(
            config.name,
            codec,
            client,
            config.timeouts,
        ))
    }
}

/// The `Host` header the client sends for `uri` (the port only when not the scheme's
/// default), which is what the signature must cover.
fn host_header(uri: &http::Uri) -> Option<String> {
    let host = uri.host()?;
    let default = if uri.scheme_str() == Some("https") {
        443
    } else {
        80
    };
    Some(match uri.port_u16() {
        Some(port) if port != default => format!("{host}:{port}"),
        _ => host.to_owned(),
    })
}

impl BedrockCodec {
    fn url(&self, model: &str, operation: &str) -> Result<UpstreamUrl, ProviderError> {
        let segment = model_segment(model)?;
        self.base
            .with_path(&format!("{}/model/{segment}/{operation}", self.prefix))
    }
}

impl VendorCodec for BedrockCodec {
    fn encode_chat(&self, req: &ChatRequest, stream: bool) -> Result<Encoded<'_>, ProviderError> {
        let url = if stream {
            self.url(&req.model, "converse-stream")?
                .with_headers(vec![(ACCEPT, HeaderValue::from_static(EVENT_STREAM))])
        } else {
            self.url(&req.model, "converse")?
        };
        Ok(Encoded::to_owned_url(url, request::encode(req)?))
    }

    fn decode_chat(&self, req: &ChatRequest, body: &[u8]) -> Result<ChatResponse, ProviderError> {
        response::decode(body, &req.model)
    }

    fn decode_stream(&self, req: &ChatRequest, events: UpstreamEvents) -> ChatStream {
        let decoder =
            stream::StreamDecoder::new(&req.model, req.wants_stream_usage(), response::unix_now());
        let parser = eventstream::EventStreamParser::new(events.limits.max_line);
        decode_framed(events.body, events.limits, parser, decoder)
    }

    fn decode_error(status: StatusCode, headers: &HeaderMap, body: &Bytes) -> ProviderError {
        error::error_from_response(status, headers, body)
    }

    fn unsupported_params(&self, req: &ChatRequest) -> Vec<&'static str> {
        request::unsupported_params(req)
    }

    /// The control plane's model list: `bedrock.REGION` beside `bedrock-runtime.REGION`
    /// (the same host when the base URL is not AWS's).
    fn models_url(&self) -> Result<Cow<'_, UpstreamUrl>, ProviderError> {
        let path = format!("{}/foundation-models", self.prefix);
        let url = self.base.with_path(&path)?;
        match self.host.strip_prefix("bedrock-runtime.") {
            Some(rest) => {
                let mut parts = url.uri.clone().into_parts();
                parts.authority =
                    Some(format!("bedrock.{rest}").parse().map_err(|_| {
                        ProviderError::Unsupported("invalid Bedrock host".to_owned())
                    })?);
                let uri = http::Uri::from_parts(parts)
                    .map_err(|_| ProviderError::Unsupported("invalid Bedrock URL".to_owned()))?;
                let moved = UpstreamUrl::new(&uri.to_string(), url.headers().to_vec())?;
                Ok(Cow::Owned(moved))
            }
            None => Ok(Cow::Owned(url)),
        }
    }

    fn decode_models(&self, provider: &str, body: &[u8]) -> Result<Vec<ModelInfo>, ProviderError> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct List {
            model_summaries: Vec<Summary>,
        }
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Summary {
            model_id: String,
        }
        let list: List = serde_json::from_slice(body)
            .map_err(|e| ProviderError::InvalidResponse(format!("bedrock model list: {e}")))?;
        Ok(list
            .model_summaries
            .into_iter()
            .map(|m| ModelInfo::new(m.model_id, provider))
            .collect())
    }

    /// SigV4 over the call's method, URL, `host`, `content-type` and body, at the current time.
    fn authorize<'a>(&'a self, call: &'a Encoded<'_>) -> Option<AuthorizeFuture<'a>> {
        let signer = self.signer.as_ref()?;
        let uri = call.url.uri.to_string();
        let host = host_header(&call.url.uri).unwrap_or_else(|| self.host.clone());
        let host = host.as_str();
        let signed = if call.body.is_empty() {
            signer.sign("GET", &uri, &[("host", host)], b"", SystemTime::now())
        } else {
            let headers = [("host", host), ("content-type", "application/json")];
            signer.sign("POST", &uri, &headers, &call.body, SystemTime::now())
        };
        Some(Box::pin(std::future::ready(signed)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_ids_and_arns_are_one_path_segment() {
        assert_eq!(
            model_segment("anthropic.claude-3-5-sonnet-20240620-v1:0").unwrap(),
            "anthropic.claude-3-5-sonnet-20240620-v1%3A0"
        );
        assert_eq!(
            model_segment("arn:aws:bedrock:us-east-1:1:inference-profile/us.meta.llama3").unwrap(),
            "arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Ainference-profile%2Fus.meta.llama3"
        );
        assert!(model_segment("").is_err());
        assert!(model_segment("..").is_err());
        assert_eq!(model_segment("../x?y").unwrap(), "..%2Fx%3Fy");
    }

    #[test]
    fn the_signed_host_is_the_one_sent() {
        let host = |u: &str| host_header(&u.parse().unwrap()).unwrap();
        assert_eq!(
            host("https://bedrock-runtime.us-east-1.amazonaws.com:443/x"),
            "bedrock-runtime.us-east-1.amazonaws.com"
        );
        assert_eq!(host("http://127.0.0.1:8080/x"), "127.0.0.1:8080");
        assert_eq!(host("https://vpce.example:8443/"), "vpce.example:8443");
    }

    #[test]
    fn the_model_list_is_read_from_the_control_plane() {
        let client = HttpClient::new(std::time::Duration::from_secs(1)).unwrap();
        let keys = AwsKeys {
            access_key_id: "AKID".to_owned(),
            secret_access_key: Secret::new("s".to_owned()),
            session_token: None,
        };
        let config = BedrockConfig {
            name: "b".to_owned(),
            region: "eu-west-3".to_owned(),
            base_url: None,
            auth: BedrockAuth::Keys(keys),
            timeouts: Timeouts::default(),
        };
        let p = BedrockProvider::new(config, client).unwrap();
        assert_eq!(
            p.codec().models_url().unwrap().uri.to_string(),
            "https://bedrock.eu-west-3.amazonaws.com/foundation-models"
        );
    }
}
