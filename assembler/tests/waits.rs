//! Every wait of pmem-assemble is counted in the time limits the generator writes (issue 28):
//! - only `assembler/src/wait.rs` sleeps or waits for a child, and it waits only until a
//!   `Deadline` (the library's probe wait takes its limit from the same deadlines);
//! - `up`'s deadlines come from the entry's phases (`pmemtab::timeouts::Budget`), whose sum is
//!   the service's `TimeoutStartSec=`: a deadline of its own (`Deadline::after`, or one pushed
//!   later with `at_least`) may be made only by the commands that are not `up`.
//!
//! - a wait's own limit comes from the one registry, `pmemtab::timeouts::Wait`, whose phases'
//!   sums are the budgets (`Deadline::cap` takes a `Wait`): no time limit is made from a
//!   number anywhere else, but where the user's are read (`timespan.rs`, `--timeout`) and the
//!   back-off between two looks of a poll (`wait.rs`);
//! - a limit that is not a wait's own (`Deadline::within`) is the user's: the members' device
//!   timeout in `up`, `down --timeout` offlining memory.
//!
//! So a wait added anywhere either shares `up`'s deadlines with a limit the budget counts, or
//! fails this test. Read from the sources as text, outside `#[cfg(test)]`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::{Path, PathBuf};

/// What blocks for a while: sleeping, waiting for a child, a thread or a clock.
const BLOCKING: [&str; 9] = [
    "thread::sleep",
    "Instant::now",
    "recv_timeout",
    ".wait()",
    "wait_with_output",
    ".output()",
    ".status()",
    "thread::park",
    "SystemTime::now",
];

/// Where each may appear, relative to the repository: the one place that waits, and the
/// library's clock and probe wait.
const MAY_BLOCK: [&str; 3] = [
    "assembler/src/wait.rs",
    "pmemtab/src/timeouts.rs",
    "pmemtab/src/ns/scan.rs",
];

/// Deadlines not taken from an entry's phases.
const FREE_DEADLINES: [&str; 2] = ["Deadline::after(", ".at_least("];

/// The commands that are not `up` (and `at_least` in kmem's `down`, which `up` calls with no
/// floor); everything `up` runs (cmd/up.rs and the shared modules) must take its deadlines.
const MAY_MAKE_DEADLINES: [&str; 7] = [
    "assembler/src/cmd/down.rs",
    "assembler/src/cmd/initramfs.rs",
    "assembler/src/cmd/mount.rs",
    "assembler/src/cmd/status.rs",
    "assembler/src/cmd/import.rs",
    "assembler/src/kmem.rs",
    "pmemtab/src/timeouts.rs",
];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

/// A time span made from a number: a limit of its own.
const NEW_LIMITS: [&str; 5] = [
    "Duration::from_",
    "from_secs(",
    "from_millis(",
    "from_micros(",
    "from_nanos(",
];

/// The registry, and where the user's limits are read and the polls' back-off is.
const MAY_MAKE_LIMITS: [&str; 4] = [
    "pmemtab/src/timeouts.rs",
    "pmemtab/src/timespan.rs",
    "assembler/src/cmd/common.rs",
    "assembler/src/wait.rs",
];

/// A limit that is not a wait's own.
const USER_LIMITS: [&str; 1] = [".within("];

/// Where the user's limits bound waits: the members' device timeout, `down --timeout`'s
/// offlining (kmem.rs, given its limit by `down` or by `up`'s registry).
const MAY_TAKE_USER_LIMITS: [&str; 3] = [
    "assembler/src/cmd/up.rs",
    "assembler/src/kmem.rs",
    "pmemtab/src/timeouts.rs",
];

/// `file:line: what` for every wait or deadline that is not where it may be.
fn violations(root: &Path) -> Vec<String> {
    let mut files = Vec::new();
    for krate in ["assembler/src", "pmemtab/src"] {
        sources(&root.join(krate), &mut files);
    }
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let rel = file
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let text = fs::read_to_string(&file).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        for (n, line) in code.lines().enumerate() {
            let line = line.split("//").next().unwrap_or_default();
            for (words, allowed, what) in [
                (&BLOCKING[..], &MAY_BLOCK[..], "waits outside wait.rs"),
                (
                    &FREE_DEADLINES[..],
                    &MAY_MAKE_DEADLINES[..],
                    "makes a deadline that up's phases do not count",
                ),
                (
                    &NEW_LIMITS[..],
                    &MAY_MAKE_LIMITS[..],
                    "makes a limit outside the registry (timeouts::Wait)",
                ),
                (
                    &USER_LIMITS[..],
                    &MAY_TAKE_USER_LIMITS[..],
                    "bounds a wait by a limit that is neither the registry's nor the user's",
                ),
            ] {
                for w in words {
                    if line.contains(w) && !allowed.contains(&rel.as_str()) {
                        out.push(format!("{rel}:{}: {what}: {w}", n + 1));
                    }
                }
            }
        }
    }
    out
}

#[test]
fn every_wait_is_counted() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let found = violations(&root);
    assert!(
        found.is_empty(),
        "waits not bounded by pmemtab::timeouts (take a Deadline from up's Budget, its own limit from timeouts::Wait, and wait through wait.rs):\n{}",
        found.join("\n")
    );
}

