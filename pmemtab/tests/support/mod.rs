//! Test helpers shared by integration tests: a small JSON reader and the check of scanned
//! namespaces against what ndctl, /dev and /proc/iomem showed on the same machine.
#![allow(dead_code)]

pub mod json;
pub mod ndctl;

use std::path::PathBuf;

/// `tests/fixtures/<name>` at the workspace root.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures")
        .join(name)
}

/// A diagnostic of a long line shows a short window of it, with its caret under `member`.
pub fn assert_shows_around(d: &pmemtab::tab::Diagnostic, member: &str) {
    let shown = d.render("t");
    let lines: Vec<&str> = shown.lines().collect();
    assert!(
        lines[1].len() < 300,
        "{member}: {} bytes shown",
        lines[1].len()
    );
    assert_eq!(
        lines[2].find('^'),
        lines[1].find(member),
        "{member}: {shown}"
    );
}
