//! The web console at `/ui/`: a playground and the admin views, as plain ES modules embedded
//! in the binary (`crates/gateway-app/ui/`, compressed at build time by `build.rs`), so the
//! gateway serves it with no Node.js, CDN or network. See `docs/console.md`.
//!
//! - `GET /ui` redirects to `/ui/`; `GET /ui/` is the page (`no-cache`, revalidated by ETag);
//!   `GET /ui/assets/<name>.<hash>.<ext>` are the scripts and styles, cached for a year and
//!   `immutable` (a file's name changes with its content, and with that of what it imports).
//! - Each answer is brotli, gzip or plain as the caller's `Accept-Encoding` allows.
//! - Every answer under `/ui` (errors included) carries [`secure`]'s headers: a
//!   Content-Security-Policy that allows only this origin's scripts, styles and API (no inline
//!   code, no third party, no framing), `nosniff`, `no-referrer`.
//! - `[ui] enabled = false` answers 404 for all of it; `[ui] admin = false` hides the admin
//!   views (the page says so and their modules are not served); the admin API itself and its
//!   RBAC are unchanged either way.

use http::header::{
    CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG, IF_NONE_MATCH, LOCATION, VARY,
};
use http::{HeaderMap, HeaderName, HeaderValue, Request, Response, StatusCode};

use gateway_core::GatewayError;

use super::body::{Body, full};
use super::routes::PathParams;
use crate::state::AppState;

/// One embedded file in its three encodings.
#[derive(Debug)]
pub struct Asset {
    /// The file's name in `ui/` (`app.js`).
    pub name: &'static str,
    /// Its fingerprinted name, under `/ui/assets/` (`app.1f2e3d4c5b.js`).
    pub path: &'static str,
    pub content_type: &'static str,
    pub plain: &'static [u8],
    pub gzip: &'static [u8],
    pub brotli: &'static [u8],
}

mod embedded {
    use super::Asset;
    include!(concat!(env!("OUT_DIR"), "/ui_assets.rs"));
}

pub use embedded::{ASSETS, FINGERPRINT};

/// The policy of every `/ui` answer: scripts, styles, images and API calls from this origin
/// only; nothing inline, no plugins, no framing, forms and `<base>` locked down.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const CACHE_IMMUTABLE: &str = "public, max-age=31536000, immutable";
const CACHE_REVALIDATE: &str = "no-cache";

/// Whether `path` is the console's (its answers get [`secure`]'s headers, even errors).
pub fn is_ui_path(path: &str) -> bool {
    path == "/ui" || path.starts_with("/ui/")
}

/// The security headers of every answer under `/ui`.
pub fn secure(headers: &mut HeaderMap) {
    const HEADERS: [(HeaderName, &str); 7] = [
        (
            http::header::CONTENT_SECURITY_POLICY,
            CONTENT_SECURITY_POLICY,
        ),
        (http::header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (http::header::REFERRER_POLICY, "no-referrer"),
        (http::header::X_FRAME_OPTIONS, "DENY"),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
        (
            HeaderName::from_static("cross-origin-resource-policy"),
            "same-origin",
        ),
        (
            HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
        ),
    ];
    for (name, value) in HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
}

/// `GET /ui`: to the page, whose relative asset URLs need the trailing slash.
pub fn redirect(state: &AppState) -> Result<Response<Body>, GatewayError> {
    enabled(state)?;
    let mut resp = Response::new(full(Vec::new()));
    *resp.status_mut() = StatusCode::PERMANENT_REDIRECT;
    resp.headers_mut()
        .insert(LOCATION, HeaderValue::from_static("/ui/"));
    Ok(resp)
}

/// `GET /ui/`: the page, revalidated on every load so that a new build is picked up at once.
pub fn page<B>(state: &AppState, req: &Request<B>) -> Result<Response<Body>, GatewayError> {
    enabled(state)?;
    let asset = if state.ui.admin {
        &embedded::INDEX_WITH_ADMIN
    } else {
        &embedded::INDEX_WITHOUT_ADMIN
    };
    let tag = if state.ui.admin { "index-a" } else { "index-p" };
    Ok(serve(req, asset, tag, CACHE_REVALIDATE))
}

/// `GET /ui/assets/{file}`, by fingerprinted name.
pub fn asset<B>(
    state: &AppState,
    req: &Request<B>,
    params: &PathParams,
) -> Result<Response<Body>, GatewayError> {
    enabled(state)?;
    let not_found =
        || GatewayError::NotFound(format!("Unknown console asset '{}'.", req.uri().path()));
    let path = params.get(0).unwrap_or_default();
    let asset = ASSETS
        .iter()
        .find(|a| a.path == path)
        .filter(|a| state.ui.admin || !a.name.starts_with("admin-"))
        .ok_or_else(not_found)?;
    Ok(serve(req, asset, asset.path, CACHE_IMMUTABLE))
}

fn enabled(state: &AppState) -> Result<(), GatewayError> {
    if state.ui.enabled {
        Ok(())
    } else {
        Err(GatewayError::NotFound(
            "The web console is turned off ([ui] enabled = false).".to_owned(),
        ))
    }
}

/// The asset in the best encoding the caller accepts, or 304 when its copy is current.
fn serve<B>(
    req: &Request<B>,
    asset: &'static Asset,
    tag: &str,
    cache_control: &'static str,
) -> Response<Body> {
    let encoding = Encoding::choose(req.headers());
    // Asset paths are content-addressed; the page's tag follows the whole set.
    let etag = format!("\"{FINGERPRINT}-{tag}-{}\"", encoding.token());
    let fresh = req
        .headers()
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| {
            let t = t.trim();
            t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag
        });
    let bytes: &'static [u8] = match encoding {
        Encoding::Brotli => asset.brotli,
        Encoding::Gzip => asset.gzip,
        Encoding::Identity => asset.plain,
    };
    let mut resp = if fresh {
        let mut resp = Response::new(full(Vec::new()));
        *resp.status_mut() = StatusCode::NOT_MODIFIED;
        resp
    } else {
        Response::new(full(bytes))
    };
    let headers = resp.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache_control));
    headers.insert(VARY, HeaderValue::from_static("accept-encoding"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        headers.insert(ETAG, v);
    }
    if let Some(token) = encoding.header() {
        headers.insert(CONTENT_ENCODING, HeaderValue::from_static(token));
    }
    resp
}

