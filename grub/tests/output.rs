//! Output that cannot be written never panics: a full disk is one error line and exit 3, a
//! closed pipe ends quietly with the run's own status.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

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
    testsupport::assert_full_disk_is_one_error("pmemtab-memmap", &mut memmap(proc.path()));
}

#[test]
fn closed_pipe_ends_quietly() {
    let proc = testsupport::Scratch::new("memmap-pipe");
    testsupport::assert_closed_pipe_ends_quietly(&mut memmap(proc.path()));
}
