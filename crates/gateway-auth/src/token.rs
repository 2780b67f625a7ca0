//! Finding the credential in a request, and telling JWTs from API keys.

use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderName};

/// The credential of a request: `Authorization: Bearer <t>` (scheme case-insensitive), else
/// `x-api-key`, else `api-key` (Azure OpenAI's header), else `x-goog-api-key` (Google's).
/// `None` when none holds a non-empty value.
pub fn extract_token(headers: &HeaderMap) -> Option<&str> {
    let bearer = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let v = v.trim();
            let (scheme, rest) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        });
    if let Some(token) = bearer.filter(|t| !t.is_empty()) {
        return Some(token);
    }
    // Looked up lazily and by pre-parsed names: a `&str` name is parsed and hashed per call.
    static PLAIN: [HeaderName; 3] = [
        HeaderName::from_static("x-api-key"),
        HeaderName::from_static("api-key"),
        HeaderName::from_static("x-goog-api-key"),
    ];
    PLAIN.iter().find_map(|name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|t| !t.is_empty())
    })
}

/// Whether `token` has the shape of a compact JWS: three dot-separated base64url parts, the
/// first two non-empty (the signature may be empty so that `alg: none` tokens reach the JWT
/// verifier and are refused there, with the right reason).
pub fn looks_like_jwt(token: &str) -> bool {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let b64url = |x: &str| {
        x.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    !h.is_empty() && !p.is_empty() && b64url(h) && b64url(p) && b64url(s)
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn each_header_is_accepted() {
        assert_eq!(
            extract_token(&headers(&[("authorization", "Bearer sk-gw-a")])),
            Some("sk-gw-a")
        );
        assert_eq!(
            extract_token(&headers(&[("authorization", "bearer   sk-gw-b ")])),
            Some("sk-gw-b")
        );
        assert_eq!(
            extract_token(&headers(&[("x-api-key", "sk-gw-c")])),
            Some("sk-gw-c")
        );
        assert_eq!(
            extract_token(&headers(&[("api-key", "sk-gw-d")])),
            Some("sk-gw-d")
        );
        assert_eq!(
            extract_token(&headers(&[("x-goog-api-key", "sk-gw-e")])),
            Some("sk-gw-e")
        );
    }

    #[test]
    fn bearer_wins_and_empty_or_foreign_schemes_do_not_count() {
        let both = headers(&[("authorization", "Bearer one"), ("x-api-key", "two")]);
        assert_eq!(extract_token(&both), Some("one"));
        let basic = headers(&[
            ("authorization", "Basic dXNlcjpwYXNz"),
            ("x-api-key", "two"),
        ]);
        assert_eq!(extract_token(&basic), Some("two"));
        assert_eq!(
            extract_token(&headers(&[("authorization", "Bearer ")])),
            None
        );
        assert_eq!(extract_token(&headers(&[("x-api-key", "  ")])), None);
        assert_eq!(extract_token(&HeaderMap::new()), None);
    }

    #[test]
    fn jwt_shape() {
        assert!(looks_like_jwt("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"));
        assert!(looks_like_jwt("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."));
        assert!(!looks_like_jwt("sk-gw-AbCdEf"));
        assert!(!looks_like_jwt("a.b"));
        assert!(!looks_like_jwt("a.b.c.d"));
        assert!(!looks_like_jwt(".b.c"));
        assert!(!looks_like_jwt("a+b.c.d"));
    }
}
