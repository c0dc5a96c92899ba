//! Every pmemtab line the README and pmemtab(5) show as an example parses without an error:
//! a user copies them as they are (issue 18 item 16: a README line with a trailing comment
//! did not parse).

use pmemtab::tab::parse;
use std::path::Path;

const LAYOUTS: [&str; 4] = ["linear", "striped", "single", "system-ram"];

/// Whether a line reads as a pmemtab entry: its second word is a layout.
fn is_entry(line: &str) -> bool {
    line.split_whitespace()
        .nth(1)
        .is_some_and(|l| LAYOUTS.contains(&l.split(':').next().unwrap_or_default()))
}

/// Lines inside the README's ``` blocks.
fn readme_lines(text: &str) -> Vec<String> {
    let mut inside = false;
    let mut out = Vec::new();
    for line in text.lines() {
        if line.starts_with("```") {
            inside = !inside;
        } else if inside {
            out.push(line.to_string());
        }
    }
    out
}

/// Lines inside the man page's `.nf`/`.fi` and `.EX`/`.EE` blocks, with groff's escapes
/// undone.
fn man_lines(text: &str) -> Vec<String> {
    let mut inside = false;
    let mut out = Vec::new();
    for line in text.lines() {
        match line {
            ".nf" | ".EX" => inside = true,
            ".fi" | ".EE" => inside = false,
            _ if inside && !line.starts_with('.') => {
                out.push(line.replace("\\-", "-").replace("\\e", "\\"))
            }
            _ => {}
        }
    }
    out
}

fn check(what: &str, lines: Vec<String>) -> usize {
    let mut n = 0;
    for line in lines.iter().filter(|l| is_entry(l)) {
        let parsed = parse(&format!("{line}\n"));
        let errors: Vec<String> = parsed
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.one_line(what))
            .collect();
        assert!(errors.is_empty(), "{what}: {line}\n{}", errors.join("\n"));
        assert_eq!(parsed.entries.len(), 1, "{what}: {line}");
        n += 1;
    }
    n
}

fn read(rel: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn readme_examples_parse() {
    let n = check("README.md", readme_lines(&read("README.md")));
    // The README shows at least its first-screen stripe, the system-ram and the root lines.
    assert!(n >= 4, "only {n} example lines found");
}

#[test]
fn pmemtab5_examples_parse() {
    let n = check("man/pmemtab.5", man_lines(&read("man/pmemtab.5")));
    assert!(n >= 5, "only {n} example lines found");
}

/// The check itself: a trailing comment is an error, so the README's old line fails.
#[test]
fn a_trailing_comment_is_caught() {
    let old = "ram system-ram uuid=4c5832be-f330-495d-8abb-c553ba3965b4 - - - # zone=normal\n";
    assert!(parse(old).diagnostics.iter().any(|d| d.is_error()));
}

/// Every "Rust X" a package file or the README states as what `make` needs, as numbers.
fn stated_rust(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (at, _) in text.match_indices("Rust ") {
        let rest = text[at + 5..].trim_start_matches(['(', '>', '=', ' ']);
        let v: String = rest
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        let v = v.trim_end_matches('.');
        if !v.is_empty() {
            out.push(v.to_string());
        }
    }
    out
}

/// debian/control and the RPM spec say the Rust `make` needs: build-static's (issue 28: they
/// said 1.75, the crates' rust-version, which builds the crates but not the static binary).
#[test]
fn packages_state_the_rust_make_needs() {
    let script = read("assembler/build-static");
    let needs = script
        .lines()
        .find_map(|l| l.strip_prefix("STATIC_RUST="))
        .expect("build-static sets STATIC_RUST");
    for file in ["debian/control", "packaging/pmemtab.spec"] {
        let stated = stated_rust(&read(file));
        assert!(!stated.is_empty(), "{file} says no Rust version");
        assert!(
            stated.iter().all(|v| v == needs),
            "{file} says Rust {stated:?}; make (assembler/build-static) needs {needs}"
        );
    }
    assert_eq!(stated_rust("# Rust (>= 1.75, with"), ["1.75"]);
}
