//! Bytes that are not UTF-8, from the user or the kernel (issue 28): an argument is a usage
//! error (exit 2, no panic); a line of /proc that does not concern pmemtab costs nothing.
//! (Cases whose input is a file are golden cases: `*-not-utf8` under tests/golden/.)

// Helpers outside #[test] functions set up fixtures: a panic there fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::{Command, Output};

fn sysfs() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/nd-sysfs-qemu-a/sys")
}

fn pmem_assemble(args: &[&OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pmem-assemble"))
        .arg("--sysfs")
        .arg(sysfs())
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn an_argument_that_is_not_utf8_is_a_usage_error() {
    let bad = OsStr::from_bytes(b"Ger\xe4t");
    // Counted after the --sysfs DIR the helper passes first.
    for (n, args) in [
        (4, vec![OsStr::new("--pmemtab"), bad, OsStr::new("list")]),
        (4, vec![OsStr::new("up"), bad]),
        (5, vec![OsStr::new("check"), OsStr::new("a"), bad]),
        (3, vec![bad]),
    ] {
        let o = pmem_assemble(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(
            err,
            format!("pmem-assemble: argument {n} is not UTF-8: names, paths and options are text\nRun pmem-assemble --help for usage.\n"),
            "{args:?}"
        );
        assert!(o.stdout.is_empty(), "{args:?}");
    }
}