/// The check fails on a wait that is not counted (a test that can fail): a sleep in up, a
/// deadline of its own in a module up uses, a child waited for outside wait.rs.
#[test]
fn an_uncounted_wait_is_found() {
    let dir = testsupport::Scratch::new("waits-uncounted");
    fs::create_dir_all(dir.join("assembler/src/cmd")).unwrap();
    fs::create_dir_all(dir.join("pmemtab/src")).unwrap();
    fs::write(
        dir.join("assembler/src/cmd/up.rs"),
        "fn f() {\n    std::thread::sleep(D); // settle\n}\n#[cfg(test)]\nfn t() { std::thread::sleep(D); }\n",
    )
    .unwrap();
    fs::write(
        dir.join("assembler/src/nodes.rs"),
        "// Deadline::after( in a comment is fine\nfn g() { wait::poll(Deadline::after(X), p); }\n",
    )
    .unwrap();
    fs::write(
        dir.join("assembler/src/mkfs.rs"),
        "fn h() { cmd.status(); }\n",
    )
    .unwrap();
    fs::write(
        dir.join("assembler/src/cmd/down.rs"),
        "fn d() { down_dm(c, x, n, Deadline::after(B)); }\n",
    )
    .unwrap();
    fs::write(
        dir.join("assembler/src/cxl.rs"),
        "const SETTLE: Duration = Duration::from_secs(3);\nfn s(by: Deadline) { wait::poll(by.within(SETTLE), p); }\n",
    )
    .unwrap();
    assert_eq!(
        violations(&dir),
        [
            "assembler/src/cmd/up.rs:2: waits outside wait.rs: thread::sleep",
            "assembler/src/cxl.rs:1: makes a limit outside the registry (timeouts::Wait): Duration::from_",
            "assembler/src/cxl.rs:1: makes a limit outside the registry (timeouts::Wait): from_secs(",
            "assembler/src/cxl.rs:2: bounds a wait by a limit that is neither the registry's nor the user's: .within(",
            "assembler/src/mkfs.rs:1: waits outside wait.rs: .status()",
            "assembler/src/nodes.rs:2: makes a deadline that up's phases do not count: Deadline::after(",
        ]
    );
}

/// The device timeout bounds every wait before the device exists, a modprobe that hangs
/// included (issue 28: `up` waited 20 s per modprobe past `x-systemd.device-timeout=`). A
/// member that never appears, a modprobe that sleeps: `up --timeout 1` fails in about 1 s,
/// naming the member.
#[test]
fn up_ends_within_its_device_timeout() {
    use std::os::unix::fs::PermissionsExt;
    let s = testsupport::Scratch::new("waits-up");
    let bin = s.path().join("bin");
    fs::create_dir_all(&bin).unwrap();
    let modprobe = bin.join("modprobe");
    fs::write(&modprobe, "#!/bin/sh\nexec /bin/sleep 30\n").unwrap();
    fs::set_permissions(&modprobe, fs::Permissions::from_mode(0o755)).unwrap();
    let tab = s.path().join("pmemtab");
    fs::write(
        &tab,
        "gone linear uuid=00000000-0000-4000-8000-000000000001 - - -\n",
    )
    .unwrap();
    let sysfs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/nd-sysfs-qemu-a/sys");
    let start = std::time::Instant::now();
    let o = testsupport::output_within(
        std::process::Command::new(env!("CARGO_BIN_EXE_pmem-assemble"))
            .arg("--pmemtab")
            .arg(&tab)
            .arg("--sysfs")
            .arg(&sysfs)
            .arg("--run")
            .arg(s.path().join("run"))
            .arg("--proc")
            .arg(s.path())
            .args(["up", "--timeout", "1", "gone"])
            .env("PATH", &bin),
        std::time::Duration::from_secs(60),
    );
    let took = start.elapsed();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(
        err.contains("member uuid=00000000-0000-4000-8000-000000000001 did not appear within 1s"),
        "{err}"
    );
    assert!(
        took < std::time::Duration::from_secs(5),
        "took {took:?}: {err}"
    );
}

/// `up --timeout 0` (initramfs-tools' local-block, each time it looks for the root) looks for
/// the members once, but a driver still gets its modprobe: a modprobe that takes a second
/// runs to its end instead of being killed at once.
#[test]
fn a_single_look_still_loads_the_drivers() {
    use std::os::unix::fs::PermissionsExt;
    let s = testsupport::Scratch::new("waits-once");
    let bin = s.path().join("bin");
    fs::create_dir_all(&bin).unwrap();
    let done = s.path().join("loaded");
    let modprobe = bin.join("modprobe");
    fs::write(
        &modprobe,
        format!(
            "#!/bin/sh\n/bin/sleep 1\n/bin/echo \"$2\" >> '{}'\n",
            done.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&modprobe, fs::Permissions::from_mode(0o755)).unwrap();
    let tab = s.path().join("pmemtab");
    fs::write(
        &tab,
        "gone linear uuid=00000000-0000-4000-8000-000000000001 - - -\n",
    )
    .unwrap();
    let sysfs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/nd-sysfs-qemu-a/sys");
    let o = testsupport::output_within(
        std::process::Command::new(env!("CARGO_BIN_EXE_pmem-assemble"))
            .arg("--pmemtab")
            .arg(&tab)
            .arg("--sysfs")
            .arg(&sysfs)
            .arg("--run")
            .arg(s.path().join("run"))
            .arg("--proc")
            .arg(s.path())
            .args(["up", "--timeout", "0", "gone"])
            .env("PATH", &bin),
        std::time::Duration::from_secs(60),
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains("did not appear within 0s"), "{err}");
    assert_eq!(
        fs::read_to_string(&done).unwrap_or_default(),
        "nd_pmem\n",
        "the modprobe was cut short: {err}"
    );
}
