//! The house's layout, checked: within each crate no two modules import each other (directly,
//! or through the top-level module a file belongs to), so each module can be read knowing only
//! the ones below it. Read from the sources as text: `crate::a::b` and `super::…` paths outside
//! `#[cfg(test)]`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Module path (`tab::parse`, `""` for the crate root) → its source file.
fn modules(src: &Path) -> BTreeMap<String, PathBuf> {
    let mut out = BTreeMap::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for e in fs::read_dir(&dir).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().map_or(true, |x| x != "rs") {
                continue;
            }
            let rel = path.strip_prefix(src).unwrap().with_extension("");
            let mut parts: Vec<String> = rel
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            if parts.last().is_some_and(|l| l == "mod") {
                parts.pop();
            }
            if parts == ["lib"] || parts == ["main"] {
                parts.clear();
            }
            out.insert(parts.join("::"), path);
        }
    }
    out
}

/// The modules one file names, by the longest prefix of each path that is a module.
fn imports(file: &Path, module: &str, mods: &BTreeMap<String, PathBuf>) -> BTreeSet<String> {
    let text = fs::read_to_string(file).unwrap();
    let code = text.split("#[cfg(test)]").next().unwrap_or_default();
    let mut out = BTreeSet::new();
    for base in ["crate::", "super::"] {
        for (at, _) in code.match_indices(base) {
            let before = code[..at].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let rest: Vec<&str> = code[at + base.len()..]
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .next()
                .unwrap_or_default()
                .split("::")
                .filter(|p| !p.is_empty())
                .collect();
            let mut path: Vec<&str> = Vec::new();
            if base == "super::" {
                path = module.split("::").filter(|p| !p.is_empty()).collect();
                // `super` is the parent module, from a mod.rs as from any other file.
                path.pop();
            }
            path.extend(rest);
            for k in (1..=path.len()).rev() {
                let key = path[..k].join("::");
                if mods.contains_key(&key) {
                    out.insert(key);
                    break;
                }
            }
        }
    }
    out.remove(module);
    out
}

fn nested(a: &str, b: &str) -> bool {
    a.is_empty()
        || b.is_empty()
        || a.starts_with(&format!("{b}::"))
        || b.starts_with(&format!("{a}::"))
}

fn top(m: &str) -> &str {
    m.split("::").next().unwrap_or_default()
}

/// Every pair of modules (or top-level modules) that import each other.
fn circles(src: &Path) -> Vec<String> {
    let mods = modules(src);
    let graph: BTreeMap<&str, BTreeSet<String>> = mods
        .iter()
        .map(|(m, file)| (m.as_str(), imports(file, m, &mods)))
        .collect();
    let mut found = Vec::new();
    for (a, from_a) in &graph {
        for b in from_a {
            if a < &b.as_str() && !nested(a, b) && graph[b.as_str()].contains(*a) {
                found.push(format!("{a} <-> {b}"));
            }
        }
    }
    let mut tops: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (a, from_a) in &graph {
        for b in from_a {
            if !a.is_empty() && top(a) != top(b) {
                tops.entry(top(a)).or_default().insert(top(b));
            }
        }
    }
    for (a, from_a) in &tops {
        for b in from_a {
            if a < b && tops.get(b).is_some_and(|s| s.contains(a)) {
                found.push(format!("{a} <-> {b} (top-level)"));
            }
        }
    }
    found
}

#[test]
fn no_two_modules_import_each_other() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut all = Vec::new();
    for krate in ["pmemtab", "assembler", "generator", "grub", "testsupport"] {
        let src = root.join(krate).join("src");
        all.extend(circles(&src).into_iter().map(|c| format!("{krate}: {c}")));
    }
    assert!(
        all.is_empty(),
        "modules that import each other:\n{}",
        all.join("\n")
    );
}

/// The check finds a circle when there is one (a test that can fail).
#[test]
fn a_circle_is_found() {
    let dir = testsupport::Scratch::new("layout");
    fs::create_dir_all(dir.join("tab")).unwrap();
    fs::write(dir.join("lib.rs"), "mod tab;\nmod timeouts;\n").unwrap();
    fs::write(dir.join("tab/mod.rs"), "mod model;\n").unwrap();
    fs::write(dir.join("tab/model.rs"), "use crate::timeouts::X;\n").unwrap();
    fs::write(
        dir.join("timeouts.rs"),
        "use crate::tab::Entry;\n#[cfg(test)]\nuse crate::x;\n",
    )
    .unwrap();
    assert_eq!(circles(&dir), ["tab <-> timeouts (top-level)"]);
}
