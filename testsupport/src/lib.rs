//! What the golden tests of both binaries share: a line diff that shows what changed.

use std::fmt::Write as _;

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
