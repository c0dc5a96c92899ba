//! Output that cannot be written never panics a binary: the checks both binaries share.

use std::fs::File;
use std::process::{Command, Stdio};

/// A full disk on stdout is one error line naming `program` and exit 3.
pub fn assert_full_disk_is_one_error(program: &str, cmd: &mut Command) {
    let out = cmd
        .stdout(File::create("/dev/full").unwrap_or_else(|e| panic!("/dev/full: {e}")))
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{cmd:?}: {stderr}");
    let want = format!(
        "{program}: error: cannot write to standard output: No space left on device (os error 28)"
    );
    assert_eq!(
        stderr.lines().last(),
        Some(want.as_str()),
        "{cmd:?}: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{cmd:?}: {stderr}");
}

/// A closed pipe on stdout ends quietly with exit 0.
pub fn assert_closed_pipe_ends_quietly(cmd: &mut Command) {
    // The read end is closed before the child starts, so every write meets EPIPE.
    let (read, write) = nix::unistd::pipe().unwrap_or_else(|e| panic!("pipe: {e}"));
    drop(read);
    let out = cmd
        .stdout(Stdio::from(write))
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert_eq!(out.status.code(), Some(0), "{cmd:?}");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{cmd:?}");
}
