//! Output that cannot be written never panics: a full disk is one error line and exit 3, a
//! closed pipe ends quietly with the command's own status.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

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
        let out = pmem_assemble(args)
            .stdout(File::create("/dev/full").unwrap())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {stderr}");
        assert_eq!(
            stderr.lines().last(),
            Some("pmem-assemble: error: cannot write to standard output: No space left on device (os error 28)"),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn closed_pipe_ends_quietly() {
    // The read end is closed before the child starts, so every write meets EPIPE.
    let (read, write) = nix::unistd::pipe().unwrap();
    drop(read);
    let out = pmem_assemble(&["list"])
        .stdout(Stdio::from(write))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}
