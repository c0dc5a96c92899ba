//! Shared by the golden and systemd-analyze tests: the case directories, running the
//! generator binary on a case; trees are testsupport's.

#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use testsupport::{read_tree, Node, Tree};

/// Stands for the case's pmemtab path, which differs per checkout, in expected files.
pub const PMEMTAB_TOKEN: &str = "@PMEMTAB@";

pub fn golden_dir() -> PathBuf {
    testsupport::golden_dir(env!("CARGO_MANIFEST_DIR"))
}

/// Every case directory, sorted.
pub fn cases() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(golden_dir())
        .expect("tests/golden exists")
        .map(|e| e.expect("readable golden dir").path())
        .filter(|p| p.is_dir())
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no golden cases found");
    v
}

/// A fresh empty directory under the system temp dir, removed when the test ends.
pub fn temp_dir(tag: &str) -> testsupport::Scratch {
    testsupport::Scratch::new(&format!("gen-{tag}"))
}

/// Output of one generator run.
pub struct Run {
    pub tree: Tree,
    /// stderr with the pmemtab path replaced by the token.
    pub log: String,
    pub status: i32,
}

/// The marker of a case run as the generator ships: no `PMEMTAB`, so it reads the real
/// `/etc/pmemtab` (see [`run_case`]).
pub const DEFAULT_PATH_MARKER: &str = "default-path";

/// Runs the generator on a case (pmemtab, cmdline, initrd flag) into `out`, with a clean
/// environment so the host's settings cannot leak in, and logging to stderr only.
///
/// A case with a `default-path` file runs as the generator ships: without `PMEMTAB`, so it
/// opens `/etc/pmemtab` itself. It runs in its own user and mount namespace
/// (`unshare --map-root-user --mount`, no privilege needed) where a directory holding only
/// the case's pmemtab is bind-mounted over `/etc`; the host's `/etc` is never touched. Its
/// expected files and log keep the real path, not the token.
pub fn run_case(case: &Path, out: &Path) -> Run {
    let pmemtab = case.join("pmemtab");
    let cmdline = fs::read_to_string(case.join("cmdline")).unwrap_or_default();
    let initrd = if case.join("initrd").exists() {
        "1"
    } else {
        "0"
    };
    let generator = env!("CARGO_BIN_EXE_pmemtab-generator");
    let default_path = case.join(DEFAULT_PATH_MARKER).exists();
    // The /etc of a default-path case; removed when the run is over, even on a panic.
    let name = case.file_name().unwrap_or_default().to_string_lossy();
    let etc = default_path.then(|| testsupport::Scratch::new(&format!("etc-{name}")));
    let mut cmd = if let Some(etc) = &etc {
        let tab = etc.path().join("pmemtab");
        fs::copy(&pmemtab, &tab).expect("copy pmemtab");
        // As installed: root's, 0644 (the generator warns about a file others can write).
        fs::set_permissions(&tab, std::os::unix::fs::PermissionsExt::from_mode(0o644))
            .expect("chmod pmemtab");
        let mut c = Command::new("/usr/bin/unshare");
        c.args(["--map-root-user", "--mount", "--", "/bin/sh", "-c"])
            .arg("/bin/mount --bind -- \"$0\" /etc && exec \"$@\"")
            .arg(etc.path())
            .arg(generator);
        c
    } else {
        Command::new(generator)
    };
    cmd.env_clear();
    if !default_path {
        cmd.env("PMEMTAB", &pmemtab);
    }
    let o = cmd
        .args([out, out, out])
        .env("SYSTEMD_PROC_CMDLINE", cmdline.trim_end_matches('\n'))
        .env("SYSTEMD_IN_INITRD", initrd)
        .env("SYSTEMD_LOG_TARGET", "console")
        .env("SYSTEMD_LOG_LEVEL", "info")
        .output()
        .expect("run pmemtab-generator");
    if default_path {
        assert!(
            !String::from_utf8_lossy(&o.stderr).contains("unshare:"),
            "this case needs unprivileged user namespaces (unshare --map-root-user --mount): {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let path = pmemtab.display().to_string();
    let tree = read_tree(out)
        .into_iter()
        .map(|(k, v)| (k, tokenize(v, &path)))
        .collect();
    Run {
        tree,
        log: String::from_utf8_lossy(&o.stderr).replace(&path, PMEMTAB_TOKEN),
        status: o.status.code().unwrap_or(-1),
    }
}

fn tokenize(n: Node, path: &str) -> Node {
    match n {
        Node::File(t) => Node::File(t.replace(path, PMEMTAB_TOKEN)),
        l => l,
    }
}
