//! An argument that is not UTF-8 is a usage error (exit 2), never a panic (issue 28).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::process::Command;

#[test]
fn an_argument_that_is_not_utf8_is_a_usage_error() {
    let o = Command::new(env!("CARGO_BIN_EXE_pmemtab-memmap"))
        .args(["--size", "512M", "--mount"])
        .arg(OsStr::from_bytes(b"/mnt/\xff"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("argument 4 is not UTF-8"), "{err}");
}
