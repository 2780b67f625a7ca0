//! Embeds the web console (`ui/`) into the binary. Every asset gets a fingerprinted file name
//! (`app.js` is served as `app.<hash>.js`, the hash a SHA-256 of its content) and is
//! compressed once here, with gzip and brotli at their highest levels. A module's references
//! to other assets (`'./dom.js'`) are rewritten to their fingerprinted names before it is
//! hashed itself, so a change to `dom.js` changes the name of every module that imports it,
//! and nothing else: unchanged files stay cached across releases. Assets can then be cached
//! for a year. `index.html` is written in two variants (admin views on and off) that name the
//! fingerprinted files.

// A build script reports a broken source tree by failing the build.
#![allow(clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Hex digits of the content hash in a file name (32 bits: names only need to differ).
const HASH_CHARS: usize = 10;

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    let source = manifest.join("ui");
    println!("cargo:rerun-if-changed={}", source.display());
    let files: BTreeMap<String, Vec<u8>> = std::fs::read_dir(&source)
        .expect("crates/gateway-app/ui exists")
        .map(|entry| entry.expect("readable ui entry").path())
        .filter(|p| p.is_file())
        .map(|p| {
            println!("cargo:rerun-if-changed={}", p.display());
            let name = p
                .file_name()
                .and_then(|n| n.to_str())
                .expect("UTF-8 file name")
                .to_owned();
            (name, std::fs::read(&p).expect("readable ui file"))
        })
        .collect();
    let mut built = BTreeMap::new();
    for name in files.keys().filter(|n| *n != "index.html") {
        fingerprint(name, &files, &mut built, &mut Vec::new());
    }
    let mut set = Sha256::new();
    let mut code = String::new();
    let _ = writeln!(
        code,
        "/// Every console asset but `index.html`, by logical name."
    );
    let _ = writeln!(code, "pub static ASSETS: &[Asset] = &[");
    for (name, (path, bytes)) in &built {
        set.update(path.as_bytes());
        let _ = writeln!(code, "    {},", asset(&out, name, path, bytes));
    }
    let _ = writeln!(code, "];");
    let set = hex(&set.finalize(), HASH_CHARS);
    let _ = writeln!(
        code,
        "/// A fingerprint of the whole set (the page's ETag changes with it)."
    );
    let _ = writeln!(code, "pub const FINGERPRINT: &str = {set:?};");
    let index = String::from_utf8(
        files
            .get("index.html")
            .expect("ui/index.html exists")
            .clone(),
    )
    .expect("UTF-8 index.html");
    let index = rewrite(&index, "assets/", &files, &built);
    for (constant, admin) in [("INDEX_WITH_ADMIN", "on"), ("INDEX_WITHOUT_ADMIN", "off")] {
        let html = index.replace("{{ADMIN}}", admin);
        assert!(
            !html.contains("{{"),
            "index.html has an unknown placeholder"
        );
        let path = format!("index-admin-{admin}.html");
        let _ = writeln!(
            code,
            "pub static {constant}: Asset = {};",
            asset(&out, "index.html", &path, html.as_bytes())
        );
    }
    std::fs::write(out.join("ui_assets.rs"), code).expect("writable OUT_DIR");
}

/// The fingerprinted name of `name` (and its rewritten content, in `built`), after those of
/// the assets it refers to.
fn fingerprint(
    name: &str,
    files: &BTreeMap<String, Vec<u8>>,
    built: &mut BTreeMap<String, (String, Vec<u8>)>,
    visiting: &mut Vec<String>,
) -> String {
    if let Some((path, _)) = built.get(name) {
        return path.clone();
    }
    assert!(
        !visiting.iter().any(|v| v == name),
        "ui/ assets refer to each other in a cycle: {visiting:?} -> {name}"
    );
    visiting.push(name.to_owned());
    let bytes = files.get(name).expect("known asset");
    let content = match std::str::from_utf8(bytes) {
        Ok(text) if name.ends_with(".js") || name.ends_with(".css") => {
            for other in files.keys() {
                if other != name && refers(text, "./", other) {
                    fingerprint(other, files, built, visiting);
                }
            }
            rewrite(text, "./", files, built).into_bytes()
        }
        _ => bytes.clone(),
    };
    visiting.pop();
    let (stem, ext) = name
        .rsplit_once('.')
        .expect("asset names have an extension");
    let path = format!(
        "{stem}.{}.{ext}",
        hex(&Sha256::digest(&content), HASH_CHARS)
    );
    built.insert(name.to_owned(), (path.clone(), content));
    path
}

/// Whether `text` names `file` as a quoted `prefix + file` string.
fn refers(text: &str, prefix: &str, file: &str) -> bool {
    ['\'', '"']
        .iter()
        .any(|q| text.contains(&format!("{q}{prefix}{file}{q}")))
}

/// `text` with every quoted `prefix + name` of a built asset turned into its fingerprinted name.
fn rewrite(
    text: &str,
    prefix: &str,
    files: &BTreeMap<String, Vec<u8>>,
    built: &BTreeMap<String, (String, Vec<u8>)>,
) -> String {
    let mut text = text.to_owned();
    for name in files.keys() {
        if let Some((path, _)) = built.get(name) {
            for q in ['\'', '"'] {
                text = text.replace(
                    &format!("{q}{prefix}{name}{q}"),
                    &format!("{q}{prefix}{path}{q}"),
                );
            }
        }
    }
    text
}

fn hex(bytes: &[u8], chars: usize) -> String {
    bytes
        .iter()
        .fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
        .chars()
        .take(chars)
        .collect()
}

/// Writes the plain, gzip and brotli forms of one asset to `out` and returns its `Asset`
/// literal, whose bytes are `include_bytes!` of those files.
fn asset(out: &Path, name: &str, path: &str, bytes: &[u8]) -> String {
    let dir = out.join("ui");
    std::fs::create_dir_all(&dir).expect("writable OUT_DIR");
    let plain = dir.join(path);
    std::fs::write(&plain, bytes).expect("writable OUT_DIR");
    let gzip = dir.join(format!("{path}.gz"));
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).expect("in memory");
    std::fs::write(&gzip, encoder.finish().expect("in memory")).expect("writable OUT_DIR");
    let brotli = dir.join(format!("{path}.br"));
    let mut compressed = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut compressed, 4096, 11, 22);
        writer.write_all(bytes).expect("in memory");
    }
    std::fs::write(&brotli, compressed).expect("writable OUT_DIR");
    format!(
        "Asset {{ name: {name:?}, path: {path:?}, content_type: {:?}, plain: include_bytes!({:?}), gzip: include_bytes!({:?}), brotli: include_bytes!({:?}) }}",
        content_type(name),
        plain.display().to_string(),
        gzip.display().to_string(),
        brotli.display().to_string(),
    )
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("json") => "application/json",
        Some("txt") | Some("md") => "text/plain; charset=utf-8",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        other => panic!("ui/ holds a file of an unknown type: {other:?}"),
    }
}
