//! CLI golden tests: each directory under tests/golden/ is one run of pmem-assemble.
//!
//! A case holds `args` (one argument per line), optionally `pmemtab` and `sysfs` (the name of a
//! fixture under tests/fixtures/, default nd-sysfs-qemu-a), and `expected/{stdout,stderr,status}`.
//! The command runs in the case directory with `--pmemtab pmemtab`, so messages name the file
//! as `pmemtab:LINE:COL`. One test per case (`cargo test -p pmem-assemble --test cli check_bad`);
//! `GOLDEN_UPDATE=1 cargo test` rewrites the expectations; review the diff. See testsupport.

// Helpers outside #[test] functions set up fixtures: a panic there fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn run_case(dir: &Path) {
    let args: Vec<String> = std::fs::read_to_string(dir.join("args"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let fixture = std::fs::read_to_string(dir.join("sysfs"))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "nd-sysfs-qemu-a".into());
    let sysfs = repo().join("tests/fixtures").join(&fixture).join("sys");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pmem-assemble"));
    cmd.current_dir(dir)
        .arg("--pmemtab")
        .arg("pmemtab")
        .arg("--sysfs")
        .arg(&sysfs);
    // Locks and links go to a scratch run directory, never the host's /run.
    let run = testsupport::Scratch::new(&format!(
        "cli-{}",
        dir.file_name().unwrap().to_string_lossy()
    ));
    if !args.iter().any(|a| a == "--run") {
        cmd.arg("--run").arg(run.path());
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
        if testsupport::update_requested() {
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
    assert!(
        failures.is_empty(),
        "{} (GOLDEN_UPDATE=1 to accept):\n{}",
        dir.display(),
        failures.join("\n")
    );
}

fn golden() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

testsupport::golden_cases!(golden(), run_case;
    check_bad,
    check_claims_of_unbuildable_entry,
    check_good,
    check_missing_pmemtab,
    check_named_good_entry,
    check_names_as_options,
    check_no_pmem,
    check_unknown_name,
    down_single_not_a_link,
    down_usage,
    help,
    help_check,
    list_fixture,
    list_json,
    mount_no_mountpoint,
    table_linear,
    table_single,
    table_striped,
    up_all_and_name,
    up_refused_devdax,
    up_usage,
    usage_unknown_command,
);