/// The encodings the console is stored in, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Brotli,
    Gzip,
    Identity,
}

impl Encoding {
    /// The best encoding `Accept-Encoding` allows (RFC 9110 §12.5.3: `q=0` refuses, `*`
    /// stands for any encoding not named; without the header, identity).
    fn choose(headers: &HeaderMap) -> Encoding {
        let mut brotli = None;
        let mut gzip = None;
        let mut any = None;
        for value in headers.get_all(http::header::ACCEPT_ENCODING) {
            let Ok(value) = value.to_str() else { continue };
            for item in value.split(',') {
                let mut parts = item.split(';');
                let name = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
                let q = parts
                    .filter_map(|p| p.trim().strip_prefix("q="))
                    .find_map(|q| q.trim().parse::<f32>().ok())
                    .unwrap_or(1.0);
                let accepted = q > 0.0;
                match name.as_str() {
                    "br" => brotli = Some(accepted),
                    "gzip" | "x-gzip" => gzip = Some(accepted),
                    "*" => any = Some(accepted),
                    _ => {}
                }
            }
        }
        if brotli.or(any) == Some(true) {
            Encoding::Brotli
        } else if gzip.or(any) == Some(true) {
            Encoding::Gzip
        } else {
            Encoding::Identity
        }
    }

    fn header(self) -> Option<&'static str> {
        match self {
            Encoding::Brotli => Some("br"),
            Encoding::Gzip => Some("gzip"),
            Encoding::Identity => None,
        }
    }

    fn token(self) -> &'static str {
        self.header().unwrap_or("identity")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> Encoding {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::ACCEPT_ENCODING,
            HeaderValue::from_str(value).expect("valid"),
        );
        Encoding::choose(&headers)
    }

    #[test]
    fn the_best_accepted_encoding_is_chosen() {
        assert_eq!(Encoding::choose(&HeaderMap::new()), Encoding::Identity);
        assert_eq!(accept("gzip, deflate, br, zstd"), Encoding::Brotli);
        assert_eq!(accept("gzip, deflate"), Encoding::Gzip);
        assert_eq!(accept("br;q=0, gzip;q=0.5"), Encoding::Gzip);
        assert_eq!(accept("BR;q=0.1"), Encoding::Brotli);
        assert_eq!(accept("identity"), Encoding::Identity);
        assert_eq!(accept("*"), Encoding::Brotli);
        assert_eq!(accept("br;q=0, *"), Encoding::Gzip);
        assert_eq!(accept("*;q=0, identity"), Encoding::Identity);
        assert_eq!(accept("gzip;q=0"), Encoding::Identity);
    }

    #[test]
    fn every_asset_is_compressed_and_the_page_names_the_fingerprint() {
        assert!(!ASSETS.is_empty());
        for asset in ASSETS {
            assert!(!asset.plain.is_empty(), "{}", asset.name);
            assert!(asset.gzip.starts_with(&[0x1f, 0x8b]), "{}", asset.name);
            assert!(!asset.brotli.is_empty(), "{}", asset.name);
        }
        let page = std::str::from_utf8(embedded::INDEX_WITH_ADMIN.plain).expect("UTF-8");
        for asset in ASSETS {
            let (stem, ext) = asset.name.rsplit_once('.').expect("an extension");
            let hash = asset
                .path
                .strip_prefix(&format!("{stem}."))
                .and_then(|rest| rest.strip_suffix(&format!(".{ext}")))
                .expect("name.hash.ext");
            assert!(
                hash.len() == 10 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
                "{}",
                asset.path
            );
        }
        for first in ["app.js", "style.css", "dom.js", "api.js"] {
            let asset = ASSETS.iter().find(|a| a.name == first).expect("embedded");
            assert!(
                page.contains(&format!("\"assets/{}\"", asset.path)),
                "{first}"
            );
        }
        assert!(page.contains(r#"content="on""#));
        assert!(!page.contains("{{"));
        let page = std::str::from_utf8(embedded::INDEX_WITHOUT_ADMIN.plain).expect("UTF-8");
        assert!(page.contains(r#"content="off""#));
    }

    #[test]
    fn the_page_and_scripts_hold_no_inline_code() {
        let page = std::str::from_utf8(embedded::INDEX_WITH_ADMIN.plain).expect("UTF-8");
        for tag in page.split("<script").skip(1) {
            let open = tag.split('>').next().unwrap_or_default();
            assert!(open.contains("src="), "an inline script: <script{open}>");
        }
        assert!(!page.contains("<style"), "an inline style block");
        assert!(!page.contains(" style="), "an inline style attribute");
        assert!(!page.contains(" on"), "an inline event handler");
    }
}
