//! The real workspace passes `cargo xtask tidy`'s rules (runs under `cargo test --workspace`).

use std::path::Path;

#[test]
fn workspace_is_tidy() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root");
    let report = xtask::tidy::check_workspace(root).expect("tidy can read the workspace");
    assert!(report.members >= 2, "found only {} members", report.members);
    let lines: Vec<String> = report.problems.iter().map(ToString::to_string).collect();
    assert!(
        lines.is_empty(),
        "cargo xtask tidy found {} problem(s):\n{}",
        lines.len(),
        lines.join("\n")
    );
}
