//! An internal error says so: a crash signal (SIGILL is what a panic becomes in the static
//! binary) gives one line on stderr naming pmem-assemble, the command and that it is a bug,
//! and exit status 70. The lab proves the same of the static binary at boot (scenario
//! `missing`).

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::fs::OpenOptions;
use std::process::{Command, Stdio};

#[test]
fn a_crash_signal_is_one_line_and_exit_70() {
    for (signal, name) in [(Signal::SIGILL, "SIGILL"), (Signal::SIGSEGV, "SIGSEGV")] {
        let dir = testsupport::Scratch::new(&format!("crash-{name}"));
        // pmemtab itself is refused unless it is a regular file (issue 28); mountinfo, a
        // /proc file, is simply read. As a FIFO, `status` blocks reading it; opening its
        // other end returns once the child has opened it, which is after main installed the
        // handler.
        std::fs::create_dir(dir.join("self")).unwrap();
        let fifo = dir.join("self/mountinfo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        let sysfs = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures/nd-sysfs-qemu-a/sys");
        let child = Command::new(env!("CARGO_BIN_EXE_pmem-assemble"))
            .arg("--pmemtab")
            .arg(dir.join("absent"))
            .arg("--sysfs")
            .arg(sysfs)
            .arg("--proc")
            .arg(dir.path())
            .arg("status")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let writer = OpenOptions::new().write(true).open(&fifo).unwrap();
        kill(Pid::from_raw(child.id() as i32), signal).unwrap();
        let out = child.wait_with_output().unwrap();
        drop(writer);
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            format!("pmem-assemble: internal error ({name}) during 'status': this is a bug in pmem-assemble, please report it\n")
        );
        assert_eq!(out.status.code(), Some(70));
    }
}
