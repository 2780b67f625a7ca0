//! `cargo xtask fuzz`: builds the cargo-fuzz targets of `fuzz/` once (nightly toolchain,
//! libFuzzer) and runs each for `--seconds N`, its corpus seeded from the test fixtures and
//! `fuzz/seeds/<target>/`. Installs cargo-fuzz when it is missing. The build, corpora and
//! crash artifacts live outside the repository (see [`work_dir`]), so repeated runs (and CI)
//! stay incremental and keep what the fuzzer learnt.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use clap::Args;

use crate::Result;
use crate::util::{banner, probe, run_status};

/// Options of `cargo xtask fuzz`.
#[derive(Args, Debug, Clone)]
pub struct FuzzArgs {
    /// Seconds each target runs.
    #[arg(long, default_value_t = 60)]
    pub seconds: u64,
    /// Run only this target (repeatable); all of them by default.
    #[arg(long = "target", value_name = "NAME")]
    pub targets: Vec<String>,
}

/// Why fuzzing cannot run here (no nightly toolchain, cargo-fuzz not installable).
#[derive(Debug)]
pub struct Unavailable(pub String);

/// Where each target's seeds come from: files under `dir` whose names start with `starts`
/// and end with `ends`, each written with `prefix` in front (targets whose first bytes are
/// parameters), besides every file of `fuzz/seeds/<target>/` as it is.
struct Seeds {
    target: &'static str,
    sources: &'static [(&'static str, &'static str, &'static str)],
    prefix: &'static [u8],
}

const FIXTURES: &str = "crates/gateway-providers/tests/fixtures";

const SEEDS: &[Seeds] = &[
    Seeds {
        target: "batch_input",
        sources: &[],
        prefix: b"",
    },
    Seeds {
        target: "chat_request",
        sources: &[(FIXTURES, "request_", ".openai.json")],
        prefix: b"",
    },
    Seeds {
        target: "embeddings_request",
        sources: &[],
        prefix: b"",
    },
    Seeds {
        target: "anthropic_request",
        sources: &[(FIXTURES, "request_", ".anthropic.json")],
        prefix: b"",
    },
    Seeds {
        target: "query_request",
        sources: &[],
        prefix: b"",
    },
    Seeds {
        target: "sse",
        sources: &[(FIXTURES, "", ".sse")],
        // A line cap of 1028 bytes, split every 3 bytes.
        prefix: b"\xff\x02",
    },
    Seeds {
        target: "upstream_answer",
        sources: &[(FIXTURES, "response_", ".json")],
        // Status 200, no headers.
        prefix: b"\x00\n",
    },
    Seeds {
        target: "upstream_stream",
        sources: &[(FIXTURES, "", ".sse")],
        prefix: b"",
    },
    Seeds {
        target: "jwt",
        sources: &[],
        prefix: b"",
    },
    Seeds {
        target: "config",
        sources: &[("xtask/bench", "", ".toml")],
        prefix: b"",
    },
    Seeds {
        target: "guardrails",
        sources: &[],
        prefix: b"",
    },
    Seeds {
        target: "gemini_path",
        sources: &[],
        prefix: b"",
    },
    // The first byte picks the method: 0 is `generateContent`.
    Seeds {
        target: "gemini_request",
        sources: &[(FIXTURES, "request_", ".gemini.json")],
        prefix: b"\x00",
    },
    Seeds {
        target: "responses_request",
        sources: &[],
        prefix: b"",
    },
    // Its seeds carry their two parameter bytes (message cap, split step) themselves.
    Seeds {
        target: "bedrock_eventstream",
        sources: &[],
        prefix: b"",
    },
    // Its seeds carry their selector byte (feed kind and format) themselves.
    Seeds {
        target: "threat_feed",
        sources: &[],
        prefix: b"",
    },
];

/// Options every `cargo fuzz` call gets, so that `run` reuses what `build` built: no
/// sanitizer (the code is safe Rust; libFuzzer still finds panics, overflows with debug
/// assertions, hangs and memory blow-ups) and 16 codegen units (a faster build).
fn build_options(target_dir: &Path) -> Vec<String> {
    vec![
        "--sanitizer".into(),
        "none".into(),
        "--codegen-units".into(),
        "16".into(),
        "--target-dir".into(),
        target_dir.display().to_string(),
    ]
}

