//! Output that cannot be written never panics: a full disk is one error line and exit 3, a
//! closed pipe ends quietly with the command's own status.

use std::path::{Path, PathBuf};
use std::process::Command;

fn sysfs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/nd-sysfs-qemu-a/sys")
}

fn pmem_assemble(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pmem-assemble"));
    c.arg("--sysfs")
        .arg(sysfs())
        .args(["--pmemtab", "/dev/null"])
        .args(args);
    c
}

#[test]
fn full_disk_is_one_error_and_exit_3() {
    for args in [&["list"][..], &["check"], &["list", "--json"], &["--help"]] {
        testsupport::assert_full_disk_is_one_error("pmem-assemble", &mut pmem_assemble(args));
    }
}

#[test]
fn closed_pipe_ends_quietly() {
    testsupport::assert_closed_pipe_ends_quietly(&mut pmem_assemble(&["list"]));
}
