//! What the golden tests of both binaries share, one convention for both suites:
//! - a case is a directory under `tests/golden/`: its inputs at the top, what the binary
//!   printed and wrote under `expected/`;
//! - one `#[test]` per case ([`golden_cases!`]), named after the directory with `-` as `_`
//!   (`cargo test -p pmemtab-generator basic_host` runs one), and a test that every directory
//!   has one;
//! - `GOLDEN_UPDATE=1` rewrites the expectations instead of comparing ([`update_requested`]);
//! - mismatches show a line diff ([`line_diff`]); scratch directories go away even when a test
//!   fails ([`Scratch`]);
//! - a file, a whole tree or a binary's output is compared or rewritten by [`check_file`],
//!   [`check_tree`] and [`check_output`]; [`assert_matches`] fails the test with them all.

// A dev-dependency of the golden tests only, never in a binary: a missing fixture directory
// is a broken test tree, and panicking with its path is how a test fails.
#![allow(clippy::panic)]

mod golden;
mod tree;
mod unwritable;

pub use golden::{assert_matches, check_file, check_output, check_tree, output_files};
pub use tree::{copy_tree, read_tree, tree_diff, write_tree, Node, Tree};
pub use unwritable::{assert_closed_pipe_ends_quietly, assert_full_disk_is_one_error};

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// `GOLDEN_UPDATE=1`: write what the binary produced as the new expectation.
pub fn update_requested() -> bool {
    std::env::var_os("GOLDEN_UPDATE").is_some_and(|v| v == "1")
}

/// A scratch directory, made empty on creation and removed on drop (also when the test
/// panics): the one way tests make a temporary directory. Its name is the tag and the
/// process id, so a tag must be unique within a test binary.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        let d = std::env::temp_dir().join(format!("pmemtab-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display()));
        Scratch(d)
    }

    /// A scratch copy of the directory `from` ([`copy_tree`]: symlinks kept), to change.
    pub fn copy_of(tag: &str, from: &Path) -> Scratch {
        let s = Scratch::new(tag);
        copy_tree(from, &s);
        s
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

// A scratch directory stands where a path does: `dir.join(..)`, `fs::write(&dir, ..)`.
impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for Scratch {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A crate's golden cases: `tests/golden/` under its manifest directory (pass
/// `env!("CARGO_MANIFEST_DIR")`).
pub fn golden_dir(manifest_dir: &str) -> PathBuf {
    Path::new(manifest_dir).join("tests/golden")
}

/// The case directories under `root`, sorted, as test names (`-` as `_`).
pub fn case_idents(root: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().replace('-', "_"))
        .collect();
    v.sort();
    v
}

/// The case directory under `root` whose test name is `ident`.
pub fn case_dir(root: &Path, ident: &str) -> PathBuf {
    std::fs::read_dir(root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.is_dir()
                && p.file_name()
                    .is_some_and(|n| n.to_string_lossy().replace('-', "_") == ident)
        })
        .unwrap_or_else(|| panic!("no case directory for {ident} under {}", root.display()))
}

/// One `#[test]` per golden case: `golden_cases!(root_expr, run_fn; case_a, case_b, ...)`
/// calls `run_fn(&case_dir)` for each, and adds `every_case_directory_has_a_test`, which fails
/// when a directory under the root has no test here (or a test names no directory).
#[macro_export]
macro_rules! golden_cases {
    ($root:expr, $run:path; $($case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                $run(&$crate::case_dir(&$root, stringify!($case)));
            }
        )*

        #[test]
        fn every_case_directory_has_a_test() {
            let listed: Vec<&str> = vec![$(stringify!($case)),*];
            let mut listed: Vec<String> = listed.into_iter().map(String::from).collect();
            listed.sort();
            assert_eq!(listed, $crate::case_idents(&$root), "add the new case to golden_cases!");
        }
    };
}

/// A line diff (longest common subsequence) of two texts: `-` expected, `+` actual, unchanged
/// lines as context; removals come before additions at the same place.
pub fn line_diff(expected: &str, actual: &str) -> String {
    let a: Vec<&str> = expected.lines().collect();
    let b: Vec<&str> = actual.lines().collect();
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, String::new());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            let _ = writeln!(out, "   {}", a[i]);
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            let _ = writeln!(out, "  -{}", a[i]);
            i += 1;
        } else {
            let _ = writeln!(out, "  +{}", b[j]);
            j += 1;
        }
    }
    let both = !expected.is_empty() && !actual.is_empty();
    if both && expected.ends_with('\n') != actual.ends_with('\n') {
        let _ = writeln!(
            out,
            "  (final newline: expected {}, actual {})",
            expected.ends_with('\n'),
            actual.ends_with('\n')
        );
    }
    out
}

/// Runs `cmd` to its end, or fails the test when it takes longer than `limit` (killing it):
/// for inputs that once made a binary wait forever (a FIFO for pmemtab), so that a regression
/// fails instead of hanging the suite.
pub fn output_within(
    cmd: &mut std::process::Command,
    limit: std::time::Duration,
) -> std::process::Output {
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let start = std::time::Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if start.elapsed() < limit => {
                std::thread::sleep(std::time::Duration::from_millis(20))
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{cmd:?} did not finish within {limit:?}");
            }
        }
    }
    child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"))
}

/// A CXL region directory as the kernel makes it on a claim from `create_*_region` (two
/// targets), its attribute files empty: for tests that let pmem-assemble create a region in a
/// scratch sysfs tree.
pub fn cxl_region_dir(dir: &std::path::Path) {
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for a in [
        "interleave_granularity",
        "interleave_ways",
        "uuid",
        "size",
        "commit",
        "target0",
        "target1",
    ] {
        std::fs::write(dir.join(a), "").unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    }
}

#[cfg(test)]
mod tests {
    use super::line_diff;

    #[test]
    fn shows_what_changed() {
        assert_eq!(
            line_diff("a\nb\nc\n", "a\nx\nc\n"),
            "   a\n  -b\n  +x\n   c\n"
        );
        assert_eq!(line_diff("", "new\n"), "  +new\n");
        assert_eq!(
            line_diff("a\n", "a"),
            "   a\n  (final newline: expected true, actual false)\n"
        );
    }
}