/// The fuzz work directory: `$GATEWAY_FUZZ_DIR`, else `$CARGO_TARGET_DIR/fuzz`, else
/// `$HOME/.cache/llm-gateway/fuzz`. It holds `target/`, `corpus/<target>/` and
/// `artifacts/<target>/`.
pub fn work_dir(root: &Path, var: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    let set = |name: &str| var(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    let absolute = |dir: PathBuf| {
        if dir.is_absolute() {
            dir
        } else {
            root.join(dir)
        }
    };
    if let Some(dir) = set("GATEWAY_FUZZ_DIR") {
        return absolute(dir);
    }
    if let Some(dir) = set("CARGO_TARGET_DIR") {
        return absolute(dir).join("fuzz");
    }
    let home = set("HOME").unwrap_or_else(std::env::temp_dir);
    home.join(".cache/llm-gateway/fuzz")
}

/// The fuzz targets: the `[[bin]]` names of `fuzz/Cargo.toml`.
pub fn targets(root: &Path) -> Result<Vec<String>> {
    let manifest = root.join("fuzz/Cargo.toml");
    let text = std::fs::read_to_string(&manifest)
        .map_err(|e| format!("cannot read {}: {e}", manifest.display()))?;
    let value: toml::Value = toml::from_str(&text)?;
    let bins = value
        .get("bin")
        .and_then(toml::Value::as_array)
        .ok_or("fuzz/Cargo.toml has no [[bin]] targets")?;
    Ok(bins
        .iter()
        .filter_map(|b| b.get("name")?.as_str().map(str::to_owned))
        .collect())
}

/// `cargo` from `PATH`: rustup's proxy, which understands `+nightly` (`$CARGO`, the
/// toolchain's own cargo, does not).
fn rustup_cargo() -> Command {
    Command::new("cargo")
}

/// The nightly toolchain and cargo-fuzz, installed when missing (`cargo install`, once).
pub fn ensure_tools() -> std::result::Result<(), Unavailable> {
    if !probe("cargo", &["+nightly", "--version"]) {
        return Err(Unavailable(
            "no nightly toolchain (`rustup toolchain install nightly`)".into(),
        ));
    }
    if probe("cargo", &["fuzz", "--version"]) {
        return Ok(());
    }
    println!("cargo-fuzz is missing: installing it");
    run_status(rustup_cargo().args(["install", "cargo-fuzz", "--locked"]))
        .map_err(|e| Unavailable(format!("cargo-fuzz could not be installed: {e}")))
}

/// Copies each target's seeds into its corpus (idempotent: same names, same bytes).
fn seed(root: &Path, target: &str, corpus: &Path) -> Result<usize> {
    std::fs::create_dir_all(corpus)?;
    let spec = SEEDS.iter().find(|s| s.target == target);
    let prefix = spec.map_or(&b""[..], |s| s.prefix);
    let mut files: Vec<(PathBuf, &[u8])> = Vec::new();
    for (dir, starts, ends) in spec.map_or(&[][..], |s| s.sources) {
        for file in walk(&root.join(dir))? {
            let name = file
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if name.starts_with(starts) && name.ends_with(ends) {
                files.push((file, prefix));
            }
        }
    }
    let own = root.join("fuzz/seeds").join(target);
    if own.is_dir() {
        files.extend(walk(&own)?.into_iter().map(|f| (f, &b""[..])));
    }
    for (file, prefix) in &files {
        let relative = file.strip_prefix(root).unwrap_or(file);
        let name = format!("seed-{}", relative.display()).replace(['/', '\\'], "_");
        let mut bytes = prefix.to_vec();
        bytes.extend(std::fs::read(file)?);
        let dest = corpus.join(name);
        if std::fs::read(&dest).ok().as_deref() != Some(&bytes[..]) {
            std::fs::write(dest, bytes)?;
        }
    }
    Ok(files.len())
}

/// Every file under `dir`, recursively, in a stable order.
fn walk(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    if !dir.is_dir() {
        return Ok(out);
    }
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            out.extend(walk(&path)?);
        } else {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

/// Builds every target once, then runs each for `args.seconds`; a crash fails the run
/// (after the other targets ran) and leaves its input under `artifacts/<target>/`.
pub fn run(root: &Path, args: &FuzzArgs) -> Result<ExitCode> {
    if let Err(Unavailable(why)) = ensure_tools() {
        return Err(format!("cannot fuzz: {why}").into());
    }
    fuzz(root, args)?;
    Ok(ExitCode::SUCCESS)
}

/// The work of [`run`] once the tools are there.
pub fn fuzz(root: &Path, args: &FuzzArgs) -> Result<()> {
    let all = targets(root)?;
    let selected: Vec<String> = if args.targets.is_empty() {
        all
    } else {
        for name in &args.targets {
            if !all.contains(name) {
                return Err(
                    format!("unknown fuzz target '{name}' (have: {})", all.join(", ")).into(),
                );
            }
        }
        args.targets.clone()
    };
    let work = work_dir(root, &|name| std::env::var(name).ok());
    let options = build_options(&work.join("target"));
    banner(&format!("fuzz: build ({})", work.display()));
    run_status(
        rustup_cargo()
            .current_dir(root)
            .args(["+nightly", "fuzz", "build"])
            .args(&options),
    )?;
    let started = Instant::now();
    let mut crashed = Vec::new();
    for (index, target) in selected.iter().enumerate() {
        let corpus = work.join("corpus").join(target);
        let seeds = seed(root, target, &corpus)?;
        let artifacts = work.join("artifacts").join(target);
        std::fs::create_dir_all(&artifacts)?;
        banner(&format!(
            "fuzz [{}/{}] {target}: {} s, {seeds} seeds",
            index + 1,
            selected.len(),
            args.seconds
        ));
        let outcome = run_status(
            rustup_cargo()
                .current_dir(root)
                .args(["+nightly", "fuzz", "run", target])
                .args(&options)
                .arg(&corpus)
                .arg("--")
                .arg(format!("-max_total_time={}", args.seconds))
                .arg("-timeout=10")
                .arg("-rss_limit_mb=2048")
                .arg(format!("-artifact_prefix={}/", artifacts.display())),
        );
        if let Err(e) = outcome {
            println!(
                "fuzz: {target} FAILED: {e} (inputs in {})",
                artifacts.display()
            );
            crashed.push(target.clone());
        }
    }
    println!(
        "\nfuzz: {} target(s), {} s each, done in {:.0?}",
        selected.len(),
        args.seconds,
        started.elapsed()
    );
    if crashed.is_empty() {
        Ok(())
    } else {
        Err(format!("fuzz targets failed: {}", crashed.join(", ")).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::repo_root;

    #[test]
    fn every_target_has_a_source_file_and_seeds() {
        let root = repo_root();
        let targets = targets(&root).unwrap();
        assert!(targets.len() >= 10, "{targets:?}");
        for target in &targets {
            let source = root.join(format!("fuzz/fuzz_targets/{target}.rs"));
            assert!(source.is_file(), "{}", source.display());
            assert!(
                SEEDS.iter().any(|s| s.target == target),
                "no seed entry for {target}"
            );
            let corpus = tempfile::tempdir().unwrap();
            let n = seed(&root, target, corpus.path()).unwrap();
            assert!(n > 0, "no seeds for {target}");
            // Seeding again changes nothing.
            assert_eq!(seed(&root, target, corpus.path()).unwrap(), n);
            assert_eq!(std::fs::read_dir(corpus.path()).unwrap().count(), n);
        }
        for spec in SEEDS {
            assert!(targets.iter().any(|t| t == spec.target), "{}", spec.target);
        }
    }

    #[test]
    fn the_work_dir_is_outside_the_repository() {
        let root = Path::new("/repo");
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        assert_eq!(
            work_dir(
                root,
                &vars(&[("GATEWAY_FUZZ_DIR", "/f"), ("CARGO_TARGET_DIR", "/t")])
            ),
            PathBuf::from("/f")
        );
        assert_eq!(
            work_dir(root, &vars(&[("CARGO_TARGET_DIR", "/t"), ("HOME", "/h")])),
            PathBuf::from("/t/fuzz")
        );
        assert_eq!(
            work_dir(root, &vars(&[("HOME", "/h")])),
            PathBuf::from("/h/.cache/llm-gateway/fuzz")
        );
    }
}
