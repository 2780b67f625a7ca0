//! The Java SDK's suite (`sdks/java`), run by `cargo xtask test`: compiled with `javac` against
//! Debian's Jackson and JUnit 5 jars (installed with apt-get when missing, so the build needs no
//! Maven repository), then run with the JUnit console launcher against the real `llm-gateway`
//! binary, which the tests start themselves on port 0; a test checks that the SDK covers every
//! operation of the gateway's own APIs in `docs/openapi.json`.
//!
//! No JDK: the step prints one line and passes, except under `GATEWAY_REQUIRE_SERVICES=1` (CI),
//! where it fails.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::Result;
use crate::util::{find_on_path, run_status};

/// Where Debian installs its jars.
const DEBIAN_JARS: &str = "/usr/share/java";
/// The Debian packages that bring the jars below.
const PACKAGES: &[&str] = &["libjackson2-databind-java", "junit5"];
/// What the SDK compiles against.
const MAIN_JARS: &[&str] = &[
    "jackson-databind.jar",
    "jackson-core.jar",
    "jackson-annotations.jar",
];
/// The JUnit 5 launcher with the Jupiter engine and API inside.
const LAUNCHER_JAR: &str = "junit-platform-console-standalone.jar";

/// Why the suite cannot run here.
#[derive(Debug)]
pub struct Unavailable(pub String);

/// Builds and tests the SDK against `gateway` (the debug `llm-gateway` binary).
pub fn run(root: &Path, gateway: &Path, out_dir: &Path) -> Result<()> {
    let sdk = root.join("sdks/java");
    check_version(&sdk)?;
    let (javac, java) = match tools() {
        Ok(found) => found,
        Err(Unavailable(why)) => {
            if std::env::var("GATEWAY_REQUIRE_SERVICES").is_ok_and(|v| v == "1") {
                return Err(format!(
                    "the Java SDK suite is required (GATEWAY_REQUIRE_SERVICES=1): {why}"
                )
                .into());
            }
            println!("java sdk: skipped: {why}");
            return Ok(());
        }
    };
    let jars = Path::new(DEBIAN_JARS);
    let main_cp = classpath(jars, MAIN_JARS);
    let main_out = out_dir.join("main");
    let test_out = out_dir.join("test");
    for dir in [&main_out, &test_out] {
        if dir.exists() {
            std::fs::remove_dir_all(dir)?;
        }
        std::fs::create_dir_all(dir)?;
    }
    let javac_args = [
        "--release",
        "17",
        "-Xlint:all",
        "-Werror",
        "-encoding",
        "UTF-8",
    ];
    run_status(
        Command::new(&javac)
            .args(javac_args)
            .arg("-d")
            .arg(&main_out)
            .arg("-cp")
            .arg(&main_cp)
            .args(java_sources(&sdk.join("src/main/java"))?),
    )?;
    let launcher = jars.join(LAUNCHER_JAR);
    let test_cp = join_paths(&[main_out.clone(), PathBuf::from(&main_cp), launcher.clone()]);
    run_status(
        Command::new(&javac)
            .args(javac_args)
            .arg("-d")
            .arg(&test_out)
            .arg("-cp")
            .arg(&test_cp)
            .args(java_sources(&sdk.join("src/test/java"))?),
    )?;
    let run_cp = join_paths(&[main_out, test_out.clone(), PathBuf::from(&main_cp)]);
    run_status(
        Command::new(java)
            .arg("-jar")
            .arg(&launcher)
            .arg("--disable-banner")
            .arg("--disable-ansi-colors")
            .arg("--fail-if-no-tests")
            .arg("--details=tree")
            .arg("-cp")
            .arg(&run_cp)
            .arg("--scan-classpath")
            .arg(&test_out)
            .env("LLM_GATEWAY_BIN", gateway)
            .env("LLM_GATEWAY_OPENAPI", root.join("docs/openapi.json")),
    )
}

