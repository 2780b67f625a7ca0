//! The pure source-file rules of `cargo xtask tidy`: crate roots open with a `//!`
//! comment, and no `.rs` file is too long.

use super::rules::Problem;

/// Longest allowed `.rs` file, in lines.
pub const MAX_RS_LINES: usize = 800;

/// A crate root (lib.rs / main.rs) must open with a `//!` doc comment.
pub fn check_crate_doc(path: &str, source: &str) -> Vec<Problem> {
    let first = source.lines().map(str::trim).find(|line| !line.is_empty());
    match first {
        Some(line) if line.starts_with("//!") => Vec::new(),
        _ => vec![Problem::new(
            path,
            "crate root must start with a `//!` doc comment (what it owns, what it must not depend on, entry points)",
        )],
    }
}

/// A `.rs` file must not exceed [`MAX_RS_LINES`] lines.
pub fn check_file_length(path: &str, source: &str) -> Vec<Problem> {
    let lines = source.lines().count();
    if lines > MAX_RS_LINES {
        vec![Problem::new(
            path,
            format!("{lines} lines (limit {MAX_RS_LINES}); split it into smaller modules"),
        )]
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crate_root_needs_inner_doc_comment() {
        assert!(check_crate_doc("lib.rs", "//! Owns X.\n\npub mod a;\n").is_empty());
        assert!(check_crate_doc("lib.rs", "\n\n  //! Leading blank lines are fine.\n").is_empty());
        assert_eq!(check_crate_doc("main.rs", "fn main() {}\n").len(), 1);
        assert_eq!(
            check_crate_doc("lib.rs", "/// outer doc\npub fn f() {}\n").len(),
            1
        );
        assert_eq!(
            check_crate_doc("lib.rs", "// plain comment\n//! late\n").len(),
            1
        );
        assert_eq!(check_crate_doc("lib.rs", "").len(), 1);
    }

    #[test]
    fn long_files_are_rejected() {
        let ok = "x\n".repeat(MAX_RS_LINES);
        assert!(check_file_length("a.rs", &ok).is_empty());
        let long = "x\n".repeat(MAX_RS_LINES + 1);
        let problems = check_file_length("src/big.rs", &long);
        assert_eq!(problems.len(), 1);
        assert_eq!(
            problems[0].to_string(),
            "src/big.rs: 801 lines (limit 800); split it into smaller modules"
        );
    }
}
