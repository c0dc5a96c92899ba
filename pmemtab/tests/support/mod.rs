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
