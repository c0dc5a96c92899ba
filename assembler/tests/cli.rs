//! CLI golden tests: each directory under tests/golden/ is one run of pmem-assemble.
//!
//! A case holds `args` (one argument per line), optionally `pmemtab`, `sysfs` (the name of a
//! fixture under tests/fixtures/, default nd-sysfs-qemu-a; a name that is not there tests a
//! sysfs that does not exist), `proc/` (a /proc with `cmdline` and `self/mountinfo`; default
//! an empty one), and `expected/{stdout,stderr,status}`.
//! The command runs in the case directory with `--pmemtab pmemtab`, so messages name the file
//! as `pmemtab:LINE:COL`. `GOLDEN_UPDATE=1 cargo test` rewrites the expectations; review the diff.

// Helpers outside #[test] functions set up fixtures: a panic there fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// A directory removed when dropped, also when the test fails.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run_case(dir: &Path) -> Vec<String> {
    let args: Vec<String> = std::fs::read_to_string(dir.join("args"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let fixture = std::fs::read_to_string(dir.join("sysfs"))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "nd-sysfs-qemu-a".into());
    // Relative to the case directory, so that messages naming it are the same everywhere.
    let sysfs = Path::new("../../../../tests/fixtures")
        .join(&fixture)
        .join("sys");
    assert!(
        fixture == "no-such-fixture" || dir.join(&sysfs).is_dir(),
        "{}: no fixture {fixture}",
        dir.display()
    );
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pmem-assemble"));
    cmd.current_dir(dir)
        .arg("--pmemtab")
        .arg("pmemtab")
        .arg("--sysfs")
        .arg(&sysfs);
    // Locks and links go to a scratch run directory, never the host's /run.
    let run = Scratch(std::env::temp_dir().join(format!(
        "pmem-cli-{}-{}",
        dir.file_name().unwrap().to_string_lossy(),
        std::process::id()
    )));
    if !args.iter().any(|a| a == "--run") {
        cmd.arg("--run").arg(&run.0);
    }
    // Never the host's /proc: its command line and mounts would leak into the output.
    if dir.join("proc").is_dir() {
        cmd.arg("--proc").arg("proc");
    } else {
        let empty = run.0.join("proc");
        std::fs::create_dir_all(&empty).unwrap();
        cmd.arg("--proc").arg(empty);
    }
    let out = cmd.args(&args).output().unwrap();
    drop(run);
    let actual = [
        ("stdout", String::from_utf8_lossy(&out.stdout).into_owned()),
        ("stderr", String::from_utf8_lossy(&out.stderr).into_owned()),
        ("status", format!("{}\n", out.status.code().unwrap_or(-1))),
    ];
    let expected_dir = dir.join("expected");
    let mut failures = Vec::new();
    for (name, text) in actual {
        let path = expected_dir.join(name);
        if std::env::var_os("GOLDEN_UPDATE").is_some() {
            std::fs::create_dir_all(&expected_dir).unwrap();
            std::fs::write(&path, &text).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&path).unwrap_or_default();
        if want != text {
            failures.push(format!(
                "{}: {name} differs (- expected, + actual):\n{}",
                dir.display(),
                testsupport::line_diff(&want, &text)
            ));
        }
    }
    failures
}

#[test]
fn golden_cli_cases() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 10,
        "expected the golden cases under {}",
        root.display()
    );
    let failures: Vec<String> = cases.iter().flat_map(|c| run_case(c)).collect();
    assert!(
        failures.is_empty(),
        "{} golden mismatch(es):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
