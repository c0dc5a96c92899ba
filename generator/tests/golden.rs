//! Golden tests: each `tests/golden/<case>/` holds a `pmemtab`, a `cmdline`, an optional
//! `initrd` marker, an optional `default-path` marker (run as shipped: no `PMEMTAB`, the
//! case's pmemtab read as `/etc/pmemtab`; see `support::run_case`), the expected output tree
//! `expected/` (files and symlinks) and `expected.log` (the generator's stderr and exit
//! status). The whole tree is compared.
//! One test per case (`cargo test -p pmemtab-generator --test golden basic_host`);
//! `GOLDEN_UPDATE=1 cargo test -p pmemtab-generator --test golden` rewrites the expectations.

// Helpers outside #[test] functions set up fixtures: a panic there fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::fmt::Write as _;
use std::fs;
use support::{Node, Tree};

/// The log as stored: stderr, then the exit status.
fn log_text(run: &support::Run) -> String {
    format!("{}exit status: {}\n", run.log, run.status)
}

/// Every difference between two trees, one paragraph each; empty when equal.
fn tree_diff(expected: &Tree, actual: &Tree) -> String {
    let mut out = String::new();
    for (path, exp) in expected {
        match (exp, actual.get(path)) {
            (_, None) => {
                let _ = writeln!(out, "missing: {path}");
            }
            (Node::File(e), Some(Node::File(a))) if e != a => {
                let _ = write!(out, "changed: {path}\n{}", testsupport::line_diff(e, a));
            }
            (Node::Link(e), Some(Node::Link(a))) if e != a => {
                let _ = writeln!(out, "changed link: {path}: expected -> {e}, actual -> {a}");
            }
            (e, Some(a)) if std::mem::discriminant(e) != std::mem::discriminant(a) => {
                let _ = writeln!(out, "changed kind: {path}: expected {e:?}, actual {a:?}");
            }
            _ => {}
        }
    }
    for (path, node) in actual {
        if !expected.contains_key(path) {
            let _ = writeln!(out, "unexpected: {path} ({node:?})");
        }
    }
    out
}

/// One case: run the generator on its inputs and compare the whole output tree and the log.
fn run_case(case: &std::path::Path) {
    let name = case
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let out = testsupport::Scratch::new(&format!("golden-{name}"));
    let run = support::run_case(case, out.path());
    let expected_dir = case.join("expected");
    if testsupport::update_requested() {
        let _ = fs::remove_dir_all(&expected_dir);
        fs::create_dir_all(&expected_dir).expect("mkdir expected");
        support::write_tree(&expected_dir, &run.tree);
        fs::write(case.join("expected.log"), log_text(&run)).expect("write expected.log");
    }
    let expected = support::read_tree(&expected_dir);
    let mut diff = tree_diff(&expected, &run.tree);
    let expected_log = fs::read_to_string(case.join("expected.log")).unwrap_or_default();
    let actual_log = log_text(&run);
    if expected_log != actual_log {
        let _ = write!(
            diff,
            "changed: expected.log (stderr and exit status)\n{}",
            testsupport::line_diff(&expected_log, &actual_log)
        );
    }
    assert!(
        diff.is_empty(),
        "case {name}: golden output differs (GOLDEN_UPDATE=1 to accept):\n{diff}"
    );
}

testsupport::golden_cases!(support::golden_dir(), run_case;
    bad_lines,
    basic_host,
    boot_single_usr,
    default_path,
    disabled_everywhere,
    duplicates,
    escaping,
    host_root,
    host_root_uuid,
    initrd_attach,
    initrd_root,
    initrd_root_by_id,
    initrd_root_none,
    initrd_root_other,
    initrd_root_uuid,
    initrd_usr,
    initrd_usr_no_mount_usr,
    layouts_host,
    mount_options,
    no_pmemtab,
    nofail_noauto,
    non_utf8,
    rd_disabled_host,
    rd_disabled_initrd,
    rd_enabled_initrd,
    system_ram,
    system_ram_initrd,
    refused_lines,
    x_systemd_options,
);

/// The comparison itself must notice a changed line, a missing file and a changed link.
#[test]
fn the_diff_notices_changes() {
    let mut a = Tree::new();
    a.insert("x.service".into(), Node::File("[Unit]\nA=1\n".into()));
    a.insert(
        "t.target.wants/x.service".into(),
        Node::Link("../x.service".into()),
    );
    assert!(tree_diff(&a, &a).is_empty());
    let mut b = a.clone();
    b.insert("x.service".into(), Node::File("[Unit]\nA=2\n".into()));
    let d = tree_diff(&a, &b);
    assert!(
        d.contains("changed: x.service") && d.contains("  -A=1") && d.contains("  +A=2"),
        "{d}"
    );
    let mut c = a.clone();
    c.remove("x.service");
    c.insert(
        "t.target.wants/x.service".into(),
        Node::Link("../y.service".into()),
    );
    let d = tree_diff(&a, &c);
    assert!(
        d.contains("missing: x.service") && d.contains("changed link"),
        "{d}"
    );
}
