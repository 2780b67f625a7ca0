//! `cargo xtask pgo` (and `cargo xtask bench --pgo`): a profile-guided release build of
//! `llm-gateway`.
//!
//! 1. build the gateway instrumented (`-Cprofile-generate`);
//! 2. train it: the bench's configuration in front of `mock-upstream`, driven with the
//!    calls the gateway serves most (chat completions, streamed and not, cache hits) and a
//!    few refusals, then stopped with SIGTERM so that it writes its profile at exit;
//! 3. merge the profile with the `llvm-profdata` of rustc's own LLVM version;
//! 4. build again with `-Cprofile-use`.
//!
//! Each build has a target directory of its own under `<target>/pgo/` and builds for the
//! host triple given explicitly, so that the flags reach the gateway's code but not build
//! scripts or proc-macros, and repeated runs stay incremental.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

use clap::Args;

use super::oha::{LoadSpec, Oha};
use super::targets::{self, Endpoint};
use super::{streaming, targets::GATEWAY_KEY};
use crate::Result;
use crate::util::{banner, cargo, find_on_path, run_status, target_dir};

/// Seconds of the main training load unless `--train-secs` says otherwise; `bench --pgo`
/// trains with it too, so that both commands reuse one profile.
pub const DEFAULT_TRAIN_SECS: u64 = 10;

/// Options of `cargo xtask pgo`.
#[derive(Args, Debug)]
pub struct PgoArgs {
    /// Seconds of the main training load (non-streamed chat completions).
    #[arg(long, default_value_t = DEFAULT_TRAIN_SECS)]
    pub train_secs: u64,
}

/// `cargo xtask pgo`: builds the optimised binary and prints where it is.
pub fn run(root: &Path, args: &PgoArgs) -> Result<ExitCode> {
    let bin = build(root, args.train_secs)?;
    println!("\nprofile-guided llm-gateway: {}", bin.display());
    Ok(ExitCode::SUCCESS)
}

/// Runs the four steps; returns the path of the optimised `llm-gateway`.
pub fn build(root: &Path, train_secs: u64) -> Result<PathBuf> {
    let rustc = rustc_version()?;
    // Looked up first: better to fail now than after a ten-minute build.
    let profdata = llvm_profdata(&rustc)?;
    let target = target_dir(root);
    let base = target.join("pgo");
    let profiles = base.join("profiles");

    banner("pgo 1/4: instrumented build");
    let instrumented = build_gateway(
        root,
        &base.join("instrumented"),
        &rustc.host,
        &format!("-Cprofile-generate={}", profiles.display()),
    )?;
    run_status(Command::new(cargo()).current_dir(root).args([
        "build",
        "--release",
        "-p",
        "gateway-testkit",
    ]))?;

    // A new profile changes the optimised build's input, which rebuilds it whole; when the
    // instrumented binary is the one the last profile came from, that profile still holds.
    let merged = base.join("merged.profdata");
    let stamp_file = base.join("merged.profdata.stamp");
    let stamp = stamp(&instrumented, train_secs);
    let previous = std::fs::read_to_string(&stamp_file).ok();
    if merged.exists() && stamp.is_some() && previous == stamp {
        banner("pgo 2-3/4: the instrumented build is unchanged: its last profile is reused");
    } else {
        if profiles.exists() {
            std::fs::remove_dir_all(&profiles)?;
        }
        std::fs::create_dir_all(&profiles)?;
        banner("pgo 2/4: training");
        train(
            &instrumented,
            &target.join("release").join("mock-upstream"),
            &base.join("train"),
            &profiles,
            Duration::from_secs(train_secs.max(1)),
        )?;
        banner("pgo 3/4: merging the profile");
        merge(&profdata, &profiles, &merged)?;
        if let Some(stamp) = &stamp {
            std::fs::write(&stamp_file, stamp)?;
        }
    }

    banner("pgo 4/4: optimised build");
    build_gateway(
        root,
        &base.join("optimized"),
        &rustc.host,
        &format!("-Cprofile-use={}", merged.display()),
    )
}

/// `cargo build --release -p llm-gateway` for `host` into `dir` with `rustflags`.
fn build_gateway(root: &Path, dir: &Path, host: &str, rustflags: &str) -> Result<PathBuf> {
    run_status(
        Command::new(cargo())
            .current_dir(root)
            .env("CARGO_TARGET_DIR", dir)
            .env("RUSTFLAGS", rustflags)
            .args(["build", "--release", "--target", host, "-p", "llm-gateway"]),
    )?;
    Ok(dir.join(host).join("release").join("llm-gateway"))
}

/// `llvm-profdata merge` of every `.profraw` in `profiles` into `merged`.
fn merge(profdata: &Path, profiles: &Path, merged: &Path) -> Result<()> {
    let raw: Vec<PathBuf> = std::fs::read_dir(profiles)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "profraw"))
        .collect();
    if raw.is_empty() {
        return Err("the instrumented gateway wrote no profile (it must exit on SIGTERM)".into());
    }
    run_status(
        Command::new(profdata)
            .arg("merge")
            .arg("-o")
            .arg(merged)
            .args(&raw),
    )
}

/// What identifies a profile's source: the instrumented binary's size and modification
/// time, and the training length.
fn stamp(binary: &Path, train_secs: u64) -> Option<String> {
    let meta = std::fs::metadata(binary).ok()?;
    let modified = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    Some(format!(
        "{} {} {train_secs}",
        meta.len(),
        modified.as_nanos()
    ))
}