/// `javac` and `java`, plus the jars (apt-get installs the Debian packages when one is missing).
fn tools() -> std::result::Result<(PathBuf, PathBuf), Unavailable> {
    let (Some(javac), Some(java)) = (find_on_path("javac"), find_on_path("java")) else {
        return Err(Unavailable(
            "no JDK (javac and java on PATH); install openjdk-17-jdk-headless".into(),
        ));
    };
    let jars = Path::new(DEBIAN_JARS);
    let missing = || {
        MAIN_JARS
            .iter()
            .chain([&LAUNCHER_JAR])
            .any(|jar| !jars.join(jar).is_file())
    };
    if missing() {
        install_packages();
    }
    if missing() {
        return Err(Unavailable(format!(
            "the jars of {} are not in {DEBIAN_JARS} and apt-get could not install them",
            PACKAGES.join(", ")
        )));
    }
    Ok((javac, java))
}

/// `apt-get install` of [`PACKAGES`]; `apt-get update` once first if the install fails.
fn install_packages() {
    println!("java sdk: installing {} with apt-get", PACKAGES.join(" "));
    let install = || {
        run_status(
            Command::new("apt-get")
                .args(["install", "-y", "-q", "--no-install-recommends"])
                .args(PACKAGES)
                .env("DEBIAN_FRONTEND", "noninteractive"),
        )
    };
    if install().is_err() {
        let _ = run_status(Command::new("apt-get").args(["update", "-q"]));
        if let Err(err) = install() {
            println!("java sdk: apt-get install failed: {err}");
        }
    }
}

fn classpath(dir: &Path, jars: &[&str]) -> String {
    let paths: Vec<PathBuf> = jars.iter().map(|j| dir.join(j)).collect();
    join_paths(&paths)
}

fn join_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(":")
}

/// Every `.java` file under `dir`, sorted (so the compile line is stable).
fn java_sources(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d)? {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "java") {
                found.push(path);
            }
        }
    }
    found.sort();
    if found.is_empty() {
        return Err(format!("no Java sources under {}", dir.display()).into());
    }
    Ok(found)
}

/// The pom's `<version>` and `GatewayClient.VERSION` must agree, and the major number must be
/// the API version's (`v1` -> 1.x.y): the SDK's version is tied to the API it speaks.
fn check_version(sdk: &Path) -> Result<()> {
    let pom = std::fs::read_to_string(sdk.join("pom.xml"))?;
    let client =
        std::fs::read_to_string(sdk.join("src/main/java/dev/llmgateway/GatewayClient.java"))?;
    let pom_version = between(
        &pom,
        "<artifactId>llm-gateway-sdk</artifactId>",
        "</version>",
    )
    .and_then(|s| s.split("<version>").nth(1))
    .ok_or("sdks/java/pom.xml has no <version> after its artifactId")?;
    let client_version = between(&client, "String VERSION = \"", "\"")
        .ok_or("GatewayClient.java has no VERSION constant")?;
    let api = between(&client, "String API_VERSION = \"v", "\"")
        .ok_or("GatewayClient.java has no API_VERSION constant")?;
    if pom_version.trim() != client_version {
        return Err(format!(
            "sdks/java: pom.xml says {pom_version}, GatewayClient.VERSION says {client_version}"
        )
        .into());
    }
    if client_version.split('.').next() != Some(api) {
        return Err(format!(
            "sdks/java: version {client_version} does not start with the API version {api}"
        )
        .into());
    }
    Ok(())
}

/// The text after the first `start` up to the next `end`.
fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let rest = text.get(from..)?;
    rest.find(end).and_then(|to| rest.get(..to))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repository_sdk_versions_agree() {
        check_version(&crate::util::repo_root().join("sdks/java")).unwrap();
    }

    #[test]
    fn between_finds_the_first_span() {
        assert_eq!(between("a <v>1.2</v> <v>3</v>", "<v>", "</v>"), Some("1.2"));
        assert_eq!(between("abc", "x", "c"), None);
    }

    #[test]
    fn sources_are_found_recursively() {
        let sources =
            java_sources(&crate::util::repo_root().join("sdks/java/src/main/java")).unwrap();
        assert!(
            sources
                .iter()
                .any(|p| p.ends_with("dev/llmgateway/GatewayClient.java"))
        );
    }
}
