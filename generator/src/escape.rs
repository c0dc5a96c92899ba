//! Escaping for everything pmemtab content passes into unit files: unit names
//! (`systemd-escape`, `systemd-escape --path`), specifiers (`%` → `%%`) and C-quoted
//! command-line words. Each function says which systemd parser it is written for.

/// systemd's limit on a unit name (UNIT_NAME_MAX - 1 for the NUL).
pub const UNIT_NAME_MAX: usize = 255;

/// Bytes systemd keeps as they are in a unit name (`VALID_CHARS` minus `-` and `\`,
/// which it must escape to stay reversible).
fn keep(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b':' | b'_' | b'.')
}

/// `systemd-escape STRING`: `/` → `-`, a leading `.` and every byte outside
/// `[A-Za-z0-9:_.]` → `\xNN` (lower-case hex, per UTF-8 byte).
pub fn unit_name(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, &b) in s.as_bytes().iter().enumerate() {
        if b == b'/' {
            out.push('-');
        } else if (i == 0 && b == b'.') || !keep(b) {
            push_hex(&mut out, b);
        } else {
            out.push(b as char);
        }
    }
    out
}

fn push_hex(out: &mut String, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('\\');
    out.push('x');
    out.push(HEX[usize::from(b >> 4)] as char);
    out.push(HEX[usize::from(b & 15)] as char);
}

/// Why a path cannot become a unit name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("'{0}' is not an absolute path")]
    NotAbsolute(String),
    #[error("'{0}' contains a '..' component")]
    NotNormalized(String),
}

/// The path as systemd simplifies it before escaping: duplicate `/`, `.` components and
/// trailing `/` removed. Refuses relative paths and `..`, as `systemd-escape --path` does.
pub fn simplify_path(path: &str) -> Result<String, PathError> {
    if !path.starts_with('/') {
        return Err(PathError::NotAbsolute(path.to_string()));
    }
    let mut out = String::with_capacity(path.len());
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(PathError::NotNormalized(path.to_string())),
            p => {
                out.push('/');
                out.push_str(p);
            }
        }
    }
    if out.is_empty() {
        out.push('/');
    }
    Ok(out)
}

/// `systemd-escape --path PATH`: the simplified path without its leading `/`, escaped;
/// the root directory is `-`.
pub fn path(path: &str) -> Result<String, PathError> {
    let simple = simplify_path(path)?;
    if simple == "/" {
        return Ok("-".to_string());
    }
    Ok(unit_name(&simple[1..]))
}

/// `%` → `%%`, for every value systemd runs through specifier expansion.
pub fn specifiers(s: &str) -> String {
    s.replace('%', "%%")
}

