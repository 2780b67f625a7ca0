//! Embeds the web console (`ui/`) into the binary: every file is compressed once here, with
//! gzip and brotli at their highest levels, and the whole set gets one fingerprint (a SHA-256
//! of every name and content) that becomes part of each asset's URL
//! (`/ui/assets/<fingerprint>/app.js`). Assets can then be cached for a year: any change to any
//! file changes every URL, and the ES modules' relative imports still resolve. `index.html`
//! is written in two variants (admin views on and off) with the fingerprint filled in.

// A build script reports a broken source tree by failing the build.
#![allow(clippy::expect_used, clippy::panic)]

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    let source = manifest.join("ui");
    println!("cargo:rerun-if-changed={}", source.display());
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&source)
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
    files.sort();
    let mut hasher = Sha256::new();
    for (name, bytes) in &files {
        hasher.update(name.as_bytes());
        hasher.update([0]);
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(bytes);
    }
    let fingerprint: String = hasher
        .finalize()
        .iter()
        .take(6)
        .fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        });
    let mut code = String::new();
    let _ = writeln!(code, "/// The fingerprint of this build's console assets.");
    let _ = writeln!(code, "pub const FINGERPRINT: &str = {fingerprint:?};");
    let _ = writeln!(
        code,
        "/// Every console asset but `index.html`, by file name."
    );
    let _ = writeln!(code, "pub static ASSETS: &[Asset] = &[");
    let mut index = None;
    for (name, bytes) in &files {
        if name == "index.html" {
            index = Some(bytes.clone());
            continue;
        }
        let _ = writeln!(code, "    {},", asset(&out, name, name, bytes));
    }
    let _ = writeln!(code, "];");
    let index = String::from_utf8(index.expect("ui/index.html exists")).expect("UTF-8 index.html");
    for (constant, admin) in [("INDEX_WITH_ADMIN", "on"), ("INDEX_WITHOUT_ADMIN", "off")] {
        let html = index
            .replace("{{BUILD}}", &fingerprint)
            .replace("{{ADMIN}}", admin);
        let file = format!("index-admin-{admin}.html");
        let _ = writeln!(
            code,
            "pub static {constant}: Asset = {};",
            asset(&out, "index.html", &file, html.as_bytes())
        );
    }
    std::fs::write(out.join("ui_assets.rs"), code).expect("writable OUT_DIR");
}

/// Writes the plain, gzip and brotli forms of one asset to `out` and returns its `Asset`
/// literal, whose bytes are `include_bytes!` of those files.
fn asset(out: &Path, name: &str, file: &str, bytes: &[u8]) -> String {
    let dir = out.join("ui");
    std::fs::create_dir_all(&dir).expect("writable OUT_DIR");
    let plain = dir.join(file);
    std::fs::write(&plain, bytes).expect("writable OUT_DIR");
    let gzip = dir.join(format!("{file}.gz"));
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).expect("in memory");
    std::fs::write(&gzip, encoder.finish().expect("in memory")).expect("writable OUT_DIR");
    let brotli = dir.join(format!("{file}.br"));
    let mut compressed = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut compressed, 4096, 11, 22);
        writer.write_all(bytes).expect("in memory");
    }
    std::fs::write(&brotli, compressed).expect("writable OUT_DIR");
    format!(
        "Asset {{ name: {name:?}, content_type: {:?}, plain: include_bytes!({:?}), gzip: include_bytes!({:?}), brotli: include_bytes!({:?}) }}",
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