/// Drives the instrumented gateway with the bench's traffic mix, then stops it.
fn train(
    gateway: &Path,
    mock: &Path,
    scratch: &Path,
    profiles: &Path,
    main_load: Duration,
) -> Result<()> {
    let mocks = targets::start_mocks(mock)?;
    let profile_file = profiles.join("gateway-%p-%m.profraw");
    let (mut service, target) = targets::start_gateway_with(
        gateway,
        scratch,
        &mocks,
        false,
        &[("LLVM_PROFILE_FILE", profile_file.as_os_str())],
    )?;
    let oha = Oha::ensure()?;
    let load = |endpoint: &Endpoint, authorization: &str, concurrency, duration| {
        let spec = LoadSpec {
            url: endpoint.url(),
            body: endpoint.body(false),
            authorization: Some(authorization.to_owned()),
            concurrency,
            rate: None,
            duration,
        };
        match oha.run(&spec) {
            Ok(result) => println!(
                "  {} ({}): {} ok, {} non-2xx",
                endpoint.model,
                if authorization.contains(GATEWAY_KEY) {
                    "key"
                } else {
                    "bad key"
                },
                result.ok,
                result.non_2xx
            ),
            Err(err) => println!("  {}: {err}", endpoint.model),
        }
    };
    let key = target.fast.authorization.clone();
    let cached = Endpoint {
        model: "bench-cached".into(),
        ..target.fast.clone()
    };
    let unknown = Endpoint {
        model: "no-such-model".into(),
        ..target.fast.clone()
    };
    // Mostly calls that succeed, as in production; refusals stay a small share so that
    // the profile does not lay the code out for them.
    let short = Duration::from_secs(1);
    load(&target.fast, &key, 16, main_load);
    load(&target.slow, &key, 64, main_load / 2);
    load(&cached, &key, 16, short);
    load(&unknown, &key, 1, short);
    load(
        &target.fast,
        "Bearer sk-gw-not-a-registered-key-0000000000000000",
        1,
        short,
    );
    let streams = streaming::ttft(
        &target.slow.stream_request(),
        400,
        16,
        main_load,
        Duration::from_secs(10),
    );
    println!(
        "  streamed: {} of {} complete",
        streams.completed, streams.requests
    );
    // SIGTERM: the gateway shuts down gracefully and the profile is written at exit.
    service.stop_within(Duration::from_secs(30));

    Ok(())
}

/// What `rustc -vV` says about itself.
struct RustcVersion {
    host: String,
    llvm_major: String,
}

fn rustc_version() -> Result<RustcVersion> {
    let out = Command::new("rustc").arg("-vV").output()?;
    parse_rustc_version(&String::from_utf8_lossy(&out.stdout))
        .ok_or_else(|| "rustc -vV printed no host or no LLVM version".into())
}

fn parse_rustc_version(text: &str) -> Option<RustcVersion> {
    let field = |name: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(name))
            .map(|v| v.trim().to_owned())
    };
    let host = field("host:").filter(|h| !h.is_empty())?;
    let llvm = field("LLVM version:")?;
    let llvm_major = llvm.split('.').next().filter(|m| !m.is_empty())?.to_owned();
    Some(RustcVersion { host, llvm_major })
}

/// `llvm-profdata` of rustc's LLVM: rustup's `llvm-tools`, then `llvm-profdata-<major>`
/// (Debian's llvm-<major>), then a plain `llvm-profdata` of the same major version.
fn llvm_profdata(rustc: &RustcVersion) -> Result<PathBuf> {
    let sysroot = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())?;
    let rustup = Path::new(&sysroot)
        .join("lib/rustlib")
        .join(&rustc.host)
        .join("bin/llvm-profdata");
    if rustup.exists() {
        return Ok(rustup);
    }
    if let Some(versioned) = find_on_path(&format!("llvm-profdata-{}", rustc.llvm_major)) {
        return Ok(versioned);
    }
    if let Some(plain) = find_on_path("llvm-profdata") {
        let version = Command::new(&plain).arg("--version").output()?;
        let text = String::from_utf8_lossy(&version.stdout);
        if text.contains(&format!("version {}.", rustc.llvm_major)) {
            return Ok(plain);
        }
    }
    Err(format!(
        "no llvm-profdata for LLVM {major} (rustc's): install it with `apt-get install llvm-{major}` \
         or `rustup component add llvm-tools`",
        major = rustc.llvm_major
    )
    .into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_is_stamped_by_its_binary_and_training() {
        let dir = std::env::temp_dir().join(format!("xtask-pgo-stamp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bin = dir.join("llm-gateway");
        std::fs::write(&bin, b"one").unwrap();
        let first = stamp(&bin, 10).unwrap();
        assert_eq!(stamp(&bin, 10).as_ref(), Some(&first));
        assert_ne!(stamp(&bin, 20).as_ref(), Some(&first));
        std::fs::write(&bin, b"a rebuilt binary").unwrap();
        assert_ne!(stamp(&bin, 10).as_ref(), Some(&first));
        assert_eq!(stamp(&dir.join("missing"), 10), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn host_and_llvm_major_come_from_rustc_vv() {
        let text = "rustc 1.95.0 (59807616e 2026-04-14)\nbinary: rustc\n\
                    host: x86_64-unknown-linux-gnu\nrelease: 1.95.0\nLLVM version: 22.1.2\n";
        let v = parse_rustc_version(text).unwrap();
        assert_eq!(v.host, "x86_64-unknown-linux-gnu");
        assert_eq!(v.llvm_major, "22");
        assert!(parse_rustc_version("host: x86_64-unknown-linux-gnu\n").is_none());
        assert!(parse_rustc_version("LLVM version: 22.1.2\n").is_none());
    }
}
