//! A directory as a map of relative paths to files and symlinks: read, written, copied and
//! compared as a whole, so a golden case can expect a tree, not only single files.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

/// One entry of a tree; directories are implied by the paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// Read lossily: a file that is not UTF-8 compares with U+FFFD in place of bad bytes.
    File(String),
    Link(String),
}

/// Relative path (with `/`) to entry, sorted.
pub type Tree = BTreeMap<String, Node>;

/// Files and symlinks under `root`; an absent `root` is an empty tree.
pub fn read_tree(root: &Path) -> Tree {
    let mut tree = Tree::new();
    walk(root, root, &mut tree);
    tree
}

fn walk(root: &Path, dir: &Path, tree: &mut Tree) {
    let Ok(list) = fs::read_dir(dir) else { return };
    for e in list {
        let p = e
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .path();
        let rel = p
            .strip_prefix(root)
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
            .to_string_lossy()
            .into_owned();
        let meta = fs::symlink_metadata(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        if meta.file_type().is_symlink() {
            let t = fs::read_link(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            tree.insert(rel, Node::Link(t.to_string_lossy().into_owned()));
        } else if meta.is_dir() {
            walk(root, &p, tree);
        } else {
            let bytes = fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            tree.insert(
                rel,
                Node::File(String::from_utf8_lossy(&bytes).into_owned()),
            );
        }
    }
}

/// Writes `tree` under `root`, which must be absent or empty.
pub fn write_tree(root: &Path, tree: &Tree) {
    fs::create_dir_all(root).unwrap_or_else(|e| panic!("{}: {e}", root.display()));
    for (rel, node) in tree {
        let p = root.join(rel);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).unwrap_or_else(|e| panic!("{}: {e}", parent.display()));
        }
        match node {
            Node::File(t) => fs::write(&p, t),
            Node::Link(t) => std::os::unix::fs::symlink(t, &p),
        }
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    }
}

/// Copies the directory `from` to `to` byte for byte (a fixture may hold non-UTF-8 files),
/// symlinks as symlinks (a sysfs capture is mostly links, some of them dangling in the copy).
pub fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap_or_else(|e| panic!("{}: {e}", to.display()));
    for e in fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display())) {
        let src = e
            .unwrap_or_else(|e| panic!("{}: {e}", from.display()))
            .path();
        let dst = to.join(src.file_name().unwrap_or_default());
        let meta = fs::symlink_metadata(&src).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
        if meta.file_type().is_symlink() {
            let t = fs::read_link(&src).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
            std::os::unix::fs::symlink(t, &dst)
                .unwrap_or_else(|e| panic!("{}: {e}", dst.display()));
        } else if meta.is_dir() {
            copy_tree(&src, &dst);
        } else {
            fs::copy(&src, &dst).unwrap_or_else(|e| panic!("{}: {e}", dst.display()));
        }
    }
}

/// Every difference between two trees, one paragraph each, paths shown after `prefix`;
/// empty when they are equal.
pub fn tree_diff(prefix: &str, expected: &Tree, actual: &Tree) -> Vec<String> {
    let mut out = Vec::new();
    for (path, exp) in expected {
        match (exp, actual.get(path)) {
            (_, None) => out.push(format!("{prefix}{path}: missing")),
            (Node::File(e), Some(Node::File(a))) if e != a => out.push(format!(
                "{prefix}{path} differs (- expected, + actual):\n{}",
                crate::line_diff(e, a)
            )),
            (Node::Link(e), Some(Node::Link(a))) if e != a => out.push(format!(
                "{prefix}{path}: link differs: expected -> {e}, actual -> {a}"
            )),
            (e, Some(a)) if std::mem::discriminant(e) != std::mem::discriminant(a) => out.push(
                format!("{prefix}{path}: kind differs: expected {e:?}, actual {a:?}"),
            ),
            _ => {}
        }
    }
    for (path, node) in actual {
        if !expected.contains_key(path) {
            out.push(format!("{prefix}{path}: unexpected ({node:?})"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{tree_diff, Node, Tree};

    /// The comparison notices a changed line, a missing file, a changed link, a new file.
    #[test]
    fn notices_changes() {
        let mut a = Tree::new();
        a.insert("x.service".into(), Node::File("[Unit]\nA=1\n".into()));
        a.insert(
            "t.wants/x.service".into(),
            Node::Link("../x.service".into()),
        );
        assert!(tree_diff("", &a, &a).is_empty());
        let mut b = a.clone();
        b.insert("x.service".into(), Node::File("[Unit]\nA=2\n".into()));
        let d = tree_diff("root/", &a, &b).join("\n");
        assert!(
            d.contains("root/x.service differs") && d.contains("  -A=1") && d.contains("  +A=2"),
            "{d}"
        );
        let mut c = a.clone();
        c.remove("x.service");
        c.insert(
            "t.wants/x.service".into(),
            Node::Link("../y.service".into()),
        );
        c.insert("new".into(), Node::File(String::new()));
        let d = tree_diff("", &a, &c).join("\n");
        assert!(
            d.contains("x.service: missing")
                && d.contains("link differs")
                && d.contains("new: unexpected"),
            "{d}"
        );
    }
}
