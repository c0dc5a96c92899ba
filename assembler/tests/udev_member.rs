//! `udev-member`, which udev runs for every pmem event (09-pmemtab.rules): it never blocks,
//! and says nothing while pmemtab is disabled (issue 28 items 9 and 11).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

const STRIPE: &str = "fast striped:2M uuid=27715d95-1bb8-478d-a466-d6e0a569746d,uuid=e3fe0190-5c02-43c9-a08a-5958561ac30a /mnt/fast ext4 -\n";

/// `udev-member pmem1` on the fixture, with this pmemtab, command line and initrd state.
fn member(tab: &Path, cmdline: &str, in_initrd: bool) -> Output {
    // One scratch /proc per call: the tests run at once in one process.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let s = testsupport::Scratch::new(&format!("udev-member-proc-{n}"));
    std::fs::write(s.path().join("cmdline"), cmdline).unwrap();
    let sysfs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/nd-sysfs-qemu-a/sys");
    testsupport::output_within(
        Command::new(env!("CARGO_BIN_EXE_pmem-assemble"))
            .arg("--pmemtab")
            .arg(tab)
            .arg("--sysfs")
            .arg(sysfs)
            .arg("--proc")
            .arg(s.path())
            .args(["udev-member", "pmem1"])
            .env("SYSTEMD_IN_INITRD", if in_initrd { "1" } else { "0" }),
        Duration::from_secs(10),
    )
}

fn says(o: &Output) -> String {
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(o.stderr.is_empty(), "{o:?}");
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn rd_pmemtab_0_counts_in_the_initrd_only() {
    let s = testsupport::Scratch::new("udev-member-rd");
    let tab = s.path().join("pmemtab");
    std::fs::write(&tab, STRIPE).unwrap();
    assert_eq!(says(&member(&tab, "ro", false)), "PMEMTAB_MEMBER=fast\n");
    assert_eq!(
        says(&member(&tab, "ro rd.pmemtab=0", false)),
        "PMEMTAB_MEMBER=fast\n"
    );
    assert_eq!(says(&member(&tab, "ro rd.pmemtab=0", true)), "");
    assert_eq!(says(&member(&tab, "pmemtab=0", false)), "");
    assert_eq!(
        says(&member(&tab, "pmemtab=0 rd.pmemtab=1", true)),
        "PMEMTAB_MEMBER=fast\n"
    );
}

/// A FIFO or a device as pmemtab: nothing said, at once, where udev waited without end.
#[test]
fn a_pmemtab_that_is_not_a_regular_file_never_blocks_udev() {
    let s = testsupport::Scratch::new("udev-member-fifo");
    let fifo = s.path().join("pmemtab");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    assert_eq!(says(&member(&fifo, "ro", false)), "");
    assert_eq!(says(&member(Path::new("/dev/zero"), "ro", false)), "");
}
