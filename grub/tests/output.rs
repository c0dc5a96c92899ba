//! Output that cannot be written never panics: a full disk is one error line and exit 3, a
//! closed pipe ends quietly with the run's own status.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};

fn memmap(proc: &Path) -> Command {
    std::fs::write(proc.join("cmdline"), "ro quiet\n").unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures");
    let mut c = Command::new(env!("CARGO_BIN_EXE_pmemtab-memmap"));
    c.arg("--sysfs")
        .arg(fixtures.join("memmap-qemu-4g/sys"))
        .arg("--proc")
        .arg(proc)
        .args(["--root", "/nonexistent", "--size", "512M"]);
    c
}

#[test]
fn full_disk_is_one_error_and_exit_3() {
    let proc = testsupport::Scratch::new("memmap-full");
    let out = memmap(proc.path())
        .stdout(File::create("/dev/full").unwrap())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert_eq!(
        stderr.lines().last(),
        Some("pmemtab-memmap: error: cannot write to standard output: No space left on device (os error 28)")
    );
}

#[test]
fn closed_pipe_ends_quietly() {
    let (read, write) = nix::unistd::pipe().unwrap();
    drop(read);
    let proc = testsupport::Scratch::new("memmap-pipe");
    let out = memmap(proc.path())
        .stdout(Stdio::from(write))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}