/// One word for `ExecStart=`/`ExecStop=`: systemd expands specifiers, then splits words with
/// quotes and C escapes. Double-quoted with `\\`, `\"`, `\'` and `\xNN` for control bytes, so
/// no content can end the word, start another, or add a line.
pub fn exec_word(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\'' => out.push_str("\\'"),
            '%' => out.push_str("%%"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => push_hex(&mut out, c as u8),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Why a value cannot be written into a setting that systemd does not unescape
/// (`What=`, `Where=`, `Options=`, `SourcePath=`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error("contains a control character (newline, tab, ...)")]
    Control,
    #[error("ends with whitespace or a backslash, which a unit file cannot hold")]
    BadEnd,
    #[error("starts with whitespace, which a unit file cannot hold")]
    BadStart,
}

/// A raw value for a setting parsed without C unescaping. Such settings cannot carry a
/// newline, and the unit-file reader strips surrounding whitespace and treats a trailing
/// `\` as a line continuation: those values are refused, everything else is
/// specifier-escaped.
pub fn plain_value(s: &str) -> Result<String, ValueError> {
    if s.chars().any(|c| c.is_control()) {
        return Err(ValueError::Control);
    }
    if s.starts_with(char::is_whitespace) {
        return Err(ValueError::BadStart);
    }
    if s.ends_with(char::is_whitespace) || s.ends_with('\\') {
        return Err(ValueError::BadEnd);
    }
    Ok(specifiers(s))
}

/// A unit name checked against systemd's length limit.
pub fn checked_unit(name: String) -> Result<String, String> {
    if name.len() > UNIT_NAME_MAX {
        Err(name)
    } else {
        Ok(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_names() {
        assert_eq!(unit_name("a-b"), "a\\x2db");
        assert_eq!(unit_name(".foo.bar"), "\\x2efoo.bar");
        assert_eq!(unit_name("x%y z"), "x\\x25y\\x20z");
        assert_eq!(unit_name("é"), "\\xc3\\xa9");
        assert_eq!(unit_name("a\\b"), "a\\x5cb");
        assert_eq!(unit_name("a/b"), "a-b");
    }

    #[test]
    fn paths() {
        assert_eq!(path("/").unwrap(), "-");
        assert_eq!(path("//mnt//a.b/").unwrap(), "mnt-a.b");
        assert_eq!(path("/mnt/./x-y").unwrap(), "mnt-x\\x2dy");
        assert_eq!(path("/.hidden/x").unwrap(), "\\x2ehidden-x");
        assert!(matches!(path("/a/../b"), Err(PathError::NotNormalized(_))));
        assert!(matches!(path("rel"), Err(PathError::NotAbsolute(_))));
    }

    #[test]
    fn exec_words_cannot_escape_their_quotes() {
        assert_eq!(exec_word("plain"), "\"plain\"");
        assert_eq!(exec_word("a\"b"), "\"a\\\"b\"");
        assert_eq!(exec_word("a\\b"), "\"a\\\\b\"");
        assert_eq!(exec_word("50%"), "\"50%%\"");
        assert_eq!(
            exec_word("l1\nExecStart=/bin/sh"),
            "\"l1\\x0aExecStart=/bin/sh\""
        );
        assert_eq!(exec_word("it's"), "\"it\\'s\"");
    }

    #[test]
    fn plain_values() {
        assert_eq!(plain_value("/mnt/50% full").unwrap(), "/mnt/50%% full");
        assert_eq!(plain_value("a\nb"), Err(ValueError::Control));
        assert_eq!(plain_value("/mnt/x\\"), Err(ValueError::BadEnd));
        assert_eq!(plain_value("/mnt/x "), Err(ValueError::BadEnd));
        assert_eq!(plain_value(" x"), Err(ValueError::BadStart));
        assert_eq!(plain_value("/mnt/a\\b").unwrap(), "/mnt/a\\b");
    }

    #[test]
    fn unit_name_length_limit() {
        assert!(checked_unit("a".repeat(255)).is_ok());
        assert!(checked_unit("a".repeat(256)).is_err());
    }

    /// Runs the real `systemd-escape` with `extra` flags on every input, one word out each.
    fn systemd_escape(extra: &[&str], inputs: &[String]) -> Vec<String> {
        let out = std::process::Command::new("systemd-escape")
            .args(extra)
            .arg("--")
            .args(inputs)
            .output()
            .expect("systemd-escape runs (apt-get install systemd)");
        assert!(
            out.status.success(),
            "systemd-escape failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Escaped names never hold whitespace, so the space-separated output splits cleanly.
        String::from_utf8(out.stdout)
            .expect("ascii output")
            .split_whitespace()
            .map(str::to_string)
            .collect()
    }

    /// Deterministic awkward strings: every troublesome character, alone and mixed.
    fn awkward_inputs() -> Vec<String> {
        const PIECES: [&str; 24] = [
            "a", "Z9", "-", ".", "..", "/", "//", "\\", " ", "\t", "%", "%i", ":", "_", "~", "é",
            "ü", "日本", "🙂", "\"", "'", "\n", "x-y.z", "@",
        ];
        let mut v: Vec<String> = PIECES.iter().map(|p| p.to_string()).collect();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..300 {
            let mut s = String::new();
            for _ in 0..(1 + seed % 6) {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                s.push_str(PIECES[(seed >> 33) as usize % PIECES.len()]);
            }
            v.push(s);
        }
        v.extend(
            [
                "my-fast.dev",
                ".hidden",
                "a#b+c=d@e:f",
                "100% full",
                "back\\slash",
                "données",
            ]
            .map(String::from),
        );
        v
    }

    #[test]
    fn unit_name_matches_systemd_escape() {
        let inputs = awkward_inputs();
        let real = systemd_escape(&[], &inputs);
        assert_eq!(real.len(), inputs.len());
        for (input, want) in inputs.iter().zip(&real) {
            assert_eq!(&unit_name(input), want, "systemd-escape {input:?}");
        }
    }

    #[test]
    fn path_matches_systemd_escape_path() {
        // Absolute, normalized paths: the ones a mount point can be.
        let inputs: Vec<String> = awkward_inputs()
            .into_iter()
            .map(|s| format!("/{s}"))
            .filter(|p| simplify_path(p).is_ok())
            .chain(["/", "//", "/mnt//a/./b/", "/.x/.y", "/mnt/my-fast disk"].map(String::from))
            .collect();
        assert!(inputs.len() > 250, "too few path inputs: {}", inputs.len());
        let real = systemd_escape(&["--path"], &inputs);
        assert_eq!(real.len(), inputs.len());
        for (input, want) in inputs.iter().zip(&real) {
            assert_eq!(
                &path(input).unwrap(),
                want,
                "systemd-escape --path {input:?}"
            );
        }
    }

    #[test]
    fn paths_systemd_escape_refuses_are_refused() {
        for bad in ["/a/../b", "/..", "/x/.."] {
            let st = std::process::Command::new("systemd-escape")
                .args(["--path", "--", bad])
                .output()
                .unwrap();
            assert!(!st.status.success(), "systemd-escape accepted {bad}");
            assert!(path(bad).is_err(), "{bad} accepted");
        }
    }

    /// systemd itself unquotes `ExecStart=` words: an executable whose name holds awkward
    /// characters must be found under exactly that name by `systemd-analyze verify` (it checks
    /// each command's executable), and a name one character off must not. systemd refuses
    /// executable paths with `\\`, quotes or control characters outright, so those are only
    /// covered by the unit tests above (they can occur only in arguments).
    #[test]
    fn exec_word_round_trips_through_systemd() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("pmemtab-gen-exec-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let names: Vec<String> = awkward_inputs()
            .into_iter()
            .filter(|s| {
                !s.contains(|c: char| {
                    c == '/' || c == '\\' || c == '"' || c == '\'' || c.is_control()
                })
            })
            .map(|s| format!("x{s}"))
            .take(120)
            .collect();
        assert!(
            names.len() >= 60
                && names.iter().any(|n| n.contains('%'))
                && names.iter().any(|n| n.contains(' '))
        );
        let mut unit = String::from("[Service]\nType=oneshot\n");
        for n in &names {
            let exe = dir.join(n);
            std::fs::write(&exe, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
            unit.push_str(&format!(
                "ExecStartPre={} {}\n",
                exec_word(&exe.display().to_string()),
                exec_word(n)
            ));
        }
        unit.push_str("ExecStart=/bin/true\n");
        let verify = |text: &str| {
            let f = dir.join("t.service");
            std::fs::write(&f, text).unwrap();
            let o = std::process::Command::new("systemd-analyze")
                .args(["verify", "--man=no", "--generators=false"])
                .arg(&f)
                .env("SYSTEMD_LOG_TARGET", "console")
                .output()
                .expect("systemd-analyze runs (apt-get install systemd)");
            (
                o.status.success(),
                format!(
                    "{}{}",
                    String::from_utf8_lossy(&o.stdout),
                    String::from_utf8_lossy(&o.stderr)
                ),
            )
        };
        let (ok, err) = verify(&unit);
        assert!(
            ok && err.is_empty(),
            "systemd did not find the executables:\n{err}"
        );
        // Control: a name that differs by one character is reported missing.
        let wrong = format!(
            "[Service]\nType=oneshot\nExecStart={}\n",
            exec_word(&dir.join("x%%").display().to_string())
        );
        let (ok, err) = verify(&wrong);
        assert!(
            !ok && err.contains("not executable"),
            "a missing executable passed: {err}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
