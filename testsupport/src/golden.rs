//! Comparing what a run produced with a case's expectations, or (`GOLDEN_UPDATE=1`)
//! rewriting them: one file, a whole tree, or a binary's stdout, stderr and status.

use std::fs;
use std::path::Path;
use std::process::Output;

use crate::tree::{read_tree, tree_diff, write_tree, Tree};
use crate::update_requested;

/// Checks one expected file: under update writes `actual` there; otherwise the paragraph
/// that shows how it differs (an absent file expects nothing), `label` naming it.
pub fn check_file(path: &Path, label: &str, actual: &str) -> Option<String> {
    if update_requested() {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        }
        fs::write(path, actual).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        return None;
    }
    let want = fs::read_to_string(path).unwrap_or_default();
    (want != actual).then(|| {
        format!(
            "{label} differs (- expected, + actual):\n{}",
            crate::line_diff(&want, actual)
        )
    })
}

/// Checks a whole expected tree: under update replaces `dir` with `actual` (unless a file
/// in it is not UTF-8: rewriting it from the lossy text would change it); otherwise the
/// differences, paths after `prefix`.
pub fn check_tree(dir: &Path, prefix: &str, actual: &Tree) -> Vec<String> {
    let lossy = actual
        .values()
        .any(|n| matches!(n, crate::Node::File(t) if t.contains('\u{fffd}')));
    if update_requested() && !lossy {
        let _ = fs::remove_dir_all(dir);
        write_tree(dir, actual);
    }
    tree_diff(prefix, &read_tree(dir), actual)
}

/// A binary's run as the files `stdout`, `stderr` and `status` (the exit code and a newline).
pub fn output_files(out: &Output) -> [(&'static str, String); 3] {
    [
        ("stdout", String::from_utf8_lossy(&out.stdout).into_owned()),
        ("stderr", String::from_utf8_lossy(&out.stderr).into_owned()),
        ("status", format!("{}\n", out.status.code().unwrap_or(-1))),
    ]
}

/// Checks a run against `expected/{stdout,stderr,status}` of a case.
pub fn check_output(expected_dir: &Path, out: &Output) -> Vec<String> {
    output_files(out)
        .iter()
        .filter_map(|(name, text)| check_file(&expected_dir.join(name), name, text))
        .collect()
}

/// Fails the case's test with every difference found, if any.
pub fn assert_matches(case: &Path, failures: &[String]) {
    assert!(
        failures.is_empty(),
        "case {}: golden output differs (GOLDEN_UPDATE=1 to accept):\n{}",
        case.display(),
        failures.join("\n")
    );
}
